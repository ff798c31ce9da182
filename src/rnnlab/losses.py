"""Losses with Keras's names, each with its hand-derived gradient.

A loss ``L`` compares targets ``y`` with the model's output ``p`` (shape ``(N, C)`` or, for
sequence outputs, ``(N, T, C)``). Each sample (or each time step of each sample) has a
per-position loss ``l_i``; the reported loss is the weighted sum ``L = sum_i w_i l_i`` with

    w_i = 1 / (number of positions)              no mask (Keras: mean over the batch [and steps])
    w_i = m_i / sum(m)                           with a (N, T) mask m: padded steps count for
                                                 nothing; the mean is over the real steps

Per-position losses (C = size of the last axis, eps = 1e-7 clipping as Keras does):

    sparse_categorical_crossentropy   l = -log p[y]                         y: integer class ids
    categorical_crossentropy          l = -sum_c y_c log p_c                y: one-hot / soft labels
    binary_crossentropy               l = -mean_c (y log p + (1 - y) log(1 - p))
    mean_squared_error  ("mse")       l = mean_c (p - y)^2
    mean_absolute_error ("mae")       l = mean_c |p - y|

With ``from_logits=True`` the cross-entropies take pre-activation scores ``z`` and use
``log_softmax(z)`` / ``log(sigmoid(z))`` computed stably. When the model's last layer applies
softmax (or sigmoid) and the loss is the matching cross-entropy on probabilities, the model asks
for ``backward_fused()``: the gradient with respect to the pre-activation ``z``,

    dL/dz_i = w_i (p_i * sum_c y_ic - y_i)          softmax + categorical cross-entropy
    dL/dz_i = w_i (p_i - y_i) / C                    sigmoid + binary cross-entropy

which never divides by a small probability (the notes' softmax + cross-entropy derivation).

Usage::

    loss = losses.get("sparse_categorical_crossentropy")
    value = loss.forward(y, p)          # float
    dp = loss.backward()                # dL/dp, same shape as p
"""
import numpy as np

from . import activations, buffers

EPSILON = 1e-7


class Loss:
    """Base class: ``forward(y_true, y_pred, mask=None) -> float``, then ``backward()``.

    Subclasses implement ``_per_position(y, p)`` returning ``(l, dl_dp)`` where ``l`` has the shape of
    ``p`` without its last axis and ``dl_dp`` the shape of ``p``.
    """

    name = "loss"
    fused_activation = None          # the last-layer activation whose backward backward_fused() replaces

    def __init__(self, from_logits=False, name=None):
        self.from_logits = bool(from_logits)
        if name is not None:
            self.name = name

    def __call__(self, y_true, y_pred, mask=None):
        return self.forward(y_true, y_pred, mask)

    # ---- forward / backward -----------------------------------------------------------------

    def forward(self, y_true, y_pred, mask=None):
        """The loss value (a float); remembers what ``backward`` needs."""
        p = np.asarray(y_pred)
        if p.ndim == 1:                                           # (N,) outputs: one unit per sample
            p = p[:, None]
        y = self._check_targets(y_true, p)
        w = self._position_weights(p.shape[:-1], mask, p.dtype)   # (N,) or (N, T)
        l, dl_dp = self._per_position(y, p)                       # (N[, T]), (N[, T], C) or None: later
        self._cache = (y, p, w, dl_dp, np.shape(y_pred))
        return float(np.sum(w * l))                               # L = sum_i w_i l_i

    def backward(self):
        """dL/dy_pred for the last ``forward`` (same shape as ``y_pred``)."""
        y, p, w, dl_dp, shape = self._cache
        if dl_dp is None:
            dl_dp = self._grad(y, p)                              # losses that defer it (fused path skips it)
        return (w[..., None] * dl_dp).reshape(shape)              # through L = sum_i w_i l_i

    def backward_fused(self):
        """dL/dz where ``y_pred = activation(z)`` and ``activation == self.fused_activation``."""
        if self.fused_activation is None or self.from_logits:
            raise ValueError(f"Loss {self.name!r} has no fused gradient (from_logits={self.from_logits}).")
        y, p, w, _, shape = self._cache
        return self._fused(y, p, w[..., None]).reshape(shape)     # w (p - y), a new array

    # ---- helpers --------------------------------------------------------------------------------

    def _position_weights(self, positions, mask, dtype):
        if mask is not None:
            m = np.asarray(mask)
            if m.shape != tuple(positions):
                raise ValueError(f"Loss {self.name!r} got a mask of shape {m.shape}; expected {tuple(positions)} "
                                 "(one flag per sample and time step of y_pred).")
            m = m.astype(dtype)
            return m / max(float(m.sum()), 1.0)
        count = int(np.prod(positions)) if len(positions) else 1
        return np.full(positions, 1.0 / max(count, 1), dtype=dtype)

    def _check_targets(self, y_true, p):
        y = _as_numeric(y_true, "y (targets)")
        if y.shape == p.shape[:-1] and p.shape[-1] == 1:         # (N,) targets for (N, 1) outputs
            y = y[..., None]
        if y.shape != p.shape:
            raise ValueError(
                f"Loss {self.name!r} got targets y of shape {y.shape} for model outputs of shape {p.shape}; "
                "they must match. For integer class ids use 'sparse_categorical_crossentropy'.")
        return y.astype(p.dtype, copy=False)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}

    def __repr__(self):
        return f"<{type(self).__name__} from_logits={self.from_logits}>"


