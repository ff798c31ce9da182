"""Language-model corpora from a data spec: ``ptb:DIR`` (Mikolov's Penn Treebank, its own train/valid/test)
or ``text:FILE`` (any UTF-8 text, word or character level; the last part held out for validation).

Example::

    corpus = load_corpus("ptb:../shared/data/ptb", level="word")
    len(corpus.vocab), corpus.train.shape           # 10000, (929589,)
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ...text import LMVocabulary, char_tokens, load_ptb, read_text, split_text, word_tokens

KINDS = ("ptb", "text")


@dataclass
class Corpus:
    """Token ids of each split (1-D int32 arrays) and the vocabulary that made them."""
    vocab: LMVocabulary
    train: np.ndarray
    valid: np.ndarray
    test: Optional[np.ndarray] = None


def parse_data_spec(spec):
    """``"ptb:DIR"`` / ``"text:FILE"`` -> ``(kind, path)``, or a ValueError saying what is expected."""
    kind, sep, path = str(spec).partition(":")
    if not sep or kind not in KINDS or not path:
        raise ValueError(f"--data got {spec!r}; expected ptb:DIR (the folder of ptb.train.txt[.xz] ...) or "
                         "text:FILE (any UTF-8 text, optionally .xz/.gz/.bz2).")
    if not Path(path).exists():
        raise ValueError(f"--data {spec!r}: {path!r} does not exist.")
    return kind, path


def tokens_of(text, level):
    return word_tokens(text) if level == "word" else char_tokens(text)


def load_corpus(spec, level="word", max_vocab=None, valid_fraction=0.1, vocab=None):
    """Read ``spec`` into a ``Corpus``; with ``vocab`` (a trained model's) the text is encoded with it and a
    mismatch is an error naming both."""
    kind, path = parse_data_spec(spec)
    if kind == "ptb":
        if level != "word":
            raise ValueError(f"--data {spec!r} is the word-level Penn Treebank; use --level word with it (or a "
                             "text:FILE corpus for characters).")
        splits = load_ptb(path)
        train, valid, test = splits["train"], splits["valid"], splits["test"]
        unk = "<unk>"
    else:
        text = read_text(path)
        train_text, valid_text = split_text(text, (1.0 - valid_fraction, valid_fraction))
        train, valid, test = tokens_of(train_text, level), tokens_of(valid_text, level), None
        unk = "<unk>" if (level == "word" and max_vocab) else None
    if vocab is None:
        vocab = LMVocabulary.build(train, max_size=max_vocab, unk=unk, level=level)
    elif vocab.level != level:
        raise ValueError(f"The model was trained on {vocab.level}-level tokens, but --level {level} was asked for "
                         f"{spec!r}; use --level {vocab.level}.")
    encode = lambda toks, what: None if toks is None else vocab.encode(toks, what=what)   # noqa: E731
    return Corpus(vocab, encode(train, f"the training part of {path}"), encode(valid, f"the validation part of "
                  f"{path}"), encode(test, f"the test part of {path}"))
