"""Seed 000 (the vanilla RNN lecture note): its NumPy loop, reproduced by SimpleRNN.

The note writes ``output_t = tanh(Wx·x_t + Wh·h + b)`` with ``Wx`` (H, D) and ``Wh`` (H, H); Keras's
layout stores the transposes, so ``SimpleRNN`` gets ``[Wx.T, Wh.T, b]``.
"""
import numpy as np

from rnnlab.layers import SimpleRNN


def test_seed000_loop(float64):
    timesteps, input_dim, hidden_size = 10, 4, 8
    rng = np.random.default_rng(0)
    inputs = rng.random((timesteps, input_dim))
    Wx = rng.random((hidden_size, input_dim)) - 0.5       # centred so that tanh does not saturate
    Wh = rng.random((hidden_size, hidden_size)) - 0.5
    b = rng.random(hidden_size) - 0.5

    # the note's loop, as written there
    hidden_state_t = np.zeros((hidden_size,))
    total_hidden_state = []
    for input_t in inputs:
        output_t = np.tanh(np.dot(Wx, input_t) + np.dot(Wh, hidden_state_t) + b)
        total_hidden_state.append(output_t)
        hidden_state_t = output_t
    total_hidden_states = np.stack(total_hidden_state, axis=0)        # (10, 8)

    layer = SimpleRNN(hidden_size, return_sequences=True)
    layer.forward(inputs[None])
    layer.set_weights([Wx.T, Wh.T, b])
    y = layer.forward(inputs[None])                                    # (1, 10, 8)
    assert y.shape == (1, timesteps, hidden_size)
    np.testing.assert_allclose(y[0], total_hidden_states, rtol=0, atol=1e-12)
    assert np.ptp(total_hidden_states) > 0.5                           # a real, unsaturated sequence


def test_seed000_notes_weights_saturate(float64):
    """With the note's own uniform [0, 1) weights every unit saturates near 1, as its printout shows."""
    rng = np.random.default_rng(1)
    inputs, Wx, Wh, b = rng.random((10, 4)), rng.random((8, 4)), rng.random((8, 8)), rng.random(8)
    layer = SimpleRNN(8, return_sequences=True)
    layer.forward(inputs[None])
    layer.set_weights([Wx.T, Wh.T, b])
    y = layer.forward(inputs[None])[0]
    h = np.zeros(8)
    for t in range(10):
        h = np.tanh(Wx @ inputs[t] + Wh @ h + b)
        np.testing.assert_allclose(y[t], h, rtol=0, atol=1e-12)
    assert y[1:].min() > 0.99
