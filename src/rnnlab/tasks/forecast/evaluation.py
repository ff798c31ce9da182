"""The rolling-origin backtest: the network and every baseline forecast the same origins of the test span, and
one piece of code scores them all.

At each origin ``o`` in the test span (every ``stride`` rows, while ``o + H - 1`` is still observed) each
model sees rows ``< o`` only and forecasts rows ``o .. o + H - 1``. The network is not refit as the origin
rolls (its weights and transforms stay those fitted on the training part); the statistical baselines keep
the parameters chosen on the rows before the test span and are updated with the new observations.

Scores over all (origin, step) pairs: MAE, RMSE, MASE (scaled by the in-sample seasonal-naive MAE of the
rows before the test span, season m) and sMAPE; the network's interval coverage and width per level; and,
for H = 1 (next-step forecasts of prices), the direction accuracy with its binomial test against 50%.

Example::

    result = backtest(forecaster, series, splits)
    print(result["table_text"])
"""
import time

import numpy as np

from . import baselines as baseline_models
from . import metrics
from .forecaster import first_origin
from .splits import origins_between


def season_of(config, series):
    """The season length m: the config's, else 12 for monthly data and 1 otherwise."""
    if config.season is not None:
        return config.season
    return 12 if series.freq == "M" else 1


def backtest(forecaster, series, splits, include_baselines=True, statistical=True, extra_baselines=()):
    """Scores of the network and the baselines on the test span of ``series`` (a ``Series``): the default set
    (``baselines.default_baselines``) unless ``include_baselines`` is False, plus ``extra_baselines`` (unfitted
    ``Baseline`` instances, e.g. a hand-chosen seasonal ARIMA)."""
    config = forecaster.config
    values = series.values[:, [series.index(c) for c in config.input_columns()]]
    y_all = series.column(config.column)
    H, m = config.horizon, season_of(config, series)
    origins = origins_between(splits.test_start, splits.T, 0, H, config.stride)
    y_true = y_all[origins[:, None] + np.arange(H)[None, :]]                    # (N, H)
    history = y_all[:splits.test_start]

    start = time.perf_counter()
    static = forecaster.predict(values, origins)
    fc = forecaster.predict_rolling(values, origins) if config.interval_update == "adaptive" else static
    forecasts = {f"rnnlab {config.strategy} {config.model}": fc.point}
    seconds = {next(iter(forecasts)): time.perf_counter() - start}
    chosen = baseline_models.default_baselines(m, include_statistical=statistical) if include_baselines else []
    for b in [*chosen, *extra_baselines]:
        start = time.perf_counter()
        b.fit(history)
        forecasts[getattr(b, "label", None) or b.name] = b.forecast_origins(y_all, origins, H)
        seconds[getattr(b, "label", None) or b.name] = time.perf_counter() - start
    try:
        scale = metrics.mase_scale(history, m)
    except ValueError:                       # a series constant at lag m: MASE is undefined, shown as "-"
        scale = float("nan")
    rows = metrics.metric_table(y_true, forecasts, history if np.isfinite(scale) else None, m)
    result = {"origins": origins, "y_true": y_true, "forecasts": forecasts, "forecast": fc, "rows": rows,
              "season": m, "mase_scale": scale, "seconds": seconds, "table_text": metrics.format_table(rows)}
    result["coverage"] = {level: {"coverage": metrics.coverage(y_true, lo, hi),
                                  "width": metrics.interval_width(lo, hi),
                                  "static_coverage": metrics.coverage(y_true, *static.intervals[level]),
                                  "static_width": metrics.interval_width(*static.intervals[level])}
                          for level, (lo, hi) in fc.intervals.items()}
    result["interval_update"] = config.interval_update
    if H == 1:
        last = result["last"] = y_all[origins - 1]
        result["direction"] = {name: metrics.direction_accuracy(last, y_true[:, 0], f[:, 0])._asdict()
                               for name, f in forecasts.items()}
    return result


def validation_mase(forecaster, series, splits):
    """MASE of the network's point forecasts at the validation origins (for choosing between models without
    looking at the test span), scaled like the backtest's."""
    config = forecaster.config
    values = series.values[:, [series.index(c) for c in config.input_columns()]]
    y_all, H = series.column(config.column), config.horizon
    origins = origins_between(splits.valid_start, splits.test_start, first_origin(config), H)
    y = y_all[origins[:, None] + np.arange(H)[None, :]]
    point = forecaster.predict(values, origins).point
    try:
        return metrics.mase(y, point, scale=metrics.mase_scale(y_all[:splits.test_start], season_of(config, series)))
    except ValueError:
        return float("nan")


def summary_lines(result):
    """The result as printable lines: the table, interval coverage and direction accuracy."""
    lines = [f"backtest: {len(result['origins'])} origins x {result['y_true'].shape[1]} steps, season m = "
             f"{result['season']} (MASE scale {result['mase_scale']:.4g})", result["table_text"]]
    for level, c in result["coverage"].items():
        lines.append(f"{level:.0%} interval ({result['interval_update']}): coverage {c['coverage']:.1%} (nominal "
                     f"{level:.0%}), mean width {c['width']:.4g}; static validation calibration: "
                     f"{c['static_coverage']:.1%}, width {c['static_width']:.4g}")
    direction = result.get("direction") or {}
    if direction:
        y, last = result["y_true"][:, 0], result["last"]
        ups, moves = int(np.sum(y > last)), int(np.sum(y != last))
        lines.append(f"next-step direction: {ups} of {moves} moves were up ({ups / max(moves, 1):.1%}; always "
                     "guessing 'up' scores that)")
    for name, d in direction.items():
        if d["hits"] == 0 and d["n"] > 0 and np.all(result["forecasts"][name][:, 0] == result["last"]):
            lines.append(f"direction {name}: predicts no move (not scored)")
            continue
        lines.append(f"direction {name}: {d['accuracy']:.1%} of {d['n']} moves, p = {d['p_value']:.3g} "
                     "(binomial test against 50%)")
    return lines
