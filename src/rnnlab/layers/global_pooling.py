"""GlobalAveragePooling1D and GlobalMaxPooling1D: one vector from every hidden state.

Seed 004 turns a ``return_sequences=True`` RNN's states into one vector by their mean; the
maximum over time is the other common choice. With a mask ``m (N, T)`` (from
``Embedding(mask_zero=True)``) only the real steps count::

    average:  y[n] = sum_t m[n,t] x[n,t] / sum_t m[n,t]       dx[n,t] = m[n,t] dy[n] / sum_t m[n,t]
    max:      y[n,c] = max_{t: m[n,t]} x[n,t,c]               dx[n,t*,c] += dy[n,c]  (t*: first argmax)

A row whose every step is masked gives zeros (and zero gradient); Keras gives NaN for the average
there, which no model can use. Keras's GlobalMaxPooling1D ignores the mask (padding can win the
max); here it does not, so padded and unpadded batches give the same result. The mask is
consumed: the output has no time axis.

Example::

    pool = GlobalAveragePooling1D()
    y = pool.forward(h, mask=ids != 0)             # (N, T, H) -> (N, H)
"""
import numpy as np

from .base import Layer
from . import checks as _checks


class _GlobalPooling1D(Layer):
    supports_masking = True

    def __init__(self, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = _checks.flag(keepdims, "keepdims", type(self).__name__)

    def compute_output_shape(self, input_shape):
        N, T, C = input_shape
        return (N, 1, C) if self.keepdims else (N, C)

    def compute_mask(self, inputs, mask=None):
        return None

    def _inputs(self, inputs, mask):
        x = self._to_array(inputs)
        self._check_rank(x, 3, hint=" (batch, timesteps, features)")
        if mask is None:
            return x, None
        m = np.asarray(mask)
        if m.shape != x.shape[:2]:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) got a mask of shape {m.shape} for "
                             f"inputs of shape {x.shape}; expected a mask of shape {x.shape[:2]} (batch, timesteps).")
        return x, m.astype(bool)

    def _out(self, y):
        return y[:, None, :] if self.keepdims else y

    def _dy(self, grad_outputs):
        dy = np.asarray(grad_outputs, dtype=self.dtype)
        return dy[:, 0, :] if self.keepdims else dy                   # (N, C)

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the time axis, over real (unmasked) steps only.

    Args:
        keepdims: keep the time axis with length 1: ``(N, 1, C)`` instead of ``(N, C)``.

    Shapes: ``(N, T, C) -> (N, C)``; ``mask`` is ``(N, T)`` booleans or ``None``.
    """

    def forward(self, inputs, training=False, mask=None):
        x, m = self._inputs(inputs, mask)
        N, T, C = x.shape
        w = np.ones((N, T), dtype=self.dtype) if m is None else m.astype(self.dtype)   # (N, T)
        count = np.maximum(w.sum(axis=1), 1.0)                                           # (N,)
        a = w / count[:, None]                                                           # (N, T) weights
        y = np.einsum("nt,ntc->nc", a, x)                                                # (N, C)
        self._save(a=a)
        return self._out(y)

    def backward(self, grad_outputs):
        a = self._restore().a
        dy = self._dy(grad_outputs)                                   # (N, C)
        return [a[:, :, None] * dy[:, None, :]]                       # through the weighted sum


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the time axis, over real (unmasked) steps only.

    Args:
        keepdims: keep the time axis with length 1: ``(N, 1, C)`` instead of ``(N, C)``.

    Shapes: ``(N, T, C) -> (N, C)``; ``mask`` is ``(N, T)`` booleans or ``None``.
    """

    def forward(self, inputs, training=False, mask=None):
        x, m = self._inputs(inputs, mask)
        xm = x if m is None else np.where(m[:, :, None], x, -np.inf)          # (N, T, C)
        t_max = xm.argmax(axis=1)                                               # (N, C) first maximum
        y = np.take_along_axis(x, t_max[:, None, :], axis=1)[:, 0]              # (N, C)
        alive = np.ones(y.shape, dtype=bool) if m is None else m.any(axis=1)[:, None].repeat(y.shape[1], 1)
        y = np.where(alive, y, 0).astype(self.dtype)                            # fully masked rows: 0
        self._save(x_shape=x.shape, t_max=t_max, alive=alive)
        return self._out(y)

    def backward(self, grad_outputs):
        call = self._restore()
        x_shape, t_max, alive = call.x_shape, call.t_max, call.alive
        dy = np.where(alive, self._dy(grad_outputs), 0)                         # (N, C)
        dx = np.zeros(x_shape, dtype=self.dtype)                                # (N, T, C)
        np.put_along_axis(dx, t_max[:, None, :], dy[:, None, :], axis=1)        # through the max
        return [dx]
