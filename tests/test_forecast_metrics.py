"""Forecast metrics against hand computations, the binomial test against scipy, and error messages."""
import math

import numpy as np
import pytest

from rnnlab.tasks.forecast import metrics as fm


# ----------------------------------------------------------------------------------------------- point errors

def test_mae_rmse_by_hand_and_any_matching_shape():
    y, p = [1, 2, 3, 4], [2, 2, 1, 5]
    # errors 1, 0, -2, 1: MAE = (1 + 0 + 2 + 1)/4 = 1, RMSE = sqrt((1 + 0 + 4 + 1)/4) = sqrt(1.5)
    assert fm.mae(y, p) == pytest.approx(1.0)
    assert fm.rmse(y, p) == pytest.approx(math.sqrt(1.5))
    # (N, H) = (2, 2) origins x horizons: the same four forecasts, flattened
    assert fm.mae(np.reshape(y, (2, 2)), np.reshape(p, (2, 2))) == pytest.approx(1.0)
    assert fm.rmse(np.reshape(y, (2, 2)), np.reshape(p, (2, 2))) == pytest.approx(math.sqrt(1.5))
    # (N,) against (N, 1) is the same set of forecasts, not an (N, N) broadcast
    assert fm.mae(y, np.reshape(p, (4, 1))) == pytest.approx(1.0)


def test_smape_by_hand_with_zero_terms():
    y = [100, 0, -50, 0]
    p = [110, 0, -40, 5]
    # terms 2|p - y|/(|y| + |p|): 20/210 = 2/21, 0/0 -> 0, 20/90 = 2/9, 10/5 = 2
    expected = 100 * (2 / 21 + 0 + 2 / 9 + 2) / 4
    assert fm.smape(y, p) == pytest.approx(expected)
    assert fm.smape([0, 0], [0, 0]) == 0.0                  # all terms 0/0: a perfect forecast
    assert fm.smape([1, 0], [-1, 3]) == pytest.approx(200.0)   # opposite signs / a zero truth: the maximum, 200


