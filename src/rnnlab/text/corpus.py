"""Corpora for language modelling: read a text file, cut it into word or character tokens, map them to ids.

- ``read_text(path)``: the whole UTF-8 text of a file (``.xz``/``.gz``/``.bz2`` decompressed by suffix).
- ``word_tokens(text)``: the published Penn Treebank setup, each line split on whitespace then ``<eos>``.
- ``char_tokens(text)``: one token per Unicode code point (a Hangul syllable is one token; ``"\\n"`` is kept).
- ``load_ptb(directory)``: the three PTB splits as word tokens.
- ``split_text(text)``: the char-rnn / nanoGPT 90/10 split (first 90% train, last 10% valid).
- ``LMVocabulary``: token <-> id for language models, saved as JSON.

Unlike the classification ``Vocabulary``, an ``LMVocabulary`` reserves NO padding id: every id is a
token of the corpus (or one of the ``specials`` asked for), ordered by decreasing frequency.

Example::

    splits = load_ptb("../shared/data/ptb")                    # {"train": [...], "valid": ..., "test": ...}
    vocab = LMVocabulary.build(splits["train"], unk="<unk>")   # 10,000 ids, "the" first
    train_ids = vocab.encode(splits["train"])                  # int32 array of 929,589 ids

    text = read_text("../shared/data/tinyshakespeare/input.txt.xz")
    train_text, valid_text = split_text(text)                  # 1,003,854 + 111,540 characters
    chars = LMVocabulary.build(char_tokens(train_text), level="char")
    chars.encode("ROMEO:")                                     # array([...], dtype=int32)
"""
import json
import os
from collections import Counter

import numpy as np

from ..datasets._io import check_path, read_bytes, split_lines
from .json_file import write_json_atomic

FORMAT = "rnnlab.lm_vocabulary"
VERSION = 1
LEVELS = ("word", "char")
ID_DTYPE = np.int32
PTB_SPLITS = ("train", "valid", "test")


class CorpusFileNotFoundError(FileNotFoundError, ValueError):
    """A corpus file or folder is missing; both a FileNotFoundError and a ValueError."""


# ---- reading --------------------------------------------------------------------------------------


def read_text(path):
    """The whole UTF-8 text of ``path``; ``.xz``, ``.lzma``, ``.gz`` and ``.bz2`` files are decompressed.

    A leading byte-order mark is dropped; line endings are kept as they are. Raises ValueError
    naming the file when it is missing (``CorpusFileNotFoundError``, also a FileNotFoundError), is
    not UTF-8 (with the line number and the byte offset in the decompressed text) or is empty.

    Example::

        text = read_text("../shared/data/tinyshakespeare/input.txt.xz")   # 1,115,394 characters
    """
    try:
        path = check_path(path, "read_text")
    except FileNotFoundError as e:
        raise CorpusFileNotFoundError(str(e)) from None
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        where = " of the decompressed text" if os.path.splitext(path)[1].lower() in (".xz", ".lzma", ".gz", ".bz2") \
            else ""
        raise ValueError(f"{path}, line {line}: not UTF-8 (byte {raw[e.start:e.start + 1]!r} at byte offset "
                         f"{e.start}{where}: {e.reason}). Re-save the corpus as UTF-8, e.g. "
                         "`iconv -f cp949 -t utf-8` for Korean text in the legacy encoding.") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        raise ValueError(f"{path}: the corpus is empty (0 characters after decompression); expected text.")
    return text


# ---- tokens ---------------------------------------------------------------------------------------


def _check_text(text, fn):
    if not isinstance(text, str):
        raise TypeError(f"{fn} expects the text as one str (e.g. read_text(path)), got {type(text).__name__}.")


