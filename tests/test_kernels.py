"""The compiled (numba) time loops give the NumPy loops' results, and layers use them by default."""
import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("scipy")

from gradcheck import numeric_grad, projected_loss, projections, rel_error  # noqa: E402
from rnnlab import activations, kernels  # noqa: E402
from rnnlab.kernels import blas, gru as k_gru, lstm as k_lstm, simple_rnn as k_simple  # noqa: E402
from rnnlab.layers import GRU, LSTM, SimpleRNN, gru as np_gru, lstm as np_lstm, simple_rnn as np_simple  # noqa: E402

TOL = {np.float64: 1e-12, np.float32: 1e-5}
T, N, H = 6, 4, 5


@pytest.fixture(autouse=True)
def numba_on(monkeypatch):
    monkeypatch.delenv("RNNLAB_DISABLE_NUMBA", raising=False)


@pytest.fixture(params=["compiled", "stepped"])
def loop_mode(request, monkeypatch):
    """Run a test with the whole time loop compiled, and again stepped in Python over NumPy's BLAS."""
    monkeypatch.setattr(blas, "steps_in_python", lambda N, H, G: request.param == "stepped")
    return request.param


def _mask(rng):
    """Right padding, left padding, a row masked at the first step, a full row, random holes."""
    m = rng.random((T, N)) > 0.3
    m[:, 0] = [True] * (T - 2) + [False] * 2           # right-padded
    m[:, 1] = [False] * 2 + [True] * (T - 2)           # left-padded
    m[:, 2] = True
    return m


def _inputs(rng, dtype, G):
    XW = rng.standard_normal((T, N, G)).astype(dtype)
    W_h = (0.5 * rng.standard_normal((H, G))).astype(dtype)
    h0, c0 = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    dH = rng.standard_normal((T, N, H)).astype(dtype)
    dh_T, dc_T = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    return XW, W_h, h0, c0, dH, dh_T, dc_T


