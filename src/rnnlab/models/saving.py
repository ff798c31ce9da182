"""Saving and loading models: a directory with ``config.json`` and ``model.safetensors``. Never pickle.

    MODEL_DIR/
      config.json          {"format": "rnnlab.model", "format_version": 1, "class_name": "Sequential",
                            "config": {... layers via rnnlab.layers.serialize ...},
                            "compile_config": {...} or null, "metadata": {...} or null,
                            "files": {"model.safetensors": {"sha256": ..., "size": ...}, "vocab.json": ...}}
      model.safetensors    one tensor per weight, key "{index:03d}_{layer.name}/{weight}"
      (other files)        a task's files (vocab.json, history.csv, curves.png, ...), saved with the model
                           through ``save_model(..., extra_files={name: bytes})``

**One unit, replaced as a whole.** ``save_model`` writes the complete new directory into a temporary
sibling (``.NAME.rnnlab-tmp-PID-XXXX`` next to ``NAME``): every file is flushed and fsync'ed, then
``config.json`` (the manifest: the SHA-256 and size of every other file of the unit) is written last and
the folder is fsync'ed. Only then is the sibling swapped with the old directory in one atomic step,
Linux's ``renameat2(RENAME_EXCHANGE)`` (a plain ``rename`` on the first save), and the old directory
(now at the temporary name) is deleted. A save killed at any instant therefore leaves ``NAME`` as
either the complete old model or the complete new one, never a mix; a leftover temporary sibling is
removed by the next save. Where the file system cannot exchange (not Linux, some network file systems)
the old directory is first renamed aside to ``.NAME.rnnlab-old-PID-XXXX`` and the new one renamed in;
should a crash fall between those two renames, the next ``load_model`` or ``save_model`` of ``NAME``
puts the old complete directory back first.

Files of the old directory that this save does not write are carried over (hard links, or copies), so a
task's files outlive a re-save of the network alone; carried top-level files join the new
manifest (sub-folders, which may hold nested model directories with their own manifests, are carried
unlisted). ``update_files(dir, {name: bytes})`` replaces some files of a saved directory the same way
(``write_run_artifacts`` uses it for history.csv, curves.png ...); ``model_files(model)`` renders a model's
files as bytes, for a task that nests several models in one unit. ``load_model`` checks every file the
manifest lists (size and SHA-256) and names the first one that differs. A model whose weights hold NaN
or infinite values is refused (ValueError naming the weight) and nothing is written: the previous save
stays in place.

**Loading runs no code and allocates nothing on trust.** Only JSON and safetensors are read. Classes
come from allow-lists (registered model classes, ``rnnlab.layers``' own layer classes); a config that
is too large, nested too deeply, holds absurd sizes or non-JSON numbers, or names files outside the
model directory is refused before anything is built; the model's weights may not need more bytes
than the weights file holds; the safetensors header is validated (its length, dtypes, shapes, and
offsets that must tile the data exactly, in bounds, without overlap) before any tensor is read, and
each tensor is read as a view of the file's bytes, then copied into the model.

The optimiser's settings are saved (``compile_config``) but not its state (moments, step count):
a loaded model that trains on starts them afresh. A learning-rate schedule is saved as its current
value. Training checkpoints (``fit(checkpoint=...)``, ``models.checkpoint``) are model directories with
the optimiser, generator and position state as two more files of the unit.

``metadata`` is for tasks: ``{"task": "sentiment", ...}`` lets ``rnnlab predict MODEL_DIR`` find
the task that knows how to read the rest of the directory (see ``rnnlab.cli``). ``member_path(dir,
name)`` is how a task opens one of its own files: a plain file name inside the directory, or an error.

Example::

    model.save("runs/m1")
    model.save("runs/m1", metadata={"task": "mine"}, extra_files={"vocab.json": b"[...]"})
    same = models.load_model("runs/m1")
"""
import ctypes
import hashlib
import json
import os
import re
import secrets
import shutil
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


# ---- limits for loading (a hostile file is refused before anything is allocated) ----------------------

