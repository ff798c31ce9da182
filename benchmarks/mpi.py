"""Data-parallel scaling on this machine: 1 process x 2 threads against 2 processes x 1 thread (``mpiexec -n 2``),
IMDb sentiment and the PTB language model, same global batch, same seed, same epochs.

    python benchmarks/mpi.py                                     # the short setting: 5k reviews, 1/10 of PTB
    python benchmarks/mpi.py --max-train 25000 --ptb-fraction 1 --epochs 3      # longer
    python benchmarks/mpi.py --tasks lm --ptb-fraction 0.05 --output runs/mpi.jsonl
    python benchmarks/mpi.py model --output runs/mpi.jsonl       # the 2..64-machine table from the measured runs

For each task and setting it prints seconds of training per epoch (tokenising and loading excluded),
held-out accuracy (sentiment) or validation/test perplexity (lm), and what the gradient exchange sent per
step (dense buckets, embedding rows, and what a dense-only exchange would have sent). One JSON line per run
goes to ``--output``. Every run, the one-process ones too, goes through ``rnnlab.distributed`` (an MPI world of
one), so all of them see the same data order and differ only by rounding and speed. Each run is a fresh
process (``run`` below) with the thread counts set in its environment (OMP/OpenBLAS/MKL/numba), so the BLAS
pools are sized before NumPy starts.

The PTB fraction keeps the first lines of ptb.train (and of valid/test: ``--ptb-eval-fraction``); perplexity
after a fraction of an epoch is a speed check, not Zaremba's figure.
"""
import argparse
import json
import lzma
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMDB = ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_labeled.tar.xz"
PTB = ROOT.parent / "shared" / "data" / "ptb"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def mpiexec():
    found = os.environ.get("RNNLAB_MPIEXEC") or shutil.which(
        "mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not found:
        raise SystemExit("mpiexec not found: pip install mpi4py mpich (or set RNNLAB_MPIEXEC)")
    return found


def ptb_subset(fraction, eval_fraction, folder):
    """A ptb:DIR with the first ``fraction`` of ptb.train's lines (and ``eval_fraction`` of valid/test)."""
    for split, share in (("train", fraction), ("valid", eval_fraction), ("test", eval_fraction)):
        with lzma.open(PTB / f"ptb.{split}.txt.xz", "rt", encoding="utf-8") as f:
            lines = f.readlines()
        keep = lines[:max(1, int(len(lines) * share))]
        (Path(folder) / f"ptb.{split}.txt").write_text("".join(keep), encoding="utf-8")
    return f"ptb:{folder}"


# ---- one run (inside a launched process) ------------------------------------------------------------------

def run(args):
    t0 = time.perf_counter()
    if args.task == "sentiment":
        from rnnlab.tasks import sentiment
        _, report = sentiment.train(f"imdb:{args.imdb}", max_train=args.max_train, max_test=args.max_test,
                                    epochs=args.epochs, seed=0, verbose=0, distributed=True,
                                    **json.loads(args.settings))
        epochs = report["history"]["loss"]
        result = {"seconds_per_epoch": report["train_seconds"] / len(epochs), "test_accuracy": report["test_accuracy"],
                  "train_loss": epochs[-1], "train_size": report["train_size"], "test_size": report["test_size"]}
    else:
        from rnnlab.tasks import lm
        _, report = lm.train(args.data, preset="zaremba-small", epochs=args.epochs, eval_batch_size=2, verbose=0,
                             distributed=True, **json.loads(args.settings))
        hist = report["history"]
        result = {"seconds_per_epoch": sum(r["seconds"] for r in hist) / len(hist),
                  "valid_perplexity": hist[-1]["valid_perplexity"], "train_perplexity": hist[-1]["train_perplexity"],
                  "test_perplexity": report.get("test_perplexity")}
    if report.get("rank", 0) != 0:
        return 0
    result.update(task=args.task, ranks=report.get("ranks", 1), threads=int(os.environ.get("OMP_NUM_THREADS", 0)),
                  wall_seconds=time.perf_counter() - t0, exchange=report.get("exchange"))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ---- the comparison -----------------------------------------------------------------------------------------

def launch(task, ranks, threads, data, args, **tiny):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    env.update({k: str(threads) for k in THREAD_VARIABLES})
    cmd = [sys.executable, __file__, "run", task, "--data", data, "--imdb", str(args.imdb), "--epochs",
           str(args.epochs), "--max-train", str(args.max_train), "--max-test", str(args.max_test),
           "--settings", args.settings if task == "sentiment" else args.lm_settings]
    for k, v in tiny.items():                                  # a warm-up run: smaller data
        cmd[cmd.index(f"--{k.replace('_', '-')}") + 1] = str(v)
    if ranks > 1:
        cmd = [mpiexec(), "-n", str(ranks)] + cmd
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"{task} with {ranks} process(es) failed (exit {done.returncode})")
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    result["launch_seconds"] = time.perf_counter() - t0
    return result


