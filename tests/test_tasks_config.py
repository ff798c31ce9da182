"""rnnlab.tasks.config: one declaration per setting gives the flags, the defaults, to_dict/from_dict and the
checks; and SentimentConfig, the first task built on it, round-trips through a saved model."""
import argparse
import json
import shutil
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import pytest

from rnnlab import cli
from rnnlab.tasks import sentiment
from rnnlab.tasks.config import TaskConfig, setting
from rnnlab.tasks.sentiment import SentimentConfig


@dataclass
class ToyConfig(TaskConfig):
    cell: str = setting("lstm", "recurrent cell", choices=("rnn", "lstm"))
    units: int = setting(8, "hidden units", interval="[1, inf)")
    rate: float = setting(0.1, "dropout rate (10% is plenty)", interval="[0, 1)")
    clip: Optional[float] = setting(None, "clip norm", interval="(0, inf)", metavar="NORM")
    patience: Optional[int] = setting(None, "epochs to wait", interval="[0, inf)")
    column: Union[int, str] = setting("text", "column name or index", interval="[0, inf)")
    shuffle: bool = setting(True, "shuffle every epoch")

    def check_together(self, where):
        if self.cell == "rnn" and self.units > 100:
            raise ValueError(f"{where} got cell='rnn' with units={self.units}; a vanilla RNN takes at most 100.")


def parse(argv, **kw):
    return ToyConfig.from_args(ToyConfig.add_arguments(argparse.ArgumentParser(prog="toy"), **kw).parse_args(argv))


