"""Saving and loading models: a directory with ``config.json`` and ``model.safetensors``. Never pickle.

    MODEL_DIR/
      config.json          {"format": "rnnlab.model", "format_version": 1, "class_name": "Sequential",
                            "config": {... layers via rnnlab.layers.serialize ...},
                            "compile_config": {...} or null, "metadata": {...} or null}
      model.safetensors    one tensor per weight, key "{index:03d}_{layer.name}/{weight}"
      (other files)        allowed: tasks add their own (e.g. vocab.json)

Writing is atomic: each file goes to a temporary file in the same directory, is flushed and
fsync'ed, and only then ``os.replace``-d over the old one, so a crash or an error mid-save leaves
the previous good model in place. The weights are renamed first and the config last, and the config
records the weights file's SHA-256 (``weights_sha256``): should a crash fall between the two renames,
or files of two saves be mixed by hand, loading says so instead of pairing weights with the wrong
config. Loading reads JSON and safetensors only (no code runs), checks
every weight's presence and shape, and says which file is wrong and how.

The optimiser's settings are saved (``compile_config``) but not its state (moments, step count):
a loaded model that trains on starts them afresh. A learning-rate schedule is saved as its current
value.

``metadata`` is for tasks: ``{"task": "sentiment", ...}`` lets ``rnnlab predict MODEL_DIR`` find
the task that knows how to read the rest of the directory (see ``rnnlab.cli``).

Example::

    model.save("runs/m1")
    same = models.load_model("runs/m1")
"""
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

FORMAT = "rnnlab.model"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

_MODEL_CLASSES = {}


def register_model_class(cls):
    """Make a Model subclass loadable by ``load_model`` (class decorator). Only registered classes load."""
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


# ---- atomic writing ----------------------------------------------------------------------------------

def _write_file(f, data):
    """The low-level write (a seam for tests that simulate a crash mid-write)."""
    f.write(data)


def atomic_write_many(items):
    """Write ``[(path, bytes), ...]`` so each path holds either its old content or the complete new one.

    All temporary files are written and fsync'ed first; only then are they renamed over the targets.
    """
    tmps = []
    try:
        for path, data in items:
            path = Path(path)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            tmps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                _write_file(f, data)
                f.flush()
                os.fsync(f.fileno())
        for tmp, path in tmps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in tmps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    for d in {str(p.parent) for _, p in tmps}:
        _fsync_dir(d)


def atomic_write_bytes(path, data):
    atomic_write_many([(path, data)])


def atomic_write_text(path, text):
    """Atomically write a UTF-8 text file (for example a task's vocab.json)."""
    atomic_write_many([(path, text.encode("utf-8"))])


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- save ----------------------------------------------------------------------------------------------

def weight_dict(model):
    """``{"000_embedding/embeddings": array, ...}`` in model order."""
    out = {}
    for i, layer in enumerate(model.layers):
        names, weights = layer.weight_names(), layer.weights
        if len(names) != len(weights):
            names = [f"{layer.name}/{j}" for j in range(len(weights))]
        for name, w in zip(names, weights):
            out[f"{i:03d}_{name}"] = w
    return out


