"""rnnlab.interop.onnx: ONNX graphs run in onnxruntime equal rnnlab's outputs (float32, 1e-5) for every
recurrent kind and option, masked batches (pre-, post-, two-sided padding) included; the other layers;
refusals that leave no file; and a trained sentiment model exported to ONNX and Keras classifying
held-out reviews with rnnlab's labels."""
import os
from types import SimpleNamespace

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import rnnlab
from interop_models import KINDS, OPTIONS, V, as_list, build, padded_ids, randomize
from rnnlab import layers as L
from rnnlab.interop import ConversionError
from rnnlab.interop.cli import cmd_convert, cmd_export
from rnnlab.interop.onnx import OPSET, to_onnx

TOL = dict(rtol=1e-5, atol=1e-5)


def _run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: x.astype(np.int64) if name == "input_ids" else x.astype(np.float32)})


@pytest.mark.parametrize("mask_zero", [True, False], ids=["masked", "unmasked"])
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_onnx_matches_rnnlab(tmp_path, kind, option, mask_zero):
    model = build(rnnlab, kind, option, mask_zero, sequential=True)
    model.build()
    randomize(model)
    x = padded_ids()
    to_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version == OPSET
    ops = {n.op_type for n in proto.graph.node}
    assert {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "gru_v1": "GRU"}[kind] in ops and "Gather" in ops
    got = _run(tmp_path / "m.onnx", x)
    want = as_list(model.predict(x, verbose=0))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL)                   # every step, padded ones included


def _rand(model, seed=0):
    model.build()
    randomize(model, seed)
    return model


@pytest.mark.parametrize("name", ["conv_lstm", "norm_td_pool", "masking_floats", "relu_rnn_max"])
def test_other_layers(tmp_path, name):
    ids = [L.Input((7,), dtype="int32"), L.Embedding(V, 6, mask_zero=True)]
    body = {
        "conv_lstm": ids + [L.Conv1D(4, 3, padding="same", activation="relu"), L.MaxPooling1D(2),
                            L.Bidirectional(L.LSTM(3)), L.Dropout(0.5), L.Dense(1, activation="sigmoid")],
        "norm_td_pool": ids + [L.GRU(4, return_sequences=True), L.LayerNormalization(),
                               L.TimeDistributed(L.Dense(3, activation="tanh")), L.GlobalAveragePooling1D(),
                               L.Activation("softmax")],
        "masking_floats": [L.Input((7, 3)), L.Masking(0.0), L.LSTM(4, return_sequences=True),
                           L.AveragePooling1D(2, padding="same"), L.Flatten(), L.Dense(2)],
        "relu_rnn_max": ids + [L.SimpleRNN(4, activation="relu", return_sequences=True), L.GlobalMaxPooling1D(),
                               L.Dense(2, activation="softmax")],
    }[name]
    model = _rand(rnnlab.Sequential(body))
    if name == "masking_floats":
        x = np.random.default_rng(2).standard_normal((4, 7, 3)).astype("float32")
        x[1, 5:] = 0.0
        x[2, :2] = 0.0
    else:
        x = padded_ids()
    to_onnx(model, tmp_path / "m.onnx")
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x)[0], model.predict(x, verbose=0), **TOL)


