"""Resident memory over a long training run of the sentiment model (issue 17, "long runs").

Trains the IMDb-shaped sentiment network (Embedding(20000, 64, mask_zero) -> LSTM(64) -> mean pooling ->
Dense(1, sigmoid), maxlen 200, batch 32, Adam) for ``--steps`` steps with ``train_on_batch`` on synthetic
token ids (IMDb-like lengths: each review is 20..200 real tokens, pre-padded with 0), and reads the resident
set size from ``/proc/self/statm`` every ``--every`` steps. Memory must stay flat once warm (the first
``--warmup`` steps let the allocator, numba's compiled loops and every reused buffer reach their size):

    growth = (max RSS after warm-up - RSS at the end of warm-up) / RSS at the end of warm-up

Usage::

    python benchmarks/memory.py                       # 3000 steps, prints the curve and the growth
    python benchmarks/memory.py --steps 600 --limit 5 # exit 1 if growth >= 5 %

Linux only (``/proc``). Synthetic data keeps the run independent of ``../shared/data``: memory depends on
the shapes, not on which words the ids stand for.
"""
import argparse
import os
import sys
import time

import numpy as np


def rss_mib():
    """Resident set size of this process in MiB, from ``/proc/self/statm`` (second field, in pages)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic_batch(rng, batch, maxlen, vocab):
    """IMDb-shaped ids: each row has 20..maxlen real tokens in [2, vocab), pre-padded with 0; 0/1 labels."""
    x = np.zeros((batch, maxlen), dtype=np.int32)
    lengths = rng.integers(20, maxlen + 1, size=batch)
    for i, n in enumerate(lengths):
        x[i, maxlen - n:] = rng.integers(2, vocab, size=n)
    return x, rng.integers(0, 2, size=(batch, 1)).astype(np.float32)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--every", type=int, default=100, help="read RSS every this many steps")
    p.add_argument("--warmup", type=int, default=300, help="steps before the baseline is taken")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--maxlen", type=int, default=200)
    p.add_argument("--vocab", type=int, default=20000)
    p.add_argument("--limit", type=float, default=None, help="exit 1 when the growth in %% is at least this")
    args = p.parse_args(argv)
    if min(args.steps, args.every, args.batch_size, args.maxlen) <= 0 or args.vocab < 3:
        p.error("--steps, --every, --batch-size and --maxlen must be positive and --vocab at least 3")
    if not 0 <= args.warmup < args.steps:
        p.error(f"--warmup must be in [0, --steps), got {args.warmup}")

    from rnnlab.tasks.sentiment import build_model
    model = build_model("lstm", vocab_size=args.vocab, maxlen=args.maxlen, pooling="mean")
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    rng = np.random.default_rng(0)
    batches = [synthetic_batch(rng, args.batch_size, args.maxlen, args.vocab) for _ in range(50)]
    curve, baseline, t0 = [], None, time.perf_counter()
    print(f"{'step':>6} {'RSS MiB':>9} {'s/step':>7}")
    for step in range(1, args.steps + 1):
        x, y = batches[step % len(batches)]
        model.train_on_batch(x, y)
        if step == args.warmup or (baseline is None and args.warmup == 0):
            baseline = rss_mib()
        if step % args.every == 0:
            rss = rss_mib()
            curve.append((step, rss))
            print(f"{step:>6} {rss:>9.1f} {(time.perf_counter() - t0) / step:>7.3f}", flush=True)
    after = [r for s, r in curve if s > args.warmup] or [rss_mib()]
    growth = 100.0 * (max(after) - baseline) / baseline
    print(f"RSS after {args.warmup} warm-up steps: {baseline:.1f} MiB; max after: {max(after):.1f} MiB; "
          f"end: {after[-1]:.1f} MiB; growth {growth:+.2f}% over {args.steps - args.warmup} steps")
    return 1 if args.limit is not None and growth >= args.limit else 0


if __name__ == "__main__":
    sys.exit(main())
