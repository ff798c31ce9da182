"""The sentiment task's data: a spec ``KIND:PATH`` -> ``(train_texts, train_labels), (test_texts, test_labels)``.

``imdb:PATH`` (aclImdb folder or .tar.xz) keeps IMDb's own 25k/25k split; ``nsmc:PATH`` (ratings_*.txt[.xz])
and ``csv:PATH`` are split by ``datasets.train_test_split(test_fraction, seed)``, which a saved model stores
so ``rnnlab evaluate`` scores the same held-out part. Example::

    from rnnlab.tasks.sentiment import load_data
    (train_texts, y_train), (test_texts, y_test) = load_data("csv:reviews.csv", test_fraction=0.2, seed=0)
"""
import numpy as np

from ... import datasets
from .config import DATA_KINDS


def parse_data_spec(spec):
    """``"imdb:PATH"`` -> ``("imdb", "PATH")``."""
    kind, sep, path = str(spec).partition(":")
    if not sep or kind not in DATA_KINDS or not path:
        raise ValueError(f"--data got {spec!r}; expected KIND:PATH with KIND one of {DATA_KINDS}, "
                         "e.g. imdb:data/imdb/aclImdb_labeled.tar.xz or nsmc:ratings_test.txt.xz.")
    return kind, path


def load_data(spec, test_fraction=0.2, seed=0, text_column="text", label_column="label", delimiter=",",
              verbose=0):
    """``(train_texts, train_labels), (test_texts, test_labels)`` for a data spec.

    IMDb keeps its own train/test split; NSMC and CSV files are split with
    ``datasets.train_test_split(texts, labels, test_fraction, seed)``. ``text_column``/``label_column``
    (csv only): column names or 0-based indices.
    """
    kind, path = parse_data_spec(spec)
    if kind == "imdb":
        return datasets.load_imdb(path, progress=verbose == 1)
    if kind == "nsmc":
        texts, labels = datasets.load_nsmc(path)
    else:
        texts, labels = datasets.load_csv(path, text_column, label_column, delimiter=delimiter)
    return datasets.train_test_split(texts, labels, test_fraction=test_fraction, seed=seed)


def subset(texts, labels, n, seed):
    """A seeded random ``n`` of the texts and their labels, in their original order (all if ``n`` is None)."""
    if n is None or n >= len(texts):
        return texts, labels
    idx = np.sort(np.random.default_rng(seed).permutation(len(texts))[:n])
    return [texts[i] for i in idx], labels[idx]
