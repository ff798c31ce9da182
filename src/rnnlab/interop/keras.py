"""Keras 3 files <-> rnnlab models: ``load``, ``load_weights``, ``save``.

A ``.keras`` file is a zip archive holding three members:

    config.json        {"module": ..., "class_name": "Sequential" | "Functional", "config": {"layers": [...]}}
    metadata.json      {"keras_version": "3.15.1", "date_saved": ...}
    model.weights.h5   HDF5: layers/<path>/vars/0, 1, ... (recurrent layers: layers/<path>/cell/vars/...)

``<path>`` is the layer's *class* in snake case, numbered in the model's layer order when the class
repeats: ``lstm``, ``lstm_1``; nested layers sit under ``cell`` (SimpleRNN/LSTM/GRU),
``forward_layer``/``backward_layer`` (Bidirectional) and ``layer`` (TimeDistributed). The arrays are
Keras's ``get_weights()``, which is rnnlab's layout too, so they are copied unchanged. A
``.weights.h5`` file (``model.save_weights``) is the same HDF5 without the architecture.

Loading never executes code: it reads JSON and HDF5 datasets only (``h5py``), never unpickles, and
builds rnnlab layers from an allow-list of built-in Keras classes (``_keras_layers.KEYS``); a
``Lambda`` layer, a custom class or an option rnnlab cannot honour is refused with a
``ConversionError`` naming the layer. Keras's mask bookkeeping (``NotEqual``/``Any``/... operations
that only feed ``mask=`` arguments) is dropped: rnnlab propagates masks by the same rules.

Saving writes a file that ``keras.saving.load_model`` reads (tested with Keras 3.15.1, torch
backend). Everything is checked and the whole archive assembled in memory before one atomic write,
so a refused model leaves no file behind. Optimiser settings are not carried over (compile the
loaded model again).

Known differences, checked where they would change a result: at *masked* steps of a
``return_sequences`` output, Keras's Bidirectional writes zeros where rnnlab repeats the last output
(forward half after the real steps, backward half before them). Layers that read the mask ignore
those steps, so only a model output or a mask-blind reader (Flatten, Conv1D, 1-D pooling) sees them;
in a Sequential model such a reader is refused, in a functional graph it is not checked. Keras's
GlobalMaxPooling1D ignores masks and rnnlab's honours them, so a masked one is refused.

Example::

    from rnnlab.interop import keras as rk
    model = rk.load("model.keras")              # Sequential or functional rnnlab model
    rk.save(model, "copy.keras")                # keras.saving.load_model("copy.keras") works
    rk.load_weights(same_architecture, "model.weights.h5")
"""
import datetime
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .. import layers as L
from ..models import Model, Sequential
from ..models.saving import atomic_write_bytes
from ._common import ConversionError, refuse, require, snake_case
from ._keras_layers import RECURRENT_NAMES, check_keras_class, check_layer_to_keras, layer_from_keras, layer_to_keras

KERAS_VERSION = "3.15.1"          # the Keras release whose file format ``save`` writes
_CHILDREN = {**{n: ["cell"] for n in RECURRENT_NAMES}, "Bidirectional": ["forward_layer", "backward_layer"],
             "TimeDistributed": ["layer"]}
_TENSOR = "__keras_tensor__"

MAX_CONFIG_BYTES = 64 << 20          # a model's config.json: far below this
MAX_WEIGHTS_BYTES = 16 << 30         # weights larger than 16 GiB are not a model rnnlab trains


def _h5py():
    return require("h5py", "Reading and writing Keras files")


# ---- reading ----------------------------------------------------------------------------------------

