"""Tokenisers: text to a list of token strings, for English (IMDb) and Korean (NSMC) reviews.

Seed 004 represents a review as the sequence of its words. A tokeniser decides what a word is:

- ``EnglishTokenizer``: Unicode clean-up, lower-casing, ``<br />`` removal, then ONE compiled
  regular expression that finds words (``don't`` stays one word) and, if asked, punctuation.
- ``KoreanTokenizer``: ``method="morpheme"`` splits into morphemes with ``kiwipiepy`` (the optional
  extra ``pip install 'rnnlab[korean]'``); ``"syllable"`` (each Hangul syllable a token) and
  ``"whitespace"`` need nothing beyond the standard library.
- ``WhitespaceTokenizer``: split on whitespace, nothing else.

Every tokeniser is a callable ``tok(text) -> list[str]``, has ``tokenize_many(texts, progress=...)``
(with a tqdm progress bar) and a JSON-able ``get_config()``; ``serialize``/``deserialize`` turn it
into ``{"class_name": ..., "config": {...}}`` and back, so a saved model remembers how it read text.
``get(name)`` builds one by name: ``"english"``, ``"korean"`` (morphemes), ``"korean_syllable"``,
``"korean_whitespace"``, ``"whitespace"``.

Example::

    tok = get("english")
    tok("It wasn\\x92t <br />GOOD\\x85 at all!")     # ['it', "wasn't", 'good', 'at', 'all']
"""
import re
import unicodedata

from tqdm.auto import tqdm

#: C1 control characters found in IMDb are Windows-1252 bytes mis-decoded as Latin-1; map each back
#: to what cp1252 meant (U+0085 ..., U+0091/92 single quotes, U+0093/94 double quotes, U+0096/97 dashes).
C1_TO_CP1252 = {0x85: "\u2026", 0x91: "\u2018", 0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d",
                0x96: "\u2013", 0x97: "\u2014"}
# Typographic quotes fold to ASCII ones so that "don’t" and "don't" are the same word.
_QUOTES_TO_ASCII = {0x2018: "'", 0x2019: "'", 0x201B: "'", 0x2032: "'", 0x201C: '"', 0x201D: '"'}
_TRANSLATE = {**C1_TO_CP1252, **_QUOTES_TO_ASCII}
_TRANSLATE.update({k: _QUOTES_TO_ASCII.get(ord(v), v) for k, v in C1_TO_CP1252.items()})
_TRANSLATE.update({c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})     # full-width ASCII forms
_TRANSLATE[0x3000] = " "                                                    # ideographic space

_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_PUNCTUATION_MODES = ("drop", "split")


def normalize_text(text, lower=True, form="NFKC"):
    """Unicode clean-up shared by the tokenisers.

    C1 characters become what cp1252 meant, typographic quotes and full-width ASCII forms become
    ASCII, then Unicode normal form ``form``, then lower-case. English uses NFKC (``…`` → ``...``,
    ligatures split); Korean uses NFC, because NFKC turns compatibility jamo such as ``ㅋ`` into
    conjoining jamo that then fuse into syllables (``ㅋㅠ`` → ``큐``).
    Pure-ASCII text (most of IMDb) skips the Unicode steps, which keeps this fast.
    """
    if not isinstance(text, str):
        raise TypeError(f"Tokenisers take str, got {type(text).__name__} ({text!r:.60}). "
                        "Decode bytes first (e.g. data.decode('utf-8')).")
    if not text.isascii():
        text = unicodedata.normalize(form, text.translate(_TRANSLATE))
    return text.lower() if lower else text


def _check_choice(owner, arg, value, choices):
    if value not in choices:
        raise ValueError(f"{owner} got {arg}={value!r}; expected one of {choices}.")


