"""Checks of the data given to ``fit``/``evaluate``/``predict``: one array (or a list of arrays for a
model with several inputs), numeric, finite, with a batch axis, x and y of one length.

Example::

    from rnnlab.models import data
    x = data.as_array([[1, 2], [3, 4]], "x")          # np.ndarray (2, 2)
    data.take([x, x], slice(0, 1))                    # the first sample of each input
"""
import numpy as np


def as_array(a, what):
    """``a`` as one numeric, finite array with a batch axis, or a TypeError/ValueError naming ``what``."""
    if isinstance(a, (list, tuple)) and a and isinstance(a[0], np.ndarray) and len({x.ndim for x in a}) > 1:
        raise TypeError(f"{what} is a list of arrays of different ranks; pass one array (or pad sequences "
                        "to one length first).")
    try:
        arr = np.asarray(a)
    except ValueError as e:                       # ragged nested lists
        raise TypeError(f"{what} could not be turned into one array ({e}). Sequences of different lengths "
                        "must be padded to one length first (e.g. rnnlab.text.pad_sequences).") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}. Tokenise text to "
                        "integer ids and pad it to one length first.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what} must be real numbers, got an array of dtype {arr.dtype}; pass the real and "
                        "imaginary parts as separate features (np.stack([z.real, z.imag], -1)).")
    if arr.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar.")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{what} contains NaN or infinite values (first at index {tuple(bad.tolist())}). "
                         "Clean or impute the data before training.")
    return arr


def check_x(x, what="x", multi_input=False):
    """``x`` checked: one array, or (``multi_input``) a list of arrays, each checked."""
    if x is None:
        raise ValueError(f"{what} is None; pass the input data.")
    if isinstance(x, dict):
        return {k: as_array(a, f"{what}[{k!r}]") for k, a in x.items()}
    if isinstance(x, (list, tuple)) and x and all(isinstance(a, np.ndarray) for a in x) and multi_input:
        return [as_array(a, f"{what}[{i}]") for i, a in enumerate(x)]
    return as_array(x, what)


def n_samples(x):
    """The batch size of ``x`` (an array, a list of arrays or a dict of arrays)."""
    if isinstance(x, dict):
        return len(next(iter(x.values())))
    return len(x[0]) if isinstance(x, list) else len(x)


def take(x, idx):
    """Samples ``idx`` of ``x`` (an array, a list of arrays or a dict of arrays)."""
    if isinstance(x, dict):
        return {k: a[idx] for k, a in x.items()}
    return [a[idx] for a in x] if isinstance(x, list) else x[idx]


def check_y(y, what, output_names=None):
    """``y`` checked: one array, or (several outputs) a list aligned with ``output_names`` or a dict by name."""
    label = "y" if what == "fit" else f"{what} y"
    if y is None:
        raise ValueError(f"{what}() needs targets y; got y=None.")
    if output_names is None or len(output_names) == 1:
        if isinstance(y, dict) and output_names and set(y) == set(output_names):
            y = y[output_names[0]]
        return as_array(y, label)
    K = len(output_names)
    if isinstance(y, dict):
        missing = [n for n in output_names if n not in y]
        unknown = sorted(set(y) - set(output_names))
        if missing or unknown:
            raise ValueError(f"{what}(): y is a dict, so it needs one array per output {output_names}; missing "
                             f"{missing}, unknown {unknown}.")
        y = [y[n] for n in output_names]
    if not isinstance(y, (list, tuple)) or len(y) != K:
        got = f"a list of {len(y)}" if isinstance(y, (list, tuple)) else type(y).__name__
        raise ValueError(f"{what}(): the model has {K} outputs {output_names}, so y must be a list of {K} arrays "
                         f"(or a dict by output name), got {got}.")
    ys = [as_array(t, f"{label}[{k}]") for k, t in enumerate(y)]
    if len({len(t) for t in ys}) > 1:
        raise ValueError(f"{what}(): the target arrays have different numbers of samples "
                         f"{[len(t) for t in ys]}; they must all have the same length (first axis).")
    return ys


def check_xy(x, y, what, multi_input=False, output_names=None):
    """``(x, y)`` checked for ``what`` ("fit", "evaluate", ...): same number of samples, not empty."""
    x = check_x(x, "x" if what == "fit" else f"{what} x", multi_input)
    y = check_y(y, what, output_names)
    if n_samples(x) != n_samples(y):
        raise ValueError(f"{what}(): x has {n_samples(x)} samples but y has {n_samples(y)}; "
                         "they must have the same length (first axis).")
    if n_samples(y) == 0:
        raise ValueError(f"{what}() got empty data (0 samples).")
    return x, y


def from_dataset(x, y, batch_size, what):
    """``(x, y, batch_size)``, unpacking a dataset object (one with ``as_arrays()`` and ``batch_size``, such as
    ``timeseries_dataset_from_array``'s) passed as ``x``: its arrays and its batch size. As in Keras, a dataset
    carries its own targets, so ``y`` must then be None."""
    if not hasattr(x, "as_arrays"):
        return x, y, batch_size
    if y is not None:
        raise ValueError(f"{what}() got a dataset as x and also y; a dataset carries its own targets, so pass "
                         "y=None (or pass arrays for both).")
    x_arrays, y_arrays = x.as_arrays()
    return x_arrays, y_arrays, x.batch_size


def check_batch_size(batch_size):
    """``batch_size`` as a positive int, or a ValueError."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)
