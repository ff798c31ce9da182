"""rnnlab.interop.keras: real Keras 3 (torch backend) files in and out.

Keras -> rnnlab -> Keras round trips over every recurrent kind and option (float32, 1e-5), functional
graphs with every other layer, ``.weights.h5``, refusals (Lambda, custom classes, layers Keras lacks)
that leave no file behind, and the command-line verbs."""
import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
if keras.backend.backend() != "torch":
    pytest.skip("these tests use Keras on its torch backend", allow_module_level=True)

import rnnlab
from interop_models import KINDS, OPTIONS, V, as_list, build, padded_ids, randomize
from rnnlab import layers as L
from rnnlab.interop import ConversionError
from rnnlab.interop import keras as rk
from rnnlab.interop.cli import cmd_convert, cmd_export

TOL = dict(rtol=1e-5, atol=1e-5)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _compare(got, want, valid=None):
    for g, w in zip(as_list(got), as_list(want)):
        assert g.shape == w.shape
        if valid is not None and g.ndim == 3:
            g, w = g[valid], w[valid]
        np.testing.assert_allclose(g, w, **TOL)


# every kind x option with masks; without masks a few options (the masked cases run the same code and more)
GRID = [(k, o, True) for k in KINDS for o in OPTIONS] + \
    [(k, o, False) for k in KINDS for o in ("seq", "backwards", "bi_concat", "state")]


@pytest.mark.parametrize("kind, option, mask_zero", GRID)
def test_keras_rnnlab_keras_round_trip(tmp_path, kind, option, mask_zero):
    k_model = build(keras, kind, option, mask_zero)
    randomize(k_model)
    x = padded_ids()
    want = k_model.predict(x, verbose=0)
    k_model.save(tmp_path / "k.keras")

    r_model = rk.load(tmp_path / "k.keras")
    got = r_model.predict(x, verbose=0)
    # Keras's Bidirectional writes zeros at padded steps, rnnlab the last output: compare real steps there
    valid = (x != 0) if (mask_zero and option.startswith("bi_") and option != "bi_state") else None
    _compare(got, want, valid)

    rk.save(r_model, tmp_path / "back.keras")
    k_back = keras.saving.load_model(tmp_path / "back.keras")
    _compare(k_back.predict(x, verbose=0), want)


def _every_layer_graph(K, mask_zero=False):
    """A functional graph with every other layer rnnlab and Keras share (shared layers, initial_state)."""
    Ly = K.layers
    ids, feats = K.Input((6,), dtype="int32", name="ids"), K.Input((6, 3), name="feats")
    e = Ly.Embedding(V, 4, mask_zero=mask_zero)(ids)
    f = Ly.Masking(0.0)(feats) if mask_zero else feats
    c = Ly.Concatenate()([e, f])
    seq, h = Ly.GRU(5, return_sequences=True, return_state=True)(c)
    dec = Ly.LSTM(5, return_sequences=True)(seq, initial_state=[h, h])
    att = Ly.Attention(use_scale=True)([dec, seq])
    add_att = Ly.AdditiveAttention()([dec, seq])
    n = Ly.LayerNormalization()(Ly.Add()([att, add_att]))
    shared = Ly.TimeDistributed(Ly.Dense(5, activation="tanh"))
    a, b = shared(n), shared(dec)
    m = Ly.Average()([Ly.Multiply()([a, b]), Ly.Maximum()([a, b]), Ly.Subtract()([a, b])])
    g = Ly.GlobalAveragePooling1D()(Ly.Dropout(0.3)(m))
    conv = Ly.Conv1D(4, 3, padding="same", activation="relu")(Ly.Permute((1, 2))(feats))
    pooled = Ly.Flatten()(Ly.AveragePooling1D(2)(Ly.MaxPooling1D(2, strides=1, padding="same")(conv)))
    r = Ly.Reshape((3, 4))(pooled)
    gm = Ly.GlobalMaxPooling1D()(r)
    rep = Ly.RepeatVector(2)(gm)
    d = Ly.Dot(axes=1, normalize=True)([Ly.Dense(3)(g), Ly.Dense(3)(gm)])
    bi = Ly.Bidirectional(Ly.SimpleRNN(3), merge_mode="sum")(rep)
    out = Ly.Activation("softmax")(Ly.Dense(2)(Ly.Concatenate()([g, d, bi])))
    return K.Model([ids, feats], [out, Ly.Dense(1, activation="sigmoid")(gm)])


@pytest.mark.parametrize("mask_zero", [False, True])
def test_functional_graph_with_every_layer_round_trip(tmp_path, mask_zero):
    k_model = _every_layer_graph(keras, mask_zero)
    randomize(k_model, scale=0.5)
    rng = np.random.default_rng(3)
    x = [padded_ids()[:, :6], rng.standard_normal((5, 6, 3)).astype("float32")]
    x[1][2, :2] = 0.0
    want = k_model.predict(x, verbose=0)
    k_model.save(tmp_path / "g.keras")
    r_model = rk.load(tmp_path / "g.keras")
    _compare(r_model.predict(x, verbose=0), want)
    rk.save(r_model, tmp_path / "back.keras")
    _compare(keras.saving.load_model(tmp_path / "back.keras").predict(x, verbose=0), want)


