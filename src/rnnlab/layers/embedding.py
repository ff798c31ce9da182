"""Embedding: integer token ids to dense vectors, a lookup in a learned table.

    y[n, t] = E[x[n, t]]        x: (N, T) int   E: (V, E_dim)   y: (N, T, E_dim)

Backward scatters the output gradient back into the rows that were looked up
(``np.add.at``: repeated ids add up). With ``mask_zero=True`` id 0 is padding and
``compute_mask`` returns ``x != 0``, which recurrent layers use to skip padded steps.

Example::

    emb = Embedding(100, 8, mask_zero=True)
    y = emb.forward(np.array([[5, 3, 0]]))     # (1, 3, 8); mask [[True, True, False]]
"""
import numpy as np

from .base import Layer
from . import checks as _checks


def _not_whole(x):
    """Up to three values of ``x`` that are not whole numbers, or 'nan/inf'."""
    if not np.all(np.isfinite(x)):
        return "nan/inf"
    return x[x != np.round(x)].ravel()[:3].tolist()


class Embedding(Layer):
    per_step = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False,
                 input_length=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        for arg, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"Embedding expects a positive integer {arg!r}, got {v!r}.")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = _checks.initializer(embeddings_initializer, "embeddings_initializer",
                                                          "Embedding")
        self.mask_zero = _checks.flag(mask_zero, "mask_zero", type(self).__name__)
        self.input_length = input_length
        self.seed = seed
        if self.input_shape is None and input_length is not None:
            self.input_shape = (None, int(input_length))

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer, self.seed)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _ids(self, inputs):
        x = np.asarray(inputs)
        if x.dtype == object or not np.issubdtype(x.dtype, np.number):
            raise TypeError(f"Layer {self.name!r} (Embedding) expects integer token ids, got dtype {x.dtype}.")
        if not np.issubdtype(x.dtype, np.integer):
            if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
                raise TypeError(
                    f"Layer {self.name!r} (Embedding) expects integer token ids, got {x.dtype} values "
                    f"that are not whole numbers (e.g. {_not_whole(x)}). "
                    "Tokenise to integer ids first.")
            x = x.astype(np.int64)
        if x.ndim < 1:
            raise ValueError(f"Layer {self.name!r} (Embedding) expects ids of shape (batch, timesteps), got a scalar.")
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            bad = x[(x < 0) | (x >= self.input_dim)].ravel()[:3].tolist()
            raise ValueError(
                f"Layer {self.name!r} (Embedding) has input_dim={self.input_dim}, so ids must be in "
                f"[0, {self.input_dim}); got {bad}. Increase input_dim or map rare words to an OOV id.")
        return x

    def forward(self, inputs, training=False, mask=None):
        x = self._ids(inputs)
        self._maybe_build(x.shape)
        self._save(x=x)
        return self._params["embeddings"][x]                     # (N, T, E)

    def backward(self, grad_outputs):
        x = self._restore().x
        dy = np.asarray(grad_outputs, dtype=self.dtype)
        np.add.at(self._grads["embeddings"], x.ravel(), dy.reshape(-1, self.output_dim))   # through E[x]
        return [None]                                             # ids have no gradient

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.asarray(inputs) != 0

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": self.embeddings_initializer, "mask_zero": self.mask_zero,
                "input_length": self.input_length, "seed": self.seed}
