"""use_ema (Keras 3): moving averages of the weights, written back by finalize / fit's end / every k steps."""
import numpy as np
import pytest

from rnnlab import callbacks, layers, models, optimizers, utils


def _sgd_steps(opt, w0, g, steps):
    w = w0.copy()
    for _ in range(steps):
        opt.apply([(w, g)])
    return w


def test_average_follows_the_keras_formula_and_finalize_writes_it():
    m, lr = 0.9, 0.1
    g = np.array([1.0, -2.0, 0.5])
    opt = optimizers.SGD(lr, use_ema=True, ema_momentum=m)
    w = _sgd_steps(opt, np.zeros(3), g, 4)
    ws = [-lr * g * t for t in range(1, 5)]                   # weights after steps 1..4 (plain SGD)
    avg = ws[0]                                               # avg = w after the first update
    for wt in ws[1:]:
        avg = m * avg + (1 - m) * wt
    np.testing.assert_allclose(w, ws[-1], rtol=1e-15)         # training itself is untouched
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w, avg, rtol=1e-15)


def test_overwrite_frequency_writes_the_average_every_k_steps():
    g = np.array([1.0])
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    w = _sgd_steps(opt, np.zeros(1), g, 2)
    # step 1: w = -1, avg = -1; step 2: w = -2, avg = 0.5*(-1) + 0.5*(-2) = -1.5, written into w
    np.testing.assert_allclose(w, [-1.5])


def test_without_ema_finalize_changes_nothing():
    opt = optimizers.Adam()
    w = _sgd_steps(opt, np.ones(2), np.ones(2), 3)
    before = w.copy()
    opt.finalize_variable_values([w])
    np.testing.assert_array_equal(w, before)


class _TrackAverage(callbacks.Callback):
    """Keeps its own moving average of the model's weights after every batch."""

    def __init__(self, m):
        super().__init__()
        self.m, self.avg = m, None

    def on_train_batch_end(self, batch, logs=None):
        ws = [p.copy() for p, _ in self.model.parameters()]
        self.avg = ws if self.avg is None else [self.m * a + (1 - self.m) * w for a, w in zip(self.avg, ws)]


def test_fit_ends_with_the_averaged_weights():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6, 3))
    y = (x[:, :, 0].sum(axis=1) > 0).astype(int)
    model = models.Sequential([layers.GRU(4), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.Adam(0.01, use_ema=True, ema_momentum=0.8), "binary_crossentropy")
    track = _TrackAverage(0.8)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[track])
    for w, a in zip([p for p, _ in model.parameters()], track.avg):
        np.testing.assert_allclose(w, a, rtol=1e-5, atol=1e-6)
    assert model.optimizer.get_config()["use_ema"] is True


def test_ema_argument_errors():
    with pytest.raises(ValueError, match=r"Adam got ema_momentum=1\.0; expected a float in \[0, 1\)"):
        optimizers.Adam(use_ema=True, ema_momentum=1.0)
    with pytest.raises(ValueError, match=r"SGD got ema_overwrite_frequency=0; expected a positive integer"):
        optimizers.SGD(use_ema=True, ema_overwrite_frequency=0)
