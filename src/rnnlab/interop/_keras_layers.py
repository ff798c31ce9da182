"""Layer configs between Keras 3 and rnnlab: the allow-list, key by key, both directions.

Keras writes a layer as ``{"module": "keras.layers", "class_name": "LSTM", "config": {...},
"registered_name": null}``. Only the classes in ``KEYS`` are read; each maps to the rnnlab layer of the
same name, and only the listed constructor arguments cross over (plus ``name``, ``trainable``,
``dtype``). Nothing is imported or executed by name: a class outside the list, a custom object
(``registered_name`` set, a module outside ``keras``) or a ``Lambda`` layer is refused.
"""
import warnings

from .. import activations as _activations
from .. import layers as L
from ._common import ConversionError, refuse, snake_case

_RNN = ["units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "dropout", "recurrent_dropout", "seed", "return_sequences", "return_state", "go_backwards", "stateful",
        "unroll"]
KEYS = {
    "Embedding": ["input_dim", "output_dim", "embeddings_initializer", "mask_zero"],
    "Dense": ["units", "activation", "use_bias", "kernel_initializer", "bias_initializer"],
    "SimpleRNN": _RNN,
    "LSTM": _RNN + ["recurrent_activation", "unit_forget_bias"],
    "GRU": _RNN + ["recurrent_activation", "reset_after"],
    "Bidirectional": ["layer", "merge_mode", "backward_layer"],
    "TimeDistributed": ["layer"],
    "Dropout": ["rate", "noise_shape", "seed"],
    "Conv1D": ["filters", "kernel_size", "strides", "padding", "dilation_rate", "activation", "use_bias",
               "kernel_initializer", "bias_initializer"],
    "MaxPooling1D": ["pool_size", "strides", "padding"],
    "AveragePooling1D": ["pool_size", "strides", "padding"],
    "GlobalMaxPooling1D": ["keepdims"],
    "GlobalAveragePooling1D": ["keepdims"],
    "LayerNormalization": ["axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer"],
    "Masking": ["mask_value"],
    "Attention": ["use_scale", "score_mode", "dropout", "seed"],
    "AdditiveAttention": ["use_scale", "dropout", "seed"],
    "Concatenate": ["axis"],
    "Add": [], "Average": [], "Multiply": [], "Maximum": [], "Subtract": [],
    "Dot": ["axes", "normalize"],
    "Permute": ["dims"],
    "RepeatVector": ["n"],
    "Reshape": ["target_shape"],
    "Flatten": [],
    "Activation": ["activation"],
}
COMMON = ["name", "trainable", "dtype"]
RECURRENT_NAMES = ("SimpleRNN", "LSTM", "GRU")

# Keras options rnnlab lacks but whose given value means "the same as rnnlab": dropped silently.
_NEUTRAL = {"data_format": ("channels_last", None), "groups": (1,), "rms_scaling": (False,), "sparse": (False,),
            "ragged": (False,), "optional": (False,), "quantization_config": (None,), "lora_rank": (None,),
            "lora_alpha": (None,), "zero_output_for_mask": (False, True), "activity_regularizer": (None,)}

# initialisers: rnnlab name <-> Keras name (with the arguments rnnlab's fixed formula assumes)
_INIT_TO_KERAS = {"glorot_uniform": "glorot_uniform", "glorot_normal": "glorot_normal", "orthogonal": "orthogonal",
                  "zeros": "zeros", "ones": "ones", "he_uniform": "he_uniform", "uniform": "random_uniform",
                  "normal": "random_normal"}
_INIT_FROM_KERAS = {"glorot_uniform": "glorot_uniform", "glorot_normal": "glorot_normal", "orthogonal": "orthogonal",
                    "zeros": "zeros", "ones": "ones", "he_uniform": "he_uniform"}


