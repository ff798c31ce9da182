"""Seed 004: use every hidden state of a return_sequences=True RNN, by mean or by concatenation;
and the other building blocks inside real models (masks, summary, training, saving)."""
import numpy as np
import pytest

models = pytest.importorskip("rnnlab.models")
from gradcheck import numeric_grad, rel_error  # noqa: E402
from rnnlab import backend, layers  # noqa: E402


def _mean_model():
    model = models.Sequential()
    model.add(layers.Embedding(30, 6, mask_zero=True))
    model.add(layers.SimpleRNN(5, return_sequences=True))
    model.add(layers.GlobalAveragePooling1D())
    model.add(layers.Dense(2, activation="softmax"))
    return model


def test_mean_of_states_ignores_padding(rng):
    model = _mean_model()
    ids = np.array([[4, 9, 2, 0, 0, 0], [7, 0, 0, 0, 0, 0]])
    short = model.predict(ids[:, :4], verbose=0)
    long = model.predict(ids, verbose=0)                         # more padding, same real steps
    np.testing.assert_allclose(short, long, rtol=1e-6)
    # by hand: mean of the RNN's outputs over the real steps only
    emb, rnn, pool, dense = model.layers
    h = rnn.forward(emb.forward(ids), mask=ids != 0)             # (N, T, H)
    mean = np.stack([h[0, :3].mean(axis=0), h[1, :1].mean(axis=0)])
    np.testing.assert_allclose(pool.forward(h, mask=ids != 0), mean, rtol=1e-6)


def test_concat_of_states_summary_and_training(capsys):
    backend.set_random_seed(3)
    model = models.Sequential()
    model.add(layers.Embedding(30, 6, input_length=7))
    model.add(layers.SimpleRNN(5, return_sequences=True))
    model.add(layers.Flatten())                                  # 7 states of 5 -> 35 features
    model.add(layers.Dense(2, activation="softmax"))
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 7, 5)" in out and "(None, 35)" in out
    assert model.layers[-1].count_params() == 35 * 2 + 2
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(64, 7))
    y = (x[:, 0] > 15).astype(int)                               # the label sits at the first step
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    first = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert loss < 0.5 * first and acc > 0.9


def test_whole_model_gradient_through_every_block(float64, rng):
    """Finite differences through a Sequential built of the new blocks, mask included."""
    model = models.Sequential()
    for layer in [layers.Embedding(12, 4, mask_zero=True),
                  layers.LayerNormalization(),
                  layers.Dropout(0.3, seed=1),
                  layers.TimeDistributed(layers.Dense(5, activation="tanh")),
                  layers.GlobalMaxPooling1D()]:
        model.add(layer)
    ids = np.array([[3, 5, 7, 0], [2, 11, 0, 0], [9, 1, 4, 6]])
    R = rng.standard_normal((3, 5))
    drop = model.layers[2]

    def loss():
        drop._rng = backend.rng(1)                               # the same dropout mask every evaluation
        return float(np.sum(model._forward(ids, training=True) * R))

    loss()
    for layer in model.layers:
        layer.zero_grad()
    drop._rng = backend.rng(1)
    model._forward(ids, training=True)
    model._backward(R)
    for layer in model.layers:
        for w, g in zip(layer.weights, layer.get_gradients()):
            assert rel_error(g, numeric_grad(loss, w)) < 1e-6


def test_save_and_load_every_block(tmp_path, rng):
    model = models.Sequential()
    for layer in [layers.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="relu", input_shape=(20, 4)),
                  layers.AveragePooling1D(2, padding="same"),
                  layers.LayerNormalization(epsilon=1e-5),
                  layers.Dropout(0.2, noise_shape=(None, 1, None)),
                  layers.TimeDistributed(layers.Dense(3)),
                  layers.MaxPooling1D(2, strides=1),
                  layers.Flatten(),
                  layers.Dense(2)]:
        model.add(layer)
    x = rng.standard_normal((5, 20, 4)).astype(np.float32)
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m")
    again = models.load_model(tmp_path / "m")
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_allclose(again.predict(x, verbose=0), before, rtol=1e-6)
