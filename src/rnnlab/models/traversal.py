"""Walking a model's layers: every layer inside the top-level ones (through ``layer.sublayers()``), and
the trainable parameters, each array once even when two layers share it (tied weights).

Example::

    from rnnlab.models.traversal import all_layers
    [l.name for l in all_layers(model.layers)]     # ['bidirectional', 'lstm', 'lstm_cell', ...]
"""
import contextlib


def all_layers(layers):
    """``layers`` and every layer inside them (``sublayers()``), depth first, each once."""
    out, seen, stack = [], set(), list(layers)[::-1]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(layer.sublayers()[::-1])
    return out


def unique_parameters(layers):
    """``[(param, grad), ...]`` of the trainable weights of ``layers``, each array once, in order."""
    out, seen = [], set()
    for layer in layers:
        for param, grad in layer.parameters():
            if id(param) not in seen:
                seen.add(id(param))
                out.append((param, grad))
    return out


@contextlib.contextmanager
def carried_states_kept(layers):
    """Within the block, forward passes leave the states that stateful layers carry unchanged."""
    kept = [(layer, layer._states) for layer in all_layers(layers)
            if getattr(layer, "stateful", False) and hasattr(layer, "_states")]
    try:
        yield
    finally:
        for layer, states in kept:
            layer._states = states
