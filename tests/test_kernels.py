"""The compiled (numba) time loops give the NumPy loops' results, and layers use them by default."""
import ast
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("scipy")

from gradcheck import numeric_grad, projected_loss, projections, rel_error  # noqa: E402
from rnnlab import kernels  # noqa: E402
from rnnlab.kernels import blas, gru as k_gru, lstm as k_lstm, simple_rnn as k_simple  # noqa: E402
from rnnlab.layers import GRU, LSTM, SimpleRNN, gru as np_gru, lstm as np_lstm, simple_rnn as np_simple  # noqa: E402

TOL = {np.float64: 1e-12, np.float32: 1e-5}
T, N, H = 6, 4, 5

# name: (forward dispatcher, backward dispatcher, twin module, K gate blocks, number of states)
LOOPS = {
    "simple_rnn": (np_simple.simple_rnn_forward_loop, np_simple.simple_rnn_backward_loop, k_simple, 1, 1),
    "lstm": (np_lstm.lstm_forward_loop, np_lstm.lstm_backward_loop, k_lstm, 4, 2),
    "gru": (np_gru.gru_forward_loop, np_gru.gru_backward_loop, k_gru, 3, 1),
    "gru_v1": (np_gru.gru_v1_forward_loop, np_gru.gru_v1_backward_loop, k_gru, 3, 1),
}
LAYERS = {"simple_rnn": lambda **kw: SimpleRNN(5, **kw), "lstm": lambda **kw: LSTM(5, **kw),
          "gru": lambda **kw: GRU(5, **kw), "gru_v1": lambda **kw: GRU(5, reset_after=False, **kw)}


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


def _case(name, rng, dtype=np.float64, with_bias=True):
    """``(XW, forward args after XW, forward options, dH and final-state grads, W_hT)`` for a cell."""
    _, _, _, K, n_states = LOOPS[name]
    XW, W_h, h0, c0, dH, dh_T, dc_T = _inputs(rng, dtype, K * H)
    options = {}
    if with_bias:
        options["b"] = rng.standard_normal(K * H).astype(dtype)
        if name == "gru":
            options["b_h"] = rng.standard_normal(K * H).astype(dtype)
    states, d_finals = ([h0, c0], [dh_T, dc_T]) if n_states == 2 else ([h0], [dh_T])
    return XW, states + [W_h], options, [dH] + d_finals, np.ascontiguousarray(W_h.T)


def _assert_close(got, want, tol):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert rel_error(g, w) < tol, rel_error(g, w)


def _assert_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def _dx(out):
    """dL/dx from ``layer.backward`` (a list ``[dx, ...]`` or the array itself)."""
    return out[0] if isinstance(out, (list, tuple)) else out


# ---- twin against NumPy loop ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(LOOPS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
def test_twin_loops_match_numpy(rng, name, dtype, masked, with_bias, loop_mode):
    forward, backward, _, _, _ = LOOPS[name]
    XW, args, options, grads, W_hT = _case(name, rng, dtype, with_bias)
    mask = _mask(rng) if masked else None
    want = forward.numpy(XW.copy(), *args, mask, **options)
    got = forward.twin()(XW.copy(), *args, mask, **options)
    _assert_close(got, want, TOL[dtype])
    _assert_close(backward.twin()(*grads, *got, W_hT, mask), backward.numpy(*grads, *want, W_hT, mask),
                  TOL[dtype])


def test_gru_v1_twin_matches_a_direct_step(rng):
    """The v1 twin against the equations written out for one step (h̃ from (r ⊙ h)·W_hh)."""
    XW, (h0, W_h), options, _, _ = _case("gru_v1", rng, np.float64)
    b = options["b"]
    Hs, Z, A = np_gru.gru_v1_forward_loop.twin()(XW[:1].copy(), h0, W_h, b=b)
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))         # noqa: E731
    x = XW[0] + b
    z = sig(x[:, :H] + h0 @ W_h[:, :H])
    r = sig(x[:, H:2 * H] + h0 @ W_h[:, H:2 * H])
    hh = np.tanh(x[:, 2 * H:] + (r * h0) @ W_h[:, 2 * H:])
    np.testing.assert_allclose(Hs[1], z * h0 + (1 - z) * hh, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A[0], np.concatenate([z, r, hh], axis=1), rtol=1e-12, atol=1e-12)


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


