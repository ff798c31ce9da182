"""Attention and AdditiveAttention against real Keras 3 (torch backend), float32, Keras's weights copied over."""
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")     # Keras's own numpy 2 notices

from rnnlab import layers  # noqa: E402

N, TQ, TV, D = 2, 3, 4, 5
QUERY_MASK = np.array([[True, False, True], [True, True, False]])
VALUE_MASK = np.array([[True, True, False, True], [True, False, True, False]])

CONFIGS = [
    ("Attention", {}),
    ("Attention", {"use_scale": True}),
    ("Attention", {"score_mode": "concat"}),
    ("Attention", {"use_scale": True, "score_mode": "concat"}),
    ("AdditiveAttention", {}),
    ("AdditiveAttention", {"use_scale": False}),
]


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def pair(cls_name, kwargs, inputs, rng):
    """The same layer in Keras and rnnlab, both built, with Keras's random non-trivial weights in both."""
    ours = getattr(layers, cls_name)(**kwargs)
    theirs = getattr(keras.layers, cls_name)(**kwargs)
    theirs(inputs)
    ours.forward(inputs)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") if w.ndim == 0
               else rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(theirs.get_weights())
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert [w.path.split("/")[-1] for w in theirs.weights] == list(ours._params)
    return ours, theirs


@pytest.mark.parametrize("with_key", [False, True], ids=["key=value", "key"])
@pytest.mark.parametrize("cls_name,kwargs", CONFIGS, ids=[f"{c}-{k}" for c, k in CONFIGS])
def test_outputs_and_scores_match_keras(cls_name, kwargs, with_key):
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s).astype("float32") for s in ((N, TQ, D), (N, TV, D), (N, TV, D))]
    inputs = inputs if with_key else inputs[:2]
    ours, theirs = pair(cls_name, kwargs, inputs, rng)
    for mask in (None, [QUERY_MASK, VALUE_MASK], [None, VALUE_MASK]):
        for causal in (False, True):
            out, scores = ours.forward(inputs, mask=mask, use_causal_mask=causal, return_attention_scores=True)
            k_out, k_scores = theirs(inputs, mask=mask, use_causal_mask=causal, return_attention_scores=True)
            np.testing.assert_allclose(out, to_numpy(k_out), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(scores, to_numpy(k_scores), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(ours.forward(inputs, mask=mask, use_causal_mask=causal),
                                       to_numpy(theirs(inputs, mask=mask, use_causal_mask=causal)),
                                       rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls_name,kwargs", CONFIGS, ids=[f"{c}-{k}" for c, k in CONFIGS])
def test_gradients_match_keras_autograd(cls_name, kwargs):
    """Our hand-derived backward against torch autograd through the Keras layer (float32)."""
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal(s).astype("float32") for s in ((N, TQ, D), (N, TV, D), (N, TV, D))]
    ours, theirs = pair(cls_name, kwargs, inputs, rng)
    R_out, R_scores = rng.standard_normal((N, TQ, D)), rng.standard_normal((N, TQ, TV))
    call = dict(mask=[QUERY_MASK, VALUE_MASK], use_causal_mask=True, return_attention_scores=True)
    ours.forward(inputs, **call)
    ours.zero_grad()
    grads = ours.backward([R_out, R_scores])
    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    out, scores = theirs(tensors, **call)
    (torch.sum(out * torch.tensor(R_out, dtype=out.dtype))
     + torch.sum(scores * torch.tensor(R_scores, dtype=scores.dtype))).backward()
    for g, t in zip(grads, tensors):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-5)
    for g, w in zip(ours.get_gradients(), theirs.weights):
        np.testing.assert_allclose(g, w.value.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_fully_masked_rows_match_keras():
    """Keras shifts masked scores by -1e9: in float32 a row with nothing allowed becomes uniform."""
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(s).astype("float32") for s in ((N, TQ, D), (N, TV, D))]
    vm = VALUE_MASK.copy()
    vm[:, 0] = False                                  # with the causal mask, query step 0 sees nothing
    ours, theirs = pair("Attention", {"use_scale": True}, inputs, rng)
    _, scores = ours.forward(inputs, mask=[None, vm], use_causal_mask=True, return_attention_scores=True)
    _, k_scores = theirs(inputs, mask=[None, vm], use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(scores, to_numpy(k_scores), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores[:, 0], 1.0 / TV, rtol=1e-6)


@pytest.mark.parametrize("cls_name,kwargs", [CONFIGS[3], CONFIGS[4]])
def test_config_and_compute_mask_match_keras(cls_name, kwargs):
    ours = getattr(layers, cls_name)(dropout=0.25, seed=3, **kwargs)
    theirs = getattr(keras.layers, cls_name)(dropout=0.25, seed=3, **kwargs)
    k_config = theirs.get_config()
    config = ours.get_config()
    for key in set(k_config) - {"name", "trainable", "dtype"}:
        assert config[key] == k_config[key], key
    assert set(k_config) - {"name", "trainable", "dtype"} == set(config) - {"name", "trainable", "dtype"}
    q, v = np.zeros((N, TQ, D), "float32"), np.zeros((N, TV, D), "float32")
    np.testing.assert_array_equal(ours.compute_mask([q, v], [QUERY_MASK, VALUE_MASK]),
                                  to_numpy(theirs.compute_mask([q, v], [QUERY_MASK, VALUE_MASK])))
