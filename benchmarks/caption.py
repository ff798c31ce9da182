"""Captioning on the built-in shapes images: exact-caption rate and BLEU of both conditioning styles (the vector
repeated at every step, and the vector as the initial state), on the held-out random split and on the split of
unseen colour-shape combinations, with greedy search and beam search. A decoder-only baseline follows: the
same decoders trained on "oracle" vectors (each scene's attributes as one-hot blocks, ``shapes.attributes``)
through the user-pairs path (``features.npy`` + ``captions.txt``), which separates what the image encoder
entangles from what the decoder can compose.

    python benchmarks/caption.py                              # the full run (about 15 minutes on one core)
    python benchmarks/caption.py --images 1000 --epochs 5     # a quick look
    python benchmarks/caption.py --styles repeat --beam 5 --samples runs/caption-samples.png

Run it single-threaded for comparable figures: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe  # noqa: E402

import numpy as np  # noqa: E402

from rnnlab.tasks import caption  # noqa: E402
from rnnlab.tasks.caption import shapes  # noqa: E402
from rnnlab.tasks.caption.shapes import HELD_OUT  # noqa: E402
from rnnlab.tasks.caption.training import held_out_splits  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--styles", nargs="+", default=["repeat", "init_state"], choices=("repeat", "init_state"))
    p.add_argument("--images", type=int, default=8000, help="training images")
    p.add_argument("--test-images", type=int, default=500, help="images of each held-out split")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--encoder", default="conv", choices=("dense", "conv"))
    p.add_argument("--encoder-units", type=int, default=64)
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--cell", default="lstm", choices=("lstm", "gru"))
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--beam", type=int, default=3, help="beam width for the beam-search rows")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", help="write a PNG sheet of held-out images with the last style's captions")
    p.add_argument("--oracle-epochs", type=int, default=15, help="epochs of the oracle-vector baseline (0: skip it)")
    args = p.parse_args(argv)
    print(describe())
    print(f"data: {args.images} training images {args.image_size}x{args.image_size}, {args.test_images} per held-out "
          f"split; unseen (colour, shape) pairs: {', '.join(' '.join(h) for h in HELD_OUT)}")
    rows = []
    for style in args.styles:
        t0 = time.perf_counter()
        cap, report = caption.train(conditioning=style, images=args.images, test_images=args.test_images,
                                    epochs=args.epochs, encoder=args.encoder, encoder_units=args.encoder_units,
                                    units=args.units, cell=args.cell, image_size=args.image_size, seed=args.seed,
                                    verbose=2)
        print(f"\n{style}: {cap.config.to_dict()}")
        print(f"  trained in {report['train_seconds']:.0f}s; final loss {report['loss'][-1]:.4f}")
        splits = held_out_splits(cap.config)
        for name, pairs in splits.items():
            for beam in (1, args.beam):
                r = report[name] if beam == 1 else cap.evaluate(pairs.inputs, pairs.captions, beam=beam)
                rows.append((style, name, "greedy" if beam == 1 else f"beam {beam}", r["exact"], r["bleu"], r["n"],
                             "image"))
        one = [c.count(" ") < 4 for c in splits["test"].captions]
        hyps = cap.caption(splits["test"].inputs)
        exact = [h == c for h, c in zip(hyps, splits["test"].captions)]
        for k, label in ((True, "one object"), (False, "two objects")):
            sel = [e for e, o in zip(exact, one) if o == k]
            print(f"  test, {label}: exact {100 * sum(sel) / max(1, len(sel)):.1f}% of {len(sel)}")
        for h, c in list(zip(cap.caption(splits["unseen"].inputs[:4]), splits["unseen"].captions))[:4]:
            print(f"  unseen: model {h!r:52} true {c!r}")
        print(f"  wall {time.perf_counter() - t0:.0f}s")
        if args.samples and style == args.styles[-1]:
            from rnnlab.tasks.caption.pictures import save_sheet
            images = np.concatenate([splits["test"].inputs[:8], splits["unseen"].inputs[:8]])
            refs = splits["test"].captions[:8] + splits["unseen"].captions[:8]
            save_sheet(args.samples, images, [f"model: {h}\ntrue: {r}" for h, r in zip(cap.caption(images), refs)])
            print(f"  wrote {args.samples}")
    if args.oracle_epochs:
        rows += oracle_baseline(args)
    print("\ninput    conditioning  split   decoding  exact %   BLEU    n")
    for style, name, dec, exact, bleu, n, source in rows:
        print(f"{source:7}  {style:12}  {name:6}  {dec:8}  {100 * exact:6.1f}  {bleu:6.1f}  {n:4d}")


def oracle_baseline(args):
    """Both decoders on the scenes' attribute vectors, written as user files and read back by caption.train."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sets = {}
        for split, n in (("train", args.images), ("test", args.test_images), ("unseen", args.test_images)):
            _, captions, scenes = shapes.make_split(split, n, size=args.image_size, seed=args.seed)
            sets[split] = (np.stack([shapes.attributes(s) for s in scenes]), captions)
        np.save(os.path.join(tmp, "features.npy"), sets["train"][0])
        with open(os.path.join(tmp, "captions.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(sets["train"][1]) + "\n")
        for style in args.styles:
            cap, report = caption.train(features=os.path.join(tmp, "features.npy"),
                                        captions=os.path.join(tmp, "captions.txt"), conditioning=style,
                                        epochs=args.oracle_epochs, units=args.units, cell=args.cell, seed=args.seed,
                                        valid_fraction=0, verbose=0)
            print(f"\noracle vectors, {style}: trained in {report['train_seconds']:.0f}s")
            for split in ("test", "unseen"):
                r = cap.evaluate(*sets[split])
                rows.append((style, split, "greedy", r["exact"], r["bleu"], r["n"], "oracle"))
    return rows


if __name__ == "__main__":
    main()