def _init_from_keras(value):
    """A Keras initialiser (string or dict) as rnnlab's name, or None (rnnlab's default) if it has none.
    Only the starting weights of a re-initialised model depend on it: loaded weights are exact."""
    if isinstance(value, str):
        name, cfg = snake_case(value) if value[:1].isupper() else value, {}
    elif isinstance(value, dict):
        name, cfg = snake_case(str(value.get("class_name", ""))), value.get("config") or {}
    else:
        return None
    if name == "random_uniform" and cfg.get("minval", -0.05) == -0.05 and cfg.get("maxval", 0.05) == 0.05:
        return "uniform"
    if name == "random_normal" and cfg.get("mean", 0.0) == 0.0 and cfg.get("stddev", 0.05) == 0.05:
        return "normal"
    return _INIT_FROM_KERAS.get(name)


def _dtype_from_keras(value, where):
    if isinstance(value, dict):
        value = (value.get("config") or {}).get("name")
    if value is None:
        return None
    if value not in ("float32", "float64"):
        refuse(where, "rnnlab", f"dtype policy {value!r} is not supported (rnnlab computes in float32 or float64)")
    return value


def _activation_from_keras(value, where):
    if value is None:
        return "linear"
    if not isinstance(value, str):
        refuse(where, "rnnlab", f"activation {value!r:.80} is a custom object; only named activations load "
               "(loading never runs code)")
    try:
        _activations.get(value)
    except (ValueError, KeyError, TypeError):
        refuse(where, "rnnlab", f"activation {value!r} has no rnnlab implementation")
    return value


def _one(value):
    """Keras's 1-D sizes come as one-element lists ([3]); rnnlab takes the int."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    return value


def check_keras_class(spec, where="(config)"):
    """Refuse anything outside the allow-list before any object is made; returns the class name."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ConversionError(f"{where}: expected a layer entry with 'class_name' and 'config', got {spec!r:.120}.")
    cls, module = spec["class_name"], spec.get("module") or "keras.layers"
    name = (spec.get("config") or {}).get("name", where)
    if cls == "Lambda":
        refuse(f"{name!r} (Lambda)", "rnnlab", "a Lambda layer holds Python code (a serialised function), and "
               "loading never executes code", "Replace the Lambda by a built-in layer in Keras and save again.")
    registered = spec.get("registered_name")
    if not str(module).startswith("keras") or (registered not in (None, cls)):
        refuse(f"{name!r} ({cls})", "rnnlab", f"it is a custom class (module {module!r}, registered name "
               f"{registered!r}); only built-in Keras layers in the allow-list are read")
    if cls not in KEYS and cls != "InputLayer":
        refuse(f"{name!r} ({cls})", "rnnlab", f"Keras layer class {cls!r} has no rnnlab equivalent; supported: "
               f"{sorted(KEYS)}")
    return cls


