"""Forecast baselines: simple ones by hand, ARIMA/ETS against statsmodels' own fixed-parameter forecasts, errors."""
import sys

import numpy as np
import pytest

from rnnlab.tasks.forecast import baselines as fb


def _ar1(phi=0.7, mean=5.0, n=2000, seed=2024):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 100)
    u = np.zeros(n + 100)
    for t in range(1, n + 100):
        u[t] = phi * u[t - 1] + e[t]
    return mean + u[100:]                       # 100 burn-in steps dropped


def _seasonal(n, m, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 20 + 0.05 * t + 5 * np.sin(2 * np.pi * t / m) + rng.normal(0, 0.4, n)


# ----------------------------------------------------------------------------------------------- simple baselines

def test_naive_seasonal_naive_drift_mean_by_hand():
    assert fb.Naive().fit([3, 1, 4]).forecast([3, 1, 4, 1, 5], 3).tolist() == [5, 5, 5]
    # T = 10, m = 4: h = 1..4 take y_7..y_10 (values 7..10); h = 5..8 again y_7..y_10; h = 9 -> y_7
    y = np.arange(1, 11, dtype=float)
    assert fb.SeasonalNaive(4).forecast(y, 9).tolist() == [7, 8, 9, 10, 7, 8, 9, 10, 7]
    # slope (8 - 2)/(4 - 1) = 2 from 8: 10, 12, 14
    assert fb.Drift().forecast([2, 4, 3, 8], 3).tolist() == [10, 12, 14]
    # (2 + 4 + 3 + 8)/4 = 4.25
    assert fb.Mean().forecast([2, 4, 3, 8], 2).tolist() == [4.25, 4.25]
    out = fb.Naive().forecast([1, 2], 1)
    assert out.shape == (1,) and out.dtype == np.float64


@pytest.mark.parametrize("model", [fb.Naive(), fb.SeasonalNaive(4), fb.Drift(), fb.Mean()], ids=repr)
def test_forecast_origins_equals_the_loop(model):
    y = np.random.default_rng(0).normal(size=40).cumsum()
    origins = list(range(model.min_history, 41, 3)) + [40]
    fast = model.forecast_origins(y, origins, 7)
    loop = np.stack([model.forecast(y[:o], 7) for o in origins])
    assert fast.shape == (len(origins), 7)
    np.testing.assert_allclose(fast, loop, rtol=1e-12, atol=1e-12)
    # the base-class loop gives the same numbers
    np.testing.assert_allclose(fb.Baseline._forecast_origins(model, y, np.asarray(origins), 7), loop, rtol=1e-12)


def test_default_baselines():
    names = [b.name for b in fb.default_baselines(12, include_statistical=False)]
    assert names == ["Naive", "SeasonalNaive", "Drift", "Mean"]
    full = fb.default_baselines(1)
    assert [b.name for b in full] == ["Naive", "Drift", "Mean", "ARIMA", "ETS"]
    assert full[-1].m == 1


@pytest.mark.parametrize("call, match", [
    (lambda: fb.Naive().forecast([1, 2], 0), r"Naive: horizon must be a positive integer \(steps ahead\), got 0"),
    (lambda: fb.Mean().forecast([1, 2], 1.5), r"Mean: horizon must be a positive integer \(steps ahead\), got 1.5"),
    (lambda: fb.SeasonalNaive(12).forecast(np.ones(5), 3), r"SeasonalNaive: history has 5 values but this baseline "
                                                            r"needs at least 12"),
    (lambda: fb.Drift().forecast([3.0], 1), r"Drift: history has 1 values but .* at least 2"),
    (lambda: fb.Naive().forecast([1, np.nan, 3], 2), r"Naive: history contains NaN at 1 of 3 positions \(first at "
                                                      r"index 1\)"),
    (lambda: fb.Naive().fit([[1, 2], [3, 4]]), r"Naive: y_train must be one series of shape \(T,\), got shape"),
    (lambda: fb.Naive().forecast_origins(np.ones(10), [0, 5], 2), r"Naive: origin 0 is outside \[1, 10\]"),
    (lambda: fb.Naive().forecast_origins(np.ones(10), [11], 2), r"origin 11 is outside \[1, 10\]"),
    (lambda: fb.Naive().forecast_origins(np.ones(10), [2.5], 2), r"origins must be a 1-D sequence of integers"),
    (lambda: fb.SeasonalNaive(0), r"SeasonalNaive: m must be a positive integer .* got 0"),
    (lambda: fb.ETS(trend="mul"), r"ETS: trend must be None or 'add', got 'mul'"),
    (lambda: fb.ARIMA(order=(1, 1)), r"ARIMA: order must be \(p, d, q\), got \(1, 1\)"),
    (lambda: fb.ARIMA(seasonal_order=(0, 1, 1)), r"ARIMA: seasonal_order=\(0, 1, 1\) needs a seasonal period"),
])
def test_errors_name_the_baseline_and_what_is_needed(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_statistical_baselines_say_how_to_install_statsmodels(monkeypatch):
    monkeypatch.setitem(sys.modules, "statsmodels", None)          # makes `import statsmodels` fail
    with pytest.raises(ImportError, match=r"ARIMA needs statsmodels.*pip install 'rnnlab\[forecast\]'"):
        fb.ARIMA(order=(1, 0, 0)).fit(np.arange(20.0))
    with pytest.raises(ImportError, match=r"ETS needs statsmodels"):
        fb.ETS().fit(np.arange(20.0))


# ----------------------------------------------------------------------------------------------- ARIMA

def test_arima_chooses_an_ar_order_on_ar1_and_forecasts_phi_y_plus_const():
    pytest.importorskip("statsmodels")
    y = _ar1()
    model = fb.ARIMA(max_p=1, max_q=1).fit(y)        # grid (p, q) in {0, 1}^2
    p, d, q = model.order_
    assert p >= 1 and d == 0
    assert model.order_ == (1, 0, 0)                      # the seed is fixed: AIC picks the true order
    params = dict(zip(model.param_names_, model.params_))
    phi, mu = params["ar.L1"], params["const"]            # statsmodels' "const" is the mean of the AR part
    assert phi == pytest.approx(0.7, abs=0.05)
    # y_{T+1} - mu = phi (y_T - mu)  ->  y_{T+1} = phi y_T + (1 - phi) mu
    assert model.forecast(y, 1)[0] == pytest.approx(phi * y[-1] + (1 - phi) * mu, rel=1e-10)
    two = model.forecast(y, 2)
    assert two[1] == pytest.approx(mu + phi ** 2 * (y[-1] - mu), rel=1e-10)


def test_arima_fixed_parameters_at_later_origins_equal_statsmodels_filter():
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    y = np.cumsum(np.random.default_rng(5).normal(0.3, 1.0, 300))     # a random walk with drift
    model = fb.ARIMA(order=(1, 1, 1), trend="t").fit(y[:200])
    origins = [200, 237, 300]
    fast = model.forecast_origins(y, origins, 6)
    for row, o in zip(fast, origins):
        ref = SMARIMA(y[:o], order=(1, 1, 1), trend="t").filter(model.params_).forecast(6)
        np.testing.assert_allclose(row, ref, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(model.forecast(y[:o], 6), ref, rtol=1e-9, atol=1e-9)


def test_seasonal_arima_on_log_data_equals_statsmodels_filter():
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    y = _seasonal(96, 12)
    model = fb.ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), m=12, log=True).fit(y[:72])
    assert model.label == "ARIMA(0,1,1)(0,1,1)[12] log"
    fast = model.forecast_origins(y, [72, 90], 14)
    for row, o in zip(fast, [72, 90]):
        ref = SMARIMA(np.log(y[:o]), order=(0, 1, 1), seasonal_order=(0, 1, 1, 12), trend="n")
        np.testing.assert_allclose(row, np.exp(ref.filter(model.params_).forecast(14)), rtol=1e-9)


def test_arima_refit_and_errors():
    pytest.importorskip("statsmodels")
    y = _ar1(n=150, seed=1)
    model = fb.ARIMA(order=(1, 0, 0), refit=True).fit(y[:100])
    assert model.forecast_origins(y, [120, 150], 3).shape == (2, 3)
    with pytest.raises(RuntimeError, match=r"ARIMA: not fitted; call fit\(y_train\)"):
        fb.ARIMA(order=(1, 0, 0)).forecast(y, 2)
    with pytest.raises(ValueError, match=r"ARIMA: log=True needs positive values, got a minimum of -1.0"):
        fb.ARIMA(order=(1, 0, 0), log=True).fit(np.r_[y, -1.0])


# ----------------------------------------------------------------------------------------------- ETS

def test_ets_chooses_a_seasonal_model_and_fixed_parameter_forecasts_equal_statsmodels():
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _seasonal(60, 4)
    model = fb.ETS(m=4).fit(y[:48])
    assert model.seasonal_ in ("add", "mul")
    assert model.label.startswith("ETS(A,") and model.label[-2] in "AM"
    origins = [48, 53, 60]
    fast = model.forecast_origins(y, origins, 6)
    for row, o in zip(fast, origins):
        ref = ETSModel(y[:o], error="add", trend=model.trend_, damped_trend=model.damped_, seasonal=model.seasonal_,
                       seasonal_periods=4).smooth(model.params_).forecast(6)
        np.testing.assert_allclose(row, ref, rtol=1e-9)
        np.testing.assert_allclose(model.forecast(y[:o], 6), ref, rtol=1e-9)


def test_ets_damped_multiplicative_forecasts_equal_statsmodels():
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _seasonal(60, 4, seed=8)
    model = fb.ETS(trend="add", damped=True, seasonal="mul", m=4, auto=False).fit(y[:48])
    assert model.label == "ETS(A,Ad,M)"
    fast = model.forecast_origins(y, [48, 60], 9)               # 9 steps: the damping and the season repeat
    for row, o in zip(fast, [48, 60]):
        ref = ETSModel(y[:o], error="add", trend="add", damped_trend=True, seasonal="mul",
                       seasonal_periods=4).smooth(model.params_).forecast(9)
        np.testing.assert_allclose(row, ref, rtol=1e-9)


def test_ets_without_season_and_errors():
    pytest.importorskip("statsmodels")
    y = _ar1(n=120, seed=4)
    model = fb.ETS(auto=False).fit(y[:100])                  # simple exponential smoothing, ETS(A,N,N)
    assert model.label == "ETS(A,N,N)"
    f = model.forecast_origins(y, [100, 120], 3)
    assert np.allclose(f[:, 0:1], f)                          # a flat forecast
    with pytest.raises(RuntimeError, match=r"ETS: not fitted"):
        fb.ETS().forecast(y, 2)
    with pytest.raises(ValueError, match=r"ETS: seasonal='add' needs a seasonal period m >= 2, got m=1"):
        fb.ETS(seasonal="add", auto=False)