def _read_archive(path):
    """``(config dict, h5 bytes)`` from a ``.keras`` zip, refusing anything that is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No Keras file at {str(path)!r}.")
    if path.name.endswith(".weights.h5") or path.suffix == ".h5":
        raise ValueError(f"{str(path)!r} is a weights file: it holds no architecture. Build the rnnlab model and "
                         "call rnnlab.interop.keras.load_weights(model, path), or pass the .keras file.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{str(path)!r} is not a .keras archive (a zip with config.json and model.weights.h5); "
                         "legacy TF SavedModel and Keras 2 .h5 models are not read.")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for need in ("config.json", "model.weights.h5"):
            if need not in names:
                raise ValueError(f"{str(path)!r} has no {need}; found {sorted(names)}.")
        for need, limit in (("config.json", MAX_CONFIG_BYTES), ("model.weights.h5", MAX_WEIGHTS_BYTES)):
            size = z.getinfo(need).file_size               # the declared size, checked before inflating
            if size > limit:
                raise ValueError(f"{str(path)!r}: {need} declares {size:,} bytes uncompressed, more than the "
                                 f"{limit:,} allowed; the archive is damaged or hostile (a zip bomb).")
        try:
            config = json.loads(_read_member(z, "config.json", MAX_CONFIG_BYTES, path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise ValueError(f"{str(path)!r}: config.json is not valid JSON ({type(e).__name__}: {e}).") from None
        return config, _read_member(z, "model.weights.h5", MAX_WEIGHTS_BYTES, path)


def _read_member(z, name, limit, path):
    """A zip member's bytes, read in chunks and refused once it inflates past ``limit`` (whatever it declares)."""
    chunks, total = [], 0
    with z.open(name) as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:
                raise ValueError(f"{str(path)!r}: {name} inflates past {limit:,} bytes; the archive is damaged or "
                                 "hostile (a zip bomb).")
            chunks.append(chunk)


def _ref(obj):
    """``(layer_name, node_index, tensor_index)`` of a serialised Keras tensor, else None."""
    if isinstance(obj, dict) and obj.get("class_name") == _TENSOR:
        hist = (obj.get("config") or {}).get("keras_history")
        return tuple(hist) if isinstance(hist, list) and len(hist) == 3 else None
    if isinstance(obj, list) and len(obj) == 3 and isinstance(obj[0], str):
        return tuple(obj)                     # input_layers / output_layers entries
    return None


def _refs_in(obj):
    """Every tensor reference inside ``obj`` (nested lists/dicts)."""
    r = _ref(obj)
    if r is not None and isinstance(obj, dict):
        return [r]
    if isinstance(obj, list):
        return [x for v in obj for x in _refs_in(v)]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _refs_in(v)]
    return []


def _is_op(entry):
    return str(entry.get("module", "")).startswith("keras.src.ops")


def _mask_only_ops(entries):
    """Names of Keras operations whose outputs only ever reach ``mask=`` arguments (mask bookkeeping)."""
    ops = {e["name"] for e in entries if _is_op(e)}
    used_by = {n: set() for n in ops}           # op -> {"mask", "op:<name>", "arg"}
    for e in entries:
        for node in e.get("inbound_nodes") or []:
            kwargs = dict(node.get("kwargs") or {})
            mask = kwargs.pop("mask", None)
            for r in _refs_in(mask):
                if r[0] in ops:
                    used_by[r[0]].add("mask")
            for r in _refs_in([node.get("args"), kwargs]):
                if r[0] in ops:
                    used_by[r[0]].add(f"op:{e['name']}" if _is_op(e) else "arg")
    bad = {n for n, uses in used_by.items() if "arg" in uses}
    changed = True
    while changed:                              # an op feeding a bad op is bad too
        changed = False
        for n, uses in used_by.items():
            if n not in bad and any(u.startswith("op:") and u[3:] in bad for u in uses):
                bad.add(n)
                changed = True
    for e in entries:
        if e["name"] in bad:
            refuse(f"{e['name']!r} ({e.get('class_name')})", "rnnlab",
                   f"Keras operation {e.get('module')}.{e.get('class_name')} computes a value inside the graph "
                   "(not only a mask); rnnlab builds models from layers only",
                   "Replace the operation by a layer (e.g. layers.Add instead of +) in Keras and save again.")
    return ops


def _input_from_keras(entry):
    cfg = entry.get("config") or {}
    shape = cfg.get("batch_shape") or ([None] + list(cfg.get("shape") or []))
    dtype = cfg.get("dtype") or "float32"
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name", "float32")
    if cfg.get("sparse") or cfg.get("ragged"):
        refuse(f"{cfg.get('name')!r} (InputLayer)", "rnnlab", "sparse and ragged inputs are not supported")
    return L.Input(tuple(shape[1:]), batch_size=shape[0], dtype=dtype, name=cfg.get("name") or entry.get("name"))


def _paths(class_names):
    """Keras's weight-file paths for layers of these classes, in order: ``lstm``, ``lstm_1``, ..."""
    seen, out = {}, []
    for cls in class_names:
        base = snake_case(cls)
        out.append(base if base not in seen else f"{base}_{seen[base] + 1}")
        seen[base] = seen.get(base, -1) + 1
    return out


