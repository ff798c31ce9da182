"""Attention and AdditiveAttention: finite-difference gradients, an independent PyTorch forward, dropout,
masks, configs and error messages. Keras parity lives in test_attention_keras.py."""
import numpy as np
import pytest

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import backend
from rnnlab.layers import AdditiveAttention, Attention, deserialize, recording, serialize

N, TQ, TV, D = 2, 3, 4, 5

VALUE_MASK = np.array([[True, True, False, True], [True, False, True, False]])
QUERY_MASK = np.array([[True, False, True], [True, True, False]])

LAYERS = {
    "dot": lambda: Attention(),
    "dot_scale": lambda: Attention(use_scale=True),
    "concat": lambda: Attention(score_mode="concat"),
    "concat_scale": lambda: Attention(use_scale=True, score_mode="concat"),
    "additive": lambda: AdditiveAttention(),
    "additive_noscale": lambda: AdditiveAttention(use_scale=False),
}
MASKS = {
    "none": (None, False),
    "value": ([None, VALUE_MASK], False),
    "query": ([QUERY_MASK, None], False),
    "both": ([QUERY_MASK, VALUE_MASK], False),
    "causal": (None, True),
    "causal_both": ([QUERY_MASK, VALUE_MASK], True),
}


def make_inputs(rng, with_key, Dv=D):
    q = rng.standard_normal((N, TQ, D))
    v = rng.standard_normal((N, TV, Dv))
    return [q, v, rng.standard_normal((N, TV, D))] if with_key else [q, v]


def randomize_weights(layer, rng):
    """Non-trivial weights: scalars around 1 (not 1), vectors normal."""
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape) if w.ndim == 0 else rng.standard_normal(w.shape)
                       for w in layer.get_weights()])


def check_gradients(layer, inputs, rng, tol=1e-6, **call):
    """Finite differences for every input and every weight of ``layer`` under the call options ``call``."""
    layer.forward(inputs, **call)
    randomize_weights(layer, rng)
    out = layer.forward(inputs, **call)
    outs = out if isinstance(out, list) else [out]
    Rs = projections(outs, seed=7)
    layer.zero_grad()
    grads = layer.backward(Rs if isinstance(out, list) else Rs[0])
    assert len(grads) == len(inputs)

    def loss():
        o = layer.forward(inputs, **call)
        return projected_loss(o if isinstance(o, list) else [o], Rs)

    for name, x, g in zip(("query", "value", "key"), inputs, grads):
        assert g.shape == x.shape
        assert rel_error(g, numeric_grad(loss, x)) < tol, name
    for key, w, g in zip(layer._params, layer.weights, layer.get_gradients()):
        assert rel_error(g, numeric_grad(loss, w)) < tol, key
    return grads


@pytest.mark.parametrize("scores", [False, True], ids=["output", "with_scores"])
@pytest.mark.parametrize("masks", list(MASKS))
@pytest.mark.parametrize("with_key", [False, True], ids=["key=value", "key"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_gradients(float64, rng, kind, with_key, masks, scores):
    mask, causal = MASKS[masks]
    layer = LAYERS[kind]()
    check_gradients(layer, make_inputs(rng, with_key), rng, mask=mask, use_causal_mask=causal,
                    return_attention_scores=scores)


@pytest.mark.parametrize("kind", ["dot_scale", "additive"])
def test_gradients_value_width_differs(float64, rng, kind):
    """The value may have its own feature size Dv; the output is (N, Tq, Dv)."""
    layer = LAYERS[kind]()
    inputs = make_inputs(rng, True, Dv=3)
    assert layer.forward(inputs).shape == (N, TQ, 3)
    assert layer.compute_output_shape([x.shape for x in inputs]) == (N, TQ, 3)
    check_gradients(layer, inputs, rng)


@pytest.mark.parametrize("which", [0, 1])
def test_gradient_of_one_output_only(float64, rng, which):
    """With return_attention_scores, either gradient may be None."""
    layer = Attention(use_scale=True)
    inputs = make_inputs(rng, True)
    out = layer.forward(inputs, return_attention_scores=True, mask=[QUERY_MASK, VALUE_MASK])
    R = projections(out, seed=3)[which]
    g = [None, None]
    g[which] = R
    layer.zero_grad()
    grads = layer.backward(g)
    loss = lambda: float(np.sum(layer.forward(inputs, return_attention_scores=True,
                                              mask=[QUERY_MASK, VALUE_MASK])[which] * R))
    for x, gx in zip(inputs, grads):
        assert rel_error(gx, numeric_grad(loss, x)) < 1e-6
    assert rel_error(layer.get_gradients()[0], numeric_grad(loss, layer.weights[0])) < 1e-6


# ---- forward values against an independent PyTorch computation ----------------------------------------------

def torch_attention(q, v, k, kind, scale, csw, q_mask, v_mask, causal):
    torch = pytest.importorskip("torch")
    q, v, k, scale = (torch.tensor(np.asarray(x)) for x in (q, v, k, scale))
    if kind == "dot":
        s = torch.einsum("nid,njd->nij", q, k) * scale
    elif kind == "concat":
        s = float(csw) * torch.tanh(scale * (q.unsqueeze(2) + k.unsqueeze(1))).sum(-1)
    else:
        s = (scale * torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))).sum(-1)
    allowed = torch.ones(s.shape, dtype=torch.bool)
    if v_mask is not None:
        allowed &= torch.tensor(v_mask)[:, None, :]
    if causal:
        allowed &= torch.tril(torch.ones(s.shape[1:], dtype=torch.bool))
    w = torch.softmax(s.masked_fill(~allowed, float("-inf")), dim=-1)
    out = w @ v
    if q_mask is not None:
        out = out * torch.tensor(q_mask)[:, :, None]
    return out.numpy(), w.numpy()


