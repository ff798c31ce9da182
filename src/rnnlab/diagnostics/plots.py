"""PNG plots of the diagnostics (matplotlib, imported only here, with the Agg backend: no display needed).

    plot_hidden_gradients(rows, path)    # log10 ‖∂L/∂h_t‖ against the distance from the loss
    plot_training_trace(runs, path)      # the exploding case: gradient and step norms per SGD step
    plot_history(history, path)          # training curves: one panel per metric, val_* overlaid

Each takes what ``rnnlab.diagnostics.experiments`` (or ``History.history``) returns and writes one
PNG, returning its path. Example::

    from rnnlab.diagnostics import experiments, plots
    plots.plot_hidden_gradients(experiments.vanishing(), "vanishing.png")
"""
import os

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError as e:                      # pragma: no cover - matplotlib is a dependency of the CLI
        raise ImportError("Plotting needs matplotlib: pip install matplotlib.") from e
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_hidden_gradients(rows, path, title="‖∂L/∂h_t‖ against the distance from the loss"):
    """One line per row (``{"name", "norms" (T,)}``): log10 of the norm at distance ``T-1-t``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for row in rows:
        n = np.asarray(row["norms"], dtype=np.float64)
        d = np.arange(len(n))[::-1]
        with np.errstate(divide="ignore"):
            ax.plot(d, np.log10(n), label=f"{row['name']} ({row['decay_per_step']:.3f}/step)")
    ax.set_xlabel("distance from the loss (steps)")
    ax.set_ylabel("log10 ‖∂L/∂h_t‖")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_training_trace(runs, path, title="Exploding gradients: SGD with and without clipping"):
    """``runs``: ``{label: {"grad_norm": [...], "update_norm": [...], "loss": [...]}}``; three panels."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for label, trace in runs.items():
        for ax, key, ylabel in zip(axes, ("grad_norm", "update_norm", "loss"),
                                   ("‖∇L‖ before clipping", "‖Δw‖ applied", "loss")):
            ax.plot(np.arange(1, len(trace[key]) + 1), trace[key], marker=".", label=label)
            ax.set_xlabel("SGD step")
            ax.set_ylabel(ylabel)
            if key != "loss":
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_history(history, path, title="Training curves"):
    """``history``: ``{metric: [per-epoch values]}`` (``History.history``); one panel per metric,
    its validation twin (``val_<name>``, or ``valid_<x>`` for ``train_<x>``) drawn in the same panel."""
    plt = _pyplot()
    def twin(name):                      # the validation curve drawn with ``name``
        if f"val_{name}" in history:
            return f"val_{name}"
        if name.startswith("train_") and f"valid_{name[6:]}" in history:
            return f"valid_{name[6:]}"
        return None
    twins = {twin(k) for k in history} - {None}
    names = [k for k in history if k not in twins] or list(history)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(4.2 * max(len(names), 1), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key in (name, twin(name)):
            if key is not None:
                ax.plot(np.arange(1, len(history[key]) + 1), history[key], marker=".", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)
