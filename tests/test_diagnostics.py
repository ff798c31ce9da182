"""rnnlab.diagnostics: ∂L/∂h_t read from the BPTT against finite differences, ∂h_{T-1}/∂h_t, spectral
radii, saturation, gradient norms, the GradientFlow callback and ``rnnlab diagnose``."""
import numpy as np
import pytest

from rnnlab import diagnostics, kernels, layers
from rnnlab.diagnostics import experiments
from rnnlab.layers import rnn as rnn_module

CASES = [(layers.SimpleRNN, {}), (layers.LSTM, {}), (layers.GRU, {}), (layers.GRU, {"reset_after": False}),
         (layers.LSTM, {"layer_norm": True})]


def _stepped_loss(cell, x, R, seen, t, n, k, eps):
    """L = Σ_s sum(y_s ⊙ R_s), y_s = h_s ⊙ seen_s, run with the one-step API; h_t[n, k] += eps after step t."""
    states, total = None, 0.0
    for s in range(x.shape[1]):
        h, states, _ = cell.step(x[:, s], states, mask_t=None if seen is None else MASK[:, s])
        if s == t:
            h = h.copy()
            h[n, k] += eps
            states = [h] + list(states[1:])                # c_t (LSTM) is held fixed
        total += np.sum(h * (1.0 if seen is None else seen[:, s, None]) * R[:, s])
    return total


MASK = np.array([[True, True, False, True, True], [False, True, True, False, True]])


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("cls,kw", CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_hidden_gradients_equal_finite_differences(cls, kw, masked):
    """dh[n, t] recorded from the BPTT loop = d L / d h_t by central differences through cell.step (float64)."""
    rng = np.random.default_rng(0)
    N, T, D, H = 2, 5, 3, 3
    layer = cls(H, return_sequences=True, dtype="float64", seed=1, **kw)
    x = rng.normal(size=(N, T, D))
    y = layer.forward(x, mask=MASK if masked else None)
    R = rng.normal(size=y.shape)
    with diagnostics.record_hidden_gradients() as rec:
        layer.backward(R)
    dh = rec.gradients()[layer.name]
    assert dh.shape == (N, T, H)
    seen = np.logical_or.accumulate(MASK, axis=1).astype(float) if masked else None
    eps = 1e-6
    fd = np.zeros_like(dh)
    for t in range(T):
        for n in range(N):
            for k in range(H):
                fd[n, t, k] = (_stepped_loss(layer.cell, x, R, seen, t, n, k, eps)
                               - _stepped_loss(layer.cell, x, R, seen, t, n, k, -eps)) / (2 * eps)
    assert np.max(np.abs(dh - fd)) < 1e-7 * max(1.0, np.max(np.abs(fd)))
    norms = rec.norms()[layer.name]
    np.testing.assert_allclose(norms, np.linalg.norm(fd, axis=-1).mean(axis=0), rtol=1e-6)


def test_recording_leaves_gradients_unchanged_and_default_path_alone():
    """Weight gradients with recording (NumPy loop) equal those without (the compiled loop when available);
    outside the block no sink is set; the compiled twins decline dh_out."""
    x, y = experiments.first_token_batch(8, 12, 3)
    model = experiments.build("lstm", 12, 5, 3)
    model.compute_gradients(x, y)
    plain = [g.copy() for _, g in model.parameters()]
    with diagnostics.record_hidden_gradients() as rec:
        model.compute_gradients(x, y)
    for a, (_, b) in zip(plain, model.parameters()):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-7)
    assert rec.gradients()["lstm"].shape == (8, 12, 5) and len(rec.records) == 1
    assert rnn_module._HIDDEN_GRADIENT_SINK.get() is None
    if kernels.available():
        from rnnlab.layers.simple_rnn import simple_rnn_backward_loop
        dH = np.zeros((2, 1, 2), np.float32)
        with pytest.raises(kernels.Decline):
            simple_rnn_backward_loop.twin()(dH, dH[0], np.zeros((3, 1, 2), np.float32), dH.copy(),
                                            np.eye(2, dtype=np.float32), dh_out=np.empty_like(dH))


