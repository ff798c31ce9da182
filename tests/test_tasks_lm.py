"""The language-model task: truncated BPTT with carried states, perplexity, generation, the CLI, bad input."""
import math

import numpy as np
import pytest

from rnnlab import cli, layers, models
from rnnlab.tasks import lm
from rnnlab.tasks.lm.training import epoch_lr, make_optimizer
from rnnlab.text import LMVocabulary, streams

SENTENCES = "the cat sat on the mat\nthe dog sat on the log\na bird sang in the tree\n"


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(SENTENCES * 40, encoding="utf-8")
    return path


def _small(**kw):
    base = dict(units=24, layers=1, num_steps=6, batch_size=4, epochs=25, optimizer="adam", lr=0.02,
                decay_after=100, init_scale=None, valid_fraction=0.2, seed=0)
    base.update(kw)
    return base


def test_states_carry_from_window_to_window_and_reset(rng):
    cfg = lm.LMConfig(units=5, layers=2, embed_dim=4, init_scale=0.3)
    model = lm.build_model(cfg, vocab_size=9)
    x = rng.integers(0, 9, size=(3, 8))
    whole = model.predict(x, batch_size=3, verbose=0)                 # one window of 8 steps
    model.reset_states()
    first = model.predict(x[:, :5], batch_size=3, verbose=0)
    second = model.predict(x[:, 5:], batch_size=3, verbose=0)         # continues from the carried states
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5, atol=1e-6)
    model.reset_states()
    again = model.predict(x[:, 5:], batch_size=3, verbose=0)          # from zeros again
    fresh = lm.build_model(cfg, vocab_size=9)
    fresh.set_weights(model.get_weights())
    np.testing.assert_allclose(again, fresh.predict(x[:, 5:], batch_size=3, verbose=0), rtol=1e-6)
    assert not np.allclose(again, second, atol=1e-4)


def test_training_windows_carry_states_without_gradient_across_them(rng):
    """A training step on window 2 starts from the states window 1 left, and its gradient stops there."""
    cfg = lm.LMConfig(units=4, layers=1, embed_dim=3, init_scale=0.3, num_steps=3, batch_size=2)
    model = lm.build_model(cfg, vocab_size=7)
    model.compile("sgd", "sparse_categorical_crossentropy")
    ids = rng.integers(0, 7, size=(2, 7))
    (x1, y1), (x2, y2) = streams.windows(ids, 3, drop_last=True)
    model.compute_gradients(x1, y1)
    carried = [s.copy() for s in model.layers[1].states]
    model.compute_gradients(x2, y2)
    grads = [g.copy() for _, g in model.parameters()]
    fresh = lm.build_model(cfg, vocab_size=7)
    fresh.set_weights(model.get_weights())
    fresh.compile("sgd", "sparse_categorical_crossentropy")
    fresh.layers[1]._states = carried                                 # the same starting states, given by hand
    fresh.compute_gradients(x2, y2)
    for g, g2 in zip(grads, [g for _, g in fresh.parameters()]):
        np.testing.assert_allclose(g, g2, rtol=1e-6, atol=1e-8)


def test_perplexity_against_a_hand_computation(rng, float64):
    cfg = lm.LMConfig(units=5, layers=1, embed_dim=4, init_scale=0.5, eval_batch_size=1)
    model = lm.build_model(cfg, vocab_size=6)
    vocab = LMVocabulary([str(i) for i in range(6)])
    ids = rng.integers(0, 6, size=50)
    m = lm.LanguageModel(model, vocab, cfg)
    p = models.Sequential.predict(model, ids[None, :-1], verbose=0)[0]          # (49, 6), one pass
    model.reset_states()
    want = -np.mean(np.log(p[np.arange(49), ids[1:]]))
    assert m.nll(ids, num_steps=7) == pytest.approx(want, rel=1e-10)
    assert m.perplexity(ids, num_steps=7) == pytest.approx(math.exp(want), rel=1e-10)
    assert m.bits_per_char(ids) == pytest.approx(want / math.log(2), rel=1e-10)


