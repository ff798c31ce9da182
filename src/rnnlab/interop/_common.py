"""Shared helpers: the conversion error, optional imports, and walking an rnnlab model's layers."""
import importlib
import re

from .. import layers as L


class ConversionError(ValueError):
    """A model (or file) that cannot be converted faithfully; the message names the layer and the reason."""


def refuse(layer, target, reason, fix=None):
    """Raise ``ConversionError`` for ``layer`` (an rnnlab layer or a name) that cannot go to ``target``."""
    name = layer if isinstance(layer, str) else f"{layer.name!r} ({type(layer).__name__})"
    msg = f"Cannot convert layer {name} to {target}: {reason}."
    if fix:
        msg += f" {fix}"
    raise ConversionError(msg)


def require(module, what):
    """Import an optional dependency or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pip = {"onnx": "onnx", "onnxruntime": "onnxruntime", "h5py": "h5py", "torch": "torch"}.get(module, module)
        raise ImportError(f"{what} needs the optional package {pip!r}: pip install {pip} "
                          "(or pip install 'rnnlab[interop]').") from None


def snake_case(name):
    """Keras's file name for a class: ``GlobalMaxPooling1D`` -> ``global_max_pooling1d``, ``LSTM`` -> ``lstm``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


RECURRENT = (L.SimpleRNN, L.LSTM, L.GRU)


def rnn_kind(layer):
    """``"rnn"``, ``"lstm"`` or ``"gru"`` for a SimpleRNN/LSTM/GRU layer (its cell decides), else None."""
    cell = getattr(layer, "cell", None)
    if isinstance(cell, L.LSTMCell):
        return "lstm"
    if isinstance(cell, L.GRUCell):
        return "gru"
    if isinstance(cell, L.SimpleRNNCell):
        return "rnn"
    return None


def check_recurrent(layer, target, allow_stateful=False):
    """Refuse the recurrent options ``target`` has no equivalent for (layer norm, stateful, custom cells)."""
    if rnn_kind(layer) is None or type(layer.cell) not in (L.SimpleRNNCell, L.LSTMCell, L.GRUCell):
        refuse(layer, target, f"its cell {type(getattr(layer, 'cell', None)).__name__} is not a SimpleRNN, "
               "LSTM or GRU cell")
    if layer.cell.layer_norm:
        refuse(layer, target, "layer_norm=True (layer-normalised gate blocks) is an rnnlab extension with no "
               f"{target} equivalent", "Train without layer_norm to export.")
    if layer.stateful and not allow_stateful:
        refuse(layer, target, "stateful=True carries states between batches, which a stateless graph cannot do",
               "Rebuild the model with stateful=False (same weights) before converting.")


def sequential_layers(model, target):
    """The layers of a ``Sequential`` (``target`` refuses functional graphs with a clear message)."""
    from ..models import Sequential
    if not isinstance(model, Sequential):
        raise ConversionError(f"Cannot convert model {model.name!r} ({type(model).__name__}) to {target}: only "
                              "Sequential models are supported for this target (a functional graph has no "
                              "single chain of layers to translate). Use rnnlab.interop.keras for functional "
                              "models.")
    if not model.built:
        model.build()
    return model.layers


def input_is_ids(model):
    """True when the model reads integer token ids (its first layer is an Embedding)."""
    layers = model.layers
    return bool(layers) and isinstance(layers[0], L.Embedding)
