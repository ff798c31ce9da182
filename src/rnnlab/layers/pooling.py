"""MaxPooling1D and AveragePooling1D: shorten a sequence by summarising windows of steps.

Seed 003: "within a fixed region, pass the largest value on and drop the rest". Inputs are
channels-last ``(N, T, C)``; each channel is pooled on its own. With pool size ``p`` and stride
``s`` (default ``p``)::

    max:      y[n, t, c] = max_j x_p[n, t*s + j, c]           j = 0 .. p-1
    average:  y[n, t, c] = sum_j x_p[n, t*s + j, c] / count[t]

Backward::

    max:      dx[n, t*s + argmax_j, c] += dy[n, t, c]        (ties: the first maximum)
    average:  dx[n, t*s + j, c] += dy[n, t, c] / count[t]   for every real step j of the window

Padding: ``"valid"`` drops a last partial window (``T' = (T - p) // s + 1``); ``"same"`` gives
``T' = ceil(T / s)`` and pads ``max((T'-1)*s + p - T, 0)`` steps, half on the left (rounded down),
as Keras does. Padded steps never win a max, and the average counts real steps only (``count[t]``
is the number of real steps in window ``t``), which is what Keras's "same" average pooling does.
The mask is dropped (the time axis changes length).

Example::

    pool = MaxPooling1D(pool_size=4)
    y = pool.forward(np.ones((8, 100, 32)))         # (8, 25, 32)
"""
import numpy as np

from .base import Layer
from .conv1d import output_length, pad_amounts, padding_name, positive_int, windows


class _Pooling1D(Layer):

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = positive_int(pool_size, "pool_size", kind)
        self.strides = self.pool_size if strides is None else positive_int(strides, "strides", kind)
        self.padding = padding_name(padding, kind, allowed=("valid", "same"))

    def compute_output_shape(self, input_shape):
        N, T, C = input_shape
        return (N, output_length(T, self.pool_size, self.strides, self.padding), C)

    def compute_mask(self, inputs, mask=None):
        return None

    def _windows(self, inputs, fill):
        """Padded input's windows ``(N, T', p, C)`` (a view), plus what backward needs."""
        x = self._to_array(inputs)
        self._check_rank(x, 3, hint=" (batch, timesteps, channels)")
        N, T, C = x.shape
        p, s = self.pool_size, self.strides
        left, right, T_out = pad_amounts(T, p, s, self.padding)
        if T + left + right < p:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) has pool_size={p} but the input has only "
                f"{T} timesteps with padding={self.padding!r}. Use a smaller pool_size or padding='same'.")
        xp = np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=fill) if left or right else x
        return x, xp, left, T_out, windows(xp, T_out, p, s, 1)

    def _scatter(self, dwin, xp_shape, left, T):
        """col2im for pooling: add ``dwin (N, T', p, C)`` back onto the padded input's steps."""
        dxp = np.zeros(xp_shape, dtype=self.dtype)                    # (N, T_p, C)
        T_out, s = dwin.shape[1], self.strides
        stop = (T_out - 1) * s + 1
        for j in range(self.pool_size):
            dxp[:, j: j + stop: s] += dwin[:, :, j]
        return dxp[:, left:left + T]                                  # through the padding

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


class MaxPooling1D(_Pooling1D):
    """Maximum over windows of ``pool_size`` steps, moved by ``strides`` (default ``pool_size``).

    Args:
        pool_size: window length ``p``.
        strides: step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.

    Shapes: ``(N, T, C) -> (N, T', C)``.
    """

    def forward(self, inputs, training=False, mask=None):
        x, xp, left, T_out, win = self._windows(inputs, fill=-np.inf)   # (N, T', p, C)
        j_max = win.argmax(axis=2)                                      # (N, T', C) first maximum
        y = np.take_along_axis(win, j_max[:, :, None], axis=2)[:, :, 0]  # (N, T', C)
        self._save(x_shape=x.shape, xp_shape=xp.shape, left=left, j_max=j_max)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        x_shape, xp_shape, left, j_max = call.x_shape, call.xp_shape, call.left, call.j_max
        dy = np.asarray(grad_outputs, dtype=self.dtype)                 # (N, T', C)
        taps = np.arange(self.pool_size)[None, None, :, None]
        dwin = np.where(j_max[:, :, None] == taps, dy[:, :, None], 0).astype(self.dtype)  # through max
        return [self._scatter(dwin, xp_shape, left, x_shape[1])]       # through the windows


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps; with ``padding="same"`` padded steps are not counted.

    Args:
        pool_size: window length ``p``.
        strides: step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.

    Shapes: ``(N, T, C) -> (N, T', C)``.
    """

    def forward(self, inputs, training=False, mask=None):
        x, xp, left, T_out, win = self._windows(inputs, fill=0.0)       # (N, T', p, C)
        T = x.shape[1]
        starts = np.arange(T_out) * self.strides - left                 # first input step of each window
        count = (np.minimum(starts + self.pool_size, T) - np.maximum(starts, 0)).astype(self.dtype)  # (T',)
        y = win.sum(axis=2) / count[None, :, None]                     # (N, T', C)
        self._save(x_shape=x.shape, xp_shape=xp.shape, left=left, count=count)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        x_shape, xp_shape, left, count = call.x_shape, call.xp_shape, call.left, call.count
        dy = np.asarray(grad_outputs, dtype=self.dtype)                 # (N, T', C)
        dmean = dy / count[None, :, None]                               # through / count
        dwin = np.broadcast_to(dmean[:, :, None], dmean.shape[:2] + (self.pool_size,) + dmean.shape[2:])
        return [self._scatter(dwin, xp_shape, left, x_shape[1])]       # through the window sum
