"""Merge layers: gradients by central differences, values against PyTorch, masks, shapes, errors, configs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gradcheck import numeric_grad, projected_loss, projections, rel_error
from rnnlab import layers
from rnnlab.layers import Add, Average, Concatenate, Dot, Maximum, Multiply, Subtract, recording

N, T, D = 3, 4, 5


def check_gradients(layer, xs, mask=None, tol=1e-6):
    """Every input's gradient from backward against central differences of sum(y * R)."""
    y = layer.forward(xs, mask=mask)
    [R] = projections([y])
    grads = layer.backward(R)
    assert isinstance(grads, list) and len(grads) == len(xs)
    loss = lambda: projected_loss([layer.forward(xs, mask=mask)], [R])
    for x, g in zip(xs, grads):
        assert g.shape == x.shape
        assert rel_error(g, numeric_grad(loss, x)) < tol
    return y, grads


def apart(rng, shapes, gap=1e-3):
    """Random inputs whose values differ pairwise by more than ``gap`` (Maximum away from ties)."""
    xs = [rng.standard_normal(s) for s in shapes]
    stacked = np.stack(np.broadcast_arrays(*[x.reshape(x.shape[:1] + (1,) * (len(shapes[0]) - x.ndim) + x.shape[1:])
                                             for x in xs]))
    diffs = np.abs(stacked[:, None] - stacked[None, :])
    off = ~np.eye(len(xs), dtype=bool)
    assert diffs[off].min() > gap
    return xs


def t(x):
    return torch.from_numpy(np.asarray(x))


# ---- gradients ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,k", [(Add, 2), (Add, 3), (Subtract, 2), (Multiply, 2), (Multiply, 3),
                                   (Average, 2), (Average, 3), (Maximum, 2), (Maximum, 3)])
def test_elementwise_gradients(float64, rng, cls, k):
    xs = apart(rng, [(N, T, D)] * k)
    check_gradients(cls(), xs)


@pytest.mark.parametrize("cls", [Add, Multiply, Average, Maximum])
def test_elementwise_gradients_with_broadcasting(float64, rng, cls):
    xs = apart(rng, [(N, T, D), (N, 1, D), (N, D)])       # a size-1 axis and a missing axis are broadcast
    y, grads = check_gradients(cls(), xs)
    assert y.shape == (N, T, D)
    assert [g.shape for g in grads] == [(N, T, D), (N, 1, D), (N, D)]


def test_subtract_gradients_with_broadcasting(float64, rng):
    check_gradients(Subtract(), [rng.standard_normal((N, 1, D)), rng.standard_normal((N, T, D))])


@pytest.mark.parametrize("cls", [Multiply, Maximum])
def test_masked_gradients(float64, rng, cls):
    xs = apart(rng, [(N, T, D)] * 3)
    masks = [rng.random((N, T)) > 0.4, None, rng.random((N, T)) > 0.6]
    check_gradients(cls(), xs, mask=masks)
    check_gradients(cls(), xs, mask=[masks[0], masks[2], masks[0] & masks[2]])   # every input masked


@pytest.mark.parametrize("axis,shapes", [
    (-1, [(N, T, D), (N, T, 2), (N, T, 3)]),
    (1, [(N, T, D), (N, 2, D)]),
    (2, [(N, T, 2, D), (N, T, 3, D)]),
    (1, [(N, D), (N, 2)]),
])
def test_concatenate_gradients(float64, rng, axis, shapes):
    xs = [rng.standard_normal(s) for s in shapes]
    check_gradients(Concatenate(axis=axis), xs)


