"""Dropout: during training, zero a random fraction ``rate`` of the inputs and rescale the rest.

Seed 003 lists dropout among the cures for overfitting and unstable training. "Inverted" dropout
scales the kept units at training time, so inference is the identity::

    keep ~ Bernoulli(1 - rate)                         one draw per element (or per noise_shape cell)
    m    = keep / (1 - rate)
    y    = x * m          if training else x
    dx   = dy * m         if training else dy

``noise_shape`` shares one draw along axes of size 1, as in Keras: for ``(N, T, H)`` inputs,
``noise_shape=(None, 1, None)`` drops the same features at every time step (``None`` takes the
input's size). The draws come from ``backend.rng(seed)``: with a seed, the layer's own generator,
seeded once when the layer is made, so a run is repeatable; without one, the global generator,
looked up at each call, so a later ``backend.set_random_seed`` still applies. The mask is passed on.

Example::

    drop = Dropout(0.3, seed=0)
    y = drop.forward(x, training=True)     # about 30 % zeros, the rest x / 0.7
    y = drop.forward(x)                    # x unchanged
"""
import numpy as np

from .. import backend
from .base import Layer


class Dropout(Layer):
    """Inverted dropout, active only when ``training=True``.

    Args:
        rate: fraction of the inputs to drop, in ``[0, 1)``.
        noise_shape: shape of the random keep mask, broadcast against the input; ``None`` entries
            take the input's size. ``None`` means the input's shape.
        seed: seed of the layer's own random generator.

    Shapes: output = input.
    """
    supports_masking = True
    per_step = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float, np.integer, np.floating)) or isinstance(rate, bool):
            raise TypeError(f"Dropout expects a number 'rate' in [0, 1), got {rate!r}.")
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout expects rate in [0, 1) (the fraction of inputs to drop), got {rate!r}. "
                             "rate=0 keeps everything; rate=1 would drop everything.")
        self.rate = float(rate)
        if noise_shape is not None:
            noise_shape = list(noise_shape)
            if any(d is not None and (not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d <= 0)
                   for d in noise_shape):
                raise ValueError("Dropout expects noise_shape entries to be positive ints or None, "
                                 f"got {noise_shape!r}.")
            noise_shape = [None if d is None else int(d) for d in noise_shape]
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = None if seed is None else backend.rng(seed)      # None: the global one, looked up per call

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"Layer {self.name!r} (Dropout) has noise_shape={self.noise_shape} (rank "
                             f"{len(self.noise_shape)}) but got inputs of shape {shape}; they must have the same rank.")
        out = tuple(d if s is None else s for s, d in zip(self.noise_shape, shape))
        if any(s != 1 and s != d for s, d in zip(out, shape)):
            raise ValueError(f"Layer {self.name!r} (Dropout): noise_shape={self.noise_shape} does not broadcast "
                             f"against inputs of shape {shape}; each entry must be None, 1 or the input's size.")
        return out

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        if not training or self.rate == 0.0:
            self._save(m=None)
            return x
        gen = backend.rng() if self._rng is None else self._rng
        keep = gen.random(self._noise_shape(x.shape)) >= self.rate        # Bernoulli(1 - rate)
        m = keep.astype(self.dtype) * self.dtype.type(1.0 / (1.0 - self.rate))   # like noise_shape
        self._save(m=m)
        return x * m

    def backward(self, grad_outputs):
        m = self._restore().m
        dy = np.asarray(grad_outputs, dtype=self.dtype)
        if m is None:
            return [dy]                                                          # identity
        return [dy * m]                                                          # through x * m

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
