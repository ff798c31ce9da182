"""The forecasting task's command line, plugged into ``rnnlab.cli`` (``TASKS["forecast"]``)::

    rnnlab train forecast --data csv:../shared/data/timeseries/monthly-sunspots.csv.xz --column Sunspots \\
        --input-width 36 --horizon 12 --model lstm --value log1p --out runs/sun --plot runs/sun/backtest.png
    rnnlab forecast runs/sun --steps 12 --plot sun.png --csv sun.csv
    rnnlab evaluate runs/sun                       # the backtest table with every baseline, again

The flags of ``rnnlab train forecast`` other than ``--data``, ``--out``, ``--plot``, ``--no-baselines`` and
``--quiet`` come from ``ForecastConfig``.
"""
import argparse
import csv
import os

import numpy as np

from .baselines import Drift, Naive, SeasonalNaive
from .config import ForecastConfig
from .evaluation import backtest, summary_lines
from .forecaster import load
from .series import read_csv
from .splits import Splits
from .training import _check_out, load_series, parse_data_spec, train


def register_train(subparsers):
    p = subparsers.add_parser(
        "forecast", help="time-series forecasting from a CSV, backtested against persistence, seasonal naive, "
                         "drift, mean, ARIMA and ETS",
        description="Train a recurrent forecaster on one series (chronological splits, transforms fitted on the "
                    "training rows), then backtest it with a rolling origin over the test span against the "
                    "baselines, scored by the same code (MAE, RMSE, MASE, sMAPE, interval coverage).")
    p.add_argument("--data", required=True, metavar="csv:PATH", help="a CSV file with a header and a date column")
    ForecastConfig.add_arguments(p)
    p.add_argument("--out", metavar="MODEL_DIR", help="save the model directory here")
    p.add_argument("--plot", metavar="PNG", help="draw the backtest's one-step forecasts and intervals here")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines (faster)")
    p.add_argument("--no-statistical", action="store_true", help="skip ARIMA and ETS (statsmodels) only")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_train_main)
    return p


def _train_main(args):
    config = ForecastConfig.from_args(args)
    if args.out:
        _check_out(args.out)
    if args.plot:
        from .plots import _check_png
        _check_png(args.plot)
    forecaster, report = train(args.data, config, out=args.out, verbose=0 if args.quiet else 2,
                               baselines=not args.no_baselines, statistical=not args.no_statistical)
    print("\n".join(report["summary"]))
    print(f"trained {report['epochs_run']} epochs in {report['train_seconds']:.1f}s; wall "
          f"{report['wall_seconds']:.1f}s" + (f"; saved to {args.out}" if args.out else ""))
    if args.plot:
        _plot_backtest(args.plot, report["backtest"], load_series(args.data, config), config)
        print(f"wrote {args.plot}")
    return 0


def _plot_backtest(path, result, series, config):
    from .plots import plot_backtest
    origins, h = result["origins"], 0
    dates = series.dates[origins + h]
    fc = result["forecast"]
    baselines = {k: v[:, h] for k, v in result["forecasts"].items() if not k.startswith("rnnlab")}
    plot_backtest(path, dates, result["y_true"][:, h], fc.point[:, h],
                  {lv: (lo[:, h], hi[:, h]) for lv, (lo, hi) in fc.intervals.items()},
                  {k: baselines[k] for k in list(baselines)[:3]},
                  title=f"{config.column}: one-step-ahead backtest forecasts")


def future_dates(dates, steps, freq):
    """The ``steps`` dates after ``dates[-1]``: next months, next weekdays for daily data, else the last step."""
    last = dates[-1]
    k = np.arange(1, steps + 1)
    if freq == "M":
        return last + k.astype("timedelta64[M]")
    if freq == "D":
        return np.busday_offset(last.astype("datetime64[D]"), k, roll="forward")
    step = np.median(np.diff(dates[-50:])) if len(dates) > 1 else np.timedelta64(1, freq)
    return last + k * step


