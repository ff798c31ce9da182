"""Parity with torch.nn.RNN/LSTM/GRU (CPU): outputs, final states and every gradient.

Weights are drawn in Keras's layout, set with ``set_weights`` and converted to PyTorch's layout
here: ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``; Keras has one bias where
PyTorch has two (we put it in ``bias_ih`` and zero ``bias_hh``), except GRU reset_after=True
whose two bias rows are PyTorch's ``bias_ih``/``bias_hh``. Gate blocks: LSTM Keras i,f,c,o =
PyTorch i,f,g,o; GRU Keras z,r,h -> PyTorch r,z,n.
"""
import numpy as np
import pytest

from gradcheck import rel_error
from rnnlab import backend
from rnnlab.layers import GRU, LSTM, Bidirectional, SimpleRNN

torch = pytest.importorskip("torch")

N, T, D, H = 3, 5, 4, 6
LENGTHS = [5, 2, 4]                      # right padding


def _perm(kind, H):
    """Column order that turns Keras's gate blocks into PyTorch's."""
    if kind == "gru":                    # Keras z, r, h -> PyTorch r, z, n
        return np.concatenate([np.arange(H, 2 * H), np.arange(0, H), np.arange(2 * H, 3 * H)])
    return None


def _make(kind, **kw):
    return {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}[kind](H, **kw)


def _torch_module(kind, D, bidirectional=False, num_layers=1):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    return cls(D, H, num_layers=num_layers, batch_first=True, bidirectional=bidirectional).double()


def _random_keras_weights(layer, rng):
    ws = [rng.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()]
    layer.set_weights(ws)
    return ws


