"""``rnnlab diagnose``: the notes' vanishing and exploding gradients, measured, as tables and PNG plots.

    rnnlab diagnose [--steps 100] [--out diagnose_out] [--units 32] [--rho 2.0] [--seed 0]

Writes ``OUT/vanishing.png``, ``OUT/exploding.png``, ``OUT/remedies.png`` and ``OUT/diagnose.json``
(every number) and prints the tables. What each experiment does: ``rnnlab.diagnostics.experiments``.
``register(subparsers)`` plugs the verb into ``rnnlab.cli``.
"""
import json
import os
import time

from ..argtypes import positive_float, positive_int
from . import experiments, plots

HEADER = f"{'run':42s} {'d=0':>10s} {'d=1':>10s} {'d=10':>10s} {'d=T-1':>10s} {'(T-1)/0':>10s} {'per step':>9s}"




def format_rows(rows):
    """The table of ``experiments.summarise`` rows: ‖∂L/∂h_t‖ at distances 0, 1, 10, T-1 from the
    loss, their ratio (T-1)/0 and the fitted factor per step."""
    lines = [HEADER]
    for r in rows:
        T = len(r["norms"])
        at = [r["at"].get(d, float("nan")) for d in (0, 1, 10, T - 1)]
        lines.append(f"{r['name']:42s} " + " ".join(f"{v:10.3e}" for v in at)
                     + f" {r['ratio']:10.3e} {r['decay_per_step']:9.4f}")
    return "\n".join(lines)


def format_trace(runs):
    """The exploding-case training table: per run the first step's gradient and update norms, the
    largest update, the final spectral radius and the loss before and after."""
    lines = [f"{'run':24s} {'‖∇L‖ step 1':>12s} {'‖Δw‖ step 1':>12s} {'max ‖Δw‖':>10s} {'rho end':>9s} "
             f"{'loss 1':>8s} {'loss end':>9s}"]
    for label, t in runs.items():
        lines.append(f"{label:24s} {t['grad_norm'][0]:12.3e} {t['update_norm'][0]:12.3e} {max(t['update_norm']):10.3e} "
                     f"{t['rho'][-1]:9.3g} {t['loss'][0]:8.3f} {t['loss'][-1]:9.3f}")
    return "\n".join(lines)


def _jsonable(results):
    def row(r):
        return {"name": r["name"], "norms": [float(v) for v in r["norms"]], "ratio": r["ratio"],
                "decay_per_step": r["decay_per_step"], "at_distance": {str(k): v for k, v in r["at"].items()}}
    return {"vanishing": [row(r) for r in results["vanishing"]],
            "exploding": {"row": row(results["exploding"]["row"]), "runs": results["exploding"]["runs"]},
            "remedies": [row(r) for r in results["remedies"]]}


def run(args):
    """Run the experiments, print the tables, write the plots and ``diagnose.json``; exit code 0."""
    start = time.perf_counter()
    results = experiments.run_all(steps=args.steps, units=args.units, classes=args.classes, batch=args.batch,
                                  rho=args.rho, train_steps=args.train_steps, learning_rate=args.lr,
                                  clipnorm=args.clipnorm, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    T = args.steps
    print(f"‖∂L/∂h_t‖ (mean over {args.batch} sequences) at distance d from the loss, first-token task, T={T}, "
          f"H={args.units}; 'per step' is the fitted factor per step back (< 1 vanishing, > 1 exploding)\n")
    print("1. Vanishing: the three cells (Keras init), and LSTM/GRU with their memory gate opened (bias log T)")
    print(format_rows(results["vanishing"]))
    print(f"\n2. Exploding: SimpleRNN with the recurrent kernel scaled to spectral radius {args.rho:g}")
    print(format_rows([results["exploding"]["row"]]))
    print(f"\n   {args.train_steps} SGD steps (lr {args.lr:g}) without and with clipping of the global gradient norm")
    print(format_trace(results["exploding"]["runs"]))
    print("\n3. Remedies (SimpleRNN): orthogonal vs Glorot-uniform recurrent kernel, with and without layer norm")
    print(format_rows(results["remedies"]))
    paths = [plots.plot_hidden_gradients(results["vanishing"] + [results["exploding"]["row"]],
                                         os.path.join(args.out, "vanishing.png")),
             plots.plot_training_trace(results["exploding"]["runs"], os.path.join(args.out, "exploding.png")),
             plots.plot_hidden_gradients(results["remedies"], os.path.join(args.out, "remedies.png"),
                                         title="SimpleRNN: initialisation and layer norm")]
    with open(os.path.join(args.out, "diagnose.json"), "w", encoding="utf-8") as f:
        json.dump(_jsonable(results), f, indent=1)
    paths.append(os.path.join(args.out, "diagnose.json"))
    print(f"\nwrote {', '.join(paths)} ({time.perf_counter() - start:.1f}s)")
    return 0


def register(subparsers):
    """Add ``rnnlab diagnose`` to the top-level subcommands (``subparsers`` from ``add_subparsers``)."""
    d = experiments.DEFAULTS
    p = subparsers.add_parser(
        "diagnose", help="measure vanishing/exploding gradients through time (tables and PNG plots)",
        description="Measure ‖∂L/∂h_t‖ from the hand-written BPTT on a long-range task: SimpleRNN vs LSTM vs GRU, "
                    "the exploding case with and without gradient clipping, and the effect of orthogonal "
                    "initialisation and layer norm. Prints tables and writes PNG plots and diagnose.json.")
    p.add_argument("--steps", type=positive_int, default=d["steps"], help=f"sequence length T (default {d['steps']})")
    p.add_argument("--out", default="diagnose_out", help="directory for the plots and diagnose.json "
                                                         "(default ./diagnose_out)")
    p.add_argument("--units", type=positive_int, default=d["units"], help=f"hidden units (default {d['units']})")
    p.add_argument("--classes", type=positive_int, default=d["classes"], help=f"token classes (default {d['classes']})")
    p.add_argument("--batch", type=positive_int, default=d["batch"], help=f"sequences measured (default {d['batch']})")
    p.add_argument("--rho", type=positive_float, default=d["rho"],
                   help=f"spectral radius of the exploding case (default {d['rho']})")
    p.add_argument("--train-steps", type=positive_int, default=d["train_steps"],
                   help=f"SGD steps of the clipping comparison (default {d['train_steps']})")
    p.add_argument("--lr", type=positive_float, default=d["learning_rate"],
                   help=f"SGD learning rate (default {d['learning_rate']})")
    p.add_argument("--clipnorm", type=positive_float, default=d["clipnorm"],
                   help=f"global gradient-norm clip (default {d['clipnorm']})")
    p.add_argument("--seed", type=int, default=d["seed"], help=f"seed (default {d['seed']})")
    p.set_defaults(func=run)
    return p
