import gzip

import pytest

from rnnlab.datasets import load_csv


def test_header_names_and_csv_quoting(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('review,sentiment,extra\n"Good, really",1,x\n"He said ""no""",0,y\n\nplain,1,z\n', encoding="utf-8")
    texts, labels = load_csv(path, "review", "sentiment")
    assert texts == ["Good, really", 'He said "no"', "plain"]
    assert labels.tolist() == [1, 0, 1]


def test_indices_tsv_no_header_no_quoting_gzip(tmp_path):
    path = tmp_path / "r.tsv.gz"
    path.write_bytes(gzip.compress('1\t"""raw"""\t1\n2\t\t0\n'.encode()))
    texts, labels = load_csv(path, 1, 2, delimiter="\t", has_header=False, quoting=False)
    assert texts == ['"""raw"""', ""] and labels.tolist() == [1, 0]


def test_more_classes_and_bom(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("\ufefftext,label\na,2\n".encode("utf-8"))
    assert load_csv(path, "text", "label", num_classes=3)[1].tolist() == [2]


@pytest.mark.parametrize("content, kwargs, message", [
    ("text,label\na,1\nb\n", {}, r"line 3: expected 2 fields separated by ',', got 1"),
    ("text,label\na,1\nb,yes\n", {}, r"line 3: the label must be an integer in \[0, 2\), got 'yes'"),
    ("text,label\na,2\n", {}, r"line 2: the label must be an integer in \[0, 2\), got '2'"),
    ("text,label\n", {}, r"no data rows after the header"),
    ("", {}, r"the file is empty"),
    ("text,label\na,1\n", {"text_column": "review"}, r"line 1: no column 'review' in the header \['text', 'label'\]"),
    ('text,label\n"a,1\n', {}, r"line \d: malformed CSV"),
])
def test_malformed_input(tmp_path, content, kwargs, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    args = {"text_column": "text", "label_column": "label", **kwargs}
    with pytest.raises(ValueError, match=r".*bad\.csv.*" + message):
        load_csv(path, **args)


def test_argument_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"text,label\n\xc3(,1\n")
    with pytest.raises(ValueError, match=r"r\.csv, line 2: invalid UTF-8"):
        load_csv(path, "text", "label")
    path.write_text("text,label\na,1\n")
    with pytest.raises(ValueError, match=r"delimiter=';;'; expected one character"):
        load_csv(path, "text", "label", delimiter=";;")
    with pytest.raises(ValueError, match=r"has_header=False; name columns by index"):
        load_csv(path, "text", "label", has_header=False)
    with pytest.raises(TypeError, match=r"text_column must be a column name \(str\) or a 0-based index"):
        load_csv(path, 1.5, "label")
    with pytest.raises(FileNotFoundError, match=r"load_csv: '.*none\.csv' does not exist"):
        load_csv(tmp_path / "none.csv", "text", "label")
