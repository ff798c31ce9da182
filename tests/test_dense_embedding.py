import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab.layers import Dense, Embedding


@pytest.mark.parametrize("activation", ["linear", "tanh", "sigmoid", "relu", "softmax"])
@pytest.mark.parametrize("shape", [(3, 5), (3, 4, 5)])
def test_dense_gradients(float64, rng, activation, shape):
    layer = Dense(6, activation=activation)
    x = rng.standard_normal(shape)
    layer.forward(x)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    [R] = projections([layer.forward(x)])
    layer.zero_grad()
    dx, = layer.backward(R)
    loss = lambda: projected_loss([layer.forward(x)], [R])
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-6
    for w, g in zip(layer.weights, layer.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6


def test_dense_on_sequences_matches_per_step(float64, rng):
    layer = Dense(3, activation="tanh")
    x = rng.standard_normal((2, 4, 5))
    y = layer.forward(x)
    for t in range(4):
        np.testing.assert_allclose(y[:, t], layer.forward(x[:, t]), rtol=1e-12)


def test_embedding_gradient_accumulates_repeated_ids(float64, rng):
    emb = Embedding(7, 4)
    ids = np.array([[1, 2, 2], [0, 6, 1]])
    y = emb.forward(ids)
    np.testing.assert_array_equal(y[0, 1], emb.get_weights()[0][2])
    [R] = projections([y])
    emb.zero_grad()
    assert emb.backward(R) == [None]
    E = emb.weights[0]
    loss = lambda: projected_loss([emb.forward(ids)], [R])
    assert rel_error(emb.get_gradients()[0], numeric_grad(loss, E)) < 1e-6


def test_embedding_mask_zero():
    emb = Embedding(5, 2, mask_zero=True)
    ids = np.array([[3, 1, 0, 0]])
    emb.forward(ids)
    np.testing.assert_array_equal(emb.compute_mask(ids), [[True, True, False, False]])
    assert Embedding(5, 2).compute_mask(ids) is None


def test_embedding_errors():
    emb = Embedding(10, 3)
    with pytest.raises(TypeError, match="expects integer token ids, got float64 values that are not whole"):
        emb.forward(np.array([[1.5, 2.0]]))
    with pytest.raises(ValueError, match=r"input_dim=10, so ids must be in \[0, 10\); got \[10\]"):
        emb.forward(np.array([[1, 10]]))
    with pytest.raises(ValueError, match="positive integer 'input_dim', got 0"):
        Embedding(0, 3)


def test_dense_errors(rng):
    with pytest.raises(ValueError, match="positive integer 'units', got -1"):
        Dense(-1)
    with pytest.raises(ValueError, match="Unknown activation 'swishy'"):
        Dense(2, activation="swishy")
    d = Dense(2)
    d.forward(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match=r"built for 4 input features, got inputs of shape \(3, 5\)"):
        d.forward(rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match=r"expects 2 weight arrays \[\(4, 2\), \(2,\)\], but set_weights got 1"):
        d.set_weights([np.zeros((4, 2))])
    with pytest.raises(ValueError, match=r"weight 'kernel' has shape \(4, 2\), but set_weights"
                                         r" got an array of shape \(2, 4\)"):
        d.set_weights([np.zeros((2, 4)), np.zeros(2)])