def test_zaremba_schedule_and_sgd_scaling():
    cfg = lm.LMConfig(**lm.PRESETS["zaremba-small"])
    assert [epoch_lr(cfg, e) for e in range(7)] == [1, 1, 1, 1, 0.5, 0.25, 0.125]
    opt = make_optimizer(cfg, 0.5)
    assert opt.learning_rate == 0.5 * 20 and opt.global_clipnorm == pytest.approx(5.0 / 20)


def test_sgd_step_equals_zarembas_summed_cost(rng, float64):
    """lr·k on the mean loss with clip c/k is the step of lr on the loss summed over k steps with clip c."""
    cfg = lm.LMConfig(units=4, layers=1, embed_dim=3, init_scale=0.3, num_steps=5, batch_size=2, clipnorm=0.05)
    a, b = lm.build_model(cfg, 8), lm.build_model(cfg, 8)
    b.set_weights(a.get_weights())
    x, y = rng.integers(0, 8, size=(2, 5)), rng.integers(0, 8, size=(2, 5))
    a.compile(make_optimizer(cfg, 0.7), "sparse_categorical_crossentropy")
    a.compute_gradients(x, y)
    a.apply_gradients()
    b.compile("sgd", "sparse_categorical_crossentropy")
    b.compute_gradients(x, y)
    g = [g * cfg.num_steps for _, g in b.parameters()]                # gradient of the summed cost
    norm = math.sqrt(sum(float((gi ** 2).sum()) for gi in g))
    scale = min(1.0, cfg.clipnorm / norm)
    for (w, _), gi in zip(b.parameters(), g):
        w -= 0.7 * scale * gi
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-12)


def test_a_tiny_corpus_is_learned_and_reproduced_exactly(corpus_file):
    model, report = lm.train(f"text:{corpus_file}", verbose=0, **_small())
    assert report["history"][-1]["valid_perplexity"] < 1.3
    text = model.generate("the dog", length=12, greedy=True)
    assert text.startswith("sat on the log\n")
    assert model.generate("a bird", length=4, greedy=True) == "sang in the tree"


def test_sampling_is_repeatable_and_greedy_at_low_temperature(corpus_file):
    model, _ = lm.train(f"text:{corpus_file}", verbose=0, **_small(epochs=10))
    a = model.generate("the", length=15, temperature=1.0, seed=3)
    assert a == model.generate("the", length=15, temperature=1.0, seed=3)
    assert model.generate("the", length=15, temperature=1e-6, seed=3) == model.generate("the", length=15, greedy=True)


def test_a_korean_character_model_generates_hangul(tmp_path):
    text = "오늘 영화 정말 재미있었어요\n배우들 연기가 최고였어요\n다음에 또 보고 싶어요\n" * 30
    path = tmp_path / "ko.txt"
    path.write_text(text, encoding="utf-8")
    model, report = lm.train(f"text:{path}", verbose=0, **_small(level="char", units=48, num_steps=10, epochs=30))
    out = model.generate("배우", length=30, temperature=0.5, seed=0)
    assert len(out) == 30
    assert all(ch in text for ch in out)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in out)                 # Hangul syllables
    assert model.generate("배우", length=8, greedy=True) == "들 연기가 최고"


def test_model_directory_round_trip_and_resume(tmp_path, corpus_file):
    out = tmp_path / "run"
    model, _ = lm.train(f"text:{corpus_file}", out=str(out), verbose=0, **_small(epochs=3))
    again = lm.load(out)
    assert again.info["epoch"] == 3 and again.vocab == model.vocab
    assert again.generate("the", length=10, greedy=True) == model.generate("the", length=10, greedy=True)
    # a stopped run continues from its checkpoint to the configured number of epochs
    config = again.config
    config.epochs = 5
    again.save(out)
    resumed, report = lm.train(f"text:{corpus_file}", out=str(out), resume=True, verbose=0)
    assert [r["epoch"] for r in report["history"]] == [1, 2, 3, 4, 5]


