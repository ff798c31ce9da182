"""Issue 4's recurrent options: variational dropout, layer normalisation inside cells, stateful."""
import json

import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from test_rnn_gradients import LEFT_PAD, RIGHT_PAD, check_gradients
from rnnlab import backend
from rnnlab.layers import GRU, LSTM, Bidirectional, GRUCell, SimpleRNN, deserialize, serialize

N, T, D, H = 3, 4, 5, 6

LAYERS = {
    "simple_rnn": lambda **kw: SimpleRNN(H, **kw),
    "lstm": lambda **kw: LSTM(H, **kw),
    "gru": lambda **kw: GRU(H, **kw),
    "gru_v1": lambda **kw: GRU(H, reset_after=False, **kw),
}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _ln(z, gamma, beta, eps=1e-3):
    mu = z.mean(-1, keepdims=True)
    return gamma * (z - mu) / np.sqrt(((z - mu) ** 2).mean(-1, keepdims=True) + eps) + beta


# ---- dropout ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("rates", [(0.3, 0.0), (0.0, 0.4), (0.3, 0.4)], ids=["input", "recurrent", "both"])
def test_dropout_gradients_with_fixed_masks(float64, rng, kind, rates):
    layer = LAYERS[kind](dropout=rates[0], recurrent_dropout=rates[1], return_sequences=True,
                         return_state=True, seed=11)
    x = rng.standard_normal((N, T, D))
    layer.forward(x, training=True)
    layer.cell._reuse_dropout_masks = True                       # same masks for every evaluation
    m_x, m_h = layer.cell._dropout_masks
    assert (m_x is not None) == (rates[0] > 0) and (m_h is not None) == (rates[1] > 0)
    n_s = 2 if kind == "lstm" else 1
    init = [rng.standard_normal((N, H)) for _ in range(n_s)]
    check_gradients(layer, x, rng, mask=RIGHT_PAD, initial_state=init, training=True)
    assert layer.cell._dropout_masks[0] is m_x and layer.cell._dropout_masks[1] is m_h


def test_input_dropout_one_mask_per_sequence_scaled_and_off_in_inference(float64):
    rate = 0.25
    layer = SimpleRNN(40, activation="linear", use_bias=False, dropout=rate, return_sequences=True, seed=3)
    x = np.ones((8, 6, 40))
    layer.forward(x)
    layer.set_weights([np.eye(40), np.zeros((40, 40))])          # y_t = x_t ⊙ m_x
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, y[:, :1].repeat(6, axis=1))  # the same mask at every step
    assert set(np.unique(y)) == {0.0, 1.0 / (1.0 - rate)}          # kept units scaled by 1/(1 - rate)
    assert len({row.tobytes() for row in y[:, 0]}) == 8            # a different mask per sequence
    assert 0.6 < (y > 0).mean() < 0.9                              # about 1 - rate kept
    y2 = layer.forward(x, training=True)
    assert not np.array_equal(y, y2)                               # a new draw per forward pass
    np.testing.assert_array_equal(layer.forward(x), x)             # inference: no dropout
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_recurrent_dropout_one_mask_per_sequence(float64):
    rate = 0.5
    layer = SimpleRNN(30, activation="linear", use_bias=False, recurrent_dropout=rate, return_sequences=True, seed=4)
    x = np.ones((4, 5, 30))
    layer.forward(x)
    layer.set_weights([np.eye(30), np.eye(30)])                   # h_t = x_t + h_{t-1} ⊙ m_h
    y = layer.forward(x, training=True)
    m_h = layer.cell._dropout_masks[1]
    assert set(np.unique(m_h)) == {0.0, 2.0}
    for t in range(1, 5):
        np.testing.assert_allclose(y[:, t], 1.0 + y[:, t - 1] * m_h, rtol=1e-12)
    assert len({row.tobytes() for row in m_h}) == 4
    np.testing.assert_allclose(layer.forward(x)[:, -1], 5.0)       # inference: h_t = t + 1


