import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rnnlab import cli, models
from rnnlab.tasks import sentiment

FILLER = "the a movie film plot actor scene story was is it and this very quite".split()


def make_texts(n, seed):
    """Reviews whose label is carried by one cue word at a random position among filler words."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        y = int(rng.integers(0, 2))
        words = list(rng.choice(FILLER, size=int(rng.integers(4, 12))))
        cue = str(rng.choice(["great", "superb"] if y else ["awful", "boring"]))
        words.insert(int(rng.integers(0, len(words) + 1)), cue)
        texts.append(" ".join(words).capitalize() + ("!" if y else "."))
        labels.append(y)
    return texts, labels


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    texts, labels = make_texts(400, seed=0)
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    path.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels)), encoding="utf-8")
    return path


SMALL = dict(vocab_size=40, maxlen=16, embed_dim=8, units=8, epochs=8, batch_size=16, lr=0.01, seed=0, verbose=0)


@pytest.fixture(scope="module")
def trained(csv_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "m"
    clf, report = sentiment.train(f"csv:{csv_path}", model="lstm", pooling="mean", out=str(out), **SMALL)
    return clf, report, out


def test_trains_to_high_heldout_accuracy(trained):
    clf, report, _ = trained
    assert report["train_size"] == 320 and report["test_size"] == 80
    assert report["history"]["loss"][-1] < report["history"]["loss"][0]
    assert report["test_accuracy"] > 0.95
    probs = clf.predict_proba(["A great film", "An awful film"])
    assert probs[0] > 0.8 and probs[1] < 0.2
    assert clf.predict(["superb", "boring"]) == ["positive", "negative"]


@pytest.mark.parametrize("model, pooling", [("simple_rnn", "last"), ("gru", "max"), ("bilstm", "concat"),
                                            ("conv_lstm", "mean")])
def test_every_model_and_pooling_learns(csv_path, model, pooling):
    _, report = sentiment.train(f"csv:{csv_path}", model=model, pooling=pooling, **SMALL)
    assert report["test_accuracy"] > 0.85, (model, pooling, report["test_accuracy"])


def test_model_directory_round_trip(trained):
    clf, _, out = trained
    assert sorted(os.listdir(out)) == ["config.json", "curves.png", "history.csv", "history.json", "model.safetensors",
                                       "training_config.json", "vocab.json"]
    meta = json.loads((out / "config.json").read_text())["metadata"]
    assert meta["task"] == "sentiment" and meta["tokenizer"]["class_name"] == "EnglishTokenizer"
    assert meta["config"]["maxlen"] == 16 and meta["data"]["kind"] == "csv"      # settings: under "config"
    back = sentiment.SentimentClassifier.load(out)
    texts = ["great plot", "boring and awful", "", "unknown words only"]
    np.testing.assert_array_equal(back.predict_proba(texts), clf.predict_proba(texts))
    assert back.vocab == clf.vocab


def test_cli_predict_matches_python_and_needs_no_shared_data(trained, tmp_path):
    clf, _, out = trained
    texts = ["A superb story", "It was boring.", "the movie"]
    (tmp_path / "in.txt").write_text("\n".join(texts[1:]) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = lambda args, stdin=None: subprocess.run([sys.executable, "-m", "rnnlab.cli", "predict", str(out), *args],
                                                  cwd=tmp_path, env=env, input=stdin, capture_output=True,
                                                  text=True, timeout=120)
    r = run([texts[0], "--file", "in.txt", "--json"])
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["text"] for row in rows] == texts
    np.testing.assert_allclose([row["probability"] for row in rows], clf.predict_proba(texts), rtol=1e-6)
    assert [row["label"] for row in rows] == clf.predict(texts)
    r = run(["-"], stdin="great\nawful\n")
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert r.returncode == 0 and [ln[0] for ln in lines] == ["positive", "negative"]
    assert float(lines[0][1]) == pytest.approx(float(clf.predict_proba(["great"])[0]), abs=6e-5)


def test_cli_train_and_evaluate(csv_path, tmp_path, capsys):
    out = tmp_path / "cli_model"
    code = cli.main(["train", "sentiment", "--data", f"csv:{csv_path}", "--model", "gru", "--pooling", "last",
                     "--vocab-size", "40", "--maxlen", "16", "--embed-dim", "8", "--units", "8", "--epochs", "6",
                     "--batch-size", "16", "--lr", "0.01", "--quiet", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "test accuracy" in printed and (out / "vocab.json").is_file()
    trained_acc = float(printed.split("test accuracy ")[1].split()[0])
    assert cli.main(["evaluate", str(out), "--data", f"csv:{csv_path}", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("accuracy ") and "(80 texts, test split)" in printed
    assert float(printed.split()[1]) == pytest.approx(trained_acc, abs=1e-4)
    assert cli.main(["evaluate", str(out), "--data", f"csv:{csv_path}", "--split", "all", "--quiet"]) == 0
    assert "(400 texts, all split)" in capsys.readouterr().out


def test_nsmc_and_imdb_layouts(tmp_path):
    texts, labels = make_texts(120, seed=1)
    tsv = tmp_path / "ratings.txt"
    tsv.write_text("id\tdocument\tlabel\n" + "".join(f"{i}\t{t}\t{y}\n" for i, (t, y) in enumerate(zip(texts, labels))),
                   encoding="utf-8")
    _, report = sentiment.train(f"nsmc:{tsv}", tokenizer="korean_whitespace", **{**SMALL, "epochs": 1})
    assert (report["train_size"], report["test_size"]) == (96, 24)
    for split in ("train", "test"):
        for i, (t, y) in enumerate(zip(texts[:20], labels[:20])):
            folder = tmp_path / "aclImdb" / split / ("pos" if y else "neg")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i}_{8 if y else 2}.txt").write_text(t)
    _, report = sentiment.train(f"imdb:{tmp_path / 'aclImdb'}", **{**SMALL, "epochs": 1})
    assert (report["train_size"], report["test_size"]) == (20, 20)


def test_errors(trained, tmp_path, capsys):
    _, _, out = trained
    with pytest.raises(ValueError, match=r"Unknown sentiment model 'transformer'; expected one of"):
        sentiment.build_model("transformer")
    with pytest.raises(ValueError, match=r"Unknown pooling 'sum'; expected one of \('last', 'mean', 'max', 'concat'\)"):
        sentiment.build_model("lstm", pooling="sum")
    with pytest.raises(ValueError, match=r"--data got 'reviews\.csv'; expected KIND:PATH"):
        sentiment.parse_data_spec("reviews.csv")
    with pytest.raises(TypeError, match=r"got one str; wrap it: \[text\]"):
        sentiment.SentimentClassifier.load(out).predict_proba("one text")
    assert cli.main(["predict", str(out)]) == 1
    assert "got no texts" in capsys.readouterr().err
    assert cli.main(["predict", str(out), "--file", str(tmp_path / "none.txt")]) == 1
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text(json.dumps({"format": "rnnlab.model", "format_version": 1,
                                                                 "class_name": "Sequential", "config": {},
                                                                 "metadata": {"task": "demo"}}))
    with pytest.raises(ValueError, match=r"holds a model of task 'demo', not a sentiment model"):
        sentiment.SentimentClassifier.load(tmp_path / "broken")


def test_rnn_dropout_reaches_every_recurrent_cell_and_is_validated():
    net = sentiment.build_model("bilstm", vocab_size=30, maxlen=8, embed_dim=4, units=3, rnn_dropout=0.25)
    bi = net.layers[1]
    assert (bi.forward_layer.cell.dropout, bi.backward_layer.cell.dropout) == (0.25, 0.25)
    assert sentiment.build_model("gru", vocab_size=30, maxlen=8, embed_dim=4, units=3).layers[1].cell.dropout == 0.0
    with pytest.raises(ValueError, match=r"build_model got rnn_dropout=1\.0; expected a rate in \[0, 1\)"):
        sentiment.build_model("lstm", rnn_dropout=1.0)
    with pytest.raises(ValueError, match=r"build_model got dropout=-0\.1; expected a rate in \[0, 1\)"):
        sentiment.build_model("lstm", dropout=-0.1)


def test_sorted_training_data_is_shuffled_so_validation_holds_both_classes(tmp_path, monkeypatch):
    texts, labels = make_texts(200, seed=3)
    order = np.argsort(labels, kind="stable")                    # all negatives first, as IMDb's files come
    path = tmp_path / "sorted.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,label\n" + "".join(f"{texts[i]},{labels[i]}\n" for i in order))
    seen = {}
    real_fit = models.Sequential.fit

    def spy(self, x, y, **kw):
        n_val = int(round(len(y) * kw["validation_split"]))
        seen["val_labels"] = set(np.asarray(y)[len(y) - n_val:].tolist())
        return real_fit(self, x, y, **kw)

    monkeypatch.setattr(models.Sequential, "fit", spy)
    _, report = sentiment.train(f"csv:{path}", validation_split=0.25, patience=1, optimizer="rmsprop",
                                **{**SMALL, "epochs": 30})
    assert seen["val_labels"] == {0, 1}
    assert len(report["history"]["val_loss"]) < 30              # early stopping ended training
    assert report["optimizer"] == "rmsprop" and report["patience"] == 1


def test_optimizer_and_patience_errors():
    with pytest.raises(ValueError, match=r"train got optimizer='lamb'; expected one of \['adagrad', 'adam', "):
        sentiment.train("csv:x.csv", optimizer="lamb")
    with pytest.raises(ValueError, match=r"train got patience=-1; expected a non-negative integer"):
        sentiment.train("csv:x.csv", patience=-1, validation_split=0.1)
    with pytest.raises(ValueError, match=r"patience=2 but validation_split=0\.0; early stopping watches the "
                                         r"validation loss, so also pass validation_split"):
        sentiment.train("csv:x.csv", patience=2)


def test_ema_option_trains_with_averaged_weights(csv_path):
    clf, report = sentiment.train(f"csv:{csv_path}", ema=0.9, **SMALL)
    opt = clf.model.optimizer
    assert (opt.use_ema, opt.ema_momentum, report["ema"]) == (True, 0.9, 0.9)
    assert report["test_accuracy"] > 0.9
