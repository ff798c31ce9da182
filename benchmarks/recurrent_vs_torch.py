"""Speed of rnnlab's SimpleRNN, LSTM and GRU against torch.nn.RNN/LSTM/GRU on the CPU.

Two measurements per (cell, shape), both float32, batch-first, ``return_sequences``:

- ``train``: one training step -- forward, backward of a fixed random projection ``R``
  (``dL/dY = R``, i.e. ``L = sum(Y * R)``), parameter gradients. Both libraries also
  compute ``dL/dX`` (rnnlab's ``backward`` always returns it, so torch's input has
  ``requires_grad=True``).
- ``infer``: forward only (``training=False`` / ``torch.inference_mode()``).

Each library runs in ITS OWN worker process (on 2 cores OpenBLAS's and torch's thread pools
starve each other inside one process), with the same thread count (``--threads``, default 2) set
through ``OMP/OPENBLAS/MKL_NUM_THREADS`` before import and ``torch.set_num_threads``. The main
process talks to the workers over pipes (one JSON line per request) and interleaves them:
``--rounds`` passes over every (cell, shape, mode, library), ``--repeats`` timed calls per
configuration in total, split over the rounds, so a burst of load from other programs on a shared
machine hits both libraries alike. Each worker warms every configuration up (2 untimed calls)
before timing it; the first call's time (numba compilation or cache load included) is printed.

Usage::

    python benchmarks/recurrent_vs_torch.py                       # full table
    python benchmarks/recurrent_vs_torch.py --quick               # smoke run: few repeats
    python benchmarks/recurrent_vs_torch.py --cells lstm --shapes 50,32,64,128 35,20,650,650
    python benchmarks/recurrent_vs_torch.py --numpy               # add rnnlab with numba disabled
    python benchmarks/recurrent_vs_torch.py --products            # add the products-only lower bound
    python benchmarks/recurrent_vs_torch.py --unpin-openblas      # OpenBLAS picks its own kernels

On a shared 2-core machine whose cores are busy with other programs, every 2-thread worker stalls
at each per-step thread synchronisation, for both libraries; ``--threads 1`` is the control that
such load distorts least. Report the thread count with the numbers. Two OpenBLAS thread pools
working in one process (NumPy's and SciPy's) spin against each other; see ``rnnlab.kernels.blas``
for how rnnlab keeps to one.

``--products`` times, in the rnnlab worker, only the matrix products of a step (``X·W_x``, T
per-step ``h·W_h``; training adds T per-step ``dz·W_hᵀ`` and ``dW_x``, ``dW_h``, ``dX``) through
NumPy's BLAS: a lower bound for any implementation that calls this BLAS. The environment here
presets ``OPENBLAS_CORETYPE=Haswell`` (AVX2 kernels); the default measures under it, as users of
this machine get it. ``--unpin-openblas`` starts the workers without it (and without
``OPENBLAS_L2_SIZE``), so OpenBLAS runs the kernels it picks for the CPU (here SkylakeX, AVX-512);
torch's speed does not depend on either.

Measured 2026-12-01 on the idle 2-core machine (AMD Zen 5), 2 threads, default settings (21 timed
calls over 3 rounds), ratio rnnlab/torch of the median training step, and in brackets the
products-only bound over torch (``--products``)::

    OPENBLAS_CORETYPE=Haswell (the default)       --unpin-openblas (SkylakeX kernels)
    T,B,D,H          simple_rnn  lstm         gru       simple_rnn  lstm         gru
    50,32,64,128        0.51     2.06 (1.53)  0.54         0.32     1.47 (0.98)  0.46
    200,64,128,128      0.67     1.30 (1.07)  0.67         0.56     0.88 (0.63)  0.47
    100,64,256,256      0.74     1.43 (1.27)  0.79         0.51     0.96 (0.78)  0.51
    35,20,650,650       0.88     2.19 (2.05)  0.82         0.57     1.45 (1.29)  0.54
    500,1,64,64         0.05     0.63 (0.89)  0.04         0.03     0.75 (0.85)  0.04
    200,128,100,64      0.58     0.92 (0.67)  0.63         0.48     0.70 (0.47)  0.50

    targets met:        16 of 18                              18 of 18 (17 in some runs)

Run to run, on this shared machine, the LSTM ratios move by about ±0.1. Over five runs with the
default setting, LSTM at (100,64,256,256) read 1.41 to 1.48, at (50,32,64,128) 1.88 to 2.06 and at
(35,20,650,650) 2.08 to 2.23; unpinned, (50,32,64,128) read 1.39 to 1.59 over four runs (two of
them above 1.5) and (35,20,650,650) 1.44 to 1.51. Where LSTM loses, the products alone decide
it: torch's CPU LSTM runs oneDNN's fused AVX-512 kernels, while OpenBLAS is held to AVX2 here, and
at (35,20,650,650) the products alone take twice torch's whole step. Torch's RNN and GRU do not
use oneDNN (capping it with ONEDNN_MAX_CPU_ISA=AVX2 left GRU at 72-74 ms at (35,20,650,650) while
torch's LSTM went from 37-51 ms to 79 ms), and rnnlab beats them in every shape. Before the compiled
kernels the default table met 3 of 18 targets (LSTM 3.5-6.3); the previous version of this file
recorded 12 of 18.

Inference (forward only, no target): SimpleRNN and GRU 0.10-0.97 of torch's time, LSTM 2.0-2.5
except at (500,1,64,64), 0.75; torch's LSTM inference is the fused oneDNN kernel.

Prints the median time of each library (ms), the ratio rnnlab/torch (< 1: rnnlab faster) and
whether the issue's target holds (training: <= 1.0 for SimpleRNN and GRU, <= 1.5 for LSTM).
"""
import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = [(50, 32, 64, 128), (200, 64, 128, 128), (100, 64, 256, 256), (35, 20, 650, 650),
          (500, 1, 64, 64), (200, 128, 100, 64)]
