"""A trained forecaster: the network, the fitted transforms and the interval calibration, kept together.

Forecasts at origin ``o`` (the last observed row is ``o - 1``) read the window of rows ``o - W .. o - 1``
(and the rows detrending needs before them) and return, in the target column's units,

    point:      (N, H) the median (intervals on) or the mean-squared-error forecast (intervals off)
    intervals:  {level: (lower, upper)} each (N, H), e.g. level 0.8 -> the 10% and 90% quantiles

Recursive and many-to-many models forecast one step, append it to the window and go again (H times).
Intervals (``intervals`` module): the network's own quantiles for models that emit every step at once
(direct, many-to-one, seq2seq), the median alone for models fed back step by step, calibrated by conformal
scores of the validation forecasts (``predict``), or recalibrated along a rolling origin from the errors
observed before each origin (``predict_rolling``, adaptive conformal inference). An ensemble averages its
members' outputs, every quantile included.

Example::

    f = Forecaster(model, transforms, config, calibration)
    out = f.predict(values, origins=np.array([100, 101]))      # out.point (2, H)
"""
import json
from typing import NamedTuple

import numpy as np

from ... import models
from . import intervals
from .config import ForecastConfig
from .network import output_steps
from .transforms import Transforms


MEMBERS = "members"          # MODEL_DIR/members/K holds ensemble member K (member 0 is MODEL_DIR itself)


class Forecast(NamedTuple):
    """point: (N, H); intervals: {level: (lower (N, H), upper (N, H))}; origins: (N,)."""
    point: np.ndarray
    intervals: dict
    origins: np.ndarray


def first_origin(config):
    """The earliest origin with a whole input window (and the rows detrending needs before it)."""
    memory = {"none": 0, "diff": 1, "returns": 1, "seasonal": config.season or 1}[config.detrend]
    return config.input_width + memory


def windows(transforms, values, origins, config):
    """Network inputs (N, W, C) for forecasts at ``origins``, from the rows before each origin."""
    W = config.input_width
    z = transforms.inputs(values)                                          # (T, C)
    idx = np.asarray(origins)[:, None] - W + np.arange(W)[None, :]          # (N, W): rows o-W .. o-1
    return z[idx].astype(np.float32)


WINDOW_STD_FLOOR = 0.1       # in standardised units: a flat window is not blown up


def normalise_windows(x, config, target):
    """Per-window normalisation (``window_norm``): each window's columns minus their mean over the window,
    over their standard deviation (floored), so the network sees shapes, not levels. Returns
    ``(x_norm, a, b)`` with the target's offset ``a`` (N,) (0 when the target is a change since the origin)
    and scale ``b`` (N,): a network output y means ``a + b y`` in the transforms' units."""
    mean = x.mean(axis=1, keepdims=True)                                   # (N, 1, C)
    std = np.maximum(x.std(axis=1, keepdims=True), WINDOW_STD_FLOOR)
    centred = config.detrend in ("none", "seasonal")
    a = mean[:, 0, target] if centred else np.zeros(len(x), dtype=x.dtype)
    return ((x - mean) / std).astype(np.float32), a, std[:, 0, target]


def training_targets(transforms, values, origins, config):
    """What the network learns to emit at ``origins``: (N, H) direct/seq2seq, (N, 1) one step, or
    (N, W) many-to-many (step t of the window predicts the row after it)."""
    origins = np.asarray(origins)
    if config.strategy == "many-to-many":
        W = config.input_width
        rows = origins[:, None] - W + 1 + np.arange(W)[None, :]            # (N, W): the row after each step
        return transforms.targets(values, rows.reshape(-1), 1).reshape(len(origins), W)
    return transforms.targets(values, origins, output_steps(config))


