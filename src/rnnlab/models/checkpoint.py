"""Training checkpoints for exact resume: a model directory plus the state that the weights alone do not hold.

A checkpoint is an ordinary model directory written by ``models.saving`` as one unit (so a run killed
while writing it leaves the previous checkpoint or the new one, never a mix), with two more files in
its manifest::

    CKPT/
      config.json                  the manifest; metadata {"checkpoint": {"epoch", "batch", ...}}
      model.safetensors            the weights (``load_model(CKPT)`` works on a checkpoint)
      training_state.json          position, step count, accumulators, every random generator's state
      training_state.safetensors   optimiser slots ("slot/{i}/{name}"), EMA averages ("ema/{i}"; i indexes
                                   ``model.parameters()``), the current epoch's data order ("order") and
                                   stateful layers' carried states ("carried/{layer}/{k}")

``training_state.json`` holds::

    {"format": "rnnlab.training_state", "version": 1,
     "epoch": e, "batch": b,            # the next batch to run is batch b of 0-based epoch e
     "optimizer": {"class_name", "iterations", "slots": [[name, ...] per parameter], "ema": bool},
     "rng": {"global": <numpy bit_generator.state>, "layers": {"<index in all_layers>": state}},
     "weight_keys": [...],              # model.safetensors keys in model order (layer names may differ)
     "carried": {"<index in all_layers>": n},   # stateful layers' carried states: "carried/{i}/{k}" tensors
     "accumulators": {"loss_total", "loss_count", "output_loss_totals", "metrics": [[total, count], ...]},
     "history": {...}, "skipped_batches": n, "extra": {...}}

The learning-rate schedule's position is the optimiser's step count (``lr(iterations)``). Nothing is
pickled: JSON and safetensors only, and the files are checked against the manifest when read.

Example::

    save_checkpoint(model, "runs/ckpt", epoch=2, batch=10, order=perm)
    position = restore_checkpoint(model, "runs/ckpt")      # weights, optimiser, generators back in place
"""
import json
import os
from pathlib import Path

import numpy as np

from .. import backend
from .traversal import all_layers

STATE_JSON = "training_state.json"
STATE_TENSORS = "training_state.safetensors"
STATE_FORMAT = "rnnlab.training_state"
STATE_VERSION = 1


# ---- random generators ------------------------------------------------------------------------------

def _layer_generators(model):
    """``[(index, layer)]`` of every layer (cells and wrapped layers included) that may own a generator."""
    return [(i, layer) for i, layer in enumerate(all_layers(model.layers)) if hasattr(layer, "_rng")]


def rng_states(model=None):
    """The state of the global generator and of every layer's own generator (JSON-able dicts)."""
    out = {"global": _plain(backend.rng().bit_generator.state), "layers": {}}
    if model is not None:
        for i, layer in _layer_generators(model):
            gen = layer._rng
            if isinstance(gen, np.random.Generator):
                out["layers"][str(i)] = _plain(gen.bit_generator.state)
    return out


def set_rng_states(states, model=None):
    """Put generator states from ``rng_states`` back (in place: whoever holds a generator sees the change)."""
    _set_state(backend.rng(), states["global"])
    if model is None:
        return
    by_index = dict(_layer_generators(model))
    for key, state in states.get("layers", {}).items():
        layer = by_index.get(int(key))
        if layer is None:
            raise ValueError(f"The checkpoint holds the random generator of layer #{key}, but this model has no "
                             "layer with a generator there; resume with the same architecture.")
        if not isinstance(layer._rng, np.random.Generator):
            layer._rng = np.random.Generator(getattr(np.random, state["bit_generator"])())
        _set_state(layer._rng, state)


def _set_state(gen, state):
    if type(gen.bit_generator).__name__ != state.get("bit_generator"):
        raise ValueError(f"Cannot restore a {state.get('bit_generator')!r} generator state into a "
                         f"{type(gen.bit_generator).__name__} generator.")
    gen.bit_generator.state = state