def _as_numeric(a, what):
    try:
        a = np.asarray(a)
    except Exception as e:
        raise TypeError(f"Could not turn {what} into an array ({e}).") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"Expected numeric {what}, got an array of dtype {a.dtype}.")
    return a


def _log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


class SparseCategoricalCrossentropy(Loss):
    """``l = -log p[y]`` with integer class ids ``y`` of shape ``p.shape[:-1]`` (or with a trailing 1)."""

    name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"

    def _check_targets(self, y_true, p):
        y = _as_numeric(y_true, "y (class ids)")
        if y.ndim == p.ndim and y.shape[-1] == 1:
            y = y[..., 0]
        if y.shape != p.shape[:-1]:
            raise ValueError(
                f"Loss {self.name!r} got labels of shape {y.shape} for model outputs of shape {p.shape}; "
                f"expected labels of shape {p.shape[:-1]} (one class id per "
                f"{'sample' if p.ndim == 2 else 'sample and time step'}). For one-hot labels use "
                "'categorical_crossentropy'.")
        if not np.issubdtype(y.dtype, np.integer):
            if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                raise ValueError(f"Loss {self.name!r} expects integer class ids, got non-integer values "
                                 f"of dtype {y.dtype}.")
            y = y.astype(np.int64)
        C = p.shape[-1]
        if y.size and (y.min() < 0 or y.max() >= C):
            bad = np.unique(y[(y < 0) | (y >= C)])[:5].tolist()
            raise ValueError(
                f"Loss {self.name!r}: labels must be class ids in [0, {C}) because the model outputs {C} "
                f"classes, got {bad}. Make the last layer's units equal the number of classes.")
        return y

    def _per_position(self, y, p):
        idx = y[..., None]                                              # (N[, T], 1)
        if self.from_logits:
            logp = _log_softmax(p)                                      # log softmax(z)
            l = -np.take_along_axis(logp, idx, axis=-1)[..., 0]
            dl_dz = np.exp(logp)
            np.put_along_axis(dl_dz, idx, np.take_along_axis(dl_dz, idx, axis=-1) - 1.0, axis=-1)
            return l, dl_dz                                             # softmax(z) - onehot(y)
        py = np.take_along_axis(p, idx, axis=-1)                        # p[y]
        pc = np.clip(py, EPSILON, 1.0 - EPSILON)                        # Keras clips probabilities
        return -np.log(pc)[..., 0], None                                # dL/dp made by _grad when asked

    def _grad(self, y, p):
        idx = y[..., None]
        py = np.take_along_axis(p, idx, axis=-1)
        pc = np.clip(py, EPSILON, 1.0 - EPSILON)
        dl_dp = np.zeros_like(p)
        np.put_along_axis(dl_dp, idx, -1.0 / pc * ((py > EPSILON) & (py < 1.0 - EPSILON)), axis=-1)
        return dl_dp                                                    # through -log clip(p[y])

    def _fused(self, y, p, w):
        dz = np.multiply(p, w, out=buffers.empty(p.shape, p.dtype))    # (N[, T], C), a reused scratch array
        idx = y[..., None]
        np.put_along_axis(dz, idx, (np.take_along_axis(p, idx, axis=-1) - 1.0) * w, axis=-1)
        return dz                                                   # w (p - onehot(y)), in one pass over p


