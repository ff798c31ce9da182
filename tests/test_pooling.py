import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import (AveragePooling1D, Flatten, GlobalAveragePooling1D, GlobalMaxPooling1D,
                           MaxPooling1D)

# (pool_size, strides, padding)
CASES = [(2, None, "valid"), (3, 2, "valid"), (2, 3, "valid"), (3, None, "same"), (4, 2, "same"),
         (3, 1, "same"), (2, 3, "same")]
POOLS = [MaxPooling1D, AveragePooling1D]


def _gradcheck(layer, x, mask=None):
    y = layer.forward(x, mask=mask)
    [R] = projections([y])
    dx, = layer.backward(R)
    loss = lambda: projected_loss([layer.forward(x, mask=mask)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    return y, dx


@pytest.mark.parametrize("cls", POOLS)
@pytest.mark.parametrize("p,s,padding", CASES)
def test_pooling_gradients(float64, rng, cls, p, s, padding):
    layer = cls(p, strides=s, padding=padding)
    x = rng.standard_normal((2, 7, 3))
    y, _ = _gradcheck(layer, x)
    assert y.shape == layer.compute_output_shape(x.shape)


def _torch_pool(torch, cls, x, p, s, padding):
    """Keras-semantics pooling in torch: explicit "same" padding; the average counts real steps only."""
    F = torch.nn.functional
    T = x.shape[1]
    s = s or p
    total = max((-(-T // s) - 1) * s + p - T, 0) if padding == "same" else 0
    pads = (total // 2, total - total // 2)
    xt = x.transpose(1, 2)                                                       # (N, C, T)
    if cls is MaxPooling1D:
        return F.max_pool1d(F.pad(xt, pads, value=-float("inf")), p, s).transpose(1, 2)
    sums = F.avg_pool1d(F.pad(xt, pads), p, s) * p
    counts = F.avg_pool1d(F.pad(torch.ones_like(xt[:1, :1]), pads), p, s) * p
    return (sums / counts).transpose(1, 2)


@pytest.mark.parametrize("cls", POOLS)
@pytest.mark.parametrize("p,s,padding", CASES)
def test_pooling_matches_torch(float64, rng, cls, p, s, padding):
    torch = pytest.importorskip("torch")
    layer = cls(p, strides=s, padding=padding)
    x = rng.standard_normal((3, 10, 4))
    y = layer.forward(x)
    R = rng.standard_normal(y.shape)
    dx, = layer.backward(R)
    xt = torch.tensor(x, requires_grad=True)
    yt = _torch_pool(torch, cls, xt, p, s, padding)
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_pooling_matches_torch_modules_valid(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    xt = torch.tensor(x).transpose(1, 2)
    np.testing.assert_allclose(MaxPooling1D(3, 2).forward(x),
                               torch.nn.MaxPool1d(3, 2)(xt).transpose(1, 2).numpy(), rtol=1e-6)
    np.testing.assert_allclose(AveragePooling1D(3, 2).forward(x),
                               torch.nn.AvgPool1d(3, 2)(xt).transpose(1, 2).numpy(), rtol=1e-6, atol=1e-7)


def test_same_average_excludes_padding_and_values_by_hand():
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)              # 1 2 3 4 5
    # T=5, p=2, s=2, same: T'=3, pad_total=(3-1)*2+2-5=1 -> left 0, right 1: windows [1,2] [3,4] [5]
    np.testing.assert_allclose(AveragePooling1D(2, padding="same").forward(x)[0, :, 0], [1.5, 3.5, 5.0])
    np.testing.assert_allclose(MaxPooling1D(2, padding="same").forward(-x)[0, :, 0], [-1.0, -3.0, -5.0])
    # p=3, s=1, same: pad 1 left, 1 right: [1,2] [1,2,3] [2,3,4] [3,4,5] [4,5]
    np.testing.assert_allclose(AveragePooling1D(3, 1, padding="same").forward(x)[0, :, 0], [1.5, 2, 3, 4, 4.5])
    np.testing.assert_allclose(MaxPooling1D(2).forward(x)[0, :, 0], [2.0, 4.0])       # valid drops the 5


def test_max_pooling_ties_route_to_first(float64):
    x = np.array([[[1.0], [1.0], [0.0], [2.0], [2.0], [2.0]]])
    pool = MaxPooling1D(3, strides=3)
    np.testing.assert_array_equal(pool.forward(x)[0, :, 0], [1.0, 2.0])
    dx, = pool.backward(np.array([[[10.0], [20.0]]]))
    np.testing.assert_array_equal(dx[0, :, 0], [10.0, 0, 0, 20.0, 0, 0])
    # overlapping windows add up at a shared maximum
    pool = MaxPooling1D(2, strides=1)
    x = np.array([[[0.0], [5.0], [1.0]]])
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 2, 1)))[0][0, :, 0], [0.0, 2.0, 0.0])


def test_pooling_config_mask_and_errors():
    pool = MaxPooling1D(3, padding="same")
    assert pool.strides == 3
    clone = layers.deserialize(layers.serialize(pool))
    assert type(clone) is MaxPooling1D and clone.get_config() == pool.get_config()
    assert pool.compute_mask(np.zeros((1, 6, 2)), np.ones((1, 6), bool)) is None
    assert AveragePooling1D(4, 2).compute_output_shape((None, 9, 3)) == (None, 3, 3)
    with pytest.raises(ValueError, match=r"MaxPooling1D got padding='causal'; expected one of \['valid', 'same'\]"):
        MaxPooling1D(2, padding="causal")
    with pytest.raises(ValueError, match="AveragePooling1D expects a positive integer 'pool_size', got 0"):
        AveragePooling1D(0)
    with pytest.raises(ValueError, match="MaxPooling1D expects a positive integer 'strides', got -1"):
        MaxPooling1D(2, strides=-1)
    with pytest.raises(ValueError, match=r"has pool_size=5 but the input has only 3 timesteps with padding='valid'"):
        MaxPooling1D(5).forward(np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match=r"expects inputs of rank 3 \(batch, timesteps,"
                                         r" channels\), got shape \(4, 3\)"):
        AveragePooling1D(2).forward(np.zeros((4, 3)))
    assert MaxPooling1D(5, padding="same").forward(np.zeros((1, 3, 2))).shape == (1, 1, 2)


# ---- pooling over all of time (seed 004: every hidden state by mean) ---------------------------

MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)


@pytest.mark.parametrize("cls", [GlobalAveragePooling1D, GlobalMaxPooling1D])
@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_gradients(float64, rng, cls, mask, keepdims):
    layer = cls(keepdims=keepdims)
    x = rng.standard_normal((3, 5, 4))
    y, dx = _gradcheck(layer, x, mask=mask)
    assert y.shape == layer.compute_output_shape(x.shape) == ((3, 1, 4) if keepdims else (3, 4))
    if mask is not None:
        assert np.all(dx[~mask] == 0)                       # padded steps get no gradient


def test_global_pooling_uses_real_steps_only(rng):
    x = rng.standard_normal((3, 5, 4))
    x[~MASK] = 100.0                                        # padding that would dominate if counted
    avg = GlobalAveragePooling1D().forward(x, mask=MASK)
    mx = GlobalMaxPooling1D().forward(x, mask=MASK)
    for n in range(3):
        real = x[n, MASK[n]]
        np.testing.assert_allclose(avg[n], real.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(mx[n], real.max(axis=0), rtol=1e-6)
    np.testing.assert_allclose(GlobalAveragePooling1D().forward(x), x.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(GlobalMaxPooling1D().forward(x), x.max(axis=1), rtol=1e-6)
    assert GlobalAveragePooling1D().compute_mask(x, MASK) is None


def test_global_pooling_fully_masked_row_is_zero(float64, rng):
    x = rng.standard_normal((2, 3, 2))
    mask = np.array([[True, False, True], [False, False, False]])
    for cls in (GlobalAveragePooling1D, GlobalMaxPooling1D):
        layer = cls()
        y = layer.forward(x, mask=mask)
        np.testing.assert_array_equal(y[1], 0.0)
        assert np.all(np.isfinite(y))
        dx, = layer.backward(np.ones_like(y))
        np.testing.assert_array_equal(dx[1], 0.0)


def test_global_pooling_errors():
    with pytest.raises(ValueError, match=r"got a mask of shape \(2, 4\) for inputs of shape \(2, 5, 3\); expected a "
                                         r"mask of shape \(2, 5\)"):
        GlobalAveragePooling1D().forward(np.zeros((2, 5, 3)), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"expects inputs of rank 3 \(batch, timesteps,"
                                         r" features\), got shape \(2, 5\)"):
        GlobalMaxPooling1D().forward(np.zeros((2, 5)))
    g = GlobalMaxPooling1D(keepdims=True)
    assert layers.deserialize(layers.serialize(g)).keepdims is True


# ---- Flatten (seed 004: every hidden state by concatenation) -----------------------------------

def test_flatten_concatenates_hidden_states(float64, rng):
    h = rng.standard_normal((3, 4, 5))
    flat = Flatten()
    y, dx = _gradcheck(flat, h)
    np.testing.assert_array_equal(y, np.concatenate([h[:, t] for t in range(4)], axis=1))
    assert flat.compute_output_shape((None, 4, 5)) == (None, 20)
    assert flat.compute_output_shape((None, None, 5)) == (None, None)
    assert flat.compute_mask(h, np.ones((3, 4), bool)) is None
    assert Flatten().forward(np.zeros(3)).shape == (3, 1)
    assert type(layers.deserialize(layers.serialize(flat))) is Flatten


# torch.nn.MaxPool1d / AvgPool1d themselves, outputs and input gradients. Keras's "same" equals torch's
# symmetric padding when the padding total is even: T=9, p=3, s=1 pads one step on each side; the
# average then counts real steps only, torch's count_include_pad=False.
@pytest.mark.parametrize("p,s,padding,torch_pad", [(3, 2, "valid", 0), (2, 1, "valid", 0), (3, 1, "same", 1),
                                                   (5, 1, "same", 2)])
@pytest.mark.parametrize("cls", POOLS)
def test_pooling_matches_torch_modules_with_gradients(float64, rng, cls, p, s, padding, torch_pad):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 9, 3))
    layer = cls(p, strides=s, padding=padding)
    y = layer.forward(x)
    R = rng.standard_normal(y.shape)
    dx, = layer.backward(R)
    if cls is MaxPooling1D:
        m = torch.nn.MaxPool1d(p, s, padding=torch_pad)
    else:
        m = torch.nn.AvgPool1d(p, s, padding=torch_pad, count_include_pad=False)
    xt = torch.tensor(x, requires_grad=True)
    yt = m(xt.transpose(1, 2)).transpose(1, 2)
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-9)
