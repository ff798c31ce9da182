import bz2
import gzip
import json
import lzma

import numpy as np
import pytest

from rnnlab.text import LMVocabulary, char_tokens, load_ptb, read_text, split_text, word_tokens
from rnnlab.text.corpus import CorpusFileNotFoundError

KOREAN = "안녕하세요 반가워요"


# ---- tokens ---------------------------------------------------------------------------------------

def test_word_tokens_one_eos_per_line():
    assert word_tokens(" no it was n't \n black monday \n") == ["no", "it", "was", "n't", "<eos>",
                                                              "black", "monday", "<eos>"]
    assert word_tokens("a b\nc") == ["a", "b", "<eos>", "c", "<eos>"]          # no final newline: still one
    assert word_tokens("a\n\nb\n") == ["a", "<eos>", "<eos>", "b", "<eos>"]     # a blank line is a line
    assert word_tokens("a\r\nb\r\n", eos="</s>") == ["a", "</s>", "b", "</s>"]
    assert word_tokens("a  b\tc\n", eos=None) == ["a", "b", "c"]
    assert word_tokens("") == []
    with pytest.raises(ValueError, match=r"eos='a b'; expected a non-empty str without whitespace"):
        word_tokens("x", eos="a b")
    with pytest.raises(TypeError, match=r"word_tokens expects the text as one str.*got list"):
        word_tokens(["a", "b"])


def test_char_tokens_keeps_newlines_and_hangul_syllables():
    assert char_tokens("ab \nc") == ["a", "b", " ", "\n", "c"]
    toks = char_tokens(KOREAN)
    assert toks == ["안", "녕", "하", "세", "요", " ", "반", "가", "워", "요"]
    assert all(len(t) == 1 for t in toks)


# ---- vocabulary -----------------------------------------------------------------------------------

def test_build_orders_by_count_then_first_appearance():
    toks = ["b", "a", "c", "a", "d", "c", "e", "a"]           # a 3, c 2, then b d e (1 each) by first appearance
    v = LMVocabulary.build(toks)
    assert v.tokens == ["a", "c", "b", "d", "e"] and v.counts == [3, 2, 1, 1, 1]
    assert len(v) == 5 and "d" in v and "z" not in v and v.unk is None and v.level == "word"
    assert v.token_to_id("c") == 1 and v.id_to_token(2) == "b"
    assert LMVocabulary.build(toks) == v                        # deterministic
    s = LMVocabulary.build(toks, specials=("<eos>", "e"))
    assert s.tokens == ["<eos>", "e", "a", "c", "b", "d"] and s.counts == [0, 1, 3, 2, 1, 1]
    assert LMVocabulary.build(toks, max_size=4, unk="e").tokens == ["a", "c", "b", "e"]


def test_encode_decode_round_trip_int32():
    toks = word_tokens("the cat sat\nthe dog sat\n")
    v = LMVocabulary.build(toks)
    ids = v.encode(toks)
    assert ids.dtype == np.int32 and ids.shape == (len(toks),)
    assert ids.tolist() == [0, 3, 1, 2, 0, 4, 1, 2]             # the 2, sat 2, <eos> 2, cat, dog
    assert v.decode(ids) == toks
    assert v.decode([0, 2]) == ["the", "<eos>"]
    assert v.encode([]).dtype == np.int32 and v.decode([]) == []


def test_unk_mapping_and_max_size():
    toks = ["a", "a", "a", "b", "b", "c", "<unk>", "d"]
    v = LMVocabulary.build(toks, unk="<unk>")                   # PTB style: the corpus contains <unk>
    assert v.tokens == ["a", "b", "c", "<unk>", "d"] and v.unk_id == 3
    assert v.encode(["a", "zzz", "d"]).tolist() == [0, 3, 4]
    assert v.token_to_id("zzz") == 3
    small = LMVocabulary.build(toks, max_size=3, unk="<unk>")    # <unk> would fall off: it takes the last id
    assert small.tokens == ["a", "b", "<unk>"]
    assert small.encode(["c", "d", "b"]).tolist() == [2, 2, 1]
    absent = LMVocabulary.build(["x", "y", "x"], unk="<unk>", level="char")
    assert absent.tokens == ["x", "y", "<unk>"] and absent.counts == [2, 1, 0]
    with pytest.raises(ValueError, match=r"max_size=2 keeps 2 of the corpus's 5 distinct tokens, but unk is None"
                                         r".*Pass unk='<unk>'"):
        LMVocabulary.build(toks[:6] + ["x", "y"], max_size=2)
    with pytest.raises(ValueError, match=r"max_size=1; expected an integer >= 2 \(it counts every id"):
        LMVocabulary.build(toks, max_size=1, unk="<unk>", specials=("<eos>",))


