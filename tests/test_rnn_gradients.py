"""Finite-difference gradient checks (float64) of the recurrent layers' hand-written BPTT.

Loss ``L = sum(out * R)`` over every output (sequence/last output and returned states); we check
dL/d(every weight), dL/dx and dL/d(initial states). Sizes N=3, T=4, D=5, H=6 are all distinct so a
transposed product cannot hide.
"""
import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab.layers import (GRU, LSTM, RNN, Bidirectional, Dense, Embedding, GRUCell, LSTMCell, SimpleRNN,
                           SimpleRNNCell)

N, T, D, H = 3, 4, 5, 6
TOL = 1e-6

RIGHT_PAD = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=bool)
LEFT_PAD = np.array([[1, 1, 1, 1], [0, 0, 1, 1], [0, 1, 1, 1]], dtype=bool)

LAYERS = {
    "simple_rnn": lambda **kw: SimpleRNN(H, **kw),
    "lstm": lambda **kw: LSTM(H, **kw),
    "gru": lambda **kw: GRU(H, **kw),
    "gru_v1": lambda **kw: GRU(H, reset_after=False, **kw),
}


def _as_list(out):
    return list(out) if isinstance(out, list) else [out]


def randomize(layer, rng, scale=0.5):
    """Random, non-zero weights (biases included) so no term of the gradient is hidden by a zero."""
    layer.set_weights([rng.uniform(-scale, scale, w.shape) for w in layer.get_weights()])


def check_gradients(layer, x, rng, mask=None, initial_state=None, training=False):
    """Compare the layer's backward pass with central differences for x, states and weights.

    With ``training=True`` the layer must reuse its dropout masks (``cell._reuse_dropout_masks``)
    so that every evaluation of the loss sees the same masks."""
    kwargs = {"mask": mask}
    if training:
        kwargs["training"] = True
    if initial_state is not None:
        kwargs["initial_state"] = initial_state
    layer.forward(x, **kwargs)                                     # build
    randomize(layer, rng)
    outs = _as_list(layer.forward(x, **kwargs))
    Rs = projections(outs, seed=7)
    layer.zero_grad()
    grads = layer.backward(Rs if len(outs) > 1 else Rs[0])
    loss = lambda: projected_loss(_as_list(layer.forward(x, **kwargs)), Rs)
    if initial_state is not None:
        dx, *d_states = grads
        assert len(d_states) == len(initial_state)
        for s, ds in zip(initial_state, d_states):
            assert rel_error(ds, numeric_grad(loss, s)) < TOL
    else:
        dx, = grads
    if x.dtype.kind == "f":
        assert rel_error(dx, numeric_grad(loss, x)) < TOL
    analytic = layer.get_gradients()
    assert len(analytic) == len(layer.weights) > 0
    for w, g in zip(layer.weights, analytic):
        assert rel_error(g, numeric_grad(loss, w)) < TOL
    return dx


SCENARIOS = {
    "last": ({}, {}),
    "sequences": ({"return_sequences": True}, {}),
    "no_bias": ({"use_bias": False, "return_sequences": True}, {}),
    "return_state": ({"return_state": True}, {}),
    "go_backwards": ({"go_backwards": True, "return_sequences": True}, {}),
    "right_pad": ({"return_sequences": True, "return_state": True}, {"mask": RIGHT_PAD}),
    "left_pad": ({"return_sequences": True}, {"mask": LEFT_PAD}),
    "left_pad_last": ({}, {"mask": LEFT_PAD}),
    "initial_state": ({"return_sequences": True, "return_state": True}, {"initial_state": True}),
    "masked_backwards_state": ({"go_backwards": True, "return_state": True},
                               {"mask": RIGHT_PAD, "initial_state": True}),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_layer_gradients(float64, rng, kind, scenario):
    layer_kw, call_kw = SCENARIOS[scenario]
    layer = LAYERS[kind](**layer_kw)
    x = rng.standard_normal((N, T, D))
    if call_kw.get("initial_state"):
        n_states = 2 if kind == "lstm" else 1
        call_kw = {**call_kw, "initial_state": [rng.standard_normal((N, H)) for _ in range(n_states)]}
    dx = check_gradients(layer, x, rng, **call_kw)
    if "mask" in call_kw:                           # masked steps do not see the input at all
        assert np.all(dx[~call_kw["mask"]] == 0)


@pytest.mark.parametrize("make", [
    lambda: SimpleRNN(H, activation="relu", return_sequences=True),
    lambda: LSTM(H, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
    lambda: GRU(H, recurrent_activation="hard_sigmoid", activation="linear", return_sequences=True),
    lambda: GRU(H, reset_after=False, activation="relu", return_sequences=True),
], ids=["simple_relu", "lstm_relu_hard", "gru_hard_linear", "gru_v1_relu"])
def test_non_default_activations(float64, rng, make):
    check_gradients(make(), rng.standard_normal((N, T, D)), rng, mask=LEFT_PAD)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_gradients(float64, rng, merge_mode):
    layer = Bidirectional(LSTM(H, return_sequences=True), merge_mode=merge_mode)
    check_gradients(layer, rng.standard_normal((N, T, D)), rng, mask=RIGHT_PAD)


@pytest.mark.parametrize("make", [
    lambda: Bidirectional(GRU(H, return_state=True)),
    lambda: Bidirectional(SimpleRNN(H, return_sequences=True, return_state=True), merge_mode="mul"),
], ids=["gru_last", "simple_sequences_mul"])
def test_bidirectional_states_gradients(float64, rng, make):
    init = [rng.standard_normal((N, H)) for _ in range(2)]
    check_gradients(make(), rng.standard_normal((N, T, D)), rng, mask=LEFT_PAD, initial_state=init)


def test_rnn_of_cells_gradients(float64, rng):
    for cell in (SimpleRNNCell(H), LSTMCell(H), GRUCell(H)):
        check_gradients(RNN(cell, return_sequences=True), rng.standard_normal((N, T, D)), rng, mask=RIGHT_PAD)


class _Stack:
    """Layers applied in order, backward in reverse: the smallest possible 'model' for a gradcheck."""

    def __init__(self, *layers):
        self.layers = layers

    def forward(self, x, mask=None):
        for layer in self.layers:
            y = layer.forward(x, mask=mask)
            mask = layer.compute_mask(x, mask)
            x = y
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy, = layer.backward(dy)
            if dy is None:                  # Embedding: ids have no gradient
                break
        return [dy]

    def get_weights(self):
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, ws):
        ws = list(ws)
        for layer in self.layers:
            n = len(layer.weights)
            layer.set_weights(ws[:n])
            ws = ws[n:]

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    def get_gradients(self):
        return [g for layer in self.layers for g in layer.get_gradients()]

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()


def test_two_layer_stack_gradients(float64, rng):
    stack = _Stack(LSTM(H, return_sequences=True), GRU(4))
    check_gradients(stack, rng.standard_normal((N, T, D)), rng, mask=RIGHT_PAD)


def test_embedding_lstm_dense_gradients(float64, rng):
    ids = np.array([[3, 1, 4, 0], [2, 0, 0, 0], [5, 9, 2, 6]])       # right-padded with id 0
    emb = Embedding(10, D, mask_zero=True)
    stack = _Stack(emb, LSTM(H), Dense(2))                            # the mask flows emb -> LSTM
    check_gradients(stack, ids, rng)
    assert np.all(emb.get_gradients()[0][0] == 0)                     # padding rows get no gradient
    assert np.any(emb.get_gradients()[0][3] != 0)