DOT_CASES = [
    (2, (N, T, D), (N, 6, D), (N, T, 6)),            # (N, T, D) . (N, S, D) -> (N, T, S)
    ((2, 2), (N, T, D), (N, 6, D), (N, T, 6)),
    ((1, 1), (N, T, D), (N, T, 2), (N, D, 2)),       # contract time: (N, D, E)
    ((1, 2), (N, T, D), (N, 6, T), (N, D, 6)),
    ((2, 1), (N, T, D), (N, D), (N, T)),             # (N, T, D) . (N, D) -> (N, T)
    ((1, 2), (N, D), (N, 6, D), (N, 6)),
    (-1, (N, D), (N, D), (N, 1)),                    # rank-1 result becomes (N, 1)
    (1, (N, D), (N, D), (N, 1)),
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes,s1,s2,out", DOT_CASES)
def test_dot_gradients(float64, rng, axes, s1, s2, out, normalize):
    xs = [rng.standard_normal(s1), rng.standard_normal(s2)]
    y, _ = check_gradients(Dot(axes=axes, normalize=normalize), xs)
    assert y.shape == out


# ---- values against PyTorch / explicit formulas ----------------------------------------------------------

def test_values_match_torch(float64, rng):
    a, b, c = (rng.standard_normal((N, T, D)) for _ in range(3))
    ta, tb, tc = t(a), t(b), t(c)
    np.testing.assert_allclose(Concatenate()([a, b, c]), torch.cat([ta, tb, tc], dim=-1).numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(Concatenate(axis=1)([a, b]), torch.cat([ta, tb], dim=1).numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(Add()([a, b, c]), (ta + tb + tc).numpy(), rtol=1e-14)
    np.testing.assert_allclose(Subtract()([a, b]), torch.sub(ta, tb).numpy(), rtol=1e-14)
    np.testing.assert_allclose(Multiply()([a, b, c]), torch.stack([ta, tb, tc]).prod(0).numpy(), rtol=1e-13)
    np.testing.assert_allclose(Average()([a, b, c]), torch.stack([ta, tb, tc]).mean(0).numpy(), rtol=1e-13)
    np.testing.assert_allclose(Maximum()([a, b, c]), torch.stack([ta, tb, tc]).amax(0).numpy(), rtol=0, atol=0)
    # broadcasting follows Keras: the missing axis is inserted after the batch axis
    v = rng.standard_normal((N, D))
    np.testing.assert_allclose(Add()([a, v]), (ta + t(v)[:, None, :]).numpy(), rtol=1e-14)


def test_dot_values_match_torch(float64, rng):
    q, k = rng.standard_normal((N, T, D)), rng.standard_normal((N, 6, D))
    expected = torch.bmm(t(q), t(k).transpose(1, 2)).numpy()                        # (N, T, S)
    np.testing.assert_allclose(Dot(axes=(2, 2))([q, k]), expected, rtol=1e-12)
    cos = torch.bmm(F.normalize(t(q), dim=2, eps=1e-7), F.normalize(t(k), dim=2, eps=1e-7).transpose(1, 2))
    np.testing.assert_allclose(Dot(axes=2, normalize=True)([q, k]), cos.numpy(), rtol=1e-12)
    a, b = rng.standard_normal((N, D)), rng.standard_normal((N, D))
    np.testing.assert_allclose(Dot(axes=1, normalize=True)([a, b])[:, 0],
                               F.cosine_similarity(t(a), t(b), dim=1).numpy(), rtol=1e-12)
    x, y = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, 2))            # contract axis 1
    np.testing.assert_allclose(Dot(axes=1)([x, y]), torch.einsum("ntd,nte->nde", t(x), t(y)).numpy(), rtol=1e-12)


def test_dot_normalize_backward_matches_torch_autograd(float64, rng):
    x1, x2 = rng.standard_normal((N, 6, T)), rng.standard_normal((N, D, T))
    dot = Dot(axes=(2, 2), normalize=True)
    y = dot.forward([x1, x2])
    [R] = projections([y])
    g1, g2 = dot.backward(R)
    t1, t2 = t(x1).requires_grad_(), t(x2).requires_grad_()
    ty = torch.bmm(F.normalize(t1, dim=2, eps=1e-7), F.normalize(t2, dim=2, eps=1e-7).transpose(1, 2))
    (ty * t(R)).sum().backward()
    np.testing.assert_allclose(g1, t1.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g2, t2.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layer,shapes", [(Add(), [(N, D), (N, D)]), (Average(), [(N, D), (N, D)]),
                                          (Subtract(), [(N, D), (N, D)]), (Concatenate(), [(N, D), (N, 2)])])
def test_each_gradient_is_its_own_array(rng, layer, shapes):
    layer.forward([rng.standard_normal(s) for s in shapes])
    dy = rng.standard_normal(layer.compute_output_shape(shapes))
    grads = layer.backward(dy)
    assert not any(np.shares_memory(g, dy) for g in grads)
    grads[0] += 1.0                                   # a caller accumulating in place changes nothing else
    assert not np.shares_memory(grads[0], grads[1])


