"""Vocabulary: the top-k most frequent tokens, each given an integer id.

Seed 004: keep only the most frequent words of the corpus and write each document as the ids of
its words. Ids are assigned as follows:

- id 0 is padding (``pad_sequences`` fills with 0 and ``Embedding(mask_zero=True)`` masks it);
- id 1 is the out-of-vocabulary token: every word not kept maps to it;
- ids 2, 3, ... are the kept tokens by decreasing frequency; equal counts are ordered by the
  token string (Unicode code points), so the same corpus always gives the same ids, whatever
  the order of its documents.

``max_size`` counts every id, the two reserved ones included, so ``Embedding(len(vocab), ...)``
(= ``max_size`` when the corpus has enough distinct tokens) is always the right input size.

Saved as UTF-8 JSON (``{"format": "rnnlab.vocabulary", "version": 1, "tokens": [...], ...}``), written
atomically (temporary file in the same folder, fsync, ``os.replace``): a crash never leaves a
half-written vocabulary in place of a good one.

Example::

    vocab = Vocabulary.build([["a", "good", "movie"], ["a", "bad", "movie"]], max_size=4)
    vocab.tokens                      # ['<pad>', '<unk>', 'a', 'movie']
    vocab.encode(["a", "good", "movie"])   # [2, 1, 3]
    vocab.decode([2, 1, 3, 0])        # ['a', '<unk>', 'movie']
"""
import json
import os
from collections import Counter

import numpy as np

from .json_file import write_json_atomic

FORMAT = "rnnlab.vocabulary"
VERSION = 1
PAD_ID = 0
OOV_ID = 1


