"""Array policy for rnnlab: the float type of new weights and the random generator.

Every layer creates its weights in ``floatx()`` (``float32`` unless changed) and casts its
inputs to the dtype of its weights. Gradient checks switch to ``float64``::

    from rnnlab import backend
    backend.set_floatx("float64")

Randomness (initialisers, dropout masks, shuffling) comes from one global
``numpy.random.Generator`` that ``set_random_seed`` resets, so the same seed gives the same
weights and the same training run, bit for bit.
"""
import numpy as np

_FLOATX = "float32"
_ALLOWED = ("float32", "float64")
_RNG = np.random.default_rng()


def floatx():
    """The name of the default float type, ``"float32"`` or ``"float64"``."""
    return _FLOATX


def set_floatx(name):
    """Set the float type of weights created from now on (``"float32"`` or ``"float64"``)."""
    global _FLOATX
    name = np.dtype(name).name if isinstance(name, (type, np.dtype)) else name
    if name not in _ALLOWED:
        raise ValueError(
            f"set_floatx got {name!r}; expected one of {_ALLOWED}. "
            "Use 'float64' for gradient checks and 'float32' (the default) for speed.")
    _FLOATX = name


def dtype():
    """The default float type as a ``numpy.dtype``."""
    return np.dtype(_FLOATX)


def set_random_seed(seed):
    """Reset the global random generator: same seed, same weights, same run."""
    global _RNG
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"set_random_seed got {seed!r}; expected a non-negative integer.")
    _RNG = np.random.default_rng(int(seed))


def rng(seed=None):
    """A generator: a fresh one seeded with ``seed`` if given, else the global one."""
    if seed is None:
        return _RNG
    return np.random.default_rng(seed)
