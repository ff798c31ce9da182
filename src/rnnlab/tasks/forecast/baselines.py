"""Forecasting baselines, scored by the same evaluation code as the neural models.

Every baseline has one interface::

    model = Naive().fit(y_train)                    # choose orders/parameters from the training part only
    model.forecast(history, horizon)                # (horizon,) forecast from the end of `history`
    model.forecast_origins(series, origins, horizon)   # (len(origins), horizon): row i = forecast(series[:o_i])

``history`` is the whole series observed up to the forecast origin (1-D; it starts with the training part and
may extend past it). With T = len(history) and y_1..y_T its values (1-based), the h-step forecasts are::

    Naive           ŷ_{T+h} = y_T                                      persistence / random walk
    SeasonalNaive   ŷ_{T+h} = y_{T+h−m(⌊(h−1)/m⌋+1)}                   last observed value of the same season
    Drift           ŷ_{T+h} = y_T + h (y_T − y_1)/(T − 1)              random walk with drift
    Mean            ŷ_{T+h} = 1/T Σ_t y_t
    ARIMA           statsmodels ARIMA / seasonal ARIMA, orders by unit-root tests and AIC (needs statsmodels)
    ETS             statsmodels ETSModel (exponential smoothing), components by AIC (needs statsmodels)

ARIMA and ETS estimate their parameters once, in ``fit``; at later origins the parameters stay fixed and only the
data is extended (``refit=True`` re-estimates at every origin instead, much slower). statsmodels is an optional
dependency (``pip install 'rnnlab[forecast]'``), imported only when ARIMA or ETS is fitted.

Example::

    from rnnlab.tasks.forecast import baselines
    models = [b.fit(y[:n_train]) for b in baselines.default_baselines(m=12)]
    origins = range(n_train, len(y) - 12 + 1)
    preds = {b.name: b.forecast_origins(y, origins, horizon=12) for b in models}
"""
import operator
import warnings

import numpy as np

__all__ = ["Baseline", "Naive", "SeasonalNaive", "Drift", "Mean", "ARIMA", "ETS", "default_baselines"]

_INSTALL = "pip install 'rnnlab[forecast]'"


def _statsmodels(what):
    """Import statsmodels lazily, with a message saying how to install it."""
    try:
        import statsmodels  # noqa: F401
    except ImportError as e:
        raise ImportError(f"{what} needs statsmodels, an optional dependency: {_INSTALL}") from e


# ----------------------------------------------------------------------------------------------- base class

def _positive_int(value, what, meaning):
    """``value`` as an int >= 1, or a ValueError ``"{what} must be a positive integer ({meaning}), got ..."``."""
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{what} must be a positive integer ({meaning}), got {value!r}") from None
    if n < 1:
        raise ValueError(f"{what} must be a positive integer ({meaning}), got {n}")
    return n