# ---- the dispatcher ----------------------------------------------------------------------------------

def test_every_loop_is_a_dispatcher_with_its_twin():
    dispatchers = [loop for f, b, *_ in LOOPS.values() for loop in (f, b)]
    assert all(d in kernels.loops() for d in dispatchers)
    for d in dispatchers:
        twin = d.twin()
        assert twin.__module__.startswith("rnnlab.kernels.") and twin.__name__ == d.__name__
        assert d.numpy is not d and d.numpy.__module__ == d.__module__ and d.numpy.__name__ == d.__name__
        assert d.__doc__ == d.numpy.__doc__
        assert inspect.signature(d) == inspect.signature(d.numpy) == inspect.signature(twin)
    assert np_lstm.lstm_forward_loop.twin() is k_lstm.lstm_forward_loop
    assert np_gru.gru_v1_backward_loop.twin() is k_gru.gru_v1_backward_loop


def test_one_signature_convention():
    """Forward ``(XW, *states, W_h, mask=None, *, options)``, backward ``(dH, *final-state grads,
    *forward results, W_hT, mask=None, *, options)``; the same option names and defaults everywhere."""
    from rnnlab import activations
    results = {"simple_rnn": ["Hs", "Z"], "lstm": ["Hs", "Cs", "Z", "A", "TC"], "gru": ["Hs", "Z", "A", "UH"],
               "gru_v1": ["Hs", "Z", "A"]}
    extra = {"simple_rnn": set(), "lstm": {"g", "cell_norm"}, "gru": {"g", "b_h"}, "gru_v1": {"g"}}
    defaults = {"b": None, "b_h": None, "f": activations.tanh, "g": activations.sigmoid, "rec_mask": None,
                "norm": None, "cell_norm": None, "f_backward": activations.tanh_backward,
                "g_backward": activations.sigmoid_backward, "mask": None, "dh_out": None}

    def split(fn):
        ps = inspect.signature(fn).parameters
        for p, v in ps.items():
            if v.default is not v.empty:
                assert v.default is defaults[p], (fn.__name__, p)
        return ([p for p, v in ps.items() if v.kind is v.POSITIONAL_OR_KEYWORD],
                {p for p, v in ps.items() if v.kind is v.KEYWORD_ONLY})
    for name, (forward, backward, _, K, n_states) in LOOPS.items():
        pos, kw = split(forward.numpy)
        assert pos == ["XW"] + ["h0", "c0"][:n_states] + ["W_h", "mask"], name
        assert kw == {"b", "f", "rec_mask", "norm"} | extra[name], name
        pos, kw = split(backward.numpy)
        assert pos == ["dH"] + ["dh_T", "dc_T"][:n_states] + results[name] + ["W_hT", "mask"], name
        assert kw == {"f_backward", "rec_mask", "norm", "dh_out"} | {o + "_backward" for o in extra[name] if o == "g"} \
            | (extra[name] & {"cell_norm"}), name


def _counting(fn, calls, key):
    def wrapper(*args, **kwargs):
        calls.append(key)
        return fn(*args, **kwargs)
    return wrapper


def test_disable_env_runs_the_numpy_loop(rng, monkeypatch):
    calls = []
    monkeypatch.setattr(k_lstm, "lstm_forward_loop", _counting(k_lstm.lstm_forward_loop, calls, "twin"))
    loop = kernels.twin("rnnlab.kernels.lstm:lstm_forward_loop")(
        _counting(np_lstm.lstm_forward_loop.numpy, calls, "numpy"))
    XW, args, options, _, _ = _case("lstm", rng)
    want = np_lstm.lstm_forward_loop.numpy(XW.copy(), *args, **options)

    assert kernels.available() and kernels.why_unavailable() == ""
    _assert_close(loop(XW.copy(), *args, **options), want, 1e-12)
    assert calls == ["twin"]
    for value, expected in (("1", "numpy"), ("0", "twin"), ("yes", "numpy"), ("", "twin")):
        calls.clear()
        monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", value)     # read at every call
        assert kernels.disabled() == (expected == "numpy")
        _assert_close(loop(XW.copy(), *args, **options), want, 1e-12)
        assert calls == [expected], value
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    assert not kernels.available()
    assert "RNNLAB_DISABLE_NUMBA" in kernels.why_unavailable()

    monkeypatch.delenv("RNNLAB_DISABLE_NUMBA")              # as without numba installed
    monkeypatch.setattr(kernels, "_IMPORT_ERROR", "ModuleNotFoundError: No module named 'numba'")
    assert not kernels.available() and "numba" in kernels.why_unavailable()
    calls.clear()
    _assert_close(loop(XW.copy(), *args, **options), want, 1e-12)
    assert calls == ["numpy"]


