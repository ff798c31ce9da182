"""``Trainer``: the Keras-style training loop (compile / fit / evaluate / predict) that ``Model`` mixes in.

One training step on a batch, split at the seam where a distributed strategy sums gradients::

    loss, y_pred, mask = model.compute_gradients(x, y)   # zero, forward, loss, backward (recorded)
    for hook in model.gradient_hooks:                    # e.g. an all-reduce over processes
        hook(model)
    model.apply_gradients()                              # the optimiser's in-place update

``compute_gradients`` runs the forward and backward passes inside ``layers.recording()``, so a layer
called several times in one pass gets a record per call and its weight gradients add up. When the
output layer ends in the activation that the loss fuses with (softmax + categorical cross-entropy,
sigmoid + binary cross-entropy), the loss gives ``dL/dz = p - y`` directly and the model's backward
gets ``pre_activation=True``, which the output layer's ``backward`` honours (``Dense.backward``);
otherwise the loss gives ``dL/dy_pred``.

Example::

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.2)
    history.history["val_accuracy"]
"""
import math
import time

import numpy as np

from .. import backend, callbacks as _callbacks, losses as _losses
from .. import metrics as _metrics, optimizers as _optimizers, progress
from ..layers.base import recording
from . import data
from .traversal import carried_states_kept


class NotCompiledError(RuntimeError, ValueError):
    """fit/evaluate before compile (a RuntimeError as in Keras, and a ValueError)."""


