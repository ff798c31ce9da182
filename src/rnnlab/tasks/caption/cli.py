"""The captioning task's command line, plugged into ``rnnlab.cli`` (``TASKS["caption"]``)::

    rnnlab train caption --conditioning repeat --out runs/shapes --samples runs/shapes/samples.png
    rnnlab train caption --features feats.npy --captions caps.txt --out runs/mine
    rnnlab predict runs/shapes --image scene.png [more.png ...] [--beam 3]
    rnnlab predict runs/mine --vector vec.npy                   # a (D,) vector or (N, D) rows
    rnnlab evaluate runs/shapes [--split unseen] [--beam 3]     # the built-in held-out splits
    rnnlab evaluate runs/mine --features f.npy --captions c.txt

The flags of ``rnnlab train caption`` other than ``--features``, ``--captions``, ``--out``, ``--samples``,
``--beam`` and ``--quiet`` come from ``CaptionConfig``.
"""
import argparse
import os

import numpy as np

from .captioner import load
from .config import CaptionConfig
from .data import load_features, load_pairs
from .training import held_out_splits, train


def _add_beam(p):
    p.add_argument("--beam", type=int, default=1, help="beam width (1: greedy search)")


def register_train(subparsers):
    p = subparsers.add_parser(
        "caption", help="captioning: a decoder conditioned on a vector (built-in shapes images or your features)",
        description="Train a captioner: an image encoder (or your feature vectors) and a word decoder conditioned "
                    "on the vector at every step or through its initial state; report the exact-caption rate and "
                    "BLEU on held-out pairs (and, for the built-in shapes, on unseen colour-shape combinations).")
    p.add_argument("--features", metavar="FILE.npy", help="your (N, D) feature vectors (with --captions)")
    p.add_argument("--captions", metavar="FILE.txt", help="your captions, one per line, line i for row i-1")
    CaptionConfig.add_arguments(p)
    p.add_argument("--out", metavar="MODEL_DIR", help="write the model directory here")
    p.add_argument("--samples", metavar="FILE.png", help="built-in data: a sheet of held-out images with captions")
    _add_beam(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_train_main)
    return p


def _print_scores(name, r, beam):
    print(f"{name}: exact {100 * r['exact']:.1f}%  BLEU {r['bleu']:.1f}  ({r['n']} pairs, "
          f"{'greedy' if beam == 1 else f'beam {beam}'})")


def _train_main(args):
    config = CaptionConfig.from_args(args, "rnnlab train caption")
    cap, report = train(config, features=args.features, captions=args.captions, out=args.out,
                        verbose=0 if args.quiet else 1)
    for name in ("test", "unseen"):
        if name in report:
            _print_scores(name, report[name], 1)
    if args.beam > 1 or args.samples:
        splits = held_out_splits(config) if args.features is None else {}
        for name, pairs in splits.items():
            if args.beam > 1:
                _print_scores(name, cap.evaluate(pairs.inputs, pairs.captions, beam=args.beam), args.beam)
        if args.samples and splits:
            from .pictures import save_sheet
            images = np.concatenate([splits["test"].inputs[:8], splits["unseen"].inputs[:8]])
            refs = splits["test"].captions[:8] + splits["unseen"].captions[:8]
            hyps = cap.caption(images, beam=args.beam)
            save_sheet(args.samples, images, [f"model: {h}\ntrue: {r}" for h, r in zip(hyps, refs)])
            print(f"wrote {args.samples}")
    print(f"wall {report['wall_seconds']:.0f}s" + (f"; saved to {args.out}" if args.out else ""))
    return 0


def cli_predict(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab caption {model_dir}",
                                description="Caption images (PNG) or feature vectors (.npy) with a trained captioner.")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--image", nargs="+", metavar="FILE.png", help="PNG images of the size the model was trained on")
    group.add_argument("--vector", metavar="FILE.npy", help="a (D,) vector or (N, D) vectors")
    _add_beam(p)
    p.add_argument("--max-length", type=int, default=None, help="most words (default: the training maximum + 1)")
    args = p.parse_args(argv)
    if args.beam < 1:
        raise ValueError(f"--beam must be a positive integer (1: greedy), got {args.beam}.")
    if args.max_length is not None and args.max_length < 1:
        raise ValueError(f"--max-length must be a positive integer, got {args.max_length}.")
    cap = load(model_dir)
    if args.image:
        if cap.kind != "image":
            raise ValueError(f"The captioner in {model_dir!r} reads feature vectors of size {cap.input_shape[0]}, "
                             "not images; pass --vector FILE.npy.")
        from .pictures import read_png
        names, x = args.image, []
        for path in names:
            image = read_png(path)
            cap.prepare(image, what=f"--image {path}")
            x.append(image)
        x = np.stack(x)
    else:
        if cap.kind != "vector":
            raise ValueError(f"The captioner in {model_dir!r} reads {cap.input_shape[0]}x{cap.input_shape[1]} "
                             "images, not feature vectors; pass --image FILE.png.")
        x = load_features(args.vector, "vector file")
        cap.prepare(x, what=f"--vector {args.vector}")
        names = [f"{args.vector}[{i}]" for i in range(len(x))]
    captions = cap.caption(x, beam=args.beam, max_length=args.max_length)
    for name, text in zip(names, captions):
        print(text if len(captions) == 1 else f"{os.path.basename(name)}\t{text}")
    return 0


def cli_evaluate(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab evaluate {model_dir}",
                                description="Exact-caption rate and BLEU of a captioner: on the built-in held-out "
                                            "splits (random and unseen combinations) or on your pairs.")
    p.add_argument("--features", metavar="FILE.npy", help="your (N, D) feature vectors (with --captions)")
    p.add_argument("--captions", metavar="FILE.txt", help="their captions, one per line")
    p.add_argument("--split", choices=("test", "unseen", "both"), default="both", help="built-in held-out split")
    p.add_argument("--images", type=int, default=None, help="built-in: images per split (default: as trained)")
    _add_beam(p)
    args = p.parse_args(argv)
    if args.beam < 1:
        raise ValueError(f"--beam must be a positive integer (1: greedy), got {args.beam}.")
    cap = load(model_dir)
    if args.features or args.captions:
        if not (args.features and args.captions):
            raise ValueError("Give both --features FILE.npy and --captions FILE.txt (one caption per line).")
        pairs = load_pairs(args.features, args.captions)
        _print_scores("pairs", cap.evaluate(pairs.inputs, pairs.captions, beam=args.beam), args.beam)
        return 0
    if cap.kind != "image":
        raise ValueError(f"The captioner in {model_dir!r} was trained on feature vectors; pass --features FILE.npy "
                         "and --captions FILE.txt to evaluate it.")
    config = cap.config if args.images is None else CaptionConfig.create(cap.config, "--images",
                                                                         test_images=args.images)
    for name, pairs in held_out_splits(config).items():
        if args.split in (name, "both"):
            _print_scores(name, cap.evaluate(pairs.inputs, pairs.captions, beam=args.beam), args.beam)
    return 0
