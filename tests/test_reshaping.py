"""RepeatVector, Reshape and Permute: gradients, values against PyTorch, masks, shapes, errors, configs."""
import numpy as np
import pytest
import torch

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import Permute, RepeatVector, Reshape

N, T, D = 3, 4, 5


def check_gradient(layer, x):
    y = layer.forward(x)
    [R] = projections([y])
    grads = layer.backward(R)
    assert isinstance(grads, list) and len(grads) == 1 and grads[0].shape == x.shape
    loss = lambda: projected_loss([layer.forward(x)], [R])
    assert rel_error(grads[0], numeric_grad(loss, x)) < 1e-6
    return y


# ---- RepeatVector ----------------------------------------------------------------------------------------

def test_repeat_vector_values_and_gradient(float64, rng):
    x = rng.standard_normal((N, D))
    y = check_gradient(RepeatVector(T), x)
    assert y.shape == (N, T, D)
    np.testing.assert_array_equal(y, torch.from_numpy(x).unsqueeze(1).expand(N, T, D).numpy())
    layer = RepeatVector(T)
    layer.forward(x)
    dy = rng.standard_normal((N, T, D))
    np.testing.assert_allclose(layer.backward(dy)[0], sum(dy[:, t] for t in range(T)), rtol=1e-14)


def test_repeat_vector_output_is_writable_and_independent(rng):
    x = rng.standard_normal((2, 3))
    y = RepeatVector(2).forward(x)
    y[0, 0, 0] = 99.0                       # a later in-place op must not touch the input or the other copy
    assert x[0, 0] != 99.0 and y[0, 1, 0] != 99.0


def test_repeat_vector_shape_mask_errors_config():
    layer = RepeatVector(6)
    assert layer.compute_output_shape((None, 8)) == (None, 6, 8)
    assert layer.compute_mask(np.ones((2, 8)), np.ones((2, 8), bool)) is None
    assert layer.per_step is False
    with pytest.raises(ValueError, match=r"'repeat_vector' \(RepeatVector\) expects inputs of rank 2 \(batch, "
                                         r"features\).*got shape \(2, 3, 4\) \(rank 3\)"):
        layer.forward(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expects inputs of rank 2 \(batch, features\), got input shape "
                                         r"\(None, 3, 4\)"):
        layer.compute_output_shape((None, 3, 4))
    with pytest.raises(TypeError, match=r"RepeatVector expects an integer 'n' .* got 2.5"):
        RepeatVector(2.5)
    with pytest.raises(ValueError, match=r"RepeatVector expects a positive integer 'n' .* got 0"):
        RepeatVector(0)
    clone = layers.deserialize(layers.serialize(layer))
    assert isinstance(clone, RepeatVector) and clone.n == 6 and clone.get_config() == layer.get_config()


# ---- Reshape ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,target,out", [
    ((N, T, D), (D, T), (N, D, T)),
    ((N, T, D), (-1,), (N, T * D)),
    ((N, 12), (-1, 2, 2), (N, 3, 2, 2)),
    ((N, 2, 6), (3, -1), (N, 3, 4)),
])
def test_reshape_values_and_gradient(float64, rng, shape, target, out):
    x = rng.standard_normal(shape)
    y = check_gradient(Reshape(target), x)
    assert y.shape == out
    np.testing.assert_array_equal(y, torch.from_numpy(x).reshape((N,) + target).numpy())


def test_reshape_compute_output_shape():
    assert Reshape((3, 4)).compute_output_shape((None, 12)) == (None, 3, 4)
    assert Reshape((-1, 2, 2)).compute_output_shape((None, 12)) == (None, 3, 2, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert Reshape((5, 2)).compute_output_shape((7, None)) == (7, 5, 2)
    assert Reshape((3, 4)).compute_mask(np.ones((2, 12)), np.ones((2, 12), bool)) is None


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"Layer 'reshape' \(Reshape\) cannot reshape samples of shape \(4, 5\) "
                                         r"\(20 values\) to target_shape=\(3, 7\) \(21 values\)"):
        Reshape((3, 7)).forward(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"samples of shape \(4, 5\) \(20 values\) to target_shape=\(-1, 3\) "
                                         r"\(a multiple of 3 values\)"):
        Reshape((-1, 3)).compute_output_shape((None, 4, 5))
    with pytest.raises(ValueError, match=r"at most one -1 .* got \(-1, -1\)"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"positive ints .* got \(0, 4\)"):
        Reshape((0, 4))
    with pytest.raises(TypeError, match=r"Reshape expects 'target_shape' to be a tuple of ints .* got 12"):
        Reshape(12)


def test_reshape_config_round_trip(rng):
    layer = Reshape((-1, 2), name="r")
    clone = layers.deserialize(layers.serialize(layer))
    assert clone.target_shape == (-1, 2) and clone.get_config() == layer.get_config()
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(clone.forward(x), layer.forward(x))


# ---- Permute ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,dims", [((N, T, D), (2, 1)), ((N, T, D), (1, 2)), ((N, T, D, 2), (3, 1, 2)),
                                        ((N, T, D, 2), (2, 3, 1))])
def test_permute_values_and_gradient(float64, rng, shape, dims):
    x = rng.standard_normal(shape)
    y = check_gradient(Permute(dims), x)
    np.testing.assert_array_equal(y, torch.from_numpy(x).permute((0,) + dims).numpy())
    layer = Permute(dims)
    layer.forward(x)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(dy)[0], torch.from_numpy(dy).permute(
        tuple(int(i) for i in np.argsort((0,) + dims))).numpy())


def test_permute_shape_mask_errors_config():
    layer = Permute((3, 1, 2))
    assert layer.compute_output_shape((None, None, 5, 2)) == (None, 2, None, 5)
    assert layer.compute_mask(np.ones((2, 3, 4, 5)), np.ones((2, 3), bool)) is None
    with pytest.raises(ValueError, match=r"Permute expects 'dims' to be a permutation of 1..2 .* got \(0, 1\)"):
        Permute((0, 1))
    with pytest.raises(ValueError, match=r"permutation of 1..3 .* got \(1, 1, 3\)"):
        Permute((1, 1, 3))
    with pytest.raises(TypeError, match=r"Permute expects 'dims' to be a tuple of ints .* got 2"):
        Permute(2)
    with pytest.raises(ValueError, match=r"'permute' \(Permute\) has dims=\(3, 1, 2\), so it expects inputs of rank 4 "
                                         r"\(batch \+ 3 axes\), got shape \(2, 3, 4\) \(rank 3\)"):
        layer.forward(np.ones((2, 3, 4)))
    clone = layers.deserialize(layers.serialize(layer))
    assert clone.dims == (3, 1, 2) and clone.get_config() == layer.get_config()
