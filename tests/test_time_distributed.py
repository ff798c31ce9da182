import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import Conv1D, Dense, LayerNormalization, TimeDistributed


def _gradcheck_all(layer, x, mask=None):
    y = layer.forward(x, mask=mask)
    [R] = projections([y])
    layer.zero_grad()
    dx, = layer.backward(R)
    loss = lambda: projected_loss([layer.forward(x, mask=mask)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    for w, g in zip(layer.weights, layer.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6
    return y


@pytest.mark.parametrize("activation", ["linear", "tanh", "softmax"])
def test_time_distributed_dense_gradients(float64, rng, activation):
    td = TimeDistributed(Dense(4, activation=activation))
    x = rng.standard_normal((3, 5, 6))
    td.forward(x)
    td.set_weights([rng.standard_normal(w.shape) for w in td.get_weights()])
    _gradcheck_all(td, x, mask=np.array([[1, 1, 1, 0, 0]] * 3, bool))


def test_time_distributed_conv_on_4d_inputs_gradients(float64, rng):
    # (N, T, L, C): a Conv1D over L inside every time step
    td = TimeDistributed(Conv1D(2, 2, padding="same"))
    x = rng.standard_normal((2, 3, 4, 3))
    td.forward(x)
    td.set_weights([rng.standard_normal(w.shape) for w in td.get_weights()])
    y = _gradcheck_all(td, x)
    assert y.shape == td.compute_output_shape((2, 3, 4, 3)) == (2, 3, 4, 2)


def test_time_distributed_equals_inner_layer_per_step(float64, rng):
    inner = Dense(3, activation="tanh")
    td = TimeDistributed(inner)
    x = rng.standard_normal((2, 4, 5))
    y = td.forward(x)
    for t in range(4):
        np.testing.assert_allclose(y[:, t], inner.forward(x[:, t]), rtol=1e-12)
    # the wrapper's weights ARE the inner layer's: same arrays, Keras order
    assert td.weights[0] is inner.weights[0] and td.count_params() == 5 * 3 + 3
    assert td.compute_output_shape((None, 4, 5)) == (None, 4, 3)


def test_time_distributed_matches_torch_linear(float64, rng):
    torch = pytest.importorskip("torch")
    td = TimeDistributed(Dense(3))
    x = rng.standard_normal((2, 4, 5))
    td.forward(x)
    td.set_weights([rng.standard_normal(w.shape) for w in td.get_weights()])
    y = td.forward(x)
    R = rng.standard_normal(y.shape)
    td.zero_grad()
    dx, = td.backward(R)
    W, b = td.get_weights()
    lin = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(W.T))
        lin.bias.copy_(torch.tensor(b))
    xt = torch.tensor(x, requires_grad=True)
    yt = lin(xt)
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-9)
    dW, db = td.get_gradients()
    np.testing.assert_allclose(dW, lin.weight.grad.numpy().T, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(db, lin.bias.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_time_distributed_rnn_over_a_second_time_axis(float64, rng):
    # (N, T, T2, D): an inner SimpleRNN reads each outer step's T2 sub-steps (e.g. characters of words)
    td = TimeDistributed(layers.SimpleRNN(3))
    x = rng.standard_normal((2, 3, 4, 2))
    td.forward(x)
    td.set_weights([rng.standard_normal(w.shape) * 0.5 for w in td.get_weights()])
    outer = np.array([[True, True, False], [True, False, False]])
    y = _gradcheck_all(td, x, mask=outer)                       # an (N, T) mask is not given to the RNN
    assert y.shape == (2, 3, 3)
    np.testing.assert_allclose(y[:, 1], td.layer.forward(x[:, 1]), rtol=1e-12)
    np.testing.assert_array_equal(td.compute_mask(x, outer), outer)
    inner = np.ones((2, 3, 4), bool)
    inner[:, :, 2:] = False                                     # an (N, T, T2) mask reaches the RNN
    y2 = _gradcheck_all(td, x, mask=inner)
    np.testing.assert_allclose(y2[:, 0], td.layer.forward(x[:, 0, :2]), rtol=1e-12)


def test_time_distributed_passes_mask_on(rng):
    mask = np.array([[True, True, False], [True, False, False]])
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(TimeDistributed(Dense(2)).compute_mask(x, mask), mask)
    np.testing.assert_array_equal(TimeDistributed(LayerNormalization()).compute_mask(x, mask), mask)
    assert TimeDistributed(Dense(2)).compute_mask(x, None) is None


def test_time_distributed_config_nests_the_layer(rng):
    td = TimeDistributed(Dense(7, activation="relu", name="inner"), name="td")
    spec = layers.serialize(td)
    assert spec["config"]["layer"] == {"class_name": "Dense", "config": td.layer.get_config()}
    clone = layers.deserialize(spec)
    assert type(clone) is TimeDistributed and type(clone.layer) is Dense
    assert clone.layer.units == 7 and clone.layer.activation == "relu" and clone.name == "td"
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    td.forward(x)
    clone.forward(x)
    clone.set_weights(td.get_weights())
    np.testing.assert_array_equal(clone.forward(x), td.forward(x))


def test_time_distributed_trainable_follows_both(rng):
    inner = Dense(2)
    td = TimeDistributed(inner)
    td.forward(rng.standard_normal((1, 2, 3)))
    assert len(td.parameters()) == 2
    inner.trainable = False
    assert td.parameters() == []
    inner.trainable = True
    td.trainable = False
    assert td.parameters() == []


def test_time_distributed_errors():
    with pytest.raises(TypeError, match="TimeDistributed expects an rnnlab Layer instance, got type"):
        TimeDistributed(Dense)
    with pytest.raises(ValueError, match=r"expects inputs of rank >= 3 \(batch, timesteps, ...\), got shape \(4, 5\)"):
        TimeDistributed(Dense(2)).forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"got a mask of shape \(2, 4\) for inputs"
                                         r" with \(batch, timesteps\) = \(2, 3\)"):
        TimeDistributed(Dense(2)).forward(np.zeros((2, 3, 5)), mask=np.ones((2, 4), bool))
