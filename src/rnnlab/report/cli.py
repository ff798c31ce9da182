"""``rnnlab report RUN_DIR [--out report.html] [--data SPEC] [--max-examples N] [--seed S]``.

``register(subparsers)`` adds the verb to ``rnnlab.cli``; ``main(argv)`` runs it alone. Example::

    rnnlab report runs/imdb --data imdb:../shared/data/imdb/aclImdb_labeled.tar.xz --out imdb.html
"""
import argparse
import sys

from ..argtypes import positive_int
from . import REPORT_FILE, build_report




def register(subparsers):
    """Add ``report`` to an ``argparse`` subparsers object (``rnnlab.cli``'s); returns the parser."""
    p = subparsers.add_parser(
        "report", help="write one self-contained HTML page about a training run",
        description="Write one HTML page (images inline, no network) with the run's configuration, training "
                    "curves, gradient flow and its task's results (confusion matrix and mistakes, samples, "
                    "attention maps, forecast plots).")
    p.add_argument("run_dir", metavar="RUN_DIR", help="model directory written by 'rnnlab train ... --out DIR'")
    p.add_argument("--out", metavar="HTML", default=None, help=f"the page to write (default: RUN_DIR/{REPORT_FILE})")
    p.add_argument("--data", metavar="SPEC", default=None,
                   help="data to evaluate on, as for 'rnnlab train' (imdb:PATH, csv:PATH, ptb:DIR, tatoeba:PATH); "
                        "default: the data recorded in RUN_DIR")
    p.add_argument("--max-examples", type=positive_int, default=500, metavar="N",
                   help="held-out examples evaluated at most (default 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the language-model samples")
    p.set_defaults(func=run)
    return p


def run(args):
    path = build_report(args.run_dir, out=args.out, data=args.data, max_examples=args.max_examples, seed=args.seed)
    print(f"wrote {path}")
    return 0


def main(argv=None):
    """``rnnlab report`` on its own (``python -m rnnlab.report.cli RUN_DIR``)."""
    parser = argparse.ArgumentParser(prog="rnnlab")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:                # as rnnlab.cli.main reports them
        print(f"rnnlab report: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
