"""Training a forecaster on one series: splits, transforms fitted on the training rows, windows, early stopping
on the validation span, interval calibration, the backtest against the baselines, and the model directory.

    forecaster, report = train("csv:../shared/data/timeseries/monthly-sunspots.csv.xz",
                               ForecastConfig(column="Sunspots", input_width=36, horizon=12), out="runs/sun")
    print("\\n".join(report["summary"]))
"""
import os
import time

import numpy as np

from ... import backend, callbacks
from ...artifacts import run_artifact_files
from .config import ForecastConfig
from .evaluation import backtest, summary_lines, validation_mase
from .forecaster import Forecaster, first_origin, normalise_windows, training_targets, windows
from .network import build_model, output_steps
from .series import Series, read_csv
from .splits import Splits, check_room, origins_between
from .transforms import Transforms

TAIL_ROWS = 240           # rows of the series kept in the model directory, for `rnnlab forecast` without --data


def parse_data_spec(spec):
    """``csv:PATH`` (or a bare path) -> the path."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"--data got {spec!r}; expected csv:PATH (a CSV file with a date column).")
    kind, sep, path = spec.partition(":")
    if sep and kind == "csv":
        return path
    if sep and kind.isalpha() and len(kind) > 1:
        raise ValueError(f"--data got {spec!r}; the only kind is csv:PATH.")
    return spec


def load_series(data, config):
    """The ``Series`` of ``data`` (a Series, or ``csv:PATH``) with the config's columns."""
    if isinstance(data, Series):
        return data
    cols = list(dict.fromkeys((*config.input_columns(), config.column)))
    return read_csv(parse_data_spec(data), cols, config.date_column, config.max_gap)


def _input_values(series, config):
    return series.values[:, [series.index(c) for c in config.input_columns()]]


def _windows_between(transforms, values, config, lo, hi):
    steps_out = 1 if config.strategy == "many-to-many" else output_steps(config)
    origins = origins_between(lo, hi, first_origin(config), steps_out)
    x = windows(transforms, values, origins, config)
    y = training_targets(transforms, values, origins, config)
    if config.window_norm:
        x, a, b = normalise_windows(x, config, transforms.target)
        y = (y - a[:, None]) / b[:, None]
    return x, y.astype(np.float32)


def fit_forecaster(series, config, verbose=0):
    """Fit transforms, network and calibration on the rows before the test span. Returns (Forecaster, Splits, info)."""
    if config.season is None:
        config = ForecastConfig.create(config, "forecast.train", season=12 if series.freq == "M" else 1)
    splits = Splits.of(len(series.values), config.test, config.valid_fraction)
    check_room(splits, first_origin(config), config.horizon, series.path)
    values = _input_values(series, config)
    target = config.input_columns().index(config.column) if config.column in config.input_columns() else None
    if target is None:
        raise ValueError(f"The forecast column {config.column!r} must be among the inputs {config.input_columns()}; "
                         "add it to --inputs.")
    transforms = Transforms(config.value, config.detrend, config.scaler, target, config.season)
    transforms.fit(values[:splits.valid_start])
    x_train, y_train = _windows_between(transforms, values, config, 0, splits.valid_start)
    x_valid, y_valid = _windows_between(transforms, values, config, splits.valid_start, splits.test_start)
    n_q = len(config.quantile_levels()) if config.interval_levels() else 1
    members, histories, start = [], [], time.perf_counter()
    for k in range(config.ensemble):
        member_config = ForecastConfig.create(config, "forecast.train", seed=config.seed + k)
        backend.set_random_seed(member_config.seed)
        model = build_model(member_config, values.shape[1], n_q)
        stop = callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
        history = model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs,
                            validation_data=(x_valid, y_valid), callbacks=[stop], verbose=verbose)
        members.append(model)
        histories.append(history.history)
    seconds = time.perf_counter() - start
    forecaster = Forecaster(members, transforms, config)
    calib_origins = origins_between(splits.valid_start, splits.test_start, first_origin(config), config.horizon)
    forecaster.calibrate(values, calib_origins)
    epochs = [len(h.get("loss", [])) for h in histories]
    info = {"columns": list(config.input_columns()), "path": os.path.abspath(series.path), "freq": series.freq,
            "splits": splits._asdict(), "train_windows": int(len(x_train)), "valid_windows": int(len(x_valid)),
            "epochs_run": epochs, "best_val_loss": [float(np.min(h["val_loss"])) for h in histories],
            "train_seconds": seconds,
            "history": [{k: [float(v) for v in vs] for k, vs in h.items()} for h in histories],
            "tail_dates": [str(d) for d in series.dates[-TAIL_ROWS:]],
            "tail_values": values[-TAIL_ROWS:].tolist()}
    forecaster.info = info
    return forecaster, splits


def train(data, config=None, out=None, verbose=1, baselines=True, statistical=True, extra_baselines=(), **settings):
    """Train and backtest a forecaster; save it to ``out`` if given. Returns (Forecaster, report dict).
    ``baselines``/``statistical``/``extra_baselines``: what the backtest compares with (``evaluation.backtest``)."""
    config = ForecastConfig.create(config, "forecast.train", **settings)
    if out is not None:
        _check_out(out)
    series = load_series(data, config)
    start = time.perf_counter()
    forecaster, splits = fit_forecaster(series, config, verbose=verbose)
    result = backtest(forecaster, series, splits, include_baselines=baselines, statistical=statistical,
                      extra_baselines=extra_baselines)
    report = {"splits": splits, "backtest": result, "summary": summary_lines(result),
              "epochs_run": forecaster.info["epochs_run"], "train_seconds": forecaster.info["train_seconds"],
              "valid_mase": validation_mase(forecaster, series, splits), "wall_seconds": time.perf_counter() - start}
    forecaster.info["backtest"] = {"rows": _json_safe(result["rows"]),
                                   "coverage": _json_safe({str(k): v for k, v in result["coverage"].items()})}
    if out is not None:
        history = forecaster.info["history"][0]                   # the first member's curves
        forecaster.save(out, extra_files=run_artifact_files(history, {"data": str(data), **config.to_dict()}))
    return forecaster, report


def _json_safe(obj):
    """Nested dicts/lists with NaN/inf floats as None (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _check_out(out):
    """Refuse an unusable output directory before any work (a file in the way, a parent that is missing)."""
    out = os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out!r} is a file; expected a directory for the model.")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ValueError(f"--out {out!r}: its parent folder {parent!r} does not exist.")

