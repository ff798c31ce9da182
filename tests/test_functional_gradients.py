"""Whole functional graphs checked by finite differences (float64): fan-out, shared layers, several inputs
and outputs, symbolic initial states, and every merge/attention/reshaping layer, masked and unmasked."""
import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers, models
from rnnlab.layers import recording

TOL = 1e-6


def _as_list(a):
    return a if isinstance(a, list) else [a]


def check_graph(model, xs, rng, tol=TOL, skip_inputs_equal_to=None):
    """Every weight gradient and every float input gradient of ``sum_k sum(out_k * R_k)``.

    ``skip_inputs_equal_to``: input entries equal to this value are left out of the input check
    (``Masking``: moving such an entry by ±eps unmasks its step, so the loss jumps there)."""
    outs = _as_list(model._forward(xs))
    for layer in model.layers:                               # non-trivial weights everywhere
        if layer.weights:
            layer.set_weights([rng.standard_normal(w.shape) * 0.4 for w in layer.get_weights()])
    outs = _as_list(model._forward(xs))
    Rs = projections(outs, seed=3)
    model.zero_grad()
    model.clear_calls()
    with recording():
        model._forward(xs)
        d_inputs = model._backward(Rs if len(Rs) > 1 else Rs[0])
    assert all(not layer._calls for layer in model.all_layers())
    loss = lambda: projected_loss(_as_list(model._forward(xs)), Rs)
    params = model.parameters()
    assert params
    for w, g in params:
        assert rel_error(g, numeric_grad(loss, w)) < tol
    for x, dx in zip(_as_list(xs), d_inputs):
        if np.issubdtype(np.asarray(x).dtype, np.floating):
            keep = np.ones(x.shape, bool) if skip_inputs_equal_to is None else x != skip_inputs_equal_to
            assert rel_error(dx[keep], numeric_grad(loss, x)[keep]) < tol


def test_fan_out_and_concatenate(float64, rng):
    x = layers.Input((5, 3))
    a = layers.Dense(4, activation="tanh")(x)                 # a feeds two layers
    b = layers.LSTM(3, return_sequences=True)(a)
    c = layers.GRU(2, return_sequences=True)(a)
    y = layers.Dense(2)(layers.Concatenate()([a, b, c]))
    check_graph(models.Model(x, y), rng.standard_normal((2, 5, 3)), rng)


def test_shared_layers_on_two_inputs(float64, rng):
    p, q = layers.Input((4, 3)), layers.Input((6, 3))
    enc = layers.LSTM(5)                                      # one layer, two calls
    proj = layers.Dense(5)
    d = layers.Subtract()([proj(enc(p)), proj(enc(q))])
    y = layers.Dense(1, activation="sigmoid")(layers.Multiply()([d, d]))
    model = models.Model([p, q], y)
    assert len(enc._nodes) == 2 and len(model.layers) == 7
    check_graph(model, [rng.standard_normal((3, 4, 3)), rng.standard_normal((3, 6, 3))], rng)


def test_several_inputs_and_outputs(float64, rng):
    seq, vec = layers.Input((6, 2)), layers.Input((3,))
    h = layers.GRU(4)(seq)
    both = layers.Concatenate()([h, layers.Dense(4, activation="relu")(vec)])
    out1 = layers.Dense(3, activation="softmax", name="cls")(both)
    out2 = layers.Dense(1, name="reg")(layers.Add()([h, layers.Dense(4)(both)]))
    model = models.Model([seq, vec], [out1, out2])
    assert model.output_names == ["cls", "reg"]
    check_graph(model, [rng.standard_normal((3, 6, 2)), rng.standard_normal((3, 3))], rng)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_symbolic_initial_states(float64, rng, cell):
    make = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}[cell]
    enc_in, dec_in = layers.Input((5, 3)), layers.Input((4, 2))
    _, *states = make(6, return_state=True)(enc_in)
    y = make(6, return_sequences=True)(dec_in, initial_state=states)
    model = models.Model([enc_in, dec_in], layers.Dense(3)(y))
    check_graph(model, [rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4, 2))], rng)


def test_initial_state_from_a_model_input(float64, rng):
    x, h0 = layers.Input((4, 3)), layers.Input((5,))
    y = layers.SimpleRNN(5, return_sequences=True)(x, initial_state=[h0])
    check_graph(models.Model([x, h0], y), [rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5))], rng)


def _ids(rng, N=3, T=5, V=9):
    ids = rng.integers(1, V, size=(N, T))
    ids[0, 3:] = 0                                           # padding at the end
    ids[1, :2] = 0                                           # and at the start
    return ids


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("kind", ["dot", "concat", "additive"])
def test_encoder_decoder_with_attention(float64, rng, masked, kind):
    src, tgt = layers.Input((5,), dtype="int64"), layers.Input((4,), dtype="int64")
    emb = layers.Embedding(9, 4, mask_zero=masked)            # shared by both sides
    enc_seq, h, c = layers.LSTM(6, return_sequences=True, return_state=True)(emb(src))
    dec_seq = layers.LSTM(6, return_sequences=True)(emb(tgt), initial_state=[h, c])
    if kind == "additive":
        context = layers.AdditiveAttention()([dec_seq, enc_seq])
    else:
        context = layers.Attention(use_scale=True, score_mode=kind)([dec_seq, enc_seq])
    y = layers.Dense(9, activation="softmax")(layers.Concatenate()([dec_seq, context]))
    model = models.Model([src, tgt], y)
    check_graph(model, [_ids(rng), _ids(rng, T=4)], rng)


@pytest.mark.parametrize("masked", [False, True])
def test_merge_layers_on_masked_sequences(float64, rng, masked):
    a_in = layers.Input((5, 3))
    m = layers.Masking(0.0)(a_in) if masked else a_in
    a = layers.LSTM(4, return_sequences=True)(m)
    b = layers.GRU(4, return_sequences=True)(m)
    merged = [layers.Add()([a, b]), layers.Average()([a, b]), layers.Maximum()([a, b]),
              layers.Multiply()([a, b]), layers.Subtract()([a, b])]
    h = layers.LSTM(3)(layers.Concatenate()(merged))
    x = rng.standard_normal((3, 5, 3))
    if masked:
        x[0, 3:] = 0.0
        x[2, 0] = 0.0
    check_graph(models.Model(a_in, h), x, rng, skip_inputs_equal_to=0.0 if masked else None)


def test_repeat_reshape_permute_activation_dot(float64, rng):
    v = layers.Input((4,))
    r = layers.RepeatVector(3)(layers.Dense(6)(v))                       # vector to sequence
    s = layers.SimpleRNN(6, return_sequences=True)(r)
    t = layers.Permute((2, 1))(layers.Reshape((3, 6))(s))                # (6, 3)
    d = layers.Dot(axes=(2, 2))([s, layers.Activation("tanh")(layers.Permute((2, 1))(t))])     # (3, 3)
    n = layers.Dot(axes=1, normalize=True)([layers.Dense(5)(v), layers.Dense(5)(v)])
    y = layers.Concatenate()([layers.Reshape((9,))(d), n])
    check_graph(models.Model(v, y), rng.standard_normal((2, 4)), rng)


def test_bidirectional_and_time_distributed_in_a_graph(float64, rng):
    x = layers.Input((4, 3))
    y = layers.Bidirectional(layers.GRU(3, return_sequences=True))(x)
    z = layers.TimeDistributed(layers.Dense(2))(y)
    check_graph(models.Model(x, [z, y]), rng.standard_normal((2, 4, 3)), rng)
