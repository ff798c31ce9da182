"""Small helpers a Keras user expects: reproducible seeding and one-hot encoding.

Example::

    from rnnlab import utils
    utils.set_random_seed(42)        # same seed + same data -> same weights and losses, bit for bit
    y = utils.to_categorical([0, 2, 1], num_classes=3)
"""
import numpy as np

from . import backend
from .datasets.windows import timeseries_dataset_from_array  # noqa: F401  (keras.utils has it too)
from .models.saving import atomic_write_bytes, atomic_write_text  # noqa: F401  (re-exported for tasks)


def set_random_seed(seed):
    """Seed everything rnnlab draws from: weight initialisers, dropout masks, shuffling in ``fit``."""
    backend.set_random_seed(seed)


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class ids: shape ``y.shape + (num_classes,)``."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical expects integer class ids, got non-integer values.")
        y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: class ids must be in [0, {num_classes}), got values from "
                         f"{int(y.min())} to {int(y.max())}. Increase num_classes.")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out
