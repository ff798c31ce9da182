"""``Model``: the Keras-style training loop (compile / fit / evaluate / predict), shared by every model.

A subclass supplies the network; ``Model`` supplies training. What a subclass implements:

    layers                        property: the list of layers (weights, saving, summary)
    _forward(x, training)         the outputs for inputs ``x`` (an array, or a list of arrays);
                                  sets ``self._output_mask`` (an (N, T) mask of the output or None)
    _backward(grad, skip_activation=False)
                                  backpropagates dL/d(outputs) through the layers in reverse;
                                  ``skip_activation=True`` means ``grad`` is already dL/dz of the
                                  last layer's pre-activation (the fused softmax/CE gradient)
    _output_layer()               the layer whose activation could be fused with the loss, or None
    get_config() / from_config()  for saving (``Sequential`` shows how)

One training step on a batch:

    y_pred = _forward(x)                          # layer by layer, masks flowing with the data
    L = loss.forward(y, y_pred, mask)             # mean over samples (or over real time steps)
    dz = loss.backward_fused()  if the last layer's activation matches the loss (p - y)
    dy = loss.backward()        otherwise
    _backward(dz or dy)                           # each layer adds dL/dW into its gradients
    optimizer.apply(parameters())                 # in-place update, then gradients are zeroed

Example::

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.2)
    history.history["val_accuracy"]
"""
import contextlib
import math
import time

import numpy as np

from .. import activations, backend, callbacks as _callbacks, losses as _losses
from .. import metrics as _metrics, optimizers as _optimizers, progress


class NotCompiledError(RuntimeError, ValueError):
    """fit/evaluate before compile (a RuntimeError as in Keras, and a ValueError)."""


