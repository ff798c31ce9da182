"""Attention over a sequence: Keras 3's ``Attention`` (Luong) and ``AdditiveAttention`` (Bahdanau).

Each query step i looks at every value step j through a score ``s_ij``, turns the scores into a
distribution ``a_i`` over the Tv value steps and returns the weighted sum of the values::

    query Q (N, Tq, D)   value V (N, Tv, Dv)   key K (N, Tv, D), K = V when not given

    dot       s_ij = c · (q_i · k_j)                          c: scalar ``scale`` (use_scale) or 1
    concat    s_ij = w · Σ_d tanh(c · (q_id + k_jd))         w: scalar ``concat_score_weight``
    additive  s_ij = Σ_d σ_d · tanh(q_id + k_jd)             σ: (D,) ``scale`` (use_scale) or ones

    s̃_ij = s_ij - 1e9      where not allowed_ij        allowed_ij = value_mask_j ∧ (j ≤ i if causal)
    a_ij = softmax_j(s̃_ij)                              (N, Tq, Tv)  the attention distribution
    ã_ij = a_ij · m_ij                                  dropout on the distribution (training only)
    o_i  = Σ_j ã_ij v_j,    o_i = 0 where not query_mask_i     (N, Tq, Dv)

The backward pass runs the same lines in reverse (dÃ = dO · Vᵀ, dV = Ãᵀ · dO, the softmax's
``dS = A ⊙ (dA - Σ_j A ⊙ dA)``, then the score's own derivative); with K = V the key's gradient is
added to the value's.

Keras details kept on purpose (so numbers and weights move between the two):

- masked scores are *shifted* by -1e9, not replaced by -inf: a row with every position masked
  still gets a finite (in float32: uniform) distribution, and the shift's derivative is 1;
- in ``score_mode="concat"`` the scale multiplies inside the tanh, ``tanh(c · (q + k))``;
- the scores returned by ``return_attention_scores=True`` are taken *after* dropout;
- ``compute_mask`` returns the query mask, which Keras attaches to the first output only
  (the attention scores carry no mask);
- a third mask (the key's, as a functional model passes one per input) is accepted and ignored.

Example::

    att = Attention()
    out, scores = att.forward([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
    dq, dv = att.backward([d_out, None])
"""
import numpy as np

from .. import activations, backend, initializers
from .base import Layer
from .checks import check_grad, rate
from . import checks as _checks

_MASK_SHIFT = 1.0e9          # Keras's shift of masked scores (65504 for float16, not used here)


