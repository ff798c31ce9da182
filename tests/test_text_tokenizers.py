import json
import sys
import tarfile

import pytest

from rnnlab.text import tokenizers
from rnnlab.text.tokenizers import EnglishTokenizer, KoreanTokenizer, WhitespaceTokenizer, normalize_text


def test_c1_controls_map_to_what_cp1252_meant():
    assert normalize_text("a\x85b\x91c\x92d\x93e\x94f\x96g\x97h", lower=False) == "a...b'c'd\"e\"f\u2013g\u2014h"


def test_english_words_lowercase_apostrophes_and_c1_quotes():
    tok = EnglishTokenizer()
    assert tok("It wasn\x92t GOOD\x85 at all!") == ["it", "wasn't", "good", "at", "all"]
    assert tok("Don\u2019t \u201cstop\u201d o'clock") == ["don't", "stop", "o'clock"]
    assert tok("full\uff37idth \ufb01ne caf\u00e9") == ["fullwidth", "fine", "café"]
    assert tok("snake_case 'quoted' 80's") == ["snake", "case", "quoted", "80's"]
    assert tok("") == []


@pytest.mark.parametrize("br", ["<br />", "<br/>", "<BR>", "< br / >"])
def test_english_removes_html_line_breaks(br):
    assert EnglishTokenizer()(f"end.{br}{br}Next") == ["end", "next"]
    assert "br" in EnglishTokenizer(strip_html=False)(f"end.{br}Next")


def test_english_punctuation_split_keeps_runs():
    tok = EnglishTokenizer(punctuation="split")
    assert tok("Great!!! 10/10, really?") == ["great", "!!!", "10", "/", "10", ",", "really", "?"]
    assert tok("Wait\x85 what") == ["wait", "...", "what"]


def test_english_keeps_case_when_asked():
    assert EnglishTokenizer(lower=False)("The END") == ["The", "END"]


def test_tokenize_many_matches_single_calls():
    tok = EnglishTokenizer()
    texts = ["One two", "", "Three<br />four"]
    assert tok.tokenize_many(texts, progress=False) == [tok(t) for t in texts]


def test_whitespace_tokenizer():
    assert WhitespaceTokenizer()("a  B\tc\n") == ["a", "B", "c"]
    assert WhitespaceTokenizer(lower=True)("A b") == ["a", "b"]


def test_korean_syllable_and_whitespace_need_no_dependency():
    assert KoreanTokenizer("syllable")("최고의 영화!! ㅋㅋ Good10") == ["최", "고", "의", "영", "화", "ㅋㅋ", "good10"]
    assert KoreanTokenizer("whitespace")("최고의 영화!! ㅋㅋ") == ["최고의", "영화", "ㅋㅋ"]
    assert KoreanTokenizer("whitespace", punctuation="split")("최고의 영화!! ㅋㅋ") == ["최고의", "영화", "!!", "ㅋㅋ"]


def test_korean_keeps_compatibility_jamo():
    # NFKC would turn ㅋㅠ into the syllable 큐; the Korean tokenisers use NFC.
    assert KoreanTokenizer("syllable")("ㅋㅠㅠ") == ["ㅋㅠㅠ"]


def test_korean_morphemes_with_kiwipiepy():
    pytest.importorskip("kiwipiepy")
    tok = KoreanTokenizer("morpheme")
    out = tok("이 영화 정말 재밌었어요!! 최고")
    assert out[:4] == ["이", "영화", "정말", "재밌"]
    assert "!!" not in out and out[-1] == "최고"
    assert "!!" in KoreanTokenizer("morpheme", punctuation="split")("재밌었어요!!")
    assert "영화/NNG" in KoreanTokenizer("morpheme", with_tags=True)("이 영화")
    texts = ["이 영화 정말", "", "  ", "최고!!"]
    assert tok.tokenize_many(texts) == [tok(t) for t in texts] and tok.tokenize_many(texts)[1:3] == [[], []]


def test_korean_morpheme_without_kiwipiepy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "kiwipiepy", None)
    monkeypatch.setattr(tokenizers, "_KIWI_CACHE", {})
    with pytest.raises(ImportError, match=r"pip install 'rnnlab\[korean\]'"):
        tokenizers.get("korean")
    assert tokenizers.get("korean_syllable")("영화") == ["영", "화"]


def test_configs_round_trip_through_json():
    for tok in [EnglishTokenizer(lower=False, punctuation="split"), WhitespaceTokenizer(lower=True),
                KoreanTokenizer("syllable", punctuation="split")]:
        spec = json.loads(json.dumps(tokenizers.serialize(tok)))
        back = tokenizers.deserialize(spec)
        assert type(back) is type(tok) and back.get_config() == tok.get_config()
        assert back("Hello, 세상!! <br />x") == tok("Hello, 세상!! <br />x")
    assert tokenizers.get(tokenizers.serialize(EnglishTokenizer())).get_config() == EnglishTokenizer().get_config()


def test_tokenizer_errors():
    with pytest.raises(ValueError, match=r"punctuation='keep'; expected one of \('drop', 'split'\)"):
        EnglishTokenizer(punctuation="keep")
    with pytest.raises(ValueError, match=r"method='char'"):
        KoreanTokenizer("char")
    with pytest.raises(ValueError, match="tags exist only for method='morpheme'"):
        KoreanTokenizer("syllable", with_tags=True)
    with pytest.raises(TypeError, match=r"Tokenisers take str, got bytes"):
        EnglishTokenizer()(b"bytes")
    with pytest.raises(ValueError, match=r"Unknown tokeniser 'french'; expected one of"):
        tokenizers.get("french")
    with pytest.raises(ValueError, match=r"Unknown tokeniser class 'Evil'"):
        tokenizers.deserialize({"class_name": "Evil", "config": {}})
    with pytest.raises(ValueError, match=r"Could not rebuild tokeniser 'EnglishTokenizer'"):
        tokenizers.deserialize({"class_name": "EnglishTokenizer", "config": {"colour": 1}})
    with pytest.raises(TypeError, match="serialize expects an rnnlab tokeniser"):
        tokenizers.serialize(str.split)


C1 = "\x85\x91\x92\x93\x94\x96\x97"


def test_real_imdb_reviews_are_clean(shared_data):
    """The first test/neg reviews of the real archive: no <br />, no C1 characters left."""
    tok, words = EnglishTokenizer(punctuation="split"), EnglishTokenizer()
    seen = raw_c1 = 0
    with tarfile.open(shared_data / "imdb" / "aclImdb_labeled.tar.xz", "r|xz") as tar:
        for m in tar:
            if "/test/neg/" in m.name and m.isfile():
                text = tar.extractfile(m).read().decode("utf-8")
                raw_c1 += any(c in text for c in C1)
                tokens = tok(text)
                assert tokens and not any(c in "".join(tokens) for c in C1)
                assert "br" not in words(text)
                seen += 1
                if seen == 300:
                    break
    assert seen == 300 and raw_c1 > 0