class Model:
    """Base class of rnnlab models: weights, compile, fit, evaluate, predict, save."""

    def __init__(self, name=None):
        from ..layers.base import _auto_name
        self.name = name or _auto_name(type(self).__name__)
        self.optimizer = None
        self.loss = None
        self.compiled_metrics = []
        self._compile_config = None
        self.stop_training = False
        self.history = None
        self._output_mask = None

    # ---- what subclasses provide ------------------------------------------------------------

    @property
    def layers(self):
        raise NotImplementedError

    def _forward(self, x, training=False):
        raise NotImplementedError

    def _backward(self, grad, skip_activation=False):
        raise NotImplementedError

    def _output_layer(self):
        return None

    def __call__(self, x, training=False):
        return self._forward(x, training=training)

    # ---- weights ------------------------------------------------------------------------------

    def parameters(self):
        """``[(param, grad), ...]`` of every trainable weight, for optimisers."""
        return [pg for layer in self.layers for pg in layer.parameters()]

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [p for p, _ in self.parameters()]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        if not all(layer.built for layer in self.layers) and hasattr(self, "build"):
            self.build()
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model {self.name!r} has {expected} weight arrays, but set_weights got {len(weights)}. "
                             "Pass the list that get_weights() returns.")
        i = 0
        for layer in self.layers:
            n = len(layer.weights)
            if n:
                layer.set_weights(weights[i:i + n])
            i += n

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def count_params(self):
        return int(sum(layer.count_params() for layer in self.layers))

    # ---- summary --------------------------------------------------------------------------------

    def _summary_rows(self):
        """``[(layer, output_shape or None), ...]`` for ``summary``; subclasses that know shapes override it."""
        return [(layer, None) for layer in self.layers]

    def summary(self, line_length=80, print_fn=None):
        """Print a Keras-style table: layer (type), output shape, parameter count, and totals."""
        rows = self._summary_rows()
        print_fn = print_fn or print
        w0, w1 = int(line_length * 0.42), int(line_length * 0.33)
        widths = [w0, w1, line_length - w0 - w1]

        def row(cells):
            return "".join(str(c)[:w - 1].ljust(w) for c, w in zip(cells, widths)).rstrip()

        lines = [f'Model: "{self.name}"', "_" * line_length,
                 row(["Layer (type)", "Output Shape", "Param #"]), "=" * line_length]
        for i, (layer, shape) in enumerate(rows):
            lines.append(row([f"{layer.name} ({type(layer).__name__})", "?" if shape is None else _shape_str(shape),
                              f"{layer.count_params():,}"]))
            lines.append("=" * line_length if i == len(rows) - 1 else "")

        def size(trainable):
            ws = [w for layer in self.layers if trainable in (None, layer.trainable) for w in layer.weights]
            return sum(w.size for w in ws), _human_bytes(sum(w.nbytes for w in ws))

        (total, tb), (trainable, trb), (frozen, fb) = size(None), size(True), size(False)
        lines += [f"Total params: {total:,} ({tb})", f"Trainable params: {trainable:,} ({trb})",
                  f"Non-trainable params: {frozen:,} ({fb})", "_" * line_length]
        print_fn("\n".join(lines))

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

    @staticmethod
    def _as_array(a, what):
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], np.ndarray) and len({x.ndim for x in a}) > 1:
            raise TypeError(f"{what} is a list of arrays of different ranks; pass one array (or pad sequences "
                            "to one length first).")
        try:
            arr = np.asarray(a)
        except ValueError as e:                       # ragged nested lists
            raise TypeError(f"{what} could not be turned into one array ({e}). Sequences of different lengths "
                            "must be padded to one length first (e.g. rnnlab.text.pad_sequences).") from None
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{what} must be numeric, got an array of dtype {arr.dtype}. Tokenise text to "
                            "integer ids and pad it to one length first.")
        if arr.ndim == 0:
            raise ValueError(f"{what} must have a batch axis, got a scalar.")
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise ValueError(f"{what} contains NaN or infinite values (first at index {tuple(bad.tolist())}). "
                             "Clean or impute the data before training.")
        return arr

    def _check_x(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what} is None; pass the input data.")
        if isinstance(x, (list, tuple)) and x and all(isinstance(a, np.ndarray) for a in x) and self._multi_input():
            return [self._as_array(a, f"{what}[{i}]") for i, a in enumerate(x)]
        return self._as_array(x, what)

    def _multi_input(self):
        return False

    @staticmethod
    def _n(x):
        return len(x[0]) if isinstance(x, list) else len(x)

    @staticmethod
    def _take(x, idx):
        return [a[idx] for a in x] if isinstance(x, list) else x[idx]

    def _check_xy(self, x, y, what):
        x = self._check_x(x, "x" if what == "fit" else f"{what} x")
        if y is None:
            raise ValueError(f"{what}() needs targets y; got y=None.")
        y = self._as_array(y, "y" if what == "fit" else f"{what} y")
        if self._n(x) != len(y):
            raise ValueError(f"{what}(): x has {self._n(x)} samples but y has {len(y)}; "
                             "they must have the same length (first axis).")
        if len(y) == 0:
            raise ValueError(f"{what}() got empty data (0 samples).")
        return x, y

    # ---- one batch --------------------------------------------------------------------------------

    def _fused(self):
        """True when the output comes from a Dense whose activation matches the loss: backprop (p - y) past it."""
        dense = output_dense(self._output_layer())
        return (dense is not None and self.loss.fused_activation is not None and not self.loss.from_logits
                and dense.activation == self.loss.fused_activation)

    def _loss_and_backward(self, x, y):
        """Forward, loss, backward for one batch; returns (loss, y_pred, mask). Gradients are added."""
        y_pred = self._forward(x, training=True)
        mask = self._loss_mask(y_pred)
        value = self.loss.forward(y, y_pred, mask)
        if self._fused():
            self._backward(self.loss.backward_fused(), skip_activation=True)   # dL/dz = w (p - y)
        else:
            self._backward(self.loss.backward())                               # dL/dy_pred
        return value, y_pred, mask

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
        return self._forward(self._check_x(x), training=False)

    def _train_step(self, x, y):
        self.zero_grad()
        value, y_pred, mask = self._loss_and_backward(x, y)
        self.optimizer.apply(self.parameters())
        self._update_metrics(value, y, y_pred, mask)

    def _test_step(self, x, y):
        y_pred = self._forward(x, training=False)
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
        batch_size = self._check_batch_size(batch_size)
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
            n = self._n(x)
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(f"validation_split={validation_split} leaves {split_at} training and "
                                 f"{n - split_at} validation samples out of {n}; both must be non-empty.")
            val = (self._take(x, slice(split_at, None)), y[split_at:])
            x, y = self._take(x, slice(0, split_at)), y[:split_at]

        self._check_targets(x, y)
        if val is not None:
            self._check_targets(*val)
        n = self._n(x)
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
                    self._train_step(self._take(x, idx), y[idx])
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
        with _carried_states_kept(self.layers):       # the probe must not advance stateful layers
            out = self._forward(self._take(x, slice(0, 1)), training=False)
        if isinstance(out, np.ndarray):
            shape = (len(y),) + (out.shape[1:] or (1,))
            self.loss._check_targets(y, np.broadcast_to(np.zeros((), out.dtype), shape))

    @staticmethod
    def _check_batch_size(batch_size):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        return int(batch_size)

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
        """The loss and metrics on ``(x, y)``, averaged over all samples (no weight updates)."""
        self._require_compiled("evaluate")
        x, y = self._check_xy(x, y, "evaluate")
        batch_size = self._check_batch_size(batch_size)
        n = self._n(x)
        self._reset_metrics()
        with progress.bar(total=math.ceil(n / batch_size), desc="Evaluate", verbose=verbose, unit="batch") as pbar:
            for start in range(0, n, batch_size):
                idx = slice(start, start + batch_size)
                self._test_step(self._take(x, idx), y[idx])
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
        batch_size = self._check_batch_size(batch_size)
        n = self._n(x)
        outputs = []
        for start in progress.bar(range(0, n, batch_size), desc="Predict", verbose=verbose, unit="batch"):
            outputs.append(self._forward(self._take(x, slice(start, start + batch_size)), training=False))
        if not outputs:
            raise ValueError("predict() got empty input (0 samples).")
        if isinstance(outputs[0], (list, tuple)):
            return [np.concatenate(parts, axis=0) for parts in zip(*outputs)]
        return np.concatenate(outputs, axis=0)

    # ---- saving ---------------------------------------------------------------------------------------

    def save(self, path, metadata=None):
        """Write ``path/config.json`` and ``path/model.safetensors`` (atomic; see ``models.saving``).

        ``metadata`` (a JSON-able dict) is stored in config.json under ``"metadata"``; tasks put
        ``{"task": "sentiment", ...}`` there so that ``rnnlab predict MODEL_DIR`` can dispatch on it.
        """
        from .saving import save_model
        save_model(self, path, metadata=metadata)

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError


