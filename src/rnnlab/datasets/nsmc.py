"""Naver Sentiment Movie Corpus (NSMC): tab-separated ``id\\tdocument\\tlabel`` with a header.

``load_nsmc(path)`` reads ``ratings_*.txt`` or a compressed copy (``.xz``, ``.gz``, ``.bz2``):

- quoting is OFF: a field is everything between two tabs. 233 documents of the test split start
  with ``"`` and contain ``""`` (CSV-style quotes that are part of the raw text); they are kept
  verbatim, never unquoted;
- empty documents are kept as ``""`` (3 in the test split);
- every row must have exactly 3 fields and a label ``0`` or ``1``; otherwise ValueError naming the
  file and the line number. Invalid UTF-8 and an empty file are errors too.

Only the 50,000-review test split is available in ``../shared/data``; make train/test parts with
``rnnlab.datasets.train_test_split``.

Example::

    texts, labels = load_nsmc("data/nsmc/ratings_test.txt.xz")
    ids, texts, labels = load_nsmc("ratings_test.txt", return_ids=True)
"""
import numpy as np

from ._io import check_path, decode_utf8, read_bytes, split_lines

HEADER = ("id", "document", "label")


def load_nsmc(path, return_ids=False):
    """Load an NSMC-format TSV file.

    Args:
        path: ``ratings_test.txt``, ``ratings_train.txt`` or a ``.xz``/``.gz``/``.bz2`` copy.
        return_ids: also return the review ids (list of str), first.

    Returns:
        ``(texts, labels)`` or ``(ids, texts, labels)``; ``labels`` is an ``int64`` 0/1 array.
    """
    path = check_path(path, "load_nsmc")
    lines = split_lines(decode_utf8(read_bytes(path), path))
    if not lines:
        raise ValueError(f"{path}: the file is empty; expected the header 'id\\tdocument\\tlabel' and rows.")
    header = tuple(lines[0].split("\t"))
    if header != HEADER:
        raise ValueError(f"{path}, line 1: expected the header 'id\\tdocument\\tlabel', got {lines[0]!r:.80}. "
                         "Is this an NSMC file (tab-separated)?")
    ids, texts, labels = [], [], []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(f"{path}, line {lineno}: expected 3 tab-separated fields (id, document, label), "
                             f"got {len(fields)}: {line!r:.80}.")
        rid, doc, label = fields
        if label not in ("0", "1"):
            raise ValueError(f"{path}, line {lineno}: the label must be 0 or 1, got {label!r:.20}.")
        ids.append(rid)
        texts.append(doc)
        labels.append(label == "1")
    if not texts:
        raise ValueError(f"{path}: the file has a header but no rows.")
    labels = np.array(labels, dtype=np.int64)
    return (ids, texts, labels) if return_ids else (texts, labels)
