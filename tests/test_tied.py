"""TiedDense: the output layer that uses the Embedding's table transposed (Press & Wolf 2017)."""
import json
import re

import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers, models, optimizers
from rnnlab.layers import recording

V, E, N, T = 7, 4, 3, 5


def _ids(rng, mask_zero):
    """(N, T) ids; with padding, rows end in 0s of different lengths (row 0 unpadded)."""
    x = rng.integers(1, V, size=(N, T))
    if mask_zero:
        x[1, 3:] = 0
        x[2, 2:] = 0
    return x


def _tied_model(rng, mask_zero=False, scale=0.5):
    emb = layers.Embedding(V, E, mask_zero=mask_zero, name="emb")
    model = models.Sequential([emb, layers.LSTM(E, return_sequences=True, name="lstm"),
                               layers.TiedDense(emb, activation="softmax", name="out")])
    model.build((None, T))
    for layer in model.layers:
        layer.set_weights([rng.standard_normal(w.shape) * scale for w in layer.get_weights()])
    return model


def _untied_twin(model):
    """The same network with a separate Dense(V) whose kernel is a copy of Eᵀ: its embedding gradient is the
    embedding-only contribution, its Dense kernel gradient (transposed) the output-only one."""
    emb = model.layers[0]
    twin = models.Sequential([layers.Embedding(V, E, mask_zero=emb.mask_zero),
                              layers.LSTM(E, return_sequences=True),
                              layers.Dense(V, activation="softmax")])
    twin.build((None, T))
    (E_,), (k, rk, b), (bias,) = (layer.get_weights() for layer in model.layers)
    twin.set_weights([E_, k, rk, b, E_.T.copy(), bias])
    return twin


def _separate_contributions(model, x, y):
    twin = _untied_twin(model)
    twin.compile("sgd", "sparse_categorical_crossentropy")
    loss, _, _ = twin.compute_gradients(x, y)
    d_emb = twin.layers[0]._grads["embeddings"].copy()                 # through the lookup E[x]
    d_out = twin.layers[2]._grads["kernel"].T.copy()                   # through the logits h · Eᵀ
    return loss, d_emb, d_out, twin


# ---- the layer on its own ------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(N, E), (N, T, E)])
def test_layer_gradients_by_finite_differences(float64, rng, shape):
    emb = layers.Embedding(V, E)
    emb.build((None, T))
    emb.set_weights([rng.standard_normal((V, E))])
    tied = layers.TiedDense(emb, activation="tanh", bias_initializer="ones")
    x = rng.standard_normal(shape)
    y = tied.forward(x)
    assert y.shape == shape[:-1] + (V,)
    np.testing.assert_allclose(y, np.tanh(x @ emb.get_weights()[0].T + 1.0), rtol=1e-12)
    R, = projections([y], seed=3)
    dx, = tied.backward(R)
    dE, db = emb._grads["embeddings"].copy(), tied._grads["bias"].copy()
    loss = lambda: projected_loss([tied.forward(x)], [R])          # noqa: E731
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-8
    assert rel_error(dE, numeric_grad(loss, emb._params["embeddings"])) < 1e-8
    assert rel_error(db, numeric_grad(loss, tied._params["bias"])) < 1e-8
    assert [w.shape for w in tied.weights] == [(V,)] and tied.count_params() == V
    assert len(tied.parameters()) == 1 and tied.parameters()[0][0] is tied._params["bias"]