def test_lstm_dropout_masks_shared_by_gates(float64, rng):
    """LSTM with dropout = the notes' equations with x_t ⊙ m_x and h_{t-1} ⊙ m_h in every gate."""
    layer = LSTM(4, dropout=0.3, recurrent_dropout=0.3, return_sequences=True, seed=5)
    x = rng.standard_normal((3, 5, 2))
    layer.forward(x)
    W, U, b = [rng.uniform(-1, 1, w.shape) for w in layer.get_weights()]
    layer.set_weights([W, U, b])
    y = layer.forward(x, training=True)
    m_x, m_h = layer.cell._dropout_masks
    h, c = np.zeros((3, 4)), np.zeros((3, 4))
    for t in range(5):
        z = (x[:, t] * m_x) @ W + (h * m_h) @ U + b
        i, f, g, o = _sigmoid(z[:, :4]), _sigmoid(z[:, 4:8]), np.tanh(z[:, 8:12]), _sigmoid(z[:, 12:])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12)


def test_dropout_seeded_and_global_generators(float64):
    x = np.ones((2, 3, 4))
    a, b = GRU(3, dropout=0.5, seed=9), GRU(3, dropout=0.5, seed=9)
    a.forward(x, training=True)
    b.forward(x, training=True)
    np.testing.assert_array_equal(a.cell._dropout_masks[0], b.cell._dropout_masks[0])
    c = GRU(3, dropout=0.5)
    c.forward(x)                                                    # build (draws the weights) first
    backend.set_random_seed(1)
    c.forward(x, training=True)
    first = c.cell._dropout_masks[0].copy()
    backend.set_random_seed(1)
    c.forward(x, training=True)
    np.testing.assert_array_equal(c.cell._dropout_masks[0], first)


def test_bidirectional_directions_draw_different_masks(float64):
    bi = Bidirectional(LSTM(8, dropout=0.5, seed=1))
    bi.forward(np.ones((4, 3, 16)), training=True)
    assert not np.array_equal(bi.forward_layer.cell._dropout_masks[0], bi.backward_layer.cell._dropout_masks[0])


def test_dropout_rate_errors():
    with pytest.raises(ValueError, match=r"LSTMCell expects dropout to be a fraction in \[0, 1\), got 1.0"):
        LSTM(3, dropout=1.0)
    with pytest.raises(ValueError, match=r"GRUCell expects recurrent_dropout to be a fraction in \[0, 1\), got -0.1"):
        GRU(3, recurrent_dropout=-0.1)
    with pytest.raises(ValueError, match=r"expects dropout to be a fraction in \[0, 1\), got 'half'"):
        SimpleRNN(3, dropout="half")


# ---- layer normalisation ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("mask", [None, LEFT_PAD], ids=["full", "left_pad"])
def test_layer_norm_gradients(float64, rng, kind, mask):
    layer = LAYERS[kind](layer_norm=True, return_sequences=True, return_state=True)
    n_s = 2 if kind == "lstm" else 1
    init = [rng.standard_normal((N, H)) for _ in range(n_s)]
    check_gradients(layer, rng.standard_normal((N, T, D)), rng, mask=mask, initial_state=init)


def test_layer_norm_with_dropout_and_bidirectional_gradients(float64, rng):
    layer = Bidirectional(GRU(H, layer_norm=True, dropout=0.2, recurrent_dropout=0.3, return_sequences=True,
                              seed=2), merge_mode="mul")
    x = rng.standard_normal((N, T, D))
    layer.forward(x, training=True)
    for sub in (layer.forward_layer, layer.backward_layer):
        sub.cell._reuse_dropout_masks = True
    check_gradients(layer, x, rng, mask=RIGHT_PAD, training=True)


@pytest.mark.parametrize("make, names, G", [
    (lambda: SimpleRNN(H, layer_norm=True), ["kernel", "recurrent_kernel", "bias", "norm_gamma", "norm_beta"], H),
    (lambda: LSTM(H, layer_norm=True), ["kernel", "recurrent_kernel", "bias", "norm_gamma", "norm_beta",
                                        "cell_norm_gamma", "cell_norm_beta"], 4 * H),
    (lambda: GRU(H, layer_norm=True, use_bias=False), ["kernel", "recurrent_kernel", "norm_gamma", "norm_beta"],
     3 * H),
])
def test_layer_norm_weights_appended(make, names, G):
    layer = make()
    layer.forward(np.ones((1, 2, D)))
    assert [n.split("/")[-1] for n in layer.weight_names()] == names
    ws = dict(zip(names, layer.get_weights()))
    np.testing.assert_array_equal(ws["norm_gamma"], np.ones(G))
    np.testing.assert_array_equal(ws["norm_beta"], np.zeros(G))


