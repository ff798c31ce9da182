"""Dense: a fully connected layer on the last axis.

    z = x · W + b          x: (..., D)   W: (D, U)   b: (U,)
    y = f(z)               y: (..., U)

On a 3-D input ``(N, T, D)`` it applies to every time step, as Keras's Dense does, so a
many-to-many model needs no wrapper.

Example::

    dense = Dense(2, activation="softmax")
    y = dense.forward(np.ones((4, 8)))      # (4, 2)
"""
import numpy as np

from .. import activations, buffers
from .base import Layer
from . import checks as _checks


def affine(x, W, b, activation, f, dtype):
    """``z = x · W + b`` and ``y = f(z)`` on the last axis of ``x`` (..., D): one GEMM over every position into
    reused scratch arrays (a wide output, e.g. a softmax over a vocabulary, then costs no page faults).
    Returns ``(z, y)`` of shape (..., U). Shared by ``Dense`` and ``TiedDense``."""
    x2 = x.reshape(-1, x.shape[-1])                                             # (M, D)
    z = np.matmul(x2, W, out=buffers.empty((x2.shape[0], W.shape[1]), dtype))   # (M, U)
    if b is not None:
        z += b
    y = activations.softmax(z, out=buffers.empty(z.shape, dtype)) if activation == "softmax" else f(z)
    shape = x.shape[:-1] + (W.shape[1],)
    return z.reshape(shape), y.reshape(shape)


class Dense(Layer):
    supports_masking = True
    per_step = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense expects a positive integer 'units', got {units!r}.")
        self.units = int(units)
        self.activation = activation or "linear"
        self.f, self.f_backward = activations.get(self.activation)
        self.use_bias = _checks.flag(use_bias, "use_bias", type(self).__name__)
        self.kernel_initializer = _checks.initializer(kernel_initializer, "kernel_initializer", type(self).__name__)
        self.bias_initializer = _checks.initializer(bias_initializer, "bias_initializer", type(self).__name__)
        self.seed = seed

    def build(self, input_shape):
        D = input_shape[-1]
        self.add_weight("kernel", (D, self.units), self.kernel_initializer, self.seed)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        if x.ndim < 2:
            raise ValueError(f"Layer {self.name!r} (Dense) expects inputs of rank >= 2 (batch, ..., features), "
                             f"got shape {x.shape}.")
        self._maybe_build(x.shape)
        W = self._params["kernel"]
        if x.shape[-1] != W.shape[0]:
            raise ValueError(f"Layer {self.name!r} (Dense) was built for {W.shape[0]} input features, "
                             f"got inputs of shape {x.shape} (last axis {x.shape[-1]}).")
        self._forget_calls()                                        # frees the last call's arrays for reuse
        z, y = affine(x, W, self._params.get("bias"), self.activation, self.f, self.dtype)   # (..., U)
        self._save(x=x, z=z, y=y)
        return y

    def backward(self, grad_outputs, pre_activation=False):
        """``[dx]`` from ``dL/dy`` (or from ``dL/dz`` when ``pre_activation=True``: the loss already
        went through ``f``, as the fused softmax/sigmoid + cross-entropy gradient ``p - y`` does)."""
        call = self._restore()
        dz = np.asarray(grad_outputs, dtype=self.dtype)
        if not pre_activation:
            dz = self.f_backward(dz, call.y, call.z)                               # through f
        dz2 = dz.reshape(-1, self.units)                                          # (M, U)
        if self.use_bias:
            self._grads["bias"] += dz2.sum(axis=0)                                # through + b
        x2 = call.x.reshape(-1, call.x.shape[-1])                                 # (M, D)
        W = self._params["kernel"]
        dW = np.matmul(x2.T, dz2, out=buffers.empty(W.shape, self.dtype))
        self._grads["kernel"] += dW                                               # through x · W
        dx = np.matmul(dz2, W.T)                                                  # (M, D)
        return [dx.reshape(call.x.shape)]

    def output_activation(self):
        return self.activation

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, "seed": self.seed}
