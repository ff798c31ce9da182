"""Exact resume (issue 17, part 3): a checkpoint holds the weights, the optimiser state (slots, EMA, step count,
hence the schedule's position), every random generator's state, the position in the run and the epoch's data
order, so a run stopped anywhere and resumed ends with the weights of the uninterrupted run, bit for bit:
in-process, after SIGKILLs at random moments, after SIGTERM/SIGINT (which checkpoint and exit 143/130), and
through ``rnnlab train sentiment --resume``."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnnlab import callbacks, layers, models, optimizers, utils
from rnnlab.models import checkpoint as ckpt_mod

WORKER = Path(__file__).with_name("resume_worker.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}


def small_model(schedule=False):
    utils.set_random_seed(0)
    lr = (lambda step: 0.01 / (1 + step)) if schedule else 0.01
    m = models.Sequential([layers.Embedding(30, 6), layers.LSTM(8, dropout=0.25, recurrent_dropout=0.1, seed=4),
                           layers.Dropout(0.3), layers.Dropout(0.2, seed=9), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizers.Adam(lr, use_ema=True, ema_momentum=0.9), "binary_crossentropy", ["accuracy"])
    return m


def small_data():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 30, size=(50, 9))
    return x, (x[:, -1] > 15).astype(np.float64)


class StopAt(callbacks.Callback):
    """Simulates a crash: raises after global batch ``k`` (counted from the start of this fit call)."""

    def __init__(self, k):
        super().__init__()
        self.k, self.seen = k, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.k:
            raise RuntimeError("crash")


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("every, stops", [(3, [5, 4, 9]), (None, [8])])
@pytest.mark.parametrize("schedule", [False, True])
def test_in_process_resume_is_bit_identical(tmp_path, every, stops, schedule):
    x, y = small_data()
    ref = small_model(schedule)
    h_ref = ref.fit(x, y, batch_size=8, epochs=3, verbose=0)
    d = tmp_path / "ckpt"
    for k in stops:                                   # crash, then resume in a "new process" (fresh model)
        m = small_model(schedule)
        if ckpt_mod.has_checkpoint(d):
            utils.set_random_seed(99)                 # whatever the global generator holds is replaced
        with pytest.raises(RuntimeError, match="crash"):
            m.fit(x, y, batch_size=8, epochs=3, verbose=0, checkpoint=d, checkpoint_every=every, resume=True,
                  callbacks=[StopAt(k)])
    m = small_model(schedule)
    h = m.fit(x, y, batch_size=8, epochs=3, verbose=0, checkpoint=d, checkpoint_every=every, resume=True)
    assert same(ref.get_weights(), m.get_weights())
    assert h.history == h_ref.history and h.epoch == [0, 1, 2]
    assert models.load_model(d).count_params() == ref.count_params()     # a checkpoint is a model directory


def test_checkpoint_holds_state_and_refuses_other_data(tmp_path):
    x, y = small_data()
    m = small_model()
    m.fit(x, y, batch_size=8, epochs=1, verbose=0, checkpoint=tmp_path / "c", checkpoint_every=2)
    names = json.loads((tmp_path / "c" / "config.json").read_text())["files"]
    assert {"training_state.json", "training_state.safetensors", "model.safetensors"} <= set(names)
    state, tensors, _, _ = ckpt_mod.read_checkpoint(tmp_path / "c")
    assert (state["epoch"], state["batch"]) == (1, 0) and state["optimizer"]["iterations"] == 7
    assert any(k.startswith("slot/") for k in tensors) and any(k.startswith("ema/") for k in tensors)
    assert state["rng"]["global"]["bit_generator"] == "PCG64" and len(state["rng"]["layers"]) == 2
    with pytest.raises(ValueError, match="batch_size"):
        small_model().fit(x, y, batch_size=4, epochs=2, verbose=0, checkpoint=tmp_path / "c", resume=True)
    with pytest.raises(ValueError, match="checkpoint=DIR"):
        small_model().fit(x, y, verbose=0, resume=True)


def _worker(out, ckpt=None, sleep=None):
    env = dict(ENV, RESUME_WORKER_SLEEP=str(sleep)) if sleep else ENV
    args = [sys.executable, str(WORKER), str(out)] + ([str(ckpt)] if ckpt else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _weights(path):
    with np.load(path, allow_pickle=False) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def _manifest(d):
    try:
        return (d / "config.json").read_bytes()
    except OSError:
        return None


def _wait_for_new_checkpoint(proc, d, before, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        now = _manifest(d)
        if now is not None and now != before:
            return now
        if proc.poll() is not None:
            raise AssertionError(f"the worker ended (rc {proc.returncode}) before a new checkpoint: "
                                 f"{proc.stderr.read()}")
        time.sleep(0.01)
    raise AssertionError("no new checkpoint in time")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.npz"
    p = _worker(out)
    assert p.wait(120) == 0, p.stderr.read()
    return _weights(out)


def test_sigkill_three_times_then_resume_is_bit_identical(tmp_path, reference):
    d, out, rnd = tmp_path / "ckpt", tmp_path / "out.npz", random.Random(1234)
    before = None
    for _ in range(3):
        p = _worker(out, d, sleep=0.03)
        before = _wait_for_new_checkpoint(p, d, before)      # at least one checkpoint of this run
        time.sleep(rnd.uniform(0.0, 0.15))                    # then a random moment, maybe mid-save
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        assert p.returncode == -signal.SIGKILL
        before = _manifest(d)
    p = _worker(out, d)
    assert p.wait(120) == 0, p.stderr.read()
    assert same(reference, _weights(out))


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_sigint_checkpoint_and_exit(tmp_path, reference, sig, code):
    d, out = tmp_path / "ckpt", tmp_path / "out.npz"
    p = _worker(out, d, sleep=0.03)
    _wait_for_new_checkpoint(p, d, None)
    p.send_signal(sig)
    assert p.wait(60) == code
    err = p.stderr.read()
    assert signal.Signals(sig).name in err and "resume=True" in err and "Traceback" not in err
    assert not out.exists() and ckpt_mod.has_checkpoint(d)
    p = _worker(out, d)
    assert p.wait(120) == 0, p.stderr.read()
    assert same(reference, _weights(out))


# ---- the sentiment command line -------------------------------------------------------------------------------

def test_sentiment_cli_resume_after_sigterm_and_crash(tmp_path, monkeypatch, capsys):
    from test_tasks_sentiment import make_texts

    from rnnlab import cli
    from rnnlab.models import trainer
    texts, labels = make_texts(120, seed=0)
    data = tmp_path / "reviews.csv"
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels)), encoding="utf-8")
    flags = ["train", "sentiment", "--data", f"csv:{data}", "--vocab-size", "40", "--maxlen", "12", "--embed-dim",
             "6", "--units", "6", "--epochs", "3", "--batch-size", "16", "--dropout", "0.3", "--rnn-dropout", "0.2",
             "--ema", "0.9", "--quiet"]
    assert cli.main(flags + ["--out", str(tmp_path / "ref")]) == 0
    out = tmp_path / "m"
    run = flags + ["--out", str(out), "--checkpoint-every", "4"]
    real_step, calls = trainer.Trainer._train_step, []

    def step(self, *a, **k):                      # the 5th step gets SIGTERM, the 3rd of the next run crashes
        calls.append(1)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        if len(calls) == 5 + 3:
            raise MemoryError
        return real_step(self, *a, **k)
    monkeypatch.setattr(trainer.Trainer, "_train_step", step)
    assert cli.main(run) == 143
    err = capsys.readouterr().err
    assert "SIGTERM" in err and "--resume" in err and "epoch 0, batch 5" in err
    assert cli.main(run + ["--resume"]) == 1 and "out of memory" in capsys.readouterr().err
    assert cli.main(run) == 1 and "resume=True" in capsys.readouterr().err     # not overwritten silently
    assert cli.main(run + ["--resume", "--units", "5"]) == 1 and "other settings (['units'])" in \
        capsys.readouterr().err
    assert cli.main(run + ["--resume"]) == 0
    assert not (tmp_path / "m.checkpoint").exists()
    assert same(models.load_model(tmp_path / "ref").get_weights(), models.load_model(out).get_weights())


# ---- the language-model task (epoch checkpoints) --------------------------------------------------------------

def test_lm_resume_with_dropout_is_bit_identical(tmp_path):
    from rnnlab.tasks import lm
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat .\na dog ran in the park .\n" * 20, encoding="utf-8")
    small = dict(units=8, layers=1, num_steps=5, batch_size=3, optimizer="adam", lr=0.02, decay_after=100,
                 init_scale=None, valid_fraction=0.2, seed=0, dropout=0.3, verbose=0)
    ref, _ = lm.train(f"text:{corpus}", out=str(tmp_path / "ref"), epochs=3, **small)
    lm.train(f"text:{corpus}", out=str(tmp_path / "run"), epochs=2, **small)      # "killed" after epoch 2
    stopped = lm.load(tmp_path / "run")
    stopped.config.epochs = 3
    stopped.save(tmp_path / "run")
    resumed, _ = lm.train(f"text:{corpus}", out=str(tmp_path / "run"), resume=True, verbose=0)
    assert same(ref.model.get_weights(), resumed.model.get_weights())


def test_stateful_layers_resume_with_their_carried_states(tmp_path):
    def stateful():
        utils.set_random_seed(1)
        m = models.Sequential([layers.Input((5, 3), batch_size=6), layers.GRU(4, stateful=True, dropout=0.2, seed=2),
                               layers.Dense(1)])
        m.compile("rmsprop", "mse")
        return m
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(36, 5, 3)), rng.normal(size=(36, 1))
    ref = stateful()
    ref.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0)
    m = stateful()
    with pytest.raises(RuntimeError, match="crash"):
        m.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0, checkpoint=tmp_path / "c", checkpoint_every=4,
              callbacks=[StopAt(6)])
    assert ckpt_mod.read_checkpoint(tmp_path / "c")[0]["carried"] == {"0": 1}       # the GRU carries one state
    m = stateful()
    m.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0, checkpoint=tmp_path / "c", resume=True)
    assert same(ref.get_weights(), m.get_weights())


def test_lm_cli_sigterm_exits_143_and_resumes_exactly(tmp_path, monkeypatch, capsys):
    from rnnlab import cli
    from rnnlab.models import trainer
    from rnnlab.tasks import lm
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat .\na dog ran in the park .\n" * 20, encoding="utf-8")
    flags = ["train", "lm", "--data", f"text:{corpus}", "--units", "8", "--layers", "1", "--num-steps", "5",
             "--batch-size", "3", "--epochs", "3", "--optimizer", "adam", "--lr", "0.02", "--decay-after", "100",
             "--init-scale", "none", "--valid-fraction", "0.2", "--dropout", "0.3", "--quiet"]
    assert cli.main(flags + ["--out", str(tmp_path / "ref")]) == 0
    real, calls = trainer.Trainer.compute_gradients, []

    def step(self, *a, **k):                      # SIGTERM during the second epoch
        calls.append(1)
        if len(calls) == 20:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(self, *a, **k)
    monkeypatch.setattr(trainer.Trainer, "compute_gradients", step)
    out = tmp_path / "m"
    assert cli.main(flags + ["--out", str(out)]) == 143
    err = capsys.readouterr().err
    resume = f"rnnlab train lm --data text:{corpus} --out {out} --resume"
    assert "SIGTERM" in err and resume in err and lm.load(out).info["epoch"] == 1
    assert cli.main(resume.split()[1:] + ["--quiet"]) == 0
    assert same(lm.load(tmp_path / "ref").model.get_weights(), lm.load(out).model.get_weights())
