"""Keras's own examples run by rnnlab (and, for seq2seq, by real Keras 3 in the same run): accuracy and time.

``addition``: examples/addition_rnn.py at Keras's settings (50,000 questions, 3-digit numbers,
reversed input, one LSTM of 128 units, batch 32, Adam). Prints the held-out exact-answer accuracy
(all four characters right) after every epoch, and the first epoch at which it reaches the target
(0.99; Keras documents 99% in 100 epochs), with the wall time.

``seq2seq``: examples/lstm_seq2seq.py (character-level English -> French, 10,000 pairs, latent 256,
RMSprop, batch 64, validation split 0.2) for the same number of epochs under rnnlab and under Keras 3
(torch backend, CPU), one after the other in this run: the final validation loss of each, their
ratio, and the seconds per epoch of each.

    python benchmarks/keras_examples.py addition --epochs 40
    python benchmarks/keras_examples.py seq2seq --epochs 10
"""
import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run(script, env, log):
    """Run an example, echo its lines that match ``log`` and return its whole output."""
    full_env = {**os.environ, **env}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "examples" / script)], env=full_env, cwd=env.get("CWD", None),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if re.search(log, line):
            print("   ", line.rstrip(), flush=True)
    if proc.wait() != 0:
        sys.exit(f"{script} failed:\n" + "".join(lines[-30:]))
    return "".join(lines), time.perf_counter() - start


def addition(args):
    out, seconds = run("addition_rnn.py", {"ADDITION_EPOCHS": str(args.epochs + 1), "ADDITION_SEED": str(args.seed)},
                       r"exact-answer accuracy")
    accs = [float(a) for a in re.findall(r"exact-answer accuracy after epoch \d+: ([0-9.]+)", out)]
    times = [float(t) for t in re.findall(r"exact-answer accuracy after epoch \d+: [0-9.]+ \((\d+) s\)", out)]
    hit = next((i for i, a in enumerate(accs) if a >= args.target), None)
    print(f"\naddition_rnn: best held-out exact-answer accuracy {max(accs):.4f} over {len(accs)} epochs "
          f"({seconds:.0f} s in all, {times[-1] / len(accs):.1f} s per epoch with the per-epoch evaluation)")
    if hit is None:
        print(f"target {args.target} not reached in {len(accs)} epochs")
    else:
        print(f"target {args.target} first reached after epoch {hit + 1} ({times[hit]:.0f} s of training)")


def seq2seq(args):
    results = {}
    for backend in args.backends:
        env = {"SEQ2SEQ_BACKEND": backend, "SEQ2SEQ_EPOCHS": str(args.epochs), "SEQ2SEQ_SEED": str(args.seed),
               "SEQ2SEQ_DECODE": "3", "SEQ2SEQ_OUT": f"/tmp/s2s_{backend}.keras", "KERAS_BACKEND": "torch"}
        print(f"{backend}:", flush=True)
        out, _ = run("lstm_seq2seq.py", env, r"final val_loss|Decoded sentence|Input sentence")
        m = re.search(r"seconds ([0-9.]+) epochs (\d+) final val_loss ([0-9.]+) val_accuracy ([0-9.]+)", out)
        results[backend] = (float(m.group(1)), float(m.group(3)), float(m.group(4)))
    print(f"\nlstm_seq2seq, {args.epochs} epochs, 10,000 pairs:")
    for backend, (sec, loss, acc) in results.items():
        print(f"  {backend:7s} val_loss {loss:.4f}  val_accuracy {acc:.4f}  {sec / args.epochs:.1f} s per epoch")
    if {"rnnlab", "keras"} <= set(results):
        r, k = results["rnnlab"], results["keras"]
        print(f"  val_loss rnnlab / keras = {r[1] / k[1]:.3f} (within 5%: {abs(r[1] / k[1] - 1) <= 0.05}); "
              f"time per epoch rnnlab / keras = {r[0] / k[0]:.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="which", required=True)
    a = sub.add_parser("addition")
    a.add_argument("--epochs", type=int, default=40)
    a.add_argument("--target", type=float, default=0.99)
    a.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("seq2seq")
    s.add_argument("--epochs", type=int, default=10)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--backends", nargs="+", default=["rnnlab", "keras"], choices=["rnnlab", "keras"])
    args = p.parse_args(argv)
    print(describe())
    {"addition": addition, "seq2seq": seq2seq}[args.which](args)


if __name__ == "__main__":
    main()