MAX_CONFIG_BYTES = 64 * 2**20          # config.json
MAX_JSON_DEPTH = 64                    # nesting of config.json (a real model's is < 15)
MAX_CONFIG_INT = 2**31 - 1             # any integer in the config (units, sizes, shapes ...)
MAX_HEADER_BYTES = 100 * 2**20         # the safetensors JSON header (the format's own limit)
_ST_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8, "I16": np.int16,
              "I32": np.int32, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_}
_ST_NAMES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}
_WEIGHT_DTYPES = ("F32", "F64")        # what a model's weights may be stored as
_TEMP_PREFIX = "rnnlab-tmp-"
_OLD_PREFIX = "rnnlab-old-"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")


def member_path(directory, name, what="file"):
    """``directory / name`` for a file a model directory refers to (``weights_file``, a task's ``vocab_file``),
    or a ValueError: ``name`` must be a relative path of plain names inside ``directory`` (no ``..``, no
    absolute path, no backslash, no symbolic link leading outside)."""
    directory = Path(directory)
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or ".." in name.split("/") \
            or len(name) > 255:
        raise ValueError(f"{str(directory / CONFIG_NAME)!r} names the {what} {name!r}; expected a plain file name "
                         "inside the model directory (letters, digits, '_', '-', '.'; no '..' or absolute path). "
                         "The file is damaged or was not written by rnnlab.")
    path = directory / name
    real_dir = os.path.realpath(directory)
    if os.path.commonpath([real_dir, os.path.realpath(path)]) != real_dir:
        raise ValueError(f"{str(path)!r} ({what}) leads outside the model directory {str(directory)!r} through a "
                         "symbolic link; refusing to read it.")
    return path


def check_output_dir(path, what="out"):
    """``path`` as a ``Path`` if a model directory can be saved there, else a ValueError/TypeError naming ``what``:
    for a command or a training run to call before it loads data or trains, so that an unusable output path is
    refused at once rather than after the work."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path.strip()):
        raise TypeError(f"{what} got {path!r}; expected a directory path (str or pathlib.Path).")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{what}={str(p)!r} is an existing file; a model is saved as a directory. Pass a new or "
                         "existing directory path.")
    parent = Path(os.path.abspath(p)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{what}={str(p)!r} cannot be created: {str(parent)!r} is a file, not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.is_dir() and not os.access(p, os.W_OK | os.X_OK)):
        raise ValueError(f"{what}={str(p)!r} is not writable (no permission to write in "
                         f"{str(p if p.is_dir() else parent)!r}); choose another folder.")
    return p


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


def _safetensors_bytes(tensors, metadata):
    """The safetensors serialisation of ``{name: array}`` (the library's writer; arrays in model order)."""
    from safetensors.numpy import save as st_save
    return st_save(tensors, metadata=metadata)


def _check_extra_files(extra_files, path):
    """``extra_files`` as ``{name: bytes}``, each name a plain relative file name; or a clear error."""
    if extra_files is None:
        return {}
    if not isinstance(extra_files, dict):
        raise TypeError(f"save_model got extra_files of type {type(extra_files).__name__}; expected a dict "
                        "{file name: bytes or str}.")
    out = {}
    for name, data in extra_files.items():
        member_path(path, name, "extra file")
        if name in (CONFIG_NAME, WEIGHTS_NAME):
            raise ValueError(f"save_model got extra_files[{name!r}]; {CONFIG_NAME} and {WEIGHTS_NAME} are written by "
                             "save_model itself. Rename the extra file.")
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"save_model got extra_files[{name!r}] of type {type(data).__name__}; expected bytes "
                            "(or str, written as UTF-8).")
        out[name] = bytes(data)
    return out


