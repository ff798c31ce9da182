"""Functional models built the same way in real Keras 3 (torch backend) and in rnnlab: Keras's weights
copied in, the same outputs (float32, 1e-5) and the same weights after one optimiser step."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip("these tests compare with Keras on its torch backend", allow_module_level=True)

import rnnlab  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")      # Keras 3 variables vs NumPy 2


def encoder_decoder_attention(K, mask_zero=True, kind="dot", V=11, E=6, H=8):
    L = K.layers
    src, tgt = K.Input((7,), dtype="int32"), K.Input((5,), dtype="int32")
    emb_s, emb_t = L.Embedding(V, E, mask_zero=mask_zero), L.Embedding(V, E, mask_zero=mask_zero)
    enc = L.LSTM(H, return_sequences=True, return_state=True)
    dec = L.GRU(H, return_sequences=True)
    att = L.AdditiveAttention() if kind == "additive" else L.Attention(use_scale=True, score_mode=kind)
    out = L.Dense(V, activation="softmax")
    e, h, _ = enc(emb_s(src))
    d = dec(emb_t(tgt), initial_state=[h])
    y = out(L.Concatenate()([d, att([d, e])]))
    return K.Model([src, tgt], y), [emb_s, emb_t, enc, dec, att, out]


def fan_out_merges(K):
    L = K.layers
    W = []                                                # the layers with weights, in creation order

    def w(layer):
        W.append(layer)
        return layer

    v, s = K.Input((4,)), K.Input((6, 3))
    a = w(L.Dense(5, activation="tanh"))(v)
    r = L.RepeatVector(6)(a)
    seq = w(L.SimpleRNN(5, return_sequences=True))(L.Concatenate()([r, s]))
    m = L.Add()([seq, r])
    p = L.Multiply()([m, L.Permute((1, 2))(r)])
    h = w(L.Bidirectional(L.LSTM(3)))(L.Average()([p, m]))
    d = L.Dot(axes=1, normalize=True)([w(L.Dense(3))(a), w(L.Dense(3))(a)])
    y1 = w(L.Dense(2, activation="softmax"))(L.Concatenate()([h, a]))
    y2 = w(L.Dense(1))(L.Maximum()([w(L.Dense(1))(h), d]))
    return K.Model([v, s], [y1, y2]), W


def _copy(k_model, r_model, pairs=None):
    if pairs is None:
        k_layers = [l for l in k_model.layers if l.weights]
        r_layers = [l for l in r_model.layers if l.weights]
        pairs = list(zip(k_layers, r_layers))
    for kl, rl in pairs:
        rl.set_weights([np.asarray(w) for w in kl.get_weights()])


def _build(fn, **kwargs):
    k_model, k_layers = fn(keras, **kwargs)
    r_model, r_layers = fn(rnnlab, **kwargs)
    pairs = None if k_layers is None else list(zip(k_layers, r_layers))
    rng = np.random.default_rng(0)
    for kl in (k_layers or [l for l in k_model.layers if l.weights]):
        kl.set_weights([rng.standard_normal(np.shape(w)).astype("float32") * 0.5 for w in kl.get_weights()])
    _copy(k_model, r_model, pairs)
    return k_model, r_model, pairs


def _ids(rng, N, T, V=11):
    x = rng.integers(1, V, size=(N, T)).astype("int32")
    x[0, T - 2:] = 0
    x[1, T - 1:] = 0
    return x


@pytest.mark.parametrize("kind", ["dot", "concat", "additive"])
@pytest.mark.parametrize("mask_zero", [False, True])
def test_encoder_decoder_with_attention_outputs(kind, mask_zero):
    k_model, r_model, _ = _build(encoder_decoder_attention, mask_zero=mask_zero, kind=kind)
    rng = np.random.default_rng(1)
    x = [_ids(rng, 4, 7), _ids(rng, 4, 5)]
    np.testing.assert_allclose(r_model.predict(x, verbose=0), np.asarray(k_model.predict(x, verbose=0)), **TOL)


def test_fan_out_and_merge_layers_outputs():
    k_model, r_model, _ = _build(fan_out_merges)
    rng = np.random.default_rng(2)
    x = [rng.standard_normal((3, 4)).astype("float32"), rng.standard_normal((3, 6, 3)).astype("float32")]
    for got, want in zip(r_model.predict(x, verbose=0), k_model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, np.asarray(want), **TOL)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_optimiser_step_encoder_decoder(optimizer):
    k_model, r_model, pairs = _build(encoder_decoder_attention, mask_zero=False)
    rng = np.random.default_rng(3)
    x, y = [_ids(rng, 6, 7), _ids(rng, 6, 5)], rng.integers(0, 11, size=(6, 5))
    make = {"sgd": lambda K: K.optimizers.SGD(0.1), "adam": lambda K: K.optimizers.Adam(0.01)}[optimizer]
    k_model.compile(make(keras), "sparse_categorical_crossentropy")
    r_model.compile(make(rnnlab), "sparse_categorical_crossentropy")
    k_loss = float(np.asarray(k_model.train_on_batch(x, y)))
    r_loss = r_model.train_on_batch(x, y)
    assert r_loss == pytest.approx(k_loss, rel=1e-5)
    for kl, rl in pairs:
        for kw, rw in zip(kl.get_weights(), rl.get_weights()):
            np.testing.assert_allclose(rw, np.asarray(kw), **TOL)


def test_one_optimiser_step_two_outputs_with_loss_weights():
    k_model, r_model, pairs = _build(fan_out_merges)
    rng = np.random.default_rng(4)
    x = [rng.standard_normal((5, 4)).astype("float32"), rng.standard_normal((5, 6, 3)).astype("float32")]
    y = [rng.integers(0, 2, size=5), rng.standard_normal((5, 1)).astype("float32")]
    for K, m in ((keras, k_model), (rnnlab, r_model)):
        m.compile(K.optimizers.Adam(0.01), ["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.3])
    k_loss = np.asarray(k_model.train_on_batch(x, y)).ravel()[0]
    r_loss = r_model.train_on_batch(x, y)
    r_loss = r_loss[0] if isinstance(r_loss, list) else r_loss
    assert r_loss == pytest.approx(float(k_loss), rel=1e-5)
    for kl, rl in pairs:
        for kw, rw in zip(kl.get_weights(), rl.get_weights()):
            np.testing.assert_allclose(rw, np.asarray(kw), **TOL)