def compare(args):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = {"sentiment": f"imdb:{args.imdb}", "lm": ptb_subset(args.ptb_fraction, args.ptb_eval_fraction, tmp)}
        if args.warmup:                                        # numba compiles its loops once, into its disk cache
            os.makedirs(Path(tmp) / "tiny")
            tiny = ptb_subset(0.002, 0.002, Path(tmp) / "tiny")
            for task in args.tasks:
                launch(task, 1, 1, data[task] if task == "sentiment" else tiny, args, max_train=64, max_test=64)
        for task in args.tasks:
            for ranks, threads in args.configs:
                r = launch(task, ranks, threads, data[task], args)
                rows.append(r)
                ex = r.get("exchange") or {}
                metric = f"test acc {r['test_accuracy']:.4f}" if task == "sentiment" else \
                    f"valid ppl {r['valid_perplexity']:.2f}  test ppl {r['test_perplexity']:.2f}"
                sent = ""
                if ex:
                    sent = (f"{ex['bytes_per_step'] / 1e6:.3f} MB/step (dense-only "
                            f"{ex['dense_only_bytes_per_step'] / 1e6:.3f}, saved {100 * ex['saved_fraction']:.1f}%), "
                            f"exchange {ex['exchange_seconds']:.1f}s")
                print(f"{task:9s} {ranks} proc x {threads} thr: {r['seconds_per_epoch']:8.1f} s/epoch  {metric}  "
                      f"{sent}", flush=True)
                if args.output:
                    with open(args.output, "a", encoding="utf-8") as f:
                        f.write(json.dumps({**r, "setting": vars(args)}, default=str) + "\n")
    for task in args.tasks:
        runs = {(r["ranks"], r["threads"]): r["seconds_per_epoch"] for r in rows if r["task"] == task}
        if (1, 2) in runs and (2, 1) in runs:
            print(f"{task}: speed-up of 2 x 1 over 1 x 2 = {runs[1, 2] / runs[2, 1]:.2f}")
        if (1, 1) in runs and (2, 1) in runs:
            print(f"{task}: speed-up of 2 x 1 over 1 x 1 = {runs[1, 1] / runs[2, 1]:.2f}")
    return 0


# ---- the scaling model ---------------------------------------------------------------------------------------

#: link figures (latency alpha in seconds, inverse bandwidth beta in seconds per byte)
LINKS = {"10GbE (TCP)": (25e-6, 1 / 1.1e9), "100Gb InfiniBand": (2e-6, 1 / 11e9)}
#: tokens per global step (the default settings: sentiment B=64 x maxlen 200; zaremba-small B=20 x k=20)
TOKENS = {"sentiment": 64 * 200, "lm": 20 * 20}
HEAPS = 0.6                   # distinct words in k tokens ~ K k^0.6 (Heaps' law, English text)


def allreduce_seconds(n, p, alpha, beta):
    """Ring all-reduce of ``n`` bytes over ``p`` ranks: ``2(p-1) alpha + 2 (p-1)/p n beta``."""
    return 0.0 if p == 1 else 2 * (p - 1) * alpha + 2 * (p - 1) / p * n * beta