def test_dot_normalize_zero_vector_is_finite(float64):
    x = np.zeros((2, 3))
    y = Dot(axes=1, normalize=True)
    out = y.forward([x, np.ones((2, 3))])
    np.testing.assert_array_equal(out, np.zeros((2, 1)))
    g1, g2 = y.backward(np.ones((2, 1)))
    assert np.isfinite(g1).all() and np.isfinite(g2).all()
    np.testing.assert_allclose(g1, np.full((2, 3), 1 / np.sqrt(3) / 1e-7))   # clipped norm: du / eps


def test_maximum_tie_goes_to_first_input(float64):
    x = np.array([[1.0, 2.0, 3.0]])
    z = np.array([[1.0, 5.0, 3.0]])
    layer = Maximum()
    np.testing.assert_array_equal(layer.forward([x, x.copy(), z]), [[1.0, 5.0, 3.0]])
    g = layer.backward(np.array([[10.0, 20.0, 30.0]]))
    np.testing.assert_array_equal(g[0], [[10.0, 0.0, 30.0]])     # ties at 0 and 2: first input takes all
    np.testing.assert_array_equal(g[1], [[0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(g[2], [[0.0, 20.0, 0.0]])


def test_masked_maximum_and_multiply_values(float64, rng):
    a, b = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, D))
    ma, mb = rng.random((N, T)) > 0.5, rng.random((N, T)) > 0.5
    A, B = ma[..., None], mb[..., None]
    # max over the valid inputs; where neither is valid, the first input
    expected = np.select([A & B, A, B], [np.fmax(a, b), a, b], default=a)
    np.testing.assert_array_equal(Maximum()([a, b], mask=[ma, mb]), expected)
    # an input without a mask is valid everywhere
    np.testing.assert_array_equal(Maximum()([a, b], mask=[ma, None]), np.where(A, np.fmax(a, b), b))
    # Multiply: masked entries count as 1; with every input masked, zero where none is valid
    prod = np.where(A, a, 1.0) * np.where(B, b, 1.0)
    np.testing.assert_allclose(Multiply()([a, b], mask=[ma, mb]), prod * (A | B), rtol=1e-14)
    np.testing.assert_allclose(Multiply()([a, b], mask=[ma, None]), np.where(A, a, 1.0) * b, rtol=1e-14)
    # Add, Subtract and Average ignore the masks in their values (Keras 3)
    np.testing.assert_allclose(Add()([a, b], mask=[ma, mb]), a + b, rtol=1e-14)


# ---- masks -------------------------------------------------------------------------------------------------

M1 = np.array([[True, True, False, False], [True, False, False, False]])
M2 = np.array([[True, False, True, False], [True, True, True, False]])


@pytest.mark.parametrize("cls", [Add, Subtract, Multiply, Average, Maximum])
def test_elementwise_compute_mask_is_or(cls):
    xs = [np.zeros((2, 4, 3)), np.zeros((2, 4, 3))]
    layer = cls()
    np.testing.assert_array_equal(layer.compute_mask(xs, [M1, M2]),
                                  [[True, True, True, False], [True, True, True, False]])
    assert layer.compute_mask(xs, [M1, None]) is None
    assert layer.compute_mask(xs, None) is None
    assert layer.compute_mask(xs, [None, None]) is None


def test_concatenate_compute_mask():
    xs = [np.zeros((2, 4, 3)), np.zeros((2, 4, 2))]
    features = Concatenate()
    np.testing.assert_array_equal(features.compute_mask(xs, [M1, M2]), M1 | M2)
    np.testing.assert_array_equal(features.compute_mask(xs, [M1, None]), np.ones((2, 4), bool))
    assert features.compute_mask(xs, [None, None]) is None
    assert features.compute_mask(xs, None) is None
    time = Concatenate(axis=1)
    ys = [np.zeros((2, 4, 3)), np.zeros((2, 2, 3))]
    np.testing.assert_array_equal(time.compute_mask(ys, [M1, None]),
                                  [[True, True, False, False, True, True], [True, False, False, False, True, True]])
    np.testing.assert_array_equal(time.compute_mask(ys, [M1, M2[:, :2]]), np.concatenate([M1, M2[:, :2]], axis=1))


def test_dot_drops_the_mask():
    assert Dot(axes=2).compute_mask([np.zeros((2, 4, 3))] * 2, [M1, M2]) is None


# ---- shapes ------------------------------------------------------------------------------------------------

def test_compute_output_shape_with_unknown_dims():
    assert Add().compute_output_shape([(None, 4, 5), (None, 4, 5)]) == (None, 4, 5)
    assert Add().compute_output_shape([(None, 1, 5), (None, None, 5)]) == (None, None, 5)
    assert Add().compute_output_shape([(None, None, 5), (None, 4, 5)]) == (None, 4, 5)
    assert Multiply().compute_output_shape([(None, 5), (None, 4, 5)]) == (None, 4, 5)
    assert Maximum().compute_output_shape([(3, 4, 5), (None, 4, 1)]) == (3, 4, 5)
    assert Concatenate().compute_output_shape([(None, None, 3), (None, None, 4)]) == (None, None, 7)
    assert Concatenate(axis=1).compute_output_shape([(None, 5, 8), (None, None, 8)]) == (None, None, 8)
    assert Concatenate(axis=1).compute_output_shape([(None, 5, 8), (None, 2, 8)]) == (None, 7, 8)
    assert Dot(axes=(2, 2)).compute_output_shape([(None, None, 8), (None, 6, 8)]) == (None, None, 6)
    assert Dot(axes=1).compute_output_shape([(None, 8), (None, 8)]) == (None, 1)
    assert Dot(axes=(2, 1)).compute_output_shape([(None, 4, 8), (None, 8)]) == (None, 4)


def test_forward_shapes_agree_with_compute_output_shape(rng):
    cases = [(Add(), [(N, T, D), (N, 1, D)]), (Concatenate(axis=1), [(N, T, D), (N, 2, D)]),
             (Dot(axes=(1, 2)), [(N, T, D), (N, 6, T)]), (Maximum(), [(N, D), (N, T, D)])]
    for layer, shapes in cases:
        y = layer.forward([rng.standard_normal(s) for s in shapes])
        assert y.shape == layer.compute_output_shape(shapes)
        assert y.shape[1:] == layer.compute_output_shape([(None,) + s[1:] for s in shapes])[1:]


# ---- errors ------------------------------------------------------------------------------------------------

def test_concatenate_shape_mismatch_names_both_shapes_the_axis_and_the_layer(rng):
    msg = (r"Layer 'concatenate' \(Concatenate\) cannot join inputs of shapes \(None, 5, 8\) and \(None, 4, 8\) "
           r"on axis -1: all other axes must match, but axis 1 has sizes 5 and 4")
    with pytest.raises(ValueError, match=msg):
        Concatenate().compute_output_shape([(None, 5, 8), (None, 4, 8)])
    with pytest.raises(ValueError, match=r"'concatenate_1' \(Concatenate\) cannot join inputs of shapes "
                                         r"\(3, 5, 8\) and \(3, 4, 8\) on axis 2"):
        Concatenate(axis=2).forward([rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 4, 8))])
    with pytest.raises(ValueError, match=r"shapes \(None, 5, 8\) and \(None, 5\) on axis -1: they have different "
                                         r"ranks \(3 and 2\)"):
        Concatenate(name="cat").compute_output_shape([(None, 5, 8), (None, 5)])
    with pytest.raises(ValueError, match=r"has axis=0.*axis 0 is the batch axis"):
        Concatenate(axis=0).forward([np.ones((2, 3)), np.ones((2, 3))])