def _sequential_from_keras(cfg):
    entries = cfg.get("layers")
    if not isinstance(entries, list):
        raise ConversionError("config.json: a Sequential config needs a list 'layers'.")
    for e in entries:
        check_keras_class(e)
    head = []
    if entries and entries[0].get("class_name") == "InputLayer":
        head = [_input_from_keras(entries[0])]
        entries = entries[1:]
    layers = [layer_from_keras(e) for e in entries]
    model = Sequential(head + layers, name=cfg.get("name"))
    _masked_inputs(model, "rnnlab")
    if not head:
        shape = cfg.get("build_input_shape")
        if shape is None:
            raise ConversionError("config.json: the Sequential model has no InputLayer and no build_input_shape; "
                                  "Keras never built it, so its file holds no weights to load.")
        model.build(tuple(shape))
    else:
        model.build()
    return model, list(zip(_paths([e["class_name"] for e in entries]), layers))


def _functional_from_keras(cfg):
    entries = cfg.get("layers")
    if not isinstance(entries, list):
        raise ConversionError("config.json: a functional config needs a list 'layers'.")
    for e in entries:
        if not _is_op(e):
            check_keras_class(e)
    ops = _mask_only_ops(entries)
    layer_entries = [e for e in entries if not _is_op(e)]
    made, tensors, pending = {}, {}, []
    for e in layer_entries:
        if e["class_name"] == "InputLayer":
            t = _input_from_keras(e)
            made[e["name"]] = t.node.layer
            tensors[(e["name"], 0, 0)] = t
        else:
            made[e["name"]] = layer_from_keras(e)
            pending += [(e["name"], i, node) for i, node in enumerate(e.get("inbound_nodes") or [])]

    def resolve(obj):
        if _ref(obj) is not None and isinstance(obj, dict):
            return tensors.get(_ref(obj), KeyError)
        if isinstance(obj, list):
            items = [resolve(v) for v in obj]
            return KeyError if any(v is KeyError for v in items) else items
        return obj

    while pending:
        progress = False
        for item in list(pending):
            name, index, node = item
            kwargs = dict(node.get("kwargs") or {})
            mask = kwargs.pop("mask", None)
            kwargs.pop("training", None)
            for r in _refs_in(mask):
                if r[0] not in ops and made.get(r[0]) is not None and isinstance(made[r[0]], L.InputLayer):
                    refuse(f"{name!r}", "rnnlab", f"it is called with an explicit mask from input {r[0]!r}; rnnlab "
                           "derives masks from Embedding(mask_zero=True) or Masking layers only")
            states = kwargs.pop("initial_state", None)
            leftover = {k: v for k, v in kwargs.items() if v is not None}
            if leftover:
                refuse(f"{name!r}", "rnnlab", f"it is called with arguments {sorted(leftover)} that rnnlab's layer "
                       "does not take")
            args = node.get("args") or []
            if len(args) != 1:
                refuse(f"{name!r}", "rnnlab", f"it is called with {len(args)} positional arguments; rnnlab layers "
                       "take one (a tensor or a list of tensors)")
            x, st = resolve(args[0]), (None if states is None else resolve(states))
            if x is KeyError or st is KeyError:
                continue
            layer = made[name]
            out = layer(x, initial_state=st) if st is not None else layer(x)
            for k, t in enumerate(out if isinstance(out, list) else [out]):
                tensors[(name, index, k)] = t
            pending.remove(item)
            progress = True
        if not progress:
            raise ConversionError(f"config.json: cannot resolve the inputs of layer(s) "
                                  f"{sorted({p[0] for p in pending})}; the graph refers to tensors it never makes.")

    def pick(spec):
        if isinstance(spec, dict):
            return {k: pick(v) for k, v in spec.items()}
        if _ref(spec) is not None:
            t = tensors.get(_ref(spec))
            if t is None:
                raise ConversionError(f"config.json: model input/output {spec} is not a tensor of the graph.")
            return t
        return [pick(s) for s in spec]

    model = Model(pick(cfg["input_layers"]), pick(cfg["output_layers"]), name=cfg.get("name"))
    return model, list(zip(_paths([e["class_name"] for e in layer_entries]), [made[e["name"]] for e in layer_entries]))