@pytest.mark.parametrize("name", list(LOOPS))
def test_layer_never_calls_the_twin_when_disabled(rng, monkeypatch, name):
    def refuse(*args, **kwargs):
        raise AssertionError("the twin must not run with RNNLAB_DISABLE_NUMBA=1")
    forward, backward, module, _, _ = LOOPS[name]
    monkeypatch.setattr(module, forward.__name__, refuse)
    monkeypatch.setattr(module, backward.__name__, refuse)
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    layer = LAYERS[name](return_sequences=True)
    y = layer.forward(rng.standard_normal((2, 3, 4)))
    assert y.shape == (2, 3, 5) and np.all(np.isfinite(y))
    assert _dx(layer.backward(np.ones_like(y))).shape == (2, 3, 4)


def test_twin_none_always_runs_numpy(monkeypatch):
    calls = []
    loop = kernels.twin(None)(_counting(lambda x: 2 * x, calls, "numpy"))
    assert loop(3) == 6 and calls == ["numpy"] and loop.twin() is None and loop.twin_target is None
    with pytest.raises(TypeError):
        kernels.twin(np_lstm.lstm_forward_loop)


# ---- the dependency runs one way: layers -> kernels ------------------------------------------------

KERNELS_DIR = Path(kernels.__file__).parent
FORBIDDEN = ("rnnlab.layers", "rnnlab.models")


def _imported_modules(path):
    """Every module a file imports, relative imports resolved (``from .. import layers`` ->
    ``rnnlab.layers``), and the constant arguments of ``importlib.import_module`` / ``__import__``."""
    package = ["rnnlab", "kernels"]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [module] + [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "import_module", "__import__"):
            found += [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return found


def test_imported_modules_resolves_relative_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from .. import layers\nfrom ..layers import lstm as _n\nfrom . import blas\n"
                 "import rnnlab.models.model\nimportlib.import_module('rnnlab.layers.gru')\n")
    found = _imported_modules(f)
    assert {"rnnlab.layers", "rnnlab.layers.lstm", "rnnlab.kernels.blas", "rnnlab.models.model",
            "rnnlab.layers.gru"} <= set(found)


def test_no_kernels_module_imports_layers_or_models():
    files = sorted(KERNELS_DIR.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "_common.py", "blas.py", "gru.py", "lstm.py",
                                       "simple_rnn.py"}
    for f in files:
        bad = [m for m in _imported_modules(f) if m.startswith(FORBIDDEN)]
        assert not bad, f"{f.name} imports {bad}"


