"""rnnlab.interop.torch: rnnlab -> nn.Module -> rnnlab over every recurrent kind and option, masked
batches (pre-, post- and two-sided padding) included; modules written in PyTorch come in; refusals."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rnnlab
from interop_models import KINDS, OPTIONS, V, as_list, build, padded_ids, randomize
from rnnlab import layers as L
from rnnlab.interop import ConversionError
from rnnlab.interop.torch import from_torch, to_torch

TOL = dict(rtol=1e-5, atol=1e-5)
nn = torch.nn


def _torch_out(module, x, **kw):
    with torch.no_grad():
        return [t.numpy() for t in as_torch_list(module(torch.as_tensor(x).long(), **kw))]


def as_torch_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


@pytest.mark.parametrize("mask_zero", [True, False], ids=["masked", "unmasked"])
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_rnnlab_torch_rnnlab_round_trip(kind, option, mask_zero):
    model = build(rnnlab, kind, option, mask_zero, sequential=True)
    model.build()
    randomize(model)
    x = padded_ids()
    want = as_list(model.predict(x, verbose=0))
    if kind == "gru_v1":
        with pytest.raises(ConversionError, match=r"'gru.*' \(GRU\).*reset_after=False"):
            to_torch(model)
        return
    module = to_torch(model)
    for got, w in zip(_torch_out(module, x), want):
        np.testing.assert_allclose(got, w, **TOL)                 # every step, padded ones included
    back = from_torch(module)
    for got, w in zip(as_list(back.predict(x, verbose=0)), want):
        np.testing.assert_allclose(got, w, **TOL)


def test_lengths_and_mask_arguments():
    model = build(rnnlab, "lstm", "bi_concat", mask_zero=False, sequential=True)
    model.build()
    randomize(model)
    x = padded_ids()
    mask = x != 0
    masked = build(rnnlab, "lstm", "bi_concat", mask_zero=True, sequential=True)
    masked.build()
    masked.set_weights(model.get_weights())
    module = to_torch(model)                           # no mask_zero: the mask comes as an argument
    ref = masked.predict(x, verbose=0)
    np.testing.assert_allclose(_torch_out(module, x, mask=torch.as_tensor(mask))[0], ref, **TOL)
    post = x[[0, 1, 4]]
    np.testing.assert_allclose(_torch_out(module, post, lengths=torch.as_tensor((post != 0).sum(1)))[0],
                               masked.predict(post, verbose=0), **TOL)
    gap = x.copy()
    gap[0, 3] = 0
    with pytest.raises(ValueError, match="gap"):
        to_torch(masked)(torch.as_tensor(gap).long())


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_from_torch_modules_written_in_pytorch(kind):
    torch.manual_seed(0)
    emb = nn.Embedding(V, 5, padding_idx=0)
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
    rnn = cls(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    fc = nn.Linear(8, 1)
    model = from_torch([emb, rnn, fc, nn.Sigmoid()])
    assert [type(l).__name__ for l in model.layers] == ["Embedding", "Bidirectional", "Bidirectional", "Dense"]
    assert model.layers[0].mask_zero and model.layers[-1].activation == "sigmoid"
    x = padded_ids()
    x = x[[0, 1, 4]]                                    # PyTorch's packing: padding after the tokens
    ids = torch.as_tensor(x).long()
    with torch.no_grad():
        packed = nn.utils.rnn.pack_padded_sequence(emb(ids), (x != 0).sum(1), batch_first=True,
                                                   enforce_sorted=False)
        _, h = rnn(packed)
        h = h[0] if kind == "lstm" else h
        want = torch.sigmoid(fc(torch.cat([h[-2], h[-1]], dim=1))).numpy()   # the usual final-state idiom
    np.testing.assert_allclose(model.predict(x, verbose=0), want, **TOL)


def test_from_torch_sequence_outputs_and_dense_head():
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4, batch_first=True)
    head = nn.Sequential(lstm)
    model = from_torch(head, return_sequences=True)
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype("float32")
    with torch.no_grad():
        want = lstm(torch.as_tensor(x))[0].numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), want, **TOL)


@pytest.mark.parametrize("module, match", [
    (lambda: nn.Conv1d(3, 3, 2), "Conv1d"),
    (lambda: nn.LSTM(3, 4, proj_size=2), "proj_size"),
    (lambda: nn.Embedding(5, 3, padding_idx=2), "padding_idx=2"),
])
def test_from_torch_refuses_what_rnnlab_lacks(module, match):
    with pytest.raises(ConversionError, match=match):
        from_torch([module()])


@pytest.mark.parametrize("layer, match", [
    (lambda: L.LSTM(4, layer_norm=True), "layer_norm"),
    (lambda: L.LSTM(4, stateful=True), "stateful"),
    (lambda: L.Conv1D(3, 2), "Conv1D"),
])
def test_to_torch_refuses_with_the_layer_name(layer, match):
    model = rnnlab.Sequential([L.Input((7,), dtype="int32"), L.Embedding(V, 5), layer()])
    model.build()
    with pytest.raises(ConversionError, match=match):
        to_torch(model)
