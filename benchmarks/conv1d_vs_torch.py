"""Conv1D speed: rnnlab (im2col + one GEMM) against torch.nn.Conv1d on the CPU.

Each library runs in its own process (so neither's thread pools or allocator disturb the other),
with the same thread count, float32, on the same shapes. Timed: forward alone, and forward +
backward (gradients of the input, kernel and bias). torch gets its native channels-first layout
(no transposes timed); rnnlab gets its channels-last ``(N, T, C)``. Prints medians and the ratio
rnnlab / torch (below 1: rnnlab is faster).

    python benchmarks/conv1d_vs_torch.py [--threads 2] [--repeats 15] [--rounds 3]
"""
import argparse
import json
import os
import subprocess
import sys
import time

# (N, T, C, filters, kernel_size, strides, padding)
SHAPES = [
    (32, 500, 128, 128, 5, 1, "same"),
    (32, 100, 64, 64, 3, 1, "same"),
    (16, 1000, 32, 64, 7, 2, "valid"),
    (64, 200, 128, 32, 3, 1, "causal"),
]


def _median_time(fn, repeats):
    fn()                                                   # warm-up (allocations, first BLAS call)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def _worker_rnnlab(shapes, repeats):
    import numpy as np
    from rnnlab.layers import Conv1D
    out = []
    rng = np.random.default_rng(0)
    for N, T, C, F, k, s, padding in shapes:
        conv = Conv1D(F, k, strides=s, padding=padding)
        x = rng.standard_normal((N, T, C)).astype(np.float32)
        y = conv.forward(x)
        dy = rng.standard_normal(y.shape).astype(np.float32)

        def fwd_bwd():
            conv.forward(x, training=True)
            conv.backward(dy)
        out.append({"forward": _median_time(lambda: conv.forward(x), repeats),
                    "forward+backward": _median_time(fwd_bwd, repeats)})
    return out


def _worker_torch(shapes, repeats, threads):
    import torch
    torch.set_num_threads(threads)
    F_ = torch.nn.functional
    out = []
    g = torch.Generator().manual_seed(0)
    for N, T, C, F, k, s, padding in shapes:
        span = k
        if padding == "same":
            total = max((-(-T // s) - 1) * s + span - T, 0)
            pads = (total // 2, total - total // 2)
        elif padding == "causal":
            pads = (span - 1, 0)
        else:
            pads = (0, 0)
        conv = torch.nn.Conv1d(C, F, k, stride=s)
        x = torch.randn(N, C, T, generator=g)
        x_req = x.clone().requires_grad_(True)

        def fwd():
            with torch.no_grad():
                conv(F_.pad(x, pads) if pads != (0, 0) else x)
        y = conv(F_.pad(x_req, pads))
        dy = torch.randn(y.shape, generator=g)

        def fwd_bwd():
            conv.zero_grad(set_to_none=False)
            x_req.grad = None
            conv(F_.pad(x_req, pads) if pads != (0, 0) else x_req).backward(dy)
        out.append({"forward": _median_time(fwd, repeats), "forward+backward": _median_time(fwd_bwd, repeats)})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=3, help="processes per library, alternated")
    ap.add_argument("--worker", choices=["rnnlab", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker == "rnnlab":
        print(json.dumps(_worker_rnnlab(SHAPES, args.repeats)))
        return
    if args.worker == "torch":
        print(json.dumps(_worker_torch(SHAPES, args.repeats, args.threads)))
        return

    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    load_before = os.getloadavg()[0]               # other work on the machine skews every timing
    rounds = {"rnnlab": [], "torch": []}
    for _ in range(args.rounds):                    # alternate the libraries so load changes hit both
        for lib in ("rnnlab", "torch"):
            cmd = [sys.executable, __file__, "--worker", lib, "--threads", str(args.threads),
                   "--repeats", str(args.repeats)]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            rounds[lib].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    results = {lib: [{key: sorted(r[i][key] for r in runs)[len(runs) // 2] for key in runs[0][i]}
                     for i in range(len(SHAPES))] for lib, runs in rounds.items()}

    print(f"Conv1D, float32, {args.threads} threads, median over {args.rounds} alternating processes of the "
          f"median of {args.repeats} runs (ms); OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
          f"{os.cpu_count()} CPUs, load average before/after {load_before:.2f}/{os.getloadavg()[0]:.2f}")
    print(f"{'N':>3} {'T':>5} {'C':>4} {'F':>4} {'k':>2} {'s':>2} {'padding':>7} | "
          f"{'fwd rnnlab':>10} {'fwd torch':>9} {'ratio':>5} | {'f+b rnnlab':>10} {'f+b torch':>9} {'ratio':>5}")
    for shape, r, t in zip(SHAPES, results["rnnlab"], results["torch"]):
        N, T, C, F, k, s, padding = shape
        fr, ft = r["forward"] * 1e3, t["forward"] * 1e3
        br, bt = r["forward+backward"] * 1e3, t["forward+backward"] * 1e3
        print(f"{N:>3} {T:>5} {C:>4} {F:>4} {k:>2} {s:>2} {padding:>7} | "
              f"{fr:>10.2f} {ft:>9.2f} {fr / ft:>5.2f} | {br:>10.2f} {bt:>9.2f} {br / bt:>5.2f}")


if __name__ == "__main__":
    main()