class Tokenizer:
    """Base class: ``tok(text)`` returns a list of token strings."""

    def tokenize(self, text):
        raise NotImplementedError

    def __call__(self, text):
        return self.tokenize(text)

    def tokenize_many(self, texts, progress=False, desc="tokenising"):
        """Tokenise every text of ``texts``; ``progress=True`` shows a tqdm bar."""
        it = tqdm(texts, desc=desc, unit="doc", disable=not progress, mininterval=0.5)
        tokenize = self.tokenize
        return [tokenize(t) for t in it]

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class EnglishTokenizer(Tokenizer):
    """English words: Unicode clean-up, lower-case, ``<br />`` removed, one regex.

    A token is a run of letters/digits, with inner apostrophes kept (``don't``, ``o'clock``).
    With ``punctuation="split"`` each ``!``/``?``/other symbol is a token too (runs such as ``!!!``
    stay one token); ``"drop"`` (the default, as Keras's ``Tokenizer`` filters punctuation)
    leaves only words.

    Args:
        lower: lower-case the text (default True).
        strip_html: replace ``<br />`` line breaks with a space (default True).
        punctuation: ``"drop"`` or ``"split"``.

    Example::

        EnglishTokenizer(punctuation="split")("Great!!! 10/10")   # ['great', '!!!', '10', '/', '10']
    """

    def __init__(self, lower=True, strip_html=True, punctuation="drop"):
        _check_choice("EnglishTokenizer", "punctuation", punctuation, _PUNCTUATION_MODES)
        self.lower = bool(lower)
        self.strip_html = bool(strip_html)
        self.punctuation = punctuation
        word = r"[^\W_]+(?:'[^\W_]+)*"
        self._regex = re.compile(word if punctuation == "drop" else word + r"|([^\w\s])\1*")
        self._findall = (self._regex.findall if punctuation == "drop"
                         else lambda s: [m.group() for m in self._regex.finditer(s)])

    def tokenize(self, text):
        text = normalize_text(text, self.lower)
        if self.strip_html and "<" in text:
            text = _BR.sub(" ", text)
        return self._findall(text)

    def get_config(self):
        return {"lower": self.lower, "strip_html": self.strip_html, "punctuation": self.punctuation}


class WhitespaceTokenizer(Tokenizer):
    """Split on runs of whitespace; optionally lower-case (after the same Unicode clean-up)."""

    def __init__(self, lower=False):
        self.lower = bool(lower)

    def tokenize(self, text):
        return normalize_text(text, self.lower).split()

    def get_config(self):
        return {"lower": self.lower}


_KIWI_CACHE = {}
# kiwipiepy tags of punctuation: sentence-final, pause, quotes/brackets, ellipsis, dashes.
_KIWI_PUNCT_TAGS = frozenset({"SF", "SP", "SSO", "SSC", "SS", "SE", "SO"})
_HANGUL_SYLLABLE = "\uac00-\ud7a3"


def _kiwi():
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise ImportError(
            "KoreanTokenizer(method='morpheme') needs kiwipiepy, which is not installed. Install the "
            "optional extra with `pip install 'rnnlab[korean]'` (or `pip install kiwipiepy`), or use a "
            "dependency-free method: get('korean_syllable') or get('korean_whitespace').") from None
    if "kiwi" not in _KIWI_CACHE:
        _KIWI_CACHE["kiwi"] = Kiwi()
    return _KIWI_CACHE["kiwi"]


