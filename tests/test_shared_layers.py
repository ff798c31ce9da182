"""Per-call records: a layer called several times in one pass backpropagates every call, gradients summed."""
import numpy as np
import pytest

from gradcheck import numeric_grad, rel_error
from rnnlab import layers, models
from rnnlab.layers import recording


class Siamese(models.Model):
    """Two token sequences through ONE Embedding and ONE LSTM: y = softmax(W (h_a + 2 h_b) + b)."""

    def __init__(self):
        super().__init__()
        self.emb = layers.Embedding(7, 4)
        self.rnn = layers.LSTM(5)
        self.out = layers.Dense(3, activation="softmax")

    @property
    def layers(self):
        return [self.emb, self.rnn, self.out]

    def _multi_input(self):
        return True

    def _forward(self, x, training=False):
        a, b = x
        self._output_mask = None
        h_a = self.rnn.forward(self.emb.forward(a), training=training)      # call 1 of each
        h_b = self.rnn.forward(self.emb.forward(b), training=training)      # call 2 of each
        return self.out.forward(h_a + 2.0 * h_b, training=training)

    def _backward(self, grad, pre_activation=False):
        dz, = self.out.backward(grad, pre_activation=pre_activation)
        de_b, = self.rnn.backward(2.0 * dz)            # newest call first: the b branch
        self.emb.backward(de_b)
        de_a, = self.rnn.backward(dz)                  # then the a branch
        self.emb.backward(de_a)

    def _output_layer(self):
        return self.out


def _data(rng, n=4):
    return [rng.integers(0, 7, size=(n, 5)), rng.integers(0, 7, size=(n, 3))], rng.integers(0, 3, size=n)


def test_shared_embedding_and_lstm_gradients_by_finite_differences(float64, rng):
    model = Siamese()
    x, y = _data(rng)
    model._forward(x)
    for layer in model.layers:
        layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model._fused()
    model.compute_gradients(x, y)
    assert all(not layer._calls for layer in model.all_layers())        # every record consumed
    analytic = [g.copy() for _, g in model.parameters()]
    loss = lambda: model.loss.forward(y, model._forward(x))
    for (w, _), g in zip(model.parameters(), analytic):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-7


def test_shared_layer_gradient_is_the_sum_of_its_calls(float64, rng):
    dense = layers.Dense(3)
    x1, x2 = rng.standard_normal((2, 4)), rng.standard_normal((5, 4))
    R1, R2 = rng.standard_normal((2, 3)), rng.standard_normal((5, 3))
    dense.forward(x1)
    singles = []
    for x, R in ((x1, R1), (x2, R2)):
        dense.zero_grad()
        dense.forward(x)
        dx, = dense.backward(R)
        singles.append((dx, dense.get_gradients()))
    dense.zero_grad()
    with recording():
        dense.forward(x1)
        dense.forward(x2)
        dx2, = dense.backward(R2)
        dx1, = dense.backward(R1)
    np.testing.assert_array_equal(dx1, singles[0][0])
    np.testing.assert_array_equal(dx2, singles[1][0])
    for g, g1, g2 in zip(dense.get_gradients(), singles[0][1], singles[1][1]):
        np.testing.assert_allclose(g, g1 + g2, rtol=1e-12)


def test_decoder_called_at_every_step_backpropagates_each_call(float64, rng):
    """An LSTM layer called once per step on length-1 sequences, states passed along (a decoder loop),
    gives the same gradients as one call on the whole sequence."""
    x = rng.standard_normal((2, 4, 3))
    R = rng.standard_normal((2, 4, 5))
    whole = layers.LSTM(5, return_sequences=True)
    whole.forward(x)
    whole.set_weights([rng.standard_normal(w.shape) * 0.5 for w in whole.get_weights()])
    y = whole.forward(x)
    dx_whole, = whole.backward(R)

    dec = layers.LSTM(5, return_sequences=True, return_state=True)
    dec.forward(x[:, :1])
    dec.set_weights(whole.get_weights())
    states, ys = [np.zeros((2, 5)), np.zeros((2, 5))], []
    with recording():
        for t in range(4):
            y_t, *states = dec.forward(x[:, t:t + 1], initial_state=states)
            ys.append(y_t)
        np.testing.assert_allclose(np.concatenate(ys, axis=1), y, rtol=1e-12)
        d_states, dxs = [None, None], []
        for t in range(3, -1, -1):
            dx_t, *d_states = dec.backward([R[:, t:t + 1]] + d_states)   # [dx, dh0, dc0] of call t
            dxs.append(dx_t)
    np.testing.assert_allclose(np.concatenate(dxs[::-1], axis=1), dx_whole, rtol=1e-10, atol=1e-12)
    for g, g_whole in zip(dec.get_gradients(), whole.get_gradients()):
        np.testing.assert_allclose(g, g_whole, rtol=1e-10, atol=1e-12)


def test_records_outside_and_inside_recording():
    dense = layers.Dense(2)
    dense.forward(np.ones((1, 3)))
    dense.forward(np.ones((1, 3)))
    assert len(dense._calls) == 1                      # outside: only the last call is kept
    dense.backward(np.ones((1, 2)))
    dense.backward(np.ones((1, 2)))                    # and may be backpropagated again
    with recording():
        dense.forward(np.ones((1, 3)))
        dense.forward(np.ones((4, 3)))
        assert len(dense._calls) == 3
        assert dense.backward(np.ones((4, 2)))[0].shape == (4, 3)   # newest first
        dense.backward(np.ones((1, 2)))
        dense.backward(np.ones((1, 2)))
        with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\).*already been backpropagated"):
            dense.backward(np.ones((1, 2)))
    dense.forward(np.ones((1, 3)))
    dense.clear_calls()
    assert dense._calls == []
