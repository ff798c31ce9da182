"""Progress display for long loops (training epochs, prediction, data preparation).

``verbose=1``: a tqdm bar per loop with ETA and the running logs (``loss: 0.4321 - accuracy: 0.8125``);
``verbose=2``: nothing during the loop, one line per epoch (``line``); ``verbose=0``: silent.

Example::

    with progress.bar(total=len(batches), desc="Epoch 1/3", verbose=1) as pbar:
        for b in batches:
            ...
            pbar.update(1); pbar.set_postfix_str(progress.format_logs(logs), refresh=False)
"""
import sys

from tqdm.auto import tqdm


def format_logs(logs):
    """``{"loss": 0.5, "accuracy": 0.75}`` -> ``"loss: 0.5000 - accuracy: 0.7500"``."""
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


def bar(iterable=None, total=None, desc=None, verbose=1, unit="step", leave=True, **kwargs):
    """A tqdm progress bar, disabled unless ``verbose == 1``. Writes to stderr, like tqdm.

    Extra keyword arguments go to ``tqdm`` (e.g. ``bar_format``).
    """
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, disable=verbose != 1,
                file=sys.stderr, dynamic_ncols=True, mininterval=0.2, **kwargs)


def line(text, verbose=2):
    """Print one line (for ``verbose=2`` epoch summaries and tables) to stdout."""
    if verbose:
        print(text, flush=True)