def test_layer_called_twice_backpropagates_both_calls(float64, rng):
    emb = layers.Embedding(V, E)
    emb.build((None, T))
    tied = layers.TiedDense(emb, use_bias=False)
    x1, x2 = rng.standard_normal((2, E)), rng.standard_normal((4, 3, E))
    R1, R2 = rng.standard_normal((2, V)), rng.standard_normal((4, 3, V))
    with recording():
        tied.forward(x1)
        tied.forward(x2)
        dx2, = tied.backward(R2)
        dx1, = tied.backward(R1)
    assert not tied._calls
    E_ = emb.get_weights()[0]
    expected = R1.T @ x1 + R2.reshape(-1, V).T @ x2.reshape(-1, E)
    np.testing.assert_allclose(emb._grads["embeddings"], expected, rtol=1e-12)
    np.testing.assert_allclose(dx1, R1 @ E_, rtol=1e-12)
    np.testing.assert_allclose(dx2, R2 @ E_, rtol=1e-12)
    assert tied.weights == [] and tied.parameters() == []


# ---- a whole language model ----------------------------------------------------------------------

@pytest.mark.parametrize("mask_zero", [False, True])
def test_model_gradients_by_finite_differences(float64, rng, mask_zero):
    model = _tied_model(rng, mask_zero)
    x, y = _ids(rng, mask_zero), rng.integers(0, V, size=(N, T))
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model._fused()
    model.compute_gradients(x, y)
    assert all(not layer._calls for layer in model.all_layers())        # every record consumed
    params = model.parameters()
    emb_w = model.layers[0]._params["embeddings"]
    assert [id(p) for p, _ in params].count(id(emb_w)) == 1              # E listed once
    assert len(params) == 1 + 3 + 1                                      # E; LSTM kernel, recurrent, bias; b
    analytic = [g.copy() for _, g in params]
    loss = lambda: model.compute_gradients(x, y)[0]                      # noqa: E731
    for (w, _), g in zip(params, analytic):
        assert np.abs(g).max() > 0
        assert rel_error(g, numeric_grad(loss, w)) < 1e-7


@pytest.mark.parametrize("mask_zero", [False, True])
def test_tied_gradient_is_the_sum_of_both_uses(float64, rng, mask_zero):
    model = _tied_model(rng, mask_zero)
    x, y = _ids(rng, mask_zero), rng.integers(0, V, size=(N, T))
    model.compile("sgd", "sparse_categorical_crossentropy")
    loss, _, _ = model.compute_gradients(x, y)
    tied_grad = model.layers[0]._grads["embeddings"].copy()
    twin_loss, d_emb, d_out, twin = _separate_contributions(model, x, y)
    assert loss == pytest.approx(twin_loss, rel=1e-12)
    assert np.abs(d_emb).max() > 0 and np.abs(d_out).max() > 0
    np.testing.assert_allclose(tied_grad, d_emb + d_out, rtol=1e-10, atol=1e-14)
    assert not np.allclose(tied_grad, d_emb) and not np.allclose(tied_grad, d_out)
    np.testing.assert_allclose(model.layers[2]._grads["bias"], twin.layers[2]._grads["bias"], rtol=1e-10)
    # rows never looked up at a kept step (the padding id 0 among them) get only the output use's gradient
    unused = np.setdiff1d(np.arange(V), np.unique(x[x != 0]))
    assert 0 in unused
    np.testing.assert_allclose(tied_grad[unused], d_out[unused], rtol=1e-10, atol=1e-14)


def test_one_sgd_step_updates_the_embedding_once_by_both_contributions(float64, rng):
    model = _tied_model(rng)
    x, y = _ids(rng, False), rng.integers(0, V, size=(N, T))
    lr = 0.1
    model.compile(optimizers.SGD(learning_rate=lr), "sparse_categorical_crossentropy")
    E0, b0 = model.layers[0].get_weights()[0], model.layers[2].get_weights()[0]
    _, d_emb, d_out, twin = _separate_contributions(model, x, y)
    db = twin.layers[2]._grads["bias"].copy()
    model.train_on_batch(x, y)
    np.testing.assert_allclose(model.layers[0].get_weights()[0], E0 - lr * (d_emb + d_out), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.layers[2].get_weights()[0], b0 - lr * db, rtol=1e-12, atol=1e-15)
    # the output layer reads the updated table (no copy was kept)
    h = model.layers[1].forward(model.layers[0].forward(x))
    z = h @ model.layers[0].get_weights()[0].T + model.layers[2].get_weights()[0]
    p = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(model.predict(x, verbose=0), p / p.sum(-1, keepdims=True), rtol=1e-10)