def test_simple_rnn_layer_norm_equations(float64, rng):
    layer = SimpleRNN(5, layer_norm=True, return_sequences=True)
    x = rng.standard_normal((2, 4, 3))
    layer.forward(x)
    W, U, b, g, be = [rng.uniform(-1, 1, w.shape) for w in layer.get_weights()]
    layer.set_weights([W, U, b, g, be])
    y = layer.forward(x)
    h = np.zeros((2, 5))
    for t in range(4):
        h = np.tanh(_ln(x[:, t] @ W + h @ U + b, g, be))
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12)


def test_lstm_layer_norm_equations(float64, rng):
    """Each gate block normalised on its own, and c_t before its tanh (Ba et al. 2016)."""
    layer = LSTM(3, layer_norm=True, return_sequences=True)
    x = rng.standard_normal((2, 4, 5))
    layer.forward(x)
    W, U, b, g, be, gc, bc = [rng.uniform(-1, 1, w.shape) for w in layer.get_weights()]
    layer.set_weights([W, U, b, g, be, gc, bc])
    y = layer.forward(x)
    h, c = np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(4):
        z = x[:, t] @ W + h @ U + b
        zn = np.concatenate([_ln(z[:, k:k + 3], g[k:k + 3], be[k:k + 3]) for k in range(0, 12, 3)], axis=1)
        i, f, cc, o = _sigmoid(zn[:, :3]), _sigmoid(zn[:, 3:6]), np.tanh(zn[:, 6:9]), _sigmoid(zn[:, 9:])
        c = f * c + i * cc
        h = o * np.tanh(_ln(c, gc, bc))
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12)


def test_gru_layer_norm_equations(float64, rng):
    layer = GRU(3, layer_norm=True, return_sequences=True)
    x = rng.standard_normal((2, 4, 5))
    layer.forward(x)
    W, U, b, g, be = [rng.uniform(-1, 1, w.shape) for w in layer.get_weights()]
    layer.set_weights([W, U, b, g, be])
    y = layer.forward(x)
    h = np.zeros((2, 3))
    for t in range(4):
        xw, u = x[:, t] @ W + b[0], h @ U + b[1]
        z = _sigmoid(_ln(xw[:, :3] + u[:, :3], g[:3], be[:3]))
        r = _sigmoid(_ln(xw[:, 3:6] + u[:, 3:6], g[3:6], be[3:6]))
        hh = np.tanh(_ln(xw[:, 6:] + r * u[:, 6:], g[6:], be[6:]))
        h = z * h + (1 - z) * hh
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12)


# ---- stateful -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_stateful_carries_state_across_batches(float64, rng, kind):
    stateful = LAYERS[kind](stateful=True, return_sequences=True, return_state=True)
    plain = LAYERS[kind](return_sequences=True)
    x = rng.standard_normal((2, 6, D))
    stateful.forward(x[:, :3])
    plain.forward(x)
    plain.set_weights(stateful.get_weights())
    stateful.reset_states()
    y1, *s1 = stateful.forward(x[:, :3])
    y2, *s2 = stateful.forward(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), plain.forward(x), rtol=1e-12)
    np.testing.assert_array_equal(stateful.states[0], s2[0])
    stateful.reset_states()
    assert stateful.states is None
    np.testing.assert_array_equal(stateful.forward(x[:, 3:])[0], plain.forward(x[:, 3:]))