def _shape_str(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _human_bytes(n):
    if n < 1024:
        return f"{n} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024.0
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"


def output_dense(layer):
    """The Dense layer that produces ``layer``'s output: itself, or the Dense inside a wrapper such as
    TimeDistributed (``layer.layer``); None otherwise."""
    from ..layers.dense import Dense
    if isinstance(layer, Dense):
        return layer
    inner = getattr(layer, "layer", None)
    return inner if isinstance(inner, Dense) else None


def _all_layers(layers):
    """``layers`` and the layers inside wrappers (Bidirectional, TimeDistributed, ...), depth first."""
    out, stack = [], list(layers)[::-1]
    while stack:
        layer = stack.pop()
        if any(layer is seen for seen in out):
            continue
        out.append(layer)
        inner = [getattr(layer, a, None) for a in ("layer", "forward_layer", "backward_layer")]
        inner += list(getattr(layer, "_layers", None) or [])
        stack.extend(l for l in inner[::-1] if l is not None and hasattr(l, "forward"))
    return out


@contextlib.contextmanager
def _carried_states_kept(layers):
    """Within the block, forward passes leave the states that stateful layers carry unchanged."""
    kept = [(layer, layer._states) for layer in _all_layers(layers) if getattr(layer, "stateful", False)
            and hasattr(layer, "_states")]
    try:
        yield
    finally:
        for layer, states in kept:
            layer._states = states


@contextlib.contextmanager
def skip_activation_backward(layer):
    """Within the block, the backward of ``layer``'s output Dense treats its activation as the identity.

    Used for the fused softmax/CE and sigmoid/BCE gradient: the loss already gives dL/dz.
    """
    dense = output_dense(layer)
    old = dense.f_backward
    dense.f_backward = activations.linear_backward
    try:
        yield
    finally:
        dense.f_backward = old
