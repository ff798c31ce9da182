"""Figures for the report as PNG bytes (matplotlib with the Agg backend, imported only when a figure is drawn).

Example::

    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    html.image(png_bytes(fig), "a line")
"""
import io
import os
import tempfile

import numpy as np


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend; ImportError saying what to install when it is missing."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("The report's plots need matplotlib: pip install 'rnnlab[plot]' (or matplotlib).") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def png_bytes(fig, dpi=100):
    """The PNG bytes of a matplotlib figure (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


def drawn_by(draw, *args, **kwargs):
    """The PNG bytes drawn by a plotting function that writes a file: ``draw(path, *args, **kwargs)`` is called
    with a temporary ``.png`` path, e.g. ``drawn_by(lambda path: plot_history(cols, path))``."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-report-") as tmp:
        path = os.path.join(tmp, "figure.png")
        draw(path, *args, **kwargs)
        with open(path, "rb") as f:
            return f.read()


def confusion_matrix(counts, labels):
    """A 2-D ``counts`` array (rows: true class, columns: predicted) as a coloured grid with the counts."""
    counts = np.asarray(counts)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.8, 3.3))
    ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    ticks = range(len(labels))
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            dark = counts[i, j] > counts.max() / 2
            ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", color="white" if dark else "black")
    return png_bytes(fig)


def history_curves(columns, title="Training curves"):
    """``{name: [value per epoch]}`` as one panel per quantity, ``val_*``/``valid_*`` drawn on their twin."""
    from ..diagnostics.plots import plot_history
    return drawn_by(lambda path: plot_history(columns, path, title=title))