def model_from_config(config):
    """Build the rnnlab model described by a Keras ``config.json`` dict (no weights): ``(model, pairs)``,
    ``pairs`` listing ``(weights-file path, rnnlab layer)`` in Keras's order."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ConversionError("config.json: expected {'class_name': ..., 'config': {...}}.")
    cls = config.get("class_name")
    if cls == "Sequential":
        return _sequential_from_keras(config["config"])
    if cls in ("Functional", "Model") and str(config.get("module", "keras")).startswith("keras"):
        return _functional_from_keras(config["config"])
    raise ConversionError(f"config.json: model class {cls!r} (module {config.get('module')!r}) cannot be loaded; "
                          "only Sequential and functional models are read (a subclassed model's call() is Python "
                          "code, which loading never runs).")


def _h5_arrays(group, layer, where):
    """The arrays of one layer's group in ``get_weights()`` order: own ``vars``, then nested layers."""
    if "vars" not in group:
        raise ConversionError(f"Keras weights: group {where!r} has no 'vars'; the file does not match the model.")
    v = group["vars"]
    arrays = [np.asarray(v[k]) for k in sorted(v.keys(), key=int)]
    for child in _CHILDREN.get(type(layer).__name__, []):
        if child not in group:
            raise ConversionError(f"Keras weights: {where!r} has no {child!r} group.")
        sub = {"cell": layer.cell if child == "cell" else None, "forward_layer": getattr(layer, "forward_layer", None),
               "backward_layer": getattr(layer, "backward_layer", None), "layer": getattr(layer, "layer", None)}[child]
        arrays += _h5_arrays(group[child], sub, f"{where}/{child}")
    return arrays


def _fill(h5, pairs, source):
    """Copy the arrays of ``layers/<path>`` into each rnnlab layer, checking counts and shapes first."""
    if "layers" not in h5:
        raise ConversionError(f"{source}: no 'layers' group; it is not a Keras 3 weights file.")
    todo = []
    for path, layer in pairs:
        if path not in h5["layers"]:
            if not layer.weights:
                continue
            raise ConversionError(f"{source}: no weights for layer {layer.name!r} (expected group 'layers/{path}'); "
                                  f"the file has {sorted(h5['layers'].keys())}.")
        arrays = _h5_arrays(h5["layers"][path], layer, f"layers/{path}")
        want = [w.shape for w in layer.weights]
        got = [a.shape for a in arrays]
        if want != got:
            raise ConversionError(f"{source}: 'layers/{path}' holds arrays of shapes {got}, but rnnlab layer "
                                  f"{layer.name!r} ({type(layer).__name__}) needs {want}.")
        todo.append((layer, arrays))
    for layer, arrays in todo:
        if arrays:
            layer.set_weights([a.astype(w.dtype) for a, w in zip(arrays, layer.weights)])


def load(path):
    """Build the rnnlab model saved by Keras 3 at ``path`` (a ``.keras`` file), with its weights.

    Args:
        path: a ``.keras`` archive written by ``keras.Model.save`` (Sequential or functional model).

    Returns:
        an rnnlab ``Sequential`` or functional ``Model`` giving Keras's outputs (float32, ~1e-6).

    Raises:
        ConversionError: a layer, option or operation without a faithful rnnlab equivalent (Lambda
            layers and custom classes included), named in the message.
    """
    h5py = _h5py()
    config, blob = _read_archive(path)
    model, pairs = model_from_config(config)
    with h5py.File(io.BytesIO(blob), "r") as h5:
        _fill(h5, pairs, f"{str(path)!r}/model.weights.h5")
    return model


def load_weights(model, path):
    """Fill the rnnlab ``model`` with the weights of a Keras ``.weights.h5`` (or ``.keras``) file.

    The model must have Keras's architecture (same layer classes in the same order); its layers are
    matched to the file as Keras matches them, by class and position (``lstm``, ``lstm_1``, ...).
    """
    h5py = _h5py()
    path = Path(path)
    if zipfile.is_zipfile(path):
        _, blob = _read_archive(path)
        src = io.BytesIO(blob)
    else:
        src = str(path)
    with h5py.File(src, "r") as h5:
        _fill(h5, keras_weight_paths(model), repr(str(path)))
    return model


# ---- writing ----------------------------------------------------------------------------------------

