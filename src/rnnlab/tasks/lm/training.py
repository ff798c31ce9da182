"""Training a language model by truncated backpropagation through time over one long stream, as Zaremba et al.
batch it:

    streams = batchify(train_ids, B)                  # (B, L): B contiguous parts of the corpus, side by side
    for each epoch:
        lr = lr0 * lr_decay ** max(epoch + 1 - decay_after, 0)
        reset the states to zeros
        for x, y in windows(streams, k):              # x (B, k), y = x shifted by one step
            loss = mean_t,b -log p(y | x, carried states)    # the states carry over; no gradient crosses
            gradients, clip to global norm, update           # the window boundary (stateful layers)
        validation perplexity over the whole validation stream; checkpoint

Zaremba's cost is summed over the k steps of a window and averaged over the batch; rnnlab's loss is the mean
over all B·k positions, so with SGD the step uses ``lr · k`` and the clipping norm ``clipnorm / k``, which is
the same update: ``lr · clip(k · g, c) = (lr · k) · clip(g, c / k)``. Adam takes ``lr`` and ``clipnorm`` as given.

A run with ``out`` writes the model directory after every epoch (a checkpoint), and ``resume=True`` continues
a stopped run from its last checkpoint, exactly: the checkpoint holds the weights, the epoch and the state of
every random generator (the global one and the dropout layers' and cells' own, ``rng_state.json``), and the
optimiser is made afresh at every epoch (the learning rate changes), so nothing else carries over. A run
killed mid-epoch repeats that epoch from its start and ends with the weights of an uninterrupted run.

Data-parallel (``mpiexec -n R rnnlab train lm ...``, detected, or ``distributed=True``): rank ``r`` trains
the streams ``shard(B, R, r)`` of the B parallel streams (its own rows keep their own carried states), the
gradients are summed with weights ``B_r k / (B k)`` (``rnnlab.distributed``), so every update is the one of a
single process on all B streams; validation and test split the ``eval_batch_size`` streams the same way
(with ``eval_batch_size=1`` rank 0 scores the whole text alone). Rank 0 writes the checkpoints and prints;
a run resumes with any number of ranks.

Example::

    lm, report = train("ptb:../shared/data/ptb", preset="zaremba-small", out="runs/ptb")
    report["test_perplexity"]
"""
import json
import math
import os
import signal
import time

import numpy as np

from ... import optimizers, progress, utils
from ...artifacts import write_run_artifacts
from ...models.trainer import TrainingInterrupted, _StopOnSignal
from ...text import streams
from .config import PRESETS, LMConfig
from .data import load_corpus
from .language_model import LanguageModel, load
from .network import build_model

RNG_FILE = "rng_state.json"


def _rng_file(model):
    """The checkpoint's generator states as ``{RNG_FILE: bytes}`` (JSON)."""
    from ...models.checkpoint import rng_states
    return {RNG_FILE: json.dumps(rng_states(model)).encode("utf-8")}


def _restore_rngs(model, out):
    """Put back the generator states saved with the checkpoint in ``out`` (older checkpoints have none)."""
    from ...models.checkpoint import set_rng_states
    from ...models.saving import member_path
    path = member_path(out, RNG_FILE)
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            set_rng_states(json.load(f), model)


def make_optimizer(config, lr):
    """The optimiser for one epoch's learning rate ``lr`` (see the module docstring for SGD's scaling)."""
    if config.optimizer == "sgd":
        clip = None if config.clipnorm is None else config.clipnorm / config.num_steps
        return optimizers.SGD(learning_rate=lr * config.num_steps, global_clipnorm=clip)
    return optimizers.Adam(learning_rate=lr, global_clipnorm=config.clipnorm)


def epoch_lr(config, epoch):
    """The learning rate of 0-based ``epoch``: ``lr · lr_decay^max(epoch + 1 - decay_after, 0)``."""
    return config.lr * config.lr_decay ** max(epoch + 1 - config.decay_after, 0)