@pytest.mark.parametrize("masks", list(MASKS))
@pytest.mark.parametrize("kind", ["dot", "concat", "additive"])
def test_forward_matches_torch(float64, rng, kind, masks):
    mask, causal = MASKS[masks]
    q, v, k = make_inputs(rng, True)
    if kind == "additive":
        layer = AdditiveAttention()
    else:
        layer = Attention(use_scale=True, score_mode=kind)
    layer.forward([q, v, k])
    randomize_weights(layer, rng)
    ws = dict(zip(layer._params, layer.get_weights()))
    out, w = layer.forward([q, v, k], mask=mask, use_causal_mask=causal, return_attention_scores=True)
    q_mask, v_mask = mask if mask else (None, None)
    ref_out, ref_w = torch_attention(q, v, k, kind, ws["scale"], ws.get("concat_score_weight"), q_mask, v_mask,
                                     causal)
    np.testing.assert_allclose(out, ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w, ref_w, rtol=1e-10, atol=1e-12)


def test_masked_weights_are_zero_and_rows_sum_to_one(rng):
    layer = AdditiveAttention()
    q, v = make_inputs(rng, False)
    out, w = layer.forward([q, v], mask=[QUERY_MASK, VALUE_MASK], use_causal_mask=True, return_attention_scores=True)
    assert out.dtype == np.float32 and w.dtype == np.float32
    allowed = VALUE_MASK[:, None, :] & np.tril(np.ones((TQ, TV), bool))[None]
    assert np.all(w[~allowed] == 0)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    assert np.all(out[~QUERY_MASK] == 0)


def test_fully_masked_row_is_uniform_in_float32(rng):
    """Keras shifts masked scores by -1e9 (no -inf): a row with nothing allowed stays finite."""
    layer = Attention()
    q, v = make_inputs(rng, False)
    vm = np.ones((N, TV), bool)
    vm[0] = False
    _, w = layer.forward([q, v], mask=[None, vm], return_attention_scores=True)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w[0], 1.0 / TV, rtol=1e-6)


# ---- dropout ------------------------------------------------------------------------------------------------

def test_dropout_off_at_inference_and_seeded_in_training(rng):
    q, v = make_inputs(rng, False)
    plain = Attention().forward([q, v])
    a, b = Attention(dropout=0.5, seed=3), Attention(dropout=0.5, seed=3)
    np.testing.assert_array_equal(a.forward([q, v]), plain)
    out_a, w_a = a.forward([q, v], training=True, return_attention_scores=True)
    out_b, w_b = b.forward([q, v], training=True, return_attention_scores=True)
    np.testing.assert_array_equal(out_a, out_b)
    np.testing.assert_array_equal(w_a, w_b)
    assert not np.allclose(out_a, plain)
    # the returned scores are taken after dropout (as in Keras): dropped entries are 0, the rest scaled by 2
    w = Attention().forward([q, v], return_attention_scores=True)[1]
    dropped = w_a == 0
    assert dropped.any() and (~dropped).any()
    np.testing.assert_allclose(w_a[~dropped], 2 * w[~dropped], rtol=1e-6)


