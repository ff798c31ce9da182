import os
import tarfile

import numpy as np
import pytest

from rnnlab.datasets import load_imdb

REVIEWS = {  # (split, label, file name) -> text
    ("train", "pos", "10_9.txt"): "Great film.<br /><br />Loved it\x85",
    ("train", "pos", "2_7.txt"): "Good \x93fun\x94",
    ("train", "neg", "0_1.txt"): "Awful \x96 really.",
    ("train", "neg", "1_3.txt"): "Bad.",
    ("test", "pos", "0_10.txt"): "Best ever",
    ("test", "neg", "3_2.txt"): "Worst",
    ("test", "neg", "11_4.txt"): "Meh 영화",
}
EXPECTED_TRAIN = (["Awful \x96 really.", "Bad.", "Good \x93fun\x94", "Great film.<br /><br />Loved it\x85"],
                  [0, 0, 1, 1])
EXPECTED_TEST = (["Worst", "Meh 영화", "Best ever"], [0, 0, 1])


def make_acl_folder(root, reviews=REVIEWS):
    acl = root / "aclImdb"
    for (split, label, name), text in reviews.items():
        (acl / split / label).mkdir(parents=True, exist_ok=True)
        (acl / split / label / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    (acl / "train" / "unsup").mkdir()
    (acl / "train" / "unsup" / "0_0.txt").write_text("unlabelled, ignored")
    (acl / "train" / "urls_pos.txt").write_text("http://example\n")
    (acl / "README").write_text("readme")
    return acl


def make_archive(tmp_path, suffix, reviews=REVIEWS):
    tmp_path.mkdir(exist_ok=True)
    acl = make_acl_folder(tmp_path / "src", reviews)
    path = tmp_path / f"aclImdb{suffix}"
    mode = {".tar.xz": "w:xz", ".tar.gz": "w:gz", ".tgz": "w:gz", ".tar": "w"}[suffix]
    with tarfile.open(path, mode) as tar:
        tar.add(acl, arcname="aclImdb")
    return path


def check(result):
    (xtr, ytr), (xte, yte) = result
    assert (xtr, ytr.tolist()) == EXPECTED_TRAIN
    assert (xte, yte.tolist()) == EXPECTED_TEST
    assert ytr.dtype == np.int64


def test_folder_layout(tmp_path):
    acl = make_acl_folder(tmp_path)
    check(load_imdb(acl))
    check(load_imdb(tmp_path))                 # the folder that contains aclImdb


@pytest.mark.parametrize("suffix", [".tar.xz", ".tar.gz", ".tgz", ".tar"])
def test_archive_is_streamed_without_extracting(tmp_path, suffix):
    path = make_archive(tmp_path, suffix)
    before = sorted(os.listdir(tmp_path))
    check(load_imdb(str(path), progress=True))
    assert sorted(os.listdir(tmp_path)) == before


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_imdb: '.*nowhere' does not exist"):
        load_imdb(tmp_path / "nowhere")


def test_not_an_archive(tmp_path):
    p = tmp_path / "reviews.csv"
    p.write_text("a,b\n")
    with pytest.raises(ValueError, match=r"got the file '.*reviews\.csv'; expected the aclImdb folder or an archive"):
        load_imdb(p)


def test_truncated_archive(tmp_path):
    path = make_archive(tmp_path, ".tar.xz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"aclImdb\.tar\.xz' could not be read as a tar archive"):
        load_imdb(path)


def test_invalid_utf8_review_names_the_file(tmp_path):
    bad = dict(REVIEWS)
    bad[("test", "pos", "5_8.txt")] = b"fine\nthen \xff broken"
    with pytest.raises(ValueError, match=r"aclImdb/test/pos/5_8\.txt, line 2: invalid"
                                         r" UTF-8 \(byte b'\\xff' at column 6"):
        load_imdb(make_acl_folder(tmp_path, bad))
    with pytest.raises(ValueError, match=r"aclImdb\.tar\.xz::aclImdb/test/pos/5_8\.txt, line 2: invalid UTF-8"):
        load_imdb(make_archive(tmp_path / "archive", ".tar.xz", bad))


def test_folder_without_reviews(tmp_path):
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    (tmp_path / "aclImdb" / "train" / "pos" / "0_9.txt").write_text("only train")
    with pytest.raises(ValueError, match=r"has no test reviews: expected files aclImdb/test/\{neg,pos\}"):
        load_imdb(tmp_path)
