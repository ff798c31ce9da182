"""The settings of the forecasting task, each declared once in ``ForecastConfig`` (flags of
``rnnlab train forecast``, keyword arguments of ``forecast.train``, the ``"config"`` saved with the model).

Example::

    from rnnlab.tasks.forecast import ForecastConfig
    config = ForecastConfig(column="Sunspots", input_width=36, horizon=12, strategy="direct")
    config.quantile_levels()          # (0.025, 0.1, 0.5, 0.9, 0.975) for intervals "80,95"
"""
from dataclasses import dataclass
from typing import Optional

from ..config import TaskConfig, setting
from .transforms import DETRENDS, SCALERS, VALUES

STRATEGIES = ("direct", "many-to-one", "recursive", "many-to-many", "seq2seq")
CELLS = ("lstm", "gru", "simple_rnn")
POSITIVE = "[1, inf)"


@dataclass
class ForecastConfig(TaskConfig):
    """Every setting of a forecasting run: the series, the windows, the network, the splits and the training."""

    column: str = setting("", "the column to forecast (required), e.g. Close")
    inputs: str = setting("", "comma-separated input columns (default: the forecast column alone); e.g. "
                              "Open,High,Low,Close,Volume for a multivariate model")
    date_column: Optional[str] = setting(None, "the date column (default: the first column)")
    max_gap: Optional[int] = setting(None, "largest allowed step between dates (default: 1 month for monthly data, "
                                           "7 days for daily data)", interval=POSITIVE)
    input_width: int = setting(24, "past steps the network reads", interval=POSITIVE)
    horizon: int = setting(12, "steps forecast at each origin", interval=POSITIVE)
    strategy: str = setting("direct", "direct (H values at once), many-to-one (the next value), recursive (the next "
                                   "value, fed back H times), many-to-many (the next value at every step, seed 003), "
                                   "seq2seq (an encoder-decoder emitting H steps)", choices=STRATEGIES)
    model: str = setting("lstm", "the recurrent layer", choices=CELLS)
    units: int = setting(64, "units per recurrent layer", interval=POSITIVE)
    layers: int = setting(1, "stacked recurrent layers", interval=POSITIVE)
    ensemble: int = setting(1, "train this many networks (seeds seed, seed+1, ...) and average their outputs",
                            interval=POSITIVE)
    dropout: float = setting(0.0, "dropout before the output layer", interval="[0, 1)")
    value: str = setting("none", "value transform before everything else", choices=VALUES)
    detrend: str = setting("none", "none, diff (changes), returns (relative changes) or seasonal (the change "
                                   "since one season earlier)", choices=DETRENDS)
    scaler: str = setting("standard", "per-column scaler fitted on the training part", choices=SCALERS)
    window_norm: bool = setting(False, "normalise every input window by its own mean and standard deviation (the "
                                       "network sees shapes, not levels; helps when the test span's levels or "
                                       "amplitudes lie outside the training span's)")
    test: float = setting(0.2, "held-out test span: a fraction of the series (< 1) or a number of steps (>= 1)",
                          interval="(0, inf)")
    valid_fraction: float = setting(0.15, "the last part of the training span, for early stopping and interval "
                                          "calibration", interval="(0, 1)")
    season: Optional[int] = setting(None, "season length m for MASE and the seasonal-naive baseline (default: 12 "
                                          "for monthly data, 1 otherwise)", interval=POSITIVE)
    intervals: str = setting("80,95", "prediction-interval levels in percent, comma-separated, or 'none'")
    calibrate: bool = setting(True, "widen or narrow the intervals so they cover their level on the validation span "
                                    "(conformalised quantile regression)")
    interval_update: str = setting("adaptive", "along the backtest, keep the validation calibration (static) or "
                                               "recalibrate from the errors observed before each origin (adaptive "
                                               "conformal inference)", choices=("static", "adaptive"))
    epochs: int = setting(200, "most passes over the training windows", interval=POSITIVE)
    patience: int = setting(20, "stop after this many epochs without a better validation loss",
                            interval=POSITIVE)
    batch_size: int = setting(32, "windows per gradient step", interval=POSITIVE)
    lr: float = setting(1e-3, "Adam learning rate", interval="(0, inf)")
    stride: int = setting(1, "steps between backtest origins in the test span", interval=POSITIVE)
    seed: int = setting(0, "seed of weights, dropout and shuffling", interval="[0, inf)")

    def input_columns(self):
        names = [c.strip() for c in self.inputs.split(",") if c.strip()] if self.inputs else []
        return tuple(names or [self.column])

    def interval_levels(self):
        """The interval levels as fractions, e.g. (0.8, 0.95); () for 'none'."""
        text = self.intervals.strip().lower()
        if text in ("", "none"):
            return ()
        return tuple(sorted(float(p) / 100.0 for p in text.split(",")))

    def quantile_levels(self):
        """The quantiles the network predicts: the median and both ends of every interval."""
        qs = {0.5}
        for level in self.interval_levels():
            qs.update((round((1 - level) / 2, 6), round((1 + level) / 2, 6)))
        return tuple(sorted(qs))

    def check_together(self, where):
        if not self.column:
            raise ValueError(f"{where} needs the column to forecast: pass column='Close' (--column Close).")
        try:
            levels = self.interval_levels()
        except ValueError:
            levels = None
        if levels is None or not all(0 < lv < 1 for lv in levels):
            raise ValueError(f"{where} got intervals={self.intervals!r}; expected levels in percent between 0 and "
                             "100, comma-separated (e.g. '80,95'), or 'none'.")
        if self.strategy == "many-to-one" and self.horizon != 1:
            raise ValueError(f"{where} got strategy='many-to-one' with horizon={self.horizon}; a many-to-one model "
                             "predicts the next value only. Use horizon=1, strategy='recursive' to feed it back "
                             "step by step, or strategy='direct' to predict all steps at once.")
        if self.strategy in ("recursive", "many-to-many") and self.input_columns() != (self.column,) \
                and self.horizon > 1:
            raise ValueError(f"{where} got strategy={self.strategy!r} with inputs {list(self.input_columns())} and "
                             f"horizon={self.horizon}; feeding forecasts back needs every input column forecast, "
                             "so it works with the forecast column alone. Use strategy='direct' or 'seq2seq' for "
                             "multivariate inputs.")