def _plain(value):
    """A bit_generator state as plain JSON values (NumPy integers and arrays made Python ints and lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


# ---- optimiser state -----------------------------------------------------------------------------------

def optimizer_state(model):
    """``(json dict, {name: array})`` of the optimiser: step count, slots and EMA averages per parameter."""
    opt = model.optimizer
    tensors, slot_names, has_ema = {}, [], []
    for i, (w, _) in enumerate(model.parameters()):
        entry = opt._slots.get(id(w))
        slots = entry[1] if entry is not None and entry[0] is w else None
        slot_names.append(None if slots is None else sorted(slots))
        for name, arr in (slots or {}).items():
            tensors[f"slot/{i}/{name}"] = np.ascontiguousarray(arr)
        avg = opt._averages.get(id(w))
        has_ema.append(avg is not None and avg[0] is w)
        if has_ema[-1]:
            tensors[f"ema/{i}"] = np.ascontiguousarray(avg[1])
    meta = {"class_name": type(opt).__name__, "iterations": int(opt.iterations), "slots": slot_names,
            "ema": has_ema}
    return meta, tensors


def set_optimizer_state(model, meta, tensors, where="the checkpoint"):
    """Put an ``optimizer_state`` back into ``model.optimizer`` (its class must match)."""
    opt = model.optimizer
    if meta["class_name"] != type(opt).__name__:
        raise ValueError(f"{where} was written by a {meta['class_name']} optimiser, but the model is compiled with "
                         f"{type(opt).__name__}; compile with the same optimiser to resume.")
    params = [w for w, _ in model.parameters()]
    if len(params) != len(meta["slots"]):
        raise ValueError(f"{where} holds optimiser state for {len(meta['slots'])} weights, the model has "
                         f"{len(params)}; resume with the same architecture.")
    opt._slots, opt._averages = {}, {}
    for i, w in enumerate(params):
        names = meta["slots"][i]
        if names is not None:
            opt._slots[id(w)] = (w, {n: _tensor(tensors, f"slot/{i}/{n}", w, where) for n in names})
        if meta["ema"][i]:
            opt._averages[id(w)] = (w, _tensor(tensors, f"ema/{i}", w, where))
    opt.iterations = int(meta["iterations"])


def _tensor(tensors, key, like, where):
    if key not in tensors:
        raise ValueError(f"{where} lacks the tensor {key!r}; it is damaged or from another model.")
    t = tensors[key]
    if t.shape != like.shape:
        raise ValueError(f"{where}: tensor {key!r} has shape {t.shape}, the model's weight has {like.shape}.")
    return np.array(t, dtype=like.dtype)


# ---- metric accumulators ---------------------------------------------------------------------------------

def accumulators(model):
    return {"loss_total": float(model._loss_total), "loss_count": float(model._loss_count),
            "output_loss_totals": [float(t) for t in model._output_loss_totals],
            "metrics": [[float(m.total), float(m.count)] for m in model.compiled_metrics]}


def set_accumulators(model, acc):
    model._loss_total, model._loss_count = acc["loss_total"], acc["loss_count"]
    model._output_loss_totals = list(acc["output_loss_totals"])
    for m, (total, count) in zip(model.compiled_metrics, acc["metrics"]):
        m.total, m.count = total, count


# ---- carried states of stateful recurrent layers ---------------------------------------------------------------

def carried_states(model):
    """``({index in all_layers: number of arrays}, {"carried/{i}/{k}": array})`` of every stateful layer."""
    counts, tensors = {}, {}
    for i, layer in enumerate(all_layers(model.layers)):
        states = getattr(layer, "_states", None) if getattr(layer, "stateful", False) else None
        if states is not None:
            counts[str(i)] = len(states)
            for k, a in enumerate(states):
                tensors[f"carried/{i}/{k}"] = np.ascontiguousarray(a)
    return counts, tensors


def set_carried_states(model, counts, tensors, where="the checkpoint"):
    """Put carried states back; a stateful layer that carried none then is reset."""
    every = all_layers(model.layers)
    for i, layer in enumerate(every):
        if getattr(layer, "stateful", False) and hasattr(layer, "_states"):
            n = counts.get(str(i))
            layer._states = None if n is None else \
                [np.array(tensors[f"carried/{i}/{k}"]) for k in range(n)]
    unknown = [k for k in counts if int(k) >= len(every) or not getattr(every[int(k)], "stateful", False)]
    if unknown:
        raise ValueError(f"{where} holds carried states for layers {unknown} that are not stateful here; resume "
                         "with the same architecture.")


# ---- whole checkpoints ---------------------------------------------------------------------------------

def save_checkpoint(model, path, epoch, batch, order=None, history=None, skipped=0, extra=None, metadata=None,
                    extra_files=None):
    """Write ``model`` and its training state to the directory ``path`` as one unit (atomic replace).

    ``epoch``/``batch``: where training continues (the next batch to run); ``order``: the current epoch's
    data order (needed when ``batch > 0``); ``history``: the epochs' logs so far; ``extra``: JSON-able
    values a caller wants back; ``metadata``/``extra_files``: as for ``model.save``.
    """
    from ..models.saving import _safetensors_bytes, weight_dict
    opt_meta, tensors = optimizer_state(model)
    if order is not None:
        tensors["order"] = np.ascontiguousarray(order, dtype=np.int64)
    carried, carried_tensors = carried_states(model)
    tensors.update(carried_tensors)
    state = {"format": STATE_FORMAT, "version": STATE_VERSION, "epoch": int(epoch), "batch": int(batch),
             "optimizer": opt_meta, "rng": rng_states(model), "weight_keys": list(weight_dict(model)),
             "accumulators": accumulators(model) if hasattr(model, "_loss_total") else None,
             "carried": carried, "history": history or {}, "skipped_batches": int(skipped), "extra": extra or {}}
    files = {STATE_JSON: json.dumps(state, allow_nan=True).encode("utf-8"),
             STATE_TENSORS: _safetensors_bytes(tensors, {"format": STATE_FORMAT}), **(extra_files or {})}
    meta = {**(metadata or {}), "checkpoint": {"epoch": int(epoch), "batch": int(batch)}}
    model.save(path, metadata=meta, extra_files=files)


def has_checkpoint(path):
    """Whether ``path`` holds a checkpoint written by ``save_checkpoint``."""
    return path is not None and (Path(path) / STATE_JSON).is_file()


def read_checkpoint(path):
    """``(state dict, {name: array} of the state tensors, {weight key: array}, config)`` after checking the
    manifest (sizes and SHA-256 of every file) and the safetensors headers."""
    from safetensors.numpy import load as st_load

    from ..models import saving
    directory = saving._model_dir(path)
    config = saving.read_config(directory)
    saving.verify_files(directory, config)
    state_path = saving.member_path(directory, STATE_JSON)
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise ValueError(f"{str(state_path)!r} is not an rnnlab training state (format {STATE_FORMAT!r}).")
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"{str(state_path)!r} has training-state version {state.get('version')!r}; this rnnlab "
                         f"reads version {STATE_VERSION}.")
    blobs = {}
    for name in (STATE_TENSORS, saving.WEIGHTS_NAME):
        p = saving.member_path(directory, name)
        saving.read_safetensors_header(p)               # validated before anything is read
        blobs[name] = st_load(p.read_bytes())
    return state, blobs[STATE_TENSORS], blobs[saving.WEIGHTS_NAME], config


def restore_checkpoint(model, path):
    """Load the checkpoint at ``path`` into ``model`` (weights, optimiser state, generators, accumulators);
    returns the state dict (``epoch``, ``batch``, ``history``, ``skipped_batches``, ``extra``) with the
    data order as ``state["order"]`` (an int64 array, or None). The model must be compiled with the same
    optimiser class and have the same architecture."""
    from ..models.saving import weight_dict
    where = f"the checkpoint {os.fspath(path)!r}"
    state, tensors, weights, _ = read_checkpoint(path)
    if not all(layer.built for layer in model.layers) and hasattr(model, "build"):
        model.build()
    mine = list(weight_dict(model).values())
    keys = state["weight_keys"]
    if len(keys) != len(mine):
        raise ValueError(f"{where} holds {len(keys)} weight arrays, the model has {len(mine)}; resume with the "
                         "same architecture.")
    for key, w in zip(keys, mine):
        t = weights.get(key)
        if t is None or t.shape != w.shape:
            raise ValueError(f"{where}: weight {key!r} is missing or has another shape than the model's {w.shape}; "
                             "resume with the same architecture.")
        w[...] = t
    set_optimizer_state(model, state["optimizer"], tensors, where)
    set_rng_states(state["rng"], model)
    set_carried_states(model, state.get("carried", {}), tensors, where)
    if state.get("accumulators") is not None and hasattr(model, "_reset_metrics"):
        model._reset_metrics()
        set_accumulators(model, state["accumulators"])
    state["order"] = tensors.get("order")
    return state
