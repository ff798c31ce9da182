"""A model directory is one unit (issue 17, part 4): a saver killed with SIGKILL at random instants always leaves a
directory that loads as the old or the new model, never a mix.

Each round forks a child process that saves versions k, k+1, ... of a small model into the same directory in a
loop (every file of version k, weights, vocabulary and history, says k); the parent kills it with SIGKILL after a
random delay, then loads the directory and checks that every file belongs to one version: the last one the child
finished (old) or the one it was writing (new). Forking keeps the rounds fast (no new interpreter per kill).
"""
import os
import random
import signal
import time

import numpy as np
import pytest

from rnnlab import layers, models
from rnnlab.models import saving
from rnnlab.tasks.sentiment import SentimentClassifier
from rnnlab.text import Vocabulary

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")

KILLS = 60                # per kind of directory
FALLBACK_KILLS = 20       # with the two-rename fallback (no RENAME_EXCHANGE)


def network():
    m = models.Sequential([layers.Embedding(50, 8, mask_zero=True), layers.LSTM(8),
                           layers.Dense(1, activation="sigmoid")])
    m.build((None, 6))
    return m


def set_version(model, k):
    model.set_weights([np.full(w.shape, k + j / 8, dtype=w.dtype) for j, w in enumerate(model.get_weights())])


def version_of(model):
    """The version k every weight says, or an AssertionError when they disagree (a mix of saves)."""
    ks = {float(w.flat[0]) - j / 8 for j, w in enumerate(model.get_weights())}
    assert len(ks) == 1, f"weights of different versions {sorted(ks)}"
    k = ks.pop()
    for j, w in enumerate(model.get_weights()):
        assert np.all(w == np.float32(k + j / 8)), "a weight array mixes versions"
    return int(round(k))


def save_plain(model, path, k):
    set_version(model, k)
    model.save(path, metadata={"version": k})


def load_plain(path):
    model = models.load_model(path)
    k = version_of(model)
    assert saving.load_metadata(path)["version"] == k
    return k


def save_task(model, path, k):
    set_version(model, k)
    clf = SentimentClassifier(model, "whitespace", Vocabulary([f"v{k}", "a", "b"]), maxlen=6, info={"version": k})
    clf.save(path, extra_files={"history.csv": f"epoch,version\n0,{k}\n" * 50})


def load_task(path):
    clf = SentimentClassifier.load(path)
    k = version_of(clf.model)
    assert clf.vocab.tokens[2] == f"v{k}" and clf.info["version"] == k
    assert (path / "history.csv").read_text() == f"epoch,version\n0,{k}\n" * 50
    return k


def saver(save, path, first, fd, exchange):
    """The child: save versions first, first+1, ... forever, writing each finished k to the pipe ``fd``."""
    try:
        if not exchange:
            saving._exchange = lambda a, b: False
        model = network()
        k = first
        while True:
            save(model, path, k)
            os.write(fd, f"{k}\n".encode())
            k += 1
    finally:
        os._exit(0)


def kill_rounds(tmp_path, save, load, kills, exchange=True, seed=0):
    """Run ``kills`` rounds; returns {"old": n, "new": n} (loaded version = last finished / the one in flight)."""
    path = tmp_path / "model"
    model = network()
    save(model, path, 0)
    last_done, outcomes, rng = 0, {"old": 0, "new": 0}, random.Random(seed)
    t0 = time.perf_counter()
    save(model, path, 0)
    per_save = time.perf_counter() - t0
    for _ in range(kills):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                                         # pragma: no cover (the child)
            os.close(r)
            saver(save, path, last_done + 1, w, exchange)
        os.close(w)
        time.sleep(rng.uniform(0.0, 4 * per_save))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(r) as f:
            done = [int(line) for line in f.read().split()]
        last_done = done[-1] if done else last_done
        k = load(path)
        assert k in (last_done, last_done + 1), f"loaded version {k}, last finished {last_done}"
        outcomes["old" if k == last_done else "new"] += 1
        last_done = k                                        # the next child goes on from what is there
    save(model, path, last_done + 1)                         # a later save cleans up what the kills left
    assert load(path) == last_done + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"], "temporary siblings left behind"
    return outcomes


