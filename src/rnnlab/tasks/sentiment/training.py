"""Training a sentiment classifier: load the data, tokenise, build the vocabulary (top-k words by
frequency), pad/cut to T tokens, train with binary cross-entropy, evaluate on the held-out part, save.

Example::

    from rnnlab.tasks import sentiment
    clf, report = sentiment.train("csv:reviews.csv", model="gru", epochs=5, out="runs/reviews")
    report["test_accuracy"], clf.predict(["I loved it"])

    config = sentiment.SentimentConfig(model="bilstm", maxlen=500, dropout=0.5)
    clf, report = sentiment.train("imdb:data/imdb/aclImdb_labeled.tar.xz", config, epochs=1)
"""
import os
import shutil
import time

import numpy as np

from ... import callbacks, optimizers, utils
from ...artifacts import run_artifact_files
from ...text import Vocabulary, pad_sequences, tokenizers
from .classifier import SentimentClassifier
from .config import DEFAULT_TOKENIZER, SentimentConfig
from .data import load_data, parse_data_spec, subset
from .network import build_model


def train(data, config=None, *, out=None, verbose=1, distributed=None, dist_timeout=None, checkpoint=None,
          checkpoint_every=None, resume=False, **settings):
    """Load, tokenise, build the vocabulary, train, evaluate on the held-out part, optionally save.

    Args:
        data: ``"imdb:PATH"``, ``"nsmc:PATH"`` or ``"csv:PATH"`` (see ``parse_data_spec``).
        config: a ``SentimentConfig``; None: every setting at its default.
        out: save the model directory here (``SentimentClassifier.save``).
        verbose: 1: progress bars and a summary line; 0: silent.
        **settings: ``SentimentConfig`` fields that replace those of ``config``, e.g. ``epochs=5``.
            ``tokenizer`` may also be a tokeniser object or ``serialize`` dict: the saved model keeps its
            settings, the config keeps ``tokenizer=None``.

    Returns ``(classifier, report)``; ``report`` has the settings, ``test_accuracy``, ``test_loss``,
    ``history``, ``tokenize_seconds`` (train + test texts), ``train_seconds``, ``wall_seconds`` and the sizes.
    ``max_train``/``max_test`` take a seeded random subset (for quick tuning runs).

    The training texts are shuffled once (with ``seed``) before anything else: IMDb's files come
    sorted by label, and ``validation_split`` holds out the *last* part of the training data (as
    Keras does), which would otherwise be one class only. With ``validation_split > 0`` and
    ``patience``, training stops when the validation loss has not improved for ``patience``
    epochs and the weights of the best epoch are restored (``callbacks.EarlyStopping``).
    ``ema`` (e.g. 0.998) trains with the optimiser's ``use_ema=True, ema_momentum=ema``: the model
    ends with the moving average of its weights over the last ~1/(1 - ema) steps.

    ``distributed`` (None: detected under ``mpiexec -n R``; True/False to insist) trains data-parallel with
    ``rnnlab.distributed.fit``: ``batch_size`` is the global batch, split over the ranks, the epoch order
    comes from ``seed`` (the same on every rank), validation and test texts are split across ranks, and
    rank 0 alone prints and saves. ``dist_timeout``: abort when a rank makes no progress for that long.

    ``checkpoint`` (a directory; default ``OUT.checkpoint`` when ``checkpoint_every`` or ``resume`` is given with
    ``out``): training checkpoints (``fit(checkpoint=...)``), written at every epoch end and every
    ``checkpoint_every`` batches, and on SIGINT/SIGTERM (``rnnlab.TrainingInterrupted``). ``resume=True``
    continues from it with the same data and settings, to the weights of an uninterrupted run bit for bit; the
    checkpoint is deleted once the finished model is saved in ``out``. One process only.
    """
    from ...distributed.comm import for_task
    comm = for_task(distributed, dist_timeout)
    ckpt = checkpoint_dir(out, checkpoint, checkpoint_every, resume)
    if comm is None:
        return _train(data, config, out, verbose, None, settings, (ckpt, checkpoint_every, resume))
    if ckpt is not None:
        raise ValueError("checkpoint/checkpoint_every/resume work on one process; run without mpiexec (or "
                         "without them).")
    with comm.guard("training the sentiment classifier"):
        return _train(data, config, out, verbose if comm.is_root else 0, comm, settings, (None, None, False))


def checkpoint_dir(out, checkpoint, checkpoint_every, resume):
    """The checkpoint directory of a run: ``checkpoint``, else ``OUT.checkpoint`` when checkpoints are asked for."""
    if checkpoint is not None:
        return str(checkpoint)
    if checkpoint_every is None and not resume:
        return None
    if out is None:
        raise ValueError("checkpoint_every/resume need a directory: pass out=MODEL_DIR (checkpoints then go to "
                         "MODEL_DIR.checkpoint) or checkpoint=DIR.")
    return os.path.normpath(str(out)) + ".checkpoint"


