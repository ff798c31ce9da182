"""The forecasting task: windows with Keras's semantics, CSV reading and its errors, transforms without leakage,
the networks on a noiseless sine, conformal intervals, the pinball loss, saving and the command line."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from gradcheck import numeric_grad  # noqa: E402

import rnnlab
from rnnlab import cli, layers, losses
from rnnlab.tasks import forecast
from rnnlab.tasks.forecast import intervals, training
from rnnlab.tasks.forecast.config import ForecastConfig
from rnnlab.tasks.forecast.series import read_csv
from rnnlab.tasks.forecast.splits import Splits
from rnnlab.tasks.forecast.transforms import Transforms
from rnnlab.utils import timeseries_dataset_from_array

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "timeseries")


# ---- windows ------------------------------------------------------------------------------------------------

def test_windows_follow_keras_example_1():
    # Keras's docstring: indices 0..98, sequence_length=10, sampling_rate=2, sequence_stride=3
    ds = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3,
                                       batch_size=None)
    x = ds.inputs
    assert x[0].tolist() == list(range(0, 20, 2))
    assert x[1].tolist() == list(range(3, 23, 2))
    assert x[2].tolist() == list(range(6, 26, 2))
    assert x[-1].tolist() == list(range(78, 98, 2))          # 81 would run past 98
    assert len(x) == 27


def test_windows_temporal_regression_targets_and_batches():
    data = np.arange(30)
    ds = timeseries_dataset_from_array(data[:-5], data[5:], sequence_length=5, batch_size=8)
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [8, 8, 5] and len(ds) == 3
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    for i in range(21):                                     # window [i, i+5) -> the value right after it
        assert x[i].tolist() == list(range(i, i + 5)) and y[i] == i + 5


def test_windows_start_end_index_and_shuffle():
    data = np.arange(50)
    ds = timeseries_dataset_from_array(data, data, sequence_length=4, start_index=10, end_index=20, batch_size=None)
    assert ds.inputs[0].tolist() == [10, 11, 12, 13] and ds.inputs[-1].tolist() == [16, 17, 18, 19]
    assert ds.targets.tolist() == list(range(10, 17))
    a = timeseries_dataset_from_array(data, data, 4, shuffle=True, seed=3, batch_size=None)
    b = timeseries_dataset_from_array(data, data, 4, shuffle=True, seed=3, batch_size=None)
    assert np.array_equal(a.inputs, b.inputs) and sorted(a.targets.tolist()) == list(range(47))
    assert np.array_equal(a.inputs[:, 0], a.targets)         # each window still paired with its own target


def test_windows_errors():
    with pytest.raises(ValueError, match="sequence_length=0; expected a positive integer"):
        timeseries_dataset_from_array(np.arange(10), None, 0)
    with pytest.raises(ValueError, match="hold no window of sequence_length=20"):
        timeseries_dataset_from_array(np.arange(10), None, 20)
    with pytest.raises(ValueError, match="expected start_index < end_index"):
        timeseries_dataset_from_array(np.arange(10), None, 2, start_index=5, end_index=3)


def test_fit_takes_a_timeseries_dataset():
    rnnlab.utils.set_random_seed(0)
    t = np.arange(400, dtype=np.float32)
    s = np.sin(t / 5.0)
    ds = timeseries_dataset_from_array(s[:-8, None], s[8:], sequence_length=8, batch_size=16, shuffle=True, seed=0)
    model = rnnlab.Sequential([rnnlab.Input((8, 1)), layers.SimpleRNN(8), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.predict(ds, verbose=0).shape == (len(ds.inputs), 1)
    with pytest.raises(ValueError, match="a dataset carries its own targets"):
        model.fit(ds, s, verbose=0)


# ---- reading a CSV ---------------------------------------------------------------------------------------------

def _csv(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_read_csv_monthly_and_daily(tmp_path):
    p = _csv(tmp_path, '"Month","v"\n"2000-01",1\n"2000-02",2.5\n"2000-03",3\n')
    s = read_csv(p, "v")
    assert s.freq == "M" and s.values[:, 0].tolist() == [1, 2.5, 3]
    p = _csv(tmp_path, "Date,Open,Close\n2020-01-03,1,2\n2020-01-06,2,3\n2020-01-07,3,4\n", "d.csv")
    s = read_csv(p, ["Close", "Open"], date_column="Date")
    assert s.freq == "D" and s.values.tolist() == [[2, 1], [3, 2], [4, 3]] and s.columns == ("Close", "Open")


@pytest.mark.parametrize("text, columns, message", [
    ("Month,v\n2000-01,1\n,2\n2000-03,3\n", "v", r"line 3, column 'Month': the date is missing"),
    ("Month,v\n2000-01,1\n2000-02,x\n2000-03,3\n", "v", r"line 3, column 'v': the value is 'x', not a number"),
    ("Month,v\n2000-01,1\n2000-02,\n2000-03,3\n", "v", r"line 3, column 'v': the value is empty"),
    ("Month,v\n2000-01,1\n2000-02,nan\n", "v", r"line 3, column 'v': the value is 'nan'; expected a finite"),
    ("Month,v\n2000-01,1\n2000-02,2\n2000-05,3\n", "v", r"line 4, column 'Month': a gap of 3 M after 2000-02"),
    ("Month,v\n2000-02,1\n2000-01,2\n", "v", r"line 3, column 'Month': date 2000-01 comes before"),
    ("Month,v\n2000-01,1\n2000-01,2\n", "v", r"line 3, column 'Month': date 2000-01 repeats"),
    ("Month,v\n2000-01,1\n2000-02,2\n", "Close", r"no column named 'Close'; the header has \['Month', 'v'\]"),
    ("Month,v\n2000-01,1\n2000-02\n", "v", r"line 3: 1 fields, but the header has 2"),
    ("Month,v\n2000-01,1\nsoon,2\n", "v", r"line 3, column 'Month': 'soon' is not an ISO date"),
    ("", "v", r"the file is empty"),
])
def test_read_csv_errors_name_file_line_and_column(tmp_path, text, columns, message):
    p = _csv(tmp_path, text)
    with pytest.raises(ValueError, match=message) as e:
        read_csv(p, columns)
    assert p in str(e.value)


def test_daily_gaps_allow_weekends_but_not_a_missing_month(tmp_path):
    days = ["2020-01-03", "2020-01-06", "2020-01-07", "2020-02-10"]
    p = _csv(tmp_path, "Date,Close\n" + "".join(f"{d},{i}\n" for i, d in enumerate(days)))
    with pytest.raises(ValueError, match="line 5, column 'Date': a gap of 34 D after 2020-01-07"):
        read_csv(p, "Close")
    assert len(read_csv(p, "Close", max_gap=40).values) == 4


# ---- transforms ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["none", "log", "log1p"])
@pytest.mark.parametrize("detrend", ["none", "diff", "returns", "seasonal"])
@pytest.mark.parametrize("scaler", ["standard", "minmax", "none"])
def test_transforms_round_trip(value, detrend, scaler):
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.uniform(0.5, 1.5, size=(120, 2)), axis=0) + 5.0
    t = Transforms(value, detrend, scaler, target=1, season=4).fit(x[:80])
    origins = np.array([85, 100, 110])
    y = t.targets(x, origins, horizon=9)                     # 9 > season 4: seasonal forecasts build on forecasts
    back = t.invert(y, last=x[origins[:, None] - 4 + np.arange(4)[None, :], 1])
    assert np.allclose(back, x[origins[:, None] + np.arange(9)[None, :], 1], rtol=1e-10)
    z = t.inputs(x)
    assert np.all(np.isfinite(z[t.memory:])) and np.all(np.isnan(z[:t.memory]))
    assert t.memory == {"none": 0, "diff": 1, "returns": 1, "seasonal": 4}[detrend]


def test_transform_statistics_are_the_training_rows_only():
    x = np.arange(1.0, 101.0)[:, None]
    t = Transforms("none", "none", "standard").fit(x[:60])
    assert t.offset[0] == pytest.approx(30.5) and t.scale[0] == pytest.approx(np.std(np.arange(1.0, 61.0)))
    with pytest.raises(ValueError, match="value='log' needs positive values"):
        Transforms("log").fit(np.array([[1.0], [0.0], [2.0]]))


def test_no_leakage_changing_the_test_part_leaves_training_unchanged():
    rng = np.random.default_rng(1)
    base = np.sin(np.arange(300) / 7.0) * 10 + 50 + rng.normal(size=300)
    config = ForecastConfig(column="y", input_width=12, horizon=3, test=60, detrend="diff")
    splits = Splits.of(300, config.test, config.valid_fraction)
    changed = base.copy()
    changed[splits.test_start:] = rng.normal(1000, 300, size=300 - splits.test_start)   # a different future
    out = []
    for series in (base, changed):
        v = series[:, None]
        t = Transforms(config.value, config.detrend, config.scaler).fit(v[:splits.valid_start])
        x, y = training._windows_between(t, v, config, 0, splits.valid_start)
        xv, yv = training._windows_between(t, v, config, splits.valid_start, splits.test_start)
        out.append((t.offset, t.scale, x, y, xv, yv))
    for a, b in zip(*out):
        assert np.array_equal(a, b)


# ---- the networks ---------------------------------------------------------------------------------------------

def _sine_csv(tmp_path, n=360, name="sine.csv"):
    months = np.arange(np.datetime64("1990-01"), np.datetime64("1990-01") + n)
    y = 10.0 + 3.0 * np.sin(2 * np.pi * np.arange(n) / 12.0)
    return _csv(tmp_path, "Month,y\n" + "".join(f"{m},{v:.6f}\n" for m, v in zip(months, y)), name)


@pytest.mark.parametrize("strategy", ["direct", "recursive", "many-to-many", "seq2seq"])
def test_noiseless_sine_learned(tmp_path, strategy):
    path = _sine_csv(tmp_path)
    f, report = forecast.train(f"csv:{path}", column="y", input_width=12, horizon=6, strategy=strategy,
                               model="gru", units=16, epochs=150, patience=150, lr=1e-2, intervals="none",
                               test=48, verbose=0, baselines=False)
    result = report["backtest"]
    assert result["rows"][0]["MAE"] < 0.1, (strategy, result["rows"][0])   # amplitude 3: under 3.5%


def test_intervals_and_baselines_on_a_noisy_series(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    months = np.arange(np.datetime64("1990-01"), np.datetime64("1990-01") + n)
    y = 20 + 5 * np.sin(2 * np.pi * np.arange(n) / 12.0) + rng.normal(0, 1.0, n)
    path = _csv(tmp_path, "Month,y\n" + "".join(f"{m},{v:.6f}\n" for m, v in zip(months, y)))
    f, report = forecast.train(f"csv:{path}", column="y", input_width=24, horizon=3, units=16, epochs=60,
                               patience=10, lr=5e-3, test=100, verbose=0, statistical=False)
    rows = {r["model"]: r for r in report["backtest"]["rows"]}
    assert set(rows) >= {"Naive", "SeasonalNaive", "Drift", "Mean"}
    net = rows["rnnlab direct lstm"]
    assert net["MASE"] < rows["Naive"]["MASE"] and net["MASE"] < rows["Mean"]["MASE"]
    cover = report["backtest"]["coverage"]
    assert abs(cover[0.8]["coverage"] - 0.8) < 0.12 and abs(cover[0.95]["coverage"] - 0.95) < 0.08
    assert all("static_coverage" in c for c in cover.values())


# ---- conformal intervals -----------------------------------------------------------------------------------

def test_conformal_quantile_by_hand():
    s = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert intervals.conformal_quantile(s, 0.5) == 3.0      # ceil(6 * 0.5) = 3rd smallest
    assert intervals.conformal_quantile(s, 0.8) == 5.0      # ceil(6 * 0.8) = 5th
    assert intervals.conformal_quantile(s, 0.99) == 5.0     # past n: the largest
    assert intervals.conformal_quantile([], 0.9) == 0.0


def test_nested_bands():
    bands = {0.95: (np.array([1.0, 0.0]), np.array([2.0, 3.0])), 0.8: (np.array([0.5, 0.5]), np.array([2.5, 1.0]))}
    out = intervals.nested(bands)
    assert out[0.8][0].tolist() == [0.5, 0.5] and out[0.95][0].tolist() == [0.5, 0.0]
    assert out[0.95][1].tolist() == [2.5, 3.0]


def test_adaptive_intervals_use_only_the_past():
    rng = np.random.default_rng(0)
    N, H = 40, 3
    point = rng.normal(size=(N, H))
    y = point + rng.normal(size=(N, H))
    origins = np.arange(100, 100 + N)
    valid = np.abs(rng.normal(size=(30, H)))
    ident = lambda a: np.asarray(a, dtype=np.float64)
    lo, hi, _ = intervals.adaptive(point, None, (0.5,), y, origins, valid, 0.8, ident, ident)
    y2 = y.copy()
    y2[25:] += 100.0                                         # outcomes from origin 125 on change
    lo2, hi2, _ = intervals.adaptive(point, None, (0.5,), y2, origins, valid, 0.8, ident, ident)
    # the forecast at origin o may use targets of rows < o only: row 125 is first seen at origin 126
    assert np.array_equal(lo[:26], lo2[:26]) and np.array_equal(hi[:26], hi2[:26])
    assert not np.array_equal(hi[26:], hi2[26:])


# ---- the pinball loss --------------------------------------------------------------------------------------

def test_pinball_loss_value_and_gradient():
    q = (0.1, 0.5, 0.9)
    loss = losses.Pinball(q)
    y = np.array([[1.0, -2.0]])
    p = np.array([[[0.0, 1.5, 2.0], [-3.0, -2.5, 0.5]]])
    # e = y - p: [[1, -.5, -1], [1, .5, -2.5]] -> max(q e, (q-1) e)
    by_hand = ((0.1 * 1 + 0.5 * 0.5 + 0.1 * 1) / 3 + (0.1 * 1 + 0.5 * 0.5 + 0.1 * 2.5) / 3) / 2
    assert loss.forward(y, p) == pytest.approx(by_hand)
    grad = loss.backward()
    num = numeric_grad(lambda: loss.forward(y, p), p)
    assert np.allclose(grad, num, atol=1e-6)
    with pytest.raises(ValueError, match="has 3 quantiles"):
        loss.forward(y, p[..., :2])
    with pytest.raises(ValueError, match="expected one or more numbers in \\(0, 1\\)"):
        losses.Pinball([0.5, 1.0])


# ---- configuration and input errors ------------------------------------------------------------------------

def test_config_errors():
    with pytest.raises(ValueError, match="needs the column to forecast"):
        ForecastConfig()
    with pytest.raises(ValueError, match="strategy='many-to-one' with horizon=12"):
        ForecastConfig(column="y", strategy="many-to-one")
    with pytest.raises(ValueError, match="feeding forecasts back needs every input column forecast"):
        ForecastConfig(column="Close", inputs="Open,Close", strategy="recursive")
    with pytest.raises(ValueError, match="intervals='80,120'"):
        ForecastConfig(column="y", intervals="80,120")
    assert ForecastConfig(column="y", intervals="95,80").quantile_levels() == (0.025, 0.1, 0.5, 0.9, 0.975)


def test_horizon_longer_than_the_series(tmp_path):
    path = _sine_csv(tmp_path, n=40)
    with pytest.raises(ValueError, match="leave .* windows of input 12 \\+ horizon 30"):
        forecast.train(f"csv:{path}", column="y", input_width=12, horizon=30, verbose=0)


def test_missing_column_named_before_training(tmp_path):
    path = _sine_csv(tmp_path)
    with pytest.raises(ValueError, match="no column named 'Close'"):
        forecast.train(f"csv:{path}", column="Close", verbose=0)


# ---- saving and the command line ---------------------------------------------------------------------------

def test_model_directory_round_trip_and_cli(tmp_path, capsys):
    path = _sine_csv(tmp_path, n=200)
    out = str(tmp_path / "model")
    code = cli.main(["train", "forecast", "--data", f"csv:{path}", "--column", "y", "--input-width", "12",
                     "--horizon", "4", "--units", "8", "--epochs", "5", "--test", "40", "--quiet",
                     "--no-statistical", "--out", out])
    assert code == 0
    printed = capsys.readouterr().out
    assert "rnnlab direct lstm" in printed and "SeasonalNaive" in printed and "80% interval" in printed
    f = forecast.load(out)
    series = read_csv(path, "y")
    a = f.predict(series.values, np.array([150, 160]))
    f2 = forecast.load(out)
    b = f2.predict(series.values, np.array([150, 160]))
    assert np.array_equal(a.point, b.point) and all(np.array_equal(a.intervals[k][0], b.intervals[k][0])
                                                   for k in a.intervals)
    csv_out, png = str(tmp_path / "f.csv"), str(tmp_path / "f.png")
    assert cli.main(["forecast", out, "--steps", "3", "--csv", csv_out, "--plot", png]) == 0
    lines = open(csv_out, encoding="utf-8").read().splitlines()
    assert lines[0].startswith("date,forecast,lower_80%") and lines[1].startswith("2006-09")   # 200 months on
    assert os.path.getsize(png) > 1000
    assert cli.main(["forecast", out, "--steps", "9"]) == 1
    assert "forecasts 1 to 4 steps" in capsys.readouterr().err
    assert cli.main(["evaluate", out, "--no-statistical"]) == 0
    assert "Naive" in capsys.readouterr().out


def test_ensemble_directory_is_one_unit(tmp_path):
    path = _sine_csv(tmp_path, n=200)
    out = str(tmp_path / "ens")
    f, _ = forecast.train(f"csv:{path}", column="y", input_width=12, horizon=3, units=8, epochs=3, test=40,
                          ensemble=2, verbose=0, baselines=False, out=out)
    assert os.path.isfile(os.path.join(out, "members", "1", "model.safetensors"))
    g = forecast.load(out)
    assert len(g.members) == 2
    series = read_csv(path, "y")
    assert np.array_equal(f.predict(series.values, np.array([150])).point,
                          g.predict(series.values, np.array([150])).point)


def test_cli_refuses_a_bad_output_before_reading_data(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = cli.main(["train", "forecast", "--data", "csv:/nonexistent.csv", "--column", "y", "--out", str(blocker)])
    assert code == 1 and "is a file; expected a directory" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists(os.path.join(DATA, "airline-passengers.csv.xz")), reason="no shared data")
def test_shared_series_read():
    s = read_csv(os.path.join(DATA, "airline-passengers.csv.xz"), "Passengers")
    assert s.values.shape == (144, 1) and s.freq == "M" and s.values[0, 0] == 112
    m = read_csv(os.path.join(DATA, "msft.csv.xz"), ["Close", "Volume"], date_column="Date")
    assert m.values.shape == (7983, 2) and m.freq == "D"