class Baseline:
    """Base class: input checks, ``fit`` (returns self) and the ``forecast_origins`` loop.

    Subclasses implement ``_forecast(history, horizon)`` (inputs already checked) and may override ``_fit`` and
    ``_forecast_origins`` (a faster version of the loop). ``min_history`` is the shortest history a forecast needs.
    """

    name = "baseline"
    min_history = 1

    def fit(self, y_train):
        """Choose orders/parameters from the training part ``y_train`` (T,) only; returns self."""
        y = self._series(y_train, "y_train")
        self._fit(y)
        return self

    def forecast(self, history, horizon):
        """The h = 1..horizon step forecasts from the end of ``history`` (1-D): a (horizon,) float64 array."""
        y = self._series(history, "history")
        horizon = self._horizon(horizon)
        return np.asarray(self._forecast(y, horizon), dtype=np.float64)

    def forecast_origins(self, series, origins, horizon):
        """Forecasts from several origins of one series: (len(origins), horizon) float64.

        Row i is ``forecast(series[:origins[i]], horizon)``: the origin o is the number of values observed, so the
        row forecasts series[o], series[o+1], ... (0-based). Origins may run up to len(series).
        """
        y = self._series(series, "series")
        horizon = self._horizon(horizon)
        origins = self._origins(origins, len(y))
        if origins.size == 0:
            return np.empty((0, horizon))
        return np.asarray(self._forecast_origins(y, origins, horizon), dtype=np.float64)

    # -- hooks
    def _fit(self, y):
        pass

    def _forecast(self, y, horizon):
        raise NotImplementedError

    def _forecast_origins(self, y, origins, horizon):
        return np.stack([self._forecast(y[:o], horizon) for o in origins])

    # -- checks
    def _series(self, x, what):
        try:
            y = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: {what} must be a 1-D array of numbers, got {type(x).__name__}") from None
        if y.ndim != 1:
            y = np.squeeze(y)
            if y.ndim != 1:
                raise ValueError(f"{self.name}: {what} must be one series of shape (T,), got shape {np.shape(x)}; "
                                 "forecast one series at a time")
        nan = np.isnan(y)
        if nan.any():
            raise ValueError(f"{self.name}: {what} contains NaN at {int(nan.sum())} of {y.size} positions (first at "
                             f"index {int(np.argmax(nan))}); fill or drop missing values first")
        if y.size < self.min_history:
            raise ValueError(f"{self.name}: {what} has {y.size} values but this baseline needs at least "
                             f"{self.min_history}; pass a longer series")
        return y

    def _horizon(self, horizon):
        return _positive_int(horizon, f"{self.name}: horizon", "steps ahead")

    def _origins(self, origins, n):
        o = np.asarray(origins)
        if o.ndim != 1 or (o.size and not np.issubdtype(o.dtype, np.integer)):
            raise ValueError(f"{self.name}: origins must be a 1-D sequence of integers (numbers of observed "
                             f"values), got {o.dtype} array of shape {o.shape}")
        bad = (o < self.min_history) | (o > n)
        if bad.any():
            raise ValueError(f"{self.name}: origin {int(o[bad][0])} is outside [{self.min_history}, {n}]: an origin "
                             f"counts the observed values, at least {self.min_history} for this baseline and at "
                             f"most len(series)={n}")
        return o.astype(np.int64)

    def __repr__(self):
        return f"{type(self).__name__}()"


# ----------------------------------------------------------------------------------------------- simple baselines

class Naive(Baseline):
    """Persistence (random walk):  ŷ_{T+h} = y_T.

    Example: ``Naive().forecast([1, 2, 5], 2) -> [5., 5.]``.
    """

    name = "Naive"

    def _forecast(self, y, horizon):
        return np.full(horizon, y[-1])

    def _forecast_origins(self, y, origins, horizon):
        return np.repeat(y[origins - 1][:, None], horizon, axis=1)