def _categorical(y, p, from_logits):
    if from_logits:
        logp = _log_softmax(p)                                      # log softmax(z)
        l = -(y * logp).sum(axis=-1)
        dl_dz = np.exp(logp) * y.sum(axis=-1, keepdims=True) - y    # softmax(z) sum(y) - y
        return l, dl_dz
    pc = np.clip(p, EPSILON, 1.0 - EPSILON)                         # Keras clips probabilities
    l = -(y * np.log(pc)).sum(axis=-1)
    dl_dp = -y / pc * ((p > EPSILON) & (p < 1.0 - EPSILON))         # through -y log clip(p)
    return l, dl_dp


class CategoricalCrossentropy(Loss):
    """``l = -sum_c y_c log p_c`` with one-hot (or soft) targets of the same shape as ``p``."""

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def _check_targets(self, y_true, p):
        y = super()._check_targets(y_true, p)
        if y.size and (not np.all(np.isfinite(y)) or y.min() < 0):
            raise ValueError(f"Loss {self.name!r} expects one-hot (or probability) targets >= 0, got values "
                             f"down to {np.nanmin(y)}. For integer class ids use 'sparse_categorical_crossentropy'.")
        return y

    def _per_position(self, y, p):
        return _categorical(y, p, self.from_logits)

    def _fused(self, y, p, w):
        return (p * y.sum(axis=-1, keepdims=True) - y) * w


class BinaryCrossentropy(Loss):
    """``l = -mean_c (y log p + (1 - y) log(1 - p))`` with targets in [0, 1]."""

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def _check_targets(self, y_true, p):
        y = super()._check_targets(y_true, p)
        if y.size and (not np.all(np.isfinite(y)) or y.min() < 0 or y.max() > 1):
            bad = np.unique(y[~((y >= 0) & (y <= 1))])[:5].tolist()
            raise ValueError(f"Loss {self.name!r} expects targets in [0, 1] (one output unit per label), got {bad}. "
                             "For more than two classes use a softmax output with 'sparse_categorical_crossentropy'.")
        return y

    def _per_position(self, y, p):
        C = p.shape[-1]
        if self.from_logits:
            z = p                                                    # stable: max(z,0) - z y + log(1 + e^-|z|)
            l = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
            dl_dz = (activations.sigmoid(z) - y) / C
            return l, dl_dz
        pc = np.clip(p, EPSILON, 1.0 - EPSILON)
        l = -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc)).mean(axis=-1)
        inside = (p > EPSILON) & (p < 1.0 - EPSILON)
        dl_dp = (pc - y) / (pc * (1.0 - pc)) / C * inside           # through the clipped log terms
        return l, dl_dp

    def _fused(self, y, p, w):
        return (p - y) / p.shape[-1] * w


class MeanSquaredError(Loss):
    """``l = mean_c (p - y)^2``."""

    name = "mean_squared_error"

    def _per_position(self, y, p):
        e = p - y
        return (e * e).mean(axis=-1), 2.0 * e / p.shape[-1]


