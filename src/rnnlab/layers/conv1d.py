"""Conv1D: a 1-D convolution over time, written as one matrix product over unfolded windows.

Seed 003 uses it to shorten long sequences before a recurrent layer. Inputs are channels-last
``(N, T, C)``; the kernel has Keras's layout ``(k, C, F)``.

With the input padded to ``x_p`` (see below), stride ``s`` and dilation ``d``::

    cols[n, t, j, c] = x_p[n, t*s + j*d, c]                 (N, T', k, C)   im2col: a strided view
    z[n, t, f]       = sum_{j,c} cols[n, t, j, c] W[j, c, f] + b[f]
                     = cols.reshape(N*T', k*C) · W.reshape(k*C, F) + b      one GEMM
    y                = activation(z)                          (N, T', F)

Backward (mirror order)::

    dz    = dy * activation'(z)
    db    = sum_{n,t} dz
    dW    = colsᵀ · dz                                        one GEMM
    dcols = dz · Wᵀ                                           (N, T', k, C), formed one tap at a time
    dx_p[n, t*s + j*d, c] += dcols[n, t, j, c]                col2im: a loop over the k taps
    dx    = dx_p without the padding

``dcols`` is computed tap by tap (``dz · W[j]ᵀ``, one GEMM per tap into a reused buffer) and each
tap is added straight into ``dx_p``: the same products as one ``dz · Wᵀ`` GEMM, but without a
``(N·T', k·C)`` array whose strided reads made the scatter 2x slower (measured).

Padding (Keras's rules), with the receptive span ``(k-1)*d + 1``:

- ``"valid"``: none; ``T' = (T - span) // s + 1`` (the span must fit in ``T``);
- ``"same"``: ``T' = ceil(T / s)``, ``pad_total = max((T'-1)*s + span - T, 0)``, left
  ``pad_total // 2``, the rest on the right;
- ``"causal"``: ``(k-1)*d`` zeros on the left only, so ``y_t`` never sees ``x_{t+1}``;
  ``T' = (T - 1) // s + 1``.

Example::

    conv = Conv1D(32, 5, padding="same", activation="relu")
    y = conv.forward(np.ones((8, 100, 16)))        # (8, 100, 32)
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import activations, buffers
from .base import Layer
from . import checks as _checks

PADDINGS = ("valid", "same", "causal")


def positive_int(value, what, layer):
    """``value`` as an int, or a ValueError naming the argument."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]                              # Keras accepts (k,) for 1-D layers
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer} expects a positive integer {what!r}, got {value!r}.")
    return int(value)


def padding_name(padding, layer, allowed=PADDINGS):
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in allowed:
        raise ValueError(f"{layer} got padding={padding!r}; expected one of {list(allowed)}.")
    return name


