"""Language models and text generation (word-level Penn Treebank, character-level Shakespeare or Korean).

    from rnnlab.tasks import lm
    model, report = lm.train("ptb:../shared/data/ptb", preset="zaremba-small", out="runs/ptb")
    model.generate("the company said", length=30, temperature=0.8, top_k=40, seed=0)

Modules: ``config`` (LMConfig and presets), ``data`` (corpora), ``network`` (the model), ``training``
(truncated BPTT, checkpoints), ``language_model`` (scoring, generation, saving), ``cli`` (the commands
``rnnlab train lm``, ``rnnlab generate``, ``rnnlab evaluate``).
"""
from .config import PRESETS, LMConfig
from .data import Corpus, load_corpus, parse_data_spec
from .language_model import LanguageModel, load
from .network import build_model
from .training import evaluate, train


def register_train(subparsers):
    from .cli import register_train as register
    return register(subparsers)


def cli_generate(model_dir, argv):
    from .cli import cli_generate as run
    return run(model_dir, argv)


def cli_evaluate(model_dir, argv):
    from .cli import cli_evaluate as run
    return run(model_dir, argv)
