import lzma

import numpy as np
import pytest

from rnnlab.datasets import load_nsmc

ROWS = [
    ("9976970", "아 더빙.. 진짜 짜증나네요 목소리", "0"),
    ("3819312", "", "1"),                                        # empty document, kept as ""
    ("10265843", '"""최고""" 라고 "말"하고 싶다', "1"),               # quotes are raw text
    ("9045019", "교도소 이야기구먼 ..솔직히 재미는 없다", "0"),
]
CONTENT = "id\tdocument\tlabel\n" + "".join(f"{i}\t{d}\t{l}\n" for i, d, l in ROWS)


@pytest.mark.parametrize("suffix", [".txt", ".txt.xz"])
def test_reads_tsv_without_quote_processing(tmp_path, suffix):
    path = tmp_path / f"ratings{suffix}"
    raw = CONTENT.encode("utf-8")
    path.write_bytes(lzma.compress(raw) if suffix.endswith(".xz") else raw)
    texts, labels = load_nsmc(path)
    assert texts == [d for _, d, _ in ROWS]
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 1, 0]
    ids, texts2, _ = load_nsmc(str(path), return_ids=True)
    assert ids == [i for i, _, _ in ROWS] and texts2 == texts


def test_crlf_and_no_final_newline(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(CONTENT.rstrip("\n").replace("\n", "\r\n").encode())
    assert load_nsmc(path)[0] == [d for _, d, _ in ROWS]


@pytest.mark.parametrize("content, message", [
    (CONTENT + "123\tno label\n", r"line 6: expected 3 tab-separated fields \(id, document, label\), got 2"),
    (CONTENT + "123\ta\tb\t1\n", r"line 6: expected 3 tab-separated fields .* got 4"),
    (CONTENT.replace("목소리\t0", "목소리\t2"), r"line 2: the label must be 0 or 1, got '2'"),
    (CONTENT + "\n", r"line 6: expected 3 tab-separated fields .* got 1"),
    ("", r"the file is empty"),
    ("id\tdocument\tlabel\n", r"has a header but no rows"),
    ("id,document,label\n1,a,0\n", r"line 1: expected the header"),
])
def test_malformed_input_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r".*bad\.txt.*" + message):
        load_nsmc(path)


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(CONTENT.encode() + b"7\tbroken \xed\xa0\x80 text\t1\n")
    with pytest.raises(ValueError, match=r"bad\.txt, line 6: invalid UTF-8"):
        load_nsmc(path)


def test_damaged_xz_and_missing_file(tmp_path):
    path = tmp_path / "r.txt.xz"
    path.write_bytes(lzma.compress(CONTENT.encode())[:20])
    with pytest.raises(ValueError, match=r"r\.txt\.xz' could not be decompressed"):
        load_nsmc(path)
    with pytest.raises(FileNotFoundError, match=r"load_nsmc: '.*missing\.txt' does not exist"):
        load_nsmc(tmp_path / "missing.txt")


def test_real_nsmc_counts(shared_data):
    texts, labels = load_nsmc(shared_data / "nsmc" / "ratings_test.txt.xz")
    assert len(texts) == 50000 and int(labels.sum()) == 25173
    assert sum(t == "" for t in texts) == 3
    assert sum(t.startswith('"') for t in texts) == 233
    assert max(map(len, texts)) == 152
