"""Keras semantics of the recurrent layers: weights, defaults, shapes, masks, configs, cells."""
import json

import numpy as np
import pytest

from rnnlab.layers import (GRU, LSTM, RNN, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell,
                           deserialize, serialize)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("make, shapes", [
    (lambda: SimpleRNN(6), [(5, 6), (6, 6), (6,)]),
    (lambda: LSTM(6), [(5, 24), (6, 24), (24,)]),
    (lambda: GRU(6), [(5, 18), (6, 18), (2, 18)]),
    (lambda: GRU(6, reset_after=False), [(5, 18), (6, 18), (18,)]),
    (lambda: LSTM(6, use_bias=False), [(5, 24), (6, 24)]),
    (lambda: Bidirectional(GRU(6)), [(5, 18), (6, 18), (2, 18)] * 2),
])
def test_weight_layout_and_float32_default(make, shapes):
    layer = make()
    y = layer.forward(np.ones((3, 4, 5)))
    assert [w.shape for w in layer.get_weights()] == shapes
    assert [g.shape for g in layer.get_gradients()] == shapes
    assert y.dtype == np.float32 and all(w.dtype == np.float32 for w in layer.weights)
    assert layer.count_params() == sum(int(np.prod(s)) for s in shapes)


def test_keras_parameter_counts_of_design_example():
    rnn1, rnn2 = SimpleRNN(64, return_sequences=True), SimpleRNN(32)
    rnn2.forward(rnn1.forward(np.zeros((1, 2, 128))))
    assert (rnn1.count_params(), rnn2.count_params()) == (12352, 3104)


def test_float64_when_set(float64):
    layer = LSTM(3)
    assert layer.forward(np.ones((1, 2, 4))).dtype == np.float64
    assert all(w.dtype == np.float64 for w in layer.weights)


def test_default_initializers():
    layer = LSTM(5, seed=3)
    layer.forward(np.zeros((1, 1, 7)))
    kernel, rec, bias = layer.get_weights()
    limit = np.sqrt(6.0 / (7 + 20))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.5 * limit       # glorot_uniform
    np.testing.assert_allclose(rec @ rec.T, np.eye(5), atol=1e-5)                      # orthogonal rows
    np.testing.assert_array_equal(bias, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])  # unit_forget_bias
    layer2 = LSTM(5, seed=3, unit_forget_bias=False)
    layer2.forward(np.zeros((1, 1, 7)))
    np.testing.assert_array_equal(layer2.get_weights()[0], kernel)                     # seeded
    assert np.all(layer2.get_weights()[2] == 0)
    simple = SimpleRNN(4)
    simple.forward(np.zeros((1, 1, 4)))
    np.testing.assert_allclose(simple.get_weights()[1].T @ simple.get_weights()[1], np.eye(4), atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: SimpleRNN(3, activation="relu", return_sequences=True, go_backwards=True, seed=1, name="s"),
    lambda: LSTM(3, recurrent_activation="hard_sigmoid", unit_forget_bias=False, return_state=True),
    lambda: GRU(3, reset_after=False, use_bias=False, return_sequences=True, dtype="float64"),
    lambda: RNN(LSTMCell(3, seed=2), return_sequences=True),
    lambda: Bidirectional(GRU(3, return_sequences=True), merge_mode="ave"),
    lambda: Bidirectional(LSTM(3), merge_mode=None, backward_layer=SimpleRNN(3, go_backwards=True)),
])
def test_config_round_trip(make, rng):
    layer = make()
    spec = json.loads(json.dumps(serialize(layer)))
    clone = deserialize(spec)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    x = rng.standard_normal((2, 4, 5))
    layer.forward(x)
    clone.forward(x)
    clone.set_weights(layer.get_weights())
    for a, b in zip(np.atleast_1d(layer.forward(x)), np.atleast_1d(clone.forward(x))):
        np.testing.assert_array_equal(a, b)


def test_flat_keras_like_config():
    config = GRU(7, reset_after=False, return_sequences=True).get_config()
    assert config["units"] == 7 and config["reset_after"] is False and config["return_sequences"] is True
    assert config["recurrent_initializer"] == "orthogonal" and "cell" not in config
    assert RNN(SimpleRNNCell(2)).get_config()["cell"]["class_name"] == "SimpleRNNCell"