def run_epoch(model, data, config, verbose=1, desc="Train", comm=None, hook=None, stop=None):
    """One pass of truncated BPTT over ``data`` (B, L); returns the mean training loss (nats per token).

    Distributed: ``data`` is this rank's streams, ``hook`` the ``DataParallel`` in ``model.gradient_hooks``
    (told this rank's ``B_r · k`` positions each step) and the returned loss is the mean over all ranks.
    ``stop``: a callable run after every window (it may raise to end training there)."""
    model.reset_states()
    total, count = 0.0, 0
    windows = streams.windows(data, config.num_steps, drop_last=True)
    with progress.bar(total=len(windows), desc=desc, verbose=verbose, unit="window") as bar:
        for x, y in windows:
            loss, _, _ = model.compute_gradients(x, y)
            if hook is not None:
                hook.count = y.size                      # this rank's share of the B·k positions
            for h in model.gradient_hooks:               # none on one process
                h(model)
            model.apply_gradients()
            total += loss * y.size
            count += y.size
            if comm is not None:
                comm.beat()
            bar.update(1)
            bar.set_postfix_str(f"ppl {math.exp(total / count):.1f}", refresh=False)
            if stop is not None:
                stop()
    model.reset_states()
    if comm is not None:
        total, count = _summed(comm, total, count)
    return total / count


def _summed(comm, total, count):
    sums = comm.allreduce_sum(np.array([total, count], dtype=np.float64))
    return float(sums[0]), float(sums[1])


def split_nll(lm, ids, comm=None):
    """``lm.nll(ids)``; distributed, each rank scores its share of the ``eval_batch_size`` streams."""
    if comm is None:
        return lm.nll(ids)
    from ...distributed import shard
    data = streams.batchify(np.asarray(ids), lm.config.eval_batch_size)
    mine = data[shard(len(data), comm.size, comm.rank)]
    total, count = lm.nll_sums(mine) if len(mine) else (0.0, 0)
    total, count = _summed(comm, total, count)
    return total / count


def train(data, config=None, *, preset=None, out=None, resume=False, verbose=1, distributed=None, dist_timeout=None,
          **settings):
    """Train a language model on ``data`` (``ptb:DIR`` or ``text:FILE``); returns ``(LanguageModel, report)``.

    Args:
        config: an ``LMConfig``; ``preset``: a name from ``PRESETS`` used as the base; ``settings``: overrides.
        out: a directory to checkpoint into after every epoch; ``resume``: continue the run saved there.
        distributed: data-parallel over MPI (None: when launched by mpiexec; see the module docstring).
        dist_timeout: distributed: abort the job when a rank makes no progress for this many seconds.
    """
    from ...distributed.comm import for_task
    comm = for_task(distributed, dist_timeout)
    if comm is None:
        return _train(data, config, preset, out, resume, verbose, None, **settings)
    with comm.guard("training the language model"):
        return _train(data, config, preset, out, resume, verbose if comm.is_root else 0, comm, **settings)


def _train(data, config, preset, out, resume, verbose, comm, **settings):
    start_wall = time.perf_counter()
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"train got preset={preset!r}; expected one of {sorted(PRESETS)}.")
    if resume:
        if out is None or not os.path.exists(os.path.join(out, "config.json")):
            raise ValueError(f"resume=True needs the directory of a stopped run in out=..., got {out!r} "
                             "(no config.json there).")
        lm = load(out)
        config = lm.config
    else:
        base = LMConfig(**PRESETS[preset]) if preset else (config or LMConfig())
        config = LMConfig.create(base, "train", **settings) if settings else base
        lm = None
    if out is not None:
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise ValueError(f"out={out!r}: its parent folder {parent!r} does not exist; create it first.")
        from ...models.saving import check_output_dir
        check_output_dir(out, "out")
    utils.set_random_seed(config.seed)
    corpus = load_corpus(data, config.level, config.max_vocab, config.valid_fraction,
                         vocab=None if lm is None else lm.vocab)
    if lm is None:
        model = build_model(config, len(corpus.vocab))
        lm = LanguageModel(model, corpus.vocab, config, {"epoch": 0, "history": []})
    model = lm.model
    if resume:
        _restore_rngs(model, out)
    train_streams = streams.batchify(corpus.train, config.batch_size)
    hook, root = None, comm is None or comm.is_root
    if comm is not None:
        from ...distributed import DataParallel, shard
        if config.batch_size < comm.size:
            raise ValueError(f"batch_size={config.batch_size} streams cannot be shared by {comm.size} ranks; pass "
                             f"--batch-size {comm.size} or more, or run fewer processes.")
        train_streams = train_streams[shard(config.batch_size, comm.size, comm.rank)]
        hook = DataParallel(comm).attach(model)                   # rank 0's weights everywhere
    history = list(lm.info.get("history", []))
    first = int(lm.info.get("epoch", 0))
    if out is not None and root and not resume:
        lm.save(out, extra_files=_rng_file(model))           # epoch 0: a run stopped at once resumes too
    with _StopOnSignal(out is not None and comm is None) as signals:
        history = _epochs(lm, model, corpus, config, train_streams, first, history, out, root, verbose, comm, hook,
                          signals)
    report = {"history": history, "vocab_size": len(corpus.vocab), "valid_loss": history[-1]["valid_loss"]
              if history else None}
    if corpus.test is not None:
        report["test_loss"] = split_nll(lm, corpus.test, comm)
        report["test_perplexity"] = math.exp(report["test_loss"])
        lm.info["test_perplexity"] = report["test_perplexity"]
        if out is not None and root:
            lm.save(out, extra_files=_rng_file(model))
    if hook is not None:
        hook.detach(model)
        report["exchange"] = hook.exchange.summary()
        report["ranks"], report["rank"] = comm.size, comm.rank
    if out is not None and root:
        write_run_artifacts(out, history, {"data": data, **config.to_dict()})   # history.csv/json, curves.png
    report["wall_seconds"] = time.perf_counter() - start_wall
    return lm, report