def _to_torch(module, suffix, kind, ws):
    """Copy Keras-layout weights ws into module's parameters named *_{suffix}."""
    kernel, rec, bias = ws
    p = _perm(kind, H)
    if p is not None:
        kernel, rec, bias = kernel[:, p], rec[:, p], bias[:, p]
    b_ih, b_hh = (bias[0], bias[1]) if kind == "gru" else (bias, np.zeros_like(bias))
    with torch.no_grad():
        for name, value in (("weight_ih", kernel.T), ("weight_hh", rec.T), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(module, f"{name}_{suffix}").copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _from_torch_grads(module, suffix, kind):
    """PyTorch's gradients in Keras's layout (to compare with our get_gradients())."""
    g = {name: getattr(module, f"{name}_{suffix}").grad.numpy()
         for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    kernel, rec = g["weight_ih"].T, g["weight_hh"].T
    if kind == "gru":
        bias = np.stack([g["bias_ih"], g["bias_hh"]])
    else:
        bias = g["bias_ih"]                        # the same as bias_hh's: both add to z
        assert rel_error(g["bias_hh"], g["bias_ih"]) < 1e-6
    p = _perm(kind, H)
    if p is not None:
        inv = np.argsort(p)
        kernel, rec, bias = kernel[:, inv], rec[:, inv], bias[:, inv]
    return [kernel, rec, bias]


def _assert_close(ours, theirs, tol):
    assert rel_error(ours, theirs) < tol, (rel_error(ours, theirs), tol)


def _run_torch(module, kind, x, states, lengths=None):
    xt = torch.from_numpy(x).requires_grad_(True)
    st = [torch.from_numpy(s).requires_grad_(True) for s in states]
    inp = xt
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=True, enforce_sorted=False)
    hx = (st[0], st[1]) if kind == "lstm" else st[0]
    out, fin = module(inp, hx)
    if lengths is not None:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    fin = list(fin) if kind == "lstm" else [fin]
    return xt, st, out, fin


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("masked", [False, True], ids=["full", "packed"])
def test_parity(float64, rng, kind, masked):
    layer = _make(kind, return_sequences=True, return_state=True)
    x = rng.standard_normal((N, T, D))
    n_s = 2 if kind == "lstm" else 1
    states = [rng.standard_normal((N, H)) * 0.5 for _ in range(n_s)]
    mask = np.arange(T)[None, :] < np.array(LENGTHS)[:, None] if masked else None
    layer.forward(x, mask=mask, initial_state=states)
    ws = _random_keras_weights(layer, rng)
    y, *fin = layer.forward(x, mask=mask, initial_state=states)

    module = _torch_module(kind, D)
    _to_torch(module, "l0", kind, ws)
    xt, st, out, tfin = _run_torch(module, kind, x, [s[None] for s in states], LENGTHS if masked else None)
    valid = mask if masked else np.ones((N, T), bool)
    _assert_close(y[valid], out.detach().numpy()[valid], 1e-9)
    for a, b in zip(fin, tfin):
        _assert_close(a, b.detach().numpy()[0], 1e-9)

    R = rng.standard_normal(y.shape) * valid[:, :, None]          # padded outputs are not compared
    Rs = [rng.standard_normal((N, H)) for _ in fin]
    layer.zero_grad()
    dx, *dstates = layer.backward([R] + Rs)
    loss = (out * torch.from_numpy(R)).sum() + sum((f[0] * torch.from_numpy(r)).sum() for f, r in zip(tfin, Rs))
    loss.backward()
    _assert_close(dx, xt.grad.numpy(), 1e-9)
    for a, b in zip(dstates, st):
        _assert_close(a, b.grad.numpy()[0] if b.grad.ndim == 3 else b.grad.numpy(), 1e-9)
    for ours, theirs in zip(layer.get_gradients(), _from_torch_grads(module, "l0", kind)):
        _assert_close(ours, theirs, 1e-9)


def _states_torch(states, n_dirs_or_layers, n_s):
    """Our flat [h_a, (c_a), h_b, (c_b)] as PyTorch's stacked (2, N, H) h0 (and c0)."""
    per = [states[i * n_s:(i + 1) * n_s] for i in range(n_dirs_or_layers)]
    return [np.stack([p[k] for p in per]) for k in range(n_s)]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("masked", [False, True], ids=["full", "packed"])
def test_bidirectional_parity(float64, rng, kind, masked):
    layer = Bidirectional(_make(kind, return_sequences=True, return_state=True))
    x = rng.standard_normal((N, T, D))
    n_s = 2 if kind == "lstm" else 1
    states = [rng.standard_normal((N, H)) * 0.5 for _ in range(2 * n_s)]
    mask = np.arange(T)[None, :] < np.array(LENGTHS)[:, None] if masked else None
    layer.forward(x, mask=mask, initial_state=states)
    ws = _random_keras_weights(layer, rng)
    y, *fin = layer.forward(x, mask=mask, initial_state=states)

    module = _torch_module(kind, D, bidirectional=True)
    _to_torch(module, "l0", kind, ws[:3])
    _to_torch(module, "l0_reverse", kind, ws[3:])
    tstates = _states_torch(states, 2, n_s)
    xt, st, out, tfin = _run_torch(module, kind, x, tstates, LENGTHS if masked else None)
    valid = mask if masked else np.ones((N, T), bool)
    _assert_close(y[valid], out.detach().numpy()[valid], 1e-9)
    tfin_flat = [tfin[k].detach().numpy()[d] for d in range(2) for k in range(n_s)]
    for a, b in zip(fin, tfin_flat):
        _assert_close(a, b, 1e-9)

    R = rng.standard_normal(y.shape) * valid[:, :, None]
    Rs = [rng.standard_normal((N, H)) for _ in fin]
    layer.zero_grad()
    dx, *dstates = layer.backward([R] + Rs)
    loss = (out * torch.from_numpy(R)).sum()
    for d in range(2):
        for k in range(n_s):
            loss = loss + (tfin[k][d] * torch.from_numpy(Rs[d * n_s + k])).sum()
    loss.backward()
    _assert_close(dx, xt.grad.numpy(), 1e-9)
    tgrads = [st[k].grad.numpy()[d] for d in range(2) for k in range(n_s)]
    for a, b in zip(dstates, tgrads):
        _assert_close(a, b, 1e-9)
    theirs = _from_torch_grads(module, "l0", kind) + _from_torch_grads(module, "l0_reverse", kind)
    for ours, t in zip(layer.get_gradients(), theirs):
        _assert_close(ours, t, 1e-9)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_two_layer_parity(float64, rng, kind):
    l1 = _make(kind, return_sequences=True)
    l2 = _make(kind, return_sequences=True)
    x = rng.standard_normal((N, T, D))
    l2.forward(l1.forward(x))
    ws1, ws2 = _random_keras_weights(l1, rng), _random_keras_weights(l2, rng)
    y = l2.forward(l1.forward(x))

    module = _torch_module(kind, D, num_layers=2)
    _to_torch(module, "l0", kind, ws1)
    _to_torch(module, "l1", kind, ws2)
    n_s = 2 if kind == "lstm" else 1
    xt, _, out, _ = _run_torch(module, kind, x, [np.zeros((2, N, H))] * n_s)
    _assert_close(y, out.detach().numpy(), 1e-9)

    R = rng.standard_normal(y.shape)
    l1.zero_grad()
    l2.zero_grad()
    dx, = l1.backward(l2.backward(R)[0])
    (out * torch.from_numpy(R)).sum().backward()
    _assert_close(dx, xt.grad.numpy(), 1e-9)
    for layer, suffix in ((l1, "l0"), (l2, "l1")):
        for ours, theirs in zip(layer.get_gradients(), _from_torch_grads(module, suffix, kind)):
            _assert_close(ours, theirs, 1e-9)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_parity(rng, kind):
    assert backend.floatx() == "float32"
    layer = _make(kind, return_sequences=True)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    layer.forward(x)
    ws = _random_keras_weights(layer, rng)
    y = layer.forward(x)
    assert y.dtype == np.float32 and all(w.dtype == np.float32 for w in layer.weights)

    module = _torch_module(kind, D)
    _to_torch(module, "l0", kind, [w.astype(np.float32) for w in ws])
    module = module.float()
    n_s = 2 if kind == "lstm" else 1
    xt, _, out, _ = _run_torch(module, kind, x, [np.zeros((1, N, H), np.float32)] * n_s)
    _assert_close(y, out.detach().numpy(), 1e-5)
    R = rng.standard_normal(y.shape).astype(np.float32)
    layer.zero_grad()
    dx, = layer.backward(R)
    assert dx.dtype == np.float32
    (out * torch.from_numpy(R)).sum().backward()
    _assert_close(dx, xt.grad.numpy(), 1e-5)
    for ours, theirs in zip(layer.get_gradients(), _from_torch_grads(module, "l0", kind)):
        _assert_close(ours, theirs, 1e-5)
