"""Functional models: building, running, training with several inputs and outputs, masks along the graph,
shared layers across models, saving, the summary table, and clear errors for graphs that cannot run."""
import numpy as np
import pytest

from rnnlab import layers, models, utils
from rnnlab.layers.symbolic import SymbolicTensor


def _seq2seq(units=8, V=6):
    enc_in, dec_in = layers.Input((None, V), name="enc"), layers.Input((None, V), name="dec")
    _, h, c = layers.LSTM(units, return_state=True, name="encoder")(enc_in)
    dec_lstm = layers.LSTM(units, return_sequences=True, return_state=True, name="decoder")
    y, _, _ = dec_lstm(dec_in, initial_state=[h, c])
    dense = layers.Dense(V, activation="softmax", name="out")
    return models.Model([enc_in, dec_in], dense(y)), (enc_in, h, c, dec_in, dec_lstm, dense)


def test_symbolic_calls_and_shapes():
    x = layers.Input((None, 5))
    assert isinstance(x, SymbolicTensor) and x.shape == (None, None, 5)
    y, h, c = layers.LSTM(7, return_state=True)(x)
    assert (y.shape, h.shape, c.shape) == ((None, 7), (None, 7), (None, 7))
    z = layers.GRU(3, return_sequences=True)(x, initial_state=[h[...] if False else layers.Dense(3)(h)])
    assert z.shape == (None, None, 3)
    ids = layers.Input((12,), dtype="int32")
    assert layers.Embedding(50, 4)(ids).shape == (None, 12, 4)
    assert layers.RepeatVector(3)(layers.Dense(2)(h)).shape == (None, 3, 2)


def test_model_matches_the_layers_called_by_hand(rng):
    model, (enc_in, h, c, dec_in, dec_lstm, dense) = _seq2seq()
    a, b = rng.standard_normal((4, 7, 6)).astype("float32"), rng.standard_normal((4, 5, 6)).astype("float32")
    want_states = model.get_layer("encoder").forward(a)[1:]
    want = dense.forward(dec_lstm.forward(b, initial_state=want_states)[0])
    np.testing.assert_allclose(model.predict([a, b], verbose=0), want, rtol=1e-6)
    np.testing.assert_allclose(model.predict({"enc": a, "dec": b}, verbose=0), want, rtol=1e-6)
    assert model.input_names == ["enc", "dec"] and model.output_names == ["out"]


