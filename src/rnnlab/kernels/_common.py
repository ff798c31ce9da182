"""Scalar helpers for the compiled loops (numba only) and the twins' argument checks.

``tanh(x)``, ``sigmoid(x)`` and ``scalar(arr, v)`` are resolved at compile time by argument type:

- float32: ``tanh`` is an odd rational function ``x·P(x²)/Q(x²)`` on ``|x| <= 7.9053`` (clamped
  beyond, where float32 tanh is ±1 to within an ulp): pure arithmetic, so loops over it vectorise.
  Max relative error 3.5e-7 against float64 tanh (checked in tests/test_kernels.py).
- float64: the C library's ``tanh``, matching NumPy to ~1e-16.
- ``sigmoid(z) = (1 + tanh(z/2)) / 2``, the same formula as ``activations.sigmoid``.
- ``scalar(arr, v)``: ``v`` in ``arr``'s float type, so float32 loops never widen to float64.

``carry_step`` is the backward step's mask fix-up every cell shares. ``check_forward`` /
``check_backward`` raise ``Decline`` for a call the compiled loops do not take (``check_backward``
also for ``dh_out``, the per-step record of dL/dh_t that only the NumPy loops write).
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .. import activations
from . import Decline

# tanh(x) ≈ x · (a1 + a3 x² + ... + a13 x¹²) / (b0 + b2 x² + b4 x⁴ + b6 x⁶) for |x| <= CLAMP
_A = [np.float32(v) for v in (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
                              5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
                              -2.76076847742355e-16)]
_B = [np.float32(v) for v in (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                              1.19825839466702e-06)]
A1, A3, A5, A7, A9, A11, A13 = _A
B0, B2, B4, B6 = _B
CLAMP = np.float32(7.90531110763549805)


@njit(inline="always", cache=True, error_model="numpy")
def _tanh32(x):
    x = min(max(x, -CLAMP), CLAMP)
    x2 = x * x
    p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x
    q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0
    return p / q


def tanh(x):
    return math.tanh(x)


@overload(tanh, inline="always")
def _tanh_overload(x):
    if x == types.float32:
        return lambda x: _tanh32(x)
    return lambda x: math.tanh(x)


def sigmoid(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))


@overload(sigmoid, inline="always")
def _sigmoid_overload(x):
    if x == types.float32:
        half, one = np.float32(0.5), np.float32(1.0)
        return lambda x: half * (one + _tanh32(half * x))
    return lambda x: 0.5 * (1.0 + math.tanh(0.5 * x))


def scalar(arr, v):
    return arr.dtype.type(v)


@overload(scalar, inline="always")
def _scalar_overload(arr, v):
    if arr.dtype == types.float32:
        return lambda arr, v: np.float32(v)
    return lambda arr, v: np.float64(v)


@njit(cache=True, error_model="numpy")
def carry_step(t, dh, carry, mask):
    """Masked rows of step t: dh_{t-1} is the carried dh_t + dy_t, not the product's."""
    for n in range(dh.shape[0]):
        if not mask[t, n]:
            for j in range(dh.shape[1]):
                dh[n, j] = carry[n, j]


# ---- argument checks of the Python twins ----------------------------------------------------------

_NO_MASK = np.zeros((0, 0), dtype=bool)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_forward(XW, f=activations.tanh, g=activations.sigmoid, **options):
    """Raise ``Decline`` unless a forward call can take the compiled path: ``XW`` a C-contiguous
    (T, N, G) float32/float64 array, the default activations, and every option in ``options``
    (``rec_mask``, ``norm``, ``cell_norm``) None. Returns ``XW.dtype``."""
    if not (isinstance(XW, np.ndarray) and XW.ndim == 3 and XW.dtype in _FLOATS and XW.flags.c_contiguous):
        raise Decline("the compiled loops take a C-contiguous (T, N, G) float32/float64 XW")
    _check_options(f is activations.tanh and g is activations.sigmoid, options)
    return XW.dtype


def check_backward(dH, f_backward=activations.tanh_backward, g_backward=activations.sigmoid_backward,
                   **options):
    """``check_forward`` for a backward call: ``dH`` (T, N, H) float32/float64 (any layout, it is
    made contiguous), the default activations' backward functions, no options. Returns its dtype."""
    if not (isinstance(dH, np.ndarray) and dH.ndim == 3 and dH.dtype in _FLOATS):
        raise Decline("the compiled loops take a (T, N, H) float32/float64 dH")
    _check_options(f_backward is activations.tanh_backward and g_backward is activations.sigmoid_backward,
                   options)
    return dH.dtype


def _check_options(default_activations, options):
    if not default_activations:
        raise Decline("the compiled loops use tanh and sigmoid only")
    for name, value in options.items():
        if value is not None:
            raise Decline(f"the compiled loops do not take {name}=")


def as_c(a, dtype):
    """``a`` as a C-contiguous array of ``dtype`` (no copy when it already is one)."""
    return np.ascontiguousarray(a, dtype=dtype)


def mask_args(mask, T, N):
    """``(mask (T, N) bool C-contiguous, has_mask)``; a (0, 0) placeholder when there is none."""
    if mask is None:
        return _NO_MASK, False
    return np.ascontiguousarray(mask, dtype=bool).reshape(T, N), True


def bias_arg(b, G, dtype):
    """The bias as a C-contiguous (G,) array of ``dtype``; zeros when ``b`` is None."""
    return np.zeros(G, dtype=dtype) if b is None else as_c(b, dtype).reshape(G)
