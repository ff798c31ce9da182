"""Activation and Masking: gradients, values against PyTorch, masks, step, errors, configs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import LSTM, Activation, Masking

N, T, D = 3, 4, 5

TORCH = {
    "linear": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,
    "relu": torch.relu,
    "softmax": lambda z: torch.softmax(z, dim=-1),
}


# ---- Activation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TORCH))
def test_activation_values_and_gradients(float64, rng, name):
    x = rng.standard_normal((N, T, D)) * 2
    x[np.abs(x) < 1e-3] += 0.01                       # relu away from its kink
    x[np.abs(np.abs(x) - 3) < 1e-3] += 0.01           # hard_sigmoid away from its kinks
    layer = Activation(name)
    y = layer.forward(x)
    tx = torch.from_numpy(x).requires_grad_()
    ty = TORCH[name](tx)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-15)
    [R] = projections([y])
    dx, = layer.backward(R)
    loss = lambda: projected_loss([layer.forward(x)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    (ty * torch.from_numpy(R)).sum().backward()
    rtol = 1e-7 if name == "hard_sigmoid" else 1e-10     # torch's hardsigmoid backward rounds 1/6 to float32
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=rtol, atol=1e-14)


def test_activation_pre_activation_and_output_activation(float64, rng):
    layer = Activation("softmax")
    assert layer.output_activation() == "softmax"
    x = rng.standard_normal((N, D))
    p = layer.forward(x)
    y_true = np.eye(D)[[0, 2, 4]]
    dz = p - y_true                                   # the fused softmax + cross-entropy gradient
    dx, = layer.backward(dz, pre_activation=True)
    np.testing.assert_array_equal(dx, dz)
    # and it is what the unfused chain gives: d(-sum y log p)/dp = -y/p, then through softmax
    dx_unfused, = layer.backward(-y_true / p)
    np.testing.assert_allclose(dx_unfused, dz, rtol=1e-10, atol=1e-12)
    assert Activation(None).output_activation() == "linear"


def test_activation_passes_mask_and_steps(rng):
    layer = Activation("tanh")
    mask = np.array([[True, False, True, True]] * N)
    assert layer.compute_mask(np.ones((N, T, D)), mask) is mask
    assert layer.compute_mask(np.ones((N, T, D)), None) is None
    assert layer.per_step and layer.compute_output_shape((None, None, D)) == (None, None, D)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    y_t, state = layer.step(x[:, 1])
    assert state is None
    np.testing.assert_allclose(y_t, layer.forward(x)[:, 1], rtol=1e-6)


def test_activation_errors_and_config():
    with pytest.raises(ValueError, match=r"Layer 'activation' \(Activation\) got activation='swishy', which rnnlab "
                                         r"does not know; expected one of \['hard_sigmoid', 'linear', 'relu', "
                                         r"'sigmoid', 'softmax', 'tanh'\]"):
        Activation("swishy")
    with pytest.raises(TypeError, match=r"expects the name of an activation \(a string\) or None, got <built-in "
                                        r"function abs>"):
        Activation(abs)
    layer = Activation("relu", name="act")
    clone = layers.deserialize(layers.serialize(layer))
    assert isinstance(clone, Activation) and clone.activation == "relu" and clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone.forward(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])


# ---- Masking --------------------------------------------------------------------------------------------------

def padded(rng, mask_value=0.0):
    x = rng.standard_normal((N, T, D))
    x[0, 2:] = mask_value                             # trailing padding
    x[1, 1] = mask_value                              # a padded step in the middle
    x[2, 3, 1:] = mask_value                          # not padding: one feature differs
    expected = np.ones((N, T), bool)
    expected[0, 2:] = False
    expected[1, 1] = False
    return x, expected


@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_mask_and_forward(float64, rng, mask_value):
    x, expected = padded(rng, mask_value)
    layer = Masking(mask_value)
    mask = layer.compute_mask(x)
    np.testing.assert_array_equal(mask, expected)
    # the hand computation: a step is padding when every feature equals mask_value
    hand = np.array([[not all(v == mask_value for v in x[n, t]) for t in range(T)] for n in range(N)])
    np.testing.assert_array_equal(mask, hand)
    y = layer.forward(x)
    np.testing.assert_array_equal(y[~expected], 0.0)                       # padded steps zeroed
    np.testing.assert_array_equal(y[expected], x[expected])                 # real steps untouched
    assert layer.compute_mask(x, mask=np.zeros((N, T), bool)) is not None   # an incoming mask is replaced
    np.testing.assert_array_equal(layer.compute_mask(x, mask=np.zeros((N, T), bool)), expected)


def test_masking_gradient(float64, rng):
    x, expected = padded(rng, 0.5)
    layer = Masking(0.5)
    y = layer.forward(x)
    [R] = projections([y])
    dx, = layer.backward(R)
    np.testing.assert_array_equal(dx[~expected], 0.0)                      # the mask is a constant: no gradient
    loss = lambda: projected_loss([layer.forward(x)], [R])
    # central differences only on real steps: nudging a padded step's feature makes it real (a jump)
    assert rel_error(dx[expected], numeric_grad(loss, x)[expected]) < 1e-6


def test_masking_compares_in_the_layer_dtype():
    x = np.array([[[0.1, 0.1], [0.1, 0.2]]], dtype=np.float32)
    np.testing.assert_array_equal(Masking(0.1, dtype="float32").compute_mask(x), [[False, True]])


def test_masking_feeds_a_recurrent_layer(float64, rng):
    """A Masking layer in front of an LSTM gives what the LSTM gives with the mask passed by hand."""
    from rnnlab.models import Sequential
    x, expected = padded(rng)
    model = Sequential([Masking(), LSTM(6, return_sequences=True, seed=0)])
    y = model(x)
    lstm = LSTM(6, return_sequences=True, seed=0)
    np.testing.assert_allclose(y, lstm.forward(x, mask=expected), rtol=1e-12)


def test_masking_steps_match_the_sequence(rng):
    x, expected = padded(rng)
    layer = Masking()
    assert layer.per_step
    y = layer.forward(x)
    for t in range(T):
        y_t, _ = layer.step(x[:, t])
        np.testing.assert_array_equal(y_t, y[:, t])
        np.testing.assert_array_equal(layer.compute_mask(x[:, t]), expected[:, t])


def test_masking_errors_and_config(rng):
    with pytest.raises(TypeError, match=r"'masking' \(Masking\) expects a number 'mask_value' .* got 'pad'"):
        Masking("pad")
    with pytest.raises(ValueError, match=r"'masking_1' \(Masking\) expects inputs of rank >= 2 .* got shape \(4,\)"):
        Masking().forward(np.ones(4))
    layer = Masking(-1.0, name="m")
    clone = layers.deserialize(layers.serialize(layer))
    assert clone.mask_value == -1.0 and clone.get_config() == layer.get_config()
    x, _ = padded(rng, -1.0)
    np.testing.assert_array_equal(clone.compute_mask(x), layer.compute_mask(x))
