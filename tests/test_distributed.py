"""Data-parallel training over MPI (``rnnlab.distributed``).

The tests that launch ``mpiexec`` skip unless mpi4py imports and an ``mpiexec`` is found: ``$RNNLAB_MPIEXEC``,
else the one beside the Python interpreter (where the ``mpich`` wheel installs it), else ``mpiexec`` on PATH.
Install with ``pip install 'rnnlab[mpi]'`` (mpi4py and the mpich wheel).
"""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rnnlab import backend, distributed
from rnnlab.distributed import comm as dcomm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dist_worker  # noqa: E402


def find_mpiexec():
    given = os.environ.get("RNNLAB_MPIEXEC")
    if given:
        return given
    return shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


MPIEXEC = find_mpiexec()
needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                               reason="needs mpi4py and mpiexec: pip install mpi4py mpich")


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    env.pop(dcomm.SWITCH, None)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def mpirun(n, args, timeout=120, **kwargs):
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *args], env=_env(), capture_output=True,
                          text=True, timeout=timeout, **kwargs)


@pytest.fixture
def float64():
    old = backend.floatx()
    yield
    backend.set_floatx(old)


# ---- without MPI ----------------------------------------------------------------------------------------

def test_detection_reads_the_launcher_environment_only():
    assert not dcomm.launched_by_mpi({})
    assert not dcomm.launched_by_mpi({"PMI_SIZE": "1"})
    assert dcomm.launched_by_mpi({"PMI_SIZE": "2"})
    assert dcomm.launched_by_mpi({"OMPI_COMM_WORLD_SIZE": "4"})
    assert not dcomm.launched_by_mpi({"PMI_SIZE": "4", "RNNLAB_DISTRIBUTED": "0"})
    assert dcomm.launched_by_mpi({"RNNLAB_DISTRIBUTED": "1"})
    assert isinstance(dcomm.init(), dcomm.LocalComm)            # not under mpiexec here
    assert dcomm.for_task() is None


