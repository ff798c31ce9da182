"""Issue 3 details not pinned elsewhere: declared input shapes, validation_data, the three accuracies,
categorical cross-entropy from logits, fit's Keras defaults, optimiser state per array."""
import inspect

import numpy as np
import pytest

from gradcheck import numeric_grad, rel_error
from rnnlab import layers, losses, metrics, models, optimizers, utils


# ---- the first layer's input_shape is the model's input shape ---------------------------------------

def test_declared_input_shape_is_enforced_before_the_first_call():
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Sequential model 'sequential' expects inputs with 4 features on the "
                                         r"last axis \(its first layer 'dense' has input_shape=\(4,\)\), got "
                                         r"inputs of shape \(5, 5\)"):
        model.predict(np.ones((5, 5)), verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs with 4 features .* got inputs of shape \(1, 6\)"):
        model.fit(np.ones((6, 6)), np.zeros(6, int), verbose=0)
    assert not model.built                                              # nothing was built from the bad data
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 3)
    assert model.layers[0].get_weights()[0].shape == (4, 3)
    with pytest.raises(ValueError, match=r"expects inputs with 4 features .* got inputs of shape \(3, 2, 5\)"):
        model.predict(np.ones((3, 2, 5)), verbose=0)                     # and after building too

    rnn = models.Sequential([layers.LSTM(3, input_shape=(5, 2)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"expects inputs with 2 features .*input_shape=\(5, 2\)\), got inputs of "
                                         r"shape \(2, 5, 3\)"):
        rnn.predict(np.ones((2, 5, 3)), verbose=0)
    assert rnn.predict(np.ones((2, 7, 2)), verbose=0).shape == (2, 1)  # as Keras: other lengths run


# ---- fit(validation_data=...) and fit's defaults ------------------------------------------------------

def test_validation_data_is_evaluated_after_every_epoch():
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((40, 4)), rng.integers(0, 3, size=40)
    xv, yv = rng.standard_normal((15, 4)), rng.integers(0, 3, size=15)
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
    seen = []
    from rnnlab import callbacks

    class Record(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.evaluate(xv, yv, batch_size=8, verbose=0))

    history = model.fit(x, y, epochs=3, batch_size=8, validation_data=(xv, yv), validation_split=0.5,
                        verbose=0, callbacks=[Record()])
    assert history.history["val_loss"] == pytest.approx([s[0] for s in seen], rel=1e-12)
    assert history.history["val_accuracy"] == pytest.approx([s[1] for s in seen], rel=1e-12)
    assert history.history["val_loss"][0] != history.history["val_loss"][-1]   # the weights did move
    assert len(history.epoch) == 3 and history.epoch == [0, 1, 2]


def test_fit_has_keras_defaults():
    params = inspect.signature(models.Sequential.fit).parameters
    defaults = {k: params[k].default for k in ("batch_size", "epochs", "validation_split", "validation_data",
                                               "shuffle", "callbacks", "verbose")}
    assert defaults == {"batch_size": 32, "epochs": 1, "validation_split": 0.0, "validation_data": None,
                        "shuffle": True, "callbacks": None, "verbose": 1}
    assert list(params)[:3] == ["self", "x", "y"]


# ---- the three accuracies -------------------------------------------------------------------------------

def test_sparse_categorical_and_binary_accuracy_values():
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    ids = np.array([1, 2, 2, 0])                                         # right, wrong, right, wrong
    sparse = metrics.get("sparse_categorical_accuracy")
    sparse.update(ids, p)
    assert sparse.result() == 0.5
    sparse.update(ids[:1, None], p[:1])                                  # (N, 1) labels also work
    assert sparse.result() == pytest.approx(3 / 5)
    cat = metrics.get("categorical_accuracy")
    cat.update(utils.to_categorical(ids, 3), p)
    assert cat.result() == 0.5
    binary = metrics.get("binary_accuracy")
    binary.update(np.array([1, 0, 1, 1]), np.array([[0.9], [0.6], [0.4], [0.51]]))
    assert binary.result() == 0.5
    binary.reset()
    assert binary.result() == 0.0

    # "accuracy" picks one of them from the loss and the shapes, as Keras does
    acc = metrics.get("accuracy", loss=losses.get("sparse_categorical_crossentropy"))
    acc.update(ids, p)
    assert isinstance(acc._inner, metrics.SparseCategoricalAccuracy) and acc.result() == 0.5
    acc = metrics.get("accuracy", loss=losses.get("categorical_crossentropy"))
    acc.update(utils.to_categorical(ids, 3), p)
    assert isinstance(acc._inner, metrics.CategoricalAccuracy) and acc.result() == 0.5
    acc = metrics.get("accuracy", loss=losses.BinaryCrossentropy(from_logits=True))
    acc.update(np.array([1, 0, 1]), np.array([[0.3], [-0.2], [-0.1]]))   # logits: threshold 0
    assert isinstance(acc._inner, metrics.BinaryAccuracy) and acc.result() == pytest.approx(2 / 3)


def test_masked_sequence_accuracy_counts_real_steps_only():
    p = np.zeros((2, 3, 2))
    p[..., 1] = 1.0                                                      # always predicts class 1
    y = np.array([[1, 1, 0], [0, 1, 0]])
    mask = np.array([[True, True, False], [True, True, True]])
    acc = metrics.get("sparse_categorical_accuracy")
    acc.update(y, p, mask)
    assert acc.result() == pytest.approx(3 / 5)


@pytest.mark.parametrize("loss,make_y,metric", [
    ("categorical_crossentropy", lambda c: utils.to_categorical(c, 2), "categorical_accuracy"),
    ("binary_crossentropy", lambda c: c[:, None].astype(float), "binary_accuracy"),
])
def test_one_hot_and_binary_classifiers_train_and_report_accuracy(loss, make_y, metric):
    utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 2))
    c = (x[:, 0] + x[:, 1] > 0).astype(int)
    units, act = (2, "softmax") if loss == "categorical_crossentropy" else (1, "sigmoid")
    model = models.Sequential([layers.Dense(units, activation=act, input_shape=(2,))])
    model.compile(optimizers.Adam(0.1), loss, ["accuracy", metric])
    history = model.fit(x, make_y(c), epochs=10, batch_size=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95
    assert history.history["accuracy"] == history.history[metric]       # "accuracy" resolved to this one


# ---- categorical cross-entropy from logits ---------------------------------------------------------------

def test_categorical_crossentropy_from_logits_value_and_gradient(float64, rng):
    z = rng.standard_normal((5, 4)) * 3
    y = rng.random((5, 4))
    y /= y.sum(-1, keepdims=True)                                        # soft labels
    loss = losses.CategoricalCrossentropy(from_logits=True)
    value = loss.forward(y, z)
    logp = z - z.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    assert value == pytest.approx(-(y * logp).sum(-1).mean(), rel=1e-12)
    grad = loss.backward()
    assert rel_error(grad, numeric_grad(lambda: loss.forward(y, z), z)) < 1e-7
    big = losses.CategoricalCrossentropy(from_logits=True)
    v = big.forward(np.eye(3)[[0, 2]], np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 2000.0]]))
    assert v == pytest.approx(0.0, abs=1e-12) and np.all(np.isfinite(big.backward()))


