"""Sentiment analysis of movie reviews (seed 004): IMDb in English, NSMC in Korean, or your own CSV.

The pipeline, as the notes lay it out::

    text --tokeniser--> words --Vocabulary (top-k by frequency)--> ids --pad_sequences(T)--> (N, T)
    Embedding(V, E, mask_zero=True)            (N, T) -> (N, T, E)       id 0 = padding, masked
    [Conv1D + MaxPooling1D]                    conv_lstm only: shorter sequences
    SimpleRNN | LSTM | GRU | Bidirectional(LSTM)                         h_1 .. h_T
    pooling: last   h_T                        (N, H)      the final state
             mean   (1/T) sum_t h_t            (N, H)      over real (unmasked) steps
             max    max_t h_t                  (N, H)      over real steps
             concat Flatten(h_1 .. h_T)        (N, T*H)    every hidden state side by side
    [Dropout]  Dense(1, sigmoid)               p = P(positive | text)
    loss: binary cross-entropy; Adam (or RMSprop, SGD, Adagrad: optimizer=)

``SentimentClassifier`` bundles the network with its tokeniser, vocabulary and padding settings,
so ``clf.predict_proba(["What a film!"])`` works on raw text, and ``clf.save(dir)`` writes a
self-contained model directory::

    MODEL_DIR/config.json         network + metadata {"task": "sentiment", "tokenizer": {...}, "maxlen": ..., ...}
    MODEL_DIR/model.safetensors   weights
    MODEL_DIR/vocab.json          the vocabulary

Command line (plugged into ``rnnlab.cli``)::

    rnnlab train sentiment --data imdb:PATH --model lstm --pooling mean --epochs 3 --out runs/imdb
    rnnlab predict runs/imdb "A wonderful, moving film." --file reviews.txt
    echo "Terrible." | rnnlab predict runs/imdb -
    rnnlab evaluate runs/imdb --data imdb:PATH

Data specs: ``imdb:PATH`` (aclImdb folder or .tar.xz; its own 25k/25k split), ``nsmc:PATH`` and
``csv:PATH`` (split by ``datasets.train_test_split(test_fraction, seed)``, stored with the model so
``evaluate`` scores the same held-out part).

Python::

    from rnnlab.tasks import sentiment
    clf, report = sentiment.train("imdb:data/imdb/aclImdb_labeled.tar.xz", model="lstm", epochs=3)
    clf.predict_proba(["I loved it"])        # array([0.97...], dtype=float32)
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from .. import callbacks, datasets, layers, models, optimizers, utils
from ..text import Vocabulary, pad_sequences, tokenizers

TASK = "sentiment"
VOCAB_FILE = "vocab.json"
MODELS = ("simple_rnn", "lstm", "gru", "bilstm", "conv_lstm")
POOLINGS = ("last", "mean", "max", "concat")
DATA_KINDS = ("imdb", "nsmc", "csv")
DEFAULT_TOKENIZER = {"imdb": "english", "nsmc": "korean", "csv": "english"}
LABELS = ("negative", "positive")
DEFAULTS = dict(model="lstm", pooling="mean", vocab_size=20000, maxlen=200, embed_dim=64, units=64,
                epochs=3, batch_size=64, optimizer="adam", lr=1e-3, clipnorm=None, dropout=0.0, rnn_dropout=0.0,
                padding="pre", truncating="pre", seed=0, test_fraction=0.2, validation_split=0.0, patience=None,
                ema=None)


# ---- the network ----------------------------------------------------------------------------------------

def build_model(model="lstm", vocab_size=20000, maxlen=200, embed_dim=64, units=64, pooling="mean", dropout=0.0,
                rnn_dropout=0.0, conv_filters=64, conv_kernel=5, pool_size=4):
    """The seed-004 network (see the module docstring); output ``(N, 1)`` = P(positive).

    Args:
        model: ``"simple_rnn"``, ``"lstm"``, ``"gru"``, ``"bilstm"`` (Bidirectional LSTM, concat) or
            ``"conv_lstm"`` (Conv1D(relu, same) + MaxPooling1D before the LSTM).
        pooling: how every hidden state is used: ``"last"``, ``"mean"``, ``"max"``, ``"concat"``.
        vocab_size: Embedding input size (= ``len(vocabulary)``); maxlen: padded length T.
        dropout: rate of a ``Dropout`` before the output layer (0: none).
        rnn_dropout: the recurrent layer's ``dropout=`` (variational: one mask over the embedding
            features per review, the same at every step; both directions of a BiLSTM).

    Example::

        net = build_model("bilstm", vocab_size=20000, maxlen=500, pooling="mean", dropout=0.5, rnn_dropout=0.4)
    """
    if model not in MODELS:
        raise ValueError(f"Unknown sentiment model {model!r}; expected one of {MODELS}.")
    if pooling not in POOLINGS:
        raise ValueError(f"Unknown pooling {pooling!r}; expected one of {POOLINGS}.")
    for arg, v in (("vocab_size", vocab_size), ("maxlen", maxlen), ("embed_dim", embed_dim), ("units", units)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"build_model got {arg}={v!r}; expected a positive integer.")
    for arg, v in (("dropout", dropout), ("rnn_dropout", rnn_dropout)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
            raise ValueError(f"build_model got {arg}={v!r}; expected a rate in [0, 1), e.g. 0.5.")
    seqs = pooling != "last"
    net = [layers.Embedding(vocab_size, embed_dim, mask_zero=True, input_length=maxlen)]
    if model == "conv_lstm":
        net += [layers.Conv1D(conv_filters, conv_kernel, padding="same", activation="relu"),
                layers.MaxPooling1D(pool_size)]
    rnn = {"simple_rnn": layers.SimpleRNN, "gru": layers.GRU}.get(model, layers.LSTM)
    net.append(layers.Bidirectional(layers.LSTM(units, return_sequences=seqs, dropout=rnn_dropout))
               if model == "bilstm" else rnn(units, return_sequences=seqs, dropout=rnn_dropout))
    if pooling == "mean":
        net.append(layers.GlobalAveragePooling1D())
    elif pooling == "max":
        net.append(layers.GlobalMaxPooling1D())
    elif pooling == "concat":
        net.append(layers.Flatten())
    if dropout:
        net.append(layers.Dropout(dropout))
    net.append(layers.Dense(1, activation="sigmoid"))
    return models.Sequential(net, name=f"sentiment_{model}_{pooling}")


# ---- the classifier: network + tokeniser + vocabulary ----------------------------------------------------

class SentimentClassifier:
    """A trained network with everything needed to read raw text.

    Args:
        model: a ``Sequential`` mapping ``(N, maxlen)`` ids to ``(N, 1)`` probabilities.
        tokenizer: an rnnlab tokeniser; vocab: a ``Vocabulary``.
        maxlen, padding, truncating: as given to ``pad_sequences``.
        info: JSON-able extras saved in the metadata (data spec, split, training settings).
    """

    def __init__(self, model, tokenizer, vocab, maxlen, padding="pre", truncating="pre", info=None,
                 labels=LABELS):
        self.model, self.tokenizer, self.vocab = model, tokenizers.get(tokenizer), vocab
        self.maxlen, self.padding, self.truncating = int(maxlen), padding, truncating
        self.info = dict(info or {})
        self.labels = tuple(labels)

    def encode(self, texts, progress=False):
        """Raw texts → ``(N, maxlen)`` int32 ids (tokenise, look up, pad/truncate)."""
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
        return {"task": TASK, "tokenizer": tokenizers.serialize(self.tokenizer), "vocab_file": VOCAB_FILE,
                "maxlen": self.maxlen, "padding": self.padding, "truncating": self.truncating,
                "labels": list(self.labels), **{k: v for k, v in self.info.items() if k != "task"}}

    def save(self, path):
        """Write the self-contained model directory (network, weights, vocab.json, tokeniser settings)."""
        os.makedirs(path, exist_ok=True)
        self.vocab.save(os.path.join(path, VOCAB_FILE))
        self.model.save(path, metadata=self.metadata())

    @classmethod
    def load(cls, path):
        """Read a directory written by ``save`` (or ``rnnlab train sentiment --out``)."""
        from ..models.saving import load_metadata
        meta = load_metadata(path)
        if meta.get("task") != TASK:
            raise ValueError(f"{str(path)!r} holds a model of task {meta.get('task')!r}, not a sentiment model; "
                             "train one with `rnnlab train sentiment ... --out DIR`.")
        for key in ("tokenizer", "maxlen"):
            if key not in meta:
                raise ValueError(f"{os.path.join(str(path), 'config.json')!r}: sentiment metadata lacks {key!r}; "
                                 "the file is damaged. Re-train or re-save the model.")
        vocab = Vocabulary.load(os.path.join(path, meta.get("vocab_file", VOCAB_FILE)))
        model = models.load_model(path)
        emb = model.layers[0]
        if getattr(emb, "input_dim", len(vocab)) < len(vocab):
            raise ValueError(f"{str(path)!r}: vocab.json has {len(vocab)} ids but the Embedding takes only "
                             f"{emb.input_dim}; the directory mixes files of different models.")
        info = {k: v for k, v in meta.items() if k not in ("tokenizer", "vocab_file", "maxlen", "padding",
                                                             "truncating", "labels")}
        return cls(model, tokenizers.deserialize(meta["tokenizer"]), vocab, meta["maxlen"],
                   meta.get("padding", "pre"), meta.get("truncating", "pre"), info, meta.get("labels", LABELS))


# ---- data ----------------------------------------------------------------------------------------------

def parse_data_spec(spec):
    """``"imdb:PATH"`` → ``("imdb", "PATH")``."""
    kind, sep, path = str(spec).partition(":")
    if not sep or kind not in DATA_KINDS or not path:
        raise ValueError(f"--data got {spec!r}; expected KIND:PATH with KIND one of {DATA_KINDS}, "
                         "e.g. imdb:data/imdb/aclImdb_labeled.tar.xz or nsmc:ratings_test.txt.xz.")
    return kind, path


def load_data(spec, test_fraction=0.2, seed=0, text_column="text", label_column="label", delimiter=",",
              verbose=0):
    """``(train_texts, train_labels), (test_texts, test_labels)`` for a data spec.

    IMDb keeps its own train/test split; NSMC and CSV files are split with
    ``datasets.train_test_split(texts, labels, test_fraction, seed)``.
    """
    kind, path = parse_data_spec(spec)
    if kind == "imdb":
        return datasets.load_imdb(path, progress=verbose == 1)
    if kind == "nsmc":
        texts, labels = datasets.load_nsmc(path)
    else:
        texts, labels = datasets.load_csv(path, text_column, label_column, delimiter=delimiter)
    return datasets.train_test_split(texts, labels, test_fraction=test_fraction, seed=seed)


def _subset(texts, labels, n, seed):
    if n is None or n >= len(texts):
        return texts, labels
    idx = np.sort(np.random.default_rng(seed).permutation(len(texts))[:n])
    return [texts[i] for i in idx], labels[idx]


# ---- training ------------------------------------------------------------------------------------------

def train(data, model=DEFAULTS["model"], pooling=DEFAULTS["pooling"], tokenizer=None,
          vocab_size=DEFAULTS["vocab_size"], maxlen=DEFAULTS["maxlen"], embed_dim=DEFAULTS["embed_dim"],
          units=DEFAULTS["units"], epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"],
          optimizer=DEFAULTS["optimizer"], lr=DEFAULTS["lr"], clipnorm=DEFAULTS["clipnorm"],
          dropout=DEFAULTS["dropout"], rnn_dropout=DEFAULTS["rnn_dropout"], padding=DEFAULTS["padding"],
          truncating=DEFAULTS["truncating"], seed=DEFAULTS["seed"], test_fraction=DEFAULTS["test_fraction"],
          validation_split=DEFAULTS["validation_split"], patience=DEFAULTS["patience"], ema=DEFAULTS["ema"],
          max_train=None, max_test=None, text_column="text", label_column="label", delimiter=",", out=None,
          verbose=1):
    """Load, tokenise, build the vocabulary, train, evaluate on the held-out part, optionally save.

    Returns ``(classifier, report)``; ``report`` has ``test_accuracy``, ``test_loss``, ``history``,
    ``tokenize_seconds`` (train + test texts), ``train_seconds``, ``wall_seconds`` and the sizes.
    ``max_train``/``max_test`` take a seeded random subset (for quick tuning runs).

    The training texts are shuffled once (with ``seed``) before anything else: IMDb's files come
    sorted by label, and ``validation_split`` holds out the *last* part of the training data (as
    Keras does), which would otherwise be one class only. With ``validation_split > 0`` and
    ``patience``, training stops when the validation loss has not improved for ``patience``
    epochs and the weights of the best epoch are restored (``callbacks.EarlyStopping``).
    ``ema`` (e.g. 0.998) trains with the optimiser's ``use_ema=True, ema_momentum=ema``: the model
    ends with the moving average of its weights over the last ~1/(1 - ema) steps.
    """
    wall = time.perf_counter()
    kind, _ = parse_data_spec(data)
    for arg, v, ok in (("padding", padding, ("pre", "post")), ("truncating", truncating, ("pre", "post"))):
        if v not in ok:
            raise ValueError(f"train got {arg}={v!r}; expected 'pre' or 'post'.")
    build_model(model, vocab_size, maxlen, embed_dim, units, pooling, dropout, rnn_dropout)   # validate early
    if optimizer not in optimizers.OPTIMIZERS:
        raise ValueError(f"train got optimizer={optimizer!r}; expected one of {sorted(optimizers.OPTIMIZERS)}.")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 0):
        raise ValueError(f"train got patience={patience!r}; expected a non-negative integer (epochs) or None.")
    if patience is not None and not validation_split:
        raise ValueError(f"train got patience={patience} but validation_split={validation_split!r}; early "
                         "stopping watches the validation loss, so also pass validation_split, e.g. 0.1.")
    tok = tokenizers.get(tokenizer or DEFAULT_TOKENIZER[kind])
    utils.set_random_seed(seed)
    (train_texts, y_train), (test_texts, y_test) = load_data(data, test_fraction, seed, text_column,
                                                             label_column, delimiter, verbose)
    train_texts, y_train = _subset(train_texts, y_train, max_train, seed)
    order = np.random.default_rng(seed).permutation(len(train_texts))              # mix the classes
    train_texts, y_train = [train_texts[i] for i in order], np.asarray(y_train)[order]
    test_texts, y_test = _subset(test_texts, y_test, max_test, seed + 1)

    t = time.perf_counter()
    train_tokens = tok.tokenize_many(train_texts, progress=verbose == 1, desc="tokenising train")
    test_tokens = tok.tokenize_many(test_texts, progress=verbose == 1, desc="tokenising test")
    tokenize_seconds = time.perf_counter() - t
    vocab = Vocabulary.build(train_tokens, max_size=vocab_size)
    pad = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    x_train = pad_sequences(vocab.encode_many(train_tokens), **pad)
    x_test = pad_sequences(vocab.encode_many(test_tokens), **pad)
    if verbose:
        print(f"{kind}: {len(train_texts)} train / {len(test_texts)} test texts, tokenised in "
              f"{tokenize_seconds:.1f}s; vocabulary {len(vocab)} ids; sequences cut/padded to {maxlen}", flush=True)

    net = build_model(model, len(vocab), maxlen, embed_dim, units, pooling, dropout, rnn_dropout)
    opt_args = {"clipnorm": clipnorm} if clipnorm else {}
    if ema is not None:
        opt_args.update(use_ema=True, ema_momentum=ema)
    opt = optimizers.OPTIMIZERS[optimizer](lr, **opt_args)
    net.compile(opt, "binary_crossentropy", ["accuracy"])
    stop = [] if patience is None else [callbacks.EarlyStopping("val_loss", patience=patience,
                                                                restore_best_weights=True)]
    t = time.perf_counter()
    history = net.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
                      validation_split=validation_split, callbacks=stop)
    train_seconds = time.perf_counter() - t
    test_logs = net.evaluate(x_test, y_test, batch_size=256, verbose=verbose, return_dict=True)

    settings = dict(model=model, pooling=pooling, vocab_size=vocab_size, maxlen=maxlen, embed_dim=embed_dim,
                    units=units, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, clipnorm=clipnorm,
                    dropout=dropout, rnn_dropout=rnn_dropout, validation_split=validation_split, patience=patience,
                    ema=ema, seed=seed)
    info = {"data": {"kind": kind, "test_fraction": test_fraction, "split_seed": seed,
                     "text_column": text_column, "label_column": label_column, "delimiter": delimiter},
            "training": settings, "test_accuracy": float(test_logs["accuracy"])}
    clf = SentimentClassifier(net, tok, vocab, maxlen, padding, truncating, info)
    if out:
        clf.save(out)
    report = {"data": data, **settings, "train_size": len(train_texts), "test_size": len(test_texts),
              "vocabulary": len(vocab), "test_accuracy": float(test_logs["accuracy"]),
              "test_loss": float(test_logs["loss"]), "history": history.history,
              "tokenize_seconds": tokenize_seconds, "train_seconds": train_seconds,
              "wall_seconds": time.perf_counter() - wall}
    return clf, report


# ---- command line --------------------------------------------------------------------------------------

def _positive_int(s):
    v = int(s)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s}")
    return v


def _add_data_options(p):
    p.add_argument("--data", required=True, metavar="KIND:PATH",
                   help="imdb:PATH (aclImdb folder or .tar.xz), nsmc:PATH (ratings_*.txt[.xz]) or csv:PATH")
    p.add_argument("--text-column", default="text", help="csv: text column name or 0-based index (default text)")
    p.add_argument("--label-column", default="label", help="csv: 0/1 label column name or index (default label)")
    p.add_argument("--delimiter", default=",", help="csv: field delimiter (default ',')")


def _column(v):
    return int(v) if isinstance(v, str) and v.isdigit() else v


def register_train(subparsers):
    """Add ``rnnlab train sentiment``."""
    d = DEFAULTS
    p = subparsers.add_parser(
        "sentiment", help="sentiment classifier for IMDb, NSMC or a CSV of labelled texts",
        description="Tokenise, keep the top-k words, cut/pad to --maxlen, train an RNN classifier (seed 004), "
                    "report held-out accuracy and save a self-contained model directory (--out).")
    _add_data_options(p)
    p.add_argument("--model", choices=MODELS, default=d["model"], help=f"network (default {d['model']})")
    p.add_argument("--pooling", choices=POOLINGS, default=d["pooling"],
                   help=f"how the hidden states are used (default {d['pooling']})")
    p.add_argument("--tokenizer", default=None,
                   help="english, korean (kiwipiepy morphemes), korean_syllable, korean_whitespace, whitespace "
                        "(default: english for imdb/csv, korean for nsmc)")
    p.add_argument("--vocab-size", type=_positive_int, default=d["vocab_size"],
                   help=f"ids kept, padding and OOV included (default {d['vocab_size']})")
    p.add_argument("--maxlen", type=_positive_int, default=d["maxlen"], help=f"tokens per text T (default {d['maxlen']})")
    p.add_argument("--padding", choices=("pre", "post"), default=d["padding"])
    p.add_argument("--truncating", choices=("pre", "post"), default=d["truncating"])
    p.add_argument("--embed-dim", type=_positive_int, default=d["embed_dim"])
    p.add_argument("--units", type=_positive_int, default=d["units"])
    p.add_argument("--dropout", type=float, default=d["dropout"], help="dropout before the output layer")
    p.add_argument("--rnn-dropout", type=float, default=d["rnn_dropout"],
                   help="variational dropout on the recurrent layer's inputs (one mask per review)")
    p.add_argument("--epochs", type=_positive_int, default=d["epochs"])
    p.add_argument("--batch-size", type=_positive_int, default=d["batch_size"])
    p.add_argument("--optimizer", choices=sorted(optimizers.OPTIMIZERS), default=d["optimizer"],
                   help=f"(default {d['optimizer']})")
    p.add_argument("--lr", type=float, default=d["lr"], help="learning rate (default 0.001)")
    p.add_argument("--clipnorm", type=float, default=None, help="clip each gradient tensor to this norm")
    p.add_argument("--seed", type=int, default=d["seed"], help="seed of weights, shuffling and the data split")
    p.add_argument("--test-fraction", type=float, default=d["test_fraction"],
                   help="nsmc/csv: held-out share (default 0.2)")
    p.add_argument("--validation-split", type=float, default=d["validation_split"],
                   help="share of the training part used for validation during fit (default 0)")
    p.add_argument("--patience", type=int, default=None,
                   help="with --validation-split: stop after this many epochs without a better validation "
                        "loss and keep the best epoch's weights")
    p.add_argument("--ema", type=float, default=None, metavar="MOMENTUM",
                   help="end with the moving average of the weights (optimizer use_ema), e.g. 0.998")
    p.add_argument("--max-train", type=_positive_int, default=None, help="use a random subset of the training texts")
    p.add_argument("--max-test", type=_positive_int, default=None, help="use a random subset of the test texts")
    p.add_argument("--out", default=None, metavar="MODEL_DIR", help="save the model directory here")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_train_main)
    return p


def _train_main(args):
    same = ("model", "pooling", "tokenizer", "vocab_size", "maxlen", "embed_dim", "units", "epochs", "batch_size",
            "optimizer", "lr", "clipnorm", "dropout", "rnn_dropout", "padding", "truncating", "seed", "test_fraction",
            "validation_split", "patience", "ema", "max_train", "max_test", "delimiter", "out")
    _, report = train(args.data, **{k: getattr(args, k) for k in same}, text_column=_column(args.text_column),
                      label_column=_column(args.label_column), verbose=0 if args.quiet else 1)
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
    p.add_argument("--batch-size", type=_positive_int, default=256)
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
    _add_data_options(p)
    p.add_argument("--split", choices=("test", "train", "all"), default="test")
    p.add_argument("--batch-size", type=_positive_int, default=256)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    clf = SentimentClassifier.load(model_dir)
    stored = clf.info.get("data", {})
    kind, _ = parse_data_spec(args.data)
    same_kind = stored.get("kind") == kind
    text_column = _column(args.text_column)
    label_column = _column(args.label_column)
    train_part, test_part = load_data(args.data, stored.get("test_fraction", 0.2) if same_kind else 0.2,
                                      stored.get("split_seed", 0) if same_kind else 0, text_column,
                                      label_column, args.delimiter, verbose=0 if args.quiet else 1)
    if args.split == "all":
        texts, labels = train_part[0] + test_part[0], np.concatenate([train_part[1], test_part[1]])
    else:
        texts, labels = test_part if args.split == "test" else train_part
    logs = clf.evaluate(texts, labels, batch_size=args.batch_size, verbose=0 if args.quiet else 1)
    print(f"accuracy {logs['accuracy']:.4f}  loss {logs['loss']:.4f}  ({len(texts)} texts, {args.split} split)")
    return 0
