"""Gradients as views into one flat buffer, so that a distributed strategy sums them in one call.

Every layer accumulates its weight gradients in place (``+=``) into the arrays of ``layer._grads``.
``flatten_gradients(layers)`` allocates one contiguous 1-D array per model and replaces each
gradient array by a view of its slice (its current values copied in), in the order of
``unique_parameters``; layers that link to their sublayers' arrays (``Bidirectional``) are re-linked.
From then on the layers write into the buffer, and summing the buffer across processes sums every
gradient at once.

Example::

    flat = flatten_gradients(model.layers)       # (P,) float array, P = trainable parameter count
    model.layers[0]._grads["kernel"].base is flat    # True
"""
import numpy as np

from .traversal import all_layers, unique_parameters


def flatten_gradients(layers):
    """Rebind every trainable gradient of ``layers`` to a view of one flat array; return that array."""
    pairs = unique_parameters(layers)
    if not pairs:
        return np.zeros(0)
    dtypes = {g.dtype for _, g in pairs}
    if len(dtypes) != 1:
        raise ValueError(f"flatten_gradients needs one float type for all gradients, got {sorted(map(str, dtypes))}; "
                         "build every layer with the same dtype.")
    flat = np.zeros(sum(g.size for _, g in pairs), dtype=dtypes.pop())
    views, start = {}, 0
    for _, g in pairs:
        view = flat[start:start + g.size].reshape(g.shape)
        view[...] = g
        views[id(g)] = view
        start += g.size
    every = all_layers(layers)
    for layer in every:
        for key, g in list(layer._grads.items()):
            if id(g) in views:
                layer._grads[key] = views[id(g)]
    for layer in every:                                   # wrappers re-read their sublayers' arrays
        relink = getattr(layer, "_link_weights", None)
        if relink is not None and layer.built:
            relink()
    return flat