def test_dropout_uses_global_generator_without_seed(rng):
    q, v = make_inputs(rng, False)
    layer = AdditiveAttention(dropout=0.3)
    layer.forward([q, v])                                       # build first: the scale's init draws too
    backend.set_random_seed(5)
    first = layer.forward([q, v], training=True)
    backend.set_random_seed(5)
    np.testing.assert_array_equal(layer.forward([q, v], training=True), first)


@pytest.mark.parametrize("kind", ["dot_scale", "concat_scale", "additive"])
def test_dropout_gradients_with_reused_mask(float64, rng, kind):
    layer = {"dot_scale": lambda: Attention(use_scale=True, dropout=0.4, seed=1),
             "concat_scale": lambda: Attention(use_scale=True, score_mode="concat", dropout=0.4, seed=1),
             "additive": lambda: AdditiveAttention(dropout=0.4, seed=1)}[kind]()
    inputs = make_inputs(rng, True)
    layer.forward(inputs, training=True)
    layer._reuse_dropout_masks = True
    check_gradients(layer, inputs, rng, training=True, mask=[QUERY_MASK, VALUE_MASK], return_attention_scores=True)
    assert np.any(layer._dropout_mask == 0)


# ---- weights, config, masks, records ------------------------------------------------------------------------

def test_weights_in_keras_order_and_shapes(rng):
    q, v = make_inputs(rng, False)
    cases = [(Attention(), []), (Attention(use_scale=True), [("scale", ())]),
             (Attention(score_mode="concat"), [("concat_score_weight", ())]),
             (Attention(use_scale=True, score_mode="concat"), [("scale", ()), ("concat_score_weight", ())]),
             (AdditiveAttention(), [("scale", (D,))]), (AdditiveAttention(use_scale=False), [])]
    for layer, expected in cases:
        layer.forward([q, v])
        assert [(k, w.shape) for k, w in zip(layer._params, layer.get_weights())] == expected
        assert [g.shape for g in layer.get_gradients()] == [s for _, s in expected]
    ones = Attention(use_scale=True, score_mode="concat")
    ones.forward([q, v])
    assert [float(w) for w in ones.get_weights()] == [1.0, 1.0]
    limit = np.sqrt(6.0 / (2 * D))                              # glorot_uniform on (D,): fan_in = fan_out = D
    scale = cases[4][0].weights[0]
    assert np.all(np.abs(scale) <= limit) and np.std(scale) > 0
    np.testing.assert_array_equal(AdditiveAttention(seed=4).forward([q, v]), AdditiveAttention(seed=4).forward([q, v]))


def test_scalar_weight_trains_in_place(rng):
    from rnnlab.models.gradients import flatten_gradients
    layer = Attention(use_scale=True)
    q, v = make_inputs(rng, False)
    layer.forward([q, v])
    scale = layer.weights[0]
    flat = flatten_gradients([layer])
    layer.backward(np.ones((N, TQ, D)))
    assert flat.shape == (1,) and flat[0] == layer.get_gradients()[0] != 0
    scale -= 0.1 * layer.gradients[0]
    assert layer.weights[0] is scale and scale.shape == ()


def test_config_round_trip(rng):
    q, v = make_inputs(rng, False)
    for layer in (Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=3, name="att"),
                  AdditiveAttention(use_scale=False, dropout=0.1, seed=2)):
        config = layer.get_config()
        clone = deserialize(serialize(layer))
        assert type(clone) is type(layer) and clone.get_config() == config
        layer.forward([q, v])
        clone.forward([q, v])
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(clone.forward([q, v]), layer.forward([q, v]))
    assert {"use_scale", "score_mode", "dropout", "seed"} <= set(Attention().get_config())
    assert "score_mode" not in AdditiveAttention().get_config()


def test_compute_mask_is_the_query_mask(rng):
    q, v = make_inputs(rng, False)
    layer = Attention()
    np.testing.assert_array_equal(layer.compute_mask([q, v], [QUERY_MASK, VALUE_MASK]), QUERY_MASK)
    assert layer.compute_mask([q, v], [None, VALUE_MASK]) is None
    assert layer.compute_mask([q, v], None) is None
    assert not Attention().per_step