def cli_forecast(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab forecast {model_dir}",
                                description="Forecast the steps after the end of a series with a saved forecaster.")
    p.add_argument("--steps", type=int, default=None, help="steps to forecast (default and maximum: the horizon)")
    p.add_argument("--data", metavar="csv:PATH", help="the series to continue (default: the end of the training "
                                                      "series kept in the model directory)")
    p.add_argument("--plot", metavar="PNG", help="draw the history, forecast and intervals here")
    p.add_argument("--csv", metavar="CSV", help="write date, forecast and interval bounds here")
    args = p.parse_args(argv)
    f = load(model_dir)
    H = f.config.horizon
    steps = H if args.steps is None else args.steps
    if not 1 <= steps <= H:
        raise ValueError(f"--steps {steps}: this model forecasts 1 to {H} steps (its horizon); train with a longer "
                         "--horizon for more.")
    for path, ext in ((args.plot, ".png"), (args.csv, ".csv")):
        if path and (not path.lower().endswith(ext) or not os.path.isdir(os.path.dirname(os.path.abspath(path)))):
            raise ValueError(f"{path!r}: expected a {ext} file in an existing folder.")
    if args.data:
        s = read_csv(parse_data_spec(args.data), list(f.config.input_columns()), f.config.date_column,
                     f.config.max_gap)
        dates, values = s.dates, s.values
    else:
        dates = np.array(f.info["tail_dates"], dtype="datetime64")
        values = np.asarray(f.info["tail_values"], dtype=np.float64)
    fc = f.predict(values, np.array([len(values)]))
    when = future_dates(dates, steps, f.info.get("freq", "D"))
    point = fc.point[0, :steps]
    bands = {lv: (lo[0, :steps], hi[0, :steps]) for lv, (lo, hi) in fc.intervals.items()}
    header = ["date", "forecast"] + [f"{b}_{lv:.0%}" for lv in bands for b in ("lower", "upper")]
    rows = [[str(when[i]), f"{point[i]:.6g}"] + [f"{x[i]:.6g}" for lv in bands for x in bands[lv]]
            for i in range(steps)]
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header] + rows)
        print(f"wrote {args.csv}")
    else:
        print("  ".join(header))
        for r in rows:
            print("  ".join(r))
    if args.plot:
        from .plots import plot_forecast
        t = f.config.input_columns().index(f.config.column)
        shown = min(len(values), max(5 * steps, 60))
        history = values[:, t]
        m = f.config.season or 1
        simple = [Naive(), SeasonalNaive(m), Drift()] if m > 1 and len(history) > m else [Naive(), Drift()]
        lines = {b.name: b.fit(history).forecast(history, steps) for b in simple}
        plot_forecast(args.plot, dates[-shown:], history[-shown:], when, point, bands, baselines=lines,
                      title=f"{f.config.column}: {steps}-step forecast", ylabel=f.config.column)
        print(f"wrote {args.plot}")
    return 0


def cli_evaluate(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab evaluate {model_dir}",
                                description="Backtest a saved forecaster against every baseline on its test span.")
    p.add_argument("--data", metavar="csv:PATH", help="the series (default: the file it was trained on)")
    p.add_argument("--no-statistical", action="store_true", help="skip ARIMA and ETS")
    args = p.parse_args(argv)
    f = load(model_dir)
    data = args.data or f.info.get("path")
    if not data:
        raise ValueError(f"{model_dir!r} does not record its training file; pass --data csv:PATH.")
    series = load_series(data, f.config)
    saved = f.info.get("splits") or {}
    splits = Splits.of(len(series.values), f.config.test, f.config.valid_fraction)
    if saved and args.data is None and saved.get("T") != splits.T:
        raise ValueError(f"{data!r} has {splits.T} rows but the model was trained on {saved.get('T')}; pass --data.")
    result = backtest(f, series, splits, statistical=not args.no_statistical)
    print("\n".join(summary_lines(result)))
    return 0