def word_tokens(text, eos="<eos>"):
    """Word tokens as in the published PTB setup: each line split on whitespace, then ``eos``.

    Every line gets one ``eos`` after its words, a blank line in the middle included (it gives
    ``[eos]`` alone); a newline at the very end of the text does not start another line, so a file
    of N lines gives exactly N ``eos`` tokens (ptb.train.txt: 887,521 words + 42,068 = 929,589).
    ``eos=None`` leaves the line ends out. CRLF endings are handled like LF.

    Example::

        word_tokens(" the cat \\n sat \\n")      # ['the', 'cat', '<eos>', 'sat', '<eos>']
    """
    _check_text(text, "word_tokens")
    if eos is not None and (not isinstance(eos, str) or not eos or eos.split() != [eos]):
        raise ValueError(f"word_tokens got eos={eos!r}; expected a non-empty str without whitespace "
                         "(e.g. '<eos>') or None for no end-of-line token.")
    tokens = []
    extend, append = tokens.extend, tokens.append
    for line in split_lines(text):
        extend(line.split())
        if eos is not None:
            append(eos)
    return tokens


def char_tokens(text):
    """One token per Unicode code point, ``"\\n"`` and spaces included.

    Hangul syllables (U+AC00..U+D7A3) are single code points, so ``"안녕"`` gives two tokens.
    Text in decomposed form (NFD jamo) would give one token per jamo: normalise with
    ``unicodedata.normalize("NFC", text)`` first if the source may be decomposed.

    Example::

        char_tokens("안녕 hi\\n")      # ['안', '녕', ' ', 'h', 'i', '\\n']
    """
    _check_text(text, "char_tokens")
    return list(text)


def load_ptb(directory, eos="<eos>"):
    """Word tokens of Mikolov's Penn Treebank: ``{"train": [...], "valid": [...], "test": [...]}``.

    Each split is read from ``ptb.{split}.txt`` in ``directory``, or from ``ptb.{split}.txt.xz``
    when the plain file is absent, and tokenised with ``word_tokens`` (one ``eos`` per line):
    929,589 / 73,760 / 82,430 tokens. The text already maps rare words to ``<unk>``.

    Example::

        splits = load_ptb("../shared/data/ptb")
        len(splits["train"])        # 929589
    """
    try:
        directory = check_path(directory, "load_ptb")
    except FileNotFoundError as e:
        raise CorpusFileNotFoundError(f"{e} Expected a folder holding ptb.train.txt, ptb.valid.txt and "
                                      "ptb.test.txt (or their .xz copies).") from None
    if not os.path.isdir(directory):
        raise ValueError(f"load_ptb: {directory!r} is a file; expected the folder that holds ptb.train.txt, "
                         "ptb.valid.txt and ptb.test.txt (or their .xz copies).")
    splits = {}
    for split in PTB_SPLITS:
        names = (f"ptb.{split}.txt", f"ptb.{split}.txt.xz")
        found = [os.path.join(directory, n) for n in names if os.path.isfile(os.path.join(directory, n))]
        if not found:
            present = sorted(n for n in os.listdir(directory) if n.startswith("ptb."))
            raise CorpusFileNotFoundError(
                f"load_ptb: the folder {directory!r} has no {names[0]} or {names[1]} (the {split} split); "
                f"its ptb.* files are {present or 'none'}. Point load_ptb at the folder of Mikolov's "
                "simple-examples data (e.g. ../shared/data/ptb).")
        splits[split] = word_tokens(read_text(found[0]), eos=eos)
    return splits


