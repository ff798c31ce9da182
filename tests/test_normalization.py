import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import LayerNormalization


def _random_ln(rng, shape, **kwargs):
    ln = LayerNormalization(**kwargs)
    ln.forward(np.zeros(shape))
    ln.set_weights([rng.standard_normal(w.shape) for w in ln.get_weights()])
    return ln


@pytest.mark.parametrize("kwargs", [
    {}, {"center": False}, {"scale": False}, {"center": False, "scale": False},
    {"axis": [1, 2]}, {"axis": (-2, -1)}, {"axis": 1}, {"epsilon": 1e-5},
])
def test_layer_norm_gradients(float64, rng, kwargs):
    shape = (3, 4, 5)
    ln = _random_ln(rng, shape, **kwargs)
    x = rng.standard_normal(shape) * 2 + 1
    y = ln.forward(x)
    [R] = projections([y])
    ln.zero_grad()
    dx, = ln.backward(R)
    loss = lambda: projected_loss([ln.forward(x)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    for w, g in zip(ln.weights, ln.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6


def test_layer_norm_on_2d_inputs_gradients(float64, rng):
    ln = _random_ln(rng, (4, 6))
    x = rng.standard_normal((4, 6))
    [R] = projections([ln.forward(x)])
    ln.zero_grad()
    dx, = ln.backward(R)
    loss = lambda: projected_loss([ln.forward(x)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6


@pytest.mark.parametrize("axis,normalized", [(-1, (5,)), ([1, 2], (4, 5))])
def test_layer_norm_matches_torch(float64, rng, axis, normalized):
    torch = pytest.importorskip("torch")
    shape = (3, 4, 5)
    ln = _random_ln(rng, shape, axis=axis)
    x = rng.standard_normal(shape) * 3 - 1
    y = ln.forward(x)
    R = rng.standard_normal(y.shape)
    ln.zero_grad()
    dx, = ln.backward(R)
    gamma, beta = ln.get_weights()
    m = torch.nn.LayerNorm(normalized, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(torch.tensor(gamma))
        m.bias.copy_(torch.tensor(beta))
    xt = torch.tensor(x, requires_grad=True)
    yt = m(xt)
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-9)
    dgamma, dbeta = ln.get_gradients()
    np.testing.assert_allclose(dgamma, m.weight.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dbeta, m.bias.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_layer_norm_defaults_statistics_and_mask(rng):
    ln = LayerNormalization()
    x = rng.standard_normal((2, 3, 64)).astype(np.float32) * 5 + 3
    y = ln.forward(x)
    gamma, beta = ln.get_weights()                               # Keras order
    np.testing.assert_array_equal(gamma, 1.0)
    np.testing.assert_array_equal(beta, 0.0)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-5)
    var = x.var(axis=-1, keepdims=True)
    np.testing.assert_allclose(y.var(axis=-1), (var / (var + 1e-3))[..., 0], rtol=1e-4)
    mask = np.ones((2, 3), bool)
    assert ln.compute_mask(x, mask) is mask
    assert ln.compute_output_shape((None, 3, 64)) == (None, 3, 64)
    clone = layers.deserialize(layers.serialize(LayerNormalization(axis=(1, 2), epsilon=1e-5, center=False)))
    assert clone.axis == [1, 2] and clone.epsilon == 1e-5 and clone.center is False


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"got axis=3 for inputs of rank 3; every"
                                         r" axis must be in \[1, 2\] or \[-2, -1\]"):
        LayerNormalization(axis=3).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"got axis=\[0, 1\] for inputs of rank 3; .*axis 0 is the batch"):
        LayerNormalization(axis=[0, 1]).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"got axis=-3 for inputs of rank 3"):
        LayerNormalization(axis=-3).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"repeated axis in axis=\[2, -1\]"):
        LayerNormalization(axis=[2, -1]).forward(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="axis to be an int or a list/tuple of ints, got 'last'"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="positive float epsilon, got 0"):
        LayerNormalization(epsilon=0)
    ln = LayerNormalization()
    ln.forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"built for normalised axes of shape \(4,\), got inputs of shape \(2, 3, 5\)"):
        ln.forward(np.zeros((2, 3, 5)))
