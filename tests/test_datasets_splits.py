import numpy as np
import pytest

from rnnlab.datasets import train_test_split

TEXTS = [f"doc{i}" for i in range(103)]
LABELS = np.array([i % 3 == 0 for i in range(103)], dtype=np.int64)


def test_documented_seeded_permutation():
    (xtr, ytr), (xte, yte) = train_test_split(TEXTS, LABELS, test_fraction=0.2, seed=7)
    test_rows = sorted(np.random.default_rng(7).permutation(103)[:21].tolist())   # round(103 * 0.2) = 21
    assert xte == [TEXTS[i] for i in test_rows] and yte.tolist() == LABELS[test_rows].tolist()
    assert len(xtr) == 82 and sorted(xtr + xte, key=lambda s: int(s[3:])) == TEXTS
    train_rows = [int(s[3:]) for s in xtr]
    assert train_rows == sorted(train_rows) and ytr.tolist() == LABELS[train_rows].tolist()


def test_deterministic_and_seed_dependent():
    a = train_test_split(TEXTS, LABELS, seed=0)
    assert a[1][0] == train_test_split(TEXTS, LABELS, seed=0)[1][0]
    assert a[1][0] != train_test_split(TEXTS, LABELS, seed=1)[1][0]


def test_stratified_keeps_proportions_and_arrays_stay_arrays():
    texts = np.array(TEXTS)
    (xtr, ytr), (xte, yte) = train_test_split(texts, LABELS, test_fraction=0.25, seed=3, stratify=True)
    assert isinstance(xte, np.ndarray)
    assert int(yte.sum()) == round(35 * 0.25) and len(yte) == round(35 * 0.25) + round(68 * 0.25)
    assert set(xtr.tolist()).isdisjoint(xte.tolist())


def test_split_errors():
    with pytest.raises(ValueError, match=r"got 103 texts but 2 labels"):
        train_test_split(TEXTS, [0, 1])
    with pytest.raises(ValueError, match=r"test_fraction=1.0; expected a number strictly between 0 and 1"):
        train_test_split(TEXTS, LABELS, test_fraction=1.0)
    with pytest.raises(ValueError, match=r"seed=-1; expected a non-negative integer"):
        train_test_split(TEXTS, LABELS, seed=-1)
    with pytest.raises(ValueError, match=r"leaves one part empty"):
        train_test_split(["a", "b"], [0, 1], test_fraction=0.1)