class Forecaster:
    """The network and everything needed to turn a series into forecasts in its own units.

    Args:
        model: the compiled network (``network.build_model``), or a list of them: an ensemble whose outputs
            (every quantile) are averaged.
        transforms: fitted ``Transforms``.
        config: the ``ForecastConfig``.
        calibration: {"method": "cqr"|"conformal"|None, "levels": [...], "corrections": [[per step h], ...]}.
        info: JSON-able facts saved with the model (columns, dates, split points, the tail of the series).
    """

    def __init__(self, model, transforms, config, calibration=None, info=None):
        self.members = list(model) if isinstance(model, (list, tuple)) else [model]
        self.model, self.transforms, self.config = self.members[0], transforms, config
        self.calibration = calibration or {"method": None, "levels": [], "corrections": [], "valid_scores": []}
        self.info = info or {}
        self.quantiles = config.quantile_levels() if config.interval_levels() else (0.5,)

    @property
    def steps_at_once(self):
        """True if the network emits all H steps in one call (its quantiles then give the intervals)."""
        return self.config.strategy in ("direct", "many-to-one", "seq2seq")

    # ---- raw forecasts ---------------------------------------------------------------------------------

    def _network(self, x):
        """(N, steps, Q) network outputs in the transforms' units, steps = H or 1 (the last step of a
        many-to-many model); the ensemble's mean."""
        if self.config.window_norm:
            x, a, b = normalise_windows(x, self.config, self.transforms.target)
        y = np.mean([m.predict(x, batch_size=256, verbose=0) for m in self.members], axis=0)
        y = y if y.ndim == 3 else y[..., None]
        if self.config.window_norm:
            y = a[:, None, None] + b[:, None, None] * y
        return y[:, -1:, :] if self.config.strategy == "many-to-many" else y

    def _quantile_paths(self, values, origins):
        """(N, H, Q) forecasts in the target's units, every quantile (all-at-once models)."""
        t = self.transforms.target
        y = self._network(windows(self.transforms, values, origins, self.config))
        k = max(self.transforms.memory, 1)
        rows = np.asarray(origins)[:, None] - k + np.arange(k)[None, :]
        return self.transforms.invert(y, values[rows, t])

    def _rolled(self, values, origins):
        """(N, H) median forecasts of a one-step model fed back H times."""
        cfg, t, H = self.config, self.transforms.target, self.config.horizon
        origins = np.asarray(origins)
        extra = first_origin(cfg)                                          # rows the window needs
        rows = origins[:, None] - extra + np.arange(extra)[None, :]
        tails = values[rows]                                               # (N, extra, C) raw values
        median = self.quantiles.index(0.5)
        out = np.empty((len(origins), H))
        for h in range(H):
            z = self.transforms.inputs(tails.reshape(-1, tails.shape[2])).reshape(tails.shape)
            z = z[:, -cfg.input_width:].astype(np.float32)                 # (N, W, C)
            y = self._network(z)[:, 0, median]                             # (N,) network units
            x_next = self.transforms.invert(y[:, None], tails[:, :, t])[:, 0]
            out[:, h] = x_next
            tails = np.concatenate([tails[:, 1:], tails[:, -1:]], axis=1)
            tails[:, -1, t] = x_next
        return out

    def raw(self, values, origins):
        """(point (N, H), quantile paths (N, H, Q) or None) before calibration."""
        if self.steps_at_once:
            paths = self._quantile_paths(values, origins)
            return paths[..., self.quantiles.index(0.5)], paths
        return self._rolled(values, origins), None

    # ---- calibrated forecasts ----------------------------------------------------------------------------

    def predict(self, values, origins):
        """A ``Forecast`` at each origin (rows of ``values`` before it are the observed history), with the
        intervals calibrated on the validation span (static)."""
        values, origins = self._checked(values, origins)
        point, paths = self.raw(values, origins)
        g, g_inv = self.transforms.to_value, self.transforms.from_value
        out = {}
        for level, corr in zip(self.calibration["levels"], self.calibration["corrections"]):
            lo, hi = intervals.raw_band(point, paths, self.quantiles, level)
            out[level] = intervals.widen(lo, hi, point, np.asarray(corr)[None, :], g, g_inv)
        return Forecast(point, intervals.nested(out), origins)

    def predict_rolling(self, values, origins):
        """Forecasts along a rolling origin (``origins`` ascending, the targets in ``values``) with the
        intervals recalibrated from the errors observed before each origin (adaptive conformal inference)."""
        values, origins = self._checked(values, origins)
        point, paths = self.raw(values, origins)
        H, t = self.config.horizon, self.transforms.target
        rows = np.minimum(origins[:, None] + np.arange(H)[None, :], len(values) - 1)
        y = values[rows, t]                       # rows past the end are never revealed before the last origin
        g, g_inv = self.transforms.to_value, self.transforms.from_value
        out, last = {}, []
        for level, valid in zip(self.calibration["levels"], self.calibration["valid_scores"]):
            lo, hi, corr = intervals.adaptive(point, paths, self.quantiles, y, origins, np.asarray(valid), level,
                                              g, g_inv)
            out[level] = (lo, hi)
            last.append(corr.tolist())
        self.calibration["adapted_corrections"] = last
        return Forecast(point, intervals.nested(out), origins)

    def _checked(self, values, origins):
        values = np.asarray(values, dtype=np.float64)
        origins = np.asarray(origins, dtype=np.int64).reshape(-1)
        lo = first_origin(self.config)
        if origins.size == 0 or origins.min() < lo or origins.max() > len(values):
            raise ValueError(f"Forecaster.predict got origins from {origins.min() if origins.size else None} to "
                             f"{origins.max() if origins.size else None} for a series of {len(values)} rows; each "
                             f"origin needs {lo} rows before it (input_width {self.config.input_width}) and at most "
                             f"{len(values)}.")
        if values.ndim != 2 or values.shape[1] != len(self.config.input_columns()):
            raise ValueError(f"Forecaster.predict got values of shape {values.shape}; expected (T, "
                             f"{len(self.config.input_columns())}) for columns {list(self.config.input_columns())}.")
        return values, origins

    def calibrate(self, values, origins):
        """Interval calibration from forecasts at validation ``origins`` (their targets observed): the
        validation scores and their static corrections per level and step."""
        values, origins = self._checked(values, origins)
        H, levels = self.config.horizon, self.config.interval_levels()
        y = values[origins[:, None] + np.arange(H)[None, :], self.transforms.target]      # (N, H)
        point, paths = self.raw(values, origins)
        method = ("cqr" if paths is not None else "conformal") if self.config.calibrate else "none"
        cal = {"method": method, "levels": list(levels), "corrections": [], "valid_scores": []}
        for level in levels:
            lo, hi = intervals.raw_band(point, paths, self.quantiles, level)
            s = intervals.scores(y, lo, hi, self.transforms.to_value)
            if not self.config.calibrate and paths is not None:
                s = np.minimum(s, 0.0)                                    # quantile bands kept as trained
            cal["valid_scores"].append(np.round(s, 6).tolist())
            cal["corrections"].append(intervals.static_corrections(s, level).tolist())
        self.calibration = cal
        return cal

    # ---- saving ------------------------------------------------------------------------------------------

    def save(self, path, extra_files=None):
        """Write the model directory as one unit (``models.saving``): the first ensemble member at the top, the
        others under ``members/K/``, the fitted transforms and calibration in the metadata, and ``extra_files``
        (``{name: bytes}``, e.g. the run's history) beside them."""
        meta = {"task": "forecast", "config": self.config.to_dict(), "transforms": self.transforms.to_dict(),
                "calibration": self.calibration, "info": self.info}
        json.dumps(meta)                                                   # fail before writing if not JSON-able
        files = {f"{MEMBERS}/{k}/{name}": data for k, member in enumerate(self.members[1:], start=1)
                 for name, data in models.saving.model_files(member).items()}
        self.model.save(path, metadata=dict(meta, members=len(self.members)), extra_files={**files,
                                                                                         **(extra_files or {})})


def load(path):
    """Read a model directory written by ``Forecaster.save`` (or ``rnnlab train forecast``)."""
    meta = models.saving.load_metadata(path)
    if meta.get("task") != "forecast":
        raise ValueError(f"{path!r} holds a model of task {meta.get('task')!r}, not a forecaster; train one with "
                         "'rnnlab train forecast'.")
    config = ForecastConfig.from_dict(meta.get("config") or {}, where=f"{path}/config.json")
    members = [models.load_model(path)]
    for k in range(1, int(meta.get("members", 1))):
        members.append(models.load_model(models.saving.member_path(path, f"{MEMBERS}/{k}", "ensemble member")))
    return Forecaster(members, Transforms.from_dict(meta["transforms"]), config, meta.get("calibration"),
                      meta.get("info"))
