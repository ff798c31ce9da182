"""Time-series forecasting against honest baselines (monthly sunspots, airline passengers, daily prices, or any
CSV with a date column).

    from rnnlab.tasks import forecast
    model, report = forecast.train("csv:../shared/data/timeseries/airline-passengers.csv.xz",
                                   column="Passengers", input_width=24, horizon=12, test=24, value="log")
    print("\\n".join(report["summary"]))          # the network and every baseline on the same origins

Modules: ``series`` (CSV reading, checked row by row), ``transforms`` (log/diff/returns and scalers fitted
on the training rows), ``splits`` (chronological splits), ``network`` (the five strategies), ``forecaster``
(forecasts in the series' units), ``intervals`` (conformal calibration), ``metrics`` and ``baselines``
(scored by the same code), ``evaluation`` (the rolling-origin backtest), ``plots``, ``training``, ``cli``.
"""
from .config import ForecastConfig
from .forecaster import Forecast, Forecaster, load
from .series import Series, read_csv
from .training import train


def register_train(subparsers):
    from .cli import register_train as register
    return register(subparsers)


def cli_forecast(model_dir, argv):
    from .cli import cli_forecast as run
    return run(model_dir, argv)


def cli_predict(model_dir, argv):
    from .cli import cli_forecast as run
    return run(model_dir, argv)


def cli_evaluate(model_dir, argv):
    from .cli import cli_evaluate as run
    return run(model_dir, argv)