def _assert_close(got, want, tol):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert rel_error(g, w) < tol, rel_error(g, w)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
def test_simple_rnn_loops_match_numpy(rng, dtype, masked, with_bias, loop_mode):
    XW, W_h, h0, _, dH, dh_T, _ = _inputs(rng, dtype, H)
    b = rng.standard_normal(H).astype(dtype) if with_bias else None
    mask = _mask(rng) if masked else None
    W_hT = np.ascontiguousarray(W_h.T)
    want = np_simple.simple_rnn_forward_loop(XW.copy(), h0, W_h, mask, b=b)
    got = k_simple.simple_rnn_forward_loop(XW.copy(), h0, W_h, mask, b=b)
    _assert_close(got, want, TOL[dtype])
    _assert_close(k_simple.simple_rnn_backward_loop(dH, dh_T, *got, W_hT, mask),
                  np_simple.simple_rnn_backward_loop(dH, dh_T, *want, W_hT, mask), TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
def test_lstm_loops_match_numpy(rng, dtype, masked, with_bias, loop_mode):
    XW, W_h, h0, c0, dH, dh_T, dc_T = _inputs(rng, dtype, 4 * H)
    b = rng.standard_normal(4 * H).astype(dtype) if with_bias else None
    mask = _mask(rng) if masked else None
    W_hT = np.ascontiguousarray(W_h.T)
    want = np_lstm.lstm_forward_loop(XW.copy(), h0, c0, W_h, mask, b=b)
    got = k_lstm.lstm_forward_loop(XW.copy(), h0, c0, W_h, mask, b=b)
    _assert_close(got, want, TOL[dtype])
    _assert_close(k_lstm.lstm_backward_loop(dH, dh_T, dc_T, *got, W_hT, mask),
                  np_lstm.lstm_backward_loop(dH, dh_T, dc_T, *want, W_hT, mask), TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
def test_gru_loops_match_numpy(rng, dtype, masked, with_bias, loop_mode):
    XW, W_h, h0, _, dH, dh_T, _ = _inputs(rng, dtype, 3 * H)
    b_h, b_x = (rng.standard_normal(3 * H).astype(dtype) if with_bias else None for _ in range(2))
    mask = _mask(rng) if masked else None
    W_hT = np.ascontiguousarray(W_h.T)
    want = np_gru.gru_forward_loop(XW.copy(), h0, W_h, b_h, mask, b_x=b_x)
    got = k_gru.gru_forward_loop(XW.copy(), h0, W_h, b_h, mask, b_x=b_x)
    _assert_close(got, want, TOL[dtype])
    _assert_close(k_gru.gru_backward_loop(dH, dh_T, *got, W_hT, mask),
                  np_gru.gru_backward_loop(dH, dh_T, *want, W_hT, mask), TOL[dtype])


def test_forward_loop_writes_activation_inputs_in_place(rng):
    XW, W_h, h0, c0, *_ = _inputs(rng, np.float32, 4 * H)
    Hs, Cs, Z, A, TC = k_lstm.lstm_forward_loop(XW, h0, c0, W_h)
    assert Z is XW
    np.testing.assert_array_equal(Hs[0], h0)
    np.testing.assert_array_equal(Cs[0], c0)


def test_float32_tanh_and_sigmoid_accuracy():
    from numba import njit
    from rnnlab.kernels._common import sigmoid, tanh

    @njit
    def apply(x, out_t, out_s):
        for k in range(x.size):
            out_t[k] = tanh(x[k])
            out_s[k] = sigmoid(x[k])

    x = np.concatenate([np.linspace(-20, 20, 400_001), np.logspace(-9, 1.5, 20_001),
                        -np.logspace(-9, 1.5, 20_001), [0.0]]).astype(np.float32)
    out_t, out_s = np.empty_like(x), np.empty_like(x)
    apply(x, out_t, out_s)
    x64 = x.astype(np.float64)
    want_t = np.tanh(x64)
    assert np.max(np.abs(out_t - want_t) / np.maximum(np.abs(want_t), 1e-30)) < 4e-7
    assert out_t[x == 0.0][0] == 0.0 and np.all(np.abs(out_t) <= 1.0)
    want_s = 1.0 / (1.0 + np.exp(-x64))
    assert np.max(np.abs(out_s - want_s)) < 4e-7                # absolute: (1 + tanh)/2 near 0
    big = x > 5
    assert np.max(np.abs(out_s[big] - want_s[big]) / want_s[big]) < 4e-7


def test_fast_dispatch_and_disable(monkeypatch):
    assert kernels.available()
    assert kernels.fast(np_lstm.lstm_forward_loop) is k_lstm.lstm_forward_loop
    assert kernels.fast(np_gru.gru_v1_forward_loop) is np_gru.gru_v1_forward_loop   # no twin: NumPy
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    assert not kernels.available()
    assert "RNNLAB_DISABLE_NUMBA" in kernels.why_unavailable()
    assert kernels.fast(np_lstm.lstm_forward_loop) is np_lstm.lstm_forward_loop


def test_twin_falls_back_for_other_activations(rng):
    XW, W_h, h0, *_ = _inputs(rng, np.float64, H)
    want = np_simple.simple_rnn_forward_loop(XW.copy(), h0, W_h, None, activations.relu)
    got = k_simple.simple_rnn_forward_loop(XW.copy(), h0, W_h, None, activations.relu)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert np.all(got[0][1:] >= 0)                               # relu really was applied


@pytest.mark.parametrize("make", [lambda: SimpleRNN(6, return_sequences=True, return_state=True),
                                  lambda: LSTM(6, return_sequences=True, return_state=True),
                                  lambda: GRU(6, return_sequences=True, return_state=True)],
                         ids=["simple_rnn", "lstm", "gru"])
def test_gradients_through_compiled_path(float64, rng, monkeypatch, make, loop_mode):
    calls = []
    real_fast = kernels.fast

    def counting_fast(loop):
        twin = real_fast(loop)
        calls.append(twin.__module__)
        return twin
    for mod in (np_simple, np_lstm, np_gru):
        monkeypatch.setattr(mod, "fast", counting_fast)
    layer = make()
    x = rng.standard_normal((3, 4, 5))
    mask = np.array([[1, 1, 1, 0], [0, 1, 1, 1], [1, 1, 1, 1]], dtype=bool)
    outs = layer.forward(x, mask=mask)
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])
    outs = layer.forward(x, mask=mask)
    Rs = projections(outs)
    layer.zero_grad()
    dx = layer.backward(Rs)
    assert calls and all(m.startswith("rnnlab.kernels.") for m in calls), calls

    def loss():
        return projected_loss(layer.forward(x, mask=mask), Rs)
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    for w, g in zip(layer.weights, layer.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_layer_same_with_and_without_numba(rng, monkeypatch, cls, loop_mode):
    x = rng.standard_normal((3, 7, 4)).astype(np.float32)
    mask = rng.random((3, 7)) > 0.2
    layer = cls(5, return_sequences=True, seed=3)
    y_fast = layer.forward(x, mask=mask, training=True)
    R = rng.standard_normal(y_fast.shape).astype(np.float32)
    layer.zero_grad()
    dx_fast = layer.backward(R)
    g_fast = layer.get_gradients()
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    y = layer.forward(x, mask=mask, training=True)
    layer.zero_grad()
    dx = layer.backward(R)
    assert rel_error(y_fast, y) < 1e-5 and rel_error(dx_fast, dx) < 1e-5
    for a, b in zip(g_fast, layer.get_gradients()):
        assert rel_error(a, b) < 1e-5


def test_steps_in_python_rule():
    assert not blas.steps_in_python(4, 64, 64)                  # 16384 multiply-adds: tiny
    assert blas.steps_in_python(4, 64, 65)
    assert not blas.steps_in_python(1, 256, 1024)               # one row, 2^18: one thread
    assert blas.steps_in_python(1, 512, 2048)                   # one row, but OpenBLAS would thread it
    assert not blas.steps_in_python(64, 32, 128)                # narrow state
    assert blas.steps_in_python(64, 33, 132)
    assert blas.steps_in_python(2, 128, 512)                    # few rows of a wide state
    assert blas.steps_in_python(64, 128, 512)


@pytest.mark.parametrize("loop_mode", ["compiled", "stepped"], indirect=True)
def test_each_mode_runs_its_own_loop(rng, monkeypatch, loop_mode):
    """The compiled loops are used in one mode only, the Python-stepped one in the other."""
    XW, W_h, h0, c0, dH, dh_T, dc_T = _inputs(rng, np.float32, 4 * H)

    def refuse(*args):
        raise AssertionError("this loop must not run in mode " + loop_mode)
    if loop_mode == "stepped":
        monkeypatch.setattr(k_lstm, "_forward", refuse)
        monkeypatch.setattr(k_lstm, "_backward", refuse)
    else:
        monkeypatch.setattr(k_lstm, "_forward_step", refuse)
        monkeypatch.setattr(k_lstm, "_backward_step", refuse)
    Hs, Cs, Z, A, TC = k_lstm.lstm_forward_loop(XW, h0, c0, W_h)
    k_lstm.lstm_backward_loop(dH, dh_T, dc_T, Hs, Cs, Z, A, TC, np.ascontiguousarray(W_h.T))
