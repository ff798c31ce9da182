"""Caption data: the built-in shapes dataset, or (vector, caption) pairs a user supplies, as padded id arrays.

User pairs are two files, row i of the features belonging to line i of the captions::

    features.npy    (N, D) float array, e.g. pooled activations of any image model (never pickled)
    captions.txt    UTF-8, N lines, one caption per line (no empty lines)

Captions are lower-cased and split into words (``tokenize``). With ``<start>`` = 2 and ``<end>`` = 3 in the
vocabulary (0 pads, 1 is unknown), a caption ``w_1 .. w_n`` becomes the teacher-forcing pair::

    decoder input   <start> w_1 ... w_n <pad> ...       (N, T) int64,  T = longest caption + 1
    target          w_1 ... w_n <end>   <pad> ...       (N, T) int64

Example::

    pairs = load_pairs("features.npy", "captions.txt")
    pairs.inputs.shape, len(pairs.captions)              # (N, D), N
    vocab = build_vocabulary(pairs.captions)
    dec_in, target = encode_captions(pairs.captions, vocab, length=12)
"""
import os
import re
from typing import NamedTuple

import numpy as np

from ...text import Vocabulary
from . import shapes

START, END = "<start>", "<end>"
START_ID, END_ID = 2, 3
_WORD = re.compile(r"[\w']+|[^\w\s]")


class Pairs(NamedTuple):
    """Conditioning inputs and their captions: ``inputs`` (N, ...) float32 (images (N, S, S, 3) or vectors
    (N, D)), ``captions`` (list of N str) and ``kind`` ("image" or "vector")."""
    inputs: np.ndarray
    captions: list
    kind: str


def tokenize(caption):
    """Lower-cased words and punctuation marks: ``"A red Circle."`` -> ``['a', 'red', 'circle', '.']``."""
    return _WORD.findall(caption.lower())


def build_vocabulary(captions):
    """A ``Vocabulary`` of every word of ``captions`` (sorted), after ``<pad>``, ``<unk>``, ``<start>``, ``<end>``."""
    words = sorted({w for c in captions for w in tokenize(c)} - {START, END})
    return Vocabulary([START, END] + words)


def check_vocabulary(vocab, where):
    if len(vocab) < 5 or vocab.id_to_token(START_ID) != START or vocab.id_to_token(END_ID) != END:
        raise ValueError(f"{where}: not a caption vocabulary (expected '<start>' at id 2, '<end>' at id 3 and at "
                         "least one word); build it with rnnlab.tasks.caption.data.build_vocabulary.")


def encode_captions(captions, vocab, length):
    """``(decoder_input, target)``, both (N, ``length``) int64, as in the module docstring. Captions longer than
    ``length - 1`` words are cut (their end token is then not seen)."""
    N = len(captions)
    dec_in = np.zeros((N, length), dtype=np.int64)
    target = np.zeros((N, length), dtype=np.int64)
    for i, caption in enumerate(captions):
        ids = vocab.encode(tokenize(caption))[:length - 1]
        dec_in[i, 0], dec_in[i, 1:len(ids) + 1] = START_ID, ids
        target[i, :len(ids)], target[i, len(ids)] = ids, END_ID
    return dec_in, target


def decoder_length(captions):
    """T: the longest caption in words, plus one (for ``<start>``/``<end>``)."""
    return max(len(tokenize(c)) for c in captions) + 1


def builtin(split, n, config):
    """``Pairs`` of ``n`` shapes images of ``split`` ("train", "test", "unseen"), drawn with ``config``'s seed,
    canvas size and object count."""
    images, captions, _ = shapes.make_split(split, n, size=config.image_size, seed=config.seed,
                                            max_objects=config.max_objects)
    return Pairs(images, captions, "image")


def load_features(path, what="features file"):
    """An (N, D) float32 array from a ``.npy`` file; a clear error for a missing file or another shape."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The {what} {path!r} does not exist; pass the .npy file of feature vectors "
                                "(one row per caption), e.g. written by numpy.save.")
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"Could not read the {what} {path!r} as a .npy array ({e}); write it with "
                         "numpy.save(path, array) from a float array.") from None
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number) or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"The {what} {path!r} holds an array of shape {x.shape} and dtype {x.dtype}; expected a "
                         "non-empty numeric (N, D) array, one D-dimensional vector per row.")
    if not np.all(np.isfinite(x)):
        row = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise ValueError(f"The {what} {path!r} has a NaN or infinite value in row {row}; clean the features first.")
    return x.astype(np.float32)


def load_captions(path):
    """The captions of a UTF-8 text file, one per line; an empty line is an error naming the file and line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The captions file {path!r} does not exist; pass a UTF-8 text file with one "
                                "caption per line.")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise ValueError(f"The captions file {path!r} is not UTF-8 text (byte {e.start}); save it as UTF-8.") from None
    for number, line in enumerate(lines, 1):
        if not tokenize(line):
            raise ValueError(f"Line {number} of the captions file {path!r} is empty; every line must be the caption "
                             f"of the vector in row {number - 1} of the features.")
    return lines


def load_pairs(features, captions):
    """``Pairs`` of the vectors in ``features`` (.npy) and the captions in ``captions`` (text, one per line).
    A line count that differs from the number of vectors is an error naming both files and the first line
    without a partner."""
    x = load_features(features)
    lines = load_captions(captions)
    if len(lines) != x.shape[0]:
        if len(lines) < x.shape[0]:
            where = (f"line {len(lines) + 1} (the caption of row {len(lines)}) is missing: the file ends after "
                     f"line {len(lines)}")
        else:
            where = f"line {x.shape[0] + 1} ({lines[x.shape[0]]!r:.60}) has no vector"
        raise ValueError(f"The captions file {os.fspath(captions)!r} has {len(lines)} lines but the features file "
                         f"{os.fspath(features)!r} has {x.shape[0]} vectors; {where}. Line i must caption row "
                         "i - 1 of the features: one line per vector, in the same order.")
    return Pairs(x, lines, "vector")


def split_pairs(pairs, fraction):
    """``(train, held_out)``: the last ``fraction`` of the pairs held out (at least one when fraction > 0)."""
    n = len(pairs.captions)
    k = 0 if fraction == 0 else max(1, int(round(n * fraction)))
    if k >= n:
        raise ValueError(f"{n} pairs cannot be split with valid_fraction={fraction}: nothing would be left to train "
                         "on; give more pairs or a smaller valid_fraction.")
    cut = n - k
    train = Pairs(pairs.inputs[:cut], pairs.captions[:cut], pairs.kind)
    held = Pairs(pairs.inputs[cut:], pairs.captions[cut:], pairs.kind) if k else None
    return train, held
