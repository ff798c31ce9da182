"""TimeDistributed: apply one layer to every time step, with the same weights at each step.

The time axis is folded into the batch axis, the inner layer runs once on all steps, and the
result is unfolded::

    x   (N, T, ...)  ->  (N*T, ...)  --layer-->  (N*T, ...')  ->  y (N, T, ...')
    dx  = layer.backward(dy folded to (N*T, ...')) unfolded to (N, T, ...)

Because the weights are shared over time, their gradients are the sum over all steps, which the
inner layer's own backward already forms over the folded batch. The weights are the inner layer's
(same arrays, same order). A mask ``(N, T)`` is passed on to the next layer; a mask with more
axes, ``(N, T, T2)``, is also folded to ``(N*T, T2)`` for the inner layer (e.g. an inner RNN
over a second time axis).

Example::

    td = TimeDistributed(Dense(10, activation="softmax"))
    y = td.forward(np.ones((4, 7, 32)))          # (4, 7, 10)
"""
import numpy as np

from .base import Layer
from .serialization import deserialize, serialize


class TimeDistributed(Layer):
    """Apply ``layer`` to every time step of ``(N, T, ...)`` inputs.

    Args:
        layer: an rnnlab ``Layer`` instance (its weights become this wrapper's weights).

    Shapes: ``(N, T, ...) -> (N, T) + layer's output shape without its batch axis``.
    """
    supports_masking = True

    def step(self, x_t, state=None, training=False, mask=None):
        """One time step: the inner layer on ``x_t`` (N, ...), the step's slice of the sequence."""
        return self.layer.forward(x_t, training=training), None

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed expects an rnnlab Layer instance, got {type(layer).__name__} "
                            f"({layer!r:.80}). Wrap a layer object, e.g. TimeDistributed(Dense(10)).")
        super().__init__(**kwargs)
        self.layer = layer
        self._params = layer._params          # the same dicts: the inner layer's weights are ours
        self._grads = layer._grads

    @property
    def trainable(self):
        return self._trainable and self.layer.trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    def _inner_shape(self, input_shape):
        N, T = input_shape[0], input_shape[1]
        return (None if N is None or T is None else N * T,) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._inner_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._inner_shape(input_shape))
        return tuple(input_shape[:2]) + tuple(inner[1:])

    def _fold_mask(self, mask, N, T):
        """The mask for the inner layer: ``(N, T, ...)`` folded to ``(N*T, ...)``. A plain ``(N, T)``
        mask only says which outer steps are padding; each folded sample is one whole step, with
        nothing inside it to mask, so the inner layer gets ``None``."""
        if mask is None:
            return None
        m = np.asarray(mask)
        if m.shape[:2] != (N, T):
            raise ValueError(f"Layer {self.name!r} (TimeDistributed) got a mask of shape {m.shape} for inputs "
                             f"with (batch, timesteps) = {(N, T)}; expected a mask of shape {(N, T)}.")
        return m.reshape((N * T,) + m.shape[2:]) if m.ndim > 2 else None

    def compute_mask(self, inputs, mask=None):
        """The inner layer's mask unfolded to ``(N, T, ...)`` if it makes one, else ``mask`` unchanged."""
        x = np.asarray(inputs)
        N, T = x.shape[:2]
        inner = self.layer.compute_mask(x.reshape((N * T,) + x.shape[2:]), self._fold_mask(mask, N, T))
        return mask if inner is None else np.asarray(inner).reshape((N, T) + np.shape(inner)[1:])

    def forward(self, inputs, training=False, mask=None):
        x = np.asarray(inputs)
        if x.ndim < 3:
            raise ValueError(f"Layer {self.name!r} (TimeDistributed) expects inputs of rank >= 3 "
                             f"(batch, timesteps, ...), got shape {x.shape} (rank {x.ndim}).")
        N, T = x.shape[:2]
        self._maybe_build(x.shape)
        x2 = x.reshape((N * T,) + x.shape[2:])                               # (N*T, ...)
        y2 = self.layer.forward(x2, training=training, mask=self._fold_mask(mask, N, T))
        self._save(N=N, T=T)
        return y2.reshape((N, T) + y2.shape[1:])                              # (N, T, ...')

    def backward(self, grad_outputs, pre_activation=False):
        """``[dx]``; ``pre_activation=True`` is passed to the inner layer (see ``Dense.backward``)."""
        call = self._restore()
        N, T = call.N, call.T
        dy = np.asarray(grad_outputs)
        dy2 = dy.reshape((N * T,) + dy.shape[2:])
        if pre_activation:
            dx2, = self.layer.backward(dy2, pre_activation=True)              # through the inner layer
        else:
            dx2, = self.layer.backward(dy2)
        if dx2 is None:                                                       # e.g. Embedding: ids
            return [None]
        return [dx2.reshape((N, T) + dx2.shape[1:])]                          # through the fold

    def sublayers(self):
        return [self.layer]

    def output_activation(self):
        return self.layer.output_activation()

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)
