"""Weight initialisers with Keras's names and formulas.

- ``glorot_uniform``: U(-l, l), l = sqrt(6 / (fan_in + fan_out))  (Keras's default kernel)
- ``orthogonal``: Q of the QR decomposition of a normal matrix, sign-corrected
  (Keras's default recurrent kernel; keeps ||h W_h|| = ||h|| at the start of training)
- ``zeros``, ``ones``, ``uniform`` (U(-0.05, 0.05), Keras's Embedding default), ``normal``,
  ``he_uniform``, ``glorot_normal``.

For a 2-D shape ``(fan_in, fan_out)``; for Conv1D kernels ``(k, in, out)`` the receptive field
multiplies both fans, as in Keras.
"""
import numpy as np

from . import backend


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(shape, rng):
    return np.zeros(shape)


def ones(shape, rng):
    return np.ones(shape)


def uniform(shape, rng):
    return rng.uniform(-0.05, 0.05, size=shape)


def normal(shape, rng):
    return rng.normal(0.0, 0.05, size=shape)


def glorot_uniform(shape, rng):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def glorot_normal(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def he_uniform(shape, rng):
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)


def orthogonal(shape, rng):
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    a = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))                    # make the decomposition unique
    if rows < cols:
        q = q.T
    return q[:rows, :cols].reshape(shape)


_INITIALIZERS = {f.__name__: f for f in
                 (zeros, ones, uniform, normal, glorot_uniform, glorot_normal, he_uniform, orthogonal)}


def get(name):
    """Return an initialiser ``f(shape, rng) -> ndarray`` by name, or a callable as is."""
    if callable(name):
        return name
    if not isinstance(name, str) or name not in _INITIALIZERS:
        raise ValueError(f"Unknown initializer {name!r}; expected one of {sorted(_INITIALIZERS)} "
                         "or a callable f(shape, rng).")
    return _INITIALIZERS[name]


def initialize(name, shape, seed=None):
    """Draw an array of ``shape`` in ``backend.floatx()`` with the named initialiser."""
    return np.asarray(get(name)(tuple(shape), backend.rng(seed)), dtype=backend.dtype())