def split_text(text, fractions=(0.9, 0.1)):
    """Cut a text (or any token sequence) into consecutive parts: by default the first 90% and the last 10%.

    The cut points are ``int(len(text) * cumulative_fraction)``, as char-rnn and nanoGPT compute
    them, so Tiny Shakespeare's 1,115,394 characters give 1,003,854 for training and 111,540 for
    validation. A str is cut between code points, never inside a character. Returns a tuple with
    one part per fraction; the fractions must be positive and sum to 1, and no part may be empty.

    Example::

        train, valid = split_text("abcdefghij")              # ('abcdefghi', 'j')
        train, valid, test = split_text(ids, (0.8, 0.1, 0.1))
    """
    try:
        fractions = [float(f) for f in fractions]
    except (TypeError, ValueError):
        raise ValueError(f"split_text got fractions={fractions!r}; expected a sequence of positive numbers "
                         "that sum to 1, e.g. (0.9, 0.1).") from None
    if len(fractions) < 1 or any(not f > 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"split_text got fractions={tuple(fractions)!r}; expected positive numbers that sum "
                         "to 1, e.g. (0.9, 0.1) for the first 90% as training text and the last 10% as validation.")
    n = len(text)
    cuts, total = [0], 0.0
    for f in fractions[:-1]:
        total += f
        cuts.append(int(n * total))
    cuts.append(n)
    parts = tuple(text[a:b] for a, b in zip(cuts[:-1], cuts[1:]))
    empty = [i for i, p in enumerate(parts) if len(p) == 0]
    if empty:
        raise ValueError(f"split_text: a text of length {n} is too short for fractions {tuple(fractions)}: part "
                         f"{empty[0]} would be empty. Use a longer text or larger fractions.")
    return parts


# ---- vocabulary -----------------------------------------------------------------------------------


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _shown(tokens, limit=5):
    shown = ", ".join(repr(t) for t in tokens[:limit])
    return shown + (f", ... ({len(tokens) - limit} more)" if len(tokens) > limit else "")