def save_model(model, path, metadata=None, extra_files=None):
    """Write ``model`` into the directory ``path`` as one unit; see the module docstring.

    Args:
        metadata: a JSON-able dict stored in config.json (tasks: ``{"task": NAME, ...}``).
        extra_files: ``{name: bytes or str}``: a task's own files (``"vocab.json"``, ``"history.csv"``, a
            ``"sub/dir/file"`` path), written and replaced together with the model and listed in its manifest.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_model got path of type {type(path).__name__}; expected a directory path (str or "
                        "pathlib.Path).")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"Cannot save the model to {str(path)!r}: it is a file; model.save expects a directory path.")
    if type(model).__name__ not in _MODEL_CLASSES:
        raise ValueError(f"Model class {type(model).__name__!r} is not registered for saving; decorate it with "
                         "rnnlab.models.saving.register_model_class.")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"save_model got metadata of type {type(metadata).__name__}; expected a JSON-able dict "
                        "or None.")
    extras = _check_extra_files(extra_files, path)
    if not all(layer.built for layer in model.layers):
        if not hasattr(model, "build"):
            raise ValueError(f"Model {model.name!r} has layers without weights yet; call it on data "
                             "(fit or predict) before saving.")
        model.build()
    tensors = {k: np.ascontiguousarray(w) for k, w in weight_dict(model).items()}
    _check_finite(model, tensors, f"to {str(path)!r}")
    config, blob = _render(model, tensors, metadata)
    save_directory(path, {WEIGHTS_NAME: blob, **extras}, config)


def _render(model, tensors, metadata):
    """``(config dict without the manifest, safetensors bytes)`` of ``model``."""
    from .. import __version__
    blob = _safetensors_bytes(tensors, {"format": FORMAT})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "rnnlab_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": model._compile_config,
        "weights_file": WEIGHTS_NAME,
        "metadata": metadata,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
    }
    try:
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot save model {model.name!r}: its config or metadata is not JSON-able ({e}).") from None
    return config, blob


def model_files(model, metadata=None):
    """The files of ``model``'s directory as ``{"config.json": bytes, "model.safetensors": bytes}``, nothing
    written: a task that keeps several models in one directory passes them to the outer save as ``extra_files``
    under a sub-folder (``{f"members/{k}/{name}": data}``), so all of them form one unit."""
    if type(model).__name__ not in _MODEL_CLASSES:
        raise ValueError(f"Model class {type(model).__name__!r} is not registered for saving; decorate it with "
                         "rnnlab.models.saving.register_model_class.")
    if not all(layer.built for layer in model.layers):
        model.build()
    tensors = {k: np.ascontiguousarray(w) for k, w in weight_dict(model).items()}
    _check_finite(model, tensors, "model_files")
    config, blob = _render(model, tensors, metadata)
    config["files"] = {WEIGHTS_NAME: _manifest_entry(blob)}
    return {CONFIG_NAME: (json.dumps(config, indent=2) + "\n").encode("utf-8"), WEIGHTS_NAME: blob}


def _check_finite(model, tensors, where):
    for key, w in tensors.items():
        if not np.all(np.isfinite(w)):
            raise ValueError(f"Refusing to save model {model.name!r} ({where}): weight {key!r} contains NaN "
                             "or infinite values (training diverged). Nothing was written; the previous save, if "
                             "any, is unchanged. Lower the learning rate or clip gradients (clipnorm=1.0).")


def _manifest_entry(data):
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def save_directory(path, files, config):
    """Replace the directory ``path`` by one holding ``files`` (``{relative name: bytes}``) and ``config.json``
    (``config`` plus ``"files"``, the manifest of every other file), atomically as a whole (module docstring)."""
    path = Path(os.path.realpath(path))
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
    _remove_stale_siblings(path)
    manifest = {name: _manifest_entry(data) for name, data in files.items()}
    tmp = parent / f".{path.name}.{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        if path.is_dir():
            manifest = {**_carry_over(path, tmp, set(files)), **manifest}
        for name, data in files.items():
            _write_new(tmp / name, data)
        text = json.dumps({**config, "files": dict(sorted(manifest.items()))}, indent=2, allow_nan=False)
        _write_new(tmp / CONFIG_NAME, (text + "\n").encode("utf-8"))
        _fsync_dir(str(tmp))
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(str(parent))


def update_files(path, files):
    """Replace or add ``files`` (``{name: bytes or str}``) in the model directory ``path`` as one atomic unit with
    the rest of it (the manifest in config.json is updated); the model itself is unchanged."""
    directory = _model_dir(path)
    config = read_config(directory)
    extras = _check_extra_files(files, directory)
    save_directory(directory, extras, {k: v for k, v in config.items() if k != "files"})


def _write_new(path, data):
    """Create ``path`` (and its folders) with ``data``, flushed and fsync'ed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as f:
        _write_file(f, data)
        f.flush()
        os.fsync(f.fileno())


