import numpy as np
import pytest

from gradcheck import numeric_grad, rel_error
from rnnlab import layers, losses, models


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# ---- values and gradients against PyTorch ----------------------------------------------------------

@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_matches_torch(rng, from_logits):
    torch = pytest.importorskip("torch")
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 2, 3])
    inp = z if from_logits else _softmax(z)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    value = loss.forward(y, inp)
    grad = loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    if from_logits:
        ref = torch.nn.functional.cross_entropy(zt, torch.tensor(y))
        ref.backward()
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-10, atol=1e-12)
    else:
        pt = torch.tensor(inp, requires_grad=True)
        ref = torch.nn.functional.nll_loss(torch.log(pt), torch.tensor(y))
        ref.backward()
        np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-10)
    assert value == pytest.approx(ref.item(), rel=1e-12)


def test_categorical_and_binary_crossentropy_match_torch(rng):
    torch = pytest.importorskip("torch")
    z = rng.standard_normal((6, 3))
    y = np.eye(3)[[0, 2, 1, 1, 0, 2]]
    value = losses.get("categorical_crossentropy").forward(y, _softmax(z))
    ref = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(y))
    assert value == pytest.approx(ref.item(), rel=1e-12)

    yb = (rng.random((6, 2)) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z[:, :2]))
    bce = losses.get("binary_crossentropy")
    value = bce.forward(yb, p)
    pt = torch.tensor(p, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy(pt, torch.tensor(yb))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(bce.backward(), pt.grad.numpy(), rtol=1e-9)

    bce_logits = losses.BinaryCrossentropy(from_logits=True)
    zt = torch.tensor(z[:, :2] * 30, requires_grad=True)            # large logits: still finite and exact
    value = bce_logits.forward(yb, z[:, :2] * 30)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(yb))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(bce_logits.backward(), zt.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name,torch_fn", [("mse", "mse_loss"), ("mae", "l1_loss")])
def test_regression_losses_match_torch(rng, name, torch_fn):
    torch = pytest.importorskip("torch")
    p, y = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    loss = losses.get(name)
    value = loss.forward(y, p)
    pt = torch.tensor(p, requires_grad=True)
    ref = getattr(torch.nn.functional, torch_fn)(pt, torch.tensor(y))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), pt.grad.numpy(), rtol=1e-12)


# ---- masked sequence losses ------------------------------------------------------------------------

def test_masked_sequence_loss_is_mean_over_real_steps(rng):
    p = _softmax(rng.standard_normal((2, 4, 3)))
    y = np.array([[0, 1, 2, 0], [2, 2, 1, 1]])
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    loss = losses.get("sparse_categorical_crossentropy")
    value = loss.forward(y, p, mask)
    per_step = -np.log(np.take_along_axis(p, y[..., None], -1)[..., 0])
    assert value == pytest.approx(per_step[mask].mean(), rel=1e-6)
    grad = loss.backward()
    assert np.all(grad[~mask] == 0)
    y2 = y.copy()
    y2[~mask] = 1                                        # targets at padded steps do not matter
    assert loss.forward(y2, p, mask) == value


# ---- the fused gradients and the model backward, by finite differences ----------------------------------

def _model_gradcheck(model, loss, x, y):
    model.compile("sgd", loss)
    model.zero_grad()
    model.compute_gradients(x, y)
    analytic = [g.copy() for _, g in model.parameters()]

    def loss_fn():
        y_pred = model._forward(x)
        return model.loss.forward(y, y_pred, model._loss_mask(y_pred))

    for (w, _), g in zip(model.parameters(), analytic):
        assert rel_error(g, numeric_grad(loss_fn, w)) < 1e-6


@pytest.mark.parametrize("activation,loss,y", [
    ("softmax", "sparse_categorical_crossentropy", np.array([0, 2, 1, 2])),
    ("softmax", "categorical_crossentropy", np.eye(3)[[1, 0, 2, 2]]),
    ("sigmoid", "binary_crossentropy", np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]])),
    ("linear", "mse", np.arange(12.0).reshape(4, 3) / 10),
])
def test_model_gradients_with_fused_output(float64, rng, activation, loss, y):
    model = models.Sequential([layers.Dense(5, activation="tanh", input_shape=(4,)),
                               layers.Dense(3, activation=activation)])
    model.build()
    model.compile("sgd", loss)
    assert model._fused() == (activation != "linear")
    _model_gradcheck(model, loss, rng.standard_normal((4, 4)), y)


def test_model_gradients_masked_sequence_loss(float64, rng):
    model = models.Sequential([layers.Embedding(7, 4, mask_zero=True),
                               layers.SimpleRNN(5, return_sequences=True),
                               layers.Dense(3, activation="softmax")])
    x = np.array([[3, 1, 4, 0, 0], [2, 6, 5, 1, 0], [1, 1, 0, 0, 0]])
    y = rng.integers(0, 3, size=(3, 5))
    model.build((None, 5))
    for w in model.weights:
        w[...] = rng.standard_normal(w.shape) * 0.5
    _model_gradcheck(model, "sparse_categorical_crossentropy", x, y)
    np.testing.assert_array_equal(model._output_mask, x != 0)


def test_fused_gradient_equals_chained_gradient(float64, rng):
    z = rng.standard_normal((4, 3))
    p = _softmax(z)
    y = np.array([0, 1, 2, 1])
    loss = losses.get("sparse_categorical_crossentropy")
    loss.forward(y, p)
    chained = p * (loss.backward() - (loss.backward() * p).sum(-1, keepdims=True))   # through softmax
    np.testing.assert_allclose(loss.backward_fused(), chained, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(loss.backward_fused(), (p - np.eye(3)[y]) / 4, rtol=1e-12)


# ---- errors -------------------------------------------------------------------------------------------

def test_loss_errors():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"labels must be class ids in \[0, 3\) because"
                                         r" the model outputs 3 classes, got \[3, 5\]"):
        losses.get("sparse_categorical_crossentropy").forward(np.array([3, 5]), p)
    with pytest.raises(ValueError, match=r"got labels of shape \(2, 3\) for model outputs of"
                                         r" shape \(2, 3\); expected labels of shape \(2,\)"):
        losses.get("sparse_categorical_crossentropy").forward(np.zeros((2, 3), int), p)
    with pytest.raises(ValueError, match=r"got targets y of shape \(2, 4\) for model outputs of shape \(2, 3\)"):
        losses.get("mse").forward(np.zeros((2, 4)), p)
    with pytest.raises(ValueError, match=r"expects targets in \[0, 1\].*got \[2.0\]"):
        losses.get("binary_crossentropy").forward(np.array([[0.0], [2.0]]), np.full((2, 1), 0.5))
    with pytest.raises(ValueError, match="Unknown loss 'hinge_loss'"):
        losses.get("hinge_loss")
    with pytest.raises(TypeError, match="plain function, but rnnlab needs the gradient"):
        losses.get(lambda y, p: 0.0)