def test_merge_input_errors(rng):
    x = rng.standard_normal((N, D))
    with pytest.raises(ValueError, match=r"Layer 'add' \(Add\) merges at least 2 tensors, but got 1 inputs"):
        Add().forward([x])
    with pytest.raises(TypeError, match=r"'average' \(Average\) expects a list of input arrays .* got a single array "
                                        r"of shape \(3, 5\)"):
        Average().forward(x)
    with pytest.raises(ValueError, match=r"'subtract' \(Subtract\) merges exactly 2 tensors, but got 3 inputs"):
        Subtract().forward([x, x, x])
    with pytest.raises(ValueError, match=r"different batch sizes \[3, 2\]"):
        Multiply().forward([x, x[:2]])
    with pytest.raises(ValueError, match=r"'maximum' \(Maximum\) cannot merge inputs of shapes \(3, 4, 5\) and "
                                         r"\(3, 2, 5\): axis 1 has sizes 4 and 2"):
        Maximum().forward([rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 2, 5))])
    with pytest.raises(ValueError, match=r"got 1 masks for 2 inputs"):
        Add().forward([x, x], mask=[None])
    with pytest.raises(TypeError, match=r"mask to be None or a list with one entry per input"):
        Add().forward([x, x], mask=np.ones((N, D), bool))
    with pytest.raises(ValueError, match=r"got a mask of shape \(3, 7\) for input 1 of shape \(3, 5\)"):
        Add().forward([x, x], mask=[None, np.ones((3, 7), bool)])
    with pytest.raises(ValueError, match=r"expects a list of input shapes, one tuple per input"):
        Add().compute_output_shape((None, 5))
    with pytest.raises(ValueError, match=r"backward got a gradient of shape \(3, 4\) for the output, which has "
                                         r"shape \(3, 5\)"):
        layer = Add()
        layer.forward([x, x])
        layer.backward(np.ones((3, 4)))


