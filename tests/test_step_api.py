"""The one-step API: ``cell.step`` / ``step_backward`` with caller-owned states, and ``Sequential.step``.

Stepping a sequence one step at a time must give the same outputs, states and gradients as the
whole-sequence pass, for every cell and option, masked and unmasked.
"""
import numpy as np
import pytest

from rnnlab import layers, models

CELLS = {
    "simple_rnn": lambda **kw: layers.SimpleRNNCell(5, **kw),
    "lstm": lambda **kw: layers.LSTMCell(5, **kw),
    "gru": lambda **kw: layers.GRUCell(5, **kw),
    "gru_v1": lambda **kw: layers.GRUCell(5, reset_after=False, **kw),
}
OPTIONS = {
    "plain": {},
    "no_bias": {"use_bias": False},
    "layer_norm": {"layer_norm": True},
    "relu": {"activation": "relu"},
}


def _randomize(layer, rng):
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])


def _inputs(rng, masked, N=3, T=6, D=4):
    x = rng.standard_normal((N, T, D))
    mask = None
    if masked:
        mask = np.ones((N, T), dtype=bool)
        mask[0, :2] = False                     # leading padding
        mask[1, 3:] = False                     # trailing padding
        mask[2, 2] = False                      # a hole
    return x, mask


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("masked", [False, True])
def test_stepping_equals_the_whole_sequence(float64, rng, kind, option, masked):
    x, mask = _inputs(rng, masked)
    rnn = layers.RNN(CELLS[kind](**OPTIONS[option]), return_sequences=True, return_state=True)
    rnn.forward(x)
    _randomize(rnn, rng)
    y, *finals = rnn.forward(x, mask=mask)
    R = rng.standard_normal(y.shape)
    dx, = rnn.backward([R] + [None] * len(finals))
    grads = rnn.get_gradients()

    cell = rnn.cell
    cell.zero_grad()
    states, caches, ys = None, [], []
    for t in range(x.shape[1]):
        h, states, cache = cell.step(x[:, t], states, mask_t=None if mask is None else mask[:, t])
        ys.append(h)
        caches.append(cache)
    np.testing.assert_allclose(np.stack(ys, axis=1), y, rtol=1e-12, atol=1e-12)
    for s, f in zip(states, finals):
        np.testing.assert_allclose(s, f, rtol=1e-12, atol=1e-12)

    d_states, dxs = None, []
    for t in range(x.shape[1] - 1, -1, -1):                      # BPTT through the steps
        dx_t, d_states = cell.step_backward(R[:, t], d_states, caches[t])
        dxs.append(dx_t)
    np.testing.assert_allclose(np.stack(dxs[::-1], axis=1), dx, rtol=1e-10, atol=1e-12)
    for g_step, g_seq in zip(cell.get_gradients(), grads):
        np.testing.assert_allclose(g_step, g_seq, rtol=1e-10, atol=1e-12)


def test_step_backward_state_gradient_matches_finite_differences(float64, rng):
    cell = layers.LSTMCell(3)
    x = rng.standard_normal((2, 4))
    s0 = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]
    cell.step(x, s0)
    _randomize(cell, rng)
    Rh, Rc = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    h, (h1, c1), cache = cell.step(x, s0)
    dx, (dh0, dc0) = cell.step_backward(None, [Rh, Rc], cache)

    def loss():
        _, (a, b), _ = cell.step(x, s0)
        return float(np.sum(a * Rh) + np.sum(b * Rc))

    from gradcheck import numeric_grad, rel_error
    assert rel_error(dx, numeric_grad(loss, x)) < 1e-7
    assert rel_error(dh0, numeric_grad(loss, s0[0])) < 1e-7
    assert rel_error(dc0, numeric_grad(loss, s0[1])) < 1e-7


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "gru_v1"])
def test_dropout_masks_are_drawn_once_per_sequence(float64, rng, kind):
    """Training steps with the sequence's masks equal the whole-sequence training pass with them."""
    x, _ = _inputs(rng, False)
    rnn = layers.RNN(CELLS[kind](dropout=0.3, recurrent_dropout=0.4, seed=3), return_sequences=True)
    rnn.forward(x)
    cell = rnn.cell
    masks = cell.dropout_masks(x.shape[0])
    assert masks[0].shape == (3, 4) and masks[1].shape == (3, 5)
    cell._dropout_masks, cell._reuse_dropout_masks = masks, True          # the sequence pass uses them too
    y = rnn.forward(x, training=True)
    states, ys = None, []
    for t in range(x.shape[1]):
        h, states, _ = cell.step(x[:, t], states, training=True, dropout_masks=masks)
        ys.append(h)
    np.testing.assert_allclose(np.stack(ys, axis=1), y, rtol=1e-12, atol=1e-12)
    assert not np.allclose(y, rnn.forward(x, training=False))           # the masks did something


def test_step_with_dropout_needs_the_sequence_masks(rng):
    cell = layers.GRUCell(4, dropout=0.5)
    cell.step(np.ones((2, 3)), None)                                     # inference: no masks needed
    with pytest.raises(ValueError, match=r"draw them once with masks = cell.dropout_masks\(batch_size\)"):
        cell.step(np.ones((2, 3)), None, training=True)


def test_step_errors(rng):
    cell = layers.LSTMCell(4)
    with pytest.raises(ValueError, match=r"mask_t must have shape \(batch,\) = \(2,\), got \(3,\)"):
        cell.step(np.ones((2, 3)), None, mask_t=np.ones(3, bool))
    with pytest.raises(ValueError, match=r"expects 2 states array\(s\) \[h, c\]"):
        cell.step(np.ones((2, 3)), [np.zeros((2, 4))])
    _, _, cache = cell.step(np.ones((2, 3)), None)
    with pytest.raises(ValueError, match=r"expects 2 state gradient\(s\) \[h, c\]"):
        cell.step_backward(np.ones((2, 4)), [None], cache)
    with pytest.raises(ValueError, match="go_backwards=True"):
        layers.LSTM(4, go_backwards=True).step(np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="looks across time steps"):
        layers.Bidirectional(layers.LSTM(4)).step(np.ones((2, 3)))


@pytest.mark.parametrize("mask_zero", [False, True])
def test_sequential_step_equals_forward(float64, rng, mask_zero):
    model = models.Sequential([
        layers.Embedding(11, 6, mask_zero=mask_zero),
        layers.LSTM(7, return_sequences=True),
        layers.LayerNormalization(),
        layers.GRU(5, return_sequences=True),
        layers.Dropout(0.5),
        layers.Dense(11, activation="softmax"),
    ])
    ids = rng.integers(1, 11, size=(3, 8))
    ids[0, :3] = 0                                                       # padding at the start
    ids[1, 5:] = 0                                                       # and at the end
    y = model.predict(ids, verbose=0)
    states, steps = None, []
    for t in range(ids.shape[1]):
        p, states = model.step(ids[:, t], states)
        steps.append(p)
    np.testing.assert_allclose(np.stack(steps, axis=1), y, rtol=1e-12, atol=1e-12)
    assert states[0] is None and len(states[1]) == 2 and len(states[3]) == 1


def test_sequential_step_errors():
    model = models.Sequential([layers.Embedding(5, 3), layers.Conv1D(2, 2), layers.LSTM(3)])
    model.predict(np.ones((1, 4), int), verbose=0)
    with pytest.raises(NotImplementedError, match=r"'conv1d' \(Conv1D\) looks across time steps"):
        model.step(np.ones(1, int))
    with pytest.raises(ValueError, match=r"expects states as a list of 3 entries"):
        model.step(np.ones(1, int), [None])