class _BaseAttention(Layer):
    """What both attention layers share: input and mask checks, masking, softmax, dropout, the
    weighted sum and their backward. A subclass supplies ``build``, ``_scores`` and
    ``_scores_backward``.

    Dropout draws one mask (N, Tq, Tv) per training call from the layer's own generator (seeded
    once from ``seed``) or, without a seed, from ``backend.rng()`` at each call. The last mask is
    kept in ``self._dropout_mask``; ``self._reuse_dropout_masks = True`` makes later training calls
    reuse it (for gradient checks).
    """

    supports_masking = True

    def __init__(self, use_scale, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = _checks.flag(use_scale, "use_scale", type(self).__name__)
        self.dropout = rate(dropout, "dropout", type(self).__name__)
        self.seed = seed
        self._rng = None if seed is None else backend.rng(seed)      # None: the global one, per call
        self._dropout_mask = None
        self._reuse_dropout_masks = False

    def add_weight(self, name, shape, initializer="zeros", seed=None):
        """As ``Layer.add_weight``, but a scalar weight keeps Keras's shape ``()``."""
        value = np.array(initializers.initialize(initializer, shape, seed), dtype=self.dtype)
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)
        return value

    # ---- checks -------------------------------------------------------------------------------

    def _where(self):
        return f"Layer {self.name!r} ({type(self).__name__})"

    def _split_inputs(self, inputs):
        """``(query, value, key, key_given)`` as checked arrays of the layer's dtype."""
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            got = f"a list of length {len(inputs)}" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f"{self._where()} must be called on a list [query, value] or [query, value, key] of "
                             f"arrays (N, T, D), got {got}. Wrap the tensors in a list, e.g. "
                             "layer.forward([query, value]).")
        names = ("query", "value", "key")
        arrays = [self._to_array(x, name) for x, name in zip(inputs, names)]
        for x, name in zip(arrays, names):
            self._check_rank(x, 3, name, " (batch, time steps, features)")
        q, v = arrays[0], arrays[1]
        k = arrays[2] if len(arrays) == 3 else v
        if not q.shape[0] == v.shape[0] == k.shape[0]:
            raise ValueError(f"{self._where()}: query, value and key must have the same batch size, got "
                             f"{[x.shape for x in arrays]}.")
        if k.shape[1] != v.shape[1]:
            raise ValueError(f"{self._where()}: key and value must have the same number of time steps Tv, got key "
                             f"{k.shape} and value {v.shape}; each value step needs its key.")
        if q.shape[2] != k.shape[2]:
            what = "key" if len(arrays) == 3 else "value (used as the key)"
            raise ValueError(f"{self._where()}: query and {what} must have the same feature size D to be compared, "
                             f"got query {q.shape} and {what} {k.shape}; project one of them (e.g. with Dense) first.")
        return q, v, k, len(arrays) == 3

    def _split_masks(self, mask, N, Tq, Tv):
        """``(query_mask (N, Tq) or None, value_mask (N, Tv) or None)`` as bool arrays."""
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            got = f"a list of length {len(mask)}" if isinstance(mask, (list, tuple)) else type(mask).__name__
            raise ValueError(f"{self._where()} expects mask=[query_mask, value_mask] (each None or a bool array), "
                             f"got {got}.")
        out = []
        for m, shape, name in zip(mask[:2], ((N, Tq), (N, Tv)), ("query_mask", "value_mask")):
            if m is None:
                out.append(None)
                continue
            m = np.asarray(m)
            if m.shape != shape:
                raise ValueError(f"{self._where()}: {name} must have shape {shape} (batch, time steps), got "
                                 f"{m.shape}.")
            out.append(m.astype(bool, copy=False))
        return out[0], out[1]

    @staticmethod
    def _allowed(value_mask, Tq, Tv, use_causal_mask):
        """Where query step i may look at value step j: (N or 1, 1 or Tq, Tv) bool, or None."""
        allowed = None if value_mask is None else value_mask[:, None, :]               # (N, 1, Tv)
        if use_causal_mask:
            causal = (np.arange(Tq)[:, None] >= np.arange(Tv)[None, :])[None]          # (1, Tq, Tv) j <= i
            allowed = causal if allowed is None else allowed & causal
        return allowed

    def _draw_dropout_mask(self, shape, training):
        if not training or self.dropout == 0.0:
            return None
        if self._reuse_dropout_masks and self._dropout_mask is not None and self._dropout_mask.shape == shape:
            return self._dropout_mask
        gen = backend.rng() if self._rng is None else self._rng
        keep = gen.random(shape) >= self.dropout                                         # Bernoulli(1 - rate)
        self._dropout_mask = keep.astype(self.dtype) * self.dtype.type(1.0 / (1.0 - self.dropout))
        return self._dropout_mask

    # ---- the contract ---------------------------------------------------------------------------

    def _scores(self, q, k):
        """``(S (N, Tq, Tv), cache)`` for the score's backward."""
        raise NotImplementedError

    def _scores_backward(self, dS, q, k, cache):
        """``(dQ, dK)`` from dL/dS; adds the score's weight gradients."""
        raise NotImplementedError

    def forward(self, inputs, training=False, mask=None, return_attention_scores=False, use_causal_mask=False):
        q, v, k, key_given = self._split_inputs(inputs)
        (N, Tq, _), Tv = q.shape, v.shape[1]
        q_mask, v_mask = self._split_masks(mask, N, Tq, Tv)
        self._maybe_build([q.shape, v.shape, k.shape])
        self._forget_calls()
        S, cache = self._scores(q, k)                                                    # (N, Tq, Tv)
        allowed = self._allowed(v_mask, Tq, Tv, use_causal_mask)
        if allowed is not None:
            S = np.where(allowed, S, S - self.dtype.type(_MASK_SHIFT))                  # masked: s - 1e9
        A = activations.softmax(S)                                                       # (N, Tq, Tv)
        m = self._draw_dropout_mask(A.shape, training)
        Ad = A if m is None else A * m                                                   # (N, Tq, Tv)
        O = Ad @ v                                                                       # (N, Tq, Dv)
        if q_mask is not None:
            O = np.where(q_mask[:, :, None], O, self.dtype.type(0))                     # masked queries: 0
        self._save(q=q, v=v, k=k, key_given=key_given, cache=cache, A=A, m=m, Ad=Ad, q_mask=q_mask,
                   with_scores=bool(return_attention_scores))
        return [O, Ad] if return_attention_scores else O

    def backward(self, grad_outputs):
        """``[dQ, dV]`` (or ``[dQ, dV, dK]`` when the call got a key) from dL/dO, or from ``[dL/dO, dL/dÃ]``
        when the call returned the attention scores (either may be None); adds the weight gradients."""
        c = self._restore()
        (N, Tq, _), (_, Tv, Dv) = c.q.shape, c.v.shape
        if c.with_scores:
            if not isinstance(grad_outputs, (list, tuple)) or len(grad_outputs) != 2:
                raise ValueError(f"{self._where()}: the call returned [output, attention_scores], so backward expects "
                                 "a list [d_output, d_scores] (either may be None), got "
                                 f"{type(grad_outputs).__name__}.")
            dO, dAd = grad_outputs
        else:
            dO, dAd = grad_outputs, None
        dO = check_grad(self, dO, (N, Tq, Dv), "attention output")
        dAd = check_grad(self, dAd, (N, Tq, Tv), "attention scores")
        if dO is None:
            dO = np.zeros((N, Tq, Dv), dtype=self.dtype)
        if c.q_mask is not None:
            dO = np.where(c.q_mask[:, :, None], dO, self.dtype.type(0))                 # through the query mask
        dV = np.swapaxes(c.Ad, 1, 2) @ dO                                                # through Ã · V  (N, Tv, Dv)
        dAd_total = dO @ np.swapaxes(c.v, 1, 2)                                          # through Ã · V  (N, Tq, Tv)
        if dAd is not None:
            dAd_total += dAd                                                             # the scores output
        dA = dAd_total if c.m is None else dAd_total * c.m                               # through the dropout
        dS = c.A * (dA - (dA * c.A).sum(axis=-1, keepdims=True))                         # through the softmax
        # through the mask: s - 1e9 has slope 1 (masked a_ij are 0, so their dS is 0 already)
        dQ, dK = self._scores_backward(dS, c.q, c.k, c.cache)                            # through the scores
        if c.key_given:
            return [dQ, dV, dK]
        return [dQ, dV + dK]                                                             # key = value

    def compute_mask(self, inputs, mask=None):
        """The query mask (Keras's ``mask[0]``): the output rows of masked queries are zero."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            raise ValueError(f"{self._where()} expects mask=[query_mask, value_mask], got {mask!r:.100}.")
        return None if mask[0] is None else np.asarray(mask[0]).astype(bool, copy=False)

    def compute_output_shape(self, input_shape):
        """``(N, Tq, Dv)`` from ``[query_shape, value_shape(, key_shape)]``."""
        query_shape, value_shape = input_shape[0], input_shape[1]
        return (*tuple(query_shape)[:-1], tuple(value_shape)[-1])

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "dropout": self.dropout, "seed": self.seed}


class Attention(_BaseAttention):
    """Dot-product (Luong) attention, as Keras 3's ``keras.layers.Attention``.

    ::

        dot       S = c · Q · Kᵀ                               (N, Tq, Tv)
        concat    S_ij = w · Σ_d tanh(c · (q_id + k_jd))
        c = ``scale`` (scalar, init 1) if use_scale else 1;  w = ``concat_score_weight`` (scalar, init 1)

    Args:
        use_scale: learn the scalar ``scale``.
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: fraction of the attention distribution to drop (training only).
        seed: seed of the layer's own dropout generator.

    Weights (Keras's order): ``scale`` () if use_scale, then ``concat_score_weight`` () if concat.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale, dropout, seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention got score_mode={score_mode!r}; expected 'dot' (q · k) or 'concat' "
                             "(sum of tanh(q + k)).")
        self.score_mode = score_mode

    def build(self, input_shape):
        if self.use_scale:
            self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.add_weight("concat_score_weight", (), "ones")
        self.built = True

    def _scores(self, q, k):
        if self.score_mode == "dot":
            S0 = q @ np.swapaxes(k, 1, 2)                                                # (N, Tq, Tv) q_i · k_j
            return (S0 * self._params["scale"] if self.use_scale else S0), S0
        U = q[:, :, None, :] + k[:, None, :, :]                                          # (N, Tq, Tv, D)
        Th = np.tanh(U * self._params["scale"] if self.use_scale else U)                 # (N, Tq, Tv, D)
        R = Th.sum(axis=-1)                                                              # (N, Tq, Tv)
        return self._params["concat_score_weight"] * R, (Th, R)

    def _scores_backward(self, dS, q, k, cache):
        if self.score_mode == "dot":
            S0 = cache
            if self.use_scale:
                self._grads["scale"] += np.sum(dS * S0)                                  # through c · S0
                dS = dS * self._params["scale"]                                          # through c · S0
            return dS @ k, np.swapaxes(dS, 1, 2) @ q                                     # through Q · Kᵀ
        Th, R = cache
        self._grads["concat_score_weight"] += np.sum(dS * R)                             # through w · R
        dR = dS * self._params["concat_score_weight"]                                    # through w · R (N, Tq, Tv)
        dZ = dR[..., None] * (1.0 - Th * Th)                                             # through Σ_d, tanh
        if self.use_scale:
            U = q[:, :, None, :] + k[:, None, :, :]                                      # (N, Tq, Tv, D)
            self._grads["scale"] += np.sum(dZ * U)                                       # through c · U
            dZ = dZ * self._params["scale"]                                              # through c · U
        return dZ.sum(axis=2), dZ.sum(axis=1)                                            # through q_i + k_j

    def get_config(self):
        return {**super().get_config(), "score_mode": self.score_mode}


