"""The translation task: tokens, the split by source sentence, masks, decoding (greedy, beam, length
normalisation, one step per token), a tiny reverse task learned exactly, saving, the CLI and bad input."""
import itertools
import json
import re

import numpy as np
import pytest

from gradcheck import rel_error
from rnnlab import backend, cli, decoding, layers, optimizers
from rnnlab.tasks import translate
from rnnlab.tasks.translate.data import END_ID, START_ID, oriented, pad, read_pairs, split_pairs

SYMBOLS = "abcdef"


@pytest.fixture(scope="module")
def reverse_file(tmp_path_factory):
    """Every sequence of 3-5 symbols over a 6-symbol alphabet, paired with its reverse."""
    lines = [" ".join(s) + "\t" + " ".join(reversed(s))
             for n in (3, 4, 5) for s in itertools.product(SYMBOLS, repeat=n)]
    path = tmp_path_factory.mktemp("rev") / "rev.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reverser(reverse_file):
    """A Luong-attention translator trained to reverse sequences (about 10 s)."""
    tr, report = translate.train(f"tatoeba:{reverse_file}", src="en", tgt="fr", max_pairs=2000, min_freq=1,
                                 units=32, embed_dim=16, attention="luong", batch_size=32, lr=0.005, epochs=8,
                                 test_fraction=0.05, valid_fraction=0.0, verbose=0)
    return tr, report["dataset"]


def _tiny(attention="bahdanau", cell="lstm", vocab=(12, 14), **kw):
    """An untrained translator with random weights over made-up vocabularies."""
    config = translate.TranslateConfig(attention=attention, cell=cell, units=8, embed_dim=6, **kw)
    src = translate.data.build_vocab([[f"s{i}" for i in range(vocab[0] - 4)]])
    tgt = translate.data.build_vocab([[f"t{i}" for i in range(vocab[1] - 4)]])
    model = translate.build_model(config, len(src), len(tgt))
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.6, w.shape) for w in model.get_weights()])
    return translate.Translator(model, src, tgt, config)


# ---- tokens --------------------------------------------------------------------------------------------

def test_tokenize_is_unicode_aware_and_detokenize_glues_back():
    assert translate.tokenize("J’ai vu l'homme\u202f!") == ["j'", "ai", "vu", "l'", "homme", "!"]
    assert translate.tokenize("Peut-être.") == ["peut", "@-@", "être", "."]
    assert translate.detokenize(["peut", "@-@", "être", "qu'", "il", "vient", "!"]) == "peut-être qu'il vient!"
    assert translate.tokenize("Où est   l'école ?") == ["où", "est", "l'", "école", "?"]
    assert translate.tokenize("나는 학생이다.") == ["나는", "학생이다", "."]
    chars = translate.tokenize("나는 학생.", "char")
    assert chars == ["나", "는", "▁", "학", "생", "."] and translate.detokenize(chars, "char") == "나는 학생."
    assert translate.tokenize("\u200b  ") == []


def test_auto_level_is_characters_for_korean():
    assert translate.TranslateConfig(tgt="ko").level("tgt") == "char"
    assert translate.TranslateConfig(tgt="ko").level("src") == "word"
    assert translate.TranslateConfig(tgt="ko", tgt_level="word").level("tgt") == "word"


# ---- reading and the split ---------------------------------------------------------------------------------

def test_missing_column_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("Go.\tVa !\nHi.\tSalut !\nRun!\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs\.txt, line 3: expected 2 tab-separated columns"):
        read_pairs(path)
    path.write_text("Go.\tVa !\n\tSalut !\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: the first \(English\) column is empty"):
        read_pairs(path)


def test_bad_data_spec_and_languages(tmp_path):
    with pytest.raises(ValueError, match="expected tatoeba:FILE"):
        translate.load_dataset("csv:x.txt", translate.TranslateConfig())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        translate.load_dataset(f"tatoeba:{tmp_path / 'none.txt'}", translate.TranslateConfig())
    path = tmp_path / "p.txt"
    path.write_text("Go.\tVa !\n", encoding="utf-8")
    with pytest.raises(ValueError, match="--src or --tgt must be 'en'"):
        translate.load_dataset(f"tatoeba:{path}", translate.TranslateConfig(src="fr", tgt="de"))
    with pytest.raises(ValueError, match="must differ"):
        translate.TranslateConfig(src="en", tgt="en")


