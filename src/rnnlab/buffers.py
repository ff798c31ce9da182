"""Reused scratch arrays: ``empty(shape, dtype)`` hands back a big array nothing else still holds.

A recurrent training step allocates a dozen arrays of T·N·H or T·N·4H floats (the time-major
input, ``X·W_x``, the states, the gates, their gradients) and frees them a moment later. glibc
returns such big blocks to the kernel, so the next step's arrays start as fresh pages, and the
first write to each 4 KiB page faults, a measurable share of a mid-size training step
(``benchmarks/recurrent_vs_torch.py`` times the steps that use the pool).

``empty`` keeps the big arrays it made (at least ``MIN_BYTES``). Asked again for the same shape
and dtype, it returns one of them whose only owner is the pool itself, i.e. no array, view or
cache anywhere still refers to it (CPython's reference count says so), so reuse can never alias
live data. Otherwise it makes a new one. At most ``MAX_KEPT`` arrays and ``MAX_BYTES`` bytes are
kept (so sequences of ever new shapes cannot pile up memory); the least recently used free ones
are dropped first. ``clear()`` drops them all.

Like ``np.empty``, the contents are arbitrary: a caller writes every element before reading it.
On a free-threaded Python (no GIL) reference counts are not exact, so the pool is off there and
``empty`` is ``np.empty``.

Example::

    from rnnlab import buffers
    A = buffers.empty((T, N, 4 * H), np.float32)     # scratch gates of one forward pass
"""
import sys
import threading

import numpy as np

MIN_BYTES = 1 << 18          # smaller arrays come from malloc's heap and fault nothing
MAX_KEPT = 64                # arrays the pool keeps at most
MAX_BYTES = 1 << 30          # and bytes

_kept = []                   # arrays the pool made, least recently handed out first
_lock = threading.Lock()


_SENTINEL = [np.empty(0)]    # an array only this list refers to: what a free kept array looks like
_POOLING = getattr(sys, "_is_gil_enabled", lambda: True)()   # reference counts are exact only with a GIL


def _refs(a):
    return sys.getrefcount(a)


def _free(i):
    """True when the pool's list is all that refers to ``_kept[i]``. Measured against the sentinel
    in the same way at each call, so a tracer or debugger that adds references shifts both alike."""
    return _refs(_kept[i]) <= _refs(_SENTINEL[0])


def empty(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, reused when a free kept one fits."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if not (_POOLING and MIN_BYTES <= nbytes <= MAX_BYTES):
        return np.empty(shape, dtype)
    with _lock:
        for i in range(len(_kept)):
            if _kept[i].shape == shape and _kept[i].dtype == dtype and _free(i):
                _kept.append(_kept.pop(i))                   # most recently used last
                return _kept[-1]
        a = np.empty(shape, dtype)
        _kept.append(a)
        _shrink()
        return a


def _shrink():
    """Drop the least recently used free arrays (else stop tracking the oldest) while over a limit."""
    while len(_kept) > MAX_KEPT or sum(k.nbytes for k in _kept) > MAX_BYTES:
        for i in range(len(_kept) - 1):
            if _free(i):
                del _kept[i]
                break
        else:
            _kept.pop(0)                                     # all in use: let go of the oldest


def zeros(shape, dtype):
    """``empty`` filled with zeros."""
    a = empty(shape, dtype)
    a.fill(0)
    return a


def clear():
    """Forget every kept array (memory is freed once nothing else refers to them)."""
    with _lock:
        _kept.clear()


def kept():
    """How many arrays the pool keeps (in use or free)."""
    return len(_kept)