def test_stateful_gradient_stops_at_the_batch_boundary(float64, rng):
    layer = LSTM(H, stateful=True, return_sequences=True)
    x1, x2 = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, D))
    layer.forward(x1)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()])
    layer.reset_states()
    layer.forward(x1)
    carried = layer.states                                          # fixed initial state of batch 2
    y2 = layer.forward(x2)
    [R] = projections([y2])
    layer.zero_grad()
    dx2, = layer.backward(R)
    assert isinstance(dx2, np.ndarray)                              # no gradient for carried states

    plain = LSTM(H, return_sequences=True)                          # the same batch with constant states
    plain.forward(x2)
    plain.set_weights(layer.get_weights())
    loss = lambda: projected_loss([plain.forward(x2, initial_state=carried)], [R])
    assert rel_error(dx2, numeric_grad(loss, x2)) < 1e-6
    for w, g in zip(plain.weights, layer.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < 1e-6           # nothing flows into batch 1
    assert not np.allclose(carried[0], 0)


def test_stateful_batch_size_error_and_reset(rng):
    layer = GRU(3, stateful=True, name="tbptt")
    layer.forward(rng.standard_normal((4, 2, 5)))
    with pytest.raises(ValueError, match=r"'tbptt' \(GRU\) is stateful and carries states for a batch of 4, "
                                         r"but got a batch of 3. Feed batches of one size .* or call reset_states\(\)"):
        layer.forward(rng.standard_normal((3, 2, 5)))
    layer.reset_states()
    assert layer.forward(rng.standard_normal((3, 2, 5))).shape == (3, 3)


def test_stateful_bidirectional_and_explicit_initial_state(float64, rng):
    bi = Bidirectional(SimpleRNN(3, stateful=True))
    x = rng.standard_normal((2, 4, 5))
    y1 = bi.forward(x)
    assert not np.allclose(bi.forward(x), y1)                       # second batch starts from carried states
    bi.reset_states()
    np.testing.assert_array_equal(bi.forward(x), y1)
    layer = SimpleRNN(3, stateful=True, return_state=True)
    layer.forward(x)
    h0 = rng.standard_normal((2, 3))
    y, h = layer.forward(x, initial_state=[h0])                     # an explicit state wins, as in Keras
    plain = SimpleRNN(3)
    plain.forward(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, plain.forward(x, initial_state=[h0]), rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: LSTM(3, dropout=0.2, recurrent_dropout=0.1, layer_norm=True, stateful=True, seed=4),
    lambda: GRU(3, layer_norm=True, reset_after=False),
    lambda: Bidirectional(SimpleRNN(3, dropout=0.5, stateful=True, return_sequences=True)),
])
def test_options_in_config(make):
    layer = make()
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert clone.get_config() == layer.get_config()


def test_cell_one_step_with_dropout(float64, rng):
    cell = GRUCell(4, dropout=0.5, seed=0)
    x = rng.standard_normal((3, 2))
    h_inf, _ = cell(x, None)
    h_train, _ = cell(x, None, training=True)
    m_x = cell._dropout_masks[0]
    cell2 = GRUCell(4)
    cell2(x, None)
    cell2.set_weights(cell.get_weights())
    np.testing.assert_allclose(h_train, cell2(x * m_x, None)[0], rtol=1e-12)
    np.testing.assert_allclose(h_inf, cell2(x, None)[0], rtol=1e-12)



def test_stateful_model_fit_streams_batches(float64, rng):
    """fit(shuffle=False) on a stateful model: batch 2's sample i continues batch 1's sample i."""
    from rnnlab import layers, models, optimizers
    model = models.Sequential()
    model.add(LSTM(4, stateful=True, return_sequences=True, input_shape=(5, 3)))
    model.add(layers.Dense(1))
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")   # weights stay fixed
    x, y = rng.standard_normal((8, 5, 3)), rng.standard_normal((8, 5, 1))
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    plain = LSTM(4, return_sequences=True, return_state=True)
    plain.forward(x[:4])
    plain.set_weights(model.layers[0].get_weights())
    _, h, c = plain.forward(np.concatenate([x[:4], x[4:]], axis=1))          # one stream of 10 steps
    carried_h, carried_c = model.layers[0].states
    np.testing.assert_allclose(carried_h, h, rtol=1e-12)
    np.testing.assert_allclose(carried_c, c, rtol=1e-12)