def test_split_groups_by_source_sentence_and_is_deterministic():
    pairs = [(f"Sentence {i % 40}.", f"Phrase {i} .") for i in range(200)]       # 40 sources, 5 translations each
    pairs += [("  SENTENCE 3. ", "encore")]                                        # the same source, normalised
    pairs += [("one two three four five six seven eight nine ten eleven", "trop long")]
    config = translate.TranslateConfig(test_fraction=0.2, valid_fraction=0.1, seed=4)
    parts = split_pairs(pairs, config)
    seen = [set(parts[p].src) for p in ("train", "valid", "test")]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    assert sum(len(parts[p]) for p in parts) == 201                               # the long pair is filtered out
    assert len(seen[2]) == 8 and len(seen[1]) == 4
    sources, refs = parts["test"].references()
    assert len(sources) == 8 and all(len(r) >= 5 for r in refs)                  # every translation is a reference
    again = split_pairs(pairs, config)
    assert again["test"].src == parts["test"].src and again["train"].tgt == parts["train"].tgt
    other = split_pairs(pairs, translate.TranslateConfig(test_fraction=0.2, valid_fraction=0.1, seed=5))
    assert other["test"].src != parts["test"].src


def test_real_tatoeba_split_has_no_source_in_two_parts(shared_data):
    path = shared_data / "tatoeba" / "fra.txt.xz"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    data = translate.load_dataset(f"tatoeba:{path}", translate.TranslateConfig(max_pairs=4000, seed=1))
    train, test = set(data.train.src), set(data.test.src)
    assert not (train & test) and not (set(data.valid.src) & (train | test))
    assert 3500 <= len(data.train) + len(data.valid) + len(data.test) <= 4100
    assert data.tgt_vocab.tokens[:4] == ["<pad>", "<unk>", "<start>", "<end>"]
    assert all(len(s.split()) <= 10 for s in data.train.src + data.train.tgt)
    assert any("é" in t for t in data.tgt_vocab.tokens)
    swapped = split_pairs(oriented(read_pairs(path)[:3000], "fr", "en"), translate.TranslateConfig(src="fr", tgt="en"))
    assert "vous" in {t for toks in swapped["train"].src_tokens for t in toks}
    assert "you" in {t for toks in swapped["train"].tgt_tokens for t in toks}


def test_real_korean_file_reads_three_columns(shared_data):
    path = shared_data / "tatoeba" / "kor.txt.xz"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    data = translate.load_dataset(f"tatoeba:{path}", translate.TranslateConfig(tgt="ko"))
    assert len(data.train) > 2500 and "CC-BY" not in " ".join(data.train.tgt[:50])
    assert all(len(t) == 1 for t in data.tgt_vocab.tokens[4:])                       # syllables / characters


# ---- the network and its masks ----------------------------------------------------------------------------

