"""Sliding windows over a time series, with the semantics of ``keras.utils.timeseries_dataset_from_array``.

Window ``i`` starts at position ``p_i = i * sequence_stride`` of ``data[start_index:end_index]`` and takes
``sequence_length`` points ``sampling_rate`` apart; its target is the target at the window's start:

    x_i = data[s + p_i + k * sampling_rate]   for k = 0 .. sequence_length - 1      s = start_index
    y_i = targets[s + p_i]
    number of windows = ceil(n / sequence_stride),  n = (end - s) - (sequence_length - 1) * sampling_rate
                        (n capped at len(targets) when targets are given)

So to predict the value that follows each window, pass ``targets = data[sequence_length:]`` (Keras's
"temporal regression" example): window ``[t, t + L)`` gets target ``data[t + L]``.

Keras returns a ``tf.data.Dataset`` of batches; here it is a ``TimeseriesDataset``: iterating it yields
the same ``(batch_of_sequences, batch_of_targets)`` tuples (or sequences only when ``targets`` is None),
and ``model.fit(dataset)`` / ``evaluate`` / ``predict`` take it directly, with its batch size. With
``shuffle=True`` the windows are shuffled once here (seeded) and ``fit`` reshuffles them every epoch.

Example::

    import numpy as np
    from rnnlab.utils import timeseries_dataset_from_array
    data = np.arange(30)
    ds = timeseries_dataset_from_array(data[:-5], data[5:], sequence_length=5, batch_size=8)
    x, y = next(iter(ds))        # x[0] = [0 1 2 3 4], y[0] = 5; x.shape (8, 5), y.shape (8,)
    len(ds.inputs), len(ds)      # 21 windows ([20 .. 24] -> 25 is the last), 3 batches
"""
import math
import numbers

import numpy as np


def _count(value, name, low=1, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"timeseries_dataset_from_array got {name}={value!r}; expected {what}"
                         f"{' or None' if allow_none else ''}.")
    return int(value)


def window_starts(n_points, sequence_length, sequence_stride=1, sampling_rate=1, n_targets=None):
    """Start positions ``p_i`` of the windows in a span of ``n_points`` (see the module docstring)."""
    n = n_points - (sequence_length - 1) * sampling_rate
    if n_targets is not None:
        n = min(n, n_targets)
    return np.arange(0, max(n, 0), sequence_stride, dtype=np.int64)


class TimeseriesDataset:
    """Windows of a series, batched; what ``timeseries_dataset_from_array`` returns.

    Attributes:
        inputs:     (N, sequence_length, *data.shape[1:]) the windows, in dataset order.
        targets:    (N, *targets.shape[1:]) or None.
        starts:     (N,) each window's first index into ``data``.
        batch_size: samples per batch when iterated or passed to ``fit``.
        shuffle:    whether ``fit`` reshuffles every epoch.
    """

    def __init__(self, inputs, targets, starts, batch_size, shuffle):
        self.inputs, self.targets, self.starts = inputs, targets, starts
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self):
        """The number of batches."""
        return math.ceil(len(self.inputs) / self.batch_size)

    def __iter__(self):
        for lo in range(0, len(self.inputs), self.batch_size):
            x = self.inputs[lo:lo + self.batch_size]
            yield x if self.targets is None else (x, self.targets[lo:lo + self.batch_size])

    def as_arrays(self):
        """``(inputs, targets)``: every window at once (targets None when there are none)."""
        return self.inputs, self.targets

    def __repr__(self):
        return (f"<TimeseriesDataset {len(self.inputs)} windows of shape {self.inputs.shape[1:]}, "
                f"batch_size={self.batch_size}, targets={'none' if self.targets is None else self.targets.shape[1:]}>")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Windows of ``data`` with their ``targets``, as Keras's function of the same name.

    Args:
        data: (T, ...) array, time on axis 0.
        targets: (T', ...) array or None; ``targets[i]`` belongs to the window starting at ``i``.
        sequence_length: points per window.
        sequence_stride: step between consecutive windows' starts.
        sampling_rate: step between the points inside a window.
        batch_size: windows per batch (None: all of them in one batch).
        shuffle, seed: shuffle the windows (repeatably with ``seed``).
        start_index, end_index: use ``data[start_index:end_index]`` only (targets indexed the same way),
            e.g. to keep validation windows out of training.

    Returns:
        a ``TimeseriesDataset`` (iterable of batches, accepted by ``fit``/``evaluate``/``predict``).
    """
    data = np.asarray(data)
    if data.ndim == 0 or data.dtype == object or not (np.issubdtype(data.dtype, np.number) or data.dtype == bool):
        raise ValueError(f"timeseries_dataset_from_array got data of shape {data.shape} and dtype {data.dtype}; "
                         "expected a numeric array with time on axis 0.")
    if targets is not None:
        targets = np.asarray(targets)
        if targets.ndim == 0:
            raise ValueError("timeseries_dataset_from_array got a scalar targets; expected an array with one "
                             "target per time step (targets[i] for the window starting at i) or None.")
    sequence_length = _count(sequence_length, "sequence_length")
    sequence_stride = _count(sequence_stride, "sequence_stride")
    sampling_rate = _count(sampling_rate, "sampling_rate")
    batch_size = _count(batch_size, "batch_size", allow_none=True)
    start = _count(start_index, "start_index", low=0, allow_none=True) or 0
    end = _count(end_index, "end_index", low=0, allow_none=True)
    end = len(data) if end is None else end
    if start >= len(data):
        raise ValueError(f"timeseries_dataset_from_array got start_index={start} for data of length {len(data)}; "
                         "expected start_index < len(data).")
    if not start < end <= len(data):
        raise ValueError(f"timeseries_dataset_from_array got end_index={end_index} with start_index={start} and "
                         f"len(data)={len(data)}; expected start_index < end_index <= len(data).")
    span = end - start
    n_targets = None if targets is None else len(targets) - start
    starts = window_starts(span, sequence_length, sequence_stride, sampling_rate, n_targets)
    if len(starts) == 0:
        raise ValueError(f"timeseries_dataset_from_array: {span} points (start_index={start}, end_index={end}) hold "
                         f"no window of sequence_length={sequence_length} at sampling_rate={sampling_rate} (one "
                         f"needs {(sequence_length - 1) * sampling_rate + 1} points). Use a shorter window or more "
                         "data.")
    if shuffle:
        np.random.default_rng(seed).shuffle(starts)
    offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate          # (L,)
    inputs = data[start + starts[:, None] + offsets[None, :]]                      # (N, L, ...)
    y = None if targets is None else targets[start + starts]                      # (N, ...)
    return TimeseriesDataset(inputs, y, start + starts, batch_size or len(starts), bool(shuffle))