def test_unknown_tokens_error_names_them_their_count_and_position():
    v = LMVocabulary.build(char_tokens("hello world\n"), level="char")
    with pytest.raises(ValueError) as err:
        v.encode("heЖlo ЖЖq", what="the prompt")
    msg = str(err.value)
    assert msg.startswith("the prompt contains characters the vocabulary never saw: 'Ж', 'q' (2 distinct, "
                          "4 in all, the first at position 2)")
    assert "use only characters from the training text" in msg and "unk='<unk>'" in msg
    w = LMVocabulary.build(["a", "b"])
    with pytest.raises(ValueError, match=r"the text contains tokens the vocabulary never saw: 'x0', 'x1', 'x2', "
                                         r"'x3', 'x4', \.\.\. \(2 more\) \(7 distinct, 8 in all, the first at "
                                         r"position 1\)"):
        w.encode(["a"] + [f"x{i}" for i in range(7)] + ["x0"])
    with pytest.raises(ValueError, match=r"the token 'q' is not in the vocabulary \(2 tokens\) and unk is None"):
        w.token_to_id("q")


def test_vocabulary_argument_errors():
    v = LMVocabulary.build(["a", "b"])
    with pytest.raises(TypeError, match=r"got one str 'a b' for a word-level vocabulary; tokenise it first"):
        v.encode("a b")
    with pytest.raises(TypeError, match=r"got one str 'ab' for a word-level vocabulary"):
        LMVocabulary.build("ab")
    with pytest.raises(ValueError, match=r"level='byte'; expected 'word' or 'char'"):
        LMVocabulary.build(["a"], level="byte")
    with pytest.raises(ValueError, match=r"got an empty corpus"):
        LMVocabulary.build([])
    with pytest.raises(ValueError, match=r"has ids 0\.\.1; got 2 \(and 0 more outside that range\)"):
        v.decode([0, 2])
    with pytest.raises(ValueError, match=r"expects a 1-D sequence of integer ids, got shape \(1, 2\)"):
        v.decode(np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"has ids 0\.\.1; got -1"):
        v.id_to_token(-1)
    with pytest.raises(ValueError, match=r"token 'a' appears twice \(ids 0 and 2\)"):
        LMVocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match=r"unk='<unk>' is not one of its 2 tokens"):
        LMVocabulary(["a", "b"], unk="<unk>")


def test_korean_char_level_round_trip():
    v = LMVocabulary.build(KOREAN, level="char")
    assert len(v) == 9 and v.tokens[0] == "요"                   # 요 twice, then first appearance
    ids = v.encode(KOREAN)
    assert ids.shape == (10,) and "".join(v.decode(ids)) == KOREAN
    assert v.encode(char_tokens("반가워")).tolist() == v.encode("반가워").tolist()
    with pytest.raises(ValueError, match=r"characters the vocabulary never saw: '습', '니', '다' "
                                         r"\(3 distinct, 3 in all, the first at position 2\)"):
        v.encode("안녕습니다")


def test_json_save_load_round_trip(tmp_path):
    v = LMVocabulary.build(char_tokens(KOREAN + "\nabc"), unk="<unk>", specials=("<bos>",), level="char")
    path = tmp_path / "vocab.json"
    v.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "rnnlab.lm_vocabulary" and data["level"] == "char" and data["unk"] == "<unk>"
    assert "안" in path.read_text(encoding="utf-8")                # readable UTF-8, not \u escapes
    w = LMVocabulary.load(path)
    assert w == v and w.tokens == v.tokens and w.counts == v.counts and w.level == "char"
    assert LMVocabulary.from_dict(v.to_dict()) == v
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary file left behind


