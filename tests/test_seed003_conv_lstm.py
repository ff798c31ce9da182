"""Seed 003: LSTMs forget beyond ~100 steps; shortening the sequence with Conv1D + MaxPooling1D first
lets them see patterns that lie far apart.

Task (generated, T = 200): random filler tokens; class 1 iff marker 1 sits in the first 10 steps
AND marker 2 in the last 10. Half the samples are positive; each negative has exactly one of the
two markers, so a model that looks at only one end is capped at 75 % accuracy.
"""
import numpy as np
import pytest

models = pytest.importorskip("rnnlab.models")
from rnnlab import backend, layers, optimizers  # noqa: E402

T, VOCAB = 200, 20


def make_data(n, rng):
    x = rng.integers(3, VOCAB, size=(n, T))                      # filler tokens 3..19
    kind = rng.choice(3, size=n, p=[0.5, 0.25, 0.25])            # 0: both markers, 1: start only, 2: end only
    rows = np.arange(n)
    start, end = kind != 2, kind != 1
    x[rows[start], rng.integers(0, 10, n)[start]] = 1
    x[rows[end], rng.integers(T - 10, T, n)[end]] = 2
    return x, (kind == 0).astype(np.float32)[:, None]


def test_conv_pool_lstm_learns_far_apart_markers():
    backend.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(800, rng)
    x_test, y_test = make_data(400, rng)

    model = models.Sequential()
    model.add(layers.Embedding(VOCAB, 8))
    model.add(layers.Conv1D(16, 5, padding="same", activation="relu"))
    model.add(layers.MaxPooling1D(20))                            # 200 steps -> 10 for the LSTM
    model.add(layers.LSTM(16))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer=optimizers.Adam(0.005), loss="binary_crossentropy", metrics=["accuracy"])
    model.build((None, T))
    assert model.layers[2].compute_output_shape((None, T, 16)) == (None, 10, 16)
    assert model.count_params() == 160 + (5 * 8 * 16 + 16) + (4 * 16 * (16 + 16 + 1)) + 17

    model.fit(x_train, y_train, batch_size=32, epochs=8, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.9, f"test accuracy {accuracy:.3f}: the model did not combine both ends"