class AdditiveAttention(_BaseAttention):
    """Additive (Bahdanau) attention, as Keras 3's ``keras.layers.AdditiveAttention``.

    ::

        S_ij = Σ_d σ_d · tanh(q_id + k_jd)          (N, Tq, Tv)
        σ = ``scale`` (D,), glorot_uniform, if use_scale else ones

    Args:
        use_scale: learn the per-feature ``scale`` (True by default, as in Keras).
        dropout: fraction of the attention distribution to drop (training only).
        seed: seed of the ``scale`` initialiser and of the layer's own dropout generator.

    Weights (Keras's order): ``scale`` (D,) if use_scale.
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale, dropout, seed, **kwargs)

    def build(self, input_shape):
        if self.use_scale:
            self.add_weight("scale", (input_shape[0][-1],), "glorot_uniform", self.seed)
        self.built = True

    def _scores(self, q, k):
        if self.use_scale and q.shape[2] != self._params["scale"].shape[0]:
            raise ValueError(f"{self._where()} was built for {self._params['scale'].shape[0]} query features, got "
                             f"query of shape {q.shape}.")
        Th = np.tanh(q[:, :, None, :] + k[:, None, :, :])                                # (N, Tq, Tv, D)
        return (Th @ self._params["scale"] if self.use_scale else Th.sum(axis=-1)), Th

    def _scores_backward(self, dS, q, k, cache):
        Th = cache
        if self.use_scale:
            self._grads["scale"] += np.einsum("nij,nijd->d", dS, Th)                     # through Σ_d σ_d · tanh
            dTh = dS[..., None] * self._params["scale"]                                  # through Σ_d σ_d · tanh
        else:
            dTh = dS[..., None]                                                          # through Σ_d tanh
        dZ = dTh * (1.0 - Th * Th)                                                       # through tanh (N, Tq, Tv, D)
        return dZ.sum(axis=2), dZ.sum(axis=1)                                            # through q_i + k_j
