import numpy as np
import pytest

from rnnlab import callbacks, layers, models, optimizers, utils


def test_seed004_stacked_rnn_summary_and_training(capsys):
    from rnnlab import models, layers            # the only change to the notes' code is this import

    model1 = models.Sequential()
    model1.add(layers.Embedding(100, 128))
    model1.add(layers.SimpleRNN(64, return_sequences = True))
    model1.add(layers.SimpleRNN(32))
    model1.add(layers.Dense(2, activation = 'softmax'))
    model1.summary()

    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "(Embedding)" in lines["embedding"] and "(None, None, 128)" in lines["embedding"]
    assert lines["embedding"].rstrip().endswith("12,800")
    assert "(None, None, 64)" in lines["simple_rnn"] and lines["simple_rnn"].rstrip().endswith("12,352")
    assert "(None, 32)" in lines["simple_rnn_1"] and lines["simple_rnn_1"].rstrip().endswith("3,104")
    assert "(None, 2)" in lines["dense"] and lines["dense"].rstrip().endswith("66")
    assert "Total params: 28,322" in out
    assert "Trainable params: 28,322" in out and "Non-trainable params: 0" in out
    assert model1.count_params() == 28322

    rng = np.random.default_rng(0)
    x = rng.integers(1, 100, size=(128, 8))
    y = (x[:, 0] < 50).astype(int)               # sentiment-like: decided by one word
    model1.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model1.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_lstm_classifier_learns_quickly():
    """Label: does token 1 occur anywhere in the sequence (the LSTM must keep it until the end)."""
    utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.integers(1, 11, size=(600, 8))
    y = (x == 1).any(axis=1).astype(int)                               # 57% positives
    model = models.Sequential([layers.Embedding(11, 8), layers.LSTM(16), layers.Dense(2, activation="softmax")])
    model.compile(optimizers.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, validation_split=0.2)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.95


def test_many_to_many_with_padding_learns_and_ignores_padded_steps():
    """Tag each real step with the PREVIOUS token's class (one step of memory); sequences are padded."""
    utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    n, T, K = 600, 8, 3
    x = rng.integers(1, K + 1, size=(n, T))
    lengths = rng.integers(3, T + 1, size=n)
    x[np.arange(T)[None, :] >= lengths[:, None]] = 0                   # pad after each length
    y = np.zeros((n, T), dtype=int)
    y[:, 1:] = np.maximum(x[:, :-1] - 1, 0)
    y[x == 0] = 2                                                       # garbage targets at padded steps
    model = models.Sequential([layers.Embedding(K + 1, 8, mask_zero=True),
                               layers.GRU(16, return_sequences=True),
                               layers.Dense(K, activation="softmax")])
    model.compile(optimizers.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95                       # over real steps only
    p = model.predict(x)
    real = x != 0
    acc_real = np.mean(p.argmax(-1)[real] == y[real])
    assert acc_real > 0.95
    # the reported accuracy is over real steps: it equals acc_real on this data, not the all-steps value
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc == pytest.approx(acc_real)


def test_mask_flows_through_the_model():
    model = models.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.LSTM(5),
                               layers.Dense(2, activation="softmax")])
    padded = model.predict(np.array([[3, 5, 0, 0]]))
    short = model.predict(np.array([[3, 5]]))
    np.testing.assert_allclose(padded, short, rtol=1e-6)
    assert not np.allclose(padded, model.predict(np.array([[3, 5, 1, 1]])))


def test_validation_split_takes_the_last_part_before_shuffling():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 4)), rng.integers(0, 3, size=50)
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=0)
    val_loss, val_acc = model.evaluate(x[40:], y[40:], batch_size=8, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-12)
    assert history.history["val_accuracy"][-1] == pytest.approx(val_acc, rel=1e-12)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_predict_is_batched_and_matches_one_pass():
    rng = np.random.default_rng(4)
    x = rng.integers(1, 10, size=(70, 5))
    model = models.Sequential([layers.Embedding(10, 3), layers.SimpleRNN(4), layers.Dense(2)])
    full = model.predict(x, batch_size=1000)
    np.testing.assert_allclose(model.predict(x, batch_size=16), full, rtol=1e-6)
    assert full.shape == (70, 2)