@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padding_changes_neither_loss_gradients_nor_translations(attention, cell):
    tr = _tiny(attention, cell)
    model = tr.model
    model.compile(optimizers.Adam(), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.integers(4, 12, (3, 5))
    x[0, 3:] = 0
    x[2, 4:] = 0
    t = rng.integers(4, 14, (3, 4))
    t[1, 2:] = 0
    x_in = np.concatenate([np.full((3, 1), START_ID), t], 1)
    y = np.concatenate([t, np.zeros((3, 1), int)], 1)
    y[np.arange(3), (t != 0).sum(1)] = END_ID
    loss, _, _ = model.compute_gradients([x, x_in], y)
    grads = [g.copy() for _, g in model.parameters()]
    padded = [np.pad(a, ((0, 0), (0, 3))) for a in (x, x_in, y)]
    loss2, _, _ = model.compute_gradients(padded[:2], padded[2])
    assert loss2 == pytest.approx(loss, rel=1e-5)
    for g, (_, g2) in zip(grads, model.parameters()):
        np.testing.assert_allclose(g2, g, rtol=1e-4, atol=1e-6)
    for beam in (1, 3):
        assert tr.translate_ids(x, beam, max_length=6) == tr.translate_ids(np.pad(x, ((0, 0), (0, 4))), beam,
                                                                             max_length=6)


@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
def test_one_decoder_step_equals_the_teacher_forced_model(attention):
    tr = _tiny(attention, vocab=(12, 14))
    rng = np.random.default_rng(1)
    x = rng.integers(4, 12, (2, 4))
    x[1, 2:] = 0
    x_in = np.concatenate([np.full((2, 1), START_ID), rng.integers(4, 14, (2, 4))], 1)
    full = tr.model._forward([x, x_in])                                            # (2, 5, V)
    state = tr.encode(x)
    for t in range(x_in.shape[1]):
        logp, state = tr.step(x_in[:, t], state)
        np.testing.assert_allclose(np.exp(logp), full[:, t], rtol=1e-4, atol=1e-6)


def test_attention_model_gradients_by_finite_differences(float64):
    """The whole network (bidirectional encoder, bridge, Bahdanau attention with its key, masked loss)."""
    tr = _tiny("bahdanau", vocab=(9, 10))
    model = tr.model
    model.compile(optimizers.SGD(), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(2)
    x = rng.integers(4, 9, (2, 4))
    x[1, 3:] = 0
    x_in = np.concatenate([np.full((2, 1), START_ID), rng.integers(4, 10, (2, 3))], 1)
    x_in[0, 3:] = 0
    y = np.where(x_in == 0, 0, rng.integers(3, 10, x_in.shape))
    model.compute_gradients([x, x_in], y)
    analytic = [g.copy() for _, g in model.parameters()]
    eps = 1e-6
    for (w, _), g in zip(model.parameters(), analytic):
        flat, gflat = w.reshape(-1), g.reshape(-1)
        for i in rng.choice(flat.size, size=min(4, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            plus = model.compute_gradients([x, x_in], y)[0]
            flat[i] = old - eps
            minus = model.compute_gradients([x, x_in], y)[0]
            flat[i] = old
            assert rel_error(gflat[i], (plus - minus) / (2 * eps)) < 1e-5


# ---- decoding ------------------------------------------------------------------------------------------------

def test_tiny_reverse_task_is_learned_exactly(reverser):
    tr, data = reverser
    scores = translate.evaluate(tr, data, beam_width=1)
    assert scores["sentences"] >= 50 and scores["exact_match"] == 100.0 and scores["bleu"] > 99
    assert tr.translate("a b c d e", beam_width=3) == "e d c b a"


def test_beam_width_one_equals_greedy(reverser):
    tr, data = reverser
    x = pad([tr.src_vocab.encode(t) for t in data.test.src_tokens[:40]])
    state = tr.encode(x)
    start = np.full(len(x), START_ID)
    greedy = decoding.greedy(tr.step, start, state, max_length=8, end_token=END_ID)
    beam = decoding.beam_search(tr.step, start, state, max_length=8, beam_width=1, end_token=END_ID,
                                length_penalty=0.0)
    np.testing.assert_array_equal(beam.tokens, greedy.tokens)
    np.testing.assert_allclose(beam.scores, greedy.scores, rtol=1e-10)
    assert tr.translate(data.test.src[:10], beam_width=1) == tr.translate(data.test.src[:10], beam_width=1,
                                                                        batch_size=3)


def _sequence_logp(tr, x_row, seq):
    """Σ log p of ``seq`` (target ids) given one source row, by teacher forcing through ``tr.step``."""
    state, prev, total = tr.encode(x_row[None]), START_ID, 0.0
    for tok in seq:
        logp, state = tr.step(np.array([prev]), state)
        total += decoding.log_softmax(logp)[0, tok]
        prev = tok
    return total


def test_beam_search_through_the_step_function_finds_the_best_sequence_greedy_misses():
    tr = _tiny("luong", vocab=(12, 6))                                          # 6 target ids: short search space
    V, L = len(tr.tgt_vocab), 3
    rng = np.random.default_rng(7)
    x = rng.integers(4, 12, (12, 4))
    state = tr.encode(x)
    start = np.full(len(x), START_ID)
    beam = decoding.beam_search(tr.step, start, state, max_length=L, beam_width=V * V, end_token=None,
                                length_penalty=0.0)                             # V² beams: exhaustive for L = 3
    greedy = decoding.greedy(tr.step, start, state, max_length=L)
    every = np.array(list(itertools.product(range(V), repeat=L)))              # (V^L, L) all sequences
    differs = 0
    for b in range(len(x)):
        s, prev, total = tr.encode(np.repeat(x[b:b + 1], len(every), 0)), np.full(len(every), START_ID), 0.0
        for t in range(L):                                                      # teacher-force all at once
            logp, s = tr.step(prev, s)
            total = total + decoding.log_softmax(logp)[np.arange(len(every)), every[:, t]]
            prev = every[:, t]
        best = int(np.argmax(total))
        np.testing.assert_array_equal(beam.tokens[b], every[best])
        assert beam.scores[b] == pytest.approx(total[best], abs=1e-6)
        differs += not np.array_equal(greedy.tokens[b], every[best])
    assert differs > 0                                                          # the test is not vacuous


@pytest.mark.parametrize("length_penalty", [0.0, 0.6, 1.0])
def test_beam_scores_are_length_normalised_as_documented(reverser, length_penalty):
    tr, data = reverser
    x = pad([tr.src_vocab.encode(t) for t in data.test.src_tokens[:6]])
    ids, scores = tr.translate_ids(x, beam_width=3, length_penalty=length_penalty, return_scores=True)
    for b, seq in enumerate(ids):
        raw = _sequence_logp(tr, x[b][x[b] != 0], seq + [END_ID])
        assert scores[b] == pytest.approx(raw / (len(seq) + 1) ** length_penalty, rel=1e-6, abs=1e-9)


def test_attention_weights_of_one_sentence(reverser):
    tr, _ = reverser
    src, out, w = tr.attention_weights("a b c d")
    assert src == ["a", "b", "c", "d"] and out == ["d", "c", "b", "a", "<end>"]
    assert w.shape == (5, 4)
    np.testing.assert_allclose(w.sum(1), 1.0, rtol=1e-5)
    assert list(np.argmax(w[:4], axis=1)) == [3, 2, 1, 0]                       # reversal: it looks backwards
    with pytest.raises(ValueError, match="attention='none'"):
        _tiny("none").attention_weights("s1 s2")


# ---- bad input, saving, the command line -----------------------------------------------------------------

def test_empty_sentence_is_an_error_and_unknown_words_warn(reverser):
    tr, _ = reverser
    with pytest.raises(ValueError, match=r"Sentence 1 is empty \(' '\)"):
        tr.translate(["a b", " "])
    with pytest.warns(UserWarning, match=r"read as <unk>: 'zebra' \(Sentence 0\), 'g' \(Sentence 0\)"):
        out = tr.translate("a zebra g b")
    assert isinstance(out, str)
    with pytest.raises(ValueError, match=r"in.txt, line 2 holds characters that are not text \(U\+0007, U\+0378"):
        tr.translate(["a b", "a\x07b\u0378"], names=["in.txt, line 1", "in.txt, line 2"])
    assert tr.translate(["a\tb"]) == tr.translate(["a b"])                 # a tab is white space, not an error
    with pytest.raises(TypeError, match="expected a str"):
        tr.translate(["a b", 3])
    with pytest.raises(ValueError, match="beam_width must be an integer >= 1"):
        tr.translate("a b", beam_width=0)


def test_model_directory_round_trip_gives_identical_translations(reverser, tmp_path):
    tr, data = reverser
    tr.save(tmp_path / "m")
    again = translate.load(tmp_path / "m")
    assert again.config == tr.config and again.tgt_vocab == tr.tgt_vocab and again.src_vocab == tr.src_vocab
    sentences = data.test.src[:20] + ["f e d c b a a"]
    for beam in (1, 4):
        assert again.translate(sentences, beam_width=beam) == tr.translate(sentences, beam_width=beam)
    np.testing.assert_array_equal(again.attention_weights("a b c")[2], tr.attention_weights("a b c")[2])
    meta = json.loads((tmp_path / "m" / "config.json").read_text())["metadata"]
    assert meta["task"] == "translate" and meta["config"]["attention"] == "luong"
    assert json.loads((tmp_path / "m" / "tgt_vocab.json").read_text())["tokens"][:2] == ["<start>", "<end>"]


def test_cli_train_predict_evaluate(reverse_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code = cli.main(["train", "translate", "--data", f"tatoeba:{reverse_file}", "--max-pairs", "300",
                     "--min-freq", "1", "--units", "8", "--embed-dim", "8", "--epochs", "1", "--batch-size", "32",
                     "--attention", "bahdanau", "--cell", "gru", "--out", str(out), "--quiet"])
    assert code == 0 and "BLEU" in capsys.readouterr().out
    sentences = tmp_path / "in.txt"
    sentences.write_text("a b c\n\nd e f\n", encoding="utf-8")
    png = tmp_path / "att.png"
    assert cli.main(["predict", str(out), "--file", str(sentences), "--beam", "2", "--attention-map", str(png)]) == 0
    assert capsys.readouterr().out.count("\n") == 2                              # one line per sentence
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("a b\nc d\n"))
    assert cli.main(["predict", str(out), "-"]) == 0
    assert capsys.readouterr().out.count("\n") == 2
    assert cli.main(["evaluate", str(out), "--data", f"tatoeba:{reverse_file}", "--beam", "1", "--show", "1"]) == 0
    text = capsys.readouterr().out
    assert "test: BLEU" in text and "chrF" in text and "exact match" in text
    assert cli.main(["predict", str(out), ""]) == 1
    assert "Argument 1 is empty" in capsys.readouterr().err
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("a b\n\nd \xe9 f\n".encode("latin-1"))
    assert cli.main(["predict", str(out), "--file", str(latin1)]) == 1
    err = capsys.readouterr().err
    assert f"{latin1}, line 3: byte 3" in err and "is not UTF-8" in err
    control = tmp_path / "control.txt"
    control.write_text("a b\nc \x00d\n", encoding="utf-8")
    assert cli.main(["predict", str(out), "--file", str(control)]) == 1
    assert f"{control}, line 2 holds characters that are not text (U+0000" in capsys.readouterr().err
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("a b\n\na zebra\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=rf"'zebra' \({re.escape(str(unknown))}, line 3\)"):
        assert cli.main(["predict", str(out), "--file", str(unknown)]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.txt"
    bad.write_text("a b\tb a\nc d\n", encoding="utf-8")
    assert cli.main(["train", "translate", "--data", f"tatoeba:{bad}", "--out", str(tmp_path / "x")]) == 1
    assert "bad.txt, line 2" in capsys.readouterr().err


def test_load_refuses_another_task(tmp_path):
    model = __import__("rnnlab").models.Sequential([layers.Dense(2)])
    model.build((None, 3))
    model.save(tmp_path / "m", metadata={"task": "lm"})
    with pytest.raises(ValueError, match="not a translation model"):
        translate.load(tmp_path / "m")
    assert backend.floatx() == "float32"


def test_minutes_stops_training_mid_epoch(reverse_file):
    tr, report = translate.train(f"tatoeba:{reverse_file}", max_pairs=600, min_freq=1, units=4, embed_dim=4,
                                 batch_size=8, epochs=3, minutes=1e-6, verbose=0)
    (row,) = report["history"]
    assert row["batches"] == 1 and row["fraction"] < 1 and tr.info["epoch"] == 1


def test_tied_output_matrix_steps_and_round_trips(tmp_path):
    config = translate.TranslateConfig(units=6, embed_dim=6, tie_embeddings=True, attention="bahdanau")
    src = translate.data.build_vocab([["s1", "s2", "s3"]])
    tgt = translate.data.build_vocab([["t1", "t2", "t3", "t4"]])
    tr = translate.Translator(translate.build_model(config, len(src), len(tgt)), src, tgt, config)
    assert tr.model.get_layer("output").weights[0].shape == (len(tgt),)          # only the bias is its own
    x, x_in = np.array([[4, 5, 6]]), np.array([[START_ID, 4, 5]])
    full, state = tr.model._forward([x, x_in]), tr.encode(x)
    for t in range(3):
        logp, state = tr.step(x_in[:, t], state)
        np.testing.assert_allclose(np.exp(logp), full[:, t], rtol=1e-4, atol=1e-6)
    tr.save(tmp_path / "tied")
    assert translate.load(tmp_path / "tied").translate("s1 s2", beam_width=2) == tr.translate("s1 s2", beam_width=2)
    with pytest.raises(ValueError, match="tie_embeddings=True with embed_dim=4 and units=6"):
        translate.TranslateConfig(units=6, embed_dim=4, tie_embeddings=True)
