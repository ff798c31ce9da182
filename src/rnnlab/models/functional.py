"""``Model(inputs, outputs)``: a model that is any acyclic graph of layer calls (Keras's functional API).

    enc_in = layers.Input((None, 8))
    _, h, c = layers.LSTM(32, return_state=True)(enc_in)           # the encoder's final states
    dec_in = layers.Input((None, 8))
    y = layers.LSTM(32, return_sequences=True)(dec_in, initial_state=[h, c])
    out = layers.Dense(8, activation="softmax")(y)
    model = models.Model([enc_in, dec_in], out)

Forward runs the layer calls (``Node``) in topological order (``models/graph.py``); each call gets
the arrays of its input tensors, their masks and its ``initial_state``. Masks follow Keras 3's
rules: a layer's ``compute_mask`` makes the mask of its outputs from its inputs' masks, and a layer
whose ``forward`` takes ``mask`` receives its inputs' masks -- but only when the call has one tensor
argument: a recurrent layer called with ``initial_state=[...]`` tensors gets no mask (Keras 3 looks
for a ``sequences_mask`` argument then, which its RNN layers do not have), so it runs over padded
steps too, while its outputs still carry the input's mask (for the loss and later layers). With
padding at the end (the usual for decoders) this changes nothing before the padding.

Backward runs the calls in reverse order: a call gets the gradients of its outputs (summed over
every call that read them; zeros for an output nothing used) and returns one gradient per input
tensor, which are added into those tensors' gradients:

    dL/dt = Σ over the calls c that read t of (c's backward)[position of t]        (fan-out sums)

A layer called several times (shared layers) keeps a record per call and gets them back newest
first, so each call is backpropagated with its own values and the weight gradients add up.

Saving writes the graph as JSON (Keras's layout: each layer with its ``inbound_nodes``), never code.
"""
import inspect

import numpy as np

from .. import layers as _layers
from ..layers.input_layer import InputLayer
from ..layers.symbolic import SymbolicTensor
from . import graph
from .model import Model


def _takes(layer, arg):
    try:
        return arg in inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        return False


def _tensors(value, what):
    """``value`` (a tensor, a list of them or a dict by name) as ``(list, structure)``."""
    if isinstance(value, dict):
        items, structure = list(value.values()), ("dict", list(value))
    elif isinstance(value, (list, tuple)):
        items, structure = list(value), ("list", None)
    else:
        items, structure = [value], ("single", None)
    if not items:
        raise ValueError(f"Model() got no {what}; pass layers.Input(...) tensors as inputs and the tensors your "
                         "layers returned as outputs.")
    for t in items:
        if not isinstance(t, SymbolicTensor):
            hint = ("a NumPy array: a model's inputs are placeholders, made by layers.Input(shape=...), and the "
                    "data goes to fit/predict" if isinstance(t, np.ndarray) else type(t).__name__)
            raise TypeError(f"Model() expects its {what} to be symbolic tensors (from layers.Input or from calling "
                            f"a layer on them), got {hint}.")
    return items, structure


