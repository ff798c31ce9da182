"""``rnnlab demo``: the notes' central story, measured. A vanilla RNN forgets what it saw long ago;
LSTM and GRU, with their additive cell/state paths, do not.

The task (generated, no data needed) is "remember the first token": each sequence is ``T`` random
tokens from ``1..K``; the label is the FIRST token. Everything after it is distraction, so the
model must carry one piece of information across ``T - 1`` steps, and the gradient that teaches it
must flow back across the same ``T - 1`` steps (BPTT). Chance accuracy is ``1/K``.

    Embedding(K + 1, embed) -> SimpleRNN | LSTM | GRU (units) -> Dense(K, softmax)
    loss: sparse categorical cross-entropy, Adam with gradient clipping (clipnorm)

For each cell and each length the model is trained with the same seed and budget, and the table
reports validation accuracy (and loss). With the defaults, at the longest length LSTM and GRU
reach (near) perfect accuracy while SimpleRNN stays near chance: its gradient through
``prod_t diag(1 - h_t^2) W_h`` vanishes over the long gap.

Example::

    from rnnlab.tasks import demo
    results = demo.run_demo(lengths=(10, 50), epochs=3)      # {("lstm", 50): {"val_accuracy": ...}, ...}
"""
import time

import numpy as np

from .. import backend, layers, models, optimizers, progress

CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
DEFAULTS = dict(lengths=(10, 40, 100), cells=("simple_rnn", "lstm", "gru"), units=32, embed_dim=16,
                classes=8, samples=2000, val_samples=500, epochs=10, batch_size=32, learning_rate=0.005,
                clipnorm=1.0, seed=0)


def make_first_token_task(n, length, classes, rng):
    """``x``: (n, length) ids in 1..classes; ``y``: the first token's class (0-based), shape (n,)."""
    x = rng.integers(1, classes + 1, size=(n, length))
    return x, x[:, 0] - 1


def build_model(cell, units, embed_dim, classes, learning_rate, clipnorm):
    model = models.Sequential([layers.Embedding(classes + 1, embed_dim), CELLS[cell](units),
                               layers.Dense(classes, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(learning_rate, clipnorm=clipnorm),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run_demo(lengths=DEFAULTS["lengths"], cells=DEFAULTS["cells"], units=DEFAULTS["units"],
             embed_dim=DEFAULTS["embed_dim"], classes=DEFAULTS["classes"], samples=DEFAULTS["samples"],
             val_samples=DEFAULTS["val_samples"], epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"],
             learning_rate=DEFAULTS["learning_rate"], clipnorm=DEFAULTS["clipnorm"], seed=DEFAULTS["seed"],
             verbose=1):
    """Train every cell at every length; returns ``{(cell, length): {"val_accuracy", "val_loss", "seconds"}}``.

    ``verbose=1``: one progress bar over all runs (with the current cell, length and epoch logs);
    ``verbose=0``: silent.
    """
    for cell in cells:
        if cell not in CELLS:
            raise ValueError(f"Unknown cell {cell!r}; expected some of {sorted(CELLS)}.")
    results = {}
    total_epochs = len(cells) * len(lengths) * epochs
    with progress.bar(total=total_epochs, desc="demo", verbose=verbose, unit="epoch") as pbar:
        for length in lengths:
            data_rng = np.random.default_rng(seed + 1000 * length)
            x, y = make_first_token_task(samples, length, classes, data_rng)
            xv, yv = make_first_token_task(val_samples, length, classes, data_rng)
            for cell in cells:
                backend.set_random_seed(seed)
                model = build_model(cell, units, embed_dim, classes, learning_rate, clipnorm)
                start = time.perf_counter()
                for epoch in range(epochs):
                    pbar.set_description(f"{cell} T={length} epoch {epoch + 1}/{epochs}")
                    history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
                    pbar.set_postfix_str(f"loss: {history.history['loss'][-1]:.4f}", refresh=False)
                    pbar.update(1)
                val_loss, val_acc = model.evaluate(xv, yv, batch_size=256, verbose=0)
                results[(cell, length)] = {"val_accuracy": float(val_acc), "val_loss": float(val_loss),
                                           "seconds": time.perf_counter() - start}
    return results


def format_table(results, cells, lengths, classes):
    """A text table: one row per cell, one column per length, ``accuracy (loss)`` in each."""
    head = f"{'cell':<12}" + "".join(f"{'T=' + str(t):>18}" for t in lengths)
    lines = [f"validation accuracy (loss); chance = {1.0 / classes:.3f}", head, "-" * len(head)]
    for cell in cells:
        row = f"{cell:<12}"
        for t in lengths:
            r = results[(cell, t)]
            row += f"{r['val_accuracy']:>11.3f} ({r['val_loss']:.2f})"
        lines.append(row)
    return "\n".join(lines)


def _main(args):
    lengths = tuple(args.lengths)
    start = time.perf_counter()
    results = run_demo(lengths=lengths, cells=tuple(args.cells), units=args.units, embed_dim=args.embed_dim,
                       classes=args.classes, samples=args.samples, val_samples=args.val_samples,
                       epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                       clipnorm=args.clipnorm, seed=args.seed, verbose=0 if args.quiet else 1)
    print("Remember the first token of a sequence of T random tokens (rnnlab demo)")
    print(format_table(results, args.cells, lengths, args.classes))
    print(f"wall time: {time.perf_counter() - start:.1f}s")
    return 0


def _positive(text):
    v = int(text)
    if v <= 0:
        raise ValueError
    return v


def register(subparsers):
    """Add ``rnnlab demo`` to the top-level subcommands."""
    d = DEFAULTS
    p = subparsers.add_parser(
        "demo", help="vanilla RNN vs LSTM vs GRU on a long-range memory task (no data needed)",
        description="Train SimpleRNN, LSTM and GRU to remember the first of T random tokens, at several T, "
                    "and print a table of validation accuracy: the vanilla RNN forgets at long T, LSTM and "
                    "GRU do not. Defaults take a few minutes on 2 CPU cores.")
    p.add_argument("--lengths", type=_positive, nargs="+", default=list(d["lengths"]), metavar="T",
                   help=f"sequence lengths (default: {' '.join(map(str, d['lengths']))})")
    p.add_argument("--cells", nargs="+", choices=sorted(CELLS), default=list(d["cells"]),
                   help="recurrent cells to compare (default: all three)")
    p.add_argument("--epochs", type=_positive, default=d["epochs"], help=f"epochs per run (default {d['epochs']})")
    p.add_argument("--units", type=_positive, default=d["units"], help=f"hidden units (default {d['units']})")
    p.add_argument("--embed-dim", type=_positive, default=d["embed_dim"], help=f"embedding size (default {d['embed_dim']})")
    p.add_argument("--classes", type=_positive, default=d["classes"], help=f"token classes K (default {d['classes']})")
    p.add_argument("--samples", type=_positive, default=d["samples"], help=f"training sequences (default {d['samples']})")
    p.add_argument("--val-samples", type=_positive, default=d["val_samples"],
                   help=f"validation sequences (default {d['val_samples']})")
    p.add_argument("--batch-size", type=_positive, default=d["batch_size"], help=f"batch size (default {d['batch_size']})")
    p.add_argument("--lr", type=float, default=d["learning_rate"], help=f"Adam learning rate (default {d['learning_rate']})")
    p.add_argument("--clipnorm", type=float, default=d["clipnorm"], help=f"gradient clipping per tensor (default {d['clipnorm']})")
    p.add_argument("--seed", type=int, default=d["seed"], help=f"random seed (default {d['seed']})")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the table")
    p.set_defaults(func=_main)
    return p