def _carry_over(old, new, written):
    """Hard-link (or copy) into ``new`` every file of ``old`` this save does not write; returns the manifest
    entries of the top-level ones (hashed as they are now: the unit vouches for them). Sub-folders are carried
    but not listed: a task may keep nested model directories there, each with its own manifest."""
    kept = {}
    for root, dirs, names in os.walk(old):
        rel_root = os.path.relpath(root, old)
        for d in dirs:
            (new / rel_root / d).mkdir(parents=True, exist_ok=True)
        for n in names:
            rel = n if rel_root == "." else f"{rel_root}/{n}".replace(os.sep, "/")
            if rel in written or rel == CONFIG_NAME:
                continue
            src, dst = Path(root) / n, new / rel
            if src.is_symlink():
                continue                                   # never carried: it could lead anywhere
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            if rel_root == "." and _PLAIN_NAME.fullmatch(rel):
                kept[rel] = {"sha256": _sha256_file(dst), "size": dst.stat().st_size}
    return kept


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    """Swap the directories ``a`` and ``b`` in one atomic step (Linux renameat2); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):                             # EINVAL, ENOSYS, EOPNOTSUPP: not on this file system
        return False
    raise OSError(err, f"could not swap {str(a)!r} with {str(b)!r}: {os.strerror(err)}")


def _swap_in(tmp, path):
    """Make the complete directory ``tmp`` the directory ``path``; the old one is removed afterwards."""
    if not os.path.lexists(path):
        os.rename(tmp, path)
        return
    if _exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)          # tmp now holds the old directory
        return
    old = path.parent / f".{path.name}.{_OLD_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(path, old)                                # a crash from here to the next rename: _recover
    os.rename(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def _siblings(path, prefix):
    try:
        return [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.{prefix}")]
    except OSError:
        return []


def _pid_alive(name):
    m = re.search(r"-(\d+)-[0-9a-f]+$", name)
    if m is None:
        return False
    try:
        os.kill(int(m[1]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _recover(path):
    """After a crash between the two renames of the fallback swap: put the complete old directory back (unless
    another live process is between those renames: it finishes on its own)."""
    if os.path.lexists(path):
        return
    olds = sorted(_siblings(path, _OLD_PREFIX), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds:
        if (old / CONFIG_NAME).is_file() and (old.name.split("-")[-2] == str(os.getpid()) or not _pid_alive(old.name)):
            try:
                os.rename(old, path)
            except OSError:
                continue
            return


def _remove_stale_siblings(path):
    """Temporary siblings left by saves that were killed (their process is gone)."""
    for p in _siblings(path, _TEMP_PREFIX) + _siblings(path, _OLD_PREFIX):
        if not _pid_alive(p.name):
            shutil.rmtree(p, ignore_errors=True)


# ---- load ----------------------------------------------------------------------------------------------

def _model_dir(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_model got path of type {type(path).__name__}; expected the model directory "
                        "(str or pathlib.Path).")
    p = Path(path)
    if p.is_file() and p.name in (CONFIG_NAME, WEIGHTS_NAME):
        p = p.parent
    if not p.exists():
        _recover(Path(os.path.realpath(p)))
    if not p.exists():
        raise FileNotFoundError(f"No model found at {str(p)!r}: the path does not exist.")
    if not p.is_dir():
        raise ValueError(f"{str(p)!r} is a file; load_model expects the directory that model.save(path) wrote.")
    return p


def _check_json_tree(value, where):
    """Refuse configs nested deeper than MAX_JSON_DEPTH or holding integers above MAX_CONFIG_INT (iterative)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"{where} is nested more than {MAX_JSON_DEPTH} levels deep; a model config is "
                             "far shallower. The file is damaged or hostile.")
        if isinstance(v, dict):
            stack += [(x, depth + 1) for x in v.values()]
        elif isinstance(v, list):
            stack += [(x, depth + 1) for x in v]
        elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_CONFIG_INT:
            raise ValueError(f"{where} holds the integer {v}, larger than {MAX_CONFIG_INT}; no size of an rnnlab "
                             "model is that large. The file is damaged or hostile.")