def allgather_seconds(total, p, alpha, beta):
    """Ring all-gather of ``total`` bytes in all: ``(p-1) alpha + (p-1)/p total beta``."""
    return 0.0 if p == 1 else (p - 1) * alpha + (p - 1) / p * total * beta


def scaling(measured, calibration, ranks=(1, 2, 4, 8, 16, 32, 64)):
    """The modelled step of ``p`` ranks for each task and link (see the README section "Scaling model").

    ``measured``: the 2-process run per task (bytes per step, rows gathered); ``calibration``: ``{task: (a, c,
    B)}`` from ``calibrate`` (``t(b) = a + c b``), else taken from the measured step with ``a = 0``.
    Returns rows ``(task, link, p, compute, exchange dense, exchange sparse, speed-up dense, speed-up sparse,
    bytes dense, bytes sparse)``, the speed-ups against one process on the whole batch (no exchange)."""
    rows = []
    for r in measured:
        ex = r["exchange"]
        task, steps = r["task"], ex["steps"]
        if task in calibration:
            a, c, B = calibration[task]
        else:
            B = 2 * r.get("local_batch", 32)
            a, c = 0.0, (r["seconds_per_epoch"] - ex["exchange_seconds"]) / steps / (B / 2)
        itemsize = ex["itemsize"]
        emb_dense = ex["embedding_dense_bytes_per_step"]
        dense = ex["dense_only_bytes_per_step"] - emb_dense      # the non-embedding parameters
        (V, E), = ex["embedding_shapes"] or [(0, 0)]
        k_heaps = ex["sparse_rows_per_step"] / (2 * (TOKENS[task] / 2) ** HEAPS)
        t1 = a + c * B
        for link, (alpha, beta) in LINKS.items():
            for p in ranks:
                compute = a + c * B / p
                rows_p = min(p * k_heaps * (TOKENS[task] / p) ** HEAPS, TOKENS[task], p * V)
                sparse_bytes = rows_p * (E * itemsize + 8)
                small = 0.0 if p == 1 else 3 * math.log2(p) * alpha       # counts, loss total, stop flag
                t_dense = allreduce_seconds(dense + emb_dense, p, alpha, beta) + small
                t_emb = allgather_seconds(sparse_bytes, p, alpha, beta) + (0 if p == 1 else math.log2(p) * alpha) \
                    if sparse_bytes < emb_dense else allreduce_seconds(emb_dense, p, alpha, beta)
                t_sparse = allreduce_seconds(dense, p, alpha, beta) + small + t_emb
                rows.append((task, link, p, compute, t_dense, t_sparse, t1 / (compute + t_dense),
                             t1 / (compute + t_sparse), dense + emb_dense, dense + min(sparse_bytes, emb_dense)))
    return rows