def output_length(T, span, stride, padding):
    """Length of the output axis for an input of length ``T`` (``None`` stays ``None``)."""
    if T is None:
        return None
    if padding == "valid":
        return max((T - span) // stride + 1, 0)
    if padding == "same":
        return -(-T // stride)
    return (T - 1) // stride + 1                     # causal


def pad_amounts(T, span, stride, padding):
    """``(left, right, T_out)`` for Keras's padding rules."""
    T_out = output_length(T, span, stride, padding)
    if padding == "valid":
        return 0, 0, T_out
    if padding == "same":
        total = max((T_out - 1) * stride + span - T, 0)
        return total // 2, total - total // 2, T_out
    return span - 1, 0, T_out                        # causal


def windows(xp, T_out, taps, stride, dilation):
    """A read-only view ``(N, T_out, taps, C)`` of ``xp (N, T_p, C)``: element ``[n, t, j, c]``
    is ``xp[n, t*stride + j*dilation, c]``."""
    sN, sT, sC = xp.strides
    N, _, C = xp.shape
    return as_strided(xp, shape=(N, T_out, taps, C),
                      strides=(sN, stride * sT, dilation * sT, sC), writeable=False)


class Conv1D(Layer):
    """1-D convolution over the time axis of ``(N, T, C)`` inputs.

    Args:
        filters: number of output channels ``F``.
        kernel_size: taps per window ``k``.
        strides: step ``s`` between windows.
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (see the module docstring).
        dilation_rate: gap ``d`` between taps.
        activation: name of an activation (``None``: linear).
        use_bias: add a bias per filter.
        kernel_initializer, bias_initializer: initialiser names.
        seed: seed of the kernel initialiser.

    Shapes: ``(N, T, C) -> (N, T', F)``; kernel ``(k, C, F)``, bias ``(F,)``. The mask is dropped,
    as in Keras (the output time axis no longer lines up with the input's).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = positive_int(filters, "filters", "Conv1D")
        self.kernel_size = positive_int(kernel_size, "kernel_size", "Conv1D")
        self.strides = positive_int(strides, "strides", "Conv1D")
        self.dilation_rate = positive_int(dilation_rate, "dilation_rate", "Conv1D")
        self.padding = padding_name(padding, "Conv1D")
        self.activation = activation or "linear"
        self.f, self.f_backward = activations.get(self.activation)
        self.use_bias = _checks.flag(use_bias, "use_bias", type(self).__name__)
        self.kernel_initializer = _checks.initializer(kernel_initializer, "kernel_initializer", type(self).__name__)
        self.bias_initializer = _checks.initializer(bias_initializer, "bias_initializer", type(self).__name__)
        self.seed = seed

    @property
    def span(self):
        """How many input steps one window covers: ``(k-1)*d + 1``."""
        return (self.kernel_size - 1) * self.dilation_rate + 1

    def build(self, input_shape):
        C = input_shape[-1]
        self.add_weight("kernel", (self.kernel_size, C, self.filters), self.kernel_initializer, self.seed)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer)
        self.built = True

    def compute_output_shape(self, input_shape):
        N, T = input_shape[0], input_shape[1]
        return (N, output_length(T, self.span, self.strides, self.padding), self.filters)

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        self._check_rank(x, 3, hint=" (batch, timesteps, channels)")
        self._maybe_build(x.shape)
        W = self._params["kernel"]                                      # (k, C, F)
        k, C, F = W.shape
        N, T, _ = x.shape
        if x.shape[-1] != C:
            raise ValueError(f"Layer {self.name!r} (Conv1D) was built for {C} input channels, "
                             f"got inputs of shape {x.shape} (last axis {x.shape[-1]}).")
        left, right, T_out = pad_amounts(T, self.span, self.strides, self.padding)
        self._forget_calls()                   # drop the last call's arrays before making new ones
        if T + left + right < self.span:
            raise ValueError(
                f"Layer {self.name!r} (Conv1D): the kernel spans {self.span} steps (kernel_size={k}, "
                f"dilation_rate={self.dilation_rate}) but the input has only {T} timesteps with "
                f"padding={self.padding!r}. Use longer inputs, a smaller kernel_size/dilation_rate, "
                "or padding='same'/'causal'.")
        xp = np.pad(x, ((0, 0), (left, right), (0, 0))) if left or right else x   # (N, T_p, C)
        cols = buffers.empty((N * T_out, k * C), self.dtype)                      # (N*T', k*C)
        np.copyto(cols.reshape(N, T_out, k, C),                                   # im2col copy of the
                  windows(xp, T_out, k, self.strides, self.dilation_rate))        # (N, T', k, C) view
        z = cols @ W.reshape(k * C, F)                                            # (N*T', F)
        if self.use_bias:
            z += self._params["bias"]
        z = z.reshape(N, T_out, F)                                                # (N, T', F)
        y = self.f(z)
        self._save(x_shape=x.shape, xp_shape=xp.shape, left=left, cols=cols, z=z, y=y)
        return y

    def backward(self, grad_outputs, pre_activation=False):
        """``[dx]``; ``pre_activation=True``: ``grad_outputs`` is already dL/dz (see ``Dense.backward``)."""
        call = self._restore()
        x_shape, xp_shape, left, cols, z, y = call.x_shape, call.xp_shape, call.left, call.cols, call.z, call.y
        N, T, C = x_shape
        W = self._params["kernel"]
        k, _, F = W.shape
        T_out = z.shape[1]
        dz = np.asarray(grad_outputs, dtype=self.dtype)
        if not pre_activation:
            dz = self.f_backward(dz, y, z)                                        # through f
        dz2 = dz.reshape(N * T_out, F)                                            # (N*T', F)
        if self.use_bias:
            self._grads["bias"] += dz2.sum(axis=0)                                # through + b
        self._grads["kernel"] += (cols.T @ dz2).reshape(k, C, F)                  # through cols · W
        dxp = np.zeros(xp_shape, dtype=self.dtype)                                # (N, T_p, C)
        dcols_j = np.empty((N * T_out, C), dtype=self.dtype)                      # one tap of dcols
        W_T = np.ascontiguousarray(W.transpose(0, 2, 1))                          # (k, F, C): contiguous W[j]ᵀ
        s, d = self.strides, self.dilation_rate
        stop = (T_out - 1) * s + 1
        for j in range(k):
            np.matmul(dz2, W_T[j], out=dcols_j)                                   # through cols · W, tap j
            dxp[:, j * d: j * d + stop: s] += dcols_j.reshape(N, T_out, C)        # through im2col (col2im)
        return [dxp[:, left:left + T]]                                            # through the padding

    def output_activation(self):
        return self.activation

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "dilation_rate": self.dilation_rate,
                "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer,
                "seed": self.seed}