def test_flags_types_defaults_and_choices(capsys):
    assert parse([]) == ToyConfig()
    got = parse(["--cell", "rnn", "--units", "3", "--rate", "0", "--clip", "2", "--patience", "0", "--column", "4",
                 "--no-shuffle"])
    assert got == ToyConfig("rnn", 3, 0.0, 2.0, 0, 4, False)
    assert [type(v) for v in got.to_dict().values()] == [str, int, float, float, int, int, bool]
    assert parse(["--column", "body", "--clip", "None", "--shuffle"]).to_dict() == {**ToyConfig().to_dict(),
                                                                                   "column": "body"}
    with pytest.raises(SystemExit):
        parse(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for text in ("--cell {rnn,lstm} recurrent cell (default: lstm)", "--units UNITS hidden units (default: 8)",
                 "dropout rate (10% is plenty) (default: 0.1)", "--clip NORM clip norm", "--shuffle, --no-shuffle"):
        assert text in out
    assert "--clip NORM clip norm (default" not in out          # None defaults are not shown


@pytest.mark.parametrize("argv, message", [
    (["--units", "0"], "argument --units: expected a positive integer, got '0'"),
    (["--units", "2.5"], "argument --units: expected a positive integer, got '2.5'"),
    (["--rate", "1"], "argument --rate: expected a number in [0, 1), got '1'"),
    (["--clip", "0"], "argument --clip: expected a positive number or None, got '0'"),
    (["--patience", "-1"], "argument --patience: expected a non-negative integer or None, got '-1'"),
    (["--cell", "gru"], "argument --cell: expected one of ('rnn', 'lstm'), got 'gru'"),
])
def test_bad_flags_exit_with_the_allowed_values(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        parse(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_only_and_skip_select_flags():
    p = ToyConfig.add_arguments(argparse.ArgumentParser(), only=("units", "rate"))
    assert {a.dest for a in p._actions} == {"help", "units", "rate"}
    assert parse(["--units", "5"], skip=("cell",)) == ToyConfig(units=5)
    with pytest.raises(ValueError, match=r"add_arguments got unknown setting 'unit'; the settings of ToyConfig are: "
                                         r"cell, units, rate, clip, patience, column, shuffle\."):
        ToyConfig.add_arguments(argparse.ArgumentParser(), only=("unit",))


def test_to_dict_from_dict_round_trip_through_json():
    config = ToyConfig(cell="rnn", units=np.int64(5), rate=np.float32(0.5), clip=3, column=2, shuffle=False)
    data = json.loads(json.dumps(config.to_dict()))
    assert data == {"cell": "rnn", "units": 5, "rate": 0.5, "clip": 3.0, "patience": None, "column": 2,
                    "shuffle": False}
    assert type(config.units) is int and type(config.clip) is float           # normalised on the way in
    assert ToyConfig.from_dict(data) == config


def test_from_dict_rejects_unknown_keys_and_fills_missing_ones():
    with pytest.raises(ValueError) as e:
        ToyConfig.from_dict({"units": 3, "colour": "red", "size": 1})
    assert str(e.value) == ("ToyConfig.from_dict got unknown settings 'colour', 'size'; the settings of ToyConfig "
                            "are: cell, units, rate, clip, patience, column, shuffle. Check the spelling, or drop "
                            "the setting if it came from another task or rnnlab version.")
    assert ToyConfig.from_dict({"units": 3}) == ToyConfig(units=3)          # an older saved model lacks the rest
    assert ToyConfig.from_dict({}) == ToyConfig()
    with pytest.raises(TypeError, match=r"saved got list; expected a dict of settings as written by to_dict\(\)"):
        ToyConfig.from_dict([1], where="saved")


def test_bad_values_say_what_was_given_and_what_is_allowed():
    with pytest.raises(ValueError) as e:
        ToyConfig(units=0)
    assert str(e.value) == "ToyConfig got units=0; expected a positive integer (default: 8)."
    with pytest.raises(ValueError, match=r"^train got rate=1; expected a number in \[0, 1\) \(default: 0\.1\)\.$"):
        ToyConfig.create(None, "train", rate=1)
    with pytest.raises(TypeError, match=r"^train got units='3'; expected a positive integer"):
        ToyConfig.create(ToyConfig(), "train", units="3")
    with pytest.raises(TypeError, match=r"got shuffle=1; expected True or False"):
        ToyConfig(shuffle=1)
    with pytest.raises(TypeError, match=r"got units=True; expected a positive integer"):
        ToyConfig(units=True)
    with pytest.raises(ValueError, match=r"got cell='gru'; expected one of \('rnn', 'lstm'\) \(default: 'lstm'\)"):
        ToyConfig(cell="gru")
    with pytest.raises(ValueError, match=r"got column=-1; expected an integer or a string in \[0, inf\)"):
        ToyConfig(column=-1)
    with pytest.raises(ValueError, match=r"got clip=nan; expected a positive number or None"):
        ToyConfig(clip=float("nan"))
    with pytest.raises(ValueError, match=r"^fit got cell='rnn' with units=200; a vanilla RNN takes at most 100\.$"):
        ToyConfig.create(None, "fit", cell="rnn", units=200)
    with pytest.raises(TypeError, match=r"fit got unknown setting 'unit'; the settings of ToyConfig are: cell, "):
        ToyConfig.create(None, "fit", unit=3)
    with pytest.raises(TypeError, match=r"fit got config=\{'units': 3\}; expected a ToyConfig or None\."):
        ToyConfig.create({"units": 3}, "fit")


def test_declaration_mistakes_are_caught():
    with pytest.raises(ValueError, match=r"setting got interval='0\.\.1'; expected a range like '\[0, 1\)'"):
        setting(0.5, "rate", interval="0..1")

    @dataclass
    class Listy(TaskConfig):
        sizes: list = setting(None, "sizes")

    with pytest.raises(TypeError, match=r"Listy\.sizes is declared as <class 'list'>; a setting must be made with "
                                        r"setting\(\) and be a bool, int, float, str"):
        Listy()


# ---- SentimentConfig ----------------------------------------------------------------------------------------

def test_sentiment_flags_are_generated_from_the_config():
    sub = argparse.ArgumentParser().add_subparsers()
    p = sentiment.register_train(sub)
    flags = {a.dest: a for a in p._actions}
    assert set(SentimentConfig.names()) <= set(flags)
    assert set(flags) - set(SentimentConfig.names()) == {"help", "data", "out", "quiet", "distributed", "dist_timeout",
                                                         "checkpoint", "checkpoint_every", "resume"}
    args = p.parse_args(["--data", "csv:x.csv"])
    assert SentimentConfig.from_args(args) == SentimentConfig()
    args = p.parse_args(["--data", "csv:x.csv", "--model", "gru", "--text-column", "0", "--patience", "1",
                         "--validation-split", "0.1", "--ema", "0.99"])
    assert SentimentConfig.from_args(args) == SentimentConfig(model="gru", text_column=0, patience=1,
                                                              validation_split=0.1, ema=0.99)
    assert cli.TASKS["sentiment"] == "rnnlab.tasks.sentiment.cli"


def make_csv(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        y = int(rng.integers(0, 2))
        words = list(rng.choice("the a film plot was it and".split(), size=5)) + [("great" if y else "awful")]
        rows.append(f"{' '.join(rng.permutation(words))},{y}\n")
    path.write_text("text,label\n" + "".join(rows), encoding="utf-8")
    return f"csv:{path}"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("config")
    config = SentimentConfig(model="gru", pooling="max", vocab_size=30, maxlen=8, embed_dim=4, units=4, epochs=1,
                             batch_size=16, lr=0.01, test_fraction=0.25, seed=3, max_train=60, dropout=0.25)
    clf, report = sentiment.train(make_csv(root / "reviews.csv"), config, out=str(root / "m"), verbose=0)
    return config, clf, report, root / "m"


def test_saved_metadata_round_trips_into_an_equal_sentiment_config(saved):
    config, clf, report, out = saved
    meta = json.loads((out / "config.json").read_text())["metadata"]
    assert meta["config"] == config.to_dict() and SentimentConfig.from_dict(meta["config"]) == config
    assert clf.config == config and sentiment.load(out).config == config
    assert {k: report[k] for k in config.names()} == config.to_dict() and report["train_size"] == 60


def test_models_saved_before_the_config_record_still_load(saved, tmp_path):
    config, clf, _, saved_dir = saved
    out = shutil.copytree(saved_dir, tmp_path / "old")
    path = out / "config.json"
    full = json.loads(path.read_text())
    meta = full["metadata"]
    training = {k: v for k, v in meta["config"].items() if k in (
        "model", "pooling", "vocab_size", "maxlen", "embed_dim", "units", "epochs", "batch_size", "optimizer", "lr",
        "clipnorm", "dropout", "rnn_dropout", "validation_split", "patience", "seed")}         # no "ema" yet
    full["metadata"] = {"task": "sentiment", "tokenizer": meta["tokenizer"], "vocab_file": "vocab.json",
                        "maxlen": 8, "padding": "pre", "truncating": "pre", "labels": ["negative", "positive"],
                        "data": {"kind": "csv", "test_fraction": 0.25, "split_seed": 3, "text_column": "text",
                                 "label_column": "label", "delimiter": ","},
                        "training": training, "test_accuracy": 0.5}
    path.write_text(json.dumps(full))
    back = sentiment.load(out)
    assert back.config == SentimentConfig.create(config, max_train=None)     # max_train was not saved then
    assert back.info == {"data": {"kind": "csv"}, "test_accuracy": 0.5}
    texts = ["great film", "awful plot"]
    np.testing.assert_array_equal(back.predict_proba(texts), clf.predict_proba(texts))
    full["metadata"]["training"]["colour"] = "red"
    path.write_text(json.dumps(full))
    with pytest.raises(ValueError, match=r"the settings in '.*config\.json' got unknown setting 'colour'; the "
                                         r"settings of SentimentConfig are: model, pooling, "):
        sentiment.load(out)