def test_flat_gradients_keep_both_contributions(float64, rng):
    model = _tied_model(rng)
    x, y = _ids(rng, False), rng.integers(0, V, size=(N, T))
    lr = 0.05
    model.compile(optimizers.SGD(learning_rate=lr), "sparse_categorical_crossentropy")
    model.compute_gradients(x, y)
    before = [g.copy() for _, g in model.parameters()]
    flat = model.flat_gradients()
    emb = model.layers[0]
    assert emb._grads["embeddings"].base is flat
    assert flat.size == V * E + model.layers[1].count_params() + V      # E once
    _, d_emb, d_out, _ = _separate_contributions(model, x, y)
    E0 = emb.get_weights()[0]
    model.compute_gradients(x, y)
    assert emb._grads["embeddings"].base is flat                         # still the view: written in place
    np.testing.assert_allclose(flat[:V * E].reshape(V, E), d_emb + d_out, rtol=1e-10, atol=1e-14)
    for (_, g), g0 in zip(model.parameters(), before):
        np.testing.assert_allclose(g, g0, rtol=1e-12, atol=1e-15)
    model.apply_gradients()
    np.testing.assert_allclose(emb.get_weights()[0], E0 - lr * (d_emb + d_out), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mask_zero", [False, True])
def test_step_equals_the_whole_sequence(float64, rng, mask_zero):
    model = _tied_model(rng, mask_zero)
    x = _ids(rng, mask_zero)
    whole = model.predict(x, verbose=0)
    states, steps = None, []
    for t in range(T):
        y_t, states = model.step(x[:, t], states)
        steps.append(y_t)
    stepped = np.stack(steps, axis=1)
    keep = x != 0 if mask_zero else np.ones_like(x, dtype=bool)
    np.testing.assert_allclose(stepped[keep], whole[keep], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(stepped.sum(-1), 1.0, rtol=1e-12)


def test_functional_model_matches_sequential(float64, rng):
    seq = _tied_model(rng)
    inp = layers.Input((None,), dtype="int64")
    emb = layers.Embedding(V, E, name="f_emb")
    h = layers.LSTM(E, return_sequences=True, name="f_lstm")(emb(inp))
    out = layers.TiedDense(emb, activation="softmax", name="f_out")(h)
    fmodel = models.Model(inp, out)
    fmodel.set_weights(seq.get_weights())
    x, y = _ids(rng, False), rng.integers(0, V, size=(N, T))
    np.testing.assert_allclose(fmodel.predict(x, verbose=0), seq.predict(x, verbose=0), rtol=1e-12)
    for m in (seq, fmodel):
        m.compile("sgd", "sparse_categorical_crossentropy")
        m.compute_gradients(x, y)
    for (_, g1), (_, g2) in zip(seq.parameters(), fmodel.parameters()):
        np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)


# ---- saving ----------------------------------------------------------------------------------------

def test_save_load_round_trip_sequential(tmp_path, rng):
    x, y = rng.integers(1, 12, size=(8, 6)), rng.integers(1, 12, size=(8, 6))
    emb = layers.Embedding(12, 5, mask_zero=True, name="emb")
    model = models.Sequential([emb, layers.LSTM(5, return_sequences=True, name="lstm"),
                               layers.TiedDense(emb, activation="softmax", name="out")])
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "lm"
    models.save_model(model, path)

    config = json.loads((path / "config.json").read_text())
    out_cfg = config["config"]["layers"][2]
    assert out_cfg["class_name"] == "TiedDense" and out_cfg["config"]["embedding"] == "emb"
    from safetensors.numpy import load_file
    tensors = load_file(str(path / "model.safetensors"))
    assert sorted(tensors) == ["000_emb/embeddings", "001_lstm/bias", "001_lstm/kernel",
                               "001_lstm/recurrent_kernel", "002_out/bias"]            # E once
    assert sum(t.size for t in tensors.values()) == model.count_params() == 12 * 5 + 4 * 5 * (5 + 5 + 1) + 12

    loaded = models.load_model(path)
    assert loaded.layers[2].embedding is loaded.layers[0]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    E_before = loaded.layers[0].get_weights()[0]
    loaded.fit(x, y, epochs=1, verbose=0)                                # trains on, the tie intact
    assert not np.array_equal(loaded.layers[0].get_weights()[0], E_before)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], tensors["000_emb/embeddings"])


