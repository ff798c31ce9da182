"""Deterministic train/test split, for corpora shipped without one (NSMC's test file only).

Method: a seeded permutation. ``numpy.random.default_rng(seed).permutation(n)`` orders the rows;
the first ``round(n * test_fraction)`` of that order form the test part, the rest the training
part, and each part keeps the original file order. The same ``(n, test_fraction, seed)`` always
gives the same split (NumPy guarantees the PCG64 stream and ``permutation`` for a given seed).
With ``stratify=True`` the same is done per label, so both parts keep the label proportions.

Example::

    texts, labels = load_nsmc("ratings_test.txt.xz")
    (x_train, y_train), (x_test, y_test) = train_test_split(texts, labels, test_fraction=0.2, seed=0)
"""
import numpy as np


def train_test_split(texts, labels, test_fraction=0.2, seed=0, stratify=False):
    """Split ``texts``/``labels`` into ``(train_texts, train_labels), (test_texts, test_labels)``.

    Args:
        texts: a list (or array) of documents.
        labels: labels aligned with ``texts``.
        test_fraction: share of rows in the test part, strictly between 0 and 1.
        seed: non-negative integer seed of the permutation.
        stratify: split each label separately (same proportions in both parts).

    Returns:
        Texts as lists (or arrays, if given arrays) and labels as arrays, in the original order.
    """
    n = len(texts)
    if len(labels) != n:
        raise ValueError(f"train_test_split got {n} texts but {len(labels)} labels; they must align.")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.floating)) \
            or not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split got test_fraction={test_fraction!r}; expected a number strictly "
                         "between 0 and 1, e.g. 0.2.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"train_test_split got seed={seed!r}; expected a non-negative integer.")
    labels = np.asarray(labels)
    rng = np.random.default_rng(int(seed))
    is_test = np.zeros(n, dtype=bool)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)] if stratify else [np.arange(n)]
    for rows in groups:
        order = rows[rng.permutation(len(rows))]
        is_test[order[:int(round(len(rows) * test_fraction))]] = True
    if is_test.all() or not is_test.any():
        raise ValueError(f"train_test_split: test_fraction={test_fraction} of {n} rows leaves one part empty; "
                         "use more rows or another fraction.")
    train_idx, test_idx = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    if isinstance(texts, np.ndarray):
        pick = lambda idx: texts[idx]
    else:
        pick = lambda idx: [texts[i] for i in idx]
    return (pick(train_idx), labels[train_idx]), (pick(test_idx), labels[test_idx])
