"""Symbolic tensors: what calling a layer on ``layers.Input(...)`` returns, for building functional models.

A ``SymbolicTensor`` has a shape (batch axis first, ``None`` where unknown) and a dtype, and remembers
the ``Node`` that made it: one call of one layer, with the tensors it was called on. A model built
from inputs and outputs walks these nodes back from the outputs (``models/graph.py``)::

    x = layers.Input((None, 8))                       # SymbolicTensor (None, None, 8), made by an InputLayer
    y, h, c = layers.LSTM(16, return_state=True)(x)   # three SymbolicTensors of one Node
    y.node.layer, y.node.inputs                        # the LSTM, [x]

The output shapes of a call are found by running the layer on two small placeholder batches (every
unknown size 2, then 3) and marking the sizes that differ as unknown: the layer's own forward pass
decides, so every layer (custom ones included) gets shapes without a separate shape function.
"""
import numpy as np

from . import budget


class SymbolicTensor:
    """A placeholder for the arrays that will flow along one edge of a functional graph.

    Attributes:
        shape: tuple, batch axis first, None for sizes known only at run time.
        dtype: the NumPy dtype of the arrays.
        node: the ``Node`` (layer call) that produces it; ``index``: which of that call's outputs.
        name: a readable name (``"lstm/0"``; an Input's own name).
    """

    def __init__(self, shape, dtype, node=None, index=0, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name or (f"{node.layer.name}/{index}" if node is not None else "tensor")

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<SymbolicTensor {self.name!r} shape={self.shape} dtype={self.dtype.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} has no values: it is a placeholder in a model being built. Build the model with "
                        "models.Model(inputs, outputs) and call it on arrays (model.predict(x)).")

    def _no_ops(self, *args, **kwargs):
        raise TypeError(f"rnnlab cannot backpropagate through Python operators on {self!r}; use a layer instead: "
                        "layers.Add(), layers.Subtract(), layers.Multiply(), layers.Concatenate(), layers.Dot(), "
                        "layers.Activation(...), or write a custom Layer with forward and backward.")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_ops
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __neg__ = __getitem__ = _no_ops
    __bool__ = _no_ops


class Node:
    """One call of ``layer`` in a graph: its inputs (as given: one tensor or a list), the tensors given as
    ``initial_state``, the other keyword arguments, and the output tensors it made."""

    def __init__(self, layer, inputs, states=None, kwargs=None):
        self.layer = layer
        self.inputs = inputs                       # a SymbolicTensor, a list of them, or None (Input)
        self.states = list(states) if states is not None else None
        self.kwargs = dict(kwargs or {})
        self.outputs = []
        self.multi_output = False
        self.index = len(layer._nodes)             # which call of this layer (for configs and summaries)
        layer._nodes.append(self)

    @property
    def input_tensors(self):
        """Every tensor the call read, in ``backward``'s order: the inputs, then the initial states."""
        flat = [] if self.inputs is None else (list(self.inputs) if isinstance(self.inputs, list) else [self.inputs])
        return flat + (self.states or [])

    def __repr__(self):
        return f"<Node {self.layer.name}[{self.index}] {len(self.input_tensors)} in, {len(self.outputs)} out>"


def is_symbolic(value):
    """True when ``value`` is a SymbolicTensor or a list/tuple holding one."""
    if isinstance(value, SymbolicTensor):
        return True
    return isinstance(value, (list, tuple)) and any(is_symbolic(v) for v in value)


def _as_tensors(value, layer, what):
    """``value`` (a tensor or a list of tensors) checked to hold only SymbolicTensors."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for v in items:
        if not isinstance(v, SymbolicTensor):
            raise TypeError(
                f"Layer {layer.name!r} ({type(layer).__name__}) was called on a mix of symbolic tensors and "
                f"{type(v).__name__} in its {what}; in a model being built every input must come from "
                "layers.Input(...) or from another layer's call. Make the array an Input and feed it to the model.")
    return list(value) if isinstance(value, (list, tuple)) else value


MAX_LOADING_PLACEHOLDER_BYTES = 256 * 2**20


def _check_placeholder(shape, dtype):
    """While a saved model is being rebuilt (``load_model``: a weight budget is active), refuse placeholder
    batches larger than ``MAX_LOADING_PLACEHOLDER_BYTES``: a config cannot make the loader allocate on trust."""
    if not budget.active():
        return
    n = np.dtype(dtype).itemsize
    for d in shape:
        n *= int(d)
    if n > MAX_LOADING_PLACEHOLDER_BYTES:
        raise ValueError(f"the config's input shape {tuple(shape[1:])} would need {n} bytes for a 2-sample probe "
                         f"batch (more than {MAX_LOADING_PLACEHOLDER_BYTES}); no saved rnnlab model has inputs that "
                         "large. The file is damaged or hostile.")


def _placeholder(t, size):
    """An array for tensor ``t`` with every unknown size set to ``size``: 0.5 for floats, 0 for integers."""
    shape = tuple(size if d is None else d for d in t.shape)
    _check_placeholder(shape, t.dtype)
    if np.issubdtype(t.dtype, np.integer) or t.dtype == bool:
        return np.zeros(shape, dtype=t.dtype)
    return np.full(shape, 0.5, dtype=t.dtype)


def _probe(layer, inputs, states, kwargs, size):
    from ..models.traversal import carried_states_kept
    arrays = [_placeholder(t, size) for t in inputs] if isinstance(inputs, list) else _placeholder(inputs, size)
    call = dict(kwargs)
    if states is not None:
        call["initial_state"] = [_placeholder(t, size) for t in states]
    with carried_states_kept([layer]):
        out = layer.forward(arrays, training=False, **call)
    layer.clear_calls()
    return out if isinstance(out, list) else [out], isinstance(out, list)


def call_symbolic(layer, inputs, **kwargs):
    """Record ``layer(inputs, **kwargs)`` as a Node and return its symbolic outputs (a list for a layer that
    returns several arrays, e.g. ``return_state=True``)."""
    inputs = _as_tensors(inputs, layer, "inputs")
    states = kwargs.pop("initial_state", None)
    if states is not None:
        states = _as_tensors(states if isinstance(states, (list, tuple)) else [states], layer, "initial_state")
    if "mask" in kwargs and kwargs["mask"] is not None:
        raise TypeError(f"Layer {layer.name!r}: in a functional model masks flow along the graph by themselves "
                        "(from Embedding(mask_zero=True) or Masking); do not pass mask= to a symbolic call.")
    kwargs.pop("mask", None)
    if kwargs.get("training") is None:
        kwargs.pop("training", None)
    try:
        outs_a, multi = _probe(layer, inputs, states, kwargs, 2)
        outs_b, _ = _probe(layer, inputs, states, kwargs, 3)
    except (ValueError, TypeError) as e:
        raise type(e)(f"Calling layer {layer.name!r} ({type(layer).__name__}) on "
                      f"{_shapes(inputs)} failed: {e}") from None
    node = Node(layer, inputs, states, kwargs)
    node.multi_output = multi
    for i, (a, b) in enumerate(zip(outs_a, outs_b)):
        shape = tuple(None if da != db else da for da, db in zip(np.shape(a), np.shape(b)))
        node.outputs.append(SymbolicTensor(shape, np.asarray(a).dtype, node, i))
    return list(node.outputs) if multi else node.outputs[0]


def _shapes(inputs):
    if isinstance(inputs, list):
        return "[" + ", ".join(str(t.shape) for t in inputs) + "]"
    return str(inputs.shape)