def keras_layer_order(model):
    """The order Keras gives a functional model's layers (its weights-file order).

    Keras sorts the graph's operations by depth (outputs at depth 0, each producer one deeper than its
    deepest reader), deepest first, and breaks ties by the order a depth-first walk from the outputs
    first meets them. Only layers of the same class at the same depth depend on the tie-break.
    """
    if isinstance(model, Sequential):
        return list(model.layers)
    index, finished, order = {}, set(), []

    def visit(t):
        node = t.node
        if id(node) in finished:
            return
        index.setdefault(node.layer, len(index))
        for s in node.input_tensors:
            visit(s)
        finished.add(id(node))
        order.append(node)

    for t in model.outputs:
        visit(t)
    node_depth, layer_depth = {}, {}
    for node in reversed(order):
        d = max(node_depth.setdefault(id(node), 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = node_depth[id(node)] = d
        for s in node.input_tensors:
            node_depth[id(s.node)] = max(d + 1, node_depth.get(id(s.node), 0))
    for t in model.inputs:
        layer_depth.setdefault(t.node.layer, 0)
        index.setdefault(t.node.layer, -1)
    return sorted(layer_depth, key=lambda layer: (-layer_depth[layer], index[layer]))


def keras_weight_paths(model):
    """``[(weights-file path, layer), ...]`` for an rnnlab model, as Keras names them."""
    layers = keras_layer_order(model)
    return list(zip(_paths([type(layer).__name__ for layer in layers]), layers))


def _write_group(group, layer, weights_name=None):
    cls = type(layer).__name__
    v = group.create_group("vars")
    v.attrs["name"] = weights_name or layer.name
    children = _CHILDREN.get(cls, [])
    if not children:
        for i, w in enumerate(layer.weights):
            v.create_dataset(str(i), data=np.asarray(w))
        return
    if cls in RECURRENT_NAMES:
        _write_group(group.create_group("cell"), layer.cell, f"{snake_case(cls)}_cell")
    elif cls == "Bidirectional":
        _write_group(group.create_group("forward_layer"), layer.forward_layer)
        _write_group(group.create_group("backward_layer"), layer.backward_layer)
    else:
        _write_group(group.create_group("layer"), layer.layer)


def _weights_blob(model, name):
    h5py = _h5py()
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        layers = h5.create_group("layers")
        for path, layer in keras_weight_paths(model):
            _write_group(layers.create_group(path), layer)
        h5.create_group("vars").attrs["name"] = name
    return buf.getvalue()


def _input_entry(name, shape, dtype):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": list(shape), "dtype": dtype, "sparse": False, "ragged": False, "name": name},
            "registered_name": None}


def _masked_inputs(model, target="Keras"):
    """Names of a Sequential's layers that receive a mask; refuses a chain where the two frameworks differ.

    Keras's Bidirectional writes zeros at padded steps where rnnlab repeats the last output (forward
    half; mirrored for the backward half). Layers that honour the mask never read those steps, but
    Flatten, Conv1D and 1-D pooling do, so a masked Bidirectional(return_sequences=True) feeding them
    (through per-step layers) is refused in both directions."""
    out, mask, padded_by = set(), False, None
    per_step = (L.Dense, L.Dropout, L.Activation, L.TimeDistributed, L.LayerNormalization)
    for layer in model.layers:
        if mask:
            out.add(layer.name)
        if padded_by is not None and isinstance(layer, (L.Flatten, L.Conv1D, L.MaxPooling1D, L.AveragePooling1D,
                                                        L.GlobalMaxPooling1D, L.Reshape, L.Permute)):
            refuse(layer, target,
                   f"it reads the padded steps of Bidirectional layer {padded_by.name!r}, where Keras writes zeros "
                   "and rnnlab repeats the last output, so the two would compute different outputs",
                   "Use a masked pooling (GlobalAveragePooling1D) or return_sequences=False on the Bidirectional.")
        if isinstance(layer, L.Embedding):
            mask = mask or layer.mask_zero
        elif isinstance(layer, L.Masking):
            mask = True
        elif isinstance(layer, (L.RNN, L.Bidirectional)):
            padded_by = layer if (isinstance(layer, L.Bidirectional) and mask and layer.return_sequences) else None
            mask = mask and layer.return_sequences
        elif isinstance(layer, (L.GlobalAveragePooling1D, L.GlobalMaxPooling1D, L.Flatten)):
            mask, padded_by = False, None
        elif not isinstance(layer, per_step):
            padded_by = None if not mask else padded_by
    return out


def _sequential_to_keras(model):
    shape = model._build_input_shape
    if shape is None:
        raise ConversionError(f"Model {model.name!r} has no known input shape; call it on data or build it first.")
    dtype = "int32" if model.layers and isinstance(model.layers[0], L.Embedding) else model.layers[0].dtype.name
    entries = [_input_entry(f"{model.name}_input", shape, dtype)] + [layer_to_keras(layer) for layer in model.layers]
    cfg = {"name": model.name, "trainable": True, "dtype": "float32", "layers": entries,
           "build_input_shape": list(shape)}
    return {"module": "keras", "class_name": "Sequential", "config": cfg, "registered_name": None,
            "build_config": {"input_shape": list(shape)}}


def _functional_to_keras(model):
    nodes = model._nodes
    renumber = {}
    for node in nodes:
        same = [n for n in nodes if n.layer is node.layer]
        renumber[id(node)] = same.index(node)

    def ref(t):
        idx = 0 if isinstance(t.node.layer, L.InputLayer) else renumber[id(t.node)]
        return {"class_name": _TENSOR, "config": {"shape": list(t.shape), "dtype": t.dtype.name,
                                                  "keras_history": [t.node.layer.name, idx, t.index]}}

    entries = []
    for layer in keras_layer_order(model):
        if isinstance(layer, L.InputLayer):
            t = layer.output
            entry = _input_entry(layer.name, t.shape, t.dtype.name)
            entries.append({**entry, "name": layer.name, "inbound_nodes": []})
            continue
        entry = layer_to_keras(layer)
        inbound = []
        for node in [n for n in nodes if n.layer is layer]:
            args = [[ref(t) for t in node.inputs]] if isinstance(node.inputs, list) else [ref(node.inputs)]
            kwargs = dict(node.kwargs)
            if node.states is not None:
                kwargs["initial_state"] = [ref(t) for t in node.states]
            inbound.append({"args": args, "kwargs": kwargs})
        entries.append({**entry, "name": layer.name, "inbound_nodes": inbound})

    def refs(items, structure):
        out = [ref(t)["config"]["keras_history"] for t in items]
        if structure[0] == "dict":
            return dict(zip(structure[1], out))
        return out if structure[0] == "list" else out[0]

    cfg = {"name": model.name, "trainable": True, "layers": entries,
           "input_layers": refs(model.inputs, model._input_structure),
           "output_layers": refs(model.outputs, model._output_structure)}
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": cfg,
            "registered_name": "Functional"}