class KoreanTokenizer(Tokenizer):
    """Korean text to tokens, by morphemes (kiwipiepy), syllables or whitespace.

    All methods first apply ``normalize_text`` with NFC (not NFKC, which would turn ``ㅋㅠ`` into
    ``큐``) and lower-case Latin letters.

    - ``"morpheme"``: kiwipiepy's morphological analysis, e.g. ``재밌었어요`` → ``재밌 었 어요``;
      ``with_tags=True`` makes tokens ``"재밌/VA"``. Needs the extra ``rnnlab[korean]``.
    - ``"syllable"``: every Hangul syllable is a token; other runs of letters/digits (``ㅋㅋ``,
      ``good``, ``10``) are one token each.
    - ``"whitespace"``: the space-separated words (eojeol), punctuation split off.

    Args:
        method: ``"morpheme"``, ``"syllable"`` or ``"whitespace"``.
        punctuation: ``"drop"`` (default) or ``"split"`` (keep punctuation tokens).
        with_tags: morpheme method only; append the part-of-speech tag to each token.
        lower: lower-case Latin letters (default True).

    Example::

        KoreanTokenizer("syllable")("최고의 영화!! ㅋㅋ")   # ['최', '고', '의', '영', '화', 'ㅋㅋ']
    """

    METHODS = ("morpheme", "syllable", "whitespace")

    def __init__(self, method="morpheme", punctuation="drop", with_tags=False, lower=True):
        _check_choice("KoreanTokenizer", "method", method, self.METHODS)
        _check_choice("KoreanTokenizer", "punctuation", punctuation, _PUNCTUATION_MODES)
        if with_tags and method != "morpheme":
            raise ValueError(f"KoreanTokenizer got with_tags=True with method={method!r}; "
                             "tags exist only for method='morpheme'.")
        self.method = method
        self.punctuation = punctuation
        self.with_tags = bool(with_tags)
        self.lower = bool(lower)
        punct = "" if punctuation == "drop" else r"|([^\w\s])\1*"
        if method == "syllable":
            self._regex = re.compile(rf"[{_HANGUL_SYLLABLE}]|[^\W_{_HANGUL_SYLLABLE}]+" + punct)
        elif method == "whitespace":
            self._regex = re.compile(r"[^\W_]+" + punct)
        else:
            _kiwi()                       # fail now, with the install hint, not at first use

    def _morph_tokens(self, tokens):
        drop = self.punctuation == "drop"
        if self.with_tags:
            return [f"{t.form}/{t.tag}" for t in tokens if not (drop and t.tag in _KIWI_PUNCT_TAGS)]
        return [t.form for t in tokens if not (drop and t.tag in _KIWI_PUNCT_TAGS)]

    def tokenize(self, text):
        text = normalize_text(text, self.lower, "NFC")
        if self.method == "morpheme":
            return self._morph_tokens(_kiwi().tokenize(text)) if text.strip() else []
        return [m.group() for m in self._regex.finditer(text)]

    def tokenize_many(self, texts, progress=False, desc="tokenising"):
        if self.method != "morpheme":
            return super().tokenize_many(texts, progress, desc)
        texts = [normalize_text(t, self.lower, "NFC") for t in texts]
        out = [[] for _ in texts]
        todo = [i for i, t in enumerate(texts) if t.strip()]
        results = _kiwi().tokenize(texts[i] for i in todo)       # kiwipiepy's batched analysis
        for i, toks in zip(todo, tqdm(results, total=len(todo), desc=desc, unit="doc",
                                      disable=not progress, mininterval=0.5)):
            out[i] = self._morph_tokens(toks)
        return out

    def get_config(self):
        return {"method": self.method, "punctuation": self.punctuation, "with_tags": self.with_tags,
                "lower": self.lower}


_CLASSES = {c.__name__: c for c in (EnglishTokenizer, KoreanTokenizer, WhitespaceTokenizer)}
_NAMES = {
    "english": lambda: EnglishTokenizer(),
    "korean": lambda: KoreanTokenizer("morpheme"),
    "korean_syllable": lambda: KoreanTokenizer("syllable"),
    "korean_whitespace": lambda: KoreanTokenizer("whitespace"),
    "whitespace": lambda: WhitespaceTokenizer(),
}


def serialize(tokenizer):
    """``{"class_name": "EnglishTokenizer", "config": {...}}`` — JSON-able."""
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"serialize expects an rnnlab tokeniser, got {type(tokenizer).__name__}.")
    return {"class_name": type(tokenizer).__name__, "config": tokenizer.get_config()}


def deserialize(spec):
    """Rebuild a tokeniser from ``serialize``'s output (rnnlab's own classes only)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError(f"A tokeniser config must be a dict with 'class_name' and a 'config' dict, "
                         f"got {spec!r:.200}.")
    cls = _CLASSES.get(spec.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown tokeniser class {spec.get('class_name')!r}; expected one of {sorted(_CLASSES)}.")
    try:
        return cls.from_config(dict(spec["config"]))
    except TypeError as e:
        raise ValueError(f"Could not rebuild tokeniser {spec['class_name']!r} from its config: {e}") from None


def get(identifier):
    """A tokeniser from a name (``"english"``, ``"korean"``, ``"korean_syllable"``,
    ``"korean_whitespace"``, ``"whitespace"``), a ``serialize`` dict, or a tokeniser (returned as is)."""
    if isinstance(identifier, Tokenizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    raise ValueError(f"Unknown tokeniser {identifier!r}; expected one of {sorted(_NAMES)}, "
                     "a serialized tokeniser dict, or a Tokenizer instance.")
