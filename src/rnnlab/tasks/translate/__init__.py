"""Translation of short sentences (Tatoeba English–French, English–Korean): a bidirectional LSTM/GRU encoder,
a decoder with Bahdanau (additive) or Luong (multiplicative) attention or none, greedy and beam search,
BLEU/chrF.

    from rnnlab.tasks import translate
    tr, report = translate.train("tatoeba:../shared/data/tatoeba/fra.txt.xz", src="en", tgt="fr", out="runs/fr")
    tr.translate("I love you.", beam_width=5)
    translate.evaluate(tr, "tatoeba:../shared/data/tatoeba/fra.txt.xz")["bleu"]

Modules: ``config`` (TranslateConfig), ``data`` (reading, tokenising, the split by source sentence,
vocabularies, batches), ``network`` (the model), ``training`` (teacher forcing), ``translator`` (decoding,
attention weights, saving), ``evaluation`` (BLEU, chrF, exact match), ``plots`` (attention maps), ``cli``
(``rnnlab train translate``, ``rnnlab predict``, ``rnnlab evaluate``).
"""
from .config import TranslateConfig
from .data import Dataset, detokenize, load_dataset, tokenize
from .evaluation import corpus_scores, evaluate
from .network import build_model
from .training import train
from .translator import Translator, load


def register_train(subparsers):
    from .cli import register_train as register
    return register(subparsers)


def cli_predict(model_dir, argv):
    from .cli import cli_predict as run
    return run(model_dir, argv)


def cli_evaluate(model_dir, argv):
    from .cli import cli_evaluate as run
    return run(model_dir, argv)


__all__ = ["TranslateConfig", "Dataset", "detokenize", "load_dataset", "tokenize", "corpus_scores", "evaluate",
           "build_model", "train", "Translator", "load", "register_train", "cli_predict", "cli_evaluate"]
