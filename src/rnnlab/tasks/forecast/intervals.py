"""Prediction intervals that cover what they claim: conformal calibration of the network's bands.

A band is either the network's own quantiles (models that emit every step at once train the pinball loss
for the median and both ends of each interval) or, for models fed back step by step, the median alone.
Calibration works in the value-transform's units ``g`` (g = log for value='log'), per step h and level:

    score  E = max(g(lo) - g(y), g(y) - g(hi))           (conformalised quantile regression,
                                                           Romano, Patterson & Candès 2019; lo = hi = point
                                                           for a median-only band: E = |g(y) - g(point)|)
    band   [g⁻¹(g(lo) - Q), g⁻¹(g(hi) + Q)]               Q = conformal_quantile(E_1 .. E_n, level)

``static``: the scores of the validation forecasts, fixed for the whole test span (split conformal).
``adaptive``: adaptive conformal inference (Gibbs & Candès 2021) along the rolling origin: every score
whose target has been observed before the current origin joins the pool, and the level used is adjusted
after each observed outcome, ``a <- a + γ (err - (1 - level))`` with err = 1 for a miss, so a run of
misses widens the band. Nothing from the current origin or later is used: the backtest stays honest.

Example::

    lo, hi = band(point, paths, quantiles, 0.8, correction=Q, g=t.to_value, g_inv=t.from_value)
"""
import math

import numpy as np

GAMMA = 0.01            # adaptive conformal step size (Gibbs & Candès use 0.005)


def conformal_quantile(scores, level):
    """The ceil((n + 1) level)-th smallest score (the largest when that exceeds n; 0 when there are none)."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    if len(s) == 0:
        return 0.0
    k = min(max(math.ceil((len(s) + 1) * level), 1), len(s))
    return float(s[k - 1])


def quantile_band(paths, quantiles, level):
    """The (lower, upper) quantile paths of an interval ``level`` from (..., Q) quantile paths."""
    lo_q, hi_q = round((1 - level) / 2, 6), round((1 + level) / 2, 6)
    return paths[..., quantiles.index(lo_q)], paths[..., quantiles.index(hi_q)]


def raw_band(point, paths, quantiles, level):
    """The uncalibrated band: the quantile paths, or the point twice for a median-only model."""
    return quantile_band(paths, quantiles, level) if paths is not None else (point, point)


def scores(y, lo, hi, g):
    """Conformity scores ``max(g(lo) - g(y), g(y) - g(hi))``, elementwise."""
    gy = g(y)
    return np.maximum(g(lo) - gy, gy - g(hi))


def widen(lo, hi, point, correction, g, g_inv):
    """The calibrated band, never excluding the point forecast."""
    lo, hi = g_inv(g(lo) - correction), g_inv(g(hi) + correction)
    return np.minimum(lo, point), np.maximum(hi, point)


def nested(bands):
    """{level: (lo, hi)} with every band widened to contain the narrower levels' bands (quantile outputs
    trained on little data can cross; a 95% interval never lies inside an 80% one)."""
    out, lo_in, hi_in = {}, None, None
    for level in sorted(bands):
        lo, hi = bands[level]
        if lo_in is not None:
            lo, hi = np.minimum(lo, lo_in), np.maximum(hi, hi_in)
        out[level], lo_in, hi_in = (lo, hi), lo, hi
    return out


def static_corrections(valid_scores, level):
    """(H,) corrections from validation scores (n, H): one conformal quantile per step."""
    return np.array([conformal_quantile(valid_scores[:, h], level) for h in range(valid_scores.shape[1])])


def adaptive(point, paths, quantiles, y, origins, valid_scores, level, g, g_inv, gamma=GAMMA):
    """Bands along a rolling origin with adaptive conformal inference.

    Args:
        point: (N, H) point forecasts at ``origins`` (N,), ascending.
        paths: (N, H, Q) quantile paths or None.
        y: (N, H) the targets (each used only once observed: row o + h - 1 < the current origin).
        valid_scores: (n, H) scores of the validation forecasts, the initial pool.
        level: the interval level, e.g. 0.8.
    Returns:
        (lower, upper, last_corrections (H,)).
    """
    N, H = point.shape
    lo_raw, hi_raw = raw_band(point, paths, quantiles, level)
    s = scores(y, lo_raw, hi_raw, g)                                  # (N, H) test scores, revealed over time
    lower, upper = np.empty_like(point), np.empty_like(point)
    pools = [list(valid_scores[:, h]) for h in range(H)]
    alpha = np.full(H, level)                                         # the level actually used, per step
    corrections = np.zeros(H)
    corrections_used = np.zeros((N, H))                              # the correction each forecast got
    seen = np.zeros((N, H), dtype=bool)
    for i, o in enumerate(origins):
        # reveal every earlier forecast whose target row o' + h - 1 is now observed (< o)
        ready = (~seen[:i]) & (origins[:i, None] + np.arange(H)[None, :] - 1 < o)
        for j, h in zip(*np.nonzero(ready)):
            miss = s[j, h] > corrections_used[j, h]
            alpha[h] = min(max(alpha[h] + gamma * (float(miss) - (1 - level)), 0.0), 0.999)
            pools[h].append(s[j, h])
            seen[j, h] = True
        for h in range(H):
            corrections[h] = conformal_quantile(pools[h], alpha[h])
        corrections_used[i] = corrections
        lower[i], upper[i] = widen(lo_raw[i], hi_raw[i], point[i], corrections, g, g_inv)
    return lower, upper, corrections.copy()