class Functional(Model):
    """A model built from symbolic inputs and outputs; ``models.Model(inputs, outputs)`` makes one.

    Args:
        inputs: a tensor from ``layers.Input``, a list of them, or a dict by name.
        outputs: a tensor made by a layer call, or a list of them.
        name: the model's name.
    """

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name)
        self.inputs, self._input_structure = _tensors(inputs, "inputs")
        self.outputs, self._output_structure = _tensors(outputs, "outputs")
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise TypeError(f"Model() expects its inputs to come from layers.Input(...), but {t.name!r} was made "
                                f"by layer {t.node.layer.name!r}. Use the Input tensor itself as the input.")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError("Model() got the same Input tensor twice in inputs; list each input once.")
        self._nodes = graph.topological_nodes(self.inputs, self.outputs)
        self._consumers = graph.consumers(self._nodes)
        self._layers = [t.node.layer for t in self.inputs]                # inputs first, in their order
        for node in self._nodes:
            if all(node.layer is not l for l in self._layers):
                self._layers.append(node.layer)
        names = [l.name for l in self._layers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Model {self.name!r} has different layers with the same name {dupes}; layer names must "
                             "be unique (pass name=... when you make them).")
        self._names = self._unique_output_names()
        self._output_masks = [None] * len(self.outputs)
        self._output_mask = None

    # ---- structure --------------------------------------------------------------------------------

    def build(self, input_shape=None):
        """Nothing to do: every layer was built when it was called on the symbolic inputs."""

    @property
    def layers(self):
        return list(self._layers)

    def _unique_output_names(self):
        names = []
        for t in self.outputs:
            base = t.node.layer.name
            names.append(base if base not in names else f"{base}_{len([n for n in names if n.startswith(base)])}")
        return names

    def _output_names(self):
        return list(self._names)

    @property
    def input(self):
        """The model's input tensor(s), as given (Keras's ``model.input``)."""
        return self._restructure(self.inputs, self._input_structure)

    @property
    def output(self):
        """The model's output tensor(s), as given (Keras's ``model.output``)."""
        return self._restructure(self.outputs, self._output_structure)

    @staticmethod
    def _restructure(items, structure):
        if structure[0] == "dict":
            return dict(zip(structure[1], items))
        return list(items) if structure[0] == "list" else items[0]

    @property
    def output_names(self):
        return list(self._names)

    @property
    def input_names(self):
        return [t.name for t in self.inputs]

    def _multi_input(self):
        return len(self.inputs) > 1

    def _output_layer(self):
        return self._output_layers()[0]

    def _output_layers(self):
        """Per output, its layer if the fused loss gradient may enter there: the call has one output and
        nothing else in the graph reads that output."""
        out = []
        for t in self.outputs:
            only = (not t.node.multi_output and self._consumers.get(id(t), 0) == 0
                    and sum(o is t for o in self.outputs) == 1)
            out.append(t.node.layer if only else None)
        return out

    # ---- forward ------------------------------------------------------------------------------------

    def _input_arrays(self, x):
        """``x`` (an array, a list aligned with the inputs, or a dict by input name) as a list."""
        K = len(self.inputs)
        if isinstance(x, dict):
            names = self.input_names
            missing, unknown = [n for n in names if n not in x], sorted(set(x) - set(names))
            if missing or unknown:
                raise ValueError(f"Model {self.name!r} got a dict of inputs with missing {missing} and unknown "
                                 f"{unknown} names; its inputs are {names}.")
            return [x[n] for n in names]
        if K == 1:
            if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], np.ndarray):
                return [x[0]]
            return [x]
        if not isinstance(x, (list, tuple)) or len(x) != K:
            got = f"a list of {len(x)}" if isinstance(x, (list, tuple)) else type(x).__name__
            raise ValueError(f"Model {self.name!r} has {K} inputs {self.input_names}, so it needs a list of {K} "
                             f"arrays (or a dict by input name), got {got}.")
        return list(x)

    def _forward(self, x, training=False):
        arrays = self._input_arrays(x)
        values = {}                                    # id(tensor) -> (array, mask)
        for t, a in zip(self.inputs, arrays):
            values[id(t)] = (t.node.layer.forward(a), None)
        self._shapes = {}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            self._run_node(node, values, training)
        outs = [values[id(t)][0] for t in self.outputs]
        self._output_masks = [values[id(t)][1] for t in self.outputs]
        self._output_mask = self._output_masks[0]
        return outs[0] if len(outs) == 1 else outs

    def _run_node(self, node, values, training):
        layer = node.layer
        if isinstance(node.inputs, list):
            args = [values[id(t)][0] for t in node.inputs]
            masks = [values[id(t)][1] for t in node.inputs]
            mask = None if all(m is None for m in masks) else masks
        else:
            args, mask = values[id(node.inputs)]
        kwargs = dict(node.kwargs)
        kwargs.setdefault("training", training)
        if mask is not None and node.states is None and _takes(layer, "mask"):
            kwargs["mask"] = mask                    # Keras 3: only a call with one tensor argument gets it
        if node.states is not None:
            kwargs["initial_state"] = [values[id(t)][0] for t in node.states]
        out = layer.forward(args, **kwargs)
        outs = out if node.multi_output else [out]
        out_mask = layer.compute_mask(args, mask)
        out_masks = out_mask if isinstance(out_mask, list) and node.multi_output else [out_mask] * len(outs)
        for t, o, m in zip(node.outputs, outs, out_masks):
            values[id(t)] = (o, m)
            self._shapes[id(t)] = (np.shape(o), np.asarray(o).dtype)

    # ---- backward -----------------------------------------------------------------------------------

    def _backward(self, grad, pre_activation=False):
        """Backpropagate the output gradients through the graph; returns the inputs' gradients."""
        grads = list(grad) if len(self.outputs) > 1 else [grad]
        pre = list(pre_activation) if isinstance(pre_activation, (list, tuple)) else [pre_activation] * len(grads)
        G, fused = {}, set()
        for t, g, p in zip(self.outputs, grads, pre):
            if g is not None:
                _add(G, t, np.asarray(g))
                if p:
                    fused.add(id(t.node))
        for node in reversed(self._nodes):
            if isinstance(node.layer, InputLayer):
                continue
            douts = [G.get(id(t)) for t in node.outputs]
            if node.multi_output:
                if all(d is None for d in douts):
                    douts[0] = self._zeros(node.outputs[0])
                arg = douts
            else:
                arg = douts[0] if douts[0] is not None else self._zeros(node.outputs[0])
            if id(node) in fused:
                dins = node.layer.backward(arg, pre_activation=True)       # dL/dz from the loss (p - y)
            else:
                dins = node.layer.backward(arg)
            for t, d in zip(node.input_tensors, dins):
                if d is not None:
                    _add(G, t, d)                                           # fan-out: gradients add up
        return [G.get(id(t)) for t in self.inputs]

    def _zeros(self, t):
        shape, dtype = self._shapes[id(t)]
        return np.zeros(shape, dtype=dtype)

    # ---- summary and config ---------------------------------------------------------------------------

    def _summary_rows(self):
        rows = []
        for layer in self._layers:
            nodes = [n for n in self._nodes if n.layer is layer]
            shapes = [t.shape for n in nodes for t in n.outputs]
            shape = shapes[0] if len(shapes) == 1 else shapes
            connected = [f"{t.node.layer.name}[{t.node.index}][{t.index}]" for n in nodes for t in n.input_tensors]
            rows.append((layer, shape, connected))
        return rows

    def get_config(self):
        """Keras's layout: every layer with its ``inbound_nodes`` (calls), then the model's inputs and outputs."""
        def ref(t):
            return [t.node.layer.name, t.node.index, t.index]

        layer_configs = []
        for layer in self._layers:
            nodes = []
            for n in self._nodes:
                if n.layer is not layer or isinstance(layer, InputLayer):
                    continue
                nodes.append({"inputs": [ref(t) for t in n.inputs] if isinstance(n.inputs, list) else ref(n.inputs),
                              "initial_state": None if n.states is None else [ref(t) for t in n.states],
                              "kwargs": n.kwargs, "index": n.index})
            layer_configs.append({**_layers.serialize(layer), "name": layer.name, "inbound_nodes": nodes})

        def refs(items, structure):
            out = [ref(t) for t in items]
            if structure[0] == "dict":
                return {"dict": dict(zip(structure[1], out))}
            return out if structure[0] == "list" else out[0]

        return {"name": self.name, "layers": layer_configs,
                "input_layers": refs(self.inputs, self._input_structure),
                "output_layers": refs(self.outputs, self._output_structure)}

    @classmethod
    def from_config(cls, config):
        """Rebuild the graph: make every layer, then replay its calls once their inputs exist."""
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError("A functional model config needs a list 'layers' (each with 'inbound_nodes').")
        made, pending = {}, []
        for spec in config["layers"]:
            layer = _layers.deserialize({"class_name": spec["class_name"], "config": spec["config"]})
            made[spec["name"]] = layer
            for node in spec.get("inbound_nodes") or []:
                pending.append((spec["name"], node))
        from .traversal import all_layers
        for layer in all_layers(made.values()):           # layers that refer to another by name (TiedDense)
            if hasattr(layer, "link"):
                layer.link(made)
        tensors = {}
        for name, layer in made.items():
            if isinstance(layer, InputLayer):
                tensors[(name, 0, 0)] = layer.output

        def get(r):
            return tensors.get(tuple(r))

        while pending:
            progress = False
            for item in list(pending):
                name, node = item
                layer = made[name]
                ins = node["inputs"]
                args = [get(r) for r in ins] if ins and isinstance(ins[0], list) else get(ins)
                states = None if node.get("initial_state") is None else [get(r) for r in node["initial_state"]]
                flat = (args if isinstance(args, list) else [args]) + (states or [])
                if any(a is None for a in flat):
                    continue
                kwargs = dict(node.get("kwargs") or {})
                if states is not None:
                    kwargs["initial_state"] = states
                out = layer(args, **kwargs)
                for i, t in enumerate(out if isinstance(out, list) else [out]):
                    tensors[(name, node.get("index", 0), i)] = t         # keyed as the config refers to it
                pending.remove(item)
                progress = True
            if not progress:
                raise ValueError(f"The model config's graph cannot be rebuilt: the calls of {[p[0] for p in pending]} "
                                 "read tensors that no layer in the config makes.")

        def unref(value):
            if isinstance(value, dict) and "dict" in value:
                return {k: get(r) for k, r in value["dict"].items()}
            if value and isinstance(value[0], list):
                return [get(r) for r in value]
            return get(value)

        return cls(unref(config["input_layers"]), unref(config["output_layers"]), name=config.get("name"))

    def __repr__(self):
        return f"<Functional name={self.name!r} inputs={self.input_names} outputs={self.output_names}>"


Model.functional_class = Functional          # Model(inputs, outputs) makes one of these


def _add(G, t, g):
    prev = G.get(id(t))
    G[id(t)] = g if prev is None else prev + g