def test_cli_train_generate_evaluate(tmp_path, corpus_file, capsys):
    out = tmp_path / "m"
    argv = ["train", "lm", "--data", f"text:{corpus_file}", "--units", "24", "--layers", "1", "--num-steps", "6",
            "--batch-size", "4", "--epochs", "12", "--optimizer", "adam", "--lr", "0.02", "--decay-after", "100",
            "--init-scale", "none", "--valid-fraction", "0.2", "--out", str(out), "--quiet"]
    assert cli.main(argv) == 0
    assert cli.main(["generate", str(out), "--prompt", "the cat", "--length", "5", "--greedy"]) == 0
    assert capsys.readouterr().out.strip().endswith("the cat sat on the mat")     # 5 tokens: ... mat <eos>
    assert cli.main(["evaluate", str(out), "--data", f"text:{corpus_file}", "--split", "valid"]) == 0
    assert "valid: perplexity" in capsys.readouterr().out


def test_cli_preset_and_explicit_flags(tmp_path, corpus_file):
    out = tmp_path / "p"
    argv = ["train", "lm", "--data", f"text:{corpus_file}", "--preset", "zaremba-small", "--units", "16",
            "--layers", "1", "--epochs", "1", "--num-steps", "5", "--batch-size", "4", "--out", str(out), "--quiet"]
    assert cli.main(argv) == 0
    config = lm.load(out).config
    assert (config.units, config.layers, config.optimizer, config.lr, config.init_scale) == (16, 1, "sgd", 1.0, 0.1)


# ---- bad input -------------------------------------------------------------------------------------

def test_empty_corpus(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="the corpus is empty"):
        lm.train(f"text:{empty}", verbose=0)


def test_prompt_with_unknown_characters(tmp_path):
    path = tmp_path / "abc.txt"
    path.write_text("abcabcabc\n" * 50, encoding="utf-8")
    model, _ = lm.train(f"text:{path}", verbose=0, **_small(level="char", epochs=1))
    with pytest.raises(ValueError, match=r"the prompt.*'Ж'"):
        model.generate("abЖ", length=3)
    with pytest.raises(ValueError, match="The prompt is empty"):
        model.generate("", length=3)


def test_vocabulary_mismatch_between_model_and_data(tmp_path, corpus_file):
    model, _ = lm.train(f"text:{corpus_file}", out=str(tmp_path / "m"), verbose=0, **_small(epochs=1))
    other = tmp_path / "other.txt"
    other.write_text("completely different words here\n" * 20, encoding="utf-8")
    with pytest.raises(ValueError, match=r"'completely'"):
        lm.evaluate(model, f"text:{other}")
    with pytest.raises(ValueError, match="trained on word-level tokens"):
        lm.load_corpus(f"text:{corpus_file}", level="char", vocab=model.vocab)


def test_bad_settings_and_specs(tmp_path, corpus_file):
    with pytest.raises(ValueError, match=r"expected ptb:DIR .* or text:FILE"):
        lm.train("corpus.txt", verbose=0)
    with pytest.raises(ValueError, match="does not exist"):
        lm.train(f"text:{tmp_path / 'missing.txt'}", verbose=0)
    with pytest.raises(ValueError, match="tie_weights=True with units=8 and embed_dim=4"):
        lm.LMConfig(units=8, embed_dim=4, tie_weights=True)
    with pytest.raises(ValueError, match="preset='big'"):
        lm.train(f"text:{corpus_file}", preset="big", verbose=0)
    with pytest.raises(ValueError, match="resume=True needs the directory of a stopped run"):
        lm.train(f"text:{corpus_file}", resume=True, out=str(tmp_path / "none"), verbose=0)


def test_ptb_corpus(shared_data):
    corpus = lm.load_corpus(f"ptb:{shared_data / 'ptb'}")
    assert len(corpus.vocab) == 10000
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (929589, 73760, 82430)


def test_tied_language_model_trains(corpus_file):
    model, report = lm.train(f"text:{corpus_file}", verbose=0, **_small(tie_weights=True, dropout=0.1, epochs=15))
    assert isinstance(model.model.layers[-1], layers.TiedDense)
    assert report["history"][-1]["valid_perplexity"] < 2.0