@pytest.mark.parametrize("layer, expected", [
    (SimpleRNN(4), (2, 4)),
    (LSTM(4, return_sequences=True), (2, 3, 4)),
    (LSTM(4, return_state=True), [(2, 4), (2, 4), (2, 4)]),
    (GRU(4, return_sequences=True, return_state=True), [(2, 3, 4), (2, 4)]),
    (Bidirectional(LSTM(4, return_sequences=True)), (2, 3, 8)),
    (Bidirectional(GRU(4), merge_mode="sum"), (2, 4)),
    (Bidirectional(GRU(4), merge_mode=None), [(2, 4), (2, 4)]),
    (Bidirectional(LSTM(4, return_state=True)), [(2, 8), (2, 4), (2, 4), (2, 4), (2, 4)]),
])
def test_compute_output_shape_matches_forward(layer, expected):
    assert layer.compute_output_shape((2, 3, 5)) == expected
    out = layer.forward(np.ones((2, 3, 5)))
    got = [o.shape for o in out] if isinstance(out, list) else out.shape
    assert got == expected


def test_compute_mask():
    mask = np.array([[True, False]])
    assert LSTM(2, return_sequences=True).compute_mask(None, mask) is mask
    assert LSTM(2).compute_mask(None, mask) is None
    assert LSTM(2, return_sequences=True, return_state=True).compute_mask(None, mask) == [mask, None, None]
    assert Bidirectional(GRU(2, return_sequences=True)).compute_mask(None, mask) is mask
    assert Bidirectional(GRU(2, return_sequences=True), merge_mode=None).compute_mask(None, mask) == [mask, mask]


@pytest.mark.parametrize("make", [lambda: SimpleRNN(4), lambda: LSTM(4), lambda: GRU(4),
                                  lambda: GRU(4, reset_after=False)])
def test_masking_semantics(float64, rng, make):
    """Masked steps carry the state and repeat the previous output (zeros before the first real step)."""
    layer = make()
    layer.return_sequences = layer.return_state = True
    x = rng.standard_normal((2, 6, 3))
    mask = np.array([[0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 0, 0]], dtype=bool)
    y, h, *_ = layer.forward(x, mask=mask)
    np.testing.assert_array_equal(y[0, 0], 0)                          # before the first real step
    np.testing.assert_array_equal(y[0, 3], y[0, 2])                    # repeats the previous output
    np.testing.assert_array_equal(y[0, 5], y[0, 4])
    np.testing.assert_array_equal(y[1, 4:], y[1, [3, 3]])
    for n in range(2):                                                 # = running only the real steps
        yn, hn, *_ = layer.forward(x[n:n + 1, mask[n]])
        np.testing.assert_allclose(y[n, mask[n]], yn[0], rtol=1e-12)
        np.testing.assert_allclose(h[n], hn[0], rtol=1e-12)
    # the last output of a many-to-one layer is the state after the last real step
    layer.return_sequences = layer.return_state = False
    np.testing.assert_allclose(layer.forward(x, mask=mask), h, rtol=1e-12)


def test_all_masked_sequence_keeps_initial_state(float64, rng):
    layer = GRU(3, return_state=True)
    h0 = rng.standard_normal((1, 3))
    y, h = layer.forward(rng.standard_normal((1, 4, 2)), mask=np.zeros((1, 4), bool), initial_state=[h0])
    np.testing.assert_array_equal(y, 0)
    np.testing.assert_array_equal(h, h0)


