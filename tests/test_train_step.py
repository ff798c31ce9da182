"""The training step split in two (gradients, then the update), the hook between them, the flat
gradient buffer, and the fused output gradient as part of the layer contract."""
import numpy as np
import pytest

from gradcheck import numeric_grad, rel_error
from rnnlab import activations, layers, models, utils


def _model(seed=0):
    utils.set_random_seed(seed)
    model = models.Sequential([
        layers.Embedding(12, 6, mask_zero=True),
        layers.Bidirectional(layers.LSTM(5, return_sequences=True, dropout=0.2, seed=1)),
        layers.GRU(4),
        layers.Dropout(0.3, seed=2),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.build((None, 7))                      # weights drawn here, from the seed above
    return model


def _batches(rng, n=3):
    return [(rng.integers(0, 12, size=(4, 7)), rng.integers(0, 3, size=4)) for _ in range(n)]


def _old_train_step(model, x, y):
    """The training step as it was written before the split: one function, the fused gradient applied by
    swapping the output Dense's activation backward for the identity around the model's backward."""
    model.zero_grad()
    y_pred = model._forward(x, training=True)
    value = model.loss.forward(y, y_pred, model._loss_mask(y_pred))
    dense = model.layers[-1]
    old, dense.f_backward = dense.f_backward, activations.linear_backward
    try:
        model._backward(model.loss.backward_fused())
    finally:
        dense.f_backward = old
    model.optimizer.apply(model.parameters())
    return value


@pytest.mark.parametrize("flat", [False, True])
def test_split_step_gives_bit_identical_weights(rng, flat):
    batches = _batches(rng)
    old, new = _model(), _model()
    if flat:
        new.flat_gradients()
    utils.set_random_seed(5)
    old_losses = [_old_train_step(old, x, y) for x, y in batches]
    utils.set_random_seed(5)
    new_losses = [new.train_on_batch(x, y) for x, y in batches]
    assert old_losses == new_losses
    for a, b in zip(old.get_weights(), new.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_gradient_hooks_run_between_gradients_and_update(float64, rng):
    x, y = _batches(rng, 1)[0]
    a, b = _model(), _model()
    a.compile("sgd", "sparse_categorical_crossentropy")
    b.compile("sgd", "sparse_categorical_crossentropy")
    seen = []

    def double(model):                   # what an all-reduce over two identical processes would do
        flat = model.flat_gradients()
        seen.append(float(np.abs(flat).sum()))
        flat *= 2.0

    a.gradient_hooks.append(double)
    w0 = a.get_weights()
    utils.set_random_seed(3)
    a.train_on_batch(x, y)
    utils.set_random_seed(3)
    b.train_on_batch(x, y)
    assert len(seen) == 1 and seen[0] > 0
    for w, wa, wb in zip(w0, a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa - w, 2.0 * (wb - w), rtol=1e-9, atol=1e-12)   # SGD: twice the step


def test_flat_gradient_buffer_holds_every_gradient(rng):
    model = _model()
    flat = model.flat_gradients()
    params = model.parameters()
    assert flat.size == sum(p.size for p, _ in params) == model.count_params()
    start = 0
    for p, g in params:
        assert np.shares_memory(g, flat) and g.shape == p.shape
        start += g.size
    x, y = _batches(rng, 1)[0]
    model.compute_gradients(x, y)
    np.testing.assert_array_equal(np.concatenate([g.ravel() for _, g in model.parameters()]), flat)
    bi = model.layers[1]
    for (_, g_bi), g_sub in zip(bi.parameters(), bi.forward_layer.gradients + bi.backward_layer.gradients):
        assert g_bi is g_sub                              # the wrapper still sees its sublayers' arrays
    assert model.flat_gradients() is flat


def test_tied_parameters_are_updated_once():
    shared = layers.Dense(2)
    shared.build((None, 3))

    class Twice(models.Model):
        layers = property(lambda self: [shared, shared])

    assert len(Twice().parameters()) == 2                 # kernel and bias, not four


class DirectSoftmax(models.Model):
    """A custom model whose real output layer carries the softmax: no identity layer to fake the fusion."""

    def __init__(self):
        super().__init__()
        self.rnn = layers.GRU(4)
        self.out = layers.Dense(3, activation="softmax")

    @property
    def layers(self):
        return [self.rnn, self.out]

    def _forward(self, x, training=False):
        self._output_mask = None
        return self.out.forward(self.rnn.forward(x, training=training), training=training)

    def _backward(self, grad, pre_activation=False):
        dh, = self.out.backward(grad, pre_activation=pre_activation)
        self.rnn.backward(dh)

    def _output_layer(self):
        return self.out


def test_fused_gradient_in_a_custom_model(float64, rng):
    model = DirectSoftmax()
    x, y = rng.standard_normal((5, 6, 2)), rng.integers(0, 3, size=5)
    model._forward(x)
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model._fused()
    model.compute_gradients(x, y)
    analytic = [g.copy() for _, g in model.parameters()]
    loss = lambda: model.loss.forward(y, model._forward(x))
    for (w, _), g in zip(model.parameters(), analytic):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-7


def test_pre_activation_backward_skips_only_the_activation(float64, rng):
    dense = layers.Dense(3, activation="sigmoid")
    x, dz = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    dense.forward(x)
    dx_pre, = dense.backward(dz, pre_activation=True)
    grads_pre = dense.get_gradients()
    lin = layers.Dense(3)
    lin.build((None, 5))
    lin.set_weights(dense.get_weights())
    lin.forward(x)
    dx_lin, = lin.backward(dz)
    np.testing.assert_allclose(dx_pre, dx_lin, rtol=1e-12)
    for a, b in zip(grads_pre, lin.get_gradients()):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert dense.output_activation() == "sigmoid"
    assert layers.TimeDistributed(layers.Dense(2, activation="softmax")).output_activation() == "softmax"
    assert layers.LSTM(3).output_activation() is None