CELLS = ["simple_rnn", "lstm", "gru"]
MODES = ["train", "infer"]
TARGETS = {"simple_rnn": 1.0, "gru": 1.0, "lstm": 1.5}       # training-step ratio targets
LIBS = {"torch": "torch", "rnnlab": "rnnlab", "rnnlab-numpy": "rnnlab (numba off)", "products": "products only"}


# ---- workers ----------------------------------------------------------------------------------

class TorchRunner:
    def __init__(self, threads):
        import torch
        torch.set_num_threads(threads)
        self.torch = torch
        self.info = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                     "mkldnn": bool(torch.backends.mkldnn.enabled)}

    def make(self, cell, T, B, D, H, seed):
        torch = self.torch
        torch.manual_seed(seed)
        cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        rnn = cls(D, H, batch_first=True)                        # RNN: nonlinearity tanh
        x = torch.randn(B, T, D).requires_grad_(True)
        R = torch.randn(B, T, H)

        def train():
            for p in rnn.parameters():
                p.grad = None
            x.grad = None
            y, _ = rnn(x)
            y.backward(R)                                        # dL/dY = R
            return x.grad

        def infer():
            with torch.inference_mode():
                return rnn(x)[0]
        return {"train": train, "infer": infer}


def _blas_kernels():
    """The kernels each loaded OpenBLAS runs, e.g. ``['Haswell 0.3.31']`` (needs threadpoolctl)."""
    try:
        import scipy.linalg  # noqa: F401   (load SciPy's OpenBLAS too, as the compiled loops do)
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    return [f"{i.get('architecture')} {i.get('version')}" for i in threadpool_info() if i.get("user_api") == "blas"]


