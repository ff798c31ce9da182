"""Time-series forecasting against honest baselines, on the three shared series.

    python benchmarks/forecast.py                      # sunspots, airline, MSFT (about 15 minutes on 2 cores)
    python benchmarks/forecast.py --only airline --ensemble 3

For each series every rnnlab candidate below is trained (an ensemble of ``--ensemble`` seeds), the one with
the lowest MASE on the validation span is chosen (the test span is never used to choose), and the rolling-
origin backtest over the test span prints the chosen model beside every baseline, all scored by the same
code: persistence (Naive), seasonal naive, drift, mean, ARIMA (orders chosen by unit-root tests and AIC on the
rows before the test span) and ETS (components by AIC). The network is not refit as the origin rolls; the
statistical baselines keep their fitted parameters and filter the new observations. Intervals are the
network's quantiles calibrated by conformalised quantile regression, recalibrated along the rolling origin
from errors observed before each origin (adaptive conformal inference); the static calibration's coverage is
printed beside it.

1. Monthly sunspots, 12-month horizon, rolling origin over the last 20%.
2. Airline passengers, 12-month horizon, the last 24 months held out; the classic airline SARIMA
   (0,1,1)(0,1,1)[12] on log data and ETS beside it.
3. MSFT daily closes: next-day forecasts over the last 20% (about 1,600 days): MASE against the random walk
   and the direction accuracy with its binomial test against 50%.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe  # noqa: E402

from rnnlab.tasks import forecast  # noqa: E402
from rnnlab.tasks.forecast.baselines import ARIMA  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "timeseries"

SERIES = {
    "sunspots": dict(
        file="monthly-sunspots.csv.xz", base=dict(column="Sunspots", horizon=12, test=0.2, patience=15),
        candidates=[dict(input_width=72, units=32),
                    dict(input_width=72, units=32, window_norm=True),
                    dict(input_width=132, units=32, window_norm=True),
                    dict(input_width=72, units=32, strategy="seq2seq", window_norm=True),
                    dict(input_width=36, units=64, value="log1p", window_norm=True)],
        ensemble=5, extra=[]),
    "airline": dict(
        file="airline-passengers.csv.xz",
        base=dict(column="Passengers", horizon=12, test=24, valid_fraction=0.15, patience=40, epochs=400,
                  value="log", detrend="seasonal", batch_size=16),
        candidates=[dict(input_width=24, units=16),
                    dict(input_width=24, units=32),
                    dict(input_width=36, units=16),
                    dict(input_width=24, units=16, strategy="seq2seq"),
                    dict(input_width=24, units=16, window_norm=True)],
        ensemble=5, extra=[lambda: ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), m=12, log=True)]),
    "msft": dict(
        file="msft.csv.xz",
        base=dict(column="Close", date_column="Date", horizon=1, strategy="many-to-one", test=0.2, value="log",
                  detrend="diff", patience=10, epochs=100, batch_size=64),
        candidates=[dict(input_width=20, units=32),
                    dict(input_width=20, units=32, window_norm=True),
                    dict(input_width=20, units=32, inputs="Open,High,Low,Close,Volume")],
        ensemble=3, extra=[]),
}


def run_series(name, spec, ensemble, verbose):
    ensemble = ensemble or spec["ensemble"]
    print(f"\n=== {name} ({spec['file']}) ===")
    data = f"csv:{DATA / spec['file']}"
    best = None
    for cand in spec["candidates"]:
        settings = {**spec["base"], **cand, "ensemble": ensemble}
        if "inputs" in cand and cand["inputs"] and settings.get("value") == "log":
            settings["value"] = "log1p"                   # volume can be 0 on one day
        start = time.perf_counter()
        f, report = forecast.train(data, verbose=verbose, baselines=False, **settings)
        seconds = time.perf_counter() - start
        test_mase = report["backtest"]["rows"][0]["MASE"]
        print(f"candidate {cand}: validation MASE {report['valid_mase']:.3f}, test MASE {test_mase:.3f}, "
              f"epochs {report['epochs_run']}, {seconds:.0f}s", flush=True)
        if best is None or report["valid_mase"] < best[1]["valid_mase"]:
            best = (settings, report)
    settings, _ = best
    print(f"chosen by validation MASE: {settings}")
    start = time.perf_counter()
    extra = [make() for make in spec["extra"]]
    f, report = forecast.train(data, verbose=verbose, extra_baselines=extra, **settings)
    print("\n".join(report["summary"]))
    print(f"chosen model retrained and backtested with all baselines in {time.perf_counter() - start:.0f}s")
    for name_, sec in report["backtest"]["seconds"].items():
        print(f"  {name_}: {sec:.1f}s to forecast the test origins")
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(SERIES), help="comma-separated: " + ", ".join(SERIES))
    p.add_argument("--ensemble", type=int, default=None, help="networks averaged per model (default: 5, 3 for MSFT)")
    p.add_argument("--verbose", type=int, default=0)
    args = p.parse_args(argv)
    print(describe())
    if not DATA.exists():
        print(f"no data at {DATA}")
        return 1
    for name in args.only.split(","):
        run_series(name.strip(), SERIES[name.strip()], args.ensemble, args.verbose)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
