"""Captioning as vector-to-sequence: a word decoder conditioned on a vector, the vector either joined to the
input at every step (``repeat``) or made into the decoder's initial state (``init_state``, Show and Tell).

    from rnnlab.tasks import caption
    cap, report = caption.train(conditioning="repeat", out="runs/shapes")      # the built-in shapes images
    report["test"], report["unseen"]                                            # exact-caption rate, BLEU
    cap.caption(images[:2], beam=3)
    cap, report = caption.train(features="feats.npy", captions="caps.txt")     # any (vector, caption) pairs

Modules: ``config`` (CaptionConfig), ``shapes`` (the renderer and grammar of the built-in dataset),
``data`` (datasets, vocabulary, padded ids), ``network`` (encoder and conditioned decoder), ``captioner``
(decoding, scores, the model directory), ``training``, ``pictures`` (PNG files), ``cli`` (``rnnlab train
caption``, ``rnnlab predict``/``evaluate MODEL_DIR``).
"""
from .captioner import Captioner, corpus_bleu, load
from .config import CaptionConfig
from .data import Pairs, build_vocabulary, encode_captions, load_pairs, tokenize
from .network import build_model
from .shapes import HELD_OUT, describe, make_split, render
from .training import train


def register_train(subparsers):
    from .cli import register_train as register
    return register(subparsers)


def cli_predict(model_dir, argv):
    from .cli import cli_predict as run
    return run(model_dir, argv)


def cli_caption(model_dir, argv):
    from .cli import cli_predict as run
    return run(model_dir, argv)


def cli_evaluate(model_dir, argv):
    from .cli import cli_evaluate as run
    return run(model_dir, argv)