@pytest.mark.parametrize("case, match", [
    ("layer_norm", r"'lstm.*' \(LSTM\).*layer_norm"),
    ("tied", r"\(TiedDense\).*no ONNX translation"),
    ("functional", r"only Sequential"),
    ("softsign", r"activation 'hard_sigmoid' inside the recurrence"),
])
def test_unconvertible_models_write_no_file(tmp_path, case, match):
    emb = L.Embedding(V, 5)
    if case == "functional":
        inp = L.Input((7,), dtype="int32")
        e = emb(inp)
        model = rnnlab.Model(inp, L.Attention()([e, e]))
    else:
        rest = {"layer_norm": [L.LSTM(4, layer_norm=True)], "tied": [L.LSTM(5, return_sequences=True),
                                                                   L.TiedDense(emb)],
                "softsign": [L.GRU(4, recurrent_activation="hard_sigmoid")]}[case]
        model = _rand(rnnlab.Sequential([L.Input((7,), dtype="int32"), emb] + rest))
    with pytest.raises(ConversionError, match=match):
        to_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_cli_export_refuses_before_writing_any_format(tmp_path):
    model = _rand(rnnlab.Sequential([L.Input((7,), dtype="int32"), L.Embedding(V, 5, mask_zero=True),
                                     L.GRU(4, return_sequences=True), L.GlobalMaxPooling1D()]))
    model.save(tmp_path / "m")
    args = SimpleNamespace(model_dir=str(tmp_path / "m"), onnx=str(tmp_path / "m.onnx"),
                           keras=str(tmp_path / "m.keras"))
    pytest.importorskip("h5py")
    with pytest.raises(ConversionError, match="GlobalMaxPooling1D"):     # ONNX could, Keras cannot: neither
        cmd_export(args)
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.keras").exists()
    conv = SimpleNamespace(src=str(tmp_path / "m"), dst=str(tmp_path / "c.onnx"))
    assert cmd_convert(conv) == 0
    x = padded_ids()
    np.testing.assert_allclose(_run(tmp_path / "c.onnx", x)[0], model.predict(x, verbose=0), **TOL)


# ---- a trained sentiment model travels --------------------------------------------------------------

FILLER = "the a movie film plot actor scene story was is it and this very quite".split()


def _reviews(n, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        y = int(rng.integers(0, 2))
        words = list(rng.choice(FILLER, size=int(rng.integers(3, 14))))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(["great", "superb"] if y else
                                                                           ["awful", "boring"])))
        texts.append(" ".join(words))
        labels.append(y)
    return texts, labels


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sentiment_model_exports_to_onnx_and_keras_with_the_same_labels(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    pytest.importorskip("h5py")
    from rnnlab.tasks import sentiment
    texts, labels = _reviews(240, seed=0)
    csv = tmp_path / "reviews.csv"
    csv.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels)), encoding="utf-8")
    clf, report = sentiment.train(f"csv:{csv}", model="lstm", pooling="mean", out=str(tmp_path / "model"),
                                  vocab_size=40, maxlen=16, embed_dim=8, units=8, epochs=4, batch_size=16, lr=0.01,
                                  seed=0, verbose=0)
    args = SimpleNamespace(model_dir=str(tmp_path / "model"), onnx=str(tmp_path / "s.onnx"),
                           keras=str(tmp_path / "s.keras"))
    assert cmd_export(args) == 0

    held_out, _ = _reviews(120, seed=99)
    ids = clf.encode(held_out)
    assert (ids[:, 0] == 0).any()                             # pre-padding, as the task pads
    want = np.asarray(clf.predict(held_out))
    assert set(want) == {"positive", "negative"}
    onnx_p = _run(tmp_path / "s.onnx", ids)[0][:, 0]
    keras_p = np.asarray(keras.saving.load_model(tmp_path / "s.keras").predict(ids, verbose=0))[:, 0]
    r_p = clf.predict_proba(held_out)
    np.testing.assert_allclose(onnx_p, r_p, **TOL)
    np.testing.assert_allclose(keras_p, r_p, **TOL)
    for p in (onnx_p, keras_p):
        assert (np.asarray(clf.labels)[(p >= 0.5).astype(int)] == want).all()


def test_register_adds_the_export_and_convert_verbs(tmp_path):
    import argparse

    from rnnlab.interop.cli import register
    parser = argparse.ArgumentParser(prog="rnnlab")
    register(parser.add_subparsers(dest="command"))
    model = _rand(rnnlab.Sequential([L.Input((7,), dtype="int32"), L.Embedding(V, 5, mask_zero=True),
                                     L.LSTM(4)]))
    model.save(tmp_path / "m")
    args = parser.parse_args(["export", str(tmp_path / "m"), "--onnx", str(tmp_path / "m.onnx")])
    assert args.func(args) == 0
    args = parser.parse_args(["convert", str(tmp_path / "m"), str(tmp_path / "c.onnx")])
    assert args.func(args) == 0
    x = padded_ids()
    for name in ("m.onnx", "c.onnx"):
        np.testing.assert_allclose(_run(tmp_path / name, x)[0], model.predict(x, verbose=0), **TOL)
