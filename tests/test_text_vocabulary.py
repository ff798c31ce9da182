import json
import os

import numpy as np
import pytest

from rnnlab.text import Vocabulary
from rnnlab.text import vocabulary as vocabulary_module

DOCS = [["a", "good", "movie"], ["a", "bad", "movie"], ["a", "good", "plot"], ["zz"]]


def test_top_k_by_frequency_with_reserved_ids():
    v = Vocabulary.build(DOCS, max_size=5)
    # counts: a 3, good 2, movie 2, bad 1, plot 1, zz 1 -> ties broken by the token string
    assert v.tokens == ["<pad>", "<unk>", "a", "good", "movie"]
    assert len(v) == 5 and v.counts == [3, 2, 2]
    assert v.encode(["a", "bad", "movie", "never-seen"]) == [2, 1, 4, 1]
    assert v.token_to_id("good") == 3 and v.id_to_token(4) == "movie"
    assert "good" in v and "bad" not in v


def test_ties_do_not_depend_on_document_order():
    full = Vocabulary.build(DOCS)
    assert full.tokens == ["<pad>", "<unk>", "a", "good", "movie", "bad", "plot", "zz"]
    assert Vocabulary.build(DOCS[::-1]) == full
    assert Vocabulary.build([d[::-1] for d in DOCS], max_size=6).tokens == full.tokens[:6]


def test_min_freq_and_reserved_strings_in_corpus():
    v = Vocabulary.build(DOCS + [["<unk>", "<pad>"]], min_freq=2)
    assert v.tokens == ["<pad>", "<unk>", "a", "good", "movie"]


def test_decode_skips_padding_and_accepts_arrays():
    v = Vocabulary.build(DOCS)
    assert v.decode(np.array([0, 0, 2, 1, 3])) == ["a", "<unk>", "good"]
    assert v.decode([0, 2], skip_padding=False) == ["<pad>", "a"]
    assert v.encode_many([["a"], [], ["zz", "q"]]) == [[2], [], [7, 1]]


def test_build_and_encode_errors():
    with pytest.raises(ValueError, match=r"max_size=1; expected an integer >= 2"):
        Vocabulary.build(DOCS, max_size=1)
    with pytest.raises(ValueError, match=r"min_freq=0; expected an integer >= 1"):
        Vocabulary.build(DOCS, min_freq=0)
    with pytest.raises(TypeError, match="got the str 'a good movie'; tokenise each text first"):
        Vocabulary.build(["a good movie"])
    with pytest.raises(TypeError, match="Vocabulary.encode expects a list of tokens, got the str"):
        Vocabulary.build(DOCS).encode("a good movie")
    with pytest.raises(ValueError, match=r"Vocabulary has ids 0\.\.7; got 8"):
        Vocabulary.build(DOCS).decode([8])
    with pytest.raises(ValueError, match="token 'a' appears twice"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match="pad_token and oov_token must differ"):
        Vocabulary([], pad_token="x", oov_token="x")


def test_save_load_round_trip(tmp_path):
    v = Vocabulary.build(DOCS + [["영화", "é"]], max_size=7)
    path = tmp_path / "vocab.json"
    v.save(path)
    back = Vocabulary.load(path)
    assert back == v and back.counts == v.counts and back.tokens == v.tokens
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "rnnlab.vocabulary" and data["tokens"][0] == "a"
    assert os.listdir(tmp_path) == ["vocab.json"]                  # no temporary file left behind


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    good = Vocabulary.build(DOCS)
    good.save(path)

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(vocabulary_module.json, "dump", boom)
    with pytest.raises(OSError, match="disk full"):
        Vocabulary.build([["other"]]).save(path)
    monkeypatch.undo()
    assert Vocabulary.load(path) == good
    assert os.listdir(tmp_path) == ["vocab.json"]


@pytest.mark.parametrize("content, message", [
    (b'{"format": "rnnlab.vocabulary", "tok', r"is damaged: invalid JSON at line 1"),
    (b"\xff\xfe", r"is damaged: invalid UTF-8 at byte 0"),
    (b'{"format": "something-else"}', r"is not an rnnlab vocabulary"),
    (b'{"format": "rnnlab.vocabulary", "version": 99, "tokens": []}', r"has vocabulary format version 99"),
    (b'{"format": "rnnlab.vocabulary", "version": 1, "tokens": "abc"}', r"is damaged: 'tokens' must be a list"),
    (b'{"format": "rnnlab.vocabulary", "version": 1, "tokens": ["a", "a"]}', r"is damaged: .*'a' appears twice"),
    (b'{"format": "rnnlab.vocabulary", "version": 1, "tokens": ["a", 3]}', r"is damaged: .*must be str"),
])
def test_damaged_file_gives_clear_error(tmp_path, content, message):
    path = tmp_path / "vocab.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"Vocabulary file '.*vocab\.json' " + message):
        Vocabulary.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Vocabulary.load(tmp_path / "nope.json")
