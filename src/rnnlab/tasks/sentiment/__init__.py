"""Sentiment analysis of movie reviews: IMDb in English, NSMC in Korean, or your own CSV of labelled texts::

    text --tokeniser--> words --Vocabulary (top-k by frequency)--> ids --pad_sequences(T)--> (N, T)
    Embedding -> [Conv1D + MaxPooling1D] -> SimpleRNN | LSTM | GRU | BiLSTM -> last | mean | max | concat
    -> [Dropout] -> Dense(1, sigmoid) = P(positive | text); binary cross-entropy, Adam (or RMSprop, ...)

Modules, one concept each:

    config      SentimentConfig: every setting (name, type, default, choices, help), declared once
    data        data specs KIND:PATH (imdb, nsmc, csv) and the train/test split
    network     build_model: the network for a config
    training    train: data -> vocabulary -> trained SentimentClassifier (+ a report)
    classifier  SentimentClassifier: predicts raw text; save/load of the model directory
    cli         rnnlab train/predict/evaluate sentiment (flags generated from SentimentConfig)

Example::

    from rnnlab.tasks import sentiment
    clf, report = sentiment.train("imdb:data/imdb/aclImdb_labeled.tar.xz", model="lstm", epochs=3, out="runs/imdb")
    clf.predict_proba(["I loved it"])          # array([0.97...], dtype=float32)
    sentiment.load("runs/imdb").config == clf.config       # True: the settings are saved with the model
"""
from .classifier import LABELS, TASK, VOCAB_FILE, SentimentClassifier, load
from .config import DATA_KINDS, DEFAULT_TOKENIZER, MODELS, POOLINGS, SentimentConfig
from .data import load_data, parse_data_spec
from .network import build_model
from .training import train

__all__ = ["DATA_KINDS", "DEFAULT_TOKENIZER", "LABELS", "MODELS", "POOLINGS", "TASK", "VOCAB_FILE",
           "SentimentClassifier", "SentimentConfig", "build_model", "load", "load_data", "parse_data_spec", "train"]

_CLI = ("register_train", "cli_predict", "cli_evaluate")


def __getattr__(name):
    """The command-line entry points live in ``.cli``; they stay reachable here, imported on first use."""
    if name in _CLI:
        from . import cli
        return getattr(cli, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