class SeasonalNaive(Baseline):
    """Seasonal naive: the last observed value of the same season,  ŷ_{T+h} = y_{T+h−m(⌊(h−1)/m⌋+1)}.

    Args:
        m: seasonal period (e.g. 12 for monthly data); the history needs at least m values.

    Example: ``SeasonalNaive(3).forecast([1, 2, 3, 4, 5, 6], 4) -> [4., 5., 6., 4.]``.
    """

    name = "SeasonalNaive"

    def __init__(self, m):
        m = _positive_int(m, "SeasonalNaive: m", "the seasonal period")
        self.m = m
        self.min_history = m

    def _lags(self, horizon):
        """0-based offsets from T: index T + h − m(⌊(h−1)/m⌋+1) − 1 for h = 1..horizon, all in [−m, −1]."""
        h = np.arange(1, horizon + 1)
        return h - self.m * ((h - 1) // self.m + 1) - 1

    def _forecast(self, y, horizon):
        return y[len(y) + self._lags(horizon)]

    def _forecast_origins(self, y, origins, horizon):
        return y[origins[:, None] + self._lags(horizon)[None, :]]

    def __repr__(self):
        return f"SeasonalNaive(m={self.m})"


class Drift(Baseline):
    """Random walk with drift: the line through the first and last values, extended,

        ŷ_{T+h} = y_T + h (y_T − y_1) / (T − 1)

    computed over the given history (at least 2 values).

    Example: ``Drift().forecast([1, 2, 5], 2) -> [7., 9.]``  (slope (5 − 1)/2 = 2).
    """

    name = "Drift"
    min_history = 2

    def _forecast(self, y, horizon):
        slope = (y[-1] - y[0]) / (len(y) - 1)
        return y[-1] + slope * np.arange(1, horizon + 1)

    def _forecast_origins(self, y, origins, horizon):
        last = y[origins - 1]
        slope = (last - y[0]) / (origins - 1)
        return last[:, None] + slope[:, None] * np.arange(1, horizon + 1)[None, :]


class Mean(Baseline):
    """The mean of the whole history:  ŷ_{T+h} = 1/T Σ_{t=1..T} y_t.

    Example: ``Mean().forecast([1, 2, 6], 2) -> [3., 3.]``.
    """

    name = "Mean"

    def _forecast(self, y, horizon):
        return np.full(horizon, y.mean())

    def _forecast_origins(self, y, origins, horizon):
        means = np.cumsum(y)[origins - 1] / origins
        return np.repeat(means[:, None], horizon, axis=1)


# ----------------------------------------------------------------------------------------------- ARIMA

def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with statsmodels' convergence/interpolation/frequency warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _kpss_ndiffs(y, max_d, alpha=0.05):
    """Number of differences d ≤ max_d: difference while the KPSS test (H0: level-stationary) rejects at alpha."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(y) > 10 and np.ptp(y) > 0:
        p_value = _quiet(kpss, y, regression="c", nlags="auto")[1]
        if p_value >= alpha:
            break
        y, d = np.diff(y), d + 1
    return d


def _seasonal_strength(y, m):
    """Seasonal strength F_s = max(0, 1 − Var(R)/Var(S + R)) from an STL decomposition (Wang, Smith & Hyndman 2006)."""
    from statsmodels.tsa.seasonal import STL

    res = _quiet(STL(y, period=m, robust=True).fit)
    r, s = np.asarray(res.resid), np.asarray(res.seasonal)
    var_sr = np.var(s + r)
    return 0.0 if var_sr == 0 else max(0.0, 1.0 - np.var(r) / var_sr)


class ARIMA(Baseline):
    """(Seasonal) ARIMA(p, d, q)(P, D, Q)_m with statsmodels, orders chosen on the training part.

        φ(B) Φ(B^m) (1 − B)^d (1 − B^m)^D y_t = c + θ(B) Θ(B^m) ε_t

    Order selection in ``fit`` when ``order`` is None (training part only):

    1. D (seasonal differences, m > 1 and ``seasonal_order`` None): 1 if the STL seasonal strength F_s > 0.64
       (the rule of Hyndman's ``auto.arima``), else 0;
    2. d ≤ max_d: difference while the KPSS test rejects level-stationarity at 5% (repeated KPSS, as
       ``auto.arima``); a constant is included when d + D = 0;
    3. (p, q) ∈ {0..max_p} × {0..max_q} by AIC (``statsmodels.tsa.arima.model.ARIMA`` MLE), with the seasonal
       part (0, D, 0);
    4. m > 1: seasonal (P, Q) ∈ {0, 1}² by AIC with the chosen (p, d, q); when d + D = 1, a drift term is kept
       if it lowers the AIC.

    Forecasting policy: the parameters estimated in ``fit`` are kept fixed; at each origin the Kalman filter is
    run with them over the history (``ARIMA(history, ...).filter(params).forecast(h)``). ``forecast_origins``
    filters the whole series once and projects each origin's predicted state h steps ahead, which gives the
    same numbers in one pass. ``refit=True`` re-estimates the parameters (same orders) at every origin instead
    (keeping the fitted ones where that estimation fails).

    Args:
        order: (p, d, q), or None to choose it.
        seasonal_order: (P, D, Q) or (P, D, Q, m), or None: chosen as above when ``order`` is None and m > 1,
            no seasonal part otherwise.
        m: seasonal period (1: non-seasonal).
        max_p, max_d, max_q: bounds of the order search.
        refit: re-estimate at every origin (slow) instead of fixed parameters.
        log: model log(y) and forecast exp(·) (the median on the original scale); needs y > 0.
        trend: statsmodels trend ("n", "c", "t", ...) with an explicit ``order``; None: a constant when
            d + D = 0, none otherwise.

    Attributes after fit: ``order_``, ``seasonal_order_`` (P, D, Q, m), ``trend_``, ``params_`` (named by
    ``param_names_``; with a constant, "const" is the mean of the ARMA part), ``aic_``, ``label`` (e.g.
    "ARIMA(2,1,1)(0,1,1)[12]").

    Example (the airline model on log data)::

        ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), m=12, log=True).fit(y_train).forecast(y_train, 12)
    """

    name = "ARIMA"

    def __init__(self, order=None, seasonal_order=None, m=1, max_p=3, max_d=2, max_q=3, refit=False, log=False,
                 trend=None):
        self.order, self.m = order, int(m)
        self.seasonal_order = seasonal_order
        self.max_p, self.max_d, self.max_q = max_p, max_d, max_q
        self.refit, self.log, self.trend = refit, log, trend
        if self.m < 1:
            raise ValueError(f"ARIMA: m must be a positive integer (the seasonal period, 1 for none), got {m!r}")
        if order is not None and len(order) != 3:
            raise ValueError(f"ARIMA: order must be (p, d, q), got {order!r}")
        if seasonal_order is not None and len(seasonal_order) not in (3, 4):
            raise ValueError(f"ARIMA: seasonal_order must be (P, D, Q) or (P, D, Q, m), got {seasonal_order!r}")
        if seasonal_order is not None and len(seasonal_order) == 3 and any(seasonal_order) and self.m < 2:
            raise ValueError(f"ARIMA: seasonal_order={tuple(seasonal_order)} needs a seasonal period: pass m >= 2 "
                             "(e.g. m=12 for monthly data) or seasonal_order=(P, D, Q, m)")
        self.params_ = None

    # -- fitting
    def _model(self, y, order, seasonal_order, trend):
        from statsmodels.tsa.arima.model import ARIMA as _SM

        return _SM(y, order=order, seasonal_order=seasonal_order, trend=trend)

    def _estimate(self, y, order, seasonal_order, trend):
        """Fitted statsmodels results, or None when the fit fails or the AIC is not finite.

        Exact Gaussian MLE by the innovations algorithm (``method="innovations_mle"``, several times faster than the
        default state-space optimizer), falling back to the state-space MLE; the covariance of the estimates is
        not computed (only the parameters and the AIC are used).
        """
        model = self._model(y, order, seasonal_order, trend)
        for method in ("innovations_mle", "statespace"):
            try:
                res = _quiet(model.fit, method=method, cov_type="none")
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(res.aic) and np.all(np.isfinite(res.params)):
                return res
        return None

    def _seasonal(self):
        so = self.seasonal_order
        if so is None:
            return None
        return tuple(int(v) for v in so[:3]) + (int(so[3]) if len(so) == 4 else self.m,)

    def _fit(self, y):
        _statsmodels("ARIMA")
        z = self._transform(y)
        so = self._seasonal()
        if self.order is not None:
            order = tuple(int(v) for v in self.order)
            so = so or (0, 0, 0, 0)
            trend = self.trend or ("c" if order[1] + so[1] == 0 else "n")
            res = self._estimate(z, order, so, trend)
            if res is None:
                raise ValueError(f"ARIMA: estimating ARIMA{order}{so} on {len(z)} training values failed; "
                                 "try other orders or a longer training part")
        else:
            res, order, so, trend = self._select(z, so)
        self.order_, self.seasonal_order_, self.trend_ = order, so, trend
        self.params_, self.aic_ = np.asarray(res.params), float(res.aic)
        self.param_names_ = list(res.model.param_names)

    def _select(self, z, so):
        """Steps 1–4 of the class docstring: returns (results, order, seasonal_order, trend)."""
        m = self.m
        if so is None:
            big_d = int(m > 1 and len(z) >= 3 * m and _seasonal_strength(z, m) > 0.64)
            so = (0, big_d, 0, m if m > 1 else 0)
            search_seasonal = m > 1
        else:
            search_seasonal = False
        zd = z[m * so[1]:] - z[:len(z) - m * so[1]] if so[1] else z
        d = _kpss_ndiffs(zd, self.max_d)
        trend = "c" if d + so[1] == 0 else "n"
        fits = {}
        for p in range(self.max_p + 1):
            for q in range(self.max_q + 1):
                fits[(p, d, q), so, trend] = self._estimate(z, (p, d, q), so, trend)
        if search_seasonal:
            order = self._best(fits, len(z))[0]
            for big_p in (0, 1):
                for big_q in (0, 1):
                    s2 = (big_p, so[1], big_q, m)
                    if (order, s2, trend) not in fits:
                        fits[order, s2, trend] = self._estimate(z, order, s2, trend)
        if d + so[1] == 1:
            order, s2, _ = self._best(fits, len(z))
            fits[order, s2, "t"] = self._estimate(z, order, s2, "t")
        best = self._best(fits, len(z))
        return (fits[best],) + best

    @staticmethod
    def _best(fits, n):
        """The key (order, seasonal_order, trend) of the lowest AIC among the fits that succeeded."""
        ok = [k for k in fits if fits[k] is not None]
        if not ok:
            raise ValueError(f"ARIMA: no candidate order could be estimated on {n} training values; "
                             "pass order=(p, d, q) explicitly or a longer training part")
        return min(ok, key=lambda k: fits[k].aic)

    @property
    def label(self):
        """E.g. "ARIMA(2,1,1)" or "ARIMA(0,1,1)(0,1,1)[12]" once fitted; "ARIMA" before."""
        if self.params_ is None:
            return self.name
        p, d, q = self.order_
        text = f"ARIMA({p},{d},{q})"
        if any(self.seasonal_order_[:3]):
            big_p, big_d, big_q, m = self.seasonal_order_
            text += f"({big_p},{big_d},{big_q})[{m}]"
        return text + (" log" if self.log else "") + (" +drift" if self.trend_ == "t" else "")

    # -- forecasting
    def _transform(self, y):
        if not self.log:
            return y
        if np.any(y <= 0):
            raise ValueError(f"ARIMA: log=True needs positive values, got a minimum of {y.min()}; "
                             "use log=False for data with zeros or negatives")
        return np.log(y)

    def _untransform(self, f):
        return np.exp(f) if self.log else f

    def _check_fitted(self):
        if self.params_ is None:
            raise RuntimeError(f"{self.name}: not fitted; call fit(y_train) before forecasting")

    def _forecast(self, y, horizon):
        self._check_fitted()
        z = self._transform(y)
        res = self._estimate(z, self.order_, self.seasonal_order_, self.trend_) if self.refit else None
        if res is None:                             # fixed parameters (or a refit that failed)
            res = _quiet(self._model(z, self.order_, self.seasonal_order_, self.trend_).filter, self.params_)
        return self._untransform(np.asarray(res.forecast(horizon)))

    def _forecast_origins(self, y, origins, horizon):
        self._check_fitted()
        if self.refit:
            return super()._forecast_origins(y, origins, horizon)
        z = self._transform(y)
        padded = np.concatenate([z, np.full(horizon, np.nan)])       # missing values: the filter just predicts
        mod = self._model(padded, self.order_, self.seasonal_order_, self.trend_)
        res = _quiet(mod.filter, self.params_)
        return self._untransform(_project(mod.ssm, res.filter_results.predicted_state, origins, horizon))


def _project(ssm, predicted_state, origins, horizon):
    """h-step forecasts from many origins of a linear Gaussian state-space model with fixed matrices.

    With a_o = E[α_o | y_0..y_{o−1}] (the filter's predicted state, column o of ``predicted_state``), the forecasts
    of y_{o+j}, j = 0..horizon−1, given the data before o are

        ŷ_{o+j} = d_{o+j} + Z_{o+j} a,    a ← T_{o+j} a + c_{o+j}

    with design Z, observation intercept d, transition T and state intercept c (time-varying or not). All origins
    are projected together: (len(origins), horizon).
    """
    def at(mat, t):                                 # (..., nobs or 1) -> (len(t), ...)
        return np.moveaxis(mat[..., t if mat.shape[-1] > 1 else np.zeros_like(t)], -1, 0)

    a = predicted_state[:, origins].T[:, :, None]     # (n, k, 1)
    out = np.empty((len(origins), horizon))
    for j in range(horizon):
        t = origins + j
        out[:, j] = at(ssm.obs_intercept, t)[:, 0] + (at(ssm.design, t) @ a)[:, 0, 0]
        a = at(ssm.transition, t) @ a + at(ssm.state_intercept, t)[:, :, None]
    return out


# ----------------------------------------------------------------------------------------------- ETS

class ETS(Baseline):
    """Exponential smoothing (ETS, additive errors) with statsmodels ``ETSModel``.

    State equations for additive trend (damping φ, φ = 1 undamped) and seasonality of period m::

        ŷ_{t|t−1} = l_{t−1} + φ b_{t−1} + s_{t−m}           (× s_{t−m} for multiplicative seasonality)
        forecast  ŷ_{T+h} = l_T + (φ + φ² + … + φ^h) b_T + s_{T+h−m(⌊(h−1)/m⌋+1)}   (or × s)

    With ``auto=True`` ``fit`` chooses the components by AIC on the training part among trend ∈ {none,
    additive, additive damped} × seasonal ∈ {none, additive, multiplicative (positive data only)} (seasonal only
    when m > 1 and at least 2m training values); the ``trend``, ``damped`` and ``seasonal`` arguments are then
    ignored. With ``auto=False`` they are used as given.

    Forecasting policy: the parameters (smoothing weights, damping and initial states) estimated in ``fit`` are
    kept fixed; at later origins the states are updated through the extra data
    (``ETSModel(history, ...).smooth(params).forecast(h)``). ``forecast_origins`` smooths the whole series once and
    forecasts from each origin's states with the formula above. ``refit=True`` re-estimates at every origin.

    Args:
        trend: None or "add".
        damped: damp the additive trend.
        seasonal: None, "add" or "mul".
        m: seasonal period (1: none).
        auto: choose trend/damping/seasonality by AIC.
        refit: re-estimate at every origin (slow) instead of fixed parameters.

    Attributes after fit: ``trend_``, ``damped_``, ``seasonal_``, ``params_`` (named by ``param_names_``),
    ``aic_``, ``label`` (e.g. "ETS(A,Ad,A)").

    Example::

        ETS(m=12).fit(y_train).forecast(y_train, 12)
    """

    name = "ETS"

    def __init__(self, trend=None, damped=False, seasonal=None, m=1, auto=True, refit=False):
        if trend not in (None, "add"):
            raise ValueError(f"ETS: trend must be None or 'add', got {trend!r}")
        if seasonal not in (None, "add", "mul"):
            raise ValueError(f"ETS: seasonal must be None, 'add' or 'mul', got {seasonal!r}")
        if int(m) < 1:
            raise ValueError(f"ETS: m must be a positive integer (the seasonal period, 1 for none), got {m!r}")
        if not auto and seasonal is not None and int(m) < 2:
            raise ValueError(f"ETS: seasonal={seasonal!r} needs a seasonal period m >= 2, got m={m}")
        self.trend, self.damped, self.seasonal, self.m = trend, bool(damped), seasonal, int(m)
        self.auto, self.refit = auto, refit
        self.params_ = None

    def _model(self, y, trend, damped, seasonal):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        return ETSModel(y, error="add", trend=trend, damped_trend=damped, seasonal=seasonal,
                        seasonal_periods=self.m if seasonal else None)

    def _candidates(self, y):
        if not self.auto:
            return [(self.trend, self.damped and self.trend is not None, self.seasonal)]
        seasons = [None]
        if self.m > 1 and len(y) >= 2 * self.m:
            seasons += ["add"] + (["mul"] if np.all(y > 0) else [])
        return [(t, dmp, s) for s in seasons for t, dmp in ((None, False), ("add", False), ("add", True))]

    def _fit(self, y):
        _statsmodels("ETS")
        best, fails = None, []
        for trend, damped, seasonal in self._candidates(y):
            try:
                res = _quiet(self._model(y, trend, damped, seasonal).fit, disp=False)
            except (ValueError, np.linalg.LinAlgError) as e:
                fails.append(f"{(trend, damped, seasonal)}: {e}")
                continue
            if np.isfinite(res.aic) and (best is None or res.aic < best[0].aic):
                best = (res, trend, damped, seasonal)
        if best is None:
            raise ValueError(f"ETS: no model could be estimated on {len(y)} training values ({'; '.join(fails)}); "
                             "pass a longer training part or other components")
        res, self.trend_, self.damped_, self.seasonal_ = best
        self.params_, self.aic_ = np.asarray(res.params), float(res.aic)
        self.param_names_ = list(res.model.param_names)
        self.min_history = self.m if self.seasonal_ else 1

    @property
    def label(self):
        """E.g. "ETS(A,Ad,M)" (error, trend, season) once fitted; "ETS" before."""
        if self.params_ is None:
            return self.name
        trend = "N" if self.trend_ is None else ("Ad" if self.damped_ else "A")
        season = {None: "N", "add": "A", "mul": "M"}[self.seasonal_]
        return f"ETS(A,{trend},{season})"

    def _check_fitted(self):
        if self.params_ is None:
            raise RuntimeError(f"{self.name}: not fitted; call fit(y_train) before forecasting")

    def _forecast(self, y, horizon):
        self._check_fitted()
        mod = self._model(y, self.trend_, self.damped_, self.seasonal_)
        if self.refit:
            res = _quiet(mod.fit, start_params=self.params_, disp=False)
        else:
            res = _quiet(mod.smooth, self.params_)
        return np.asarray(res.forecast(horizon))

    def _forecast_origins(self, y, origins, horizon):
        self._check_fitted()
        if self.refit:
            return super()._forecast_origins(y, origins, horizon)
        res = _quiet(self._model(y, self.trend_, self.damped_, self.seasonal_).smooth, self.params_)
        states = np.asarray(res.states)                # row t: states after observing y[t] (0-based)
        last = states[origins - 1]
        h = np.arange(1, horizon + 1)
        base = last[:, :1]
        if self.trend_:
            phi = float(res.phi) if self.damped_ else 1.0
            steps = np.cumsum(phi ** h) if self.damped_ else h.astype(np.float64)
            base = base + steps[None, :] * last[:, 1:2]
        else:
            base = np.repeat(base, horizon, axis=1)
        if not self.seasonal_:
            return base
        rows = origins[:, None] + (h - self.m * ((h - 1) // self.m + 1) - 1)[None, :]
        season = states[rows, -1]
        return base + season if self.seasonal_ == "add" else base * season


# ----------------------------------------------------------------------------------------------- defaults

def default_baselines(m, include_statistical=True):
    """The standard set: Naive, SeasonalNaive(m) (when m > 1), Drift, Mean, and ARIMA(m=m), ETS(m=m).

    Args:
        m: seasonal period of the data (1 for none).
        include_statistical: include ARIMA and ETS (which need statsmodels).

    Returns:
        list of unfitted baselines; call ``fit(y_train)`` on each.

    Example: ``[b.name for b in default_baselines(12, include_statistical=False)]`` ->
    ``["Naive", "SeasonalNaive", "Drift", "Mean"]``.
    """
    models = [Naive()] + ([SeasonalNaive(m)] if m > 1 else []) + [Drift(), Mean()]
    if include_statistical:
        models += [ARIMA(m=m), ETS(m=m)]
    return models
