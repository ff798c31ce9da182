"""The sentiment task's command line, plugged into ``rnnlab.cli`` (``TASKS["sentiment"]`` names this module)::

    rnnlab train sentiment --data imdb:PATH --model lstm --pooling mean --epochs 3 --out runs/imdb
    mpiexec -n 2 rnnlab train sentiment --data imdb:PATH --epochs 3 --out runs/imdb      # data-parallel
    rnnlab predict runs/imdb "A wonderful, moving film." --file reviews.txt
    echo "Terrible." | rnnlab predict runs/imdb -
    rnnlab evaluate runs/imdb --data imdb:PATH

The flags of ``rnnlab train sentiment`` other than ``--data``, ``--out`` and ``--quiet`` are generated from
``SentimentConfig``: each setting's name, type, default, choices and help text are declared there once.
"""
import argparse
import json
import sys

import numpy as np

from ...argtypes import positive_int
from ...distributed.comm import add_cli_arguments
from .classifier import SentimentClassifier
from .config import SentimentConfig
from .data import load_data, parse_data_spec
from .training import train

_CSV_OPTIONS = ("text_column", "label_column", "delimiter")




def _add_data_option(p):
    p.add_argument("--data", required=True, metavar="KIND:PATH",
                   help="imdb:PATH (aclImdb folder or .tar.xz), nsmc:PATH (ratings_*.txt[.xz]) or csv:PATH")


def register_train(subparsers):
    """Add ``rnnlab train sentiment``: ``--data``, one flag per ``SentimentConfig`` setting, ``--out``, ``--quiet``."""
    p = subparsers.add_parser(
        "sentiment", help="sentiment classifier for IMDb, NSMC or a CSV of labelled texts",
        description="Tokenise, keep the top-k words, cut/pad to --maxlen, train an RNN classifier, "
                    "report held-out accuracy and save a self-contained model directory (--out).")
    _add_data_option(p)
    SentimentConfig.add_arguments(p)
    p.add_argument("--out", default=None, metavar="MODEL_DIR", help="save the model directory here")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--checkpoint-every", type=positive_int, default=None, metavar="N",
                   help="write a training checkpoint (to --checkpoint) every N batches and at each epoch end")
    p.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="checkpoint directory (default: MODEL_DIR.checkpoint); deleted when training ends")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in the checkpoint (same --data and flags), exactly")
    add_cli_arguments(p)
    p.set_defaults(func=_train_main)
    return p


def _train_main(args):
    config = SentimentConfig.from_args(args, where="rnnlab train sentiment")
    _, report = train(args.data, config, out=args.out, verbose=0 if args.quiet else 1,
                      distributed=args.distributed, dist_timeout=args.dist_timeout, checkpoint=args.checkpoint,
                      checkpoint_every=args.checkpoint_every, resume=args.resume)
    if report.get("rank", 0) != 0:
        return 0                                    # rank 0 alone prints
    print(f"test accuracy {report['test_accuracy']:.4f}  test loss {report['test_loss']:.4f}  "
          f"({report['test_size']} texts; tokenising {report['tokenize_seconds']:.1f}s, training "
          f"{report['train_seconds']:.1f}s, wall {report['wall_seconds']:.1f}s)")
    if args.out:
        print(f"saved to {args.out}")
    return 0


def _read_texts(args):
    texts = []
    for t in args.texts:
        texts += sys.stdin.read().splitlines() if t == "-" else [t]
    for f in args.file or []:
        if f == "-":
            texts += sys.stdin.read().splitlines()
            continue
        try:
            with open(f, encoding="utf-8") as fh:
                texts += fh.read().splitlines()
        except FileNotFoundError:
            raise FileNotFoundError(f"--file {f!r} does not exist.") from None
        except UnicodeDecodeError as e:
            raise ValueError(f"--file {f!r} is not UTF-8 text ({e.reason} at byte {e.start}).") from None
    return texts


def cli_predict(model_dir, argv):
    """``rnnlab predict MODEL_DIR [TEXT ...] [--file F] [-]``: label and P(positive) per text."""
    p = argparse.ArgumentParser(prog=f"rnnlab predict {model_dir}",
                                description="Classify texts with a saved sentiment model. Prints one line per "
                                            "text: label, P(positive), text.")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify; '-' reads lines from stdin")
    p.add_argument("--file", action="append", metavar="F", help="a UTF-8 file, one text per line ('-': stdin)")
    p.add_argument("--json", action="store_true", help="print JSON lines {label, probability, text}")
    p.add_argument("--batch-size", type=positive_int, default=256)
    args = p.parse_args(argv)
    texts = _read_texts(args)
    if not texts:
        raise ValueError("rnnlab predict got no texts; pass them as arguments, with --file F, or '-' for stdin.")
    clf = SentimentClassifier.load(model_dir)
    probs = clf.predict_proba(texts, batch_size=args.batch_size, verbose=1 if len(texts) > 1000 else 0)
    for text, prob in zip(texts, probs):
        label = clf.labels[int(prob >= 0.5)]
        if args.json:
            print(json.dumps({"label": label, "probability": float(prob), "text": text}, ensure_ascii=False))
        else:
            print(f"{label}\t{prob:.4f}\t{text}")
    return 0


def cli_evaluate(model_dir, argv):
    """``rnnlab evaluate MODEL_DIR --data KIND:PATH``: accuracy on the held-out part (or all)."""
    p = argparse.ArgumentParser(prog=f"rnnlab evaluate {model_dir}",
                                description="Accuracy of a saved sentiment model. imdb: the test split; "
                                            "nsmc/csv: the held-out part of the split stored with the model "
                                            "(--split all: every row).")
    _add_data_option(p)
    SentimentConfig.add_arguments(p, only=_CSV_OPTIONS)
    p.add_argument("--split", choices=("test", "train", "all"), default="test")
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    clf = SentimentClassifier.load(model_dir)
    kind, _ = parse_data_spec(args.data)
    # the same data kind: the split the model was trained with; another kind: the default split
    split = clf.config if clf.info.get("data", {}).get("kind") == kind else SentimentConfig()
    train_part, test_part = load_data(args.data, split.test_fraction, split.seed, args.text_column,
                                      args.label_column, args.delimiter, verbose=0 if args.quiet else 1)
    if args.split == "all":
        texts, labels = train_part[0] + test_part[0], np.concatenate([train_part[1], test_part[1]])
    else:
        texts, labels = test_part if args.split == "test" else train_part
    logs = clf.evaluate(texts, labels, batch_size=args.batch_size, verbose=0 if args.quiet else 1)
    print(f"accuracy {logs['accuracy']:.4f}  loss {logs['loss']:.4f}  ({len(texts)} texts, {args.split} split)")
    return 0