def _no_constants(token):
    raise ValueError(f"non-standard JSON number {token}")


def read_json(path, what, max_bytes=MAX_CONFIG_BYTES):
    """The JSON value in ``path``: size-capped, strict (no NaN/Infinity), depth- and integer-checked; a
    ValueError naming the file otherwise. For task files (vocabularies, settings) too."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError(f"{str(path)!r} ({what}) is missing; the model directory is incomplete.") from None
    if size > max_bytes:
        raise ValueError(f"{str(path)!r} ({what}) is {size} bytes; at most {max_bytes} are read. The file is "
                         "damaged or not an rnnlab file.")
    try:
        value = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{str(path)!r} is not valid JSON ({e}); the file is corrupted or not an rnnlab "
                         f"{what}. Re-save the model.") from None
    except RecursionError:
        raise ValueError(f"{str(path)!r} ({what}) is nested too deeply to be a model file; the file is damaged "
                         "or hostile.") from None
    _check_json_tree(value, repr(str(path)))
    return value


def read_config(path):
    """The validated content of ``MODEL_DIR/config.json`` (a dict); ValueError naming the file if wrong."""
    cfg_path = _model_dir(path) / CONFIG_NAME
    if not cfg_path.is_file():
        raise ValueError(f"{str(cfg_path)!r} is missing: {str(cfg_path.parent)!r} is not a model directory "
                         "written by model.save.")
    config = read_json(cfg_path, "model config")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{str(cfg_path)!r} is not an rnnlab model config: expected a JSON object with "
                         f"\"format\": \"{FORMAT}\".")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION or version < 1:
        raise ValueError(f"{str(cfg_path)!r} has format_version {version!r}; this rnnlab reads versions "
                         f"1..{FORMAT_VERSION}. Upgrade rnnlab or re-save the model.")
    for key, kind in (("class_name", str), ("config", dict)):
        if not isinstance(config.get(key), kind):
            raise ValueError(f"{str(cfg_path)!r}: field {key!r} must be a {kind.__name__}, "
                             f"got {type(config.get(key)).__name__}.")
    for key, kinds, words in (("metadata", (dict, type(None)), "a dict or null"),
                              ("compile_config", (dict, type(None)), "a dict or null"),
                              ("files", (dict, type(None)), "a dict {name: {sha256, size}}"),
                              ("weights_file", (str, type(None)), "a file name")):
        if not isinstance(config.get(key), kinds):
            raise ValueError(f"{str(cfg_path)!r}: field {key!r} must be {words}, got {type(config.get(key)).__name__}.")
    return config


def verify_files(directory, config):
    """Check every file the manifest (``config["files"]``) lists: present, same size, same SHA-256."""
    directory, cfg_path = Path(directory), str(Path(directory) / CONFIG_NAME)
    for name, entry in (config.get("files") or {}).items():
        path = member_path(directory, name, "file listed in the manifest")
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not isinstance(entry.get("size"), int) or isinstance(entry.get("size"), bool):
            raise ValueError(f"{cfg_path!r}: the manifest entry of {name!r} must be "
                             f"{{\"sha256\": hex, \"size\": int}}, got {entry!r:.100}.")
        kind = "weights file" if name == config.get("weights_file", WEIGHTS_NAME) else "file"
        if not path.is_file():
            raise ValueError(f"{str(path)!r} is missing, but {cfg_path!r} lists it; the model directory is "
                             "incomplete. Re-save the model.")
        size, want = path.stat().st_size, entry["size"]
        if size != want or _sha256_file(path) != entry["sha256"]:
            sizes = "" if size == want else f"; {size} bytes, expected {want}"
            raise ValueError(f"{str(path)!r} is not the {kind} that {cfg_path!r} was saved with (SHA-256 differs"
                             f"{sizes}): "
                             "the file is damaged, or was changed by hand, or comes from another save. Re-save the "
                             "model.")


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_metadata(path):
    """The ``metadata`` dict a task stored with ``model.save(path, metadata=...)`` ({} if none)."""
    return read_config(path).get("metadata") or {}


def read_safetensors_header(w_path):
    """``{name: (dtype, shape, begin, end)}`` (absolute byte offsets) from the header of the safetensors file
    ``w_path``, validated before any tensor is read: the header's length, JSON, dtypes, shapes, and offsets that
    tile the data area exactly (in bounds, no overlap, no gap). Reads the header bytes only; a ValueError naming
    the file otherwise."""
    file_size = os.path.getsize(w_path)
    with open(w_path, "rb") as f:
        first = f.read(8)
        n = int.from_bytes(first, "little") if len(first) == 8 else 0
        data = first + f.read(n) if 2 <= n <= min(file_size - 8, MAX_HEADER_BYTES) else first
    where = repr(str(w_path))
    if file_size < 10:
        raise ValueError(f"{where} is not a readable safetensors file ({file_size} bytes); it may be truncated or "
                         "corrupted. Re-save the model.")
    if n > min(file_size - 8, MAX_HEADER_BYTES) or n < 2:
        raise ValueError(f"{where} is not a readable safetensors file because its header claims {n} bytes, but "
                         f"the file holds {file_size - 8} after the length field (at most {MAX_HEADER_BYTES} are "
                         "read); it may be truncated or corrupted. Re-save the model.")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError(f"{where} is not a readable safetensors file because its header is not valid JSON "
                         f"({e}); it may be truncated or corrupted. Re-save the model.") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where} is not a readable safetensors file because its header is not a JSON object.")
    header.pop("__metadata__", None)
    data_len, spans, out = file_size - 8 - n, [], {}
    for name, entry in header.items():
        bad = f"{where} is not a readable safetensors file because tensor {name!r:.80}"
        if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str) \
                or not isinstance(entry.get("shape"), list) or not isinstance(entry.get("data_offsets"), list):
            raise ValueError(f"{bad} needs 'dtype', 'shape' and 'data_offsets'.")
        if entry["dtype"] not in _ST_DTYPES:
            raise ValueError(f"{bad} has dtype {entry['dtype']!r:.20}; expected one of {sorted(_ST_DTYPES)}.")
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_CONFIG_INT for d in shape) \
                or len(shape) > 8:
            raise ValueError(f"{bad} has shape {shape!r:.80}; expected at most 8 non-negative integers.")
        if len(offsets) != 2 or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets):
            raise ValueError(f"{bad} has data_offsets {offsets!r:.80}; expected [begin, end].")
        begin, end = offsets
        nbytes = int(np.prod(shape, dtype=object)) * np.dtype(_ST_DTYPES[entry["dtype"]]).itemsize
        if not 0 <= begin <= end <= data_len:
            raise ValueError(f"{bad} has data_offsets [{begin}, {end}] outside the data area [0, {data_len}]; the "
                             "file is truncated or corrupted.")
        if end - begin != nbytes:
            raise ValueError(f"{bad}: shape {shape} of {entry['dtype']} needs {nbytes} bytes, but its offsets span "
                             f"{end - begin}; the file is corrupted.")
        spans.append((begin, end, name))
        out[name] = (entry["dtype"], tuple(shape), begin + 8 + n, end + 8 + n)
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise ValueError(f"{where} is not a readable safetensors file because tensor {name!r:.80} starts at byte "
                             f"{begin} of the data area, expected {pos} ({'overlap' if begin < pos else 'gap'}); "
                             "the file is corrupted.")
        pos = end
    if pos != data_len:
        raise ValueError(f"{where} is not a readable safetensors file because its tensors end at byte {pos} of a "
                         f"{data_len}-byte data area; it may be truncated or corrupted.")
    return out


def load_model(path, compile=True):
    """Rebuild a model saved by ``model.save(path)``: architecture, weights and (if any) compile settings."""
    from ..layers import base as layer_base
    directory = _model_dir(path)
    config = read_config(directory)
    cfg_path = directory / CONFIG_NAME
    weights_file = config.get("weights_file")
    w_path = member_path(directory, WEIGHTS_NAME if weights_file is None else weights_file, "weights file")
    cls = _MODEL_CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"{str(cfg_path)!r} names model class {config['class_name']!r}; expected one of "
                         f"{sorted(_MODEL_CLASSES)}.")
    if not w_path.is_file():
        raise ValueError(f"{str(w_path)!r} is missing; the model directory is incomplete.")
    header = read_safetensors_header(w_path)
    data_bytes = sum(end - begin for _, _, begin, end in header.values())
    try:
        # slack so that a config merely differing from its weights gets the precise shape error below
        budget = 2 * data_bytes + 64 * 2**20
        with layer_base.weight_budget(budget, f"the weights file {str(w_path)!r} ({data_bytes} bytes of tensors)"):
            model = cls.from_config(config["config"])
            if not all(layer.built for layer in model.layers):
                model.build()
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        raise ValueError(f"{str(cfg_path)!r}: could not rebuild the model from its config ({e}).") from None
    except RecursionError:
        raise ValueError(f"{str(cfg_path)!r}: could not rebuild the model from its config (nested too "
                         "deeply).") from None
    expected = weight_dict(model)
    missing = [k for k in expected if k not in header]
    unexpected = [k for k in header if k not in expected]
    if missing or unexpected:
        raise ValueError(f"{str(w_path)!r} does not match {CONFIG_NAME}: missing weights {missing[:5]}, "
                         f"unexpected weights {unexpected[:5]}.")
    for key, w in expected.items():
        dtype, shape, _, _ = header[key]
        if shape != w.shape:
            raise ValueError(f"{str(w_path)!r}: weight {key!r} has shape {shape}, but the model in "
                             f"{CONFIG_NAME} needs {w.shape}.")
        if dtype not in _WEIGHT_DTYPES:
            raise ValueError(f"{str(w_path)!r}: weight {key!r} is stored as {dtype}; expected F32 or F64.")
    blob = w_path.read_bytes()                  # its size is now known: header + the model's own weights
    tensors = {}
    for key in expected:
        dtype, shape, begin, end = header[key]
        t = np.frombuffer(blob, dtype=np.dtype(_ST_DTYPES[dtype]).newbyteorder("<"), count=int(np.prod(shape)),
                          offset=begin).reshape(shape)
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{str(w_path)!r}: weight {key!r} contains NaN or infinite values.")
        tensors[key] = t
    verify_files(directory, config)
    digest = config.get("weights_sha256")
    if digest is not None and hashlib.sha256(blob).hexdigest() != digest:
        raise ValueError(f"{str(w_path)!r} is not the weights file that {str(cfg_path)!r} was saved with (SHA-256 "
                         "differs): the file is damaged, or a save was interrupted between the two files, or "
                         "they come from different saves. Re-save the model.")
    keys = iter(expected)
    for layer in model.layers:
        n = len(layer.weights)
        if n:
            layer.set_weights([np.array(tensors[next(keys)]) for _ in range(n)])
    cc = config.get("compile_config")
    if compile and cc:
        try:
            model.compile(optimizer=cc["optimizer"], loss=cc.get("loss"), metrics=cc.get("metrics") or [],
                          loss_weights=cc.get("loss_weights"))
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"{str(cfg_path)!r}: bad compile_config ({e}).") from None
    return model
