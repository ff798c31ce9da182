"""``Lambda``: refused, with the way to do it instead.

Keras's ``Lambda(fn)`` wraps any Python function as a layer and lets automatic differentiation find
its gradient. rnnlab has no automatic differentiation: every layer's backward pass is written by
hand, so an arbitrary function cannot be backpropagated. ``Lambda(...)`` raises a TypeError that
says how to write the same thing as a small custom layer (or which built-in layer already does it).
"""
from .base import Layer

HOW_TO = '''rnnlab cannot backpropagate through an arbitrary Python function: every layer writes its backward pass
by hand. Use a built-in layer if one does it (Add, Subtract, Multiply, Average, Maximum, Concatenate, Dot,
Activation, Reshape, Permute, RepeatVector), or write a custom layer:

    class Scale(layers.Layer):
        def forward(self, x, training=False, mask=None):
            self._save(x=x)                 # what backward needs
            return 2.0 * x
        def backward(self, dy):
            return [2.0 * dy]               # one gradient per input: d(2x)/dx = 2'''


class Lambda(Layer):
    """Refused: see the module docstring."""

    def __init__(self, function=None, *args, **kwargs):
        raise TypeError(f"layers.Lambda({getattr(function, '__name__', function)!r}) is not supported. " + HOW_TO)
