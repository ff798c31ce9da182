"""Flatten: every feature of a sample in one vector; for a sequence, all hidden states concatenated.

Seed 004 joins every hidden state of a ``return_sequences=True`` RNN into one vector before the
classifier (the "concatenation" option)::

    y[n] = [h[n,1], h[n,2], ..., h[n,T]]        (N, T, H) -> (N, T*H)
    dx   = dy reshaped back to (N, T, H)

Any rank >= 2 works (``(N, d1, d2, ...) -> (N, d1*d2*...)``); a rank-1 input becomes ``(N, 1)``,
as in Keras. The mask is dropped. Unlike mean pooling, the vector's length depends on ``T``, so
every batch must be padded to the same length.

Example::

    y = Flatten().forward(np.ones((4, 10, 32)))     # (4, 320)
"""
import numpy as np

from .base import Layer


class Flatten(Layer):
    """Reshape ``(N, ...)`` to ``(N, prod(...))``; no weights."""

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        if x.ndim < 1:
            raise ValueError(f"Layer {self.name!r} (Flatten) expects inputs with a batch axis, got a scalar.")
        self._save(x_shape=x.shape)
        return x.reshape(x.shape[0], -1) if x.shape[0] else x.reshape(0, int(np.prod(x.shape[1:])))

    def backward(self, grad_outputs):
        x_shape = self._restore().x_shape
        return [np.asarray(grad_outputs, dtype=self.dtype).reshape(x_shape)]    # through the reshape
