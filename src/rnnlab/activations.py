"""Activation functions with the derivatives the hand-written backward passes need.

Each activation ``f`` is a pair ``(forward, backward)``:

    a = forward(z)                 # the activation
    dz = backward(da, a, z)        # da * f'(z), written in terms of the output a where possible

``softmax`` on the last axis: ``dz = a * (da - sum(da * a, axis=-1))``.
"""
import numpy as np


def linear(z):
    return z


def linear_backward(da, a, z):
    return da


def tanh(z):
    return np.tanh(z)


def tanh_backward(da, a, z):
    return da * (1.0 - a * a)                      # tanh' = 1 - tanh^2


def sigmoid(z):
    # 0.5 * (1 + tanh(z/2)) is sigmoid without overflow for large |z|
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_backward(da, a, z):
    return da * a * (1.0 - a)                      # sigma' = sigma (1 - sigma)


def hard_sigmoid(z):
    # Keras 3: relu6(z + 3) / 6
    return np.clip(z / 6.0 + 0.5, 0.0, 1.0)


def hard_sigmoid_backward(da, a, z):
    return da * ((z > -3.0) & (z < 3.0)) / 6.0


def relu(z):
    return np.maximum(z, 0)


def relu_backward(da, a, z):
    return da * (z > 0)


def softmax(z, out=None):
    """``exp(z - max z) / sum exp(z - max z)`` over the last axis; ``out`` receives it (may be ``z``)."""
    e = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward(da, a, z):
    return a * (da - (da * a).sum(axis=-1, keepdims=True))


_ACTIVATIONS = {
    "linear": (linear, linear_backward),
    "tanh": (tanh, tanh_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_backward),
    "relu": (relu, relu_backward),
    "softmax": (softmax, softmax_backward),
}


def get(name):
    """Return ``(forward, backward)`` for an activation name (``None`` means ``"linear"``)."""
    if name is None:
        name = "linear"
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)} (or None for linear).")
    return _ACTIVATIONS[name]


def names():
    return sorted(_ACTIVATIONS)
