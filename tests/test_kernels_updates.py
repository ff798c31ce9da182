"""The compiled optimiser updates (rnnlab.kernels.updates) against the NumPy updates in rnnlab.optimizers:
bit-identical weights and moments, the float64 sum of squares, declining what they do not take."""
import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("scipy")

from rnnlab import kernels, optimizers  # noqa: E402
from rnnlab.kernels import updates  # noqa: E402


@pytest.fixture(autouse=True)
def _numba_on(monkeypatch):
    monkeypatch.delenv("RNNLAB_DISABLE_NUMBA", raising=False)


def _arrays(dtype, shape=(37, 129), seed=0):
    rng = np.random.default_rng(seed)
    w, g, m = (rng.normal(size=shape).astype(dtype) for _ in range(3))
    v = np.abs(rng.normal(size=shape)).astype(dtype)
    return w, g, m, v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_step_matches_numpy_bit_for_bit(dtype):
    w, g, m, v = _arrays(dtype)
    w2, m2, v2 = w.copy(), m.copy(), v.copy()
    optimizers.adam_step.numpy(w, g, m, v, 3e-3, 0.9, 0.999, 1e-7)
    updates.adam_step(w2, g, m2, v2, 3e-3, 0.9, 0.999, 1e-7)
    np.testing.assert_array_equal(m2, m)
    np.testing.assert_array_equal(v2, v)
    np.testing.assert_array_equal(w2, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_step_matches_numpy_bit_for_bit(dtype):
    w, g, _, _ = _arrays(dtype)
    w2 = w.copy()
    optimizers.sgd_step.numpy(w, g, 0.7)
    updates.sgd_step(w2, g, 0.7)
    np.testing.assert_array_equal(w2, w)
    assert w2.dtype == dtype


def test_sum_squares_is_the_float64_sum():
    g = np.random.default_rng(1).normal(size=(1000, 301)).astype(np.float32)
    exact = float(np.sum(g.astype(np.float64) ** 2))
    assert updates.sum_squares(g) == pytest.approx(exact, rel=1e-12)
    assert optimizers.sum_squares.numpy(g) == pytest.approx(exact, rel=1e-12)
    assert updates.sum_squares(np.zeros(0, np.float32)) == 0.0


def test_twins_decline_what_they_do_not_take():
    w, g, m, v = _arrays(np.float32)
    before = w.copy()
    with pytest.raises(kernels.Decline):
        updates.adam_step(w, g.T.copy().T, m, v, 1e-3, 0.9, 0.999, 1e-7)     # g not C-contiguous
    with pytest.raises(kernels.Decline):
        updates.sgd_step(w, g.astype(np.float64), 0.1)                      # dtypes differ
    with pytest.raises(kernels.Decline):
        updates.sgd_step(w, g[:, :-1].copy(), 0.1)                          # shapes differ
    with pytest.raises(kernels.Decline):
        updates.sum_squares(g[:, ::2])
    np.testing.assert_array_equal(w, before)                                # nothing written
    optimizers.sgd_step(w, g[:, ::-1], 0.1)                                 # the dispatcher falls back
    np.testing.assert_allclose(w, before - np.float32(0.1) * g[:, ::-1], rtol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("adam", dict(clipnorm=0.5)), ("sgd", dict(global_clipnorm=1.0)),
                                          ("adam", {})])
def test_optimizer_steps_equal_with_and_without_numba(monkeypatch, name, kwargs):
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=s).astype(np.float32) for s in [(50, 40), (40,), (7, 3, 5)]]
    grads = [[rng.normal(size=w.shape).astype(np.float32) * 2 for w in weights] for _ in range(4)]
    results = []
    for disabled in ("1", ""):
        monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", disabled)
        opt = optimizers.get(name)
        opt = type(opt)(learning_rate=0.05, **kwargs)
        ws = [w.copy() for w in weights]
        for gs in grads:
            opt.apply(zip(ws, gs))
        results.append(ws)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_clipping_leaves_small_gradients_as_they_are_and_scales_big_ones():
    opt = optimizers.SGD(0.1, clipnorm=1.0)
    small, big = np.full(4, 0.1, np.float32), np.full(4, 3.0, np.float32)
    out = opt.clip_gradients([small, big])
    assert out[0] is small                                                 # no copy, not modified
    np.testing.assert_allclose(np.linalg.norm(out[1]), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(big, 3.0)                                 # the input left alone
