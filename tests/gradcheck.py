"""Finite-difference gradient checking shared by the tests.

The loss is ``L = sum(out * R)`` with a fixed random ``R`` per output, so ``dL/dout = R``.
Derivatives are central differences in float64: ``(L(w + eps) - L(w - eps)) / (2 eps)``.
"""
import numpy as np


def rel_error(analytic, numeric):
    """max |a - n| / max(|a| + |n|): scale-free, 0 for identical arrays."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    denom = max(np.max(np.abs(a) + np.abs(n)), 1e-12)
    return float(np.max(np.abs(a - n)) / denom)


def numeric_grad(loss_fn, array, eps=1e-6):
    """d loss_fn() / d array by central differences, perturbing ``array`` in place."""
    grad = np.zeros_like(array, dtype=np.float64)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = loss_fn()
        flat[i] = old - eps
        minus = loss_fn()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def projections(outputs, seed=0):
    """One random projection R per output array (list in, list out)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(o)) for o in outputs]


def projected_loss(outputs, Rs):
    return float(sum(np.sum(o * R) for o, R in zip(outputs, Rs)))