def _train(data, config, out, verbose, comm, settings, ckpt_args):
    wall = time.perf_counter()
    custom = settings.get("tokenizer")
    custom = None if isinstance(custom, (str, type(None))) else settings.pop("tokenizer")   # not JSON: not config
    c = SentimentConfig.create(config, "train", **settings)
    if out is not None:
        from ...models.saving import check_output_dir
        check_output_dir(out, "out")
    kind, _ = parse_data_spec(data)
    tok = tokenizers.get(custom if custom is not None else c.tokenizer or DEFAULT_TOKENIZER[kind])
    utils.set_random_seed(c.seed)
    (train_texts, y_train), (test_texts, y_test) = load_data(data, c.test_fraction, c.seed, c.text_column,
                                                             c.label_column, c.delimiter, verbose)
    train_texts, y_train = subset(train_texts, y_train, c.max_train, c.seed)
    order = np.random.default_rng(c.seed).permutation(len(train_texts))              # mix the classes
    train_texts, y_train = [train_texts[i] for i in order], np.asarray(y_train)[order]
    test_texts, y_test = subset(test_texts, y_test, c.max_test, c.seed + 1)

    t = time.perf_counter()
    train_tokens = tok.tokenize_many(train_texts, progress=verbose == 1, desc="tokenising train")
    test_tokens = tok.tokenize_many(test_texts, progress=verbose == 1, desc="tokenising test")
    tokenize_seconds = time.perf_counter() - t
    vocab = Vocabulary.build(train_tokens, max_size=c.vocab_size)
    pad = dict(maxlen=c.maxlen, padding=c.padding, truncating=c.truncating)
    x_train = pad_sequences(vocab.encode_many(train_tokens), **pad)
    x_test = pad_sequences(vocab.encode_many(test_tokens), **pad)
    if verbose:
        print(f"{kind}: {len(train_texts)} train / {len(test_texts)} test texts, tokenised in "
              f"{tokenize_seconds:.1f}s; vocabulary {len(vocab)} ids; sequences cut/padded to {c.maxlen}",
              flush=True)

    net = build_model(config=c, vocab_size=len(vocab))
    opt_args = {"clipnorm": c.clipnorm} if c.clipnorm else {}
    if c.ema is not None:
        opt_args.update(use_ema=True, ema_momentum=c.ema)
    net.compile(optimizers.OPTIMIZERS[c.optimizer](c.lr, **opt_args), "binary_crossentropy", ["accuracy"])
    stop = [] if c.patience is None else [callbacks.EarlyStopping("val_loss", patience=c.patience,
                                                                  restore_best_weights=True)]
    t = time.perf_counter()
    ckpt, every, resume = ckpt_args
    if ckpt is not None:
        _check_resumable(ckpt, resume, {"data": data, "config": c.to_dict()})
        net._checkpoint_metadata = {"task": "sentiment-checkpoint", "run": {"data": data, "config": c.to_dict()}}
    if comm is None:
        history = net.fit(x_train, y_train, batch_size=c.batch_size, epochs=c.epochs, verbose=verbose,
                          validation_split=c.validation_split, callbacks=stop, checkpoint=ckpt,
                          checkpoint_every=every, resume=resume)
    else:
        from ... import distributed
        history = distributed.fit(net, x_train, y_train, batch_size=c.batch_size, epochs=c.epochs, verbose=verbose,
                                  validation_split=c.validation_split, callbacks=stop, seed=c.seed, comm=comm)
    train_seconds = time.perf_counter() - t
    if comm is None:
        test_logs = net.evaluate(x_test, y_test, batch_size=256, verbose=verbose, return_dict=True)
    else:
        test_logs = distributed.evaluate(net, x_test, y_test, batch_size=256, comm=comm, verbose=verbose)

    info = {"data": {"kind": kind}, "test_accuracy": float(test_logs["accuracy"])}
    clf = SentimentClassifier(net, tok, vocab, info=info, config=c)
    if out and (comm is None or comm.is_root):
        clf.save(out, extra_files=run_artifact_files(history, {"data": data, **c.to_dict()}))   # one unit
        if ckpt is not None and os.path.isdir(ckpt):
            shutil.rmtree(ckpt)                          # the finished model replaces it
    report = {"data": data, **c.to_dict(), "train_size": len(train_texts), "test_size": len(test_texts),
              "vocabulary": len(vocab), "test_accuracy": float(test_logs["accuracy"]),
              "test_loss": float(test_logs["loss"]), "history": history.history,
              "tokenize_seconds": tokenize_seconds, "train_seconds": train_seconds,
              "wall_seconds": time.perf_counter() - wall}
    if comm is not None:
        report.update(ranks=comm.size, rank=comm.rank, exchange=history.exchange)
    return clf, report


def _check_resumable(ckpt, resume, run):
    """Refuse to resume a checkpoint of another run (other data or settings), or to overwrite one silently."""
    from ...models.checkpoint import has_checkpoint
    from ...models.saving import load_metadata
    if not has_checkpoint(ckpt):
        return
    if not resume:
        raise ValueError(f"{ckpt!r} holds a checkpoint of an earlier run; continue it with resume=True (--resume), "
                         "or delete the folder to start afresh.")
    saved = (load_metadata(ckpt) or {}).get("run")
    if saved != run:
        differ = sorted(k for k in set(saved.get("config", {})) | set(run["config"])
                        if saved.get("config", {}).get(k) != run["config"].get(k)) if saved else []
        if saved and saved.get("data") != run["data"]:
            differ.insert(0, "data")
        raise ValueError(f"The checkpoint in {ckpt!r} belongs to a run with other settings ({differ or 'unknown'}); "
                         "resume with the same --data and flags, or delete the folder to start afresh.")
