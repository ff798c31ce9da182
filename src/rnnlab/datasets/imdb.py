"""IMDb Large Movie Review Dataset (Maas et al., 2011): the ``aclImdb`` layout, folder or archive.

``load_imdb(path)`` reads either

- the ``aclImdb`` folder (``path`` is that folder, or a folder containing it), or
- its archive ``.tar.xz`` / ``.tar.gz`` / ``.tgz`` / ``.tar.bz2`` / ``.tar``, read as a stream
  (one pass, nothing extracted to disk),

and returns ``(train_texts, train_labels), (test_texts, test_labels)``: lists of ``str`` and
``int64`` arrays (0 = ``neg``, 1 = ``pos``, the folder name). Reviews are read from
``{train,test}/{neg,pos}/<id>_<rating>.txt``; other files (``unsup/``, ``urls_*.txt``, ``imdb.vocab``)
are ignored. The raw text is returned (``<br />``, C1 characters and all): cleaning is the
tokeniser's job.

Order (deterministic, independent of the archive's or the file system's order): within each split,
the ``neg`` reviews by increasing ``<id>``, then the ``pos`` reviews by increasing ``<id>``. Shuffle
before training (``Sequential.fit`` does by default).

Example::

    (x_train, y_train), (x_test, y_test) = load_imdb("data/imdb/aclImdb_labeled.tar.xz")
    len(x_train), y_train.mean()          # (25000, 0.5)
"""
import os
import re
import tarfile

import numpy as np
from tqdm.auto import tqdm

from ._io import _DECOMPRESS_ERRORS, check_path, decode_utf8

_MEMBER = re.compile(r"(?:^|/)(train|test)/(neg|pos)/([^/]+\.txt)$")
_LABELS = {"neg": 0, "pos": 1}
MAX_REVIEW_BYTES = 16 * 2**20      # one review file; the largest in aclImdb is ~14 kB
_ARCHIVE_SUFFIXES = (".tar.xz", ".txz", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar")


def _sort_key(name):
    stem = name[:-4]
    head = stem.split("_", 1)[0]
    return (0, int(head), name) if head.isdigit() else (1, 0, name)


def _collect(records, source):
    """records: iterable of (split, label, filename, text) → the two (texts, labels) pairs."""
    by_split = {"train": [], "test": []}
    for split, label, fname, text in records:
        by_split[split].append((_LABELS[label], _sort_key(fname), text))
    out = []
    for split in ("train", "test"):
        items = by_split[split]
        if not items:
            raise ValueError(f"{source} has no {split} reviews: expected files "
                             f"aclImdb/{split}/{{neg,pos}}/<id>_<rating>.txt. Is it the aclImdb dataset?")
        items.sort(key=lambda r: (r[0], r[1]))
        out.append(([r[2] for r in items], np.array([r[0] for r in items], dtype=np.int64)))
    return tuple(out)


def _read_folder(root, progress):
    inner = os.path.join(root, "aclImdb")
    if os.path.isdir(os.path.join(inner, "train")) or os.path.isdir(os.path.join(inner, "test")):
        root = inner                                  # the folder that contains aclImdb
    files = []
    for split in ("train", "test"):
        for label in ("neg", "pos"):
            folder = os.path.join(root, split, label)
            if os.path.isdir(folder):
                files += [(split, label, f) for f in os.listdir(folder) if f.endswith(".txt")]
    for split, label, fname in tqdm(files, desc="reading IMDb", unit="file", disable=not progress,
                                    mininterval=0.5):
        path = os.path.join(root, split, label, fname)
        if os.path.getsize(path) > MAX_REVIEW_BYTES:
            raise ValueError(f"{path!r} is {os.path.getsize(path)} bytes; a review is at most {MAX_REVIEW_BYTES}. "
                             "Is it the aclImdb dataset?")
        with open(path, "rb") as f:
            yield split, label, fname, decode_utf8(f.read(), path)


def _read_archive(path, progress):
    try:
        with tarfile.open(path, "r|*") as tar:
            bar = tqdm(desc="reading IMDb", unit="file", disable=not progress, mininterval=0.5)
            for member in tar:
                parts = member.name.replace("\\", "/").split("/")
                if member.name.startswith(("/", "\\")) or ".." in parts or (parts[0][1:2] == ":"):
                    raise ValueError(f"{path!r}: archive member {member.name!r:.200} has an absolute path or '..'; "
                                     "refusing the archive (nothing is ever extracted to disk). Is it the aclImdb "
                                     "archive?")
                m = _MEMBER.search(member.name)
                if not (m and member.isfile()):
                    continue
                if member.size > MAX_REVIEW_BYTES:
                    raise ValueError(f"{path!r}: archive member {member.name!r:.200} is {member.size} bytes; a review "
                                     f"is at most {MAX_REVIEW_BYTES}. The archive is damaged or not aclImdb.")
                raw = tar.extractfile(member).read()
                bar.update()
                yield m.group(1), m.group(2), m.group(3), decode_utf8(raw, f"{path}::{member.name}")
            bar.close()
    except (tarfile.TarError, *_DECOMPRESS_ERRORS) as e:
        raise ValueError(f"{path!r} could not be read as a tar archive ({type(e).__name__}: {e}); it is "
                         "truncated or damaged, or not an aclImdb .tar.xz/.tar.gz.") from None


def load_imdb(path, progress=False):
    """Load the labelled IMDb reviews from the ``aclImdb`` folder or its tar archive.

    Args:
        path: the ``aclImdb`` folder, a folder containing it, or its ``.tar.xz``/``.tar.gz`` archive.
        progress: show a tqdm progress bar while reading.

    Returns:
        ``(train_texts, train_labels), (test_texts, test_labels)``; labels are ``int64`` 0/1 arrays.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not an aclImdb layout, a damaged archive, an archive member with an absolute path or
            ``..`` (never extracted anywhere: the archive is read as a stream), a review larger than
            ``MAX_REVIEW_BYTES``, or a review that is not UTF-8 (the message names the file).
    """
    path = check_path(path, "load_imdb")
    if os.path.isdir(path):
        return _collect(_read_folder(path, progress), repr(path))
    if not path.lower().endswith(_ARCHIVE_SUFFIXES):
        raise ValueError(f"load_imdb got the file {path!r}; expected the aclImdb folder or an archive "
                         f"ending in one of {_ARCHIVE_SUFFIXES}.")
    return _collect(_read_archive(path, progress), repr(path))
