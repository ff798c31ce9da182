import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import backend, layers
from rnnlab.layers import Dropout


@pytest.mark.parametrize("noise_shape", [None, (None, 1, None), (1, 4, 1)])
def test_dropout_gradients_with_fixed_mask(float64, rng, noise_shape):
    x = rng.standard_normal((3, 4, 5))
    run = lambda: Dropout(0.4, noise_shape=noise_shape, seed=7)   # same seed: same mask every evaluation
    layer = run()
    y = layer.forward(x, training=True)
    [R] = projections([y])
    dx, = layer.backward(R)
    loss = lambda: projected_loss([run().forward(x, training=True)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    assert np.any(dx == 0) and np.any(dx != 0)


def test_dropout_scales_kept_units_and_drops_rate_fraction():
    x = np.ones((1000, 1000), dtype=np.float32)
    y = Dropout(0.3, seed=0).forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1.0 / 0.7, rtol=1e-6)      # inverted dropout: x / (1 - rate)
    dropped = 1.0 - kept.mean()                                      # binomial sd ~ 4.6e-4 on 1e6 entries
    assert abs(dropped - 0.3) < 0.02
    assert abs(y.mean() - 1.0) < 0.02                                # expectation is preserved


def test_dropout_is_identity_in_inference_and_at_rate_zero(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    d = Dropout(0.5, seed=1)
    np.testing.assert_array_equal(d.forward(x), x)
    np.testing.assert_array_equal(d.backward(x * 2)[0], x * 2)
    np.testing.assert_array_equal(Dropout(0.0).forward(x, training=True), x)


def test_dropout_is_deterministic_given_seed(rng):
    x = rng.standard_normal((50, 20))
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    first = a.forward(x, training=True)
    np.testing.assert_array_equal(first, b.forward(x, training=True))
    second = a.forward(x, training=True)                             # the layer's generator moves on
    assert not np.array_equal(first != 0, second != 0)
    np.testing.assert_array_equal(second, b.forward(x, training=True))
    assert not np.array_equal(first, Dropout(0.5, seed=4).forward(x, training=True))
    backend.set_random_seed(11)                                      # no seed: the global generator
    c = Dropout(0.5).forward(x, training=True)
    backend.set_random_seed(11)
    np.testing.assert_array_equal(c, Dropout(0.5).forward(x, training=True))
    early = Dropout(0.5)                                             # made before the seed is set
    backend.set_random_seed(11)
    np.testing.assert_array_equal(c, early.forward(x, training=True))


def test_dropout_noise_shape_shares_mask_over_time(rng):
    x = np.ones((8, 6, 10))
    y = Dropout(0.5, noise_shape=(None, 1, None), seed=0).forward(x, training=True)
    for t in range(1, 6):
        np.testing.assert_array_equal(y[:, t], y[:, 0])
    assert 0 < np.mean(y == 0) < 1


def test_dropout_passes_mask_and_config():
    d = Dropout(0.25, noise_shape=(None, 1, None), seed=5)
    mask = np.ones((2, 3), bool)
    assert d.compute_mask(np.zeros((2, 3, 4)), mask) is mask
    clone = layers.deserialize(layers.serialize(d))
    assert (clone.rate, clone.noise_shape, clone.seed) == (0.25, [None, 1, None], 5)
    assert d.compute_output_shape((None, 3, 4)) == (None, 3, 4)


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"rate in \[0, 1\) .* got 1.0"):
        Dropout(1.0)
    with pytest.raises(ValueError, match=r"rate in \[0, 1\) .* got -0.1"):
        Dropout(-0.1)
    with pytest.raises(TypeError, match="number 'rate' in \\[0, 1\\), got '0.5'"):
        Dropout("0.5")
    with pytest.raises(ValueError, match=r"noise_shape entries to be positive ints or None, got \[None, 0\]"):
        Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match=r"noise_shape=\[None, 1\] \(rank 2\) but got inputs of shape \(2, 3, 4\)"):
        Dropout(0.5, noise_shape=(None, 1)).forward(np.zeros((2, 3, 4)), training=True)
    with pytest.raises(ValueError, match=r"noise_shape=\[None, 2, None\] does not broadcast"
                                         r" against inputs of shape \(2, 3, 4\)"):
        Dropout(0.5, noise_shape=(None, 2, None)).forward(np.zeros((2, 3, 4)), training=True)