# ---- optimiser state belongs to one array -----------------------------------------------------------------

def test_optimizer_state_is_fresh_for_a_new_array_even_if_its_id_was_seen():
    g = np.full(3, 0.5)
    stale = np.zeros(3)
    w = np.ones(3)
    opt = optimizers.Adam(0.1)
    opt.apply([(stale, np.full(3, -4.0))])                               # moments for another array
    opt._slots[id(w)] = opt._slots.pop(id(stale))                         # as if w reused stale's id
    ref = np.ones(3)
    fresh = optimizers.Adam(0.1)
    fresh.iterations = 1                                                 # same step count
    fresh.apply([(ref, g)])
    opt.apply([(w, g)])
    np.testing.assert_array_equal(w, ref)


# ---- the per-epoch bar shows an ETA ----------------------------------------------------------------------

def test_epoch_bar_shows_elapsed_and_remaining_time(capsys):
    import re
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(np.ones((64, 3)), np.zeros(64, int), batch_size=8, epochs=1, verbose=1)
    err = capsys.readouterr().err
    assert re.search(r"Epoch 1/1: +100%.*8/8 \[\d\d:\d\d<\d\d:\d\d", err)              # [elapsed<remaining
    assert re.search(r"loss: \d\.\d{4} - accuracy: \d\.\d{4}\]", err)
