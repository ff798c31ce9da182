"""Forecast plots (matplotlib, the ``plot``/``forecast`` extra): the history, the forecast with its intervals
and the baselines, written as PNG.

Example::

    plot_forecast("out.png", dates, history, future_dates, point, {0.8: (lo, hi)}, title="Sunspots")
"""
import os


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("Plots need matplotlib: pip install 'rnnlab[forecast]' (or matplotlib).") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _check_png(path):
    path = os.fspath(path)
    if not path.lower().endswith(".png"):
        raise ValueError(f"--plot {path!r}: expected a .png file name.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"--plot {path!r}: its folder {parent!r} does not exist.")
    return path


def plot_forecast(path, dates, history, future_dates, point, intervals=None, baselines=None, actual=None,
                  title=None, ylabel=None, label="rnnlab forecast"):
    """Write a PNG: ``history`` against ``dates`` (None: no history), then ``point`` (H,) against
    ``future_dates`` with the ``intervals`` {level: (lo (H,), hi (H,))} shaded, ``baselines`` {name: (H,)}
    dashed and ``actual`` (H,) (the observed values, in a backtest) in black."""
    path = _check_png(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    if history is not None:
        ax.plot(dates, history, color="0.35", lw=1.0, label="history")
    for level, (lo, hi) in sorted((intervals or {}).items(), reverse=True):
        ax.fill_between(future_dates, lo, hi, color="tab:blue", alpha=0.15 + 0.15 * (level < 0.9),
                        label=f"{level:.0%} interval")
    if actual is not None:
        ax.plot(future_dates, actual, color="black", lw=1.0, label="actual")
    for name, values in (baselines or {}).items():
        ax.plot(future_dates, values, ls="--", lw=1.0, label=name)
    ax.plot(future_dates, point, color="tab:blue", lw=1.8, label=label)
    ax.set_title(title or "forecast")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_backtest(path, dates, y, point, intervals=None, baselines=None, title=None):
    """Write a PNG of one-step-ahead (or h-step) backtest forecasts against the observed series ``y``."""
    return plot_forecast(path, None, None, dates, point, intervals, baselines, actual=y,
                         title=title or "backtest", label="rnnlab")