def test_go_backwards_returns_reversed_order(float64, rng):
    fwd = LSTM(4, return_sequences=True)
    bwd = LSTM(4, return_sequences=True, go_backwards=True)
    x = rng.standard_normal((2, 5, 3))
    fwd.forward(x)
    bwd.forward(x)
    bwd.set_weights(fwd.get_weights())
    # Keras: the output sequence is in processing order, i.e. y[:, 0] belongs to the last input step
    np.testing.assert_allclose(bwd.forward(x), fwd.forward(x[:, ::-1]), rtol=1e-12)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_matches_manual(float64, rng, merge_mode):
    bi = Bidirectional(GRU(3, return_sequences=True), merge_mode=merge_mode)
    x = rng.standard_normal((2, 4, 5))
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    bi.forward(x)
    ws = [rng.uniform(-1, 1, w.shape) for w in bi.get_weights()]
    bi.set_weights(ws)
    f, b = GRU(3, return_sequences=True), GRU(3, return_sequences=True)
    f.forward(x)
    b.forward(x)
    f.set_weights(ws[:3])
    b.set_weights(ws[3:])
    y_f = f.forward(x, mask=mask)
    y_b = np.stack([np.concatenate([b.forward(x[n:n + 1, mask[n]][:, ::-1])[0][::-1],
                                    np.zeros((int((~mask[n]).sum()), 3))]) for n in range(2)])
    expected = {"concat": np.concatenate([y_f, y_b], -1), "sum": y_f + y_b, "mul": y_f * y_b,
                "ave": (y_f + y_b) / 2, None: [y_f, y_b]}[merge_mode]
    y = bi.forward(x, mask=mask)
    for a, e in zip(y if merge_mode is None else [y], expected if merge_mode is None else [expected]):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)


def test_bidirectional_directions_start_different():
    bi = Bidirectional(LSTM(3, seed=5))
    bi.forward(np.ones((1, 2, 4)))
    ws = bi.get_weights()
    assert not np.array_equal(ws[0], ws[3])
    assert bi.backward_layer.go_backwards and bi.backward_layer.name == "backward_" + bi.forward_layer.name


@pytest.mark.parametrize("cell", [SimpleRNNCell(4), LSTMCell(4), GRUCell(4), GRUCell(4, reset_after=False)])
def test_cell_steps_equal_layer(float64, rng, cell):
    """cell(x_t, states) -> (h, new_states), step by step, matches the layer's fast loop."""
    x = rng.standard_normal((2, 5, 3))
    layer = RNN(cell, return_sequences=True)
    y = layer.forward(x)
    states = [np.zeros((2, 4)) for _ in cell.state_size]
    for t in range(5):
        h, states = cell(x[:, t], states)
        np.testing.assert_allclose(h, y[:, t], rtol=1e-12)
    assert len(states) == len(cell.state_size)


def test_cell_step_backward(float64, rng):
    from gradcheck import numeric_grad, rel_error
    cell = LSTMCell(4)
    x, h0, c0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    R, Rc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    h, (_, c) = cell(x, [h0, c0])
    dx, dh0, dc0 = cell.backward(R, [None, Rc])

    def loss():
        h, (_, c) = cell(x, [h0, c0])
        return float((h * R).sum() + (c * Rc).sum())
    for analytic, arr in ((dx, x), (dh0, h0), (dc0, c0)):
        assert rel_error(analytic, numeric_grad(loss, arr)) < 1e-6


def test_gru_reset_after_false_equations(float64, rng):
    """Keras's reset_after=False: h̃ = tanh(x W_xh + (r ⊙ h_{t-1}) W_hh + b_h)."""
    layer = GRU(3, reset_after=False, return_sequences=True)
    x = rng.standard_normal((2, 4, 5))
    layer.forward(x)
    W, U, b = [rng.uniform(-1, 1, w.shape) for w in layer.get_weights()]
    layer.set_weights([W, U, b])
    h = np.zeros((2, 3))
    y = layer.forward(x)
    for t in range(4):
        z = _sigmoid(x[:, t] @ W[:, :3] + h @ U[:, :3] + b[:3])
        r = _sigmoid(x[:, t] @ W[:, 3:6] + h @ U[:, 3:6] + b[3:6])
        hh = np.tanh(x[:, t] @ W[:, 6:] + (r * h) @ U[:, 6:] + b[6:])
        h = z * h + (1 - z) * hh
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12)



def test_keras_call_options_accepted():
    layer = LSTM(3, unroll=True, return_sequences=True)
    assert layer.get_config()["unroll"] is True
    assert layer.forward(np.ones((2, 4, 5))).shape == (2, 4, 3)
    h, c = LSTMCell(3).get_initial_state(2)
    assert h.shape == c.shape == (2, 3) and not h.any() and h.dtype == np.float32