class RnnlabRunner:
    def __init__(self, threads):
        import numpy as np
        import rnnlab
        from rnnlab import layers
        self.np, self.layers = np, layers
        try:
            from rnnlab import kernels
            numba_on = bool(kernels.available())
        except Exception:                                        # before kernels exist
            numba_on = False
        self.info = {"rnnlab": rnnlab.__version__, "numpy": np.__version__, "numba": numba_on,
                     "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "blas": _blas_kernels()}

    def make(self, cell, T, B, D, H, seed):
        np, layers = self.np, self.layers
        cls = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
        layer = cls(H, return_sequences=True, dtype="float32")
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((B, T, D)).astype(np.float32)
        R = rng.standard_normal((B, T, H)).astype(np.float32)
        layer.forward(x)                                         # build

        def train():
            layer.forward(x, training=True)
            layer.zero_grad()
            return layer.backward(R)

        def infer():
            return layer.forward(x, training=False)
        fns = {"train": train, "infer": infer}
        fns.update(self.products(cell, T, B, D, H, rng))
        return fns

    def products(self, cell, T, B, D, H, rng):
        """Only the matrix products of a step, through NumPy's BLAS as the stepped loops call it:
        ``X·W_x`` and T per-step ``h·W_h`` (infer); training adds T per-step ``dz·W_hᵀ``,
        ``dW_x = Xᵀ·dZ``, ``dW_h = H_prevᵀ·dZ`` and ``dX = dZ·W_xᵀ``. A lower bound for rnnlab's time
        with this BLAS: everything else (activations, copies, Python) comes on top."""
        np = self.np
        G = {"simple_rnn": 1, "lstm": 4, "gru": 3}[cell] * H

        def rand(*shape):
            return rng.standard_normal(shape).astype(np.float32)
        X2, W_x, W_h, Hs, dZ = rand(T * B, D), rand(D, G), rand(H, G), rand(T + 1, B, H), rand(T, B, G)
        W_hT, dZ2, Hp = np.ascontiguousarray(W_h.T), dZ.reshape(T * B, G), Hs[:-1].reshape(T * B, H)
        XW, hW, dh, dX = np.empty((T * B, G), np.float32), np.empty((B, G), np.float32), \
            np.empty((B, H), np.float32), np.empty((T * B, D), np.float32)

        def infer():
            np.matmul(X2, W_x, out=XW)
            for t in range(T):
                np.matmul(Hs[t], W_h, out=hW)

        def train():
            infer()
            for t in range(T - 1, -1, -1):
                np.matmul(dZ[t], W_hT, out=dh)
            X2.T @ dZ2, Hp.T @ dZ2
            np.matmul(dZ2, W_x.T, out=dX)
        return {"products-train": train, "products-infer": infer}


def worker(lib, threads):
    """Serve timing requests, one JSON line in, one JSON line out, until stdin closes."""
    runner = TorchRunner(threads) if lib == "torch" else RnnlabRunner(threads)
    out = sys.stdout
    sys.stdout = sys.stderr                                      # keep the pipe clean
    out.write(json.dumps({"info": runner.info}) + "\n")
    out.flush()
    made = {}
    for line in sys.stdin:
        req = json.loads(line)
        key = (req["cell"], tuple(req["shape"]))
        reply = {}
        try:
            if key not in made:
                made[key] = runner.make(req["cell"], *req["shape"], seed=0)
            fns = made[key]
            fn = fns[req["mode"]]
            if (key, req["mode"]) not in made:                   # warm up: first call + 1
                t0 = time.perf_counter()
                fn()
                reply["first"] = time.perf_counter() - t0
                fn()
                made[(key, req["mode"])] = True
            times = []
            for _ in range(req["n"]):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            reply["times"] = times
        except Exception as e:                                   # report, keep serving
            reply["error"] = f"{type(e).__name__}: {e}"
        out.write(json.dumps(reply) + "\n")
        out.flush()


# ---- driver -----------------------------------------------------------------------------------

class Worker:
    def __init__(self, lib, threads, unpin=False):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):
            env[var] = str(threads)
        if lib == "rnnlab-numpy":
            env["RNNLAB_DISABLE_NUMBA"] = "1"
        if unpin:
            env.pop("OPENBLAS_CORETYPE", None)
            env.pop("OPENBLAS_L2_SIZE", None)
        wlib = "torch" if lib == "torch" else "rnnlab"
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", wlib, "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.info = json.loads(self.proc.stdout.readline())["info"]

    def ask(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def parse_shape(text):
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"shape {text!r} is not four positive integers T,B,D,H (e.g. 50,32,64,128)")
    return shape


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cells", nargs="+", choices=CELLS, default=CELLS)
    p.add_argument("--shapes", nargs="+", type=parse_shape, default=SHAPES, metavar="T,B,D,H")
    p.add_argument("--modes", nargs="+", choices=MODES, default=MODES)
    p.add_argument("--repeats", type=int, default=21, help="timed calls per configuration (total)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved passes the repeats are split over")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pause", type=float, default=0.2,
                   help="seconds of sleep before each request (idle thread pools spin ~0.1 s)")
    p.add_argument("--numpy", action="store_true", help="also time rnnlab with RNNLAB_DISABLE_NUMBA=1")
    p.add_argument("--products", action="store_true",
                   help="also time only the matrix products of each step (rnnlab's BLAS, same process): "
                        "a lower bound for rnnlab, shown as products/torch")
    p.add_argument("--unpin-openblas", action="store_true",
                   help="run the workers with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS picks "
                        "its kernels for this CPU (default: the environment's setting, as users here get it)")
    p.add_argument("--quick", action="store_true", help="smoke run: 3 repeats, 1 round")
    p.add_argument("--json", metavar="PATH", help="also write all raw times to PATH")
    p.add_argument("--worker", choices=["torch", "rnnlab"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.threads)
    if args.quick:
        args.repeats, args.rounds = 3, 1
    rounds = max(1, min(args.rounds, args.repeats))
    per_round = [args.repeats // rounds + (r < args.repeats % rounds) for r in range(rounds)]

    libs = ["torch", "rnnlab"] + (["rnnlab-numpy"] if args.numpy else []) + (["products"] if args.products else [])
    workers = {lib: Worker(lib, args.threads, args.unpin_openblas) for lib in libs if lib != "products"}
    if args.products:
        workers["products"] = workers["rnnlab"]                  # same process, same BLAS
    print(f"python {sys.version.split()[0]}, {args.threads} threads per worker, float32, batch_first; "
          f"{args.repeats} timed calls per entry over {rounds} interleaved rounds (medians)"
          + ("; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset in the workers" if args.unpin_openblas else ""))
    for lib, w in workers.items():
        print(f"  {lib}: {w.info}")
    configs = [(c, s, m) for c in args.cells for s in args.shapes for m in args.modes]
    times = {(lib,) + cfg: [] for lib in libs for cfg in configs}
    first, errors = {}, {}
    t_start = time.perf_counter()
    for r in range(rounds):
        for cell, shape, mode in configs:
            for lib in libs:
                if (lib, cell, shape, mode) in errors:
                    continue
                time.sleep(args.pause)        # let the other worker's spinning BLAS/OpenMP threads park
                rep = workers[lib].ask(cell=cell, shape=list(shape), n=per_round[r],
                                       mode=f"products-{mode}" if lib == "products" else mode)
                if "error" in rep:
                    errors[(lib, cell, shape, mode)] = rep["error"]
                    continue
                if "first" in rep:
                    first[(lib, cell, shape, mode)] = rep["first"]
                times[(lib, cell, shape, mode)] += rep["times"]
    for w in set(workers.values()):
        w.close()

    head = f"{'cell':<11}{'T,B,D,H':<18}{'mode':<6}" + "".join(f"{LIBS[name] + ' ms':>22}" for name in libs)
    head += f"{'ratio':>8}{'target':>8}  ok" + ("   numpy/torch" if args.numpy else "") \
        + ("   products/torch" if args.products else "")
    print()
    print(head)
    print("-" * len(head))
    misses = []
    for cell, shape, mode in configs:
        row = f"{cell:<11}{','.join(map(str, shape)):<18}{mode:<6}"
        med = {}
        for lib in libs:
            ts = times[(lib, cell, shape, mode)]
            if not ts:
                row += f"{'error':>22}"
                continue
            med[lib] = median(ts)
            spread = (quantile(ts, 0.75) - quantile(ts, 0.25)) / med[lib] * 100
            row += f"{med[lib] * 1e3:>14.3f} ±{spread:>4.0f}%"
        if "torch" in med and "rnnlab" in med:
            ratio = med["rnnlab"] / med["torch"]
            target = TARGETS[cell] if mode == "train" else None
            ok = "" if target is None else ("yes" if ratio <= target else "NO")
            if ok == "NO":
                misses.append((cell, shape, ratio))
            row += f"{ratio:>8.2f}{'' if target is None else f'{target:.1f}':>8}  {ok:<3}"
        if "rnnlab-numpy" in med and "torch" in med:
            row += f"{med['rnnlab-numpy'] / med['torch']:>10.2f}"
        if "products" in med and "torch" in med:
            row += f"{med['products'] / med['torch']:>13.2f}"
        print(row)
    print("(± : interquartile range of the timed calls, relative to the median)")
    if first:
        print("\nfirst call (s; includes numba compilation or cache load for rnnlab):")
        for lib in libs:
            for cell in args.cells:
                vals = [v for (name, c, s, m), v in first.items() if name == lib and c == cell]
                if vals:
                    print(f"  {lib:<13}{cell:<11} first config {vals[0]:.3f}s, max {max(vals):.3f}s")
    for key, msg in errors.items():
        print(f"ERROR {key}: {msg}")
    print(f"\ntraining targets met: {sum(1 for c in configs if c[2] == 'train') - len(misses)}"
          f"/{sum(1 for c in configs if c[2] == 'train')}; wall time {time.perf_counter() - t_start:.0f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": {name: w.info for name, w in workers.items()},
                       "times": [{"lib": k[0], "cell": k[1], "shape": k[2], "mode": k[3], "times": v}
                                 for k, v in times.items()]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
