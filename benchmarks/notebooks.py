"""The seed-004 notebooks in ``examples/`` on the full shared data: each runs top to bottom with ``nbclient``
(no slice: 25k + 25k IMDb reviews, or all of NSMC) and this prints its result lines and wall time.

    python benchmarks/notebooks.py                             # all four, 3 epochs each (the notebooks' default)
    python benchmarks/notebooks.py --only mean --epochs 2      # names match by substring
    python benchmarks/notebooks.py --save-dir runs/notebooks   # keep the executed notebooks, plots included

The tests (tests/test_notebooks.py) run the same notebooks on a 300-review slice for one epoch.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ["IMDb_stacked_RNN_example.ipynb", "IMDb_RNN_return_seq_true_concat.ipynb",
             "IMDb_RNN_return_seq_true_mean.ipynb", "RNN_sentiment_Korean.ipynb"]


def _result_lines(nb):
    """The printed lines that report an accuracy or a time."""
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            lines += [ln for ln in text.splitlines() if "accuracy" in ln or "seconds" in ln or " s " in ln]
    return lines


def run(name, epochs, save_dir, timeout):
    import nbclient
    import nbformat
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    os.environ.pop("RNNLAB_NOTEBOOK_SLICE", None)
    os.environ["RNNLAB_NOTEBOOK_EPOCHS"] = str(epochs)
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    seconds = time.perf_counter() - start
    print(f"\n== {name}: {seconds:.0f} s")
    for line in _result_lines(nb):
        print("  " + line)
    if save_dir:
        Path(save_dir).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(save_dir) / name)
    return seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=None, help="run the notebooks whose name contains this")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--save-dir", default=None)
    p.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = p.parse_args(argv)
    print(describe())
    names = [n for n in NOTEBOOKS if args.only is None or args.only.lower() in n.lower()]
    if not names:
        print(f"no notebook matches {args.only!r}; they are {NOTEBOOKS}")
        return 2
    for name in names:
        run(name, args.epochs, args.save_dir, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
