"""The graph of a functional model: the layer calls (``Node``) between its inputs and outputs, in an order
where every call comes after the calls that made its inputs (a topological order).

``topological_nodes(inputs, outputs)`` walks back from the outputs through ``tensor.node`` and the
node's input tensors, depth first, and lists each node after all the nodes it depends on. Forward
runs the nodes in that order; backward in the reverse order, which is also the order in which a layer
called several times gets its calls back (newest first, ``layers.recording``). It refuses graphs it
cannot run, with the reason: an output that depends on an input the model was not given (the
graph is disconnected), an input that no output uses, and a cycle.

Example::

    nodes = topological_nodes([x], [y])      # [Node input_layer[0], Node lstm[0], Node dense[0]]
"""
from ..layers.input_layer import InputLayer
from ..layers.symbolic import SymbolicTensor


def topological_nodes(inputs, outputs):
    """The nodes between ``inputs`` and ``outputs`` (lists of SymbolicTensors), dependencies first."""
    input_ids = {id(t) for t in inputs}
    order, state = [], {}                  # id(node) -> "open" while on the path, "done" when listed
    for out in outputs:
        stack = [(out.node, iter(_parents(out.node, input_ids)), out)]
        if state.get(id(out.node)) == "done":
            continue
        state[id(out.node)] = "open"
        while stack:
            node, parents, via = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                state[id(node)] = "done"
                order.append(node)
                continue
            tensor, pnode = parent
            if state.get(id(pnode)) == "done":
                continue
            if state.get(id(pnode)) == "open":
                raise ValueError(f"The graph has a cycle: layer {pnode.layer.name!r} (call {pnode.index}) depends on "
                                 f"its own output through {tensor.name!r}. A functional model must be acyclic; "
                                 "feed a step's output to the next step through a new layer call instead.")
            if isinstance(pnode.layer, InputLayer) and id(tensor) not in input_ids:
                raise ValueError(f"Graph disconnected: output {out.name!r} depends on input {tensor.name!r} "
                                 f"(shape {tensor.shape}), which is not among the model's inputs "
                                 f"{[t.name for t in inputs]}. Add it to Model(inputs=[...]).")
            state[id(pnode)] = "open"
            stack.append((pnode, iter(_parents(pnode, input_ids)), out))
    reached = {id(n) for n in order}
    for t in inputs:
        if id(t.node) not in reached:
            raise ValueError(f"Input {t.name!r} (shape {t.shape}) is not used by any of the model's outputs "
                             f"{[o.name for o in outputs]}; remove it from Model(inputs=[...]) or connect it.")
    return order


def _parents(node, input_ids):
    """``(tensor, node that made it)`` for each input tensor of ``node``; a model input stops the walk."""
    if id(node.outputs[0]) in input_ids and isinstance(node.layer, InputLayer):
        return []
    out = []
    for t in node.input_tensors:
        if not isinstance(t, SymbolicTensor) or t.node is None:
            raise TypeError(f"Layer {node.layer.name!r} was called on {t!r}, which no layer made.")
        out.append((t, t.node))
    return out


def consumers(nodes):
    """``id(tensor) -> number of node inputs reading it`` over ``nodes``."""
    count = {}
    for node in nodes:
        for t in node.input_tensors:
            count[id(t)] = count.get(id(t), 0) + 1
    return count