def save_model(model, path, metadata=None):
    """Write ``model`` into the directory ``path`` (created if needed); see the module docstring."""
    from safetensors.numpy import save as st_save
    from .. import __version__
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"Cannot save the model to {str(path)!r}: it is a file; model.save expects a directory path.")
    if type(model).__name__ not in _MODEL_CLASSES:
        raise ValueError(f"Model class {type(model).__name__!r} is not registered for saving; decorate it with "
                         "rnnlab.models.saving.register_model_class.")
    if not all(layer.built for layer in model.layers):
        if not hasattr(model, "build"):
            raise ValueError(f"Model {model.name!r} has layers without weights yet; call it on data "
                             "(fit or predict) before saving.")
        model.build()
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "rnnlab_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": model._compile_config,
        "weights_file": WEIGHTS_NAME,
        "metadata": metadata,
    }
    tensors = {k: np.ascontiguousarray(w) for k, w in weight_dict(model).items()}
    blob = st_save(tensors, metadata={"format": FORMAT})
    config["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    try:
        text = json.dumps(config, indent=2, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot save model {model.name!r}: its config or metadata is not JSON-able ({e}).") from None
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_many([(path / WEIGHTS_NAME, blob), (path / CONFIG_NAME, (text + "\n").encode("utf-8"))])


# ---- load ----------------------------------------------------------------------------------------------

def _model_dir(path):
    p = Path(path)
    if p.is_file() and p.name in (CONFIG_NAME, WEIGHTS_NAME):
        p = p.parent
    if not p.exists():
        raise FileNotFoundError(f"No model found at {str(p)!r}: the path does not exist.")
    if not p.is_dir():
        raise ValueError(f"{str(p)!r} is a file; load_model expects the directory that model.save(path) wrote.")
    return p


def read_config(path):
    """The validated content of ``MODEL_DIR/config.json`` (a dict); ValueError naming the file if wrong."""
    cfg_path = _model_dir(path) / CONFIG_NAME
    if not cfg_path.is_file():
        raise ValueError(f"{str(cfg_path)!r} is missing: {str(cfg_path.parent)!r} is not a model directory "
                         "written by model.save.")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{str(cfg_path)!r} is not valid JSON ({e}); the file is corrupted or not an rnnlab "
                         "model config. Re-save the model.") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{str(cfg_path)!r} is not an rnnlab model config: expected a JSON object with "
                         f"\"format\": \"{FORMAT}\".")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ValueError(f"{str(cfg_path)!r} has format_version {version!r}; this rnnlab reads versions "
                         f"1..{FORMAT_VERSION}. Upgrade rnnlab or re-save the model.")
    for key, kind in (("class_name", str), ("config", dict)):
        if not isinstance(config.get(key), kind):
            raise ValueError(f"{str(cfg_path)!r}: field {key!r} must be a {kind.__name__}, "
                             f"got {type(config.get(key)).__name__}.")
    return config


def load_metadata(path):
    """The ``metadata`` dict a task stored with ``model.save(path, metadata=...)`` ({} if none)."""
    return read_config(path).get("metadata") or {}


def load_model(path, compile=True):
    """Rebuild a model saved by ``model.save(path)``: architecture, weights and (if any) compile settings."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load
    directory = _model_dir(path)
    config = read_config(directory)
    cfg_path, w_path = directory / CONFIG_NAME, directory / config.get("weights_file", WEIGHTS_NAME)
    cls = _MODEL_CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"{str(cfg_path)!r} names model class {config['class_name']!r}; expected one of "
                         f"{sorted(_MODEL_CLASSES)}.")
    try:
        model = cls.from_config(config["config"])
        if not all(layer.built for layer in model.layers):
            model.build()
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{str(cfg_path)!r}: could not rebuild the model from its config ({e}).") from None

    if not w_path.is_file():
        raise ValueError(f"{str(w_path)!r} is missing; the model directory is incomplete.")
    try:
        blob = w_path.read_bytes()
        tensors = st_load(blob)
    except (SafetensorError, ValueError, OSError) as e:
        raise ValueError(f"{str(w_path)!r} is not a readable safetensors file ({e}); it may be truncated or "
                         "corrupted. Re-save the model.") from None
    expected = weight_dict(model)
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if missing or unexpected:
        raise ValueError(f"{str(w_path)!r} does not match {CONFIG_NAME}: missing weights {missing[:5]}, "
                         f"unexpected weights {unexpected[:5]}.")
    for key, w in expected.items():
        if tensors[key].shape != w.shape:
            raise ValueError(f"{str(w_path)!r}: weight {key!r} has shape {tensors[key].shape}, but the model in "
                             f"{CONFIG_NAME} needs {w.shape}.")
        if not np.all(np.isfinite(tensors[key])):
            raise ValueError(f"{str(w_path)!r}: weight {key!r} contains NaN or infinite values.")
    digest = config.get("weights_sha256")
    if digest is not None and hashlib.sha256(blob).hexdigest() != digest:
        raise ValueError(f"{str(w_path)!r} is not the weights file that {str(cfg_path)!r} was saved with (SHA-256 "
                         "differs): the file is damaged, or a save was interrupted between the two files, or "
                         "they come from different saves. Re-save the model.")
    keys = iter(expected)
    for layer in model.layers:
        n = len(layer.weights)
        if n:
            layer.set_weights([tensors[next(keys)] for _ in range(n)])
    cc = config.get("compile_config")
    if compile and cc:
        try:
            model.compile(optimizer=cc["optimizer"], loss=cc.get("loss"), metrics=cc.get("metrics") or [],
                          loss_weights=cc.get("loss_weights"))
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"{str(cfg_path)!r}: bad compile_config ({e}).") from None
    return model
