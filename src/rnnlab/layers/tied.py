"""TiedDense: an output layer whose kernel is an Embedding's table, transposed (weight tying).

A language model ``Embedding(V, E) -> recurrent layers (E units) -> softmax over V words`` can use
the embedding matrix ``E`` (V, E) as its output matrix too (Press & Wolf 2017, "Using the Output
Embedding to Improve Language Models", EACL; Inan et al. 2017). One array, two uses:

    z = x · Eᵀ + b         x: (..., E)   E: (V, E) the Embedding's own array   b: (V,)
    y = f(z)               y: (..., V)

Backward, with ``dz = dL/dz`` (``f``'s derivative applied, or given directly by the fused
softmax + cross-entropy gradient ``p - y`` when ``pre_activation=True``)::

    dE += dzᵀ · x          (V, E), added into the Embedding's gradient array, where the Embedding's
                           own scatter-add (dE[ids] += dy) also lands: dL/dE is the sum of both uses
    db += Σ dz             (V,)
    dx  = dz · E           (..., E), returned as [dx]

The layer owns only its bias: ``weights == [b]``, so a saved model stores ``E`` once (under the
Embedding) and ``model.parameters()`` lists it once, so an optimiser updates it once. ``E`` and its
gradient array are looked up on the Embedding at every call, never kept: optimisers update ``E`` in
place, and ``model.flat_gradients()`` replaces the gradient array by a view of the flat buffer.

Saving: the config names the Embedding (``{"embedding": "embedding", ...}``), and
``Sequential.from_config`` / ``Functional.from_config`` call ``link(layers_by_name)`` on every layer
that has that method, which puts the loaded model's Embedding of that name back in place.

Example::

    emb = layers.Embedding(10000, 256)
    model = models.Sequential([emb, layers.LSTM(256, return_sequences=True),
                               layers.TiedDense(emb, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")      # the fused (p - y) path is taken
"""
from collections.abc import Mapping

import numpy as np

from .. import activations
from .base import Layer
from .dense import affine
from .embedding import Embedding
from . import checks as _checks


