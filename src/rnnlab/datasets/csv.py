"""A generic loader for labelled text in a delimited file (CSV, TSV, ...).

``load_csv(path, text_column, label_column, delimiter=",")`` reads a UTF-8 file (or a ``.xz``/``.gz``/
``.bz2`` copy) with Python's ``csv`` module. Columns are named by header text or by 0-based index.
Labels must be integers in ``[0, num_classes)`` (0/1 by default); anything else is a ValueError naming
the file and line. Use ``quoting=False`` for files whose quotes are plain text (like NSMC).

Example::

    texts, labels = load_csv("reviews.csv", text_column="review", label_column="sentiment")
    texts, labels = load_csv("data.tsv", 1, 2, delimiter="\\t", has_header=False, quoting=False)
"""
import csv
import io

import numpy as np

from ._io import check_path, decode_utf8, read_bytes


def _column_index(column, header, path, what):
    if isinstance(column, bool) or not isinstance(column, (int, np.integer, str)):
        raise TypeError(f"load_csv {what} must be a column name (str) or a 0-based index (int), "
                        f"got {type(column).__name__}.")
    if isinstance(column, str):
        if header is None:
            raise ValueError(f"load_csv got {what}={column!r} but has_header=False; name columns by index.")
        if column not in header:
            raise ValueError(f"{path}, line 1: no column {column!r} in the header {header}.")
        return header.index(column)
    if column < 0:
        raise ValueError(f"load_csv got {what}={column}; expected a 0-based column index >= 0.")
    return int(column)


def load_csv(path, text_column, label_column, delimiter=",", has_header=True, quoting=True, num_classes=2):
    """Load ``(texts, labels)`` from a delimited text file.

    Args:
        path: the file (``.csv``, ``.tsv``, ``.txt`` ..., optionally ``.xz``/``.gz``/``.bz2``).
        text_column, label_column: column names (header text) or 0-based indices.
        delimiter: one character, ``","`` by default (``"\\t"`` for TSV).
        has_header: the first row holds the column names (default True).
        quoting: True: standard CSV quoting (``"a, b"``, ``""`` for a quote); False: quotes are text.
        num_classes: labels must be integers in ``[0, num_classes)``.

    Returns:
        ``(texts, labels)``: a list of str and an ``int64`` array.
    """
    path = check_path(path, "load_csv")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"load_csv got delimiter={delimiter!r}; expected one character such as ',' or '\\t'.")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"load_csv got num_classes={num_classes!r}; expected an integer >= 2.")
    text = decode_utf8(read_bytes(path), path)
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; expected rows of text and label.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE, strict=bool(quoting))
    header = None
    texts, labels = [], []
    try:
        if has_header:
            header = next(reader)
        ti = _column_index(text_column, header, path, "text_column")
        li = _column_index(label_column, header, path, "label_column")
        need = max(ti, li) + 1
        for row in reader:
            lineno = reader.line_num
            if not row:
                continue                                   # blank line
            if len(row) < need or (header is not None and len(row) != len(header)):
                expected = len(header) if header is not None else f"at least {need}"
                raise ValueError(f"{path}, line {lineno}: expected {expected} fields separated by "
                                 f"{delimiter!r}, got {len(row)}: {row!r:.80}.")
            label = row[li].strip()
            if not (label.isdigit() and int(label) < num_classes):
                raise ValueError(f"{path}, line {lineno}: the label must be an integer in [0, {num_classes}), "
                                 f"got {row[li]!r:.20}.")
            texts.append(row[ti])
            labels.append(int(label))
    except csv.Error as e:
        raise ValueError(f"{path}, line {reader.line_num}: malformed CSV ({e}). For files whose quotes are "
                         "plain text pass quoting=False.") from None
    if not texts:
        raise ValueError(f"{path}: no data rows" + (" after the header." if has_header else "."))
    return texts, np.array(labels, dtype=np.int64)
