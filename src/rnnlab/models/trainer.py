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
import signal
import threading
import time
import warnings

import numpy as np

from .. import backend, callbacks as _callbacks, losses as _losses
from .. import metrics as _metrics, optimizers as _optimizers, progress
from ..layers.base import recording
from . import data
from .traversal import carried_states_kept


class NotCompiledError(RuntimeError, ValueError):
    """fit/evaluate before compile (a RuntimeError as in Keras, and a ValueError)."""


ON_NONFINITE = ("raise", "skip", "stop", "ignore")


class NonFiniteError(FloatingPointError):
    """A training step produced a NaN or infinite loss or gradient; raised before the update, so the weights
    and the optimiser state are those after the last finite step.

    Attributes: ``epoch`` and ``batch`` (0-based, as callbacks count them; None for ``train_on_batch``),
    ``loss`` (the batch's loss), ``layer`` (name of the first layer, in model order, with a non-finite
    gradient, or None when only the loss is) and ``weights`` (every non-finite gradient's weight name).
    """

    def __init__(self, message, epoch=None, batch=None, loss=None, layer=None, weights=()):
        super().__init__(message)
        self.epoch, self.batch, self.loss, self.layer, self.weights = epoch, batch, loss, layer, list(weights)


class TrainingInterrupted(KeyboardInterrupt):
    """``fit(checkpoint=...)`` got SIGINT or SIGTERM: it finished the current batch, wrote the checkpoint and
    stopped. A KeyboardInterrupt, so ``except Exception`` does not swallow it. Attributes: ``signal`` (the
    number), ``checkpoint`` (the directory), ``epoch``/``batch`` (where a resumed run continues) and
    ``exit_code`` (128 + the signal number: 130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, signum, checkpoint, epoch, batch, message=None):
        name = signal.Signals(signum).name
        super().__init__(message or f"training stopped by {name} at epoch {epoch}, batch {batch} (0-based; the next "
                         f"batch to run); checkpoint written to {str(checkpoint)!r}. Continue with fit(..., "
                         f"checkpoint={str(checkpoint)!r}, resume=True).")
        self.signal, self.checkpoint, self.epoch, self.batch = signum, checkpoint, epoch, batch
        self.exit_code = 128 + int(signum)


class _StopOnSignal:
    """While active (main thread only), SIGINT and SIGTERM set ``signum`` instead of stopping the process, so
    that ``fit`` ends the current batch and checkpoints first; a second signal stops at once."""

    def __init__(self, enabled):
        self.enabled, self.signum, self._old = enabled, None, {}

    def __enter__(self):
        if self.enabled and threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signum is not None:                   # asked twice: stop now, without a checkpoint
            self.__exit__(None, None, None)
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: stopped without a checkpoint")
        self.signum = signum

    def __exit__(self, *exc):
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old = {}
        return False


class Trainer:
    """compile, fit, evaluate, predict and the one-batch steps; mixed into ``Model``."""

    # ---- compile --------------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        """Choose the optimiser, the loss(es) and the metrics (names or objects), as in Keras.

        With several outputs (a functional model), ``loss`` is one loss for every output, a list
        aligned with the outputs, or a dict by output name; ``loss_weights`` (list or dict) weighs
        them in the total ``L = Σ_k w_k L_k``; ``metrics`` is a list applied to every output, a list
        of lists, or a dict by output name. Logs are then ``loss``, ``{output}_loss`` and
        ``{output}_{metric}``, as Keras names them.
        """
        self.optimizer = _optimizers.get(optimizer)
        names = self._output_names()
        K = len(names)
        self._losses = self._loss_list(loss, names)
        self.loss = self._losses[0] if K == 1 else (None if None in self._losses else self._losses)
        weights = [1.0] * K if loss_weights is None else self._per_output(loss_weights, "loss_weights", names)
        for k, w in enumerate(weights):
            if isinstance(w, bool) or not isinstance(w, (int, float, np.number)) or not np.isfinite(w) or w < 0:
                raise ValueError(f"loss_weights for output {names[k]!r} must be a finite number >= 0, got {w!r}.")
        self._loss_weights = [float(w) for w in weights]
        per_output = self._metric_lists(metrics, names)
        self._metrics = []                       # (output index, Metric, log name)
        for k, entries in enumerate(per_output):
            for m in entries:
                metric = _metrics.get(m, loss=self._losses[k])
                self._metrics.append((k, metric, metric.name if K == 1 else f"{names[k]}_{metric.name}"))
        self.compiled_metrics = [m for _, m, _ in self._metrics]
        logged = [n for _, _, n in self._metrics]
        if len(set(logged)) != len(logged) or "loss" in logged:
            raise ValueError(f"Metric names must be distinct and not 'loss', got {logged}.")
        self._compile_config = {
            "optimizer": self.optimizer.get_config(),
            "loss": (None if self._losses[0] is None else self._losses[0].get_config()) if K == 1
            else [None if l is None else l.get_config() for l in self._losses],
            "metrics": [m if isinstance(m, str) else m.name for m in per_output[0]] if K == 1
            else [[m if isinstance(m, str) else m.name for m in entries] for entries in per_output],
        }
        if loss_weights is not None:
            self._compile_config["loss_weights"] = self._loss_weights

    # ---- outputs: names and per-output settings ------------------------------------------------

    def _output_names(self):
        """One name per model output (a functional model overrides; one output otherwise)."""
        return [getattr(self._output_layer(), "name", "output")]

    @staticmethod
    def _is_output_dict(value, names):
        """A dict keyed by output names (not a loss config such as ``{"name": "mse"}``)."""
        return isinstance(value, dict) and bool(value) and set(value) <= set(names)

    def _loss_list(self, loss, names):
        """One Loss (or None) per output, each its own instance (a loss keeps state from forward to backward)."""
        K = len(names)
        if self._is_output_dict(loss, names):
            entries = [loss.get(n) for n in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != K:
                raise ValueError(f"compile() got {len(loss)} losses for a model with {K} output(s) {names}; pass one "
                                 f"per output (a list of {K}, or a dict by output name).")
            entries = list(loss)
        elif isinstance(loss, dict) and "name" not in loss:
            raise ValueError(f"compile() got losses for unknown outputs {sorted(set(loss) - set(names))}; the model's "
                             f"outputs are {names}.")
        else:
            entries = [loss] * K
        if K == 1:
            return [None if entries[0] is None else _losses.get(entries[0])]
        return [None if e is None else _losses.get(_losses.get(e).get_config()) for e in entries]

    def _per_output(self, value, what, names):
        """``value`` as a list aligned with the outputs: a list, or a dict by output name."""
        K = len(names)
        if self._is_output_dict(value, names):
            return [value.get(n, 1.0) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != K:
                raise ValueError(f"compile() got {len(value)} {what} for a model with {K} output(s) {names}; pass "
                                 f"one per output (a list of {K}, or a dict by output name).")
            return list(value)
        raise TypeError(f"compile() expects {what} as a list of {K} or a dict by output name {names}, "
                        f"got {type(value).__name__}.")

    def _metric_lists(self, metrics, names):
        """``metrics`` as one list of metric identifiers per output."""
        K = len(names)
        if metrics is None:
            return [[] for _ in names]
        if isinstance(metrics, (str, _metrics.Metric)):
            metrics = [metrics]
        if isinstance(metrics, dict) and (K > 1 or self._is_output_dict(metrics, names)):
            unknown = sorted(set(metrics) - set(names))
            if unknown:
                raise ValueError(f"compile() got metrics for unknown outputs {unknown}; the model's outputs are "
                                 f"{names}.")
            return [self._as_metric_list(metrics.get(n)) for n in names]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics must be a list of names or Metric objects, got {type(metrics).__name__}.")
        if K > 1 and metrics and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
            if len(metrics) != K:
                raise ValueError(f"compile() got {len(metrics)} metric lists for a model with {K} outputs {names}.")
            return [self._as_metric_list(m) for m in metrics]
        if K > 1:
            return [list(metrics) for _ in names]
        return [list(metrics)]

    @staticmethod
    def _as_metric_list(m):
        if m is None:
            return []
        return [m] if isinstance(m, (str, _metrics.Metric)) else list(m)

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise NotCompiledError(f"You must compile the model before calling {what}(): "
                                   "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy').")
        if self.loss is None:
            raise NotCompiledError(f"The model was compiled without a loss, so {what}() cannot run: "
                                   "pass loss=... to compile() (one for each output).")


    # ---- data checks ----------------------------------------------------------------------------

    def _check_x(self, x, what="x"):
        return data.check_x(x, what, self._multi_input())

    def _check_xy(self, x, y, what):
        return data.check_xy(x, y, what, self._multi_input(), self._output_names())

    # ---- one batch: gradients, then the update --------------------------------------------------------

    def _fused(self):
        """Per output: True when its layer's activation is the one its loss fuses with (p - y)."""
        flags = []
        for layer, loss in zip(self._output_layers(), self._losses):
            act = None if layer is None else layer.output_activation()
            flags.append(act is not None and loss.fused_activation is not None and not loss.from_logits
                         and act == loss.fused_activation)
        return flags[0] if len(flags) == 1 else flags

    def _output_layers(self):
        """Per output, the layer whose ``backward(..., pre_activation=True)`` may take the fused gradient."""
        return [self._output_layer()]

    def _as_list(self, a):
        return list(a) if len(self._losses) > 1 else [a]

    def compute_gradients(self, x, y):
        """Zero the gradients, then forward, loss and backward on one batch; returns
        ``(loss, y_pred, masks)``. The weight gradients are left in the layers (``parameters()``).
        With several outputs the loss is ``Σ_k w_k L_k`` and each output's gradient is scaled by ``w_k``."""
        self.zero_grad()
        self.clear_calls()
        with recording():
            y_pred = self._forward(x, training=True)
            preds, ys = self._as_list(y_pred), self._as_list(y)
            masks = [self._loss_mask(p, k) for k, p in enumerate(preds)]
            fused = self._as_list(self._fused())
            values, grads = [], []
            for k, (loss, w) in enumerate(zip(self._losses, self._loss_weights)):
                values.append(loss.forward(ys[k], preds[k], masks[k]))
                g = loss.backward_fused() if fused[k] else loss.backward()    # dL/dz = w (p - y), or dL/dy
                grads.append(g if w == 1.0 else g * w)
            if len(preds) == 1:
                self._backward(grads[0], pre_activation=fused[0])
            else:
                self._backward(grads, pre_activation=fused)
        total = values[0] if len(values) == 1 else sum(w * v for w, v in zip(self._loss_weights, values))
        self._output_losses = values
        return total, y_pred, masks if len(masks) > 1 else masks[0]

    def apply_gradients(self):
        """One optimiser step with the gradients in the layers (in place)."""
        self.optimizer.apply(self.parameters())

    def _loss_mask(self, y_pred, k=0):
        m = self._output_mask if len(self._losses) == 1 else self._output_masks[k]
        if m is None or np.ndim(y_pred) != 3 or np.shape(m) != np.shape(y_pred)[:2]:
            return None
        return m

    def train_on_batch(self, x, y, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics, as Keras does). A NaN or infinite
        loss or gradient raises ``NonFiniteError`` before the update (the weights stay as they were)."""
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

    def _train_step(self, x, y, on_nonfinite="raise", epoch=None, batch=None):
        """One step; returns False when a non-finite loss or gradient kept the update from being applied
        (``on_nonfinite`` "skip"/"stop"; "raise" raises ``NonFiniteError``; "ignore" applies it anyway)."""
        value, y_pred, mask = self.compute_gradients(x, y)
        for hook in self.gradient_hooks:                  # where a distributed strategy sums them
            hook(self)
        if on_nonfinite != "ignore" and not self._step_finite(value):
            error = self._nonfinite_error(value, epoch, batch)
            if error is not None:
                if on_nonfinite == "raise":
                    raise error
                self._last_nonfinite = error
                return False
        self.apply_gradients()
        self._update_metrics(value, y, y_pred, mask)
        return True

    def _step_finite(self, value):
        """Cheap test of the loss and of every gradient (one sum each; an overflowing sum of finite values
        is caught again by ``_nonfinite_error``, which looks element by element)."""
        if not math.isfinite(value):
            return False
        flat = getattr(self, "_flat_gradients", None)
        if flat is not None:
            return math.isfinite(flat.sum())
        for _, g in self.parameters():
            if not math.isfinite(g.sum()):
                return False
        return True

    def _nonfinite_error(self, value, epoch, batch):
        """The ``NonFiniteError`` of this step, or None when the loss and gradients are in fact finite."""
        from .traversal import all_layers
        bad, layer = [], None
        for lay in all_layers(self.layers):
            for key, g in lay._grads.items():
                name = f"{lay.name}/{key}"
                if name not in bad and not np.all(np.isfinite(g)):
                    bad.append(name)
                    layer = layer or lay.name
        if math.isfinite(value) and not bad:
            return None
        where = "in train_on_batch" if epoch is None else \
            f"at epoch {epoch}, batch {batch} (0-based, as callbacks count them)"
        what = f"the loss is {value}" if not math.isfinite(value) else f"the loss is finite ({value:.6g})"
        grads = f"the first layer with a non-finite gradient is {layer!r} (weights {bad})" if bad else \
            "every gradient is finite"
        return NonFiniteError(
            f"Training stopped {where}: {what} and {grads}. Nothing was updated: the weights and the optimizer "
            "state are those after the previous batch. Check the data for NaN/inf, lower the learning rate or "
            "clip gradients (e.g. optimizer clipnorm=1.0); or pass fit(..., on_nonfinite='skip') to skip such "
            "batches, or on_nonfinite='stop' to end training quietly.",
            epoch=epoch, batch=batch, loss=float(value), layer=layer, weights=bad)

    def _predict_batch(self, x):
        self.clear_calls()
        return self._forward(x, training=False)

    def _test_step(self, x, y):
        y_pred = self._predict_batch(x)
        preds, ys = self._as_list(y_pred), self._as_list(y)
        masks = [self._loss_mask(p, k) for k, p in enumerate(preds)]
        values = [loss.forward(ys[k], preds[k], masks[k]) for k, loss in enumerate(self._losses)]
        self._output_losses = values
        total = values[0] if len(values) == 1 else sum(w * v for w, v in zip(self._loss_weights, values))
        self._update_metrics(total, y, y_pred, masks if len(masks) > 1 else masks[0])

    def _reset_metrics(self):
        self._loss_total, self._loss_count = 0.0, 0
        self._output_loss_totals = [0.0] * len(self._losses)
        for m in self.compiled_metrics:
            m.reset()

    def _update_metrics(self, value, y, y_pred, mask):
        n = data.n_samples(y) if len(self._losses) > 1 else len(y)
        self._loss_total += value * n                   # Keras: the epoch loss is the sample-weighted mean
        self._loss_count += n
        if len(self._losses) > 1:
            for k, v in enumerate(self._output_losses):
                self._output_loss_totals[k] += v * n
        ys, preds, masks = self._as_list(y), self._as_list(y_pred), self._as_list(mask)
        for k, m, _ in self._metrics:
            m.update(ys[k], preds[k], masks[k])

    def _logs(self):
        count = max(self._loss_count, 1)
        logs = {"loss": self._loss_total / count}
        if len(self._losses) > 1:
            for name, total in zip(self._output_names(), self._output_loss_totals):
                logs[f"{name}_loss"] = total / count
        for _, m, name in self._metrics:
            logs[name] = float(m.result())
        return logs

    @staticmethod
    def _format_result(logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


    # ---- fit / evaluate / predict -----------------------------------------------------------------

    def _validation(self, x, y, validation_split, validation_data):
        """``(x, y, val)``: the training data and the validation pair: ``validation_data`` (a tuple or a dataset)
        checked, else the last ``validation_split`` of ``x``/``y`` taken before shuffling (as Keras), else None."""
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.number)) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit() got validation_split={validation_split!r}; expected a float in [0, 1), "
                             "e.g. 0.2 to hold out the last 20% of the data.")
        if validation_data is not None:
            if hasattr(validation_data, "as_arrays"):
                validation_data = validation_data.as_arrays()
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val) or a dataset.")
            return x, y, self._check_xy(validation_data[0], validation_data[1], "validation_data")
        if validation_split == 0:
            return x, y, None
        n = data.n_samples(x)
        split_at = int(math.floor(n * (1.0 - validation_split)))
        if split_at == 0 or split_at == n:
            raise ValueError(f"validation_split={validation_split} leaves {split_at} training and "
                             f"{n - split_at} validation samples out of {n}; both must be non-empty.")
        val = (data.take(x, slice(split_at, None)), data.take(y, slice(split_at, None)))
        return data.take(x, slice(0, split_at)), data.take(y, slice(0, split_at)), val

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0, on_nonfinite="raise", checkpoint=None,
            checkpoint_every=None, resume=False):
        """Train for ``epochs`` passes over the data; returns a ``History``.

        Args:
            x, y: inputs (array; token ids for Embedding models) and targets, same first axis; or ``x`` a
                dataset (``utils.timeseries_dataset_from_array``) with ``y=None``: its arrays, batch size
                and shuffle setting are used.
            batch_size: samples per gradient step (the last batch may be smaller).
            epochs: index of the last epoch (training runs epochs ``initial_epoch .. epochs-1``).
            verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
            callbacks: list of ``rnnlab.callbacks.Callback``.
            validation_split: fraction in [0, 1) of the data held out for validation; as in Keras it
                is the LAST part of ``x``/``y``, taken before shuffling.
            validation_data: ``(x_val, y_val)``; overrides ``validation_split``.
            shuffle: reshuffle the training samples every epoch (with the backend's generator,
                so ``utils.set_random_seed`` makes runs repeatable).
            on_nonfinite: what a NaN or infinite loss or gradient does; it is caught after the backward pass
                and before the update, so the weights and optimiser state stay those of the last finite step.
                ``"raise"`` (default): raise ``rnnlab.NonFiniteError`` naming the epoch, batch and first layer
                with a non-finite gradient. ``"skip"``: drop that batch's update and go on; the logs get
                ``skipped_batches`` (per epoch). ``"stop"``: end training after the previous batch, with a
                warning (like ``TerminateOnNaN``, but without the bad update). ``"ignore"``: apply the update
                anyway (Keras's behaviour; pair it with ``callbacks.TerminateOnNaN``).
            checkpoint: a directory for training checkpoints (``models.checkpoint``): the weights, the optimiser
                state, every random generator's state, the position in the run and the epoch's data order,
                written as one unit (atomically). Written after every epoch, after every ``checkpoint_every``
                batches, and when SIGINT or SIGTERM arrives: ``fit`` then finishes the current batch, writes the
                checkpoint and raises ``rnnlab.TrainingInterrupted`` (a KeyboardInterrupt; ``exit_code`` 130
                or 143).
            checkpoint_every: also checkpoint after every this many batches (counted over the whole run).
            resume: continue from ``checkpoint`` when it holds one (else start afresh): the run then ends with
                the weights an uninterrupted run would have had, bit for bit. Same data, architecture,
                optimiser class and settings are required; callbacks' own state (EarlyStopping's patience
                counter) is not part of a checkpoint.
        """
        self._require_compiled("fit")
        if on_nonfinite not in ON_NONFINITE:
            raise ValueError(f"fit() got on_nonfinite={on_nonfinite!r}; expected one of {list(ON_NONFINITE)}: "
                             "'raise' (default), 'skip' the batch, 'stop' training, or 'ignore' (apply anyway).")
        if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or not isinstance(
                checkpoint_every, (int, np.integer)) or checkpoint_every < 1):
            raise ValueError(f"fit() got checkpoint_every={checkpoint_every!r}; expected a positive number of "
                             "batches or None (checkpoint at epoch ends only).")
        if (checkpoint_every is not None or resume) and checkpoint is None:
            raise ValueError("fit() got checkpoint_every/resume without checkpoint=DIR; pass the directory that "
                             "holds (or will hold) the checkpoints, e.g. fit(..., checkpoint='runs/ckpt').")
        if hasattr(x, "as_arrays"):                  # a dataset decides its own order, as in Keras
            shuffle = bool(getattr(x, "shuffle", False))
        x, y, batch_size = data.from_dataset(x, y, batch_size, "fit")
        x, y = self._check_xy(x, y, "fit")
        batch_size = data.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit() got epochs={epochs!r}; expected a non-negative integer.")
        x, y, val = self._validation(x, y, validation_split, validation_data)

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
        first_epoch, first_step, resumed_order, skipped = initial_epoch, 0, None, 0
        resumed_epochs = []
        if resume:
            from .checkpoint import has_checkpoint, restore_checkpoint
            if has_checkpoint(checkpoint):
                state = restore_checkpoint(self, checkpoint)
                run = state["extra"].get("fit", {})
                if run.get("samples") != n or run.get("batch_size") != batch_size:
                    raise ValueError(f"The checkpoint {str(checkpoint)!r} was written by a run over "
                                     f"{run.get('samples')} samples in batches of {run.get('batch_size')}; this "
                                     f"fit() has {n} samples in batches of {batch_size}. Resume with the same data "
                                     "and batch_size, or start afresh with resume=False and another directory.")
                first_epoch, first_step = state["epoch"], state["batch"]
                resumed_order, skipped = state["order"], state["skipped_batches"]
                history.history = {k: list(v) for k, v in state["history"].items()}
                resumed_epochs = list(run.get("epochs_done", []))
        guard = on_nonfinite

        def save(epoch, step, order):
            from .checkpoint import save_checkpoint
            save_checkpoint(self, checkpoint, epoch, step, order=order, history=history.history, skipped=skipped,
                            metadata=getattr(self, "_checkpoint_metadata", None),
                            extra={"fit": {"samples": n, "batch_size": batch_size, "epochs_done": history.epoch}})

        stopper = _StopOnSignal(checkpoint is not None)
        with stopper:
            cbs.on_train_begin()
            history.epoch = resumed_epochs
            for epoch in range(first_epoch, epochs):
                resuming = epoch == first_epoch and first_step > 0
                if not resuming:
                    self._reset_metrics()
                    skipped = 0
                cbs.on_epoch_begin(epoch)
                if resuming and resumed_order is not None:
                    order = resumed_order
                else:
                    order = backend.rng().permutation(n) if shuffle else np.arange(n)
                start_time = time.perf_counter()
                with progress.bar(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", verbose=verbose,
                                  unit="batch", initial=first_step if resuming else 0) as pbar:
                    for step in range(first_step if resuming else 0, steps):
                        idx = order[step * batch_size:(step + 1) * batch_size]
                        cbs.on_train_batch_begin(step)
                        if not self._train_step(data.take(x, idx), data.take(y, idx), guard, epoch, step):
                            skipped += 1
                            if guard == "stop":
                                warnings.warn(f"{self._last_nonfinite}", RuntimeWarning, stacklevel=2)
                                self.stop_training = True
                        logs = self._logs()
                        if guard == "skip":
                            logs["skipped_batches"] = skipped
                        cbs.on_train_batch_end(step, logs)
                        pbar.update(1)
                        pbar.set_postfix_str(progress.format_logs(logs), refresh=False)
                        if checkpoint is not None and (stopper.signum is not None or (
                                checkpoint_every and (epoch * steps + step + 1) % checkpoint_every == 0)):
                            save(epoch, step + 1, order)
                            if stopper.signum is not None:
                                raise TrainingInterrupted(stopper.signum, checkpoint, epoch, step + 1)
                        if self.stop_training:
                            break
                    epoch_logs = self._logs()
                    if guard == "skip":
                        epoch_logs["skipped_batches"] = skipped
                    if val is not None:
                        val_logs = self.evaluate(val[0], val[1], batch_size=batch_size, verbose=0, return_dict=True)
                        epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                    pbar.set_postfix_str(progress.format_logs(epoch_logs))
                if verbose == 2:
                    seconds = time.perf_counter() - start_time
                    progress.line(f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {progress.format_logs(epoch_logs)}")
                cbs.on_epoch_end(epoch, epoch_logs)
                if checkpoint is not None:
                    save(epoch + 1, 0, None)
                    if stopper.signum is not None:
                        raise TrainingInterrupted(stopper.signum, checkpoint, epoch + 1, 0)
                if self.stop_training:
                    break
        if epochs > initial_epoch:
            self.optimizer.finalize_variable_values([w for w, _ in self.parameters()])   # use_ema: the averages
        cbs.on_train_end()
        return history

    def _check_targets(self, x, y):
        """Check all of ``y`` against the model's output shapes before any weight changes
        (labels outside the output size, shape mismatch), with one sample's forward pass."""
        with carried_states_kept(self.layers):       # the probe must not advance stateful layers
            out = self._forward(data.take(x, slice(0, 1)), training=False)
        for loss, o, t in zip(self._losses, self._as_list(out), self._as_list(y)):
            if isinstance(o, np.ndarray):
                shape = (len(t),) + (o.shape[1:] or (1,))
                loss._check_targets(t, np.broadcast_to(np.zeros((), o.dtype), shape))

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
        """The loss and metrics on ``(x, y)``, averaged over all samples (no weight updates)."""
        self._require_compiled("evaluate")
        x, y, batch_size = data.from_dataset(x, y, batch_size, "evaluate")
        x, y = self._check_xy(x, y, "evaluate")
        batch_size = data.check_batch_size(batch_size)
        n = data.n_samples(x)
        self._reset_metrics()
        with progress.bar(total=math.ceil(n / batch_size), desc="Evaluate", verbose=verbose, unit="batch") as pbar:
            for start in range(0, n, batch_size):
                idx = slice(start, start + batch_size)
                self._test_step(data.take(x, idx), data.take(y, idx))
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
        x, _, batch_size = data.from_dataset(x, None, batch_size, "predict")
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
