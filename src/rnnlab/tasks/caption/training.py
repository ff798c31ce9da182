"""Training a captioner by teacher forcing, then scoring it on held-out pairs.

    v = encoder(x)                                           image or feature vector -> (N, vector_dim)
    loss = mean_{n,t} -log p(y_t | y_<t, v)                  over the T steps of each padded caption
    Adam (optionally clipped to a global norm), ``epochs`` passes, shuffled batches

Data: the built-in shapes dataset (``images`` training images; ``test_images`` each for the held-out random
split ``test`` and the ``unseen`` split of held-out colour-shape pairs), or the user's ``features.npy`` +
``captions.txt`` (the last ``valid_fraction`` held out as ``test``). The vocabulary comes from the training
captions only. The report holds the loss history and, per held-out split, the exact-caption rate and BLEU
of greedy decoding.

Example::

    cap, report = train(conditioning="repeat", images=2000, epochs=20, out="runs/caption")
    report["test"]["exact"], report["unseen"]["bleu"]
    cap, report = train(features="feats.npy", captions="caps.txt", out="runs/mine")
"""
import time

from ... import optimizers, utils
from ...artifacts import run_artifact_files
from .captioner import Captioner
from .config import CaptionConfig
from .data import build_vocabulary, builtin, decoder_length, encode_captions, load_pairs, split_pairs
from .network import build_model


def held_out_splits(config):
    """The built-in dataset's evaluation splits: ``{"test": Pairs, "unseen": Pairs}``."""
    return {split: builtin(split, config.test_images, config) for split in ("test", "unseen")}


def load_data(config, features=None, captions=None):
    """``(train Pairs, {split name: Pairs})``: user pairs when ``features`` and ``captions`` are given, else the
    built-in shapes dataset."""
    if (features is None) != (captions is None):
        raise ValueError(f"Got features={features!r} and captions={captions!r}; give both files (vectors and one "
                         "caption per line) or neither (the built-in shapes dataset).")
    if features is None:
        return builtin("train", config.images, config), held_out_splits(config)
    train_pairs, held = split_pairs(load_pairs(features, captions), config.valid_fraction)
    return train_pairs, ({"test": held} if held is not None else {})


def train(config=None, *, features=None, captions=None, out=None, verbose=1, **settings):
    """Train a captioner; returns ``(Captioner, report)``.

    Args:
        config: a ``CaptionConfig`` (None: the defaults); ``settings``: overrides of its fields.
        features, captions: a ``.npy`` file of (N, D) vectors and a text file of N captions (None: built-in).
        out: write the model directory here when done.
        verbose: 0 silent, 1 progress bars, 2 one line per epoch.
    """
    start = time.perf_counter()
    config = CaptionConfig.create(config, "train", **settings)
    utils.set_random_seed(config.seed)
    train_pairs, held = load_data(config, features, captions)
    vocab = build_vocabulary(train_pairs.captions)
    length = decoder_length(train_pairs.captions + [c for p in held.values() for c in p.captions])
    input_shape = train_pairs.inputs.shape[1:]
    model = build_model(config, len(vocab), input_shape, length)
    model.compile(optimizers.Adam(learning_rate=config.lr, global_clipnorm=config.clipnorm),
                  "sparse_categorical_crossentropy")
    cap = Captioner(model, vocab, config, {"input_shape": list(input_shape), "length": length})
    dec_in, target = encode_captions(train_pairs.captions, vocab, length)
    x = cap.prepare(train_pairs.inputs, "training inputs")
    t0 = time.perf_counter()
    history = model.fit([x, dec_in], target, batch_size=config.batch_size, epochs=config.epochs, verbose=verbose,
                        shuffle=True)
    seconds = time.perf_counter() - t0
    losses = [float(v) for v in history.history["loss"]]
    report = {"loss": losses, "train_seconds": seconds, "vocab_size": len(vocab), "length": length,
              "train_pairs": len(train_pairs.captions)}
    for name, pairs in held.items():
        report[name] = cap.evaluate(pairs.inputs, pairs.captions)
    cap.info.update(epochs=config.epochs, loss=losses,
                    scores={k: {m: report[k][m] for m in ("exact", "bleu", "n")} for k in held})
    if out is not None:                        # the model and the run's history/curves/settings, one unit
        data = {"features": features, "captions": captions} if features is not None else "builtin:shapes"
        cap.save(out, extra_files=run_artifact_files(history, {"data": data, **config.to_dict()}))
    report["wall_seconds"] = time.perf_counter() - start
    return cap, report