def layer_from_keras(spec, inside_bidirectional=False):
    """An rnnlab layer (no weights yet) from one Keras layer entry; ConversionError if it cannot be faithful."""
    cls_name = check_keras_class(spec)
    cfg = dict(spec.get("config") or {})
    where = f"{cfg.get('name', '?')!r} ({cls_name})"
    kwargs = {}
    for key, value in cfg.items():
        if key in ("layer", "backward_layer") and cls_name in ("Bidirectional", "TimeDistributed"):
            if value is not None:
                kwargs[key] = layer_from_keras(value, inside_bidirectional=cls_name == "Bidirectional")
        elif key in COMMON:
            kwargs[key] = _dtype_from_keras(value, where) if key == "dtype" else value
        elif key.endswith("_initializer") and key in KEYS[cls_name]:
            init = _init_from_keras(value)
            if init is not None:
                kwargs[key] = init
        elif key in ("activation", "recurrent_activation") and key in KEYS[cls_name]:
            kwargs[key] = _activation_from_keras(value, where)
        elif key in KEYS[cls_name]:
            kwargs[key] = _one(value) if key in ("kernel_size", "strides", "dilation_rate", "pool_size") else value
        elif key.endswith("_regularizer") or key.endswith("_constraint"):
            if value is not None:
                warnings.warn(f"Keras layer {where}: {key} is ignored (rnnlab has no {key.split('_')[-1]}s; it "
                              "changes training only, not the outputs).", stacklevel=3)
        elif key in _NEUTRAL:
            if value not in _NEUTRAL[key]:
                refuse(where, "rnnlab", f"option {key}={value!r} has no rnnlab equivalent")
            if (key == "zero_output_for_mask" and value and not inside_bidirectional
                    and cfg.get("return_sequences")):
                refuse(where, "rnnlab", "zero_output_for_mask=True outside Bidirectional (rnnlab repeats the last "
                       "output at masked steps, as Keras's default)")
        elif value not in (None, False, 0, [], {}):
            refuse(where, "rnnlab", f"option {key}={value!r:.60} has no rnnlab equivalent")
    if cls_name == "LayerNormalization" and isinstance(kwargs.get("axis"), list):
        if len(kwargs["axis"]) != 1:
            refuse(where, "rnnlab", f"normalising over several axes {kwargs['axis']} is not supported")
        kwargs["axis"] = kwargs["axis"][0]
    try:
        layer = getattr(L, cls_name)(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConversionError(f"Cannot convert Keras layer {where} to rnnlab: {e}") from None
    return layer


# ---- rnnlab -> Keras ----------------------------------------------------------------------------------

def _initializer_to_keras(value):
    return _INIT_TO_KERAS.get(value, "glorot_uniform") if isinstance(value, str) else value


def check_layer_to_keras(layer, masked_input=False):
    """Refuse an rnnlab layer that Keras would compute differently (before anything is written)."""
    cls_name = type(layer).__name__
    if cls_name not in KEYS or type(layer) is not getattr(L, cls_name):
        reason = {"Lambda": "a Lambda layer holds a Python function, which a .keras file cannot carry safely",
                  "TiedDense": "a Dense whose kernel is an Embedding's transposed matrix has no Keras layer",
                  "RNN": "a generic RNN(cell) layer is written by Keras with its cell's class; use "
                         "SimpleRNN/LSTM/GRU"}.get(cls_name, f"class {cls_name} has no Keras 3 layer in the "
                                                           "allow-list")
        refuse(layer, "Keras", reason)
    if cls_name in RECURRENT_NAMES and layer.cell.layer_norm:
        refuse(layer, "Keras", "layer_norm=True (layer-normalised gate blocks) is an rnnlab extension Keras lacks",
               "Train without layer_norm to export.")
    if cls_name == "GlobalMaxPooling1D" and masked_input:
        refuse(layer, "Keras", "it receives a mask, which rnnlab honours and Keras's GlobalMaxPooling1D ignores "
               "(padding could win the maximum in Keras)",
               "Use GlobalAveragePooling1D or pooling='last', or export to ONNX instead.")
    for sub in layer.sublayers():
        if sub is not getattr(layer, "cell", None):
            check_layer_to_keras(sub)
    for act in ("activation", "recurrent_activation"):
        value = getattr(layer, act, None) if cls_name not in RECURRENT_NAMES else getattr(layer.cell, act, None)
        if isinstance(value, str) or value is None:
            continue
        refuse(layer, "Keras", f"its {act} {value!r:.40} is not a named activation")


def layer_to_keras(layer):
    """One rnnlab layer as a Keras 3 layer entry (``module``, ``class_name``, ``config``)."""
    check_layer_to_keras(layer)
    cls_name = type(layer).__name__
    cfg = layer.get_config()
    out = {"name": layer.name, "trainable": bool(cfg.get("trainable", True)), "dtype": cfg.get("dtype", "float32")}
    for key in KEYS[cls_name]:
        if key not in cfg:
            continue
        value = cfg[key]
        if key in ("layer", "backward_layer"):
            sub = layer.forward_layer if (cls_name == "Bidirectional" and key == "layer") else (
                layer.backward_layer if key == "backward_layer" else layer.layer)
            value = layer_to_keras(sub)
        elif key.endswith("_initializer"):
            value = _initializer_to_keras(value)
        elif key in ("activation", "recurrent_activation") and value is None:
            value = "linear"
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    if cls_name == "Bidirectional":
        out["backward_layer"] = layer_to_keras(layer.backward_layer)
    if cls_name in RECURRENT_NAMES:
        out["zero_output_for_mask"] = False
    return {"module": "keras.layers", "class_name": cls_name, "config": out, "registered_name": None}