def test_kernels_import_without_layers_in_a_fresh_process():
    """``import rnnlab.kernels`` alone cannot show it (``rnnlab/__init__.py`` imports ``rnnlab.layers``
    eagerly), so the subprocess puts an empty ``rnnlab`` package in front of the real directory:
    the kernels package and every twin module load, and run, with no layer or model module loaded."""
    code = f"""
import sys, types
pkg = types.ModuleType("rnnlab")
pkg.__path__ = [{str(KERNELS_DIR.parent)!r}]
sys.modules["rnnlab"] = pkg
import numpy as np
import rnnlab.kernels as k
import rnnlab.kernels.blas, rnnlab.kernels._common, rnnlab.kernels.gru, rnnlab.kernels.lstm
import rnnlab.kernels.simple_rnn as s
assert k.available(), k.why_unavailable()
Hs, Z = s.simple_rnn_forward_loop(np.zeros((2, 1, 3)), np.ones((1, 3)), np.eye(3))
assert np.allclose(Hs[-1], np.tanh(np.tanh(1.0)))
print(sorted(m for m in sys.modules if m.startswith("rnnlab")))
"""
    env = {k: v for k, v in __import__("os").environ.items() if k != "RNNLAB_DISABLE_NUMBA"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    loaded = eval(out.stdout.strip().splitlines()[-1])
    assert "rnnlab.kernels.lstm" in loaded and "rnnlab.kernels.gru" in loaded
    assert not [m for m in loaded if m.startswith(FORBIDDEN)], loaded


# ---- declining ---------------------------------------------------------------------------------------

def _decline_cases():
    """``(cell, why, make)``: ``make(rng)`` gives fresh ``(forward options, backward options or None
    (backward not compared), XW transform or None)`` that make the twins decline."""
    from rnnlab import activations
    from rnnlab.layers.block_norm import BlockNorm

    def norm(K):                                    # a fresh BlockNorm (it keeps per-call state)
        g = np.random.default_rng(7)
        return BlockNorm(1.0 + 0.1 * g.standard_normal(K * H), 0.1 * g.standard_normal(K * H), T, N, H)

    def with_norm(key, K):
        def make(rng):
            n = norm(K)
            return {key: n}, {key: n}, None
        return make
    rec = (np.random.default_rng(8).random((N, H)) > 0.3) / 0.7
    return [
        ("simple_rnn", "relu",
         lambda rng: (dict(f=activations.relu), dict(f_backward=activations.relu_backward), None)),
        ("lstm", "hard_sigmoid",
         lambda rng: (dict(g=activations.hard_sigmoid), dict(g_backward=activations.hard_sigmoid_backward), None)),
        ("lstm", "norm", with_norm("norm", 4)),
        ("lstm", "cell_norm", with_norm("cell_norm", 1)),
        ("gru", "rec_mask", lambda rng: (dict(rec_mask=rec), dict(rec_mask=rec), None)),
        ("gru", "norm", with_norm("norm", 3)),
        ("gru_v1", "rec_mask", lambda rng: (dict(rec_mask=rec), dict(rec_mask=rec), None)),
        ("gru_v1", "linear",
         lambda rng: (dict(f=activations.linear), dict(f_backward=activations.linear_backward), None)),
        ("simple_rnn", "non-contiguous XW", lambda rng: ({}, None, np.asfortranarray)),
        ("lstm", "float16", lambda rng: ({}, None, lambda XW: XW.astype(np.float16))),
    ]


@pytest.mark.parametrize("case", range(len(_decline_cases())),
                         ids=[f"{c[0]}-{c[1]}" for c in _decline_cases()])
def test_declining_twin_falls_back_with_equal_results(rng, monkeypatch, case):
    name, why, make = _decline_cases()[case]
    forward, backward, module, _, _ = LOOPS[name]
    XW, args, options, grads, W_hT = _case(name, rng)
    transform = make(rng)[2]
    if transform is not None:
        XW = transform(XW)
    pristine = XW.copy(order="K")

    # the twin, called directly, declines and leaves XW as it was
    with pytest.raises(kernels.Decline):
        forward.twin()(XW, *args, **options, **make(rng)[0])
    np.testing.assert_array_equal(XW, pristine)

    # through the dispatcher: the twin is asked first and declines untouched, then NumPy runs
    seen = []
    real_twin = forward.twin()

    def spy(XW_arg, *a, **kw):
        try:
            return real_twin(XW_arg, *a, **kw)
        except kernels.Decline:
            seen.append(XW_arg is XW and np.array_equal(XW_arg, pristine))   # nothing written before
            raise
    monkeypatch.setattr(module, forward.__name__, spy)
    want_fw, want_bw, _ = make(rng)
    got_fw, got_bw, _ = make(rng)
    want = forward.numpy(pristine.copy(order="K"), *args, **options, **want_fw)
    got = forward(XW, *args, **options, **got_fw)
    assert seen == [True], why
    _assert_equal(got, want)
    assert any(out is XW for out in got)               # the NumPy loop's in-place Z is the caller's XW
    if want_bw is not None:
        _assert_equal(backward(*grads, *got, W_hT, **got_bw), backward.numpy(*grads, *want, W_hT, **want_bw))


def test_relu_really_applied_through_the_fallback(rng):
    from rnnlab import activations
    XW, W_h, h0, *_ = _inputs(rng, np.float64, H)
    Hs, _ = np_simple.simple_rnn_forward_loop(XW.copy(), h0, W_h, f=activations.relu)
    assert np.all(Hs[1:] >= 0) and np.any(Hs[1:] > 0)


@pytest.mark.parametrize("name", list(LOOPS))
def test_layer_equal_when_the_twin_declines(rng, monkeypatch, name):
    """A twin that declines every call (monkeypatched) leaves the layer's results as NumPy's."""
    x = rng.standard_normal((3, 7, 4))
    mask = rng.random((3, 7)) > 0.2
    layer = LAYERS[name](return_sequences=True, seed=3, dtype="float64")
    y_ref = layer.forward(x, mask=mask)
    R = rng.standard_normal(y_ref.shape)
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    y_ref = layer.forward(x, mask=mask)
    layer.zero_grad()
    dx_ref = _dx(layer.backward(R))
    g_ref = [g.copy() for g in layer.get_gradients()]
    monkeypatch.delenv("RNNLAB_DISABLE_NUMBA")

    calls = []

    def decline(*args, **kwargs):
        calls.append(1)
        raise kernels.Decline("declines everything")
    forward, backward, module, _, _ = LOOPS[name]
    monkeypatch.setattr(module, forward.__name__, decline)
    monkeypatch.setattr(module, backward.__name__, decline)
    y = layer.forward(x, mask=mask)
    layer.zero_grad()
    dx = _dx(layer.backward(R))
    assert len(calls) == 2
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(dx, dx_ref)
    for a, b in zip(layer.get_gradients(), g_ref):
        np.testing.assert_array_equal(a, b)


# ---- layers through the compiled path ---------------------------------------------------------------

@pytest.mark.parametrize("name", list(LOOPS))
def test_gradients_through_compiled_path(float64, rng, monkeypatch, name, loop_mode):
    calls = []
    forward, backward, module, _, _ = LOOPS[name]
    for loop in (forward, backward):
        monkeypatch.setattr(module, loop.__name__, _counting(loop.twin(), calls, loop.__name__))
    layer = LAYERS[name](return_sequences=True, return_state=True)
    x = rng.standard_normal((3, 4, 5))
    mask = np.array([[1, 1, 1, 0], [0, 1, 1, 1], [1, 1, 1, 1]], dtype=bool)
    outs = layer.forward(x, mask=mask)
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])
    outs = layer.forward(x, mask=mask)
    Rs = projections(outs)
    layer.zero_grad()
    dx = _dx(layer.backward(Rs))
    assert calls == [forward.__name__, forward.__name__, backward.__name__], calls

    def loss():
        return projected_loss(layer.forward(x, mask=mask), Rs)
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    for w, g in zip(layer.weights, layer.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6


@pytest.mark.parametrize("name", list(LOOPS))
def test_layer_same_with_and_without_numba(rng, monkeypatch, name, loop_mode):
    x = rng.standard_normal((3, 7, 4)).astype(np.float32)
    mask = rng.random((3, 7)) > 0.2
    layer = LAYERS[name](return_sequences=True, seed=3)
    y_fast = layer.forward(x, mask=mask, training=True)
    R = rng.standard_normal(y_fast.shape).astype(np.float32)
    layer.zero_grad()
    dx_fast = _dx(layer.backward(R))
    g_fast = [g.copy() for g in layer.get_gradients()]
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    y = layer.forward(x, mask=mask, training=True)
    layer.zero_grad()
    dx = _dx(layer.backward(R))
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


@pytest.mark.parametrize("name", ["lstm", "gru_v1"])
@pytest.mark.parametrize("loop_mode", ["compiled", "stepped"], indirect=True)
def test_each_mode_runs_its_own_loop(rng, monkeypatch, name, loop_mode):
    """The compiled loops are used in one mode only, the Python-stepped one in the other."""
    forward, backward, module, _, _ = LOOPS[name]
    XW, args, options, grads, W_hT = _case(name, rng, np.float32)

    def refuse(*args):
        raise AssertionError("this loop must not run in mode " + loop_mode)
    whole = {"lstm": ["_forward", "_backward"], "gru_v1": ["_v1_forward", "_v1_backward"]}[name]
    steps = {"lstm": ["_forward_step", "_backward_step"],
             "gru_v1": ["_v1_forward_gates", "_v1_forward_state", "_v1_backward_candidate", "_v1_backward_reset"]}
    for attr in (whole if loop_mode == "stepped" else steps[name]):
        monkeypatch.setattr(module, attr, refuse)
    out = forward.twin()(XW, *args, **options)
    backward.twin()(*grads, *out, W_hT)
