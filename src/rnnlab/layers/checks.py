"""Argument checks shared by the layers: each error names the layer, what was given and what was expected.

Example::

    from rnnlab.layers import checks
    checks.positive_int(16, "units", "LSTM")           # 16
    checks.rate(0.5, "dropout", "LSTM")                # 0.5
"""
import numpy as np


def positive_int(value, what, cls_name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{cls_name} expects a positive integer {what!r}, got {value!r}.")
    return int(value)

def rate(value, what, cls_name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{cls_name} expects {what} to be a fraction in [0, 1), got {value!r}.")
    return float(value)

def check_states(layer, states, N, what="initial_state"):
    """A list of (N, H) arrays in the layer's dtype (zeros when ``states`` is None)."""
    cell = getattr(layer, "cell", layer)          # an RNN layer or a cell itself
    sizes = cell.state_size
    if states is None:
        return cell.get_initial_state(N)
    if isinstance(states, np.ndarray):
        states = [states]
    if not isinstance(states, (list, tuple)):
        raise TypeError(f"Layer {layer.name!r}: {what} must be a list of arrays, got {type(states).__name__}.")
    expected = [(N, H) for H in sizes]
    if len(states) != len(sizes):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects {len(sizes)} {what} array(s) "
            f"[{', '.join(cell.state_names)}] of shapes {expected}, got {len(states)}.")
    out = []
    for name, s, shape in zip(cell.state_names, states, expected):
        s = layer._to_array(s, what)
        if s.shape != shape:
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): {what} {name!r} must have shape "
                             f"{shape} (batch, units), got {s.shape}.")
        out.append(s)
    return out

def check_grad(layer, grad, shape, what):
    """``grad`` as an array of ``shape`` in the layer's dtype (None stays None), or a clear error."""
    if grad is None:
        return None
    g = layer._to_array(grad, f"the gradient of the {what}")
    if g.shape != shape:
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): backward got a gradient of shape {g.shape} "
                         f"for the {what}, which has shape {shape}.")
    return g

def flag(value, what, cls_name):
    """``value`` as a bool: True/False (NumPy's too) or 0/1; anything else (``"no"``, None, 2) is refused
    rather than read by its truthiness."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{cls_name} expects {what} to be True or False, got {value!r}.")

def initializer(value, what, cls_name):
    """``value`` if it names an initialiser (or is a callable), else a ValueError listing the names."""
    from .. import initializers
    try:
        initializers.get(value)
    except ValueError:
        raise ValueError(f"{cls_name} got {what}={value!r}; expected one of "
                         f"{sorted(initializers._INITIALIZERS)} or a callable f(shape, rng).") from None
    return value