def test_single_process_path_does_not_import_mpi4py():
    code = ("import sys, rnnlab.tasks.sentiment, rnnlab.tasks.lm, rnnlab.cli; rnnlab.cli.build_parser(); "
            "from rnnlab.distributed.comm import for_task; assert for_task() is None; "
            "print('mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_shards_are_contiguous_and_cover_the_batch():
    for n in (0, 1, 5, 17, 20):
        for size in (1, 2, 3, 8):
            parts = [dcomm.shard(n, size, r) for r in range(size)]
            got = np.concatenate([np.arange(n)[p] for p in parts])
            assert got.tolist() == list(range(n))
            assert max(p.stop - p.start for p in parts) - min(p.stop - p.start for p in parts) <= 1


def test_one_process_distributed_fit_equals_model_fit(float64):
    x, y = dist_worker.make_data()
    ref = dist_worker.make_model()
    ref_hist = ref.fit(x, y, batch_size=dist_worker.BATCH, epochs=2, verbose=0, validation_split=0.1, shuffle=False)
    model = dist_worker.make_model()
    hist = distributed.fit(model, x, y, batch_size=dist_worker.BATCH, epochs=2, verbose=0, validation_split=0.1,
                           shuffle=False, comm=dcomm.LocalComm())
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for k, v in ref_hist.history.items():
        np.testing.assert_allclose(hist.history[k], v, rtol=1e-12)
    assert model.gradient_hooks == []                          # the hook is removed after fit


def test_sparse_exchange_counts_bytes_and_matches_dense(float64):
    from rnnlab import layers, models, optimizers, utils
    backend.set_floatx("float64")

    def run(sparse):
        utils.set_random_seed(3)
        model = models.Sequential([layers.Embedding(2000, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
        model.build((None, 5))
        model.compile(optimizers.SGD(0.1), "binary_crossentropy")
        x = np.random.default_rng(0).integers(0, 2000, size=(64, 5))
        y = (x[:, 0] % 2).astype(float)
        hist = distributed.fit(model, x, y, batch_size=16, epochs=1, verbose=0, shuffle=False,
                               comm=dcomm.LocalComm(), sparse_embeddings=sparse)
        return model.get_weights(), hist.exchange

    (w_sparse, s), (w_dense, d) = run(True), run(False)
    for a, b in zip(w_sparse, w_dense):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
    assert d["saved_fraction"] == 0.0 and d["bytes_per_step"] == d["dense_only_bytes_per_step"]
    assert s["dense_only_bytes_per_step"] == d["bytes_per_step"]
    assert s["sparse_rows_per_step"] <= 16 * 5 and s["saved_fraction"] > 0.8


def test_errors_say_what_to_do():
    with pytest.raises(ValueError, match="bucket_bytes"):
        distributed.GradientExchange(None, dcomm.LocalComm(), bucket_bytes=10)
    from rnnlab import layers, models
    unbuilt = models.Sequential([layers.Dense(1)])
    with pytest.raises(ValueError, match="not built"):
        distributed.DataParallel(dcomm.LocalComm()).attach(unbuilt)


def test_the_watchdog_aborts_a_rank_that_stops_making_progress(capsys):
    class TwoRanks(dcomm._Group):
        rank, size, aborted = 1, 2, None

        def abort(self, code=1):
            self.aborted = code

    group = TwoRanks()
    group.start_watchdog(0.3, "testing")
    for _ in range(5):                                          # beats keep it quiet
        time.sleep(0.1)
        group.beat()
    assert group.aborted is None
    time.sleep(1.0)
    group.stop_watchdog()
    assert group.aborted == 3
    assert "rank 1 of 2 made no progress" in capsys.readouterr().err


# ---- under mpiexec --------------------------------------------------------------------------------------

@needs_mpi
def test_two_ranks_give_the_weights_of_one_process(tmp_path, float64):
    """mpiexec -n 2, 50 steps (10 per epoch, the last of 17 samples split 9 + 8), float64: the weights of one
    process on the whole global batch (``model.fit``, data in order) and of the one-process distributed loop
    (shuffled from one seed), to 1e-10; both ranks bit-identical."""
    out0, out1 = tmp_path / "rank0.npz", tmp_path / "rank1.npz"
    run = mpirun(2, [os.path.join(HERE, "dist_worker.py"), "equiv", str(out0), str(out1)])
    assert run.returncode == 0, run.stderr[-3000:]
    got, other = np.load(out0), np.load(out1)
    for k in got.files:
        np.testing.assert_array_equal(got[k], other[k], err_msg=f"ranks differ in {k}")
    x, y = dist_worker.make_data()
    fit_kw = dict(batch_size=dist_worker.BATCH, epochs=dist_worker.EPOCHS, verbose=0, validation_split=dist_worker.VAL)
    ordered = dist_worker.make_model()
    hist = ordered.fit(x, y, shuffle=False, **fit_kw)
    assert ordered.optimizer.iterations == 50
    shuffled = dist_worker.make_model()
    distributed.fit(shuffled, x, y, shuffle=True, seed=7, comm=dcomm.LocalComm(), **fit_kw)
    for name, ref in (("ordered", ordered), ("shuffled", shuffled)):
        for i, w in enumerate(ref.get_weights()):
            np.testing.assert_allclose(got[f"{name}_w{i}"], w, rtol=0, atol=1e-10, err_msg=f"{name} weight {i}")
    for k, v in hist.history.items():                           # logs averaged over ranks, validation split
        np.testing.assert_allclose(got[f"ordered_h_{k}"], v, rtol=1e-10)


@needs_mpi
def test_an_exception_on_one_rank_ends_the_job_with_its_message():
    t0 = time.monotonic()
    run = mpirun(2, [os.path.join(HERE, "dist_worker.py"), "raise"], timeout=90)
    assert time.monotonic() - t0 < 60
    assert run.returncode != 0
    assert "rank 1 of 2 failed" in run.stderr and "injected failure on purpose" in run.stderr


def _checkpoint_epoch(out):
    """The epoch of the checkpoint in ``out`` (0 while there is none yet)."""
    from rnnlab.models.saving import load_metadata
    try:
        return int(load_metadata(out).get("epoch", 0))
    except Exception:                   # not written yet, or being replaced
        return 0


def _children(pid):
    """Every descendant process id of ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        frontier += kids
    return found


def _rank_of(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return None
    return int(env[b"PMI_RANK"]) if b"PMI_RANK" in env and b"rnnlab.cli" in cmd else None


@needs_mpi
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the rank's process in /proc")
def test_a_killed_rank_ends_the_job_and_the_run_resumes(tmp_path):
    """SIGKILL one rank of ``mpiexec -n 2 rnnlab train lm`` after its first checkpoint: the job ends within 60 s
    with a clear message, the checkpoint loads, and the run resumes from it on one process."""
    text = tmp_path / "corpus.txt"
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    text.write_text("\n".join(" ".join(rng.choice(words, size=12)) for _ in range(400)) + "\n")
    out = tmp_path / "run"
    args = ["-m", "rnnlab.cli", "train", "lm", "--data", f"text:{text}", "--units", "16", "--layers", "1",
            "--epochs", "6", "--batch-size", "4", "--num-steps", "10", "--eval-batch-size", "2", "--quiet",
            "--optimizer", "sgd", "--out", str(out)]
    job = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, *args], env=_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _checkpoint_epoch(out) < 1 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.poll() is None, "the job ended before its first checkpoint: " + job.communicate()[1][-2000:]
    victims = [p for p in _children(job.pid) if _rank_of(p) == 1]
    assert victims, "rank 1's process was not found"
    os.kill(victims[0], signal.SIGKILL)
    t0 = time.monotonic()
    try:
        stdout, err = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        pytest.fail("the job did not end within 60 s of a rank's SIGKILL")
    assert time.monotonic() - t0 < 60
    assert job.returncode != 0
    said = stdout + err                                         # MPICH's launcher reports on stdout
    assert "KILLED BY SIGNAL: 9" in said or "Killed (signal 9)" in said, said[-2000:]

    from rnnlab.tasks import lm
    saved = lm.load(out)                                        # the last checkpoint is whole
    done = saved.info["epoch"]
    assert 1 <= done < 6
    resumed = subprocess.run([sys.executable, "-m", "rnnlab.cli", "train", "lm", "--data", f"text:{text}",
                              "--out", str(out), "--resume", "--quiet"], env=_env(), capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    meta = lm.load(out).info
    assert meta["epoch"] == 6 and [r["epoch"] for r in meta["history"]] == list(range(1, 7))
