"""A weight budget for loading: while a saved model is rebuilt, its layers may create only as many bytes of
weights as its weights file can back, so a hostile config cannot make the loader allocate terabytes.

Example::

    with weight_budget(2 * data_bytes, "the weights file 'm/model.safetensors'"):
        model = build_from_config(config)        # a layer asking for more raises ValueError first
"""
import contextlib
import contextvars

import numpy as np

_BUDGET = contextvars.ContextVar("rnnlab_weight_budget", default=None)


@contextlib.contextmanager
def weight_budget(nbytes, source):
    """Inside this block, layers may create at most ``nbytes`` bytes of weights in all; one that would go past
    raises ValueError before allocating (``load_model`` bounds a config's sizes by its weights file)."""
    token = _BUDGET.set([int(nbytes), source])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def active():
    """True while a ``weight_budget`` block is open (a saved model is being rebuilt)."""
    return _BUDGET.get() is not None


def spend(layer, name, shape):
    """Take the bytes of ``layer``'s weight ``name`` of ``shape`` from the open budget (none open: nothing)."""
    budget = _BUDGET.get()
    if budget is None:
        return
    try:
        count = 1
        for d in shape:
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
                raise ValueError(f"Layer {layer.name!r} got weight {name!r} of shape {tuple(shape)}; expected "
                                 "non-negative integer sizes.")
            count *= int(d)
    except TypeError:
        raise ValueError(f"Layer {layer.name!r} got weight {name!r} of shape {shape!r}; expected a tuple of "
                         "sizes.") from None
    nbytes = count * layer.dtype.itemsize
    if nbytes > budget[0]:
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) would need {nbytes} bytes for weight "
                         f"{name!r} of shape {tuple(int(d) for d in shape)}, more than {budget[1]} can hold; the "
                         "config's sizes do not match its weights (damaged or hostile file).")
    budget[0] -= nbytes