@pytest.mark.parametrize("kind", ["plain", "task"])
def test_sigkill_during_save_leaves_old_or_new(tmp_path, kind, capsys):
    save, load = (save_plain, load_plain) if kind == "plain" else (save_task, load_task)
    outcomes = kill_rounds(tmp_path, save, load, KILLS, seed=1 if kind == "plain" else 2)
    assert sum(outcomes.values()) == KILLS
    with capsys.disabled():
        print(f"\n[atomic save, {kind}] {KILLS} SIGKILLs: loaded the old version {outcomes['old']} times, "
              f"the new one {outcomes['new']} times, a mix 0 times")


def test_sigkill_with_the_two_rename_fallback(tmp_path, capsys):
    """Where the file system cannot exchange directories, a kill between the two renames is repaired on load."""
    outcomes = kill_rounds(tmp_path, save_plain, load_plain, FALLBACK_KILLS, exchange=False, seed=3)
    assert sum(outcomes.values()) == FALLBACK_KILLS
    with capsys.disabled():
        print(f"\n[atomic save, fallback] {FALLBACK_KILLS} SIGKILLs: old {outcomes['old']}, new {outcomes['new']}")


def test_crash_between_the_fallback_renames_is_recovered(tmp_path, monkeypatch):
    model = network()
    save_plain(model, tmp_path / "m", 1)
    monkeypatch.setattr(saving, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        real_rename(src, dst)
        if ".rnnlab-old-" in str(dst):
            raise KeyboardInterrupt("killed between the renames (simulated)")

    monkeypatch.setattr(saving.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        save_plain(model, tmp_path / "m", 2)
    monkeypatch.setattr(saving.os, "rename", real_rename)
    assert not (tmp_path / "m").exists()
    assert load_plain(tmp_path / "m") == 1                  # the old complete directory is put back


def test_the_manifest_covers_every_file(tmp_path):
    model = network()
    save_task(model, tmp_path / "m", 3)
    import json
    files = json.loads((tmp_path / "m" / "config.json").read_text())["files"]
    assert sorted(files) == ["history.csv", "model.safetensors", "vocab.json"]
    (tmp_path / "m" / "vocab.json").write_text((tmp_path / "m" / "vocab.json").read_text().replace("v3", "v4"))
    with pytest.raises(ValueError, match=r"vocab.json' is not the file that .*config.json' was saved with "
                                         r"\(SHA-256 differs\)"):
        models.load_model(tmp_path / "m")
    (tmp_path / "m" / "history.csv").unlink()
    save_task(model, tmp_path / "m", 4)                      # a re-save makes the unit whole again
    assert load_task(tmp_path / "m") == 4
    (tmp_path / "m" / "history.csv").unlink()
    with pytest.raises(ValueError, match=r"history.csv' is missing, but .*config.json' lists it"):
        models.load_model(tmp_path / "m")


def test_run_artifacts_join_the_unit(tmp_path):
    from rnnlab.artifacts import write_run_artifacts
    model = network()
    save_plain(model, tmp_path / "m", 5)
    write_run_artifacts(tmp_path / "m", {"loss": [1.0, 0.5]}, {"units": 8}, plot=False)
    assert load_plain(tmp_path / "m") == 5                   # the manifest was updated with the new files
    import json
    files = json.loads((tmp_path / "m" / "config.json").read_text())["files"]
    assert {"history.csv", "history.json", "training_config.json"} <= set(files)


def test_nested_models_in_one_unit(tmp_path):
    """A task keeping several models in one directory renders them with model_files and saves them as one unit."""
    outer, member = network(), network()
    set_version(outer, 7)
    set_version(member, 8)
    nested = {f"members/1/{name}": data for name, data in saving.model_files(member, {"member": 1}).items()}
    outer.save(tmp_path / "m", extra_files=nested)
    assert load_plain_version(tmp_path / "m") == 7
    assert version_of(models.load_model(tmp_path / "m" / "members" / "1")) == 8
    assert saving.load_metadata(tmp_path / "m" / "members" / "1") == {"member": 1}


def load_plain_version(path):
    return version_of(models.load_model(path))
