"""Layer configs as plain JSON-able dicts: ``{"class_name": ..., "config": {...}}``.

``deserialize`` looks the class name up among rnnlab's own layer classes only; a config file can
never name arbitrary code to run.
"""
from .base import Layer


def _is_layer_class(c):
    return isinstance(c, type) and issubclass(c, Layer)


def serialize(layer):
    """``{"class_name": "LSTM", "config": layer.get_config()}``."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec):
    """Rebuild a layer (without weights) from ``serialize``'s output."""
    from .. import layers as _layers
    if not isinstance(spec, dict) or "class_name" not in spec or "config" not in spec:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config', got {spec!r:.200}.")
    name = spec["class_name"]
    cls = getattr(_layers, name, None) if isinstance(name, str) else None
    if not _is_layer_class(cls):
        raise ValueError(f"Unknown layer class {name!r} in config; expected one of rnnlab.layers: "
                         f"{sorted(n for n, c in vars(_layers).items() if _is_layer_class(c))}.")
    if not isinstance(spec["config"], dict):
        raise ValueError(f"The config of layer class {name!r} must be a dict, got {type(spec['config']).__name__}.")
    try:
        return cls.from_config(dict(spec["config"]))
    except TypeError as e:
        raise ValueError(f"Could not rebuild layer {name!r} from its config: {e}") from None