def test_three_masks_accepted_key_mask_ignored(rng):
    q, v, k = make_inputs(rng, True)
    layer = Attention()
    a = layer.forward([q, v, k], mask=[QUERY_MASK, VALUE_MASK])
    b = layer.forward([q, v, k], mask=[QUERY_MASK, VALUE_MASK, np.zeros((N, TV), bool)])
    np.testing.assert_array_equal(a, b)


def test_recorded_calls_add_weight_gradients(float64, rng):
    layer = AdditiveAttention()
    x1, x2 = make_inputs(rng, False), make_inputs(rng, False)
    R1, R2 = rng.standard_normal((N, TQ, D)), rng.standard_normal((N, TQ, D))
    layer.forward(x1)
    layer.zero_grad()
    with recording():
        layer.forward(x1)
        layer.forward(x2)
        g2 = layer.backward(R2)                                 # newest call first
        g1 = layer.backward(R1)
    loss = lambda: float(np.sum(layer.forward(x1) * R1) + np.sum(layer.forward(x2) * R2))
    assert rel_error(layer.get_gradients()[0], numeric_grad(loss, layer.weights[0])) < 1e-6
    assert rel_error(g1[0], numeric_grad(loss, x1[0])) < 1e-6
    assert rel_error(g2[1], numeric_grad(loss, x2[1])) < 1e-6


# ---- errors ---------------------------------------------------------------------------------------------------

def test_errors(rng):
    q, v, k = make_inputs(rng, True)
    layer = Attention()
    with pytest.raises(ValueError, match=r"Layer 'attention' \(Attention\) must be called on a list \[query, value\] "
                                         r"or \[query, value, key\].*got ndarray"):
        layer.forward(q)
    with pytest.raises(ValueError, match="got a list of length 1"):
        layer.forward([q])
    with pytest.raises(ValueError, match="got a list of length 4"):
        layer.forward([q, v, k, k])
    with pytest.raises(ValueError, match=r"expects value of rank 3 \(batch, time steps, features\), "
                                         r"got shape \(2, 4\)"):
        layer.forward([q, v[:, :, 0]])
    with pytest.raises(ValueError, match=r"same batch size, got \[\(2, 3, 5\), \(1, 4, 5\)\]"):
        layer.forward([q, v[:1]])
    with pytest.raises(ValueError, match=r"key and value must have the same number of time steps Tv, "
                                         r"got key \(2, 3, 5\) and value \(2, 4, 5\)"):
        layer.forward([q, v, k[:, :3]])
    with pytest.raises(ValueError, match=r"query and value \(used as the key\) must have the same feature size D.*"
                                         r"got query \(2, 3, 5\).*\(2, 4, 6\); project"):
        layer.forward([q, rng.standard_normal((N, TV, 6))])
    with pytest.raises(ValueError, match=r"query and key must have the same feature size D"):
        AdditiveAttention().forward([q, v, k[:, :, :2]])
    with pytest.raises(ValueError, match=r"value_mask must have shape \(2, 4\) \(batch, time steps\), got \(2, 3\)"):
        layer.forward([q, v], mask=[None, QUERY_MASK])
    with pytest.raises(ValueError, match=r"expects mask=\[query_mask, value_mask\].*got ndarray"):
        layer.forward([q, v], mask=VALUE_MASK)
    with pytest.raises(TypeError, match="expects numeric query"):
        layer.forward([np.array([["a"]]), v])
    with pytest.raises(ValueError, match="score_mode='add'; expected 'dot'"):
        Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"Attention expects dropout to be a fraction in \[0, 1\), got 1.5"):
        Attention(dropout=1.5)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        AdditiveAttention(score_mode="concat")
    add = AdditiveAttention()
    add.forward([q, v])
    with pytest.raises(ValueError, match=r"was built for 5 query features, got query of shape \(2, 3, 2\)"):
        add.forward([q[:, :, :2], v[:, :, :2]])
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        Attention().backward(np.zeros((N, TQ, D)))
    layer.forward([q, v], return_attention_scores=True)
    with pytest.raises(ValueError, match=r"backward expects a list \[d_output, d_scores\]"):
        layer.backward(np.zeros((N, TQ, D)))
    with pytest.raises(ValueError, match=r"gradient of shape \(2, 4, 3\) for the attention scores, which has shape "
                                         r"\(2, 3, 4\)"):
        layer.backward([None, np.zeros((N, TV, TQ))])