class Vocabulary:
    """Token ↔ id mapping with reserved padding (0) and out-of-vocabulary (1) ids.

    Args:
        tokens: the kept tokens in id order, WITHOUT the two reserved ones (id 2 first).
        pad_token, oov_token: the strings shown for ids 0 and 1 by ``decode``.
        counts: optional corpus counts aligned with ``tokens`` (kept for inspection and saving).
    """

    def __init__(self, tokens=(), pad_token="<pad>", oov_token="<unk>", counts=None):
        for arg, v in (("pad_token", pad_token), ("oov_token", oov_token)):
            if not isinstance(v, str):
                raise TypeError(f"Vocabulary {arg} must be a str, got {type(v).__name__}.")
        if pad_token == oov_token:
            raise ValueError(f"Vocabulary pad_token and oov_token must differ, both are {pad_token!r}.")
        tokens = list(tokens)
        self.pad_token, self.oov_token = pad_token, oov_token
        self._itos = [pad_token, oov_token] + tokens
        self._stoi = {}
        for i, t in enumerate(self._itos):
            if not isinstance(t, str):
                raise TypeError(f"Vocabulary tokens must be str, got {type(t).__name__} {t!r:.40} at id {i}.")
            if t in self._stoi:
                raise ValueError(f"Vocabulary token {t!r} appears twice (ids {self._stoi[t]} and {i}); "
                                 "tokens must be unique and differ from pad_token/oov_token.")
            self._stoi[t] = i
        if counts is not None:
            counts = [int(c) for c in counts]
            if len(counts) != len(tokens):
                raise ValueError(f"Vocabulary got {len(counts)} counts for {len(tokens)} tokens; they must align.")
        self.counts = counts

    # ---- building -----------------------------------------------------------------------------

    @classmethod
    def build(cls, token_lists, max_size=None, min_freq=1, pad_token="<pad>", oov_token="<unk>"):
        """Count tokens over ``token_lists`` (an iterable of token lists) and keep the top ones.

        Args:
            max_size: total number of ids including padding and OOV (>= 2), or None for all.
            min_freq: drop tokens seen fewer times than this.
        """
        if max_size is not None and (not isinstance(max_size, (int, np.integer)) or isinstance(max_size, bool)
                                     or max_size < 2):
            raise ValueError(f"Vocabulary.build got max_size={max_size!r}; expected an integer >= 2 (it counts "
                             "the padding id 0 and the out-of-vocabulary id 1) or None for every token.")
        if not isinstance(min_freq, (int, np.integer)) or isinstance(min_freq, bool) or min_freq < 1:
            raise ValueError(f"Vocabulary.build got min_freq={min_freq!r}; expected an integer >= 1.")
        if isinstance(token_lists, str):
            raise TypeError("Vocabulary.build expects an iterable of token lists, got one str; "
                            "tokenise first, e.g. [tokenizer(t) for t in texts].")
        counter = Counter()
        update = counter.update
        for toks in token_lists:
            if isinstance(toks, str):
                raise TypeError(f"Vocabulary.build expects lists of tokens, got the str {toks!r:.40}; "
                                "tokenise each text first.")
            update(toks)
        for reserved in (pad_token, oov_token):
            counter.pop(reserved, None)
        items = sorted((kv for kv in counter.items() if kv[1] >= min_freq), key=lambda kv: (-kv[1], kv[0]))
        if max_size is not None:
            items = items[:max_size - 2]
        return cls([t for t, _ in items], pad_token, oov_token, counts=[c for _, c in items])

    # ---- mapping ------------------------------------------------------------------------------

    def __len__(self):
        return len(self._itos)

    def __contains__(self, token):
        return token in self._stoi

    @property
    def tokens(self):
        """Every token in id order, the reserved ones included."""
        return list(self._itos)

    def token_to_id(self, token):
        return self._stoi.get(token, OOV_ID)

    def id_to_token(self, i):
        return self._itos[self._check_id(i)]

    def _check_id(self, i):
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or not 0 <= i < len(self._itos):
            raise ValueError(f"Vocabulary has ids 0..{len(self._itos) - 1}; got {i!r}.")
        return int(i)

    def encode(self, tokens):
        """Token list → id list (unknown tokens → 1)."""
        if isinstance(tokens, str):
            raise TypeError(f"Vocabulary.encode expects a list of tokens, got the str {tokens!r:.40}; "
                            "tokenise it first (e.g. vocab.encode(tokenizer(text))).")
        get = self._stoi.get
        return [get(t, OOV_ID) for t in tokens]

    def encode_many(self, token_lists):
        """A list of token lists → a list of id lists."""
        return [self.encode(toks) for toks in token_lists]

    def decode(self, ids, skip_padding=True):
        """Id sequence → token list; padding ids are left out unless ``skip_padding=False``."""
        itos = self._itos
        out = []
        for i in np.asarray(ids).ravel().tolist() if not isinstance(ids, list) else ids:
            i = self._check_id(i)
            if i == PAD_ID and skip_padding:
                continue
            out.append(itos[i])
        return out

    # ---- saving -------------------------------------------------------------------------------

    def to_json(self):
        """A JSON-able dict of the vocabulary."""
        return {"format": FORMAT, "version": VERSION, "pad_token": self.pad_token,
                "oov_token": self.oov_token, "tokens": self._itos[2:], "counts": self.counts}

    @classmethod
    def from_json(cls, data, source="<dict>"):
        """Rebuild from ``to_json``'s dict; ``source`` names the file in error messages."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{source} is not an rnnlab vocabulary: expected a JSON object with "
                             f"\"format\": {FORMAT!r}.")
        if data.get("version") != VERSION:
            raise ValueError(f"{source} has vocabulary format version {data.get('version')!r}; this rnnlab "
                             f"reads version {VERSION}.")
        tokens = data.get("tokens")
        if not isinstance(tokens, list):
            raise ValueError(f"{source} is damaged: 'tokens' must be a list of strings.")
        try:
            return cls(tokens, data.get("pad_token", "<pad>"), data.get("oov_token", "<unk>"),
                       counts=data.get("counts"))
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"{source} is damaged: {e}") from None

    def save(self, path):
        """Write UTF-8 JSON atomically (temporary file in the same folder, fsync, ``os.replace``)."""
        write_json_atomic(path, self.to_json(), prefix='.vocab-')

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``; a damaged file raises ValueError naming it."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"Vocabulary file {path!r} does not exist.") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ValueError(f"Vocabulary file {path!r} is damaged: invalid UTF-8 at byte {e.start}.") from None
        except RecursionError:
            raise ValueError(f"Vocabulary file {path!r} is damaged: its JSON is nested too deeply.") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"Vocabulary file {path!r} is damaged: invalid JSON at line {e.lineno}, "
                             f"column {e.colno} ({e.msg}). Rebuild it with Vocabulary.build(...).save(path).") from None
        return cls.from_json(data, source=f"Vocabulary file {path!r}")

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self._itos == other._itos

    def __repr__(self):
        return f"Vocabulary(size={len(self)}, pad_token={self.pad_token!r}, oov_token={self.oov_token!r})"