def _epochs(lm, model, corpus, config, train_streams, first, history, out, root, verbose, comm, hook, signals):
    """Epochs ``first .. config.epochs - 1``, each checkpointed into ``out``; returns the history.
    SIGINT/SIGTERM (``signals``) end training after the current window with ``TrainingInterrupted``: the
    checkpoint in ``out`` (end of the last whole epoch) resumes exactly, repeating the interrupted epoch."""
    for epoch in range(first, config.epochs):
        def stop(epoch=epoch):
            if signals.signum is not None:
                name = signal.Signals(signals.signum).name
                raise TrainingInterrupted(signals.signum, out, epoch, 0, message=(
                    f"training stopped by {name} during epoch {epoch} (0-based); the checkpoint in {out!r} holds "
                    f"the run at the start of that epoch. Continue with train(..., out={out!r}, resume=True)."))
        lr = epoch_lr(config, epoch)
        model.compile(make_optimizer(config, lr), "sparse_categorical_crossentropy")
        t0 = time.perf_counter()
        train_loss = run_epoch(model, train_streams, config, verbose, desc=f"Epoch {epoch + 1}/{config.epochs}",
                               comm=comm, hook=hook, stop=stop)
        seconds = time.perf_counter() - t0
        valid_loss = split_nll(lm, corpus.valid, comm)
        row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, "valid_loss": valid_loss,
               "train_perplexity": math.exp(train_loss), "valid_perplexity": math.exp(valid_loss),
               "seconds": seconds}
        history.append(row)
        lm.info.update(epoch=epoch + 1, history=history)
        if verbose:
            unit = f"valid bits/char {valid_loss / math.log(2):.3f}" if config.level == "char" else \
                f"valid ppl {math.exp(valid_loss):.2f}"
            progress.line(f"epoch {epoch + 1}: lr {lr:.4g}  train ppl {math.exp(train_loss):.2f}  {unit}  "
                          f"(valid nats/token {valid_loss:.4f}, {seconds:.0f}s)", verbose=verbose)
        if out is not None and root:
            lm.save(out, extra_files=_rng_file(model))
    return history


def evaluate(lm, data, split="test", verbose=0):
    """``{"nll", "perplexity", "bits_per_token", "tokens"}`` of ``lm`` on a split of ``data``."""
    corpus = load_corpus(data, lm.config.level, None, lm.config.valid_fraction, vocab=lm.vocab)
    ids = {"train": corpus.train, "valid": corpus.valid, "test": corpus.test}[split]
    if ids is None:
        raise ValueError(f"{data!r} has no {split!r} split; text corpora have 'train' and 'valid'.")
    nll = lm.nll(ids, verbose=verbose)
    return {"nll": nll, "perplexity": math.exp(nll), "bits_per_token": nll / math.log(2), "tokens": int(len(ids))}
