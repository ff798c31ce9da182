"""Activation and Masking: two weightless layers that act on each time step on its own.

    Activation(f)       y = f(x)                            dx = f'(x) dy  (dx = dy with pre_activation)
    Masking(v)          m = any(x != v, axis=-1)            y = x * m[..., None]      dx = dy * m[..., None]

``Activation`` applies any activation of ``rnnlab.activations`` (softmax over the last axis) and passes
the mask on. It names its activation in ``output_activation()``, so a loss can fuse with it
(``backward(dz, pre_activation=True)`` skips ``f'``, exactly as ``Dense`` does).

``Masking`` marks the time steps whose features all equal ``mask_value`` as padding: its output mask
is ``m`` (an incoming mask is replaced, as in Keras) and it zeroes those steps in its output. ``m`` is
a step function of ``x``, so it is a constant for the gradient.

Both are ``per_step``: ``Masking`` on one step ``(N, D)`` gives that step's mask ``(N,)``, which a
recurrent layer's ``step`` takes, so stepping a ``Masking`` model matches running it on the sequence.

Example::

    probs = Activation("softmax").forward(logits)                  # (N, T, V) -> (N, T, V)
    x = np.array([[[1., 2.], [0., 0.], [3., 0.]]])                 # the middle step is padding
    Masking().compute_mask(x)                                      # [[True, False, True]]
"""
import numpy as np

from .. import activations
from .base import Layer


class Activation(Layer):
    """Apply an activation function elementwise (softmax: over the last axis).

    Args:
        activation: the name of an activation of ``rnnlab.activations`` (``"relu"``, ``"tanh"``,
            ``"sigmoid"``, ``"hard_sigmoid"``, ``"softmax"``, ``"linear"``), or None for ``"linear"``.

    Shapes: output = input. Mask: passed on.

    Example::

        y = Activation("relu").forward(np.array([[-1.0, 2.0]]))    # [[0., 2.]]
    """
    supports_masking = True
    per_step = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        if activation is not None and not isinstance(activation, str):
            raise TypeError(f"Layer {self.name!r} (Activation) expects the name of an activation (a string) or None, "
                            f"got {activation!r}; expected one of {activations.names()}.")
        self.activation = activation or "linear"
        if self.activation not in activations.names():
            raise ValueError(f"Layer {self.name!r} (Activation) got activation={activation!r}, which rnnlab does not "
                             f"know; expected one of {activations.names()} (or None for 'linear').")
        self.f, self.f_backward = activations.get(self.activation)

    def forward(self, inputs, training=False, mask=None):
        z = self._to_array(inputs)
        y = self.f(z)                                                          # same shape as z
        self._save(z=z, y=y)
        return y

    def backward(self, grad_outputs, pre_activation=False):
        """``[dx]`` from ``dL/dy``, or from ``dL/dz`` with ``pre_activation=True`` (the fused loss gradient
        already went through ``f``: then ``dx = dz``)."""
        call = self._restore()
        dy = np.asarray(grad_outputs, dtype=self.dtype)
        if dy.shape != call.y.shape:
            raise ValueError(f"Layer {self.name!r} (Activation): backward got a gradient of shape {dy.shape} for an "
                             f"output of shape {call.y.shape}.")
        if pre_activation:
            return [dy]                                                        # dz given: nothing to go through
        return [self.f_backward(dy, call.y, call.z)]                           # through f

    def output_activation(self):
        return self.activation

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Masking(Layer):
    """Mark time steps whose features all equal ``mask_value`` as padding, and zero them.

    ``m[n, t] = any_d(x[n, t, d] != mask_value)``; ``y = x * m[..., None]``; ``dx = dy * m[..., None]``.
    The comparison is made in the layer's dtype, so ``mask_value=0.1`` matches float32 inputs of 0.1.

    Args:
        mask_value: the value that marks a padded step (every feature equal to it).

    Shapes: ``(N, T, D)`` (or any rank >= 2; the mask drops the last axis); output = input.
    Mask: ``m`` (an incoming mask is not combined with it, as in Keras).

    Example::

        x = np.zeros((2, 5, 3)); x[:, :3] = 1.0
        y = Masking().forward(x)                 # compute_mask(x): [[T, T, T, F, F], [T, T, T, F, F]]
    """
    supports_masking = True
    per_step = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float, np.integer, np.floating)):
            raise TypeError(f"Layer {self.name!r} (Masking) expects a number 'mask_value' (the value of padded "
                            f"steps), got {mask_value!r}.")
        self.mask_value = float(mask_value)

    def _inputs(self, inputs):
        x = self._to_array(inputs)
        if x.ndim < 2:
            raise ValueError(f"Layer {self.name!r} (Masking) expects inputs of rank >= 2 (batch, ..., features), "
                             f"got shape {x.shape}.")
        return x

    def _keep(self, x):
        return (x != self.dtype.type(self.mask_value)).any(axis=-1)           # (N, T) True for real steps

    def compute_mask(self, inputs, mask=None):
        return self._keep(self._inputs(inputs))

    def forward(self, inputs, training=False, mask=None):
        x = self._inputs(inputs)
        keep = self._keep(x)[..., None].astype(self.dtype)                     # (N, T, 1)
        self._save(keep=keep)
        return x * keep                                                        # padded steps -> 0

    def backward(self, grad_outputs):
        keep = self._restore().keep
        dy = np.asarray(grad_outputs, dtype=self.dtype)
        return [dy * keep]                                                     # through x * m

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