def test_save_load_round_trip_functional(tmp_path, rng):
    inp = layers.Input((None,), dtype="int64")
    emb = layers.Embedding(9, 4, name="emb")
    h = layers.LSTM(4, return_sequences=True)(emb(inp))
    out = layers.TiedDense(emb, activation="softmax", name="tied")(h)
    model = models.Model(inp, out)
    x = rng.integers(0, 9, size=(3, 5))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, rng.integers(0, 9, size=(3, 5)), epochs=1, verbose=0)
    models.save_model(model, tmp_path / "f")
    loaded = models.load_model(tmp_path / "f")
    tied = loaded.get_layer("tied")
    assert tied.embedding is loaded.get_layer("emb")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ---- errors ----------------------------------------------------------------------------------------

def test_error_not_an_embedding():
    with pytest.raises(TypeError, match="TiedDense expects an Embedding layer .*got Dense"):
        layers.TiedDense(layers.Dense(3))
    with pytest.raises(TypeError, match="TiedDense expects an Embedding layer"):
        layers.TiedDense(None)


def test_error_feature_size(rng):
    emb = layers.Embedding(10, 8, name="emb")
    model = models.Sequential([emb, layers.LSTM(6, return_sequences=True),
                               layers.TiedDense(emb, activation="softmax", name="x")])
    msg = ("TiedDense 'x' ties to embedding 'emb' of output_dim 8, so its inputs need 8 features, got shape "
           "(2, 5, 6); give the last recurrent layer 8 units or add a Dense projection to 8")
    with pytest.raises(ValueError, match=re.escape(msg)):
        model.predict(rng.integers(0, 10, size=(2, 5)), verbose=0)


def test_error_embedding_not_built():
    emb = layers.Embedding(10, 4, name="emb")
    tied = layers.TiedDense(emb, name="t")
    with pytest.raises(ValueError, match="TiedDense 't' ties to embedding 'emb', which is not built yet"):
        tied.forward(np.ones((2, 4)))


def test_error_name_not_linked_and_bad_links(rng):
    tied = layers.TiedDense("emb", name="t")
    with pytest.raises(ValueError, match="ties to embedding 'emb' by name, which is not linked"):
        tied.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"has no layer of that name; its layers are \['dense'\]"):
        tied.link([layers.Dense(3)])
    with pytest.raises(TypeError, match="ties to layer 'emb', which is a Dense, not an Embedding"):
        tied.link({"emb": layers.Dense(3)})
    emb = layers.Embedding(10, 4, name="emb")
    emb.build((None, 3))
    tied.link([emb])
    assert tied.embedding is emb
    assert tied.forward(np.ones((2, 4))).shape == (2, 10)


def test_error_dtype_mismatch():
    emb = layers.Embedding(10, 4, name="emb", dtype="float64")
    emb.build((None, 3))
    assert layers.TiedDense(emb).dtype == np.float64                     # the embedding's by default
    with pytest.raises(ValueError, match="has dtype float32, but its embedding 'emb' has float64"):
        layers.TiedDense(emb, dtype="float32").forward(np.ones((2, 4)))