class TiedDense(Layer):
    """A Dense layer over the vocabulary whose kernel is ``embedding``'s table transposed.

    Args:
        embedding: the ``Embedding`` layer to tie to (built or not), or its name as a string, which
            ``link`` resolves (a loaded model does it by itself).
        activation: as Dense's (``"softmax"`` for a language model); None is linear.
        use_bias: whether to add the layer's own bias ``b`` (V,).
        bias_initializer: the bias's initializer.
        **kwargs: ``name``, ``trainable`` (the bias only: ``E`` trains as its Embedding says),
            ``dtype`` (the Embedding's by default).
    """

    supports_masking = True
    per_step = True

    def __init__(self, embedding, activation=None, use_bias=True, bias_initializer="zeros", **kwargs):
        if isinstance(embedding, Embedding):
            kwargs.setdefault("dtype", embedding.dtype.name)
        elif not isinstance(embedding, str) or not embedding:
            raise TypeError(f"TiedDense expects an Embedding layer (or the name of one) to tie to, got "
                            f"{type(embedding).__name__}: {embedding!r:.80}.")
        super().__init__(**kwargs)
        self._embedding = embedding          # the layer, or its name until link() finds it
        self.activation = activation or "linear"
        self.f, self.f_backward = activations.get(self.activation)
        self.use_bias = _checks.flag(use_bias, "use_bias", type(self).__name__)
        self.bias_initializer = bias_initializer

    # ---- the tie ------------------------------------------------------------------------------

    @property
    def embedding_name(self):
        e = self._embedding
        return e if isinstance(e, str) else e.name

    @property
    def embedding(self):
        """The tied Embedding layer; a clear error while it is only a name not yet linked."""
        if isinstance(self._embedding, str):
            raise ValueError(
                f"TiedDense {self.name!r} ties to embedding {self._embedding!r} by name, which is not linked to a "
                "layer yet. Pass the Embedding layer itself, or call layer.link(model.layers) (loading a model "
                "does it by itself).")
        return self._embedding

    def link(self, layers):
        """Resolve a tie given by name: ``layers`` maps names to layers (or lists layers); a tie to a
        layer object is kept. Models call this after rebuilding their layers from a config."""
        if not isinstance(self._embedding, str):
            return
        by_name = layers if isinstance(layers, Mapping) else {layer.name: layer for layer in layers}
        name = self._embedding
        if name not in by_name:
            raise ValueError(f"TiedDense {self.name!r} ties to embedding {name!r}, but the model has no layer of "
                             f"that name; its layers are {sorted(by_name)}.")
        layer = by_name[name]
        if not isinstance(layer, Embedding):
            raise TypeError(f"TiedDense {self.name!r} ties to layer {name!r}, which is a {type(layer).__name__}, "
                            "not an Embedding.")
        self._embedding = layer

    def _check_tie(self, shape):
        emb = self.embedding
        if emb.dtype != self.dtype:
            raise ValueError(f"TiedDense {self.name!r} has dtype {self.dtype.name}, but its embedding "
                             f"{emb.name!r} has {emb.dtype.name}; give both the same dtype.")
        if shape[-1] != emb.output_dim:
            E = emb.output_dim
            raise ValueError(
                f"TiedDense {self.name!r} ties to embedding {emb.name!r} of output_dim {E}, so its inputs need "
                f"{E} features, got shape {tuple(shape)}; give the last recurrent layer {E} units or add a "
                f"Dense projection to {E}.")
        if self.use_bias and self.built and self._params["bias"].shape[0] != emb.input_dim:
            raise ValueError(f"TiedDense {self.name!r} has a bias of {self._params['bias'].shape[0]} words, but "
                             f"its embedding {emb.name!r} has input_dim {emb.input_dim}.")
        return emb

    # ---- building -----------------------------------------------------------------------------

    def build(self, input_shape):
        emb = self._check_tie(input_shape)
        if self.use_bias:
            self.add_weight("bias", (emb.input_dim,), self.bias_initializer)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.embedding.input_dim,)

    # ---- forward / backward -------------------------------------------------------------------

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        if x.ndim < 2:
            raise ValueError(f"Layer {self.name!r} (TiedDense) expects inputs of rank >= 2 (batch, ..., features), "
                             f"got shape {x.shape}.")
        self._maybe_build(x.shape)
        emb = self._check_tie(x.shape)
        if not emb.built:
            raise ValueError(f"TiedDense {self.name!r} ties to embedding {emb.name!r}, which is not built yet (it "
                             "has no weights); call the embedding first, as a model does when it comes earlier.")
        E = emb._params["embeddings"]                              # (V, E), looked up now: updated in place
        self._forget_calls()                                       # frees the last call's arrays for reuse
        z, y = affine(x, E.T, self._params.get("bias"), self.activation, self.f, self.dtype)   # (..., V)
        self._save(x=x, z=z, y=y)
        return y

    def backward(self, grad_outputs, pre_activation=False):
        """``[dx]`` from ``dL/dy`` (or from ``dL/dz`` when ``pre_activation=True``, the fused softmax/sigmoid
        + cross-entropy gradient); adds ``dzᵀ · x`` into the embedding's gradient."""
        call = self._restore()
        emb = self.embedding
        V = emb.input_dim
        dz = np.asarray(grad_outputs, dtype=self.dtype)
        if not pre_activation:
            dz = self.f_backward(dz, call.y, call.z)                             # through f
        dz2 = dz.reshape(-1, V)
        if self.use_bias:
            self._grads["bias"] += dz2.sum(axis=0)                               # through + b
        x2 = call.x.reshape(-1, call.x.shape[-1])
        emb._grads["embeddings"] += dz2.T @ x2                                   # through x · Eᵀ (summed)
        return [dz @ emb._params["embeddings"]]                                  # (..., E)

    def output_activation(self):
        return self.activation

    # ---- configuration ------------------------------------------------------------------------

    def get_config(self):
        return {**super().get_config(), "embedding": self.embedding_name, "activation": self.activation,
                "use_bias": self.use_bias, "bias_initializer": self.bias_initializer}