def calibrate(args):
    """Seconds of one training step (gradients + update, one thread) at batch B, B/2, ... for each task's
    network, fitted as ``t(b) = a + c b``: ``a`` is what a rank pays whatever its share (the Python time loop,
    the optimiser), ``c`` what each sample adds. Appends ``{"task", "calibration": {b: seconds}, "a", "c"}``."""
    import numpy as np

    from rnnlab import optimizers, utils
    from rnnlab.tasks import lm, sentiment
    nets = {"sentiment": (lambda: sentiment.build_model(vocab_size=20000), 64, 200, 20000, "binary_crossentropy"),
            "lm": (lambda: lm.build_model(lm.LMConfig(**lm.PRESETS["zaremba-small"]), 10000), 20, 20, 10000,
                   "sparse_categorical_crossentropy")}
    for task in args.tasks:
        make, B, T, V, loss = nets[task]
        utils.set_random_seed(0)
        net = make()
        net.compile(optimizers.Adam(1e-3) if task == "sentiment" else optimizers.SGD(1.0), loss)
        rng = np.random.default_rng(0)
        times = {}
        for b in (B, B // 2, B // 4, max(B // 8, 1)):
            x = rng.integers(1, V, size=(b, T))
            y = rng.integers(0, 2, size=(b, 1)).astype("float32") if task == "sentiment" else rng.integers(0, V, (b, T))
            best = []
            for _ in range(args.repeats):
                net.reset_states() if task == "lm" else None
                t0 = time.perf_counter()
                net.compute_gradients(x, y)
                net.apply_gradients()
                best.append(time.perf_counter() - t0)
            times[b] = min(best[1:] or best)
        bs = np.array(list(times)), np.array(list(times.values()))
        c, a = np.polyfit(bs[0], bs[1], 1)
        row = {"task": task, "calibration": times, "a": float(a), "c": float(c), "B": B}
        print(f"{task}: step seconds by batch {({k: round(v, 4) for k, v in times.items()})}  ->  a = {a:.4f} s, "
              f"c = {c * 1e3:.3f} ms/sample", flush=True)
        if args.output:
            with open(args.output, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
    return 0


def model(args):
    lines = [json.loads(line) for line in open(args.output, encoding="utf-8")]
    measured = {r["task"]: r for r in lines if r.get("ranks") == 2 and r.get("exchange")}
    calibration = {r["task"]: (r["a"], r["c"], r["B"]) for r in lines if "calibration" in r}
    for task, r in measured.items():
        ex = r["exchange"]
        per_step = ex["exchange_seconds"] / ex["steps"]
        print(f"{task}: measured exchange {per_step * 1e3:.1f} ms/step for {ex['bytes_per_step'] / 1e6:.2f} MB "
              f"(2 ranks, one machine; waits for the slower rank included)")
    print("| task | link | p | compute s/step | exchange dense | exchange sparse | bytes dense MB | bytes sparse MB "
          "| speed-up dense | speed-up sparse |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for task, link, p, comp, td, ts, sd, ss, bd, bs in scaling(measured.values(), calibration):
        print(f"| {task} | {link} | {p} | {comp:.4f} | {td:.4f} | {ts:.4f} | {bd / 1e6:.2f} | {bs / 1e6:.2f} "
              f"| {sd:.2f} | {ss:.2f} |")
    return 0


def _config(text):
    ranks, _, threads = text.partition("x")
    try:
        return int(ranks), int(threads)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PROCESSESxTHREADS such as 2x1, got {text!r}") from None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", nargs="?", default="compare", choices=("compare", "run", "model", "calibrate"),
                   help="compare: measure; model: the scaling table from --output's measured 2-process runs")
    p.add_argument("task", nargs="?", default=None, choices=("sentiment", "lm"), help="run: the task")
    p.add_argument("--tasks", nargs="+", default=["sentiment", "lm"], choices=("sentiment", "lm"))
    p.add_argument("--data", default=None, help="run: the data spec")
    p.add_argument("--imdb", default=str(IMDB))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-train", type=int, default=5000, help="sentiment: training reviews (25000: all)")
    p.add_argument("--max-test", type=int, default=5000, help="sentiment: test reviews")
    p.add_argument("--ptb-fraction", type=float, default=0.1, help="lm: share of ptb.train's lines")
    p.add_argument("--ptb-eval-fraction", type=float, default=0.1, help="lm: share of ptb.valid/test's lines")
    p.add_argument("--settings", default="{}", help="sentiment: JSON of SentimentConfig overrides")
    p.add_argument("--lm-settings", default="{}", help="lm: JSON of LMConfig overrides (over zaremba-small)")
    p.add_argument("--output", default=None, help="append one JSON line per run here")
    p.add_argument("--repeats", type=int, default=4, help="calibrate: timed steps per batch size (the best counts)")
    p.add_argument("--configs", nargs="+", type=_config, default=[(1, 2), (2, 1), (1, 1)], metavar="PxT",
                   help="processes x threads to run (default: 1x2 2x1 1x1)")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="skip the small untimed run that fills numba's compilation cache first")
    args = p.parse_args(argv)
    if args.mode == "run":
        return run(args)
    if args.mode == "model":
        return model(args)
    if args.mode == "calibrate":
        return calibrate(args)
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
