"""The Layer base class: weights, gradients, per-call records and the contract every layer follows.

Contract (docs/design.md has the whole story)::

    y = layer.forward(x, training=False, mask=None)   # builds the layer on first use
    dx, = layer.backward(dy)                          # one gradient per input tensor of the call;
                                                      # adds dL/dW into the layer's gradients
    layer.get_weights(); layer.set_weights(ws)        # Keras's layout and order
    layer.get_gradients(); layer.zero_grad()

**backward's result** is always a list with one entry per tensor the call received, in order: the
inputs (one array, or each array of a list for a multi-input layer), then each array of
``initial_state`` if one was given. An input without a gradient (integer token ids) gets ``None``.

**Per-call records.** ``forward`` saves what its backward needs as one named record
(``self._save(x=x, z=z)``, read back as ``call.x``), and ``backward`` takes the newest record back
(``self._restore()``). Outside ``recording()`` a layer keeps only its last call (forward, then
backward, as often as wanted). Inside ``with recording():`` every call is kept, so a layer used
several times (a shared embedding, a decoder called at every step) is backpropagated by as many
``backward`` calls in reverse order — exactly the order of any reverse walk of the graph — and
its weight gradients add up (every backward uses ``+=``). Models run their passes inside
``recording()``.

Weights are updated in place by optimisers, so the arrays returned by ``layer.weights`` stay valid
for the life of the layer.
"""
import contextlib
import contextvars
import re
from types import SimpleNamespace

import numpy as np

from .. import backend, initializers
from .budget import spend, weight_budget  # noqa: F401  (weight_budget: models.saving opens it through here)

_RECORDING = contextvars.ContextVar("rnnlab_recording", default=0)


@contextlib.contextmanager
def recording():
    """Within the block every layer call keeps its own record for backward (see the module docstring).

    Example::

        with recording():
            a = emb.forward(x1)
            b = emb.forward(x2)               # the same layer twice
        emb.backward(db); emb.backward(da)     # newest call first; dE sums both
    """
    token = _RECORDING.set(_RECORDING.get() + 1)
    try:
        yield
    finally:
        _RECORDING.reset(token)


def is_recording():
    """True inside ``recording()``."""
    return _RECORDING.get() > 0


class Call(SimpleNamespace):
    """One forward call's saved values, by name (``call.x``, ``call.cache``)."""

_name_counts = {}


def snake_case(cls_name):
    """Keras's default layer names: "LSTM" -> "lstm", "SimpleRNN" -> "simple_rnn", "Conv1D" -> "conv1d"."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", cls_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _auto_name(cls_name):
    base = snake_case(cls_name)
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Restart default layer names ("dense", "dense_1", ...), like Keras's ``clear_session``."""
    _name_counts.clear()


