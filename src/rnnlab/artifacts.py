"""Training artefacts: what a training run leaves in its model directory besides the model.

``write_run_artifacts(model_dir, history, config)`` writes

    history.csv            one row per epoch (Keras CSVLogger's layout: ``epoch,<keys sorted>``)
    history.json           ``{"epoch": [...], "<key>": [...], ...}``
    curves.png             the training curves (one panel per quantity, validation overlaid)
    training_config.json   the run's settings (``config.json`` is the saved model's own file)

``history`` is Keras's ``History.history`` (``{key: [value per epoch]}``, epochs from 0), a
``History`` object, or a list of per-epoch dicts (``[{"epoch": 1, "train_loss": ...}, ...]``, the
language-model task's rows, whose own ``epoch`` is kept). ``config`` is a dict, a dataclass or an
object with ``to_dict()``. The PNG needs matplotlib (imported here only, Agg backend); without it
the other files are written and a warning says why the plot is missing.

Example::

    history = model.fit(x, y, epochs=5, validation_split=0.2)
    model.save("runs/m1")
    write_run_artifacts("runs/m1", history, {"units": 32, "epochs": 5})
"""
import csv
import dataclasses
import io
import json
import os
import tempfile
import warnings

import numpy as np

from .callbacks import Callback

FILES = {"csv": "history.csv", "json": "history.json", "png": "curves.png", "config": "training_config.json"}


def history_columns(history):
    """``history`` as ``{"epoch": [...], key: [...]}`` (see the module docstring for the forms taken)."""
    if hasattr(history, "history") and isinstance(history.history, dict):
        history = history.history
    if isinstance(history, dict):
        lengths = {len(v) for v in history.values()}
        if len(lengths) > 1:
            raise ValueError(f"history has lists of different lengths {sorted(lengths)}; expected one value per "
                             "epoch for every key (Keras's History.history).")
        n = lengths.pop() if lengths else 0
        return {"epoch": list(range(n)), **{k: list(history[k]) for k in sorted(history)}}
    if isinstance(history, (list, tuple)) and all(isinstance(r, dict) for r in history):
        keys = []
        for row in history:
            keys += [k for k in row if k not in keys]
        cols = {k: [row.get(k, "NA") for row in history] for k in keys}
        if "epoch" not in cols:
            cols = {"epoch": list(range(len(history))), **cols}
        return {"epoch": cols.pop("epoch"), **cols}
    raise TypeError(f"history must be a History, a dict of per-epoch lists or a list of per-epoch dicts, "
                    f"got {type(history).__name__}.")


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def config_dict(config):
    """``config`` as a JSON-ready dict (a dict, a dataclass, or an object with ``to_dict()``)."""
    if config is None:
        return {}
    if hasattr(config, "to_dict"):
        config = config.to_dict()
    elif dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, a dataclass or have to_dict(), got {type(config).__name__}.")
    return _plain(config)


def run_artifact_files(history, config=None, plot=True):
    """The files of ``write_run_artifacts`` as ``{file name: bytes}`` (nothing written), for a task that saves
    them with its model in one unit (``model.save(path, extra_files=...)``)."""
    cols = history_columns(history)
    keys = list(cols)
    out = {}
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(keys)
    for i in range(len(cols["epoch"])):
        writer.writerow([_plain(cols[k][i]) for k in keys])
    out[FILES["csv"]] = buf.getvalue().encode("utf-8")
    out[FILES["json"]] = json.dumps(_plain(cols), indent=1).encode("utf-8")
    out[FILES["config"]] = json.dumps(config_dict(config), indent=1, sort_keys=True).encode("utf-8")
    curves = {k: v for k, v in cols.items() if k != "epoch"
              and all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in v)}
    if plot and curves and cols["epoch"]:
        try:
            from .diagnostics.plots import plot_history
        except ImportError as e:                                     # pragma: no cover
            warnings.warn(f"curves.png not written ({e}).", stacklevel=3)
        else:
            with tempfile.TemporaryDirectory(prefix="rnnlab-curves-") as tmp:
                try:
                    png = plot_history(curves, os.path.join(tmp, FILES["png"]))
                except ImportError as e:
                    warnings.warn(f"curves.png not written: {e}", stacklevel=3)
                else:
                    with open(png, "rb") as f:
                        out[FILES["png"]] = f.read()
    return out


def write_run_artifacts(model_dir, history, config=None, plot=True):
    """Write ``history.csv``, ``history.json``, ``curves.png`` and ``training_config.json`` into
    ``model_dir`` (created if missing). Returns ``{kind: path}`` of the files written.

    When ``model_dir`` holds a saved model, the files join its unit: the directory is replaced as a whole
    with the manifest updated (``models.saving.update_files``), so the model still loads and a crash leaves
    either the old files or the new ones. Otherwise each file is written atomically."""
    from .models import saving
    model_dir = os.fspath(model_dir)
    files = run_artifact_files(history, config, plot)
    if os.path.isfile(os.path.join(model_dir, saving.CONFIG_NAME)):
        saving.update_files(model_dir, files)
    else:
        os.makedirs(model_dir, exist_ok=True)
        saving.atomic_write_many([(os.path.join(model_dir, name), data) for name, data in files.items()])
    names = {v: k for k, v in FILES.items()}
    return {names[name]: os.path.join(model_dir, name) for name in files}


class RunArtifacts(Callback):
    """A callback that writes ``write_run_artifacts(model_dir, history, config)`` at the end of ``fit``
    (and, with ``every_epoch=True``, after every epoch, so an interrupted run keeps its curves).

    Example::

        model.fit(x, y, epochs=5, callbacks=[RunArtifacts("runs/m1", {"units": 32})])
    """

    def __init__(self, model_dir, config=None, every_epoch=False):
        super().__init__()
        self.model_dir, self.config, self.every_epoch = model_dir, config, bool(every_epoch)
        self.history = {}

    def on_train_begin(self, logs=None):
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.every_epoch:
            write_run_artifacts(self.model_dir, self.history, self.config)

    def on_train_end(self, logs=None):
        if self.history:
            write_run_artifacts(self.model_dir, self.history, self.config)