class MeanAbsoluteError(Loss):
    """``l = mean_c |p - y|`` (gradient sign(p - y) / C, 0 where p == y)."""

    name = "mean_absolute_error"

    def _per_position(self, y, p):
        e = p - y
        return np.abs(e).mean(axis=-1), np.sign(e) / p.shape[-1]


class Pinball(Loss):
    """The quantile (pinball) loss for Q quantiles ``q_1 .. q_Q`` predicted side by side on the last axis.

    With ``e_q = y - p_q`` (y broadcast over the Q outputs)::

        l = mean_q  max(q e_q, (q - 1) e_q)          dl/dp_q = (1{e_q < 0} - q) / Q

    Minimising it makes ``p_q`` the q-quantile of y given the input (Koenker & Bassett 1978): q = 0.5 is
    the median, (0.1, 0.9) an 80% interval. Targets ``y`` have the shape of ``p`` without its last axis
    (or with a last axis of 1).

    Example::

        loss = Pinball([0.1, 0.5, 0.9])
        loss.forward(np.array([[1.0]]), np.array([[[0.0, 1.0, 2.0]]]))   # (0.1*1 + 0 + 0.1*1) / 3
    """

    name = "pinball"

    def __init__(self, quantiles=(0.5,), name=None):
        super().__init__(False, name)
        q = np.asarray(quantiles, dtype=np.float64).reshape(-1)
        if q.size == 0 or not np.all((q > 0) & (q < 1)):
            raise ValueError(f"Pinball got quantiles={quantiles!r}; expected one or more numbers in (0, 1), "
                             "e.g. (0.1, 0.5, 0.9).")
        self.quantiles = q

    def _check_targets(self, y_true, p):
        y = _as_numeric(y_true, "y (targets)")
        if p.shape[-1] != len(self.quantiles):
            raise ValueError(f"Loss 'pinball' has {len(self.quantiles)} quantiles {self.quantiles.tolist()} but the "
                             f"model's outputs have {p.shape[-1]} on their last axis (shape {p.shape}); they must "
                             "match.")
        if y.shape == p.shape[:-1] + (1,):
            y = y[..., 0]
        if y.shape != p.shape[:-1]:
            raise ValueError(f"Loss 'pinball' got targets y of shape {y.shape} for model outputs of shape {p.shape}; "
                             f"expected {p.shape[:-1]} (one target for all {len(self.quantiles)} quantiles).")
        return y.astype(p.dtype, copy=False)[..., None]

    def _per_position(self, y, p):
        e = y - p                                                     # (..., Q)
        q = self.quantiles.astype(p.dtype)
        l = np.maximum(q * e, (q - 1) * e).mean(axis=-1)
        return l, ((e < 0).astype(p.dtype) - q) / p.shape[-1]

    def get_config(self):
        return {"name": self.name, "quantiles": self.quantiles.tolist()}


_LOSSES = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
}


def get(identifier):
    """A ``Loss`` from a Keras name (``"mse"``, ``"sparse_categorical_crossentropy"``, ...), an instance,
    or a config dict ``{"name": ..., "from_logits": ...}``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict) and isinstance(identifier.get("name"), str):
        if identifier["name"] == "pinball":
            return Pinball(identifier.get("quantiles", (0.5,)))
        cls = _LOSSES.get(identifier["name"])
        if cls is not None:
            return cls(from_logits=identifier.get("from_logits", False))
        identifier = identifier["name"]
    if isinstance(identifier, str):
        cls = _LOSSES.get(identifier.lower())
        if cls is not None:
            return cls()
        raise ValueError(f"Unknown loss {identifier!r}; expected one of {sorted(_LOSSES)} or a rnnlab.losses.Loss.")
    if callable(identifier):
        raise TypeError(f"Loss {identifier!r} is a plain function, but rnnlab needs the gradient too: subclass "
                        "rnnlab.losses.Loss and implement _per_position(y, p) -> (l, dl_dp).")
    raise TypeError(f"Expected a loss name or rnnlab.losses.Loss, got {type(identifier).__name__}.")


def names():
    return sorted(_LOSSES)