class Layer:
    """Base class of every rnnlab layer.

    Args:
        name: a name for ``summary()`` and saving; made from the class name if not given.
        trainable: if False, optimisers leave the weights alone.
        input_shape: optional shape of one sample (no batch axis), as in Keras; lets a
            ``Sequential`` model build before it sees data.
        dtype: ``"float32"`` or ``"float64"``; ``backend.floatx()`` if not given.
    """

    supports_masking = False
    per_step = False           # True: the layer acts on each time step on its own (step() = forward)

    def __init__(self, name=None, trainable=True, input_shape=None, dtype=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) {sorted(kwargs)}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__} got name={name!r}; expected a str (or None for a default name).")
        self.name = name or _auto_name(type(self).__name__)
        self.trainable = bool(trainable)
        self.dtype = np.dtype(dtype or backend.floatx())
        if self.dtype.name not in ("float32", "float64"):
            raise ValueError(f"{type(self).__name__} got dtype={dtype!r}; expected 'float32' or 'float64'.")
        self.input_shape = None if input_shape is None else (None,) + tuple(input_shape)
        self.built = False
        self._params = {}          # name -> ndarray, in Keras's get_weights() order
        self._grads = {}           # name -> ndarray, same shapes
        self._calls = []           # per-call records for backward, newest last
        self._nodes = []           # symbolic calls (functional models), in call order

    # ---- building -------------------------------------------------------------------------

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.built = True

    def add_weight(self, name, shape, initializer="zeros", seed=None):
        spend(self, name, shape)
        value = np.ascontiguousarray(initializers.initialize(initializer, shape, seed), dtype=self.dtype)
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)
        return value

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True

    def __call__(self, inputs, **kwargs):
        """``forward`` on arrays; on symbolic tensors (from ``layers.Input``) it records the call in a graph
        and returns symbolic outputs, as Keras's functional API does."""
        from . import symbolic
        if symbolic.is_symbolic(inputs) or symbolic.is_symbolic(kwargs.get("initial_state")):
            return symbolic.call_symbolic(self, inputs, **kwargs)
        return self.forward(inputs, **kwargs)

    # ---- the contract ---------------------------------------------------------------------

    def forward(self, inputs, training=False, mask=None):
        raise NotImplementedError

    def backward(self, grad_outputs):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def step(self, x_t, state=None, training=False, mask=None):
        """One time step inside a step-by-step loop (decoding): ``(y_t, new_state)``, the state owned by
        the caller. A layer that acts on each step on its own (``per_step``: Dense, Embedding, Dropout,
        LayerNormalization over features) runs ``forward`` on the step's input and has no state; a
        recurrent layer advances its cell (``RNN.step``). A layer that looks across time steps
        (Conv1D, pooling, Flatten, Bidirectional) cannot step."""
        if not self.per_step:
            raise NotImplementedError(
                f"Layer {self.name!r} ({type(self).__name__}) looks across time steps, so it cannot run one step "
                "at a time; decode with a model whose layers act per step (Embedding, recurrent layers, Dense, "
                "Dropout, LayerNormalization) or call the whole model on the full sequence.")
        return self.forward(x_t, training=training), None

    @property
    def output(self):
        """The symbolic output(s) of this layer's first call on symbolic tensors (Keras's ``layer.output``)."""
        if not self._nodes:
            raise AttributeError(f"Layer {self.name!r} has not been called on symbolic inputs (layers.Input), so it "
                                 "has no symbolic output.")
        node = self._nodes[0]
        return list(node.outputs) if node.multi_output else node.outputs[0]

    @property
    def input(self):
        """The symbolic input(s) of this layer's first call (Keras's ``layer.input``)."""
        if not self._nodes:
            raise AttributeError(f"Layer {self.name!r} has not been called on symbolic inputs, so it has no "
                                 "symbolic input.")
        return self._nodes[0].inputs

    def sublayers(self):
        """The layers this layer runs inside it (a wrapper's inner layers, an RNN's cell); [] by default."""
        return []

    def output_activation(self):
        """The name of the elementwise activation that ends this layer's output, if ``backward`` can
        skip it (``backward(dz, pre_activation=True)``), else None. Losses fuse with it (p - y)."""
        return None

    # ---- per-call records ----------------------------------------------------------------------

    def _forget_calls(self):
        """Outside ``recording()``: drop the last call's record before a new forward makes one (its
        arrays can then be reused for the new call). Inside, keep every record."""
        if not is_recording():
            self._calls.clear()

    def _save(self, **fields):
        """Keep ``fields`` as this call's record for ``backward`` and return it."""
        call = Call(**fields)
        if not is_recording():
            self._calls.clear()
        self._calls.append(call)
        return call

    def _restore(self):
        """The newest call's record for backward: taken off the stack inside ``recording()`` (calls are
        backpropagated newest first), kept outside it (a lone call may be backpropagated again)."""
        if not self._calls:
            raise ValueError(f"Layer {self.name!r}: backward() called before forward(); run forward first "
                             "(inside recording(), every recorded call has already been backpropagated).")
        return self._calls.pop() if is_recording() else self._calls[-1]

    def clear_calls(self):
        """Forget every kept call record, here and in the sublayers (frees their arrays)."""
        self._calls.clear()
        for layer in self.sublayers():
            layer.clear_calls()

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output: passed on if the layer supports masking."""
        return mask if self.supports_masking else None

    # ---- weights and gradients ------------------------------------------------------------

    @property
    def weights(self):
        return list(self._params.values())

    @property
    def gradients(self):
        return list(self._grads.values())

    def parameters(self):
        """``[(param, grad), ...]`` for optimisers; empty if the layer is frozen."""
        if not self.trainable:
            return []
        return [(self._params[k], self._grads[k]) for k in self._params]

    def weight_names(self):
        return [f"{self.name}/{k}" for k in self._params]

    def get_weights(self):
        return [w.copy() for w in self._params.values()]

    def set_weights(self, weights):
        """Copy ``weights`` (a list in Keras's layout) into the layer, in place."""
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} is not built yet, so it has no weights to set. "
                "Call it on an input (or give input_shape=...) first.")
        weights = list(weights)
        if len(weights) != len(self._params):
            raise ValueError(
                f"Layer {self.name!r} expects {len(self._params)} weight arrays "
                f"{[tuple(p.shape) for p in self._params.values()]}, but set_weights got {len(weights)}.")
        for (key, param), w in zip(self._params.items(), weights):
            w = np.asarray(w)
            if w.shape != param.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {key!r} has shape {param.shape}, "
                    f"but set_weights got an array of shape {w.shape}.")
        for param, w in zip(self._params.values(), weights):
            param[...] = np.asarray(w, dtype=self.dtype)

    def get_gradients(self):
        return [g.copy() for g in self._grads.values()]

    def zero_grad(self):
        for g in self._grads.values():
            g.fill(0.0)

    def count_params(self):
        return int(sum(p.size for p in self._params.values()))

    # ---- configuration (saving) ---------------------------------------------------------------

    def get_config(self):
        """The constructor arguments that rebuild this layer (weights excluded)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape[1:])
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---- helpers for subclasses -----------------------------------------------------------------

    def _to_array(self, inputs, what="inputs"):
        """``inputs`` as an array of this layer's float type, or a clear TypeError."""
        try:
            x = np.asarray(inputs)
        except Exception as e:  # ragged lists and the like
            raise TypeError(f"Layer {self.name!r}: could not turn {what} into an array ({e}).") from None
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise TypeError(
                f"Layer {self.name!r} expects numeric {what}, got an array of dtype {x.dtype}.")
        if np.issubdtype(x.dtype, np.complexfloating):
            raise TypeError(f"Layer {self.name!r} expects numeric {what} with real values, got an array of dtype "
                            f"{x.dtype}.")
        if x.dtype.kind == "f" and x.dtype.itemsize > self.dtype.itemsize and x.size:
            limit = float(np.finfo(self.dtype).max)
            big = max(float(x.max()), -float(x.min()))       # no temporary array; NaN/inf fail the test below
            if limit < big < np.inf:
                raise ValueError(f"Layer {self.name!r} computes in {self.dtype.name}, but its {what} hold {big:.3g}, "
                                 f"beyond {self.dtype.name}'s largest value {limit:.3g}; the cast would make it "
                                 "infinite. Rescale the data (or use dtype='float64').")
        return x.astype(self.dtype, copy=False)

    def _check_rank(self, x, ndim, what="inputs", hint=""):
        if x.ndim != ndim:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects {what} of rank {ndim}"
                f"{hint}, got shape {x.shape} (rank {x.ndim}).")

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
