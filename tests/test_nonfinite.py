"""Numerical faults in training (issue 17, part 2): a NaN/inf loss or gradient is caught after the backward pass
and before the update. ``fit`` raises ``NonFiniteError`` by default (weights and optimiser state bit-identical to
those after the previous batch), skips such batches with ``on_nonfinite="skip"`` (counted in the logs), stops
with ``"stop"``, and ``callbacks.TerminateOnNaN`` stops after the bad batch under ``"ignore"`` (Keras's way)."""
import numpy as np
import pytest

import rnnlab
from rnnlab import callbacks, layers, models, optimizers, utils

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")

BAD_BATCH = 3          # 0-based batch (shuffle=False) whose samples overflow float32


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    y = rng.normal(size=(80, 1)).astype("float32")
    x[BAD_BATCH * 10 + 2] = 1e30                   # finite input, but the forward/backward pass overflows
    return x, y


def model():
    utils.set_random_seed(0)
    m = models.Sequential([layers.Input((4,)), layers.Dense(5, name="hidden"), layers.Dense(1, name="out")])
    m.compile(optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9), "mse")
    return m


def slots(m):
    opt = m.optimizer
    out = [opt.iterations]
    for w, _ in m.parameters():
        entry = opt._slots[id(w)]
        out += [entry[1][k].copy() for k in sorted(entry[1])] + [opt._averages[id(w)][1].copy()]
    return out


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def reference_after_previous_batch():
    x, y = data()
    m = model()
    m.fit(x[:BAD_BATCH * 10], y[:BAD_BATCH * 10], batch_size=10, epochs=1, shuffle=False, verbose=0)
    return m


def test_raise_names_epoch_batch_layer_and_leaves_state_untouched():
    x, y = data()
    m = model()
    with pytest.raises(rnnlab.NonFiniteError, match=rf"epoch 0, batch {BAD_BATCH}\b.*'hidden'") as info:
        m.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    e = info.value
    assert isinstance(e, FloatingPointError)
    assert (e.epoch, e.batch, e.layer) == (0, BAD_BATCH, "hidden")
    assert "hidden/kernel" in e.weights and "on_nonfinite='skip'" in str(e)
    ref = reference_after_previous_batch()
    # fit ends with EMA finalize only when it completes: compare the raw weights and every slot, bit for bit
    assert same(m.get_weights(), ref._raw_weights)
    assert same(slots(m), slots(ref))


@pytest.fixture(autouse=True)
def keep_raw_weights(monkeypatch):
    """Record each model's weights just before fit's EMA finalisation, so a reference run can be compared."""
    real = optimizers.Optimizer.finalize_variable_values

    def spy(self, weights):
        spy.last = [w.copy() for w in weights]
        return real(self, weights)
    monkeypatch.setattr(optimizers.Optimizer, "finalize_variable_values", spy)
    real_fit = models.Model.fit

    def fit(self, *a, **k):
        out = real_fit(self, *a, **k)
        self._raw_weights = [w.copy() for w in getattr(spy, "last", [])]
        return out
    monkeypatch.setattr(models.Model, "fit", fit)


def test_train_on_batch_raises_too():
    x, y = data()
    m = model()
    m.train_on_batch(x[:10], y[:10])
    before = m.get_weights()
    with pytest.raises(rnnlab.NonFiniteError, match="in train_on_batch"):
        m.train_on_batch(x[BAD_BATCH * 10:BAD_BATCH * 10 + 10], y[:10])
    assert same(before, m.get_weights()) and m.optimizer.iterations == 1


def test_skip_continues_and_counts():
    x, y = data()
    m = model()
    h = m.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0, on_nonfinite="skip")
    assert h.history["skipped_batches"] == [1, 1]
    assert m.optimizer.iterations == 2 * 7 and all(np.isfinite(w).all() for w in m.get_weights())
    assert np.isfinite(h.history["loss"]).all()


def test_stop_ends_after_previous_batch_with_a_warning():
    x, y = data()
    m = model()
    with pytest.warns(RuntimeWarning, match=f"batch {BAD_BATCH}"):
        h = m.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, on_nonfinite="stop")
    assert len(h.epoch) == 1 and m.optimizer.iterations == BAD_BATCH
    ref = reference_after_previous_batch()
    assert same(m._raw_weights, ref._raw_weights) and same(slots(m), slots(ref))


def test_terminate_on_nan_stops_after_the_bad_batch(capsys):
    x, y = data()
    m = model()
    seen = []

    class Count(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
    h = m.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, on_nonfinite="ignore",
              callbacks=[callbacks.TerminateOnNaN(), Count()])
    assert seen == list(range(BAD_BATCH + 1)) and len(h.epoch) == 1
    assert f"Batch {BAD_BATCH}: invalid loss" in capsys.readouterr().out


def test_bad_option_is_refused():
    x, y = data()
    with pytest.raises(ValueError, match="on_nonfinite='nan'.*'raise'"):
        model().fit(x, y, on_nonfinite="nan", verbose=0)
