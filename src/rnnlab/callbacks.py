"""Callbacks: code that ``fit`` calls at the start/end of training, epochs and batches (as Keras).

    class PrintLoss(Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["loss"])

    model.fit(x, y, epochs=10, callbacks=[EarlyStopping(patience=2, restore_best_weights=True)])

``logs`` is a dict of floats: ``loss``, each metric, and ``val_``-prefixed values when there is
validation data. A callback can stop training by setting ``self.model.stop_training = True``.

``TerminateOnNaN()`` stops after a batch whose loss is NaN or infinite (for ``fit(on_nonfinite="ignore")``;
by default ``fit`` raises ``rnnlab.NonFiniteError`` before such an update).

Loggers: ``CSVLogger(filename, separator=",", append=False)`` writes one row per epoch in Keras's
format; ``TensorBoard(log_dir)`` writes TensorBoard event files (``pip install rnnlab[tensorboard]``,
which brings ``tensorboardX``); ``rnnlab.diagnostics.GradientFlow`` records gradients through time.
"""
import collections
import csv
import os
import warnings

import numpy as np


class Callback:
    """Base class; every hook does nothing. ``self.model`` and ``self.params`` are set by ``fit``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls each hook of a list of callbacks in order."""

    def __init__(self, callbacks, model=None, params=None):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be rnnlab.callbacks.Callback instances, got {type(cb).__name__}.")
            cb.set_model(model)
            cb.set_params(params or {})

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call


class History(Callback):
    """Records the logs of each epoch: ``history.history["loss"]`` is a list with one value per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _mode(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}.")
    if mode == "auto":
        return "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a key of the epoch logs, e.g. ``"val_loss"`` (default) or ``"val_accuracy"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: "min", "max" or "auto" (max for accuracies, else min).
        restore_best_weights: at the end of training put back the weights of the best epoch
            (Keras 3 behaviour: also when training ran all its epochs).
        baseline: a value the monitor must beat; ``verbose``: print when stopping.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False):
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(float(min_delta)), int(patience)
        self.verbose, self.baseline, self.restore_best_weights = verbose, baseline, bool(restore_best_weights)
        self.mode = _mode(monitor, mode)

    def _better(self, current, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:                                  # Keras warns and carries on
            warnings.warn(f"EarlyStopping monitors {self.monitor!r}, but the epoch logs only have "
                          f"{sorted(logs or {})}; it does nothing. Pass validation data for 'val_*' or "
                          "monitor one of these.", stacklevel=2)
            return
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training after the batch whose loss is NaN or infinite, as Keras's ``TerminateOnNaN``.

    ``fit`` already refuses a non-finite step by default (``on_nonfinite="raise"``, before the update);
    this callback is for ``fit(..., on_nonfinite="ignore")``, Keras's behaviour, where the update is applied
    and training then ends. Prints which batch it was.
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when ``monitor`` improves, with ``save_best_only``).

    ``filepath`` may hold format fields filled from the epoch (1-based) and the logs, e.g.
    ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}"``. The model is written with ``model.save`` (atomic).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto"):
        super().__init__()
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only = bool(save_best_only)
        self.mode = _mode(monitor, mode)
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:                              # Keras warns and skips saving
                warnings.warn(f"ModelCheckpoint(save_best_only=True) monitors {self.monitor!r}, but the epoch "
                              f"logs only have {sorted(logs)}; not saving. Pass validation data for 'val_*' or "
                              "monitor one of these.", stacklevel=2)
                return
            if np.isnan(current) or (self.best is not None and
                                     (current >= self.best if self.mode == "min" else current <= self.best)):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved to {current:.5f}, saving model to {path}")
            self.best = current
        self.model.save(path)


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file, as Keras's ``CSVLogger``.

    Args:
        filename: the CSV file.
        separator: the field separator (default ``","``).
        append: add to an existing file (no second header when it already has one) instead of
            overwriting it.

    Format (Keras's): a header ``epoch,<log keys sorted>`` and one row per epoch, ``epoch``
    counted from 0. The columns are fixed at the first epoch; when that epoch has no ``val_``
    key, Keras adds a ``val_`` column for every key (filled with ``NA`` until values arrive),
    and so does this class. Example::

        model.fit(x, y, epochs=3, callbacks=[CSVLogger("run/history.csv")])
        # epoch,loss,val_loss
        # 0,0.69,NA ...
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger separator must be one character, got {separator!r}.")
        self.filename, self.sep, self.append = os.fspath(filename), separator, bool(append)
        self.keys, self.writer, self.csv_file, self.append_header = None, None, None, True

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self.append_header = not f.readline()
        else:
            self.append_header = True
        self._close()
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self.writer, self.keys = None, None

    @staticmethod
    def _value(v):
        if isinstance(v, str) or (isinstance(v, np.ndarray) and v.ndim == 0):
            return v
        if isinstance(v, collections.abc.Iterable):
            return '"[' + ", ".join(map(str, v)) + ']"'
        return v

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            sep = self.sep

            class Dialect(csv.excel):
                delimiter = sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, self._value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _summary_writer(log_dir):
    try:
        from tensorboardX import SummaryWriter
    except ImportError as e:
        raise ImportError("TensorBoard logging needs tensorboardX: pip install 'rnnlab[tensorboard]' "
                          "(or pip install tensorboardX).") from e
    return SummaryWriter(log_dir)


class TensorBoard(Callback):
    """Write the training logs as TensorBoard event files (through ``tensorboardX``), as Keras does.

    Args:
        log_dir: the run's folder; training scalars go to ``log_dir/train``, ``val_*`` ones (without
            the prefix) to ``log_dir/validation``, so TensorBoard overlays them, as Keras arranges it.
        update_freq: ``"epoch"`` (default): ``epoch_<name>`` at each epoch end (step = epoch);
            an int k: also ``batch_<name>`` every k training steps (step = global step).

    ``log_scalars(step, {tag: value})`` writes any other scalars to ``log_dir/train`` (the
    ``GradientFlow`` callback uses it). Read the files with ``tensorboard --logdir LOG_DIR``.
    Needs ``pip install rnnlab[tensorboard]``. Example::

        tb = TensorBoard("runs/lstm")
        model.fit(x, y, epochs=5, validation_split=0.2,
                  callbacks=[tb, GradientFlow(every_n_batches=20, log_to=[tb])])
    """

    def __init__(self, log_dir="logs", update_freq="epoch"):
        super().__init__()
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise ValueError(f"TensorBoard update_freq must be 'epoch' or a positive int (steps), got {update_freq!r}.")
        self.log_dir, self.update_freq = os.fspath(log_dir), update_freq
        self._writers = {}
        self._global = 0

    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = _summary_writer(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_begin(self, logs=None):
        self._writer("train")                    # fail early when tensorboardX is missing
        self._global = 0

    def on_train_batch_end(self, batch, logs=None):
        self._global += 1
        if self.update_freq != "epoch" and self._global % self.update_freq == 0:
            w = self._writer("train")
            for k, v in (logs or {}).items():
                w.add_scalar(f"batch_{k}", float(v), self._global)

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            which, name = ("validation", k[4:]) if k.startswith("val_") else ("train", k)
            self._writer(which).add_scalar(f"epoch_{name}", float(v), epoch)
        self.flush()

    def log_scalars(self, step, scalars, which="train"):
        """Write ``{tag: value}`` at ``step`` into ``log_dir/<which>``."""
        w = self._writer(which)
        for tag, v in scalars.items():
            w.add_scalar(tag, float(v), int(step))

    def flush(self):
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