def test_rnnlab_model_to_keras_and_back(tmp_path):
    model = rnnlab.Sequential([L.Input((7,), dtype="int32"), L.Embedding(12, 5, mask_zero=True),
                               L.Bidirectional(L.GRU(4, return_sequences=True, reset_after=False)),
                               L.LSTM(4, return_sequences=True), L.GlobalAveragePooling1D(),
                               L.Dense(3, activation="softmax")])
    model.build()
    randomize(model)
    x = padded_ids()
    rk.save(model, tmp_path / "m.keras")
    k_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(k_model.predict(x, verbose=0)), model.predict(x, verbose=0), **TOL)
    again = rk.load(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), **TOL)
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]


def test_load_weights_from_weights_h5(tmp_path):
    k_model = build(keras, "lstm", "stacked", sequential=True)
    randomize(k_model)
    k_model.save_weights(tmp_path / "w.weights.h5")
    r_model = build(rnnlab, "lstm", "stacked", sequential=True)
    r_model.build()
    rk.load_weights(r_model, tmp_path / "w.weights.h5")
    x = padded_ids()
    np.testing.assert_allclose(r_model.predict(x, verbose=0), np.asarray(k_model.predict(x, verbose=0)), **TOL)
    with pytest.raises(ValueError, match="load_weights"):
        rk.load(tmp_path / "w.weights.h5")
    wrong = build(rnnlab, "gru", "stacked", sequential=True)
    wrong.build()
    with pytest.raises(ConversionError, match="no weights for layer .gru."):
        rk.load_weights(wrong, tmp_path / "w.weights.h5")


def test_lambda_layers_are_refused_without_running_code(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(1)])
    model.save(tmp_path / "lam.keras")
    with pytest.raises(ConversionError, match=r"Lambda.*never executes code"):
        rk.load(tmp_path / "lam.keras")


def test_custom_classes_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][1].update(module="evil.module", registered_name="evil>Dense")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "evil.keras", "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(ConversionError, match=r"\(Dense\).*custom class"):
        rk.load(tmp_path / "evil.keras")


@pytest.mark.parametrize("case", ["tied", "layer_norm", "masked_max", "bi_flatten"])
def test_unconvertible_models_write_no_file(tmp_path, case):
    emb = L.Embedding(12, 5, mask_zero=case != "tied")
    rest = {"tied": lambda: [L.LSTM(5, return_sequences=True), L.TiedDense(emb)],
            "layer_norm": lambda: [L.LSTM(4, layer_norm=True)],
            "masked_max": lambda: [L.GRU(4, return_sequences=True), L.GlobalMaxPooling1D()],
            "bi_flatten": lambda: [L.Bidirectional(L.LSTM(4, return_sequences=True)), L.Flatten()]}[case]()
    model = rnnlab.Sequential([L.Input((7,), dtype="int32"), emb] + rest)
    model.build()
    names = {"tied": "TiedDense", "layer_norm": "layer_norm", "masked_max": "GlobalMaxPooling1D",
             "bi_flatten": "Flatten"}
    with pytest.raises(ConversionError, match=names[case]):
        rk.save(model, tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_cli_convert_and_export(tmp_path):
    k_model = build(keras, "gru", "bi_sum", sequential=True)
    randomize(k_model)
    x = padded_ids()
    want = np.asarray(k_model.predict(x, verbose=0))
    k_model.save(tmp_path / "k.keras")
    ns = type("Args", (), {})
    args = ns()
    args.src, args.dst = str(tmp_path / "k.keras"), str(tmp_path / "rdir")
    assert cmd_convert(args) == 0
    r_model = rnnlab.models.load_model(tmp_path / "rdir")
    valid = x != 0
    np.testing.assert_allclose(r_model.predict(x, verbose=0)[valid], want[valid], **TOL)
    args.src, args.dst = str(tmp_path / "rdir"), str(tmp_path / "back.keras")
    assert cmd_convert(args) == 0
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(args.dst).predict(x, verbose=0)), want, **TOL)
    exp = ns()
    exp.model_dir, exp.onnx, exp.keras = str(tmp_path / "rdir"), None, str(tmp_path / "e.keras")
    assert cmd_export(exp) == 0 and (tmp_path / "e.keras").is_file()


def test_zip_bombs_are_refused_before_inflating(tmp_path, monkeypatch):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", "{}")
        z.writestr("model.weights.h5", b"\0" * (3 << 20))          # 3 MiB of zeros: a few KiB compressed
    monkeypatch.setattr(rk, "MAX_WEIGHTS_BYTES", 1 << 20)
    with pytest.raises(ValueError, match=r"model.weights.h5 declares 3,145,728 bytes uncompressed, more than the "
                                         r"1,048,576 allowed; the archive is damaged or hostile \(a zip bomb\)"):
        rk.load(path)
    deep = tmp_path / "deep.keras"
    with zipfile.ZipFile(deep, "w") as z:
        z.writestr("config.json", "[" * 100000 + "]" * 100000)
        z.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match=r"config.json is not valid JSON \(RecursionError"):
        rk.load(deep)