def test_custom_sink_and_errors():
    seen = []
    layer = layers.GRU(2, return_sequences=True)
    layer.forward(np.ones((1, 4, 3), np.float32))
    with rnn_module.hidden_gradient_sink(lambda lay, dh, cache: seen.append((lay.name, dh.shape))):
        layer.backward(np.ones((1, 4, 2), np.float32))
    assert seen == [(layer.name, (4, 1, 2))]
    with pytest.raises(TypeError, match="callable"):
        with rnn_module.hidden_gradient_sink(3):
            pass
    with pytest.raises(ValueError, match="reduce"):
        diagnostics.step_norms(np.ones((1, 2, 3)), "max")


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_state_jacobians(cls):
    """J[:, T-1] = I; for SimpleRNN J_t = Π diag(1 - h²) W_hᵀ; for all cells rows match finite differences;
    the layer's gradients are left as they were."""
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 4, 3, 3
    layer = cls(H, return_sequences=True, dtype="float64", seed=2)
    x = rng.normal(size=(N, T, D))
    layer.forward(x)
    layer.backward(np.ones((N, T, H)))
    before = [g.copy() for g in layer.get_gradients()]
    J = diagnostics.state_jacobians(layer, x)
    assert J.shape == (N, T, H, H)
    np.testing.assert_allclose(J[:, -1], np.broadcast_to(np.eye(H), (N, H, H)), atol=1e-12)
    for a, b in zip(before, layer.get_gradients()):
        np.testing.assert_array_equal(a, b)
    # finite differences of h_{T-1} with respect to h_t through the one-step API
    eps, t = 1e-6, 1
    for k in range(H):
        outs = []
        for sign in (1, -1):
            states = None
            for s in range(T):
                h, states, _ = layer.cell.step(x[:, s], states)
                if s == t:
                    h = h.copy()
                    h[:, k] += sign * eps
                    states = [h] + list(states[1:])
            outs.append(h)
        np.testing.assert_allclose(J[:, t, :, k], (outs[0] - outs[1]) / (2 * eps), atol=1e-7)
    norms = diagnostics.state_jacobian_norms(layer, x)
    assert norms.shape == (N, T) and np.allclose(norms[:, -1], 1.0)
    if cls is layers.SimpleRNN:
        W = layer.cell._params["recurrent_kernel"]
        Hs = layer.forward(x)                                            # (N, T, H)
        for n in range(N):
            P = np.eye(H)
            for s in range(T - 1, 0, -1):                                # ∂h_s/∂h_{s-1} = diag(1 - h_s²) W_hᵀ
                P = P @ (np.diag(1 - Hs[n, s] ** 2) @ W.T)
                np.testing.assert_allclose(J[n, s - 1], P, atol=1e-10)


def test_spectral_radius_saturation_and_gradient_norms():
    W = np.array([[0.0, 2.0], [-2.0, 0.0]])                              # eigenvalues ±2i
    assert diagnostics.spectral_radius(W) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="square"):
        diagnostics.spectral_radius(np.ones((2, 3)))
    x, y = experiments.first_token_batch(4, 6, 3)
    model = experiments.build("lstm", 6, 4, 3)
    radii = diagnostics.spectral_radii(model)
    assert list(radii) == ["lstm"] and list(radii["lstm"]) == ["i", "f", "c", "o"]
    model.layers[0].cell._params["bias"][4:8] = 50.0                     # forget gate fully open: saturated
    report = diagnostics.diagnose_batch(model, x, y, jacobian_samples=2)
    assert report.saturation["lstm"]["f"] == 1.0
    assert all(0.0 <= v <= 1.0 for v in report.saturation["lstm"].values())
    assert report.jacobian["lstm"].shape == (6,)
    for name, value in report.parameter_gradients.items():
        layer_name, weight = name.split("/")
        layer = {lay.name: lay for lay in model.layers}[layer_name]
        assert value == pytest.approx(float(np.linalg.norm(layer._grads[weight])))
    scalars = report.scalars()
    assert scalars["spectral_radius/lstm/f"] == pytest.approx(radii["lstm"]["f"])
    assert "hidden_grad/lstm/decay_per_step" in scalars and "grad_norm/lstm/recurrent_kernel" in scalars


def test_decay_per_step():
    norms = 0.5 * 0.9 ** np.arange(20)[::-1]                              # shrinks 0.9 per step back
    assert diagnostics.decay_per_step(norms) == pytest.approx(0.9)
    assert np.isnan(diagnostics.decay_per_step([0.0, 1.0]))


def test_gradient_flow_callback_records_during_fit():
    x, y = experiments.first_token_batch(64, 10, 3)
    model = experiments.build("gru", 10, 4, 3)
    flow = diagnostics.GradientFlow(every_n_batches=3)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[flow])
    assert [s[2] for s in flow.steps] == [0, 3, 6]                        # 4 steps per epoch, every 3rd
    assert len(flow.history["hidden_grad/gru/last"]) == 3
    assert flow.reports[0].hidden["gru"].shape == (10,)
    assert rnn_module._HIDDEN_GRADIENT_SINK.get() is None
    per_epoch = diagnostics.GradientFlow()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[per_epoch])
    assert [s[:2] for s in per_epoch.steps] == [(0, 0), (1, 0)]
    with pytest.raises(ValueError, match="every_n_batches"):
        diagnostics.GradientFlow(every_n_batches=0)


def test_experiments_show_vanishing_and_exploding():
    rows = {r["name"]: r for r in experiments.vanishing(steps=40, units=8, classes=3, batch=8)}
    simple, gru_open = rows["simple_rnn (Keras init)"], rows["gru (b_z=log T)"]
    assert simple["decay_per_step"] < 0.95 and simple["ratio"] < 1e-2
    assert gru_open["ratio"] > 0.1
    out = experiments.exploding(steps=40, units=16, classes=3, batch=8, rho=3.0, train_steps=3)
    assert out["row"]["ratio"] > 100                                     # grows with the distance
    runs = list(out["runs"].values())
    assert max(runs[1]["update_norm"]) <= 0.05 * 1.0 + 1e-6              # lr · clip
    assert runs[0]["update_norm"][0] > 100 * max(runs[1]["update_norm"])


def test_diagnose_cli_writes_plots(tmp_path, capsys):
    import argparse

    from rnnlab.diagnostics import cli
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["diagnose", "--steps", "12", "--units", "4", "--batch", "4", "--train-steps", "2",
                              "--out", str(tmp_path)])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "simple_rnn (Keras init)" in text and "global_clipnorm=1" in text
    for name in ("vanishing.png", "exploding.png", "remedies.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "diagnose.json").stat().st_size > 0
