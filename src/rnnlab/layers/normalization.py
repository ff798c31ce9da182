"""LayerNormalization: normalise each sample's features to zero mean and unit variance.

Seed 003 lists it as a cure for unstable gradients: normalise right after the linear combination,
per sample (not per batch), so it works the same at every time step and batch size. Over the
normalised axes (the last one by default), with ``K`` elements there::

    mu    = mean(x)                                   per sample (and per time step)
    var   = mean((x - mu)^2)                          the biased variance, as Keras and PyTorch
    sigma = sqrt(var + eps)
    x_hat = (x - mu) / sigma
    y     = gamma * x_hat + beta

Backward (mirror order)::

    dbeta  = sum over the other axes of dy
    dgamma = sum over the other axes of dy * x_hat
    dx_hat = dy * gamma
    dx     = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sigma

The last line is the three paths through ``x_hat = (x - mu) / sigma`` (directly, through ``mu``,
and through ``var``) collected into one formula. The mask is passed on.

Example::

    ln = LayerNormalization()
    y = ln.forward(np.random.randn(8, 20, 64))        # each y[n, t] has mean 0, variance ~1
"""
import numpy as np

from .base import Layer
from . import checks as _checks


class LayerNormalization(Layer):
    """Layer normalisation over ``axis`` (an int or a list/tuple of ints; not the batch axis).

    Args:
        axis: the axis or axes to normalise over; default ``-1`` (features).
        epsilon: added to the variance (Keras's default ``1e-3``; PyTorch uses ``1e-5``).
        center: learn an offset ``beta`` (initialised to zeros).
        scale: learn a scale ``gamma`` (initialised to ones).

    Weights ``[gamma, beta]`` (Keras's order), each of the shape of the normalised axes.
    Shapes: output = input.
    """
    supports_masking = True

    @property
    def per_step(self):
        """True when only the last (feature) axis is normalised, so each time step stands alone."""
        return self.axis in (-1, [-1])

    def step(self, x_t, state=None, training=False, mask=None):
        """One time step (N, D) of a layer built on sequences (N, T, D): normalised as a length-1 sequence."""
        x = self._to_array(x_t)
        if not self.built or len(self._axes) != 1 or self._axes[0] != x.ndim:
            return super().step(x, state, training, mask)
        return self.forward(x[:, None], training=training)[:, 0], None

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(not isinstance(a, (int, np.integer)) or isinstance(a, bool) for a in axes):
            raise TypeError(f"LayerNormalization expects axis to be an int or a list/tuple of ints, got {axis!r}.")
        self.axis = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)
        if not isinstance(epsilon, (int, float, np.floating)) or isinstance(epsilon, bool) or epsilon <= 0:
            raise ValueError(f"LayerNormalization expects a positive float epsilon, got {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.center = _checks.flag(center, "center", type(self).__name__)
        self.scale = _checks.flag(scale, "scale", type(self).__name__)
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self._axes = None

    def _resolve_axes(self, ndim):
        """The normalised axes as sorted non-negative ints for rank ``ndim`` inputs."""
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        out = []
        for a in axes:
            if not -ndim <= a < ndim or a % ndim == 0:
                raise ValueError(
                    f"Layer {self.name!r} (LayerNormalization) got axis={self.axis!r} for inputs of rank {ndim}; "
                    f"every axis must be in [1, {ndim - 1}] or [{-(ndim - 1)}, -1] (axis 0 is the batch). "
                    "Use axis=-1 to normalise the features.")
            out.append(a % ndim)
        if len(set(out)) != len(out):
            raise ValueError(f"Layer {self.name!r} (LayerNormalization) got a repeated axis in axis={self.axis!r}.")
        return tuple(sorted(out))

    def build(self, input_shape):
        ndim = len(input_shape)
        self._axes = self._resolve_axes(ndim)
        param_shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in param_shape):
            raise ValueError(f"Layer {self.name!r} (LayerNormalization) needs the size of the normalised axes "
                             f"{self._axes}, got input shape {tuple(input_shape)}.")
        if self.scale:
            self.add_weight("gamma", param_shape, self.gamma_initializer)
        if self.center:
            self.add_weight("beta", param_shape, self.beta_initializer)
        self.built = True

    def _broadcast(self, p, ndim):
        """``gamma``/``beta`` reshaped to broadcast against rank ``ndim`` inputs."""
        shape = [1] * ndim
        for a, d in zip(self._axes, p.shape):
            shape[a] = d
        return p.reshape(shape)

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        if x.ndim < 2:
            raise ValueError(f"Layer {self.name!r} (LayerNormalization) expects inputs of rank >= 2 "
                             f"(batch, ..., features), got shape {x.shape}.")
        if not self.built:
            self._maybe_build(x.shape)
        axes = self._resolve_axes(x.ndim)
        expected = tuple(self.weights[0].shape) if self.weights else None
        if axes != self._axes or (expected is not None and tuple(x.shape[a] for a in axes) != expected):
            raise ValueError(f"Layer {self.name!r} (LayerNormalization) was built for normalised axes of shape "
                             f"{expected}, got inputs of shape {x.shape}.")
        mu = x.mean(axis=axes, keepdims=True)                          # (N, ..., 1)
        xc = x - mu
        var = (xc * xc).mean(axis=axes, keepdims=True)                 # (N, ..., 1)
        inv_sigma = 1.0 / np.sqrt(var + self.epsilon)                  # (N, ..., 1)
        x_hat = xc * inv_sigma                                         # like x
        y = x_hat
        if self.scale:
            y = y * self._broadcast(self._params["gamma"], x.ndim)
        if self.center:
            y = y + self._broadcast(self._params["beta"], x.ndim)
        self._save(x_hat=x_hat, inv_sigma=inv_sigma)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        x_hat, inv_sigma = call.x_hat, call.inv_sigma
        dy = np.asarray(grad_outputs, dtype=self.dtype)
        ndim = dy.ndim
        others = tuple(a for a in range(ndim) if a not in self._axes)
        if self.center:
            self._grads["beta"] += dy.sum(axis=others).reshape(self._grads["beta"].shape)          # through + beta
        dx_hat = dy
        if self.scale:
            self._grads["gamma"] += (dy * x_hat).sum(axis=others).reshape(self._grads["gamma"].shape)  # through gamma *
            dx_hat = dy * self._broadcast(self._params["gamma"], ndim)                                 # through gamma *
        axes = self._axes                                              # through (x - mu) / sigma:
        return [inv_sigma * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                             - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer}
