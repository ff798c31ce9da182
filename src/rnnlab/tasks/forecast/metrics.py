"""Forecast accuracy metrics, pure NumPy.

Point forecasts (``y`` the truth, ``ŷ`` the forecast, n values after flattening)::

    mae          1/n Σ |ŷ − y|
    rmse         sqrt(1/n Σ (ŷ − y)²)
    smape        100/n Σ 2|ŷ − y| / (|y| + |ŷ|)          percent in [0, 200]; a 0/0 term counts 0
    mase         mae(y, ŷ) / scale,  scale = mase_scale(y_train, m) = 1/(T−m) Σ_{t>m} |y_t − y_{t−m}|

Forecast direction, intervals and quantiles::

    direction_accuracy   share of origins where sign(ŷ − y_last) == sign(y − y_last), with a binomial test
    coverage             1/n Σ [lower ≤ y ≤ upper]
    interval_width       1/n Σ (upper − lower)
    pinball              1/n Σ max(q (y − ŷ_q), (q − 1)(y − ŷ_q))

Every metric takes arrays of any matching shape, e.g. (N,) for N one-step forecasts or (N, H) for N forecast
origins × H horizon steps, and flattens them: the value is the mean over all N·H forecasts. Shapes that differ
only by axes of length 1 ((N,) and (N, 1)) are accepted. NaN anywhere raises ``ValueError``; so does a shape
mismatch, which would otherwise broadcast (N,) against (N, 1) into an (N, N) error matrix.

Example::

    from rnnlab.tasks.forecast import metrics
    rows = metrics.metric_table(y_test, {"naive": naive_pred, "lstm": lstm_pred}, y_train=y_train, m=12)
    print(metrics.format_table(rows))
"""
import math
import operator
from typing import NamedTuple

import numpy as np

__all__ = [
    "mae", "rmse", "smape", "mase_scale", "mase", "binomial_test", "Direction", "direction_accuracy",
    "coverage", "interval_width", "pinball", "metric_table", "format_table",
]


# ----------------------------------------------------------------------------------------------- input checks

