"""``SentimentClassifier``: a trained sentiment network with its tokeniser, vocabulary and settings, so it
reads raw text; ``save`` writes, and ``load`` reads, a self-contained model directory::

    MODEL_DIR/config.json         network + metadata {"task": "sentiment", "config": {SentimentConfig},
                                  "tokenizer": {...}, "vocab_file": "vocab.json", "labels": [...], ...}
    MODEL_DIR/model.safetensors   weights
    MODEL_DIR/vocab.json          the vocabulary

Example::

    from rnnlab.tasks import sentiment
    clf = sentiment.load("runs/imdb")
    clf.predict(["What a film!"])             # ["positive"]
    clf.config.maxlen                         # the SentimentConfig it was trained with
"""
import json
import os

import numpy as np

from ... import models
from ...text import Vocabulary, pad_sequences, tokenizers
from .config import SentimentConfig

TASK = "sentiment"
VOCAB_FILE = "vocab.json"
LABELS = ("negative", "positive")
_OWN_KEYS = ("task", "config", "tokenizer", "vocab_file", "labels")
# Models saved before SentimentConfig existed keep their settings in these keys (see _legacy_config).
_LEGACY_KEYS = ("training", "maxlen", "padding", "truncating")


class SentimentClassifier:
    """A trained network with everything needed to read raw text.

    Args:
        model: a ``Sequential`` mapping ``(N, maxlen)`` ids to ``(N, 1)`` probabilities.
        tokenizer: an rnnlab tokeniser (or its name or ``serialize`` dict); vocab: a ``Vocabulary``.
        maxlen, padding, truncating: as given to ``pad_sequences``; when given they replace those of ``config``.
        info: JSON-able extras saved in the metadata (e.g. the data kind and the test accuracy).
        labels: the names of classes 0 and 1.
        config: the ``SentimentConfig`` the network was trained with (None: the defaults).
    """

    def __init__(self, model, tokenizer, vocab, maxlen=None, padding=None, truncating=None, info=None,
                 labels=LABELS, config=None):
        given = {"maxlen": maxlen, "padding": padding, "truncating": truncating}
        self.config = SentimentConfig.create(config, "SentimentClassifier",
                                             **{k: v for k, v in given.items() if v is not None})
        self.model, self.tokenizer, self.vocab = model, tokenizers.get(tokenizer), vocab
        self.info = dict(info or {})
        self.labels = tuple(labels)

    @property
    def maxlen(self):
        return self.config.maxlen

    @property
    def padding(self):
        return self.config.padding

    @property
    def truncating(self):
        return self.config.truncating

    def encode(self, texts, progress=False):
        """Raw texts -> ``(N, maxlen)`` int32 ids (tokenise, look up, pad/truncate)."""
        if isinstance(texts, str):
            raise TypeError("SentimentClassifier expects a list of texts, got one str; wrap it: [text].")
        tokens = self.tokenizer.tokenize_many(list(texts), progress=progress)
        return pad_sequences(self.vocab.encode_many(tokens), maxlen=self.maxlen, padding=self.padding,
                             truncating=self.truncating)

    def predict_proba(self, texts, batch_size=256, verbose=0):
        """P(positive) for each text, shape ``(N,)``."""
        return self.model.predict(self.encode(texts, progress=verbose == 1), batch_size=batch_size,
                                  verbose=verbose)[:, 0]

    def predict(self, texts, batch_size=256, verbose=0):
        """Label names (``"negative"``/``"positive"``) for each text."""
        return [self.labels[int(p >= 0.5)] for p in self.predict_proba(texts, batch_size, verbose)]

    def evaluate(self, texts, labels, batch_size=256, verbose=0):
        """``{"loss": ..., "accuracy": ...}`` on raw texts and 0/1 labels."""
        x = self.encode(texts, progress=verbose == 1)
        if self.model.loss is None:
            self.model.compile("adam", "binary_crossentropy", ["accuracy"])
        return self.model.evaluate(x, np.asarray(labels), batch_size=batch_size, verbose=verbose,
                                   return_dict=True)

    def metadata(self):
        """The JSON-able dict saved with the network (see the module docstring)."""
        return {"task": TASK, "config": self.config.to_dict(), "tokenizer": tokenizers.serialize(self.tokenizer),
                "vocab_file": VOCAB_FILE, "labels": list(self.labels),
                **{k: v for k, v in self.info.items() if k not in _OWN_KEYS}}

    def save(self, path, extra_files=None):
        """Write the self-contained model directory (network, weights, vocab.json, settings, tokeniser) as one
        unit: it is replaced as a whole (``models.saving``). ``extra_files`` (``{name: bytes}``, e.g. the run's
        history.csv and curves.png) are saved in the same unit."""
        vocab = json.dumps(self.vocab.to_json(), ensure_ascii=False).encode("utf-8")
        self.model.save(path, metadata=self.metadata(), extra_files={**(extra_files or {}), VOCAB_FILE: vocab})

    @classmethod
    def load(cls, path):
        """Read a directory written by ``save`` (or ``rnnlab train sentiment --out``)."""
        from ...models.saving import load_metadata, member_path
        meta = load_metadata(path)
        config_file = os.path.join(str(path), "config.json")
        if meta.get("task") != TASK:
            raise ValueError(f"{str(path)!r} holds a model of task {meta.get('task')!r}, not a sentiment model; "
                             "train one with `rnnlab train sentiment ... --out DIR`.")
        legacy = "config" not in meta and "maxlen" in meta            # saved before SentimentConfig existed
        for key in ("tokenizer", "maxlen" if legacy else "config"):
            if key not in meta:
                raise ValueError(f"{config_file!r}: sentiment metadata lacks {key!r}; the file is damaged. "
                                 "Re-train or re-save the model.")
        where = f"the settings in {config_file!r}"
        config = _legacy_config(meta, where) if legacy else SentimentConfig.from_dict(meta["config"], where)
        vocab = Vocabulary.load(member_path(path, meta.get("vocab_file", VOCAB_FILE), "vocabulary file"))
        model = models.load_model(path)
        emb = model.layers[0]
        if getattr(emb, "input_dim", len(vocab)) < len(vocab):
            raise ValueError(f"{str(path)!r}: vocab.json has {len(vocab)} ids but the Embedding takes only "
                             f"{emb.input_dim}; the directory mixes files of different models.")
        info = {k: v for k, v in meta.items() if k not in _OWN_KEYS + _LEGACY_KEYS}
        if isinstance(info.get("data"), dict):
            info["data"] = {"kind": info["data"].get("kind")}
        return cls(model, meta["tokenizer"], vocab, info=info, labels=meta.get("labels", LABELS), config=config)


def load(path):
    """``SentimentClassifier.load(path)``: the classifier saved in a model directory."""
    return SentimentClassifier.load(path)


def _legacy_config(meta, where):
    """The ``SentimentConfig`` of a model saved before the config record existed: its metadata kept
    maxlen/padding/truncating at the top, the network and training settings under ``"training"`` and the
    split under ``"data"`` (``split_seed`` = the seed). Settings it lacks take their defaults."""
    data = meta.get("data") if isinstance(meta.get("data"), dict) else {}
    values = {**meta.get("training", {}), **{k: meta[k] for k in ("maxlen", "padding", "truncating") if k in meta},
              **{k: data[k] for k in ("test_fraction", "text_column", "label_column", "delimiter") if k in data}}
    if "split_seed" in data:
        values.setdefault("seed", data["split_seed"])
    return SentimentConfig.from_dict(values, where)