def test_mase_scale_m1_and_m12():
    # m = 1: |3-1|, |2-3|, |5-2| = 2, 1, 3 -> mean 2
    assert fm.mase_scale([1, 3, 2, 5]) == pytest.approx(2.0)
    # m = 12: two years; the second year differs from the first by d, so the scale is mean |d| = 16/12
    first = np.array([5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=float)
    d = np.array([1, -1, 2, -2, 0, 0, 3, -3, 1, 1, -1, 1], dtype=float)     # |d| sums to 16
    assert fm.mase_scale(np.concatenate([first, first + d]), m=12) == pytest.approx(16 / 12)


def test_mase_by_hand():
    # MAE of [4, 4] against [3, 4] is 0.5; the scale of [1, 3, 2, 5] is 2 (above)
    assert fm.mase([3, 4], [4, 4], y_train=[1, 3, 2, 5]) == pytest.approx(0.25)
    assert fm.mase([3, 4], [4, 4], scale=0.5) == pytest.approx(1.0)


# ----------------------------------------------------------------------------------------------- binomial test

@pytest.mark.parametrize("k, n, p, expected", [
    (9, 10, 0.5, 22 / 1024),        # P(0) + P(1) + P(9) + P(10) = (1 + 10 + 10 + 1) / 2^10
    (0, 3, 0.5, 2 / 8),             # P(0) + P(3)
    (2, 3, 0.5, 1.0),               # P(2) = P(1) = 3/8 are the likeliest outcomes: everything counts
    (2, 4, 0.5, 1.0),               # k = n p
    (0, 2, 0.3, 1.0),               # P = 0.49, 0.42, 0.09: k = 0 is the mode, all outcomes count
    (2, 2, 0.3, 0.09),              # only P(2) = 0.09; P(0) = 0.49 on the other side is likelier
    (1, 1, 0.0, 0.0),               # p = 0: k = 1 is impossible ...
    (0, 1, 0.0, 1.0),               # ... and k = 0 is certain
])
def test_binomial_test_by_hand(k, n, p, expected):
    assert fm.binomial_test(k, n, p) == pytest.approx(expected, rel=1e-12)


def test_binomial_test_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    cases = [(k, n, p) for n in (1, 2, 5, 10, 31) for k in range(n + 1) for p in (0.5, 0.3, 0.77, 0.02, 0.999)]
    cases += [(int(rng.integers(0, n + 1)), int(n), float(rng.uniform(0.01, 0.99)))
              for n in rng.integers(1, 100_000, 30)]
    cases += [(int(rng.binomial(n, 0.5)), int(n), 0.5) for n in rng.integers(100, 100_000, 20)]   # near the mean
    cases += [(50_000 + d, 100_000, 0.5) for d in (0, 1, 150, 400, 2_000)]
    for k, n, p in cases:
        assert fm.binomial_test(k, n, p) == pytest.approx(stats.binomtest(k, n, p).pvalue, rel=1e-6, abs=1e-300), \
            (k, n, p)


# ----------------------------------------------------------------------------------------------- direction

def test_direction_accuracy_by_hand():
    last = [10, 10, 10, 10, 10]
    true = [11, 9, 12, 10, 8]
    pred = [12, 11, 10.5, 9, 10]
    # true moves: up, down, up, none (left out), down; predicted: up, up, up, -, 0 (a miss)
    # hits: origin 0 and 2 -> 2 of 4; p = binomial_test(2, 4) = 1 (k = n/2)
    d = fm.direction_accuracy(last, true, pred)
    assert (d.hits, d.n) == (2, 4)
    assert d.accuracy == pytest.approx(0.5)
    assert d.p_value == pytest.approx(1.0)
    assert isinstance(d, fm.Direction)


def test_direction_accuracy_horizons_and_all_flat():
    # (N, H) = (2, 2) with one last value per origin: moves of [1, 2] and [0, 3] relative to 5 and 0
    y_true = [[6, 7], [0, 3]]
    y_pred = [[4, 8], [1, 1]]
    # origin 0: up/down(miss), up/up(hit); origin 1: no move (left out), up/up(hit) -> 2 of 3
    d = fm.direction_accuracy([5, 0], y_true, y_pred)
    assert (d.hits, d.n) == (2, 3)
    flat = fm.direction_accuracy([1, 1], [1, 1], [2, 0])
    assert flat.n == 0 and math.isnan(flat.accuracy) and flat.p_value == 1.0


def test_direction_accuracy_against_a_coin_flip():
    # 9 of 10 right is significant at 5%: p = 22/1024
    last = np.zeros(10)
    true = np.ones(10)
    pred = np.r_[np.ones(9), -1.0]
    d = fm.direction_accuracy(last, true, pred)
    assert d.accuracy == pytest.approx(0.9)
    assert d.p_value == pytest.approx(22 / 1024)


# ----------------------------------------------------------------------------------------------- intervals

def test_coverage_width_pinball_by_hand():
    y = [1, 5, 3, 2]
    lo = [0, 0, 3, 2.5]
    hi = [2, 4, 4, 3]
    # inside: 1 in [0, 2] yes, 5 in [0, 4] no, 3 in [3, 4] yes (bounds count), 2 in [2.5, 3] no -> 2/4
    assert fm.coverage(y, lo, hi) == pytest.approx(0.5)
    # widths 2, 4, 1, 0.5 -> 7.5/4
    assert fm.interval_width(lo, hi) == pytest.approx(1.875)
    # q = 0.9, y - yq = 2, -3, 0: losses 0.9*2 = 1.8, 0.1*3 = 0.3, 0 -> 2.1/3
    assert fm.pinball([10, 10, 10], [8, 13, 10], 0.9) == pytest.approx(0.7)
    # q = 0.5 is half the MAE: errors 2, 3, 0 -> MAE 5/3
    assert fm.pinball([10, 10, 10], [8, 13, 10], 0.5) == pytest.approx(5 / 6)


# ----------------------------------------------------------------------------------------------- tables

def test_metric_table_and_format_table():
    y = [[1.0, 2.0], [3.0, 4.0]]
    forecasts = {"a": [[1, 2], [3, 6]], "b": [[2, 2], [3, 4]]}
    rows = fm.metric_table(y, forecasts, y_train=[1, 3, 2, 5], m=1)
    # a: errors 0, 0, 0, 2 -> MAE 0.5, RMSE sqrt(4/4) = 1, MASE 0.5/2 = 0.25, sMAPE 100*(2*2/10)/4 = 10
    # b: errors 1, 0, 0, 0 -> MAE 0.25, RMSE sqrt(1/4) = 0.5, MASE 0.125, sMAPE 100*(2*1/3)/4 = 16.67
    assert [r["model"] for r in rows] == ["a", "b"]
    assert rows[0] == pytest.approx({"model": "a", "MAE": 0.5, "RMSE": 1.0, "MASE": 0.25, "sMAPE": 10.0})
    assert rows[1]["MAE"] == pytest.approx(0.25) and rows[1]["sMAPE"] == pytest.approx(100 / 6)
    text = fm.format_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["model", "MAE", "RMSE", "MASE", "sMAPE"]
    a_cells, b_cells = lines[1].split(), lines[2].split()
    assert a_cells[-1].endswith("*") and not a_cells[1].endswith("*")     # a has the best sMAPE only
    assert all(c.endswith("*") for c in b_cells[1:4]) and not b_cells[4].endswith("*")
    assert len({len(line) for line in lines}) <= 2                          # fixed width (trailing marks aside)


def test_format_table_higher_is_better_and_nan():
    rows = [{"model": "x", "MAE": 1.0, "DirAcc": 0.55}, {"model": "y", "MAE": float("nan"), "DirAcc": 0.6}]
    text = fm.format_table(rows, higher_is_better=("DirAcc",))
    x_line, y_line = text.splitlines()[1:]
    assert "1.000*" in x_line and "0.6000*" in y_line and "-" in y_line
    assert math.isnan(fm.metric_table([1, 2], {"n": [1, 3]})[0]["MASE"])     # no y_train: no MASE


# ----------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, match", [
    (lambda: fm.mae([1, 2], [1, np.nan]), r"mae: y_pred contains NaN at 1 of 2 positions \(first at index \(1,\)"),
    (lambda: fm.rmse([np.nan, 2], [1, 2]), r"rmse: y_true contains NaN"),
    (lambda: fm.smape([1, 2, 3, 4], [[1, 2], [3, 4]]), r"smape: y_pred has shape \(2, 2\) but y_true has shape \(4,\)"),
    (lambda: fm.mae([], []), r"mae: y_true is empty"),
    (lambda: fm.mase_scale([1, 2, 3], m=3), r"y_train has 3 values but m=3 needs more than m \(at least 4\)"),
    (lambda: fm.mase_scale([4, 4, 4, 4]), r"constant at lag m=1 .* scale is 0"),
    (lambda: fm.mase_scale([1, 2], m=0), r"m must be a positive integer .* got 0"),
    (lambda: fm.mase([1], [1]), r"pass exactly one of y_train .* or scale"),
    (lambda: fm.mase([1], [1], y_train=[1, 2], scale=1.0), r"pass exactly one of y_train"),
    (lambda: fm.mase([1], [1], scale=0.0), r"scale must be a positive finite number, got 0.0"),
    (lambda: fm.binomial_test(5, 4), r"need n >= 1 and 0 <= k <= n, got k=5, n=4"),
    (lambda: fm.binomial_test(1.5, 4), r"k and n must be integers"),
    (lambda: fm.binomial_test(1, 4, p=1.5), r"p must be a probability in \[0, 1\], got 1.5"),
    (lambda: fm.direction_accuracy([1, 2, 3], [1, 2], [1, 2]), r"y_last has shape \(3,\) but y_true has shape"),
    (lambda: fm.coverage([1, 2], [0, 3], [2, 2]), r"lower > upper at 1 positions .* lower=3.0, upper=2.0"),
    (lambda: fm.pinball([1], [1], 1.0), r"q must be a quantile level strictly between 0 and 1, got 1.0"),
    (lambda: fm.metric_table([1, 2], {}), r"forecasts must be a non-empty dict"),
    (lambda: fm.metric_table([1, 2], {"lstm": [1, 2, 3]}), r"forecast 'lstm': mae: y_pred has shape \(3,\)"),
    (lambda: fm.format_table([]), r"rows is empty"),
])
def test_errors_say_what_was_given_and_expected(call, match):
    with pytest.raises(ValueError, match=match):
        call()
