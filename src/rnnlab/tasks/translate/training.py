"""Training a translator with teacher forcing: the decoder reads the reference target shifted right
(``<start> y_1 .. y_n``) and learns to predict ``y_1 .. y_n <end>``; the loss is the mean cross-entropy over
the real target tokens (padding masked, see ``network``)::

    for each epoch:
        batches = length_batches(training pairs, batch_size, rng(seed, epoch))   # shuffled, similar lengths
        for x_src, x_tgt, y in batches:                       # padded to the longest pair of the batch
            loss = mean over real tokens of -log p(y_t | y_<t, x)
            gradients (hand-written backward of every layer), clip to the global norm, Adam step
        lr *= lr_decay; validation loss; checkpoint the model directory

The batches of an epoch depend only on the seed and the epoch (``epoch_batches``), so another framework can
be trained on exactly the same batches (``benchmarks/translate.py``).

Example::

    tr, report = train("tatoeba:../shared/data/tatoeba/fra.txt.xz", max_pairs=20000, epochs=5, out="runs/fr")
    report["history"][-1]["valid_loss"]
"""
import os
import time

import numpy as np

from ... import optimizers, progress, utils
from ...artifacts import run_artifact_files
from .config import TranslateConfig
from .data import Dataset, length_batches, load_dataset
from .network import build_model
from .translator import Translator


def epoch_batches(dataset, part, config, epoch):
    """The ``(x_src, x_tgt, y)`` batches of 0-based ``epoch`` over ``part`` (deterministic by seed and epoch)."""
    rng = np.random.default_rng([config.seed, epoch])
    lengths = [len(t) for t in part.tgt_tokens]
    return [dataset.arrays(part, idx) for idx in length_batches(lengths, config.batch_size, rng)]


def _out_of_time(deadline, may_stop, comm):
    """True when the time budget is spent (and stopping is allowed); under MPI, when it is spent on any rank,
    so that every rank stops after the same step."""
    late = deadline is not None and bool(may_stop) and time.perf_counter() > deadline
    if comm is None or deadline is None:
        return late
    return comm.allreduce_sum(np.array([float(late)]))[0] > 0


def _shard_step(model, hook, comm, x_src, x_tgt, y):
    """One data-parallel step on this rank's rows of the batch; returns (local mean loss, local target tokens)."""
    from ...distributed import shard
    rows = shard(len(y), comm.size, comm.rank)
    xs, xt, ys = x_src[rows], x_tgt[rows], y[rows]
    n = int((ys != 0).sum())
    if len(ys) == 0 or n == 0:
        model.zero_grad()
        loss = 0.0
    else:
        loss, _, _ = model.compute_gradients([xs, xt], ys)
    hook.count = float(n)                       # weighs this rank's mean by its share of the real tokens
    for h in model.gradient_hooks:
        h(model)
    model.apply_gradients()
    return loss, n


def mean_loss(model, dataset, part, batch_size=256):
    """Mean cross-entropy per real target token of ``part`` (None if it is empty)."""
    if len(part) == 0:
        return None
    total, count = 0.0, 0
    for k in range(0, len(part), batch_size):
        x_src, x_tgt, y = dataset.arrays(part, range(k, min(k + batch_size, len(part))))
        p = model._forward([x_src, x_tgt], training=False)                      # (B, T, V)
        py = np.take_along_axis(p, y[..., None].astype(np.int64), axis=-1)[..., 0]
        real = y != 0
        total -= float(np.log(np.maximum(py[real], 1e-30)).sum())
        count += int(real.sum())
    return total / count


def train(data, config=None, out=None, verbose=1, on_epoch=None, distributed=None, dist_timeout=None, **settings):
    """Train a translator; returns ``(Translator, report)``.

    ``distributed`` (None: detected under ``mpiexec -n R``; True/False to insist) trains data-parallel over MPI:
    every rank builds the same batches (seeded by epoch), takes its contiguous share of each batch's rows,
    and ``rnnlab.distributed.DataParallel`` sums the gradients weighted by each share's real target tokens, so
    the step equals one process on the whole batch; the time budget is agreed on by all ranks each step, and
    rank 0 alone prints, calls ``on_epoch`` and saves. ``dist_timeout``: abort a rank that stops progressing.

    Args:
        data: ``"tatoeba:PATH"`` or a ``Dataset`` already loaded (its vocabularies are used).
        config: a ``TranslateConfig`` (None: the defaults); ``settings`` override it.
        out: a model directory, written after every epoch.
        on_epoch: ``fn(translator, row)`` called after every epoch (e.g. to score BLEU).
    Returns:
        report: ``{"history": [{"epoch", "lr", "train_loss", "valid_loss", "seconds", "batches", "fraction"
        (of the epoch's batches run: < 1 when ``minutes`` ran out)}], "wall_seconds",
        "train_pairs", "src_vocab", "tgt_vocab"}``.
    """
    from ...distributed.comm import for_task
    comm = for_task(distributed, dist_timeout)
    if comm is None:
        return _train(data, config, out, verbose, on_epoch, None, settings)
    with comm.guard("training the translation model"):
        root = comm.is_root
        return _train(data, config, out if root else None, verbose if root else 0, on_epoch if root else None,
                      comm, settings)