def test_inference_models_share_the_trained_layers(rng):
    """Keras's seq2seq recipe: a training model, then encoder and decoder models over the same layers."""
    utils.set_random_seed(0)
    model, (enc_in, h, c, dec_in, dec_lstm, dense) = _seq2seq()
    a = rng.standard_normal((16, 7, 6)).astype("float32")
    b = rng.standard_normal((16, 5, 6)).astype("float32")
    y = rng.integers(0, 6, size=(16, 5))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit([a, b], y, epochs=2, batch_size=8, verbose=0)
    encoder = models.Model(enc_in, [h, c])
    h_in, c_in = layers.Input((8,)), layers.Input((8,))
    d_out, d_h, d_c = dec_lstm(dec_in, initial_state=[h_in, c_in])
    decoder = models.Model([dec_in, h_in, c_in], [dense(d_out), d_h, d_c])
    states = encoder.predict(a, verbose=0)
    steps, s = [], states
    for t in range(5):                                        # one step at a time, states carried
        p, *s = decoder.predict([b[:, t:t + 1]] + s, verbose=0)
        steps.append(p)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), model.predict([a, b], verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_two_outputs_with_losses_weights_and_metrics(rng):
    utils.set_random_seed(1)
    x = layers.Input((6, 3))
    h = layers.GRU(8)(x)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = models.Model(x, [cls, reg])
    model.compile("adam", {"cls": "sparse_categorical_crossentropy", "reg": "mse"}, metrics={"cls": ["accuracy"]},
                  loss_weights={"cls": 1.0, "reg": 0.5})
    xs = rng.standard_normal((64, 6, 3)).astype("float32")
    yc, yr = (xs[:, :, 0].sum(1) > 0).astype(int), xs[:, :, 1].mean(1, keepdims=True)
    logs = model.evaluate(xs, [yc, yr], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-6)
    hist = model.fit(xs, {"cls": yc, "reg": yr}, epochs=15, batch_size=16, verbose=0, validation_split=0.25)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert "val_cls_accuracy" in hist.history
    with pytest.raises(ValueError, match=r"the model has 2 outputs \['cls', 'reg'\], so y must be a list of 2"):
        model.fit(xs, yc, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"compile\(\) got 3 losses for a model with 2 output"):
        model.compile("adam", ["mse", "mse", "mse"])


def test_one_loss_for_every_output_and_list_targets(rng):
    x = layers.Input((4,))
    a, b = layers.Dense(2, name="a")(x), layers.Dense(2, name="b")(x)
    model = models.Model(x, [a, b])
    model.compile("sgd", "mse")
    xs = rng.standard_normal((8, 4))
    ya, yb = rng.standard_normal((8, 2)), rng.standard_normal((8, 2))
    logs = model.evaluate(xs, [ya, yb], verbose=0, return_dict=True)
    pa, pb = model.predict(xs, verbose=0)
    assert logs["a_loss"] == pytest.approx(float(np.mean((pa - ya) ** 2)), rel=1e-5)
    assert logs["loss"] == pytest.approx(logs["a_loss"] + logs["b_loss"], rel=1e-6)


def test_masks_flow_along_the_graph(rng):
    ids = layers.Input((None,), dtype="int64")
    e = layers.Embedding(10, 4, mask_zero=True)(ids)
    seq = layers.LSTM(5, return_sequences=True)(e)
    per_step = models.Model(ids, layers.TimeDistributed(layers.Dense(3, activation="softmax"))(seq))
    x = rng.integers(1, 10, size=(3, 6))
    x[0, 4:] = 0
    per_step.predict(x, verbose=0)
    np.testing.assert_array_equal(per_step._output_mask, x != 0)         # the Embedding's mask reached the end
    last = models.Model(ids, layers.Dense(2)(layers.GRU(4)(seq)))
    longer = np.concatenate([x, np.zeros((3, 3), int)], axis=1)         # extra padding changes nothing
    np.testing.assert_allclose(last.predict(x, verbose=0), last.predict(longer, verbose=0), rtol=1e-6)


def test_saving_round_trip(tmp_path, rng):
    model, _ = _seq2seq()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    a, b = rng.standard_normal((3, 7, 6)).astype("float32"), rng.standard_normal((3, 5, 6)).astype("float32")
    want = model.predict([a, b], verbose=0)
    model.save(tmp_path / "m")
    again = models.load_model(tmp_path / "m")
    assert type(again).__name__ == "Functional" and again.input_names == ["enc", "dec"]
    np.testing.assert_array_equal(again.predict([a, b], verbose=0), want)
    assert again.optimizer is not None


def test_saving_a_graph_with_shared_layers_and_attention(tmp_path, rng):
    q, v = layers.Input((4,), dtype="int64"), layers.Input((5,), dtype="int64")
    emb = layers.Embedding(9, 6, mask_zero=True)
    enc = layers.GRU(6, return_sequences=True)
    ctx, scores = layers.Attention()([enc(emb(q)), enc(emb(v))], return_attention_scores=True)
    model = models.Model([q, v], [layers.GlobalAveragePooling1D()(ctx), scores])
    xq, xv = rng.integers(0, 9, size=(2, 4)), rng.integers(0, 9, size=(2, 5))
    want = model.predict([xq, xv], verbose=0)
    model.save(tmp_path / "att")
    got = models.load_model(tmp_path / "att").predict([xq, xv], verbose=0)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_summary_has_connected_to(capsys):
    model, _ = _seq2seq()
    model.summary()
    out = capsys.readouterr().out
    assert "Connected to" in out
    assert "enc[0][0]" in out and "encoder[0][1]" in out and "encoder[0][2]" in out
    assert "Total params: " in out


def test_sequential_accepts_a_leading_input(rng):
    model = models.Sequential([layers.Input((None, 3)), layers.LSTM(4), layers.Dense(2)])
    assert len(model.layers) == 2
    model.summary(print_fn=lambda s: None)
    assert model.layers[0].built
    assert model.predict(rng.standard_normal((2, 5, 3)), verbose=0).shape == (2, 2)
    with pytest.raises(ValueError, match="layers.Input\\(...\\) can only come first"):
        models.Sequential([layers.Dense(2), layers.Input((3,))])


# ---- errors --------------------------------------------------------------------------------------------

def test_output_not_reachable_from_the_inputs():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    y = layers.Add()([a, b])
    with pytest.raises(ValueError, match=r"Graph disconnected: output .* depends on input 'b' .* not among the "
                                         r"model's inputs \['a'\]"):
        models.Model(a, y)


def test_input_never_used():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    with pytest.raises(ValueError, match=r"Input 'b' \(shape \(None, 3\)\) is not used by any of the model's outputs"):
        models.Model([a, b], layers.Dense(2)(a))


def test_concatenate_shape_mismatch_names_both_shapes():
    a, b = layers.Input((5, 8)), layers.Input((4, 8))
    with pytest.raises(ValueError, match=r"\(None, 5, 8\).*\(None, 4, 8\)") as info:
        layers.Concatenate(name="join")([a, b])
    assert "'join'" in str(info.value)


def test_numpy_array_where_a_symbolic_input_is_expected():
    a = layers.Input((3,))
    with pytest.raises(TypeError, match=r"called on a mix of symbolic tensors and ndarray"):
        layers.Add()([a, np.ones((2, 3))])
    with pytest.raises(TypeError, match=r"Model\(\) expects its inputs to be symbolic tensors .* got a NumPy array"):
        models.Model(np.ones((2, 3)), layers.Dense(2)(a))
    with pytest.raises(TypeError, match="has no values"):
        np.asarray(a)
    with pytest.raises(TypeError, match=r"cannot backpropagate through Python operators .* layers.Add\(\)"):
        a + a


def test_cycles_are_refused():
    a = layers.Input((3,))
    d1, d2 = layers.Dense(3, name="d1"), layers.Dense(3, name="d2")
    y1 = d1(a)
    y2 = d2(y1)
    y1.node.inputs = y2                      # wire d1's call to read d2's output: a cycle
    with pytest.raises(ValueError, match=r"The graph has a cycle: layer 'd\d'"):
        models.Model(a, y2)


def test_lambda_is_refused_with_the_way_forward():
    with pytest.raises(TypeError, match=r"(?s)cannot backpropagate through an arbitrary Python function.*"
                                        r"write a custom layer"):
        layers.Lambda(lambda x: 2 * x)


def test_wrong_inputs_at_run_time(rng):
    model, _ = _seq2seq()
    with pytest.raises(ValueError, match=r"has 2 inputs \['enc', 'dec'\], so it needs a list of 2 arrays"):
        model.predict(rng.standard_normal((2, 3, 6)), verbose=0)
    with pytest.raises(ValueError, match=r"Input 'enc' expects arrays of shape \(None, None, 6\)"):
        model.predict([rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 3, 6))], verbose=0)