def _train_once(seed):
    utils.set_random_seed(seed)
    rng = np.random.default_rng(0)
    x, y = rng.integers(1, 20, size=(64, 6)), rng.integers(0, 2, size=64)
    model = models.Sequential([layers.Embedding(20, 4), layers.GRU(5), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=16, shuffle=True, verbose=0)
    return model.get_weights(), history.history["loss"]


def test_same_seed_same_weights_and_losses_bit_for_bit():
    w1, l1 = _train_once(7)
    w2, l2 = _train_once(7)
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    w3, _ = _train_once(8)
    assert not np.array_equal(w1[0], w3[0])


def test_train_on_batch_weights_and_history_object():
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy", ["accuracy"])
    x, y = np.eye(3)[[0, 1, 2, 0]], np.array([0, 1, 1, 0])
    loss0, acc0 = model.train_on_batch(x, y)
    for _ in range(30):
        loss, acc = model.train_on_batch(x, y)
    assert loss < loss0 and acc == 1.0
    w = model.get_weights()
    model.set_weights([np.zeros_like(a) for a in w])
    np.testing.assert_allclose(model.predict(x), 0.5)
    assert len(model.weights) == 2 and model.count_params() == 8


def test_early_stopping_stops_and_restores_best_weights():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 1))
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizers.SGD(0.0), "mse")                          # nothing changes: no improvement
    history = model.fit(x, y, epochs=20, verbose=0, shuffle=False,
                        callbacks=[callbacks.EarlyStopping(monitor="loss", patience=2)])
    assert len(history.history["loss"]) == 3

    seen = []

    class Record(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.get_weights()))

    model.compile(optimizers.SGD(0.9), "mse")                          # too large a step: val_loss wanders
    model.fit(x, y, epochs=6, verbose=0, validation_split=0.25,
              callbacks=[Record(), callbacks.EarlyStopping(patience=10, restore_best_weights=True)])
    best = min(range(len(seen)), key=lambda i: seen[i][0])
    assert best != len(seen) - 1                                       # the run did end worse than its best
    for a, b in zip(model.get_weights(), seen[best][1]):
        np.testing.assert_array_equal(a, b)


def test_callbacks_warn_when_the_monitored_value_is_missing(tmp_path):
    model = models.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2)), np.ones((4, 1))
    with pytest.warns(UserWarning, match=r"EarlyStopping monitors 'val_loss', but the epoch logs only have \['loss'\]"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping(patience=0)])
    assert len(history.history["loss"]) == 2
    with pytest.warns(UserWarning, match="monitors 'val_loss', but the epoch logs only have"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "c"), save_best_only=True)])
    assert not (tmp_path / "c").exists()


def test_model_checkpoint_saves_best_only(tmp_path):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((30, 3)), rng.integers(0, 2, size=30)
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}"), monitor="loss", save_best_only=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["ckpt-01", "ckpt-02", "ckpt-03"]                 # the loss fell every epoch
    np.testing.assert_allclose(models.load_model(tmp_path / "ckpt-03").predict(x), model.predict(x))


def test_progress_display(capsys):
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = np.ones((10, 3)), np.zeros(10, int)
    model.fit(x, y, epochs=2, verbose=1)
    err = capsys.readouterr().err
    assert "Epoch 2/2" in err and "loss:" in err and "accuracy:" in err
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and out.startswith("Epoch 1/2 - ") and "accuracy:" in out
    model.fit(x, y, epochs=2, verbose=0)
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    model.predict(x)                                                    # Keras: a bar by default
    assert "Predict" in capsys.readouterr().err


# ---- errors a user can trigger ---------------------------------------------------------------------

@pytest.fixture
def small():
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    return model, np.ones((10, 4)), np.zeros(10, dtype=int)


def test_fit_before_compile(small):
    model, x, y = small
    with pytest.raises(RuntimeError, match=r"You must compile the model before calling fit\(\)"):
        model.fit(x, y)
    with pytest.raises(ValueError, match=r"compile the model before calling evaluate\(\)"):
        model.evaluate(x, y)


def test_fit_input_errors(small):
    model, x, y = small
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x has 10 samples but y has 9; they must have the same length"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match=r"labels must be class ids in \[0, 3\) because"
                                         r" the model outputs 3 classes, got \[7\]"):
        model.fit(x, np.full(10, 7), verbose=0)
    late_bad = np.zeros(10, dtype=int)
    late_bad[9] = 3
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"model outputs 3 classes, got \[3\]"):
        model.fit(x, late_bad, batch_size=2, verbose=0)
    for a, b in zip(before, model.get_weights()):                      # checked before any update
        np.testing.assert_array_equal(a, b)
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN or infinite values \(first at index \(3, 2\)\)"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=1.0; expected a float in \[0, 1\)"):
        model.fit(x, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=-0.1; expected a float in \[0, 1\)"):
        model.fit(x, y, validation_split=-0.1, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(TypeError, match="Sequences of different lengths must be padded"):
        model.predict([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match=r"predict x contains NaN|x contains NaN"):
        model.predict(np.full((2, 4), np.inf))


def test_compile_name_errors(small):
    model, _, _ = small
    with pytest.raises(ValueError, match="Unknown loss 'sparse_crossentropy'"):
        model.compile("adam", "sparse_crossentropy")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamax2'"):
        model.compile("adamax2", "mse")
    with pytest.raises(ValueError, match="Unknown metric 'f1'"):
        model.compile("adam", "mse", metrics=["f1"])


def test_model_building_errors():
    with pytest.raises(TypeError, match="Sequential.add expects an rnnlab layer"):
        models.Sequential().add("dense")
    with pytest.raises(ValueError, match="has not been built yet and does not know its input shape"):
        models.Sequential([layers.Dense(2)]).summary()
    with pytest.raises(ValueError, match="already has a layer named 'same'"):
        models.Sequential([layers.Dense(2, name="same"), layers.Dense(2, name="same")])
    with pytest.raises(ValueError, match="has 2 weight arrays, but set_weights got 1"):
        models.Sequential([layers.Dense(2, input_shape=(3,))]).set_weights([np.zeros((3, 2))])