def _train(data, config, out, verbose, on_epoch, comm, settings):
    start_wall = time.perf_counter()
    config = TranslateConfig.create(config, "train", **settings) if settings or config is None else config
    if out is not None:
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise ValueError(f"out={out!r}: its parent folder {parent!r} does not exist; create it first.")
    dataset = data if isinstance(data, Dataset) else load_dataset(data, config)
    if isinstance(data, Dataset) and (data.config.src, data.config.tgt) != (config.src, config.tgt):
        raise ValueError(f"The dataset is {data.config.src}->{data.config.tgt} but config asks for "
                         f"{config.src}->{config.tgt}.")
    utils.set_random_seed(config.seed)
    model = build_model(config, len(dataset.src_vocab), len(dataset.tgt_vocab))
    opt = optimizers.Adam(learning_rate=config.lr, global_clipnorm=config.clipnorm)
    model.compile(opt, "sparse_categorical_crossentropy")
    hook = None
    if comm is not None:                        # rank 0's weights everywhere, and the gradient all-reduce
        from ...distributed import DataParallel
        hook = DataParallel(comm).attach(model)
    translator = Translator(model, dataset.src_vocab, dataset.tgt_vocab, config, {"epoch": 0, "history": []})
    history = []
    deadline = None if config.minutes is None else start_wall + 60.0 * config.minutes
    for epoch in range(config.epochs):
        opt.learning_rate = config.lr * config.lr_decay ** epoch
        t0 = time.perf_counter()
        batches = epoch_batches(dataset, dataset.train, config, epoch)
        total, count, done = 0.0, 0, 0
        with progress.bar(total=len(batches), desc=f"Epoch {epoch + 1}/{config.epochs}", verbose=verbose,
                          unit="batch") as bar:
            for x_src, x_tgt, y in batches:
                if _out_of_time(deadline, done or history, comm):
                    break                                                   # the time budget is spent
                if comm is None:
                    loss, _, _ = model.compute_gradients([x_src, x_tgt], y)
                    model.apply_gradients()
                    n = int((y != 0).sum())
                else:
                    loss, n = _shard_step(model, hook, comm, x_src, x_tgt, y)
                total, count, done = total + loss * n, count + n, done + 1
                bar.update(1)
                bar.set_postfix_str(f"loss: {total / count:.4f}", refresh=False)
        seconds = time.perf_counter() - t0
        if comm is not None:                                               # the epoch's loss over every rank
            total, count = (float(v) for v in comm.allreduce_sum(np.array([total, count], dtype=np.float64)))
        if count == 0:
            break
        row = {"epoch": epoch + 1, "lr": opt.learning_rate, "train_loss": total / count, "batches": done,
               "fraction": done / len(batches), "valid_loss": mean_loss(model, dataset, dataset.valid),
               "seconds": seconds}
        history.append(row)
        translator.info.update(epoch=epoch + 1, history=history)
        if on_epoch is not None:
            on_epoch(translator, row)
        if verbose:
            valid = "" if row["valid_loss"] is None else f"  valid loss {row['valid_loss']:.4f}"
            part = "" if done == len(batches) else f" ({done}/{len(batches)} batches: time is up)"
            progress.line(f"epoch {epoch + 1}{part}: train loss {row['train_loss']:.4f}{valid}  ({seconds:.0f}s)",
                          verbose=verbose)
        if out is not None:                    # the model and the run's history/curves/settings, one unit
            translator.save(out, extra_files=run_artifact_files(history, {"data": data, **config.to_dict()}))
        if _out_of_time(deadline, True, comm):
            break
    report = {"history": history, "wall_seconds": time.perf_counter() - start_wall,
              "train_pairs": len(dataset.train), "src_vocab": len(dataset.src_vocab),
              "tgt_vocab": len(dataset.tgt_vocab), "dataset": dataset}
    if comm is not None:
        report.update(ranks=comm.size, rank=comm.rank)
    return translator, report