def _array(name, x, func):
    """``x`` as a float64 array; ValueError naming ``func`` and ``name`` if it is empty, non-numeric or has NaN."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{func}: {name} must be numeric (an array of numbers), got {type(x).__name__}: {e}") from None
    if a.size == 0:
        raise ValueError(f"{func}: {name} is empty (shape {a.shape}); pass at least one value")
    bad = np.isnan(a)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{func}: {name} contains NaN at {int(bad.sum())} of {a.size} positions (first at index "
                         f"{first}, shape {a.shape}); drop or fill missing values before scoring")
    return a


def _same_shape(func, **arrays):
    """Check that all named arrays have one shape (up to length-1 axes); return them flattened, in order."""
    (name0, a0), *rest = arrays.items()
    for name, a in rest:
        if a.shape != a0.shape and np.squeeze(a).shape != np.squeeze(a0).shape:
            raise ValueError(f"{func}: {name} has shape {a.shape} but {name0} has shape {a0.shape}; they must "
                             f"match (one value per forecast), e.g. reshape with {name}.reshape({name0}.shape)")
    return [a.ravel() for a in arrays.values()]


def _pair(func, y_true, y_pred, pred_name="y_pred"):
    t = _array("y_true", y_true, func)
    p = _array(pred_name, y_pred, func)
    return _same_shape(func, y_true=t, **{pred_name: p})


def _season(func, m):
    try:
        m = operator.index(m)
    except TypeError:
        raise ValueError(f"{func}: m must be a positive integer (the seasonal period, 1 for none), "
                         f"got {m!r}") from None
    if m < 1:
        raise ValueError(f"{func}: m must be a positive integer (the seasonal period, 1 for none), got {m}")
    return m


# ----------------------------------------------------------------------------------------------- point errors

def mae(y_true, y_pred):
    """Mean absolute error  MAE = 1/n Σ |ŷ_i − y_i|.

    Args:
        y_true, y_pred: arrays of one shape, e.g. (N,) or (N, H); flattened.

    Example: ``mae([1, 2, 3], [2, 2, 5]) == 1.0``  ((1 + 0 + 2) / 3).
    """
    y, p = _pair("mae", y_true, y_pred)
    return float(np.mean(np.abs(p - y)))


def rmse(y_true, y_pred):
    """Root mean squared error  RMSE = sqrt(1/n Σ (ŷ_i − y_i)²).

    Args:
        y_true, y_pred: arrays of one shape, e.g. (N,) or (N, H); flattened.

    Example: ``rmse([0, 0], [3, 4]) == sqrt(12.5)``.
    """
    y, p = _pair("rmse", y_true, y_pred)
    return float(np.sqrt(np.mean((p - y) ** 2)))


def smape(y_true, y_pred):
    """Symmetric mean absolute percentage error, in percent:

        sMAPE = 100/n Σ 2|ŷ_i − y_i| / (|y_i| + |ŷ_i|)        ∈ [0, 200]

    A term with |y_i| + |ŷ_i| = 0 (both exactly 0, a perfect forecast) counts 0.

    Args:
        y_true, y_pred: arrays of one shape, e.g. (N,) or (N, H); flattened.

    Example: ``smape([100, 0], [110, 0]) == 100/2 * (20/210 + 0) ≈ 4.76``.
    """
    y, p = _pair("smape", y_true, y_pred)
    num = 2.0 * np.abs(p - y)
    den = np.abs(y) + np.abs(p)
    terms = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(100.0 * np.mean(terms))


def mase_scale(y_train, m=1):
    """In-sample MAE of the seasonal-naive forecast on the training part (Hyndman & Koehler 2006):

        scale = 1/(T − m) Σ_{t=m+1..T} |y_t − y_{t−m}|

    m = 1 gives the one-step naive (random-walk) MAE.

    Args:
        y_train: (T,) training series (length-1 axes are dropped), T > m.
        m: seasonal period (1 for non-seasonal data).

    Raises:
        ValueError: T ≤ m, or the scale is 0 (a series constant at lag m), where MASE is undefined.

    Example: ``mase_scale([1, 3, 2, 5]) == (2 + 1 + 3) / 3 == 2.0``.
    """
    m = _season("mase_scale", m)
    y = _array("y_train", y_train, "mase_scale")
    y = np.squeeze(y) if y.ndim > 1 else y
    if y.ndim != 1:
        raise ValueError(f"mase_scale: y_train must be one series of shape (T,), got shape {np.shape(y_train)}")
    if y.size <= m:
        raise ValueError(f"mase_scale: y_train has {y.size} values but m={m} needs more than m (at least {m + 1}) "
                         "to form one lag-m difference; pass a longer training part or a smaller m")
    scale = float(np.mean(np.abs(y[m:] - y[:-m])))
    if scale == 0.0:
        raise ValueError(f"mase_scale: y_train is constant at lag m={m} (every |y_t - y_(t-m)| is 0), so the "
                         "scale is 0 and MASE is undefined; report MAE instead or use another m")
    return scale


def mase(y_true, y_pred, y_train=None, m=1, scale=None):
    """Mean absolute scaled error  MASE = MAE(y, ŷ) / scale.

    ``scale`` is ``mase_scale(y_train, m)``, the in-sample seasonal-naive MAE; pass either ``y_train`` (and ``m``)
    or a precomputed ``scale``. MASE < 1: better than the in-sample seasonal-naive forecast.

    Args:
        y_true, y_pred: arrays of one shape, e.g. (N,) or (N, H); flattened.
        y_train: (T,) training series, used for the scale.
        m: seasonal period for the scale.
        scale: a positive number, instead of ``y_train``.

    Example: ``mase([3, 4], [4, 4], y_train=[1, 3, 2, 5]) == 0.5 / 2.0 == 0.25``.
    """
    if (y_train is None) == (scale is None):
        raise ValueError("mase: pass exactly one of y_train (the training series, for the scale) or scale "
                         f"(a positive number); got y_train={'None' if y_train is None else 'an array'}, "
                         f"scale={scale!r}")
    if scale is None:
        scale = mase_scale(y_train, m)
    elif not (isinstance(scale, (int, float, np.number)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"mase: scale must be a positive finite number, got {scale!r}")
    y, p = _pair("mase", y_true, y_pred)
    return float(np.mean(np.abs(p - y)) / scale)


# ----------------------------------------------------------------------------------------------- direction

def _log_binom_pmf(n, p):
    """log P(X = i) for i = 0..n, X ~ Binomial(n, p), 0 < p < 1, from log-gamma values."""
    lg = np.array([math.lgamma(i + 1.0) for i in range(n + 1)])
    i = np.arange(n + 1, dtype=np.float64)
    return lg[n] - lg - lg[::-1] + i * math.log(p) + (n - i) * math.log1p(-p)


def binomial_test(k, n, p=0.5):
    """Exact two-sided binomial test: the p-value of k successes in n trials under success probability p.

        p-value = Σ_{i : P(i) ≤ P(k)·(1 + 1e-7)} P(i),     P(i) = C(n, i) p^i (1 − p)^(n−i)

    the total probability of all outcomes no more likely than the observed one; the relative tolerance 1e-7
    counts outcomes tied with k up to rounding. This is the definition of ``scipy.stats.binomtest(k, n,
    p).pvalue``: on the observed side of the mean n·p every outcome at least as far out as k counts, on the
    other side those whose probability is within the tolerance of P(k). Computed in log space with
    ``math.lgamma``, so n up to ~10^6 is fine.

    Args:
        k: successes, 0 ≤ k ≤ n.
        n: trials, n ≥ 1.
        p: success probability under the null, 0 ≤ p ≤ 1.

    Returns:
        float p-value in [0, 1].

    Example: ``binomial_test(9, 10) == 22/1024 ≈ 0.0215``  (P(0) + P(1) + P(9) + P(10) = (1+10+10+1)/2^10).
    """
    try:
        k, n = operator.index(k), operator.index(n)
    except TypeError:
        raise ValueError(f"binomial_test: k and n must be integers, got k={k!r}, n={n!r}") from None
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"binomial_test: need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    if not (isinstance(p, (int, float, np.number)) and 0.0 <= p <= 1.0):
        raise ValueError(f"binomial_test: p must be a probability in [0, 1], got {p!r}")
    if p == 0.0 or p == 1.0:                        # all mass on one outcome
        return 1.0 if k == round(p * n) else 0.0
    mean = p * n
    if k == mean:
        return 1.0
    logpmf = _log_binom_pmf(n, p)
    limit = logpmf[k] + math.log1p(1e-7)
    i = np.arange(n + 1)
    if k < mean:
        take = (i <= k) | ((i >= math.ceil(mean)) & (logpmf <= limit))
    else:
        take = (i >= k) | ((i <= math.floor(mean)) & (logpmf <= limit))
    return min(1.0, float(np.sum(np.exp(logpmf[take]))))


class Direction(NamedTuple):
    """Result of ``direction_accuracy``: hit rate, hits, counted origins and the binomial-test p-value vs 50%."""
    accuracy: float
    hits: int
    n: int
    p_value: float


def direction_accuracy(y_last, y_true, y_pred):
    """Direction (up/down) accuracy of price forecasts, with an exact binomial test against a coin flip.

    For each origin the true move sign(y − y_last) is compared with the predicted move sign(ŷ − y_last):

        hits = Σ [sign(ŷ_i − y_last_i) == sign(y_i − y_last_i)],   accuracy = hits / n,
        p_value = binomial_test(hits, n, 0.5)

    Origins where the true move is exactly 0 are left out of n (no direction to call). A predicted move of
    exactly 0 (a persistence forecast) counts as a miss: it calls no direction. When every true move is 0,
    returns ``Direction(nan, 0, 0, 1.0)``.

    Args:
        y_last: last observed value at each origin, the same shape as ``y_true``; or (N,) when ``y_true`` is
            (N, H) (then every horizon step is compared with the same last value).
        y_true, y_pred: arrays of one shape, e.g. (N,) next-step values; flattened.

    Returns:
        ``Direction(accuracy, hits, n, p_value)``.

    Example: ``direction_accuracy([10, 10, 10, 10], [11, 9, 12, 10], [12, 11, 10.5, 9])`` — the last origin has
    no true move; of the other 3 the 1st and 3rd are called right: ``Direction(2/3, 2, 3, 1.0)``.
    """
    func = "direction_accuracy"
    y, p = _pair(func, y_true, y_pred)
    t_shape = np.shape(y_true)
    last = _array("y_last", y_last, func)
    if last.shape == t_shape or np.squeeze(last).shape == np.squeeze(np.empty(t_shape)).shape:
        last = last.ravel()
    elif len(t_shape) == 2 and np.squeeze(last).shape == (t_shape[0],):       # (N,) against (N, H)
        last = np.repeat(last.ravel(), t_shape[1])
    else:
        raise ValueError(f"{func}: y_last has shape {last.shape} but y_true has shape {t_shape}; pass one last "
                         "observed value per forecast (the shape of y_true), or (N,) for y_true of shape (N, H)")
    true_move, pred_move = np.sign(y - last), np.sign(p - last)
    keep = true_move != 0
    n = int(keep.sum())
    if n == 0:
        return Direction(float("nan"), 0, 0, 1.0)
    hits = int(np.sum(pred_move[keep] == true_move[keep]))
    return Direction(hits / n, hits, n, binomial_test(hits, n, 0.5))


# ----------------------------------------------------------------------------------------------- intervals

def coverage(y_true, lower, upper):
    """Empirical coverage of prediction intervals: the fraction of values inside their interval,

        coverage = 1/n Σ [lower_i ≤ y_i ≤ upper_i]

    Compare with the nominal level (e.g. 0.8 for 10%–90% intervals).

    Args:
        y_true, lower, upper: arrays of one shape, e.g. (N,) or (N, H); lower ≤ upper everywhere.

    Example: ``coverage([1, 5, 3], [0, 0, 3], [2, 4, 4]) == 2/3``.
    """
    y, lo, hi = _intervals("coverage", y_true, lower, upper)
    return float(np.mean((lo <= y) & (y <= hi)))


def interval_width(lower, upper):
    """Mean width of prediction intervals  1/n Σ (upper_i − lower_i).

    Args:
        lower, upper: arrays of one shape, lower ≤ upper everywhere.

    Example: ``interval_width([0, 1], [2, 4]) == 2.5``.
    """
    _, lo, hi = _intervals("interval_width", None, lower, upper)
    return float(np.mean(hi - lo))


def _intervals(func, y_true, lower, upper):
    arrays = {}
    if y_true is not None:
        arrays["y_true"] = _array("y_true", y_true, func)
    arrays["lower"] = _array("lower", lower, func)
    arrays["upper"] = _array("upper", upper, func)
    flat = _same_shape(func, **arrays)
    lo, hi = flat[-2], flat[-1]
    if np.any(lo > hi):
        i = int(np.argmax(lo > hi))
        raise ValueError(f"{func}: lower > upper at {int(np.sum(lo > hi))} positions (first at flat index {i}: "
                         f"lower={lo[i]}, upper={hi[i]}); pass the lower bound first")
    return (flat[0] if y_true is not None else None), lo, hi


def pinball(y_true, y_q, q):
    """Mean pinball (quantile) loss of a q-quantile forecast:

        L_q = 1/n Σ max(q (y_i − ŷ_i), (q − 1)(y_i − ŷ_i))

    i.e. q·(y − ŷ) when the value lands above the forecast quantile and (1 − q)·(ŷ − y) when below; q = 0.5 gives
    half the MAE.

    Args:
        y_true, y_q: arrays of one shape, e.g. (N,) or (N, H).
        q: the quantile level, 0 < q < 1.

    Example: ``pinball([10, 10], [8, 13], 0.9) == (0.9*2 + 0.1*3) / 2 == 1.05``.
    """
    if not (isinstance(q, (int, float, np.number)) and 0.0 < q < 1.0):
        raise ValueError(f"pinball: q must be a quantile level strictly between 0 and 1, got {q!r}")
    y, f = _pair("pinball", y_true, y_q, pred_name="y_q")
    diff = y - f
    return float(np.mean(np.maximum(q * diff, (q - 1.0) * diff)))


# ----------------------------------------------------------------------------------------------- tables

def metric_table(y_true, forecasts, y_train=None, m=1):
    """Score several forecasts of the same targets: one row per model with MAE, RMSE, MASE and sMAPE.

    Args:
        y_true: the targets, e.g. (N, H) for N origins × H steps.
        forecasts: dict name -> forecast array of the shape of ``y_true``, in the order of the rows.
        y_train: (T,) training series for the MASE scale (``mase_scale(y_train, m)``); None leaves MASE NaN.
        m: seasonal period of the MASE scale.

    Returns:
        list of dicts ``{"model": name, "MAE": .., "RMSE": .., "MASE": .., "sMAPE": ..}`` (floats).

    Example::

        rows = metric_table(y_test, {"naive": p0, "gru": p1}, y_train=y_train, m=12)
        print(format_table(rows))
    """
    if not isinstance(forecasts, dict) or not forecasts:
        raise ValueError("metric_table: forecasts must be a non-empty dict {model name: forecast array}, "
                         f"got {type(forecasts).__name__}")
    scale = mase_scale(y_train, m) if y_train is not None else None
    rows = []
    for name, pred in forecasts.items():
        try:
            row = {"model": str(name), "MAE": mae(y_true, pred), "RMSE": rmse(y_true, pred),
                   "MASE": mase(y_true, pred, scale=scale) if scale is not None else float("nan"),
                   "sMAPE": smape(y_true, pred)}
        except ValueError as e:
            raise ValueError(f"metric_table: forecast {name!r}: {e}") from None
        rows.append(row)
    return rows


def _decimals(values):
    """Decimals showing about 4 significant digits of the column's median value (0–4), so that one far-off
    model (the mean forecast) does not round the others' figures away."""
    finite = sorted(abs(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v))
    top = finite[len(finite) // 2] if finite else 0.0
    if top == 0.0:
        return 4
    return int(min(4, max(0, 3 - math.floor(math.log10(top)))))


def format_table(rows, higher_is_better=()):
    """A fixed-width text table of ``metric_table`` rows, the best value of each column marked with ``*``.

    Columns: "model" first, then the other keys in the order they first appear. For every numeric column the
    lowest value is best (all error metrics), except columns named in ``higher_is_better`` (e.g. a direction
    accuracy); ties are all marked; NaN shows as "-" and is never best.

    Args:
        rows: list of dicts as from ``metric_table``.
        higher_is_better: names of columns where larger is better.

    Returns:
        str, lines joined by "\\n", e.g.::

            model      MAE      RMSE    MASE     sMAPE
            naive    12.50    15.10   1.000    10.20
            gru      10.20*   13.40*  0.816*    8.70*
    """
    if not rows:
        raise ValueError("format_table: rows is empty; pass the list returned by metric_table")
    cols = ["model"] + [k for k in dict.fromkeys(k for r in rows for k in r) if k != "model"]
    cells = [[str(r.get("model", ""))] for r in rows]
    for col in cols[1:]:
        vals = [r.get(col) for r in rows]
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        best = (max if col in higher_is_better else min)(nums) if nums else None
        d = _decimals(nums)
        for cell, v in zip(cells, vals):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                text = "-" if math.isnan(v) else f"{v:.{d}f}" + ("*" if v == best else " ")
            else:
                text = "" if v is None else str(v)
            cell.append(text)
    widths = [max(len(c), *(len(cell[j]) for cell in cells)) for j, c in enumerate(cols)]
    head = "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cols, widths)))
    lines = [head]
    for cell in cells:
        lines.append("  ".join(t.ljust(w) if j == 0 else t.rjust(w) for j, (t, w) in enumerate(zip(cell, widths))))
    return "\n".join(line.rstrip() for line in lines)