def to_config(model):
    """The Keras 3 ``config.json`` dict for an rnnlab model (ConversionError if a layer has no equivalent)."""
    if isinstance(model, Sequential):
        if not model.built:
            model.build()
        masked = _masked_inputs(model)
        for layer in model.layers:
            check_layer_to_keras(layer, masked_input=layer.name in masked)
        return _sequential_to_keras(model)
    if hasattr(model, "_nodes") and hasattr(model, "outputs"):
        for layer in model.layers:
            if not isinstance(layer, L.InputLayer):
                check_layer_to_keras(layer, masked_input=isinstance(layer, L.GlobalMaxPooling1D) and
                                     _functional_mask_reaches(model, layer))
        return _functional_to_keras(model)
    raise ConversionError(f"Cannot convert model {model.name!r} ({type(model).__name__}) to Keras: only Sequential "
                          "and functional models have a Keras file format (a subclassed model's call is code).")


def _functional_mask_reaches(model, layer):
    """True when a mask (from Embedding(mask_zero=True) or Masking) reaches a call of ``layer``."""
    stops = (L.Flatten, L.Conv1D, L.MaxPooling1D, L.AveragePooling1D, L.GlobalAveragePooling1D,
             L.GlobalMaxPooling1D, L.Reshape, L.RepeatVector, L.Dot)
    masked = set()
    for node in model._nodes:
        lay = node.layer
        reads = any(id(t) in masked for t in node.input_tensors[:1 if not isinstance(node.inputs, list)
                                                                    else len(node.inputs)])
        if lay is layer and reads:
            return True
        makes = isinstance(lay, L.Masking) or (isinstance(lay, L.Embedding) and lay.mask_zero)
        passes = reads and not isinstance(lay, stops) and not (
            isinstance(lay, (L.RNN, L.Bidirectional)) and not lay.return_sequences)
        if makes or passes:
            masked.add(id(node.outputs[0]))
    return False


def save(model, path):
    """Write ``model`` as a Keras 3 ``.keras`` file that ``keras.saving.load_model(path)`` reads.

    Args:
        model: a built rnnlab Sequential or functional model.
        path: the file to write; must end in ``.keras``.

    Raises:
        ConversionError: before anything is written, for a layer Keras cannot reproduce (TiedDense,
            Lambda, layer_norm=True cells, a masked GlobalMaxPooling1D, ...).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"Keras 3 model files end in '.keras' (keras.saving.load_model refuses others), got "
                         f"{str(path)!r}.")
    config = to_config(model)
    blob = _weights_blob(model, model.name)
    meta = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", json.dumps(meta))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", blob)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path