class LMVocabulary:
    """Token <-> id mapping for language models: ids ``0..len-1``, no padding id.

    Args:
        tokens: every token in id order (unique str).
        unk: the token that unknown tokens map to (it must be one of ``tokens``), or None to make
            an unknown token an error.
        level: ``"word"`` or ``"char"``; a char-level vocabulary also encodes a plain str, one
            token per character. Saved with the vocabulary so a model knows how to tokenise.
        counts: optional corpus counts aligned with ``tokens`` (inspection and saving only).

    Ids are ``int32`` (``ID_DTYPE``); use ``Embedding(len(vocab), ...)`` WITHOUT ``mask_zero``:
    id 0 is a real token (the most frequent one, or the first of ``specials``).

    Example::

        v = LMVocabulary.build(["a", "b", "a", "<eos>"], specials=("<eos>",))
        v.tokens                     # ['<eos>', 'a', 'b']
        v.encode(["b", "a"])         # array([2, 1], dtype=int32)
        v.decode([1, 0])             # ['a', '<eos>']
    """

    def __init__(self, tokens, unk=None, level="word", counts=None):
        if isinstance(tokens, str):
            raise TypeError("LMVocabulary expects a list of tokens, got one str; use LMVocabulary.build(...) "
                            "to count a corpus, or list(text) for characters.")
        if level not in LEVELS:
            raise ValueError(f"LMVocabulary got level={level!r}; expected 'word' or 'char'.")
        tokens = list(tokens)
        stoi = {}
        for i, t in enumerate(tokens):
            if not isinstance(t, str):
                raise TypeError(f"LMVocabulary tokens must be str, got {type(t).__name__} {t!r:.40} at id {i}.")
            if t in stoi:
                raise ValueError(f"LMVocabulary token {t!r} appears twice (ids {stoi[t]} and {i}); "
                                 "every token must be unique.")
            stoi[t] = i
        if not tokens:
            raise ValueError("LMVocabulary got no tokens; build it from a non-empty corpus.")
        if unk is not None and unk not in stoi:
            raise ValueError(f"LMVocabulary unk={unk!r} is not one of its {len(tokens)} tokens; add it to the "
                             "tokens or pass unk=None.")
        if counts is not None:
            if not isinstance(counts, (list, tuple, np.ndarray)) or len(counts) != len(tokens) \
                    or not all(_is_int(c) and c >= 0 for c in counts):
                raise ValueError(f"LMVocabulary counts must be {len(tokens)} non-negative integers aligned with "
                                 "the tokens, or None.")
            counts = [int(c) for c in counts]
        self._itos, self._stoi = tokens, stoi
        self.unk, self.level, self.counts = unk, level, counts

    # ---- building ---------------------------------------------------------------------------------

    @classmethod
    def build(cls, tokens, max_size=None, unk=None, specials=(), level="word"):
        """Count a flat token sequence (e.g. ``load_ptb(d)["train"]``) and give each token an id.

        Ids: ``specials`` first (ids ``0..k-1`` in the order given), then the other tokens by
        decreasing count, equal counts in order of first appearance in ``tokens`` (so the same
        corpus always gives the same ids). ``max_size`` counts every id, specials included.

        ``unk`` (e.g. ``"<unk>"``, which PTB already contains) is always kept: it takes its place by
        count like any token, or, when the corpus lacks it or ``max_size`` would drop it, the last
        id. With ``unk=None`` every token of the corpus must be kept (``max_size`` smaller than the
        number of distinct tokens is an error, since the corpus itself could not be encoded).

        With ``level="char"`` a str is accepted as its characters.
        """
        if level not in LEVELS:
            raise ValueError(f"LMVocabulary.build got level={level!r}; expected 'word' or 'char'.")
        tokens = cls._token_list(tokens, level, "LMVocabulary.build")
        if isinstance(specials, str) or not all(isinstance(s, str) for s in specials):
            raise TypeError(f"LMVocabulary.build got specials={specials!r}; expected a tuple of str, "
                            "e.g. ('<eos>',).")
        specials = list(specials)
        if len(set(specials)) != len(specials):
            raise ValueError(f"LMVocabulary.build got specials={tuple(specials)!r}; each must appear once.")
        if unk is not None and not isinstance(unk, str):
            raise TypeError(f"LMVocabulary.build got unk={unk!r}; expected a str such as '<unk>', or None.")
        reserved = len(specials) + (1 if unk is not None and unk not in specials else 0)
        if max_size is not None and (not _is_int(max_size) or max_size < max(reserved, 1)):
            raise ValueError(f"LMVocabulary.build got max_size={max_size!r}; expected an integer >= "
                             f"{max(reserved, 1)} (it counts every id, the specials and unk included) or None.")
        counter = Counter(tokens)      # insertion order = first appearance; sorted() below is stable
        special_counts = [counter.pop(s, 0) for s in specials]
        if not counter and not specials:
            raise ValueError("LMVocabulary.build got an empty corpus; expected at least one token.")
        ranked = sorted(counter.items(), key=lambda kv: -kv[1])
        room = None if max_size is None else max_size - len(specials)
        kept = ranked if room is None else ranked[:room]
        if unk is not None and unk not in specials and all(t != unk for t, _ in kept):
            entry = (unk, counter.get(unk, 0))
            kept = kept + [entry] if room is None or len(kept) < room else kept[:-1] + [entry]
        dropped = len(counter) - sum(1 for t, _ in kept if t in counter)
        if unk is None and dropped:
            raise ValueError(f"LMVocabulary.build: max_size={max_size} keeps {len(kept)} of the corpus's "
                             f"{len(counter)} distinct tokens, but unk is None, so the {dropped} dropped ones "
                             "could not be encoded. Pass unk='<unk>' to map them, or max_size=None.")
        return cls(specials + [t for t, _ in kept], unk=unk, level=level,
                   counts=special_counts + [c for _, c in kept])

    @staticmethod
    def _token_list(tokens, level, fn):
        if isinstance(tokens, str):
            if level == "char":
                return list(tokens)
            raise TypeError(f"{fn} got one str {tokens!r:.40} for a word-level vocabulary; tokenise it first "
                            "(word_tokens(text)), or use level='char' for characters.")
        if isinstance(tokens, np.ndarray):
            tokens = tokens.tolist()
        tokens = tokens if isinstance(tokens, list) else list(tokens)
        if tokens and not isinstance(tokens[0], str):
            raise TypeError(f"{fn} expects a flat sequence of str tokens, got {type(tokens[0]).__name__} "
                            f"{tokens[0]!r:.40} at position 0; concatenate the documents' tokens into one list.")
        return tokens

    # ---- mapping ----------------------------------------------------------------------------------

    def __len__(self):
        return len(self._itos)

    def __contains__(self, token):
        return token in self._stoi

    def __iter__(self):
        return iter(self._itos)

    @property
    def tokens(self):
        """Every token in id order."""
        return list(self._itos)

    @property
    def unk_id(self):
        """The id of ``unk``, or None when unknown tokens are an error."""
        return None if self.unk is None else self._stoi[self.unk]

    def token_to_id(self, token):
        """The id of ``token``; an unknown token gives ``unk_id``, or ValueError when unk is None."""
        i = self._stoi.get(token, self.unk_id)
        if i is None:
            kind = "character" if self.level == "char" else "token"
            raise ValueError(f"the {kind} {token!r:.40} is not in the vocabulary ({len(self)} {kind}s) and unk "
                             "is None; use only tokens from the training text, or build with unk='<unk>'.")
        return i

    def id_to_token(self, i):
        """The token of id ``i`` (``0 <= i < len(self)``)."""
        if not _is_int(i) or not 0 <= i < len(self._itos):
            raise ValueError(f"LMVocabulary has ids 0..{len(self._itos) - 1}; got {i!r}.")
        return self._itos[int(i)]

    def encode(self, tokens, what="the text"):
        """A token sequence -> 1-D ``int32`` array of ids (a str is its characters at level 'char').

        Unknown tokens map to ``unk``; with ``unk=None`` they raise ValueError listing them (first
        few, each once), how many there are and where the first is. ``what`` names the input in
        that message (e.g. ``"the prompt"``).
        """
        tokens = self._token_list(tokens, self.level, "LMVocabulary.encode")
        get, default = self._stoi.get, self.unk_id
        ids = np.fromiter((get(t, -1 if default is None else default) for t in tokens), dtype=ID_DTYPE,
                          count=len(tokens))
        if default is None and len(ids) and ids.min() < 0:
            self._unknown(tokens, what, np.flatnonzero(ids < 0))
        return ids

    def _unknown(self, tokens, what, where):
        where = where.tolist()
        unknown = list(dict.fromkeys(tokens[i] for i in where))
        kind = "characters" if self.level == "char" else "tokens"
        raise ValueError(
            f"{what} contains {kind} the vocabulary never saw: {_shown(unknown)} ({len(unknown)} distinct, "
            f"{len(where)} in all, the first at position {where[0]}); use only {kind} from the training text, "
            "or build the vocabulary with unk='<unk>' to map unknown ones to it.")

    def decode(self, ids):
        """A 1-D sequence of ids -> list of tokens (``"".join(...)`` gives the text at level 'char')."""
        arr = np.asarray(ids)
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"LMVocabulary.decode expects a 1-D sequence of integer ids, got shape {arr.shape} "
                             f"dtype {arr.dtype}; decode a batch row by row.")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self._itos)):
            bad = arr[(arr < 0) | (arr >= len(self._itos))]
            raise ValueError(f"LMVocabulary has ids 0..{len(self._itos) - 1}; got {bad[0]} (and {bad.size - 1} "
                             "more outside that range). Were the ids made with another vocabulary?")
        itos = self._itos
        return [itos[i] for i in arr.tolist()]

    def check_compatible(self, other, what="the model"):
        """Raise ValueError unless ``other`` (an LMVocabulary, or a vocabulary size) matches this one.

        Sizes must be equal; for a vocabulary the tokens must also be the same in the same order,
        and the level and unk the same. ``what`` names ``other`` in the message.

        Example::

            data_vocab.check_compatible(LMVocabulary.load("model/vocab.json"), "the saved model")
            data_vocab.check_compatible(10000, "the model's Embedding")
        """
        fix = ("Encode the data with the vocabulary saved with the model (LMVocabulary.load), "
               "or train a new model on this vocabulary.")
        if _is_int(other):
            if int(other) != len(self):
                raise ValueError(f"{what} has {int(other)} token ids but this vocabulary has {len(self)}. {fix}")
            return
        if not isinstance(other, LMVocabulary):
            raise TypeError(f"check_compatible expects an LMVocabulary or an integer size, got "
                            f"{type(other).__name__}.")
        if len(other) != len(self):
            raise ValueError(f"{what} has a vocabulary of {len(other)} tokens but this one has {len(self)}. {fix}")
        if other.level != self.level:
            raise ValueError(f"{what} has a {other.level}-level vocabulary but this one is {self.level}-level "
                             f"(both {len(self)} tokens). {fix}")
        if other._itos != self._itos:
            i = next(i for i, (a, b) in enumerate(zip(other._itos, self._itos)) if a != b)
            raise ValueError(f"{what} and this vocabulary both have {len(self)} tokens but differ from id {i} on "
                             f"({other._itos[i]!r} there, {self._itos[i]!r} here). {fix}")
        if other.unk != self.unk:
            raise ValueError(f"{what} maps unknown tokens to {other.unk!r} but this vocabulary to {self.unk!r} "
                             f"(same {len(self)} tokens). {fix}")

    # ---- saving -----------------------------------------------------------------------------------

    def to_dict(self):
        """A JSON-able dict: format, version, level, unk, tokens (id order) and counts."""
        return {"format": FORMAT, "version": VERSION, "level": self.level, "unk": self.unk,
                "tokens": list(self._itos), "counts": self.counts}

    @classmethod
    def from_dict(cls, data, source="the dict"):
        """Rebuild from ``to_dict``'s dict; ``source`` names it in error messages."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{source} is not an rnnlab language-model vocabulary: expected a JSON object with "
                             f"\"format\": {FORMAT!r}.")
        if data.get("version") != VERSION:
            raise ValueError(f"{source} has LM vocabulary format version {data.get('version')!r}; this rnnlab "
                             f"reads version {VERSION}.")
        missing = [k for k in ("level", "unk", "tokens") if k not in data]
        if missing:
            raise ValueError(f"{source} is damaged: missing key(s) {', '.join(map(repr, missing))}; expected "
                             "'level', 'unk' and 'tokens'. Rebuild it with LMVocabulary.build(...).save(path).")
        if not isinstance(data["tokens"], list):
            raise ValueError(f"{source} is damaged: 'tokens' must be a list of strings.")
        try:
            return cls(data["tokens"], unk=data["unk"], level=data["level"], counts=data.get("counts"))
        except (TypeError, ValueError) as e:
            raise ValueError(f"{source} is damaged: {e}") from None

    def save(self, path):
        """Write UTF-8 JSON atomically (temporary file in the same folder, fsync, ``os.replace``)."""
        write_json_atomic(path, self.to_dict(), prefix='.lmvocab-')

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``; a missing or damaged file raises an error naming it."""
        path = os.fspath(path)
        source = f"LM vocabulary file {path!r}"
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise CorpusFileNotFoundError(f"{source} does not exist.") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ValueError(f"{source} is damaged: not UTF-8 (byte offset {e.start}).") from None
        except RecursionError:
            raise ValueError(f"{source} is damaged: its JSON is nested too deeply.") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{source} is not JSON: line {e.lineno}, column {e.colno} ({e.msg}). "
                             "Rebuild it with LMVocabulary.build(...).save(path).") from None
        return cls.from_dict(data, source=source)

    def __eq__(self, other):
        return (isinstance(other, LMVocabulary) and self._itos == other._itos and self.unk == other.unk
                and self.level == other.level)

    __hash__ = None

    def __repr__(self):
        return f"LMVocabulary(size={len(self)}, level={self.level!r}, unk={self.unk!r})"
