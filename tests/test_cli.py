import subprocess
import sys

import numpy as np
import pytest

from rnnlab import cli, layers, models


def test_help_via_subprocess():
    out = subprocess.run([sys.executable, "-m", "rnnlab.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("demo", "train", "predict", "evaluate", "summary"):
        assert command in out.stdout


@pytest.mark.parametrize("argv", [["demo", "--help"], ["train", "--help"], ["predict", "--help"],
                                  ["evaluate", "--help"], ["summary", "--help"]])
def test_every_subcommand_has_help(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rnnlab {argv[0]}")
    if argv[0] == "demo":
        assert "--lengths" in out and "--epochs" in out and "--seed" in out


def test_tiny_demo_prints_the_table(capsys):
    code = cli.main(["demo", "--lengths", "4", "6", "--epochs", "1", "--samples", "64", "--val-samples", "32",
                     "--units", "4", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("cell"))
    assert "T=4" in header and "T=6" in header
    for cell in ("simple_rnn", "lstm", "gru"):
        row = next(line for line in lines if line.startswith(cell))
        accs = [float(v) for v in row.split()[1::2]]
        assert len(accs) == 2 and all(0.0 <= a <= 1.0 for a in accs)
    assert "wall time:" in out


def test_demo_rejects_bad_options(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--lengths", "0"])
    assert e.value.code == 2
    assert "--lengths: expected a positive integer, got '0'" in capsys.readouterr().err


def test_generic_predict_evaluate_and_summary(tmp_path, capsys):
    model = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = np.random.default_rng(0).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    model.save(tmp_path / "m")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    assert cli.main(["predict", str(tmp_path / "m"), "--x", str(tmp_path / "x.npy"),
                     "--output", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(x))
    capsys.readouterr()
    argv = ["evaluate", str(tmp_path / "m"), "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    assert cli.main(argv) == 0
    loss, acc = model.evaluate(x, y, verbose=0)
    assert f"loss: {loss:.4f} - accuracy: {acc:.4f}" in capsys.readouterr().out
    assert cli.main(["summary", str(tmp_path / "m")]) == 0
    assert "Total params: 8" in capsys.readouterr().out


def test_predict_dispatches_on_the_saved_task(tmp_path, capsys, monkeypatch):
    import types
    calls = []
    fake = types.ModuleType("fake_task")
    fake.cli_predict = lambda model_dir, argv: calls.append((model_dir, argv)) or 0
    monkeypatch.setitem(sys.modules, "fake_task", fake)
    monkeypatch.setitem(cli.TASKS, "fake", "fake_task")
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "m", metadata={"task": "fake"})
    assert cli.main(["predict", str(tmp_path / "m"), "some text", "--flag"]) == 0
    assert calls == [(str(tmp_path / "m"), ["some text", "--flag"])]
    assert cli.main(["evaluate", str(tmp_path / "m")]) == 1
    assert "Task 'fake' (module fake_task) does not provide 'rnnlab evaluate'" in capsys.readouterr().err


def test_cli_errors_are_clear(tmp_path, capsys):
    assert cli.main(["predict", str(tmp_path / "missing"), "--x", "x.npy"]) == 1
    assert "No model found at" in capsys.readouterr().err
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "m", metadata={"task": "nonexistent"})
    assert cli.main(["predict", str(tmp_path / "m")]) == 1
    assert "saved by task 'nonexistent', which this rnnlab does not know" in capsys.readouterr().err


def test_train_tasks_plug_in_through_register_train(monkeypatch, capsys):
    import types
    fake = types.ModuleType("fake_train_task")

    def register_train(subparsers):
        p = subparsers.add_parser("fake", help="a fake task")
        p.add_argument("--n", type=int, default=1)
        p.set_defaults(func=lambda args: print(f"trained fake n={args.n}") or 0)

    fake.register_train = register_train
    monkeypatch.setitem(sys.modules, "fake_train_task", fake)
    monkeypatch.setitem(cli.TASKS, "fake", "fake_train_task")
    assert cli.main(["train", "fake", "--n", "3"]) == 0
    assert "trained fake n=3" in capsys.readouterr().out
    assert cli.main(["train"]) == 2
    assert "fake" in capsys.readouterr().out


def test_demo_task_data_and_that_gated_cells_learn_it_at_short_length():
    from rnnlab.tasks import demo
    x, y = demo.make_first_token_task(5, 7, 4, np.random.default_rng(0))
    assert x.shape == (5, 7, 5) and y.shape == (5, 7)
    np.testing.assert_array_equal(x[..., :4].sum(-1), 1)                 # one token per step
    np.testing.assert_array_equal(x[:, :, 4], [[1, 0, 0, 0, 0, 0, 0]] * 5)  # the cue marks step 0
    np.testing.assert_array_equal(y, np.repeat(x[:, :1, :4].argmax(-1), 7, axis=1))
    results = demo.run_demo(lengths=(8,), cells=("lstm", "gru"), units=16, samples=300, val_samples=100,
                            epochs=6, verbose=0)
    assert results[("lstm", 8)]["accuracy"] > 0.95 and results[("gru", 8)]["accuracy"] > 0.95
    with pytest.raises(ValueError, match="Unknown cell 'rnn'"):
        demo.run_demo(cells=("rnn",), verbose=0)
