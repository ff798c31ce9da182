"""Metrics: running means over an epoch, masked time steps excluded.

    sparse_categorical_accuracy   mean(argmax(p) == y)                    y: class ids
    categorical_accuracy          mean(argmax(p) == argmax(y))            y: one-hot
    binary_accuracy               mean((p > threshold) == y)              threshold 0.5
    "accuracy" / "acc"            one of the three, chosen as Keras does from the loss and shapes:
                                  binary if the output has one unit (or the loss is binary
                                  cross-entropy), sparse if y has fewer axes than p, else categorical
    "mse", "mae", ...             any loss name, averaged like the loss

Each metric accumulates ``total`` and ``count`` over batches (``update``) so ``result()`` is the
mean over all samples (or real time steps) seen since ``reset()``.

Example::

    acc = metrics.get("accuracy", loss="sparse_categorical_crossentropy")
    acc.update(y, p); acc.result()
"""
import numpy as np

from . import losses as _losses


class Metric:
    name = "metric"

    def __init__(self, name=None):
        if name is not None:
            self.name = name
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0.0

    def result(self):
        return self.total / self.count if self.count else 0.0

    def update(self, y_true, y_pred, mask=None):
        values = self._values(np.asarray(y_true), np.asarray(y_pred))   # one value per position
        if mask is not None and np.shape(mask) == values.shape:
            m = np.asarray(mask, dtype=bool)
            self.total += float(values[m].sum())
            self.count += float(m.sum())
        else:
            self.total += float(values.sum())
            self.count += float(values.size)

    def _values(self, y, p):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}


def _labels(y, p):
    """Class ids of shape p.shape[:-1] from y given with or without a trailing 1."""
    if y.ndim == p.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    return y


class SparseCategoricalAccuracy(Metric):
    name = "sparse_categorical_accuracy"

    def _values(self, y, p):
        return (np.argmax(p, axis=-1) == _labels(y, p)).astype(np.float64)


class CategoricalAccuracy(Metric):
    name = "categorical_accuracy"

    def _values(self, y, p):
        return (np.argmax(p, axis=-1) == np.argmax(y, axis=-1)).astype(np.float64)


class BinaryAccuracy(Metric):
    name = "binary_accuracy"

    def __init__(self, name=None, threshold=0.5):
        self.threshold = float(threshold)
        super().__init__(name)

    def _values(self, y, p):
        if p.ndim == 1:
            p = p[:, None]
        if y.shape == p.shape[:-1]:
            y = y[..., None]
        return ((p > self.threshold) == (y > 0.5)).astype(np.float64).mean(axis=-1)


class Accuracy(Metric):
    """Keras's "accuracy": resolved to binary / sparse / categorical accuracy on the first update."""

    name = "accuracy"

    def __init__(self, name=None, loss=None):
        self.loss_name = getattr(loss, "name", loss)
        self.from_logits = bool(getattr(loss, "from_logits", False))
        self._inner = None
        super().__init__(name)

    def _resolve(self, y, p):
        if self.loss_name == "binary_crossentropy" or (p.ndim >= 1 and p.shape[-1] == 1) or p.ndim == 1:
            return BinaryAccuracy(threshold=0.0 if self.from_logits else 0.5)
        if self.loss_name == "sparse_categorical_crossentropy" or y.ndim < p.ndim or \
                (y.ndim == p.ndim and y.shape[-1] == 1):
            return SparseCategoricalAccuracy()
        return CategoricalAccuracy()

    def _values(self, y, p):
        if self._inner is None:
            self._inner = self._resolve(y, p)
        return self._inner._values(y, p)

    def get_config(self):
        return {"name": self.name}


class LossMetric(Metric):
    """A loss used as a metric ("mse", "mae", ...), masked and averaged like the loss."""

    def __init__(self, loss, name=None):
        self.loss = _losses.get(loss)
        super().__init__(name or (loss if isinstance(loss, str) else self.loss.name))

    def update(self, y_true, y_pred, mask=None):
        value = self.loss.forward(y_true, y_pred, mask)
        n = float(np.sum(mask)) if mask is not None else float(np.prod(np.shape(y_pred)[:-1]) or 1)
        self.total += value * n
        self.count += n


_METRICS = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
}


def get(identifier, loss=None):
    """A ``Metric`` from a name (``"accuracy"`` is resolved with the help of ``loss``) or an instance."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return Accuracy(name=identifier, loss=loss)
        if identifier in _METRICS:
            return _METRICS[identifier]()
        if identifier in _losses.names():
            return LossMetric(identifier)
        raise ValueError(f"Unknown metric {identifier!r}; expected 'accuracy', one of {sorted(_METRICS)}, a loss "
                         f"name ({_losses.names()}) or an rnnlab.metrics.Metric.")
    raise TypeError(f"Expected a metric name or rnnlab.metrics.Metric, got {type(identifier).__name__}.")
