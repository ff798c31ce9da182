"""The Model base class is a reusable training loop: a custom two-input model trains and gradient-checks."""
import numpy as np

from gradcheck import numeric_grad, rel_error
from rnnlab import layers, models, optimizers, utils


class TwoInputs(models.Model):
    """y = softmax(Dense(a) + Dense(LSTM(b))): one input is a vector, the other a sequence."""

    def __init__(self, classes, name=None):
        super().__init__(name=name)
        self.da = layers.Dense(classes)
        self.rnn = layers.LSTM(4)
        self.db = layers.Dense(classes)
        self.out = layers.Dense(classes, activation="softmax", use_bias=False, kernel_initializer="ones")
        self.out.trainable = False

    @property
    def layers(self):
        return [self.da, self.rnn, self.db, self.out]

    def _multi_input(self):
        return True

    def _forward(self, x, training=False):
        a, b = x
        self._output_mask = None
        z = self.da.forward(a, training=training) + self.db.forward(self.rnn.forward(b, training=training))
        # a fixed identity "mixing" layer carries the softmax so the fused gradient applies
        if not self.out.built:
            self.out.forward(z)
            self.out.set_weights([np.eye(z.shape[-1])])
        return self.out.forward(z, training=training)

    def _backward(self, grad, pre_activation=False):
        dz, = self.out.backward(grad, pre_activation=pre_activation)
        self.da.backward(dz)
        self.rnn.backward(self.db.backward(dz)[0])

    def _output_layer(self):
        return self.out


def _data(rng, n=200):
    a = rng.standard_normal((n, 3))
    b = rng.standard_normal((n, 5, 2))
    y = ((a[:, 0] > 0).astype(int) + (b[:, -1, 0] > 0).astype(int))       # 0, 1 or 2: needs both inputs
    return a, b, y


def test_custom_two_input_model_trains_with_the_shared_loop(capsys):
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    a, b, y = _data(rng, 400)
    model = TwoInputs(3)
    model.compile(optimizers.Adam(0.03), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit([a, b], y, epochs=15, batch_size=32, validation_split=0.25, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.75                   # majority class: 0.5
    assert model.predict([a, b]).shape == (400, 3)
    assert model.count_params() == 3 * 3 + 3 + (2 + 4 + 1) * 16 + 4 * 3 + 3 + 9
    assert len(model.trainable_weights) == len(model.weights) - 1        # the frozen output layer
    capsys.readouterr()
    model.summary()
    out = capsys.readouterr().out
    assert "lstm" in out and "Total params: 148 " in out and "Non-trainable params: 9 " in out


def test_custom_model_gradients(float64):
    rng = np.random.default_rng(1)
    a, b, y = _data(rng, 4)
    model = TwoInputs(3)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model._forward([a, b])
    assert model._fused()
    model.zero_grad()
    model.compute_gradients([a, b], y)
    analytic = [g.copy() for _, g in model.parameters()]
    loss = lambda: model.loss.forward(y, model._forward([a, b]))
    for (w, _), g in zip(model.parameters(), analytic):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6
