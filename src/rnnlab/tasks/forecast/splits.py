"""Chronological splits of one series: training rows, then validation rows, then the test span.

    rows 0 .. valid_start - 1            training: the transforms' statistics and the training windows
    rows valid_start .. test_start - 1   validation: early stopping and interval calibration
    rows test_start .. T - 1             test: the rolling-origin backtest, never seen before it

A window belongs to the split that holds its targets: training targets end before ``valid_start``,
validation targets lie in ``[valid_start, test_start)``; the inputs of a validation or test window may
reach back into earlier splits (they are observed history at that origin).

Example::

    s = Splits.of(T=144, test=24, valid_fraction=0.15)     # valid_start 102, test_start 120
"""
from typing import NamedTuple

import numpy as np


class Splits(NamedTuple):
    T: int
    valid_start: int
    test_start: int

    @classmethod
    def of(cls, T, test, valid_fraction):
        """``test``: a fraction (< 1) of T or a number of rows (>= 1); validation: the last ``valid_fraction`` of
        the rows before the test span."""
        n_test = int(round(test * T)) if test < 1 else int(test)
        if not 0 < n_test < T:
            raise ValueError(f"test={test!r} gives {n_test} test rows for a series of {T}; expected between 1 and "
                             f"{T - 1}.")
        test_start = T - n_test
        valid_start = test_start - max(1, int(round(valid_fraction * test_start)))
        return cls(T, valid_start, test_start)


def origins_between(lo, hi, first, steps_out, stride=1):
    """Origins ``o`` >= ``first`` whose targets ``o .. o + steps_out - 1`` lie in rows ``[lo, hi)``."""
    start = max(lo, first)
    return np.arange(start, hi - steps_out + 1, stride, dtype=np.int64)


def check_room(splits, first, horizon, path):
    """ValueError unless each split holds at least one window (naming the series and what it needs)."""
    train = splits.valid_start - horizon + 1 - first
    valid = splits.test_start - splits.valid_start - horizon + 1
    test = splits.T - splits.test_start - horizon + 1
    if min(train, valid, test) < 1:
        raise ValueError(f"{path}: {splits.T} rows split into training {splits.valid_start}, validation "
                         f"{splits.test_start - splits.valid_start} and test {splits.T - splits.test_start} rows "
                         f"leave {train}, {valid} and {test} windows of input {first} + horizon {horizon}; each needs "
                         "at least 1. Use a shorter input width or horizon, or a longer series.")