class Trainer:
    """compile, fit, evaluate, predict and the one-batch steps; mixed into ``Model``."""

    # ---- compile --------------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimiser, the loss and the metrics (names or objects), as in Keras."""
        self.optimizer = _optimizers.get(optimizer)
        self.loss = None if loss is None else _losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, _metrics.Metric)):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics must be a list of names or Metric objects, got {type(metrics).__name__}.")
        self.compiled_metrics = [_metrics.get(m, loss=self.loss) for m in metrics]
        names = [m.name for m in self.compiled_metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"Metric names must be distinct and not 'loss', got {names}.")
        self._compile_config = {
            "optimizer": self.optimizer.get_config(),
            "loss": None if self.loss is None else self.loss.get_config(),
            "metrics": [m if isinstance(m, str) else m.name for m in metrics],
        }

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise NotCompiledError(f"You must compile the model before calling {what}(): "
                               "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy').")
        if self.loss is None:
            raise NotCompiledError(f"The model was compiled without a loss, so {what}() cannot run: "
                               "pass loss=... to compile().")


    # ---- data checks ----------------------------------------------------------------------------

    def _check_x(self, x, what="x"):
        return data.check_x(x, what, self._multi_input())

    def _check_xy(self, x, y, what):
        return data.check_xy(x, y, what, self._multi_input())

    # ---- one batch: gradients, then the update --------------------------------------------------------

    def _fused(self):
        """True when the output layer's activation is the one the loss fuses with (p - y)."""
        out = self._output_layer()
        act = None if out is None else out.output_activation()
        return (act is not None and self.loss.fused_activation is not None and not self.loss.from_logits
                and act == self.loss.fused_activation)

    def compute_gradients(self, x, y):
        """Zero the gradients, then forward, loss and backward on one batch; returns
        ``(loss, y_pred, mask)``. The weight gradients are left in the layers (``parameters()``)."""
        self.zero_grad()
        self.clear_calls()
        with recording():
            y_pred = self._forward(x, training=True)
            mask = self._loss_mask(y_pred)
            value = self.loss.forward(y, y_pred, mask)
            if self._fused():
                self._backward(self.loss.backward_fused(), pre_activation=True)   # dL/dz = w (p - y)
            else:
                self._backward(self.loss.backward())                              # dL/dy_pred
        return value, y_pred, mask

    def apply_gradients(self):
        """One optimiser step with the gradients in the layers (in place)."""
        self.optimizer.apply(self.parameters())

    def _loss_mask(self, y_pred):
        m = self._output_mask
        if m is None or np.ndim(y_pred) != 3 or np.shape(m) != np.shape(y_pred)[:2]:
            return None
        return m

    def train_on_batch(self, x, y, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics, as Keras does)."""
        self._require_compiled("train_on_batch")
        x, y = self._check_xy(x, y, "train_on_batch")
        self._reset_metrics()
        self._train_step(x, y)
        return self._format_result(self._logs(), return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        self._require_compiled("test_on_batch")
        x, y = self._check_xy(x, y, "test_on_batch")
        self._reset_metrics()
        self._test_step(x, y)
        return self._format_result(self._logs(), return_dict)

    def predict_on_batch(self, x):
        return self._predict_batch(self._check_x(x))

    def _train_step(self, x, y):
        value, y_pred, mask = self.compute_gradients(x, y)
        for hook in self.gradient_hooks:                  # where a distributed strategy sums them
            hook(self)
        self.apply_gradients()
        self._update_metrics(value, y, y_pred, mask)

    def _predict_batch(self, x):
        self.clear_calls()
        return self._forward(x, training=False)

    def _test_step(self, x, y):
        y_pred = self._predict_batch(x)
        mask = self._loss_mask(y_pred)
        value = self.loss.forward(y, y_pred, mask)
        self._update_metrics(value, y, y_pred, mask)

    def _reset_metrics(self):
        self._loss_total, self._loss_count = 0.0, 0
        for m in self.compiled_metrics:
            m.reset()

    def _update_metrics(self, value, y, y_pred, mask):
        n = len(y)
        self._loss_total += value * n                   # Keras: the epoch loss is the sample-weighted mean
        self._loss_count += n
        for m in self.compiled_metrics:
            m.update(y, y_pred, mask)

    def _logs(self):
        logs = {"loss": self._loss_total / max(self._loss_count, 1)}
        for m in self.compiled_metrics:
            logs[m.name] = float(m.result())
        return logs

    @staticmethod
    def _format_result(logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


    # ---- fit / evaluate / predict -----------------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` passes over the data; returns a ``History``.

        Args:
            x, y: inputs (array; token ids for Embedding models) and targets, same first axis.
            batch_size: samples per gradient step (the last batch may be smaller).
            epochs: index of the last epoch (training runs epochs ``initial_epoch .. epochs-1``).
            verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
            callbacks: list of ``rnnlab.callbacks.Callback``.
            validation_split: fraction in [0, 1) of the data held out for validation; as in Keras it
                is the LAST part of ``x``/``y``, taken before shuffling.
            validation_data: ``(x_val, y_val)``; overrides ``validation_split``.
            shuffle: reshuffle the training samples every epoch (with the backend's generator,
                so ``utils.set_random_seed`` makes runs repeatable).
        """
        self._require_compiled("fit")
        x, y = self._check_xy(x, y, "fit")
        batch_size = data.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit() got epochs={epochs!r}; expected a non-negative integer.")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.number)) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit() got validation_split={validation_split!r}; expected a float in [0, 1), "
                             "e.g. 0.2 to hold out the last 20% of the data.")
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val).")
            val = self._check_xy(validation_data[0], validation_data[1], "validation_data")
        elif validation_split > 0:
            n = data.n_samples(x)
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(f"validation_split={validation_split} leaves {split_at} training and "
                                 f"{n - split_at} validation samples out of {n}; both must be non-empty.")
            val = (data.take(x, slice(split_at, None)), y[split_at:])
            x, y = data.take(x, slice(0, split_at)), y[:split_at]

        self._check_targets(x, y)
        if val is not None:
            self._check_targets(*val)
        n = data.n_samples(x)
        steps = math.ceil(n / batch_size)
        history = _callbacks.History()
        params = {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size}
        cbs = _callbacks.CallbackList(list(callbacks or []) + [history], model=self, params=params)
        self.history = history
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            order = backend.rng().permutation(n) if shuffle else np.arange(n)
            start_time = time.perf_counter()
            with progress.bar(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", verbose=verbose,
                              unit="batch") as pbar:
                for step in range(steps):
                    idx = order[step * batch_size:(step + 1) * batch_size]
                    cbs.on_train_batch_begin(step)
                    self._train_step(data.take(x, idx), y[idx])
                    logs = self._logs()
                    cbs.on_train_batch_end(step, logs)
                    pbar.update(1)
                    pbar.set_postfix_str(progress.format_logs(logs), refresh=False)
                    if self.stop_training:
                        break
                epoch_logs = self._logs()
                if val is not None:
                    val_logs = self.evaluate(val[0], val[1], batch_size=batch_size, verbose=0, return_dict=True)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                pbar.set_postfix_str(progress.format_logs(epoch_logs))
            if verbose == 2:
                seconds = time.perf_counter() - start_time
                progress.line(f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {progress.format_logs(epoch_logs)}")
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if epochs > initial_epoch:
            self.optimizer.finalize_variable_values([w for w, _ in self.parameters()])   # use_ema: the averages
        cbs.on_train_end()
        return history

    def _check_targets(self, x, y):
        """Check all of ``y`` against the model's output shape before any weight changes
        (labels outside the output size, shape mismatch), with one sample's forward pass."""
        with carried_states_kept(self.layers):       # the probe must not advance stateful layers
            out = self._forward(data.take(x, slice(0, 1)), training=False)
        if isinstance(out, np.ndarray):
            shape = (len(y),) + (out.shape[1:] or (1,))
            self.loss._check_targets(y, np.broadcast_to(np.zeros((), out.dtype), shape))

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
        """The loss and metrics on ``(x, y)``, averaged over all samples (no weight updates)."""
        self._require_compiled("evaluate")
        x, y = self._check_xy(x, y, "evaluate")
        batch_size = data.check_batch_size(batch_size)
        n = data.n_samples(x)
        self._reset_metrics()
        with progress.bar(total=math.ceil(n / batch_size), desc="Evaluate", verbose=verbose, unit="batch") as pbar:
            for start in range(0, n, batch_size):
                idx = slice(start, start + batch_size)
                self._test_step(data.take(x, idx), y[idx])
                pbar.update(1)
                pbar.set_postfix_str(progress.format_logs(self._logs()), refresh=False)
        logs = self._logs()
        if verbose == 2:
            progress.line(progress.format_logs(logs))
        return self._format_result(logs, return_dict)

    def predict(self, x, batch_size=32, verbose="auto"):
        """The model's outputs for ``x``, computed ``batch_size`` samples at a time.

        ``verbose``: 1 (or "auto", as in Keras) shows a progress bar, 0 is silent.
        """
        verbose = 1 if verbose == "auto" else verbose
        x = self._check_x(x)
        batch_size = data.check_batch_size(batch_size)
        n = data.n_samples(x)
        outputs = []
        for start in progress.bar(range(0, n, batch_size), desc="Predict", verbose=verbose, unit="batch"):
            outputs.append(self._predict_batch(data.take(x, slice(start, start + batch_size))))
        if not outputs:
            raise ValueError("predict() got empty input (0 samples).")
        if isinstance(outputs[0], (list, tuple)):
            return [np.concatenate(parts, axis=0) for parts in zip(*outputs)]
        return np.concatenate(outputs, axis=0)
