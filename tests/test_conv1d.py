import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import Conv1D

# (kernel_size, strides, padding, dilation_rate): every padding mode, with stride and dilation
CASES = [
    (3, 1, "valid", 1), (3, 2, "valid", 1), (2, 2, "valid", 2),
    (3, 1, "same", 1), (4, 2, "same", 1), (3, 3, "same", 2), (2, 1, "same", 3),
    (3, 1, "causal", 1), (3, 2, "causal", 2), (2, 3, "causal", 1),
]


def _random_conv(rng, C, F, k, s, padding, d, activation=None, use_bias=True):
    conv = Conv1D(F, k, strides=s, padding=padding, dilation_rate=d, activation=activation, use_bias=use_bias)
    conv.forward(np.zeros((1, 16, C)))
    conv.set_weights([rng.standard_normal(w.shape) for w in conv.get_weights()])
    return conv


@pytest.mark.parametrize("k,s,padding,d", CASES)
def test_conv1d_gradients(float64, rng, k, s, padding, d):
    N, T, C, F = 2, 7, 3, 4
    conv = _random_conv(rng, C, F, k, s, padding, d, activation="tanh")
    x = rng.standard_normal((N, T, C))
    y = conv.forward(x)
    assert y.shape == conv.compute_output_shape((N, T, C))
    [R] = projections([y])
    conv.zero_grad()
    dx, = conv.backward(R)
    loss = lambda: projected_loss([conv.forward(x)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    for w, g in zip(conv.weights, conv.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6


def test_conv1d_without_bias_and_gradient_accumulates(float64, rng):
    conv = _random_conv(rng, 3, 2, 2, 1, "valid", 1, use_bias=False)
    assert [w.shape for w in conv.get_weights()] == [(2, 3, 2)]
    x = rng.standard_normal((2, 5, 3))
    [R] = projections([conv.forward(x)])
    conv.zero_grad()
    conv.backward(R)
    once = conv.get_gradients()[0]
    conv.forward(x)
    conv.backward(R)
    np.testing.assert_allclose(conv.get_gradients()[0], 2 * once, rtol=1e-12)


def test_conv1d_output_lengths_follow_keras():
    # T=10: valid k=3,d=2 (span 5), s=2 -> (10-5)//2+1 = 3; same s=3 -> ceil(10/3) = 4; causal s=4 -> 9//4+1 = 3
    x = np.zeros((1, 10, 2))
    assert Conv1D(1, 3, strides=2, dilation_rate=2).forward(x).shape == (1, 3, 1)
    assert Conv1D(1, 3, strides=3, padding="same").forward(x).shape == (1, 4, 1)
    assert Conv1D(1, 3, strides=4, padding="causal").forward(x).shape == (1, 3, 1)
    assert Conv1D(5, 3, strides=2, dilation_rate=2).compute_output_shape((None, None, 2)) == (None, None, 5)


def test_conv1d_causal_never_sees_the_future(float64, rng):
    conv = _random_conv(rng, 2, 3, 3, 1, "causal", 2)
    x = rng.standard_normal((1, 9, 2))
    y = conv.forward(x)
    x2 = x.copy()
    x2[:, 5:] += 1.0
    y2 = conv.forward(x2)
    np.testing.assert_array_equal(y[:, :5], y2[:, :5])
    assert np.all(np.abs(y[:, 5:] - y2[:, 5:]) > 0)


def test_conv1d_weights_follow_keras_and_glorot(rng):
    conv = Conv1D(8, 5)
    conv.forward(np.zeros((1, 6, 4), dtype=np.float32))
    kernel, bias = conv.get_weights()
    assert kernel.shape == (5, 4, 8) and bias.shape == (8,) and kernel.dtype == np.float32
    limit = np.sqrt(6.0 / (5 * 4 + 5 * 8))              # Keras fans include the receptive field
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    assert conv.count_params() == 5 * 4 * 8 + 8
    np.testing.assert_array_equal(bias, 0)


def test_conv1d_drops_mask_and_config_roundtrip(rng):
    conv = Conv1D(4, 3, strides=2, padding="causal", dilation_rate=2, activation="relu", use_bias=False, name="c1")
    assert conv.compute_mask(np.zeros((2, 5, 3)), np.ones((2, 5), bool)) is None
    clone = layers.deserialize(layers.serialize(conv))
    assert type(clone) is Conv1D and clone.get_config() == conv.get_config()
    assert clone.padding == "causal" and clone.dilation_rate == 2 and clone.activation == "relu"


def _torch_conv(torch, x, kernel, bias, k, s, padding, d):
    """Keras-semantics Conv1D with torch: explicit padding, channels-first, kernel (F, C, k)."""
    F = torch.nn.functional
    T = x.shape[1]
    span = (k - 1) * d + 1
    if padding == "valid":
        left = right = 0
    elif padding == "same":
        total = max((-(-T // s) - 1) * s + span - T, 0)
        left, right = total // 2, total - total // 2
    else:
        left, right = span - 1, 0
    xt = F.pad(x.transpose(1, 2), (left, right))                            # (N, C, T_p)
    w = kernel.permute(2, 1, 0)                                             # (F, C, k)
    return F.conv1d(xt, w, bias, stride=s, dilation=d).transpose(1, 2)      # (N, T', F)


def _forward_backward(conv, rng, shape):
    """``(x, y, R, dx)``: a random input, its output, a random projection R and ``d sum(y * R) / dx``."""
    x = rng.standard_normal(shape)
    y = conv.forward(x)
    R = rng.standard_normal(y.shape)
    conv.zero_grad()
    return x, y, R, conv.backward(R)[0]


@pytest.mark.parametrize("k,s,padding,d", CASES)
def test_conv1d_matches_torch(float64, rng, k, s, padding, d):
    torch = pytest.importorskip("torch")
    N, T, C, F = 3, 11, 4, 5
    conv = _random_conv(rng, C, F, k, s, padding, d)
    x, y, R, dx = _forward_backward(conv, rng, (N, T, C))
    kernel, bias = conv.get_weights()
    xt = torch.tensor(x, requires_grad=True)
    kt = torch.tensor(kernel, requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    yt = _torch_conv(torch, xt, kt, bt, k, s, padding, d)
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-9)
    dk, db = conv.get_gradients()
    np.testing.assert_allclose(dk, kt.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_conv1d_matches_torch_module_float32(rng):
    torch = pytest.importorskip("torch")
    conv = Conv1D(6, 5, padding="same", activation="relu")
    x = rng.standard_normal((2, 20, 3)).astype(np.float32)
    y = conv.forward(x)
    m = torch.nn.Conv1d(3, 6, 5, padding=2)           # stride 1, odd k: "same" is symmetric
    kernel, bias = conv.get_weights()
    with torch.no_grad():
        m.weight.copy_(torch.tensor(kernel).permute(2, 1, 0))
        m.bias.copy_(torch.tensor(bias))
        yt = torch.relu(m(torch.tensor(x).transpose(1, 2))).transpose(1, 2).numpy()
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-5)


def test_conv1d_errors(rng):
    with pytest.raises(ValueError, match=r"Conv1D got padding='full'; expected one of \['valid', 'same', 'causal'\]"):
        Conv1D(4, 3, padding="full")
    with pytest.raises(ValueError, match="positive integer 'filters', got 0"):
        Conv1D(0, 3)
    with pytest.raises(ValueError, match="positive integer 'kernel_size', got -2"):
        Conv1D(4, -2)
    with pytest.raises(ValueError, match="positive integer 'strides', got 1.5"):
        Conv1D(4, 3, strides=1.5)
    with pytest.raises(ValueError, match="positive integer 'dilation_rate', got 0"):
        Conv1D(4, 3, dilation_rate=0)
    with pytest.raises(ValueError, match=r"kernel spans 7 steps \(kernel_size=4, dilation_rate=2\) but the input has "
                                         r"only 6 timesteps with padding='valid'"):
        Conv1D(4, 4, dilation_rate=2).forward(np.zeros((1, 6, 2)))
    with pytest.raises(ValueError, match=r"expects inputs of rank 3 \(batch, timesteps,"
                                         r" channels\), got shape \(5, 2\)"):
        Conv1D(4, 3).forward(np.zeros((5, 2)))
    conv = Conv1D(4, 3)
    conv.forward(np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match=r"built for 2 input channels, got inputs of shape \(1, 5, 3\)"):
        conv.forward(np.zeros((1, 5, 3)))
    # same/causal padding make any length work, even shorter than the kernel
    assert Conv1D(2, 5, padding="same").forward(np.zeros((1, 2, 2))).shape == (1, 2, 2)
    assert Conv1D(2, 5, padding="causal").forward(np.zeros((1, 2, 2))).shape == (1, 2, 2)


# torch.nn.Conv1d itself (the module, not only F.conv1d), with Keras's (k, C, F) kernel converted to
# torch's (F, C, k) and the module's weight gradient converted back. Keras's padding is given to the
# module where torch has the same rule (valid; stride-1 "same", asymmetric for an even span, extra step on
# the right in both), else by padding the input first (causal: span - 1 zeros on the left).
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("k,s,padding,d", [(3, 2, "valid", 2), (4, 1, "same", 1), (3, 1, "same", 2),
                                           (3, 2, "causal", 2)])
def test_conv1d_matches_torch_nn_conv1d_module(float64, rng, k, s, padding, d):
    torch = pytest.importorskip("torch")
    N, T, C, F = 2, 12, 3, 4
    conv = _random_conv(rng, C, F, k, s, padding, d, activation="tanh")
    x, y, R, dx = _forward_backward(conv, rng, (N, T, C))
    kernel, bias = conv.get_weights()
    m = torch.nn.Conv1d(C, F, k, stride=s, dilation=d, padding="same" if padding == "same" else 0,
                        dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(torch.tensor(kernel).permute(2, 1, 0))          # (k, C, F) -> (F, C, k)
        m.bias.copy_(torch.tensor(bias))
    xt = torch.tensor(x, requires_grad=True)
    xc = xt.transpose(1, 2)                                             # (N, C, T)
    if padding == "causal":
        xc = torch.nn.functional.pad(xc, ((k - 1) * d, 0))
    yt = torch.tanh(m(xc)).transpose(1, 2)                              # (N, T', F)
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-9)
    dk, db = conv.get_gradients()
    np.testing.assert_allclose(dk, m.weight.grad.permute(2, 1, 0).numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(db, m.bias.grad.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "linear"])
def test_conv1d_gradients_other_activations_without_bias(float64, rng, activation):
    conv = _random_conv(rng, 3, 4, 3, 2, "same", 2, activation=activation, use_bias=False)
    x = rng.standard_normal((2, 9, 3))
    [R] = projections([conv.forward(x)])
    conv.zero_grad()
    dx, = conv.backward(R)
    loss = lambda: projected_loss([conv.forward(x)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    [dk] = conv.get_gradients()
    assert rel_error(dk, numeric_grad(loss, conv.weights[0])) < 1e-6
