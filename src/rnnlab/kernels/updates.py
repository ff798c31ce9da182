"""Compiled optimiser updates: twins of ``sgd_step``, ``adam_step`` and ``sum_squares`` (``rnnlab.optimizers``).

The NumPy updates run several whole-array passes, each writing a temporary as large as the weight
(``w -= lr * g`` is two; Adam's update is about ten). For the big matrices of a task (an embedding or a
softmax over 10-20k words) the update then costs as much as a matrix product. Here each update is one
pass over the elements, in the weight's own precision and in the NumPy update's order of operations, so
the results are the same to the last bit (``tests/test_kernels_updates.py``)::

    SGD    w_i -= lr · g_i
    Adam   m_i += (1 - b1)(g_i - m_i)     v_i += (1 - b2)(g_i² - v_i)     w_i -= α m_i / (√v_i + ε)

``sum_squares`` (Σ g_i², for gradient clipping) accumulates in float64 without the temporary ``g * g``.

A twin declines (``kernels.Decline``) arrays that are not C-contiguous or not all of the weight's
float32/float64 dtype; the NumPy update then runs.

Example::

    from rnnlab.kernels.updates import adam_step
    adam_step(w, g, m, v, alpha, 0.9, 0.999, 1e-7)        # w, m, v updated in place
"""
import numpy as np
from numba import njit

from . import Decline

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _flat(w, *others):
    """Every array raveled (views), or ``Decline`` unless all are C-contiguous, of ``w``'s shape and float dtype."""
    arrays = (w,) + others
    if w.dtype not in _FLOATS or any(not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.dtype == w.dtype
                                          and a.shape == w.shape) for a in arrays):
        raise Decline("the compiled updates take C-contiguous arrays of one float dtype and shape")
    return [a.reshape(-1) for a in arrays]


@njit(cache=True, error_model="numpy")
def _sgd(w, g, lr):
    for i in range(w.shape[0]):
        w[i] -= lr * g[i]


@njit(cache=True, error_model="numpy")
def _adam(w, g, m, v, c1, c2, alpha, eps):
    for i in range(w.shape[0]):
        g_i = g[i]
        m_i = m[i] + c1 * (g_i - m[i])                  # m = b1 m + (1 - b1) g
        v_i = v[i] + c2 * (g_i * g_i - v[i])            # v = b2 v + (1 - b2) g²
        m[i] = m_i
        v[i] = v_i
        w[i] -= alpha * m_i / (np.sqrt(v_i) + eps)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})    # reassociation lets the sum vectorise
def _sum_squares(g):
    s = 0.0
    for i in range(g.shape[0]):
        x = np.float64(g[i])
        s += x * x
    return s


def sgd_step(w, g, lr):
    """Compiled ``optimizers.sgd_step``: ``w -= lr · g`` in one pass."""
    w1, g1 = _flat(w, g)
    _sgd(w1, g1, w.dtype.type(lr))


def adam_step(w, g, m, v, alpha, beta_1, beta_2, epsilon):
    """Compiled ``optimizers.adam_step``: Adam's moments and weight update in one pass."""
    w1, g1, m1, v1 = _flat(w, g, m, v)
    f = w.dtype.type
    _adam(w1, g1, m1, v1, f(1.0 - beta_1), f(1.0 - beta_2), f(alpha), f(epsilon))


def sum_squares(g):
    """Compiled ``optimizers.sum_squares``: Σ g², accumulated in float64."""
    if not (isinstance(g, np.ndarray) and g.dtype in _FLOATS and g.flags.c_contiguous):
        raise Decline("the compiled sum of squares takes a C-contiguous float32/float64 array")
    return float(_sum_squares(g.reshape(-1)))