def test_dot_errors(rng):
    with pytest.raises(ValueError, match=r"Layer 'dot' \(Dot\) cannot take the dot product of inputs of shapes "
                                         r"\(3, 4, 5\) and \(3, 6, 7\) with axes=\(2, 2\): axis 2 of the first has "
                                         r"size 5 but axis 2 of the second has size 7"):
        Dot(axes=(2, 2)).forward([rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 6, 7))])
    with pytest.raises(ValueError, match=r"cannot take the dot product of inputs of shapes \(None, 4, 5\) and "
                                         r"\(None, 6, 7\)"):
        Dot(axes=-1).compute_output_shape([(None, 4, 5), (None, 6, 7)])
    with pytest.raises(ValueError, match=r"axes=0, which gives axis 0 .* axis 0 is the batch axis"):
        Dot(axes=0).forward([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"axes=\(1, 3\), which gives axis 3 for the second input of shape \(2, 3\)"):
        Dot(axes=(1, 3)).forward([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(TypeError, match=r"Dot expects 'axes' to be an int or a pair of ints .* got '2'"):
        Dot(axes="2")
    with pytest.raises(ValueError, match=r"Dot expects 'axes' to be an int or a pair of ints .* got \(1, 2, 3\)"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r"'pair' \(Dot\) merges exactly 2 tensors, but got 3 inputs"):
        Dot(axes=1, name="pair").forward([np.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match=r"needs inputs of rank >= 2 .* the first input has shape \(2,\)"):
        Dot(axes=1).forward([np.ones(2), np.ones((2, 3))])


# ---- configs and recorded calls ------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [Add(name="a"), Subtract(), Multiply(), Average(), Maximum(),
                                   Concatenate(axis=1), Dot(axes=(1, 2), normalize=True), Dot(axes=-1)])
def test_config_round_trip(rng, layer):
    spec = layers.serialize(layer)
    clone = layers.deserialize(spec)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    xs = [rng.standard_normal((N, T, D)), rng.standard_normal((N, D, T) if isinstance(layer, Dot) else (N, T, D))]
    if isinstance(layer, Dot) and layer.axes == -1:
        xs[1] = rng.standard_normal((N, 6, D))
    np.testing.assert_array_equal(clone.forward(xs), layer.forward(xs))


def test_keras_argument_names_and_defaults():
    assert Concatenate().get_config()["axis"] == -1
    cfg = Dot(axes=(1, 2)).get_config()
    assert cfg["axes"] == [1, 2] and cfg["normalize"] is False
    assert not any(cls().per_step for cls in (Add, Subtract, Multiply, Average, Maximum, Concatenate))


def test_recorded_calls_backpropagate_newest_first(float64, rng):
    cat = Concatenate()
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 1))
    with recording():
        cat.forward([a, b])
        cat.forward([c, a, b])
        g_second = cat.backward(np.arange(16.0).reshape(2, 8))
        g_first = cat.backward(np.ones((2, 7)))
    assert [g.shape for g in g_second] == [(2, 1), (2, 3), (2, 4)]
    np.testing.assert_array_equal(g_second[0], [[0.0], [8.0]])
    assert [g.shape for g in g_first] == [(2, 3), (2, 4)]