def test_load_errors_say_what_is_wrong(tmp_path):
    good = LMVocabulary.build(["a", "b", "a"]).to_dict()
    cases = {
        "notjson.json": ("{not json", r"is not JSON: line 1, column 2"),
        "other.json": (json.dumps({"tokens": ["a"]}), r"is not an rnnlab language-model vocabulary"),
        "version.json": (json.dumps({**good, "version": 9}), r"format version 9; this rnnlab reads version 1"),
        "missing.json": (json.dumps({k: good[k] for k in ("format", "version", "tokens")}),
                         r"is damaged: missing key\(s\) 'level', 'unk'"),
        "dup.json": (json.dumps({**good, "tokens": ["a", "b", "a"], "counts": None}),
                     r"is damaged: LMVocabulary token 'a' appears twice \(ids 0 and 2\)"),
        "level.json": (json.dumps({**good, "level": "bytes"}), r"is damaged: .*level='bytes'"),
        "counts.json": (json.dumps({**good, "counts": [1]}), r"is damaged: .*counts must be 2 non-negative"),
    }
    for name, (content, pattern) in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(ValueError, match=pattern) as err:
            LMVocabulary.load(tmp_path / name)
        assert name in str(err.value)
    (tmp_path / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(ValueError, match=r"latin1\.json' is damaged: not UTF-8 \(byte offset 7\)"):
        LMVocabulary.load(tmp_path / "latin1.json")
    with pytest.raises(FileNotFoundError, match=r"nope\.json' does not exist"):
        LMVocabulary.load(tmp_path / "nope.json")


def test_check_compatible_names_both_sizes():
    a = LMVocabulary.build(["a", "b", "c"])
    a.check_compatible(3)
    a.check_compatible(LMVocabulary.build(["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"the model has 5 token ids but this vocabulary has 3\. Encode the data"):
        a.check_compatible(5)
    with pytest.raises(ValueError, match=r"the saved model has a vocabulary of 2 tokens but this one has 3"):
        a.check_compatible(LMVocabulary.build(["a", "b"]), "the saved model")
    with pytest.raises(ValueError, match=r"both have 3 tokens but differ from id 1 on \('c' there, 'b' here\)"):
        a.check_compatible(LMVocabulary(["a", "c", "b"]))
    with pytest.raises(ValueError, match=r"has a char-level vocabulary but this one is word-level"):
        a.check_compatible(LMVocabulary(["a", "b", "c"], level="char"))
    with pytest.raises(ValueError, match=r"maps unknown tokens to 'c' but this vocabulary to None"):
        a.check_compatible(LMVocabulary(["a", "b", "c"], unk="c"))
    with pytest.raises(TypeError, match=r"expects an LMVocabulary or an integer size, got str"):
        a.check_compatible("3")


# ---- files ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix,opener", [(".xz", lzma.open), (".gz", gzip.open), (".bz2", bz2.open), ("", open)])
def test_read_text_compressed(tmp_path, suffix, opener):
    text = "First Citizen:\n" + KOREAN + "\n"
    path = tmp_path / f"corpus.txt{suffix}"
    with opener(path, "wb") as f:
        f.write(text.encode("utf-8"))
    assert read_text(path) == text
    assert read_text(str(path)) == text


def test_read_text_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.txt.xz"
    with lzma.open(bad, "wb") as f:
        f.write("line one\nline two\n".encode() + b"caf\xe9\n")
    with pytest.raises(ValueError, match=r"bad\.txt\.xz, line 3: not UTF-8 \(byte b'\\xe9' at byte offset 21 of "
                                         r"the decompressed text") as err:
        read_text(bad)
    assert "Re-save the corpus as UTF-8" in str(err.value)
    plain = tmp_path / "bad.txt"
    plain.write_bytes(b"ok\n\xff")
    with pytest.raises(ValueError, match=r"bad\.txt, line 2: not UTF-8 \(byte b'\\xff' at byte offset 3:"):
        read_text(plain)
    empty = tmp_path / "empty.txt.gz"
    with gzip.open(empty, "wb"):
        pass
    with pytest.raises(ValueError, match=r"empty\.txt\.gz: the corpus is empty"):
        read_text(empty)
    with pytest.raises(ValueError, match=r"missing\.txt' does not exist") as err:
        read_text(tmp_path / "missing.txt")
    assert isinstance(err.value, FileNotFoundError)
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffab".encode())
    assert read_text(bom) == "ab"


def test_load_ptb_missing_files(tmp_path):
    (tmp_path / "ptb.train.txt").write_text(" a b \n", encoding="utf-8")
    with lzma.open(tmp_path / "ptb.valid.txt.xz", "wb") as f:
        f.write(b" a \n")
    with pytest.raises(CorpusFileNotFoundError, match=r"has no ptb\.test\.txt or ptb\.test\.txt\.xz \(the test "
                                                      r"split\); its ptb\.\* files are \['ptb\.train\.txt', "
                                                      r"'ptb\.valid\.txt\.xz'\]") as err:
        load_ptb(tmp_path)
    assert str(tmp_path) in str(err.value) and isinstance(err.value, ValueError)
    (tmp_path / "ptb.test.txt").write_text(" b \n a \n", encoding="utf-8")
    assert load_ptb(tmp_path) == {"train": ["a", "b", "<eos>"], "valid": ["a", "<eos>"],
                                  "test": ["b", "<eos>", "a", "<eos>"]}
    with pytest.raises(FileNotFoundError, match=r"load_ptb: .*nowhere' does not exist.*ptb\.train\.txt"):
        load_ptb(tmp_path / "nowhere")


def test_load_ptb_real_counts(shared_data):
    splits = load_ptb(shared_data / "ptb")
    assert {k: len(v) for k, v in splits.items()} == {"train": 929_589, "valid": 73_760, "test": 82_430}
    assert splits["train"].count("<eos>") == 42_068 and splits["train"].count("<unk>") == 45_020
    vocab = LMVocabulary.build(splits["train"])
    assert len(vocab) == 10_000 and "<eos>" in vocab and "<unk>" in vocab
    assert vocab.tokens[0] == "the" and vocab.counts == sorted(vocab.counts, reverse=True)
    for split in ("valid", "test"):                            # unk=None: an unknown token would raise
        ids = vocab.encode(splits[split])
        assert ids.dtype == np.int32 and ids.max() < 10_000
    train_ids = vocab.encode(splits["train"])
    assert vocab.decode(train_ids[:5]) == splits["train"][:5]


def test_tinyshakespeare_90_10_split(shared_data):
    text = read_text(shared_data / "tinyshakespeare" / "input.txt.xz")
    train, valid = split_text(text)
    assert (len(text), len(train), len(valid)) == (1_115_394, 1_003_854, 111_540)
    assert train + valid == text
    vocab = LMVocabulary.build(text, level="char")
    assert len(vocab) == 65 and "\n" in vocab


def test_split_text_proportions():
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    train, valid = split_text(text)
    assert (len(train), len(valid)) == (900, 100) and train + valid == text
    parts = split_text(list(range(10)), (0.8, 0.1, 0.1))
    assert parts == ([0, 1, 2, 3, 4, 5, 6, 7], [8], [9])
    train, valid = split_text(KOREAN * 3)                      # 30 characters: cuts between syllables
    assert (len(train), len(valid)) == (27, 3) and valid == "가워요"
    assert split_text("abcdefghijk") == ("abcdefghi", "jk")     # int(11 * 0.9) = 9
    with pytest.raises(ValueError, match=r"fractions=\(0.5, 0.4\); expected positive numbers that sum to 1"):
        split_text(text, (0.5, 0.4))
    with pytest.raises(ValueError, match=r"fractions=\(1.2, -0.2\)"):
        split_text(text, (1.2, -0.2))
    with pytest.raises(ValueError, match=r"a text of length 1 is too short for fractions \(0.9, 0.1\): part 0 would "
                                         r"be empty"):
        split_text("a")
