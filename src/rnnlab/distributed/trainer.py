"""Data-parallel training through the training step's seam (``compute_gradients`` -> ``gradient_hooks`` ->
``apply_gradients``): ``DataParallel`` is the gradient hook, ``fit``/``evaluate`` are the loops around it.

One global step over ``R`` ranks, global batch ``B`` (rank ``r`` takes the contiguous shard
``shard(B, R, r)`` of the batch's sample indices, ``n_r`` of them, ``sum_r n_r = B``)::

    loss_r, y_pred, mask = model.compute_gradients(x[shard_r], y[shard_r])   # the same hand-written BPTT
    hook.count = n_r (loss positions: samples, time steps, or real steps under a mask)
    for hook in model.gradient_hooks: hook(model)       # DataParallel: g = sum_r (n_r / N) g_r on every rank
    model.apply_gradients()                              # the same optimiser step everywhere

Everything that makes the ranks agree: rank 0's initial weights are broadcast; the data order of epoch ``e``
is ``default_rng([seed, e]).permutation(n)`` with one ``seed`` broadcast from rank 0; the summed gradient is
bit-identical on every rank, so are the updates. Logs of an epoch are the sums over all ranks (loss and
every metric's total and count), so ``EarlyStopping`` decides alike everywhere; validation data are split
across ranks the same way. Rank 0 alone shows progress bars and runs the callbacks that write files
(``ModelCheckpoint``, ``CSVLogger``, ``TensorBoard``, or any callback with ``rank0_only = True``).

Run on one process with ``LocalComm`` the loop gives the weights of ``model.fit(..., shuffle=False)``
for the same order; under ``mpiexec -n R`` it gives those of one process on the global batch (to rounding).

Example::

    from rnnlab import distributed
    comm = distributed.init()                           # under mpiexec: MPI; else one process
    history = distributed.fit(model, x, y, batch_size=64, epochs=3, validation_split=0.1, comm=comm)
    # mpiexec -n 4 python train.py      (each rank runs the same script)
"""
import math
import time

import numpy as np

from .. import backend, callbacks as _callbacks, progress
from ..models import data
from .allreduce import DEFAULT_BUCKET_BYTES, GradientExchange
from .comm import init, shard

#: callbacks that write files: only rank 0 runs them
ROOT_ONLY_CALLBACKS = tuple(getattr(_callbacks, n) for n in ("ModelCheckpoint", "CSVLogger", "TensorBoard")
                            if hasattr(_callbacks, n))


def broadcast_weights(model, comm):
    """Overwrite every rank's weights with rank 0's (in place)."""
    if comm.size > 1:
        comm.bcast_arrays([w for w in model.weights])


class DataParallel:
    """The gradient hook that sums gradients over ranks; ``attach`` puts it in ``model.gradient_hooks``.

    Args:
        comm: the process group (``init()`` when None).
        bucket_bytes, sparse_embeddings: see ``GradientExchange``.

    Set ``hook.count`` (this rank's loss positions) before the hooks run to weigh unequal shards exactly;
    left None, ranks are weighed equally.
    """

    def __init__(self, comm=None, bucket_bytes=DEFAULT_BUCKET_BYTES, sparse_embeddings=True):
        self.comm = init() if comm is None else comm
        self.bucket_bytes, self.sparse_embeddings = bucket_bytes, sparse_embeddings
        self.exchange = None
        self.count = None

    def attach(self, model):
        """Broadcast rank 0's weights and add this hook to ``model.gradient_hooks`` (once); returns self."""
        if not all(layer.built for layer in model.layers):
            raise ValueError(f"DataParallel.attach needs a built model; {model.name!r} is not built yet. Call "
                             "model.build(...) or run one forward pass first, so that rank 0's weights can be "
                             "broadcast.")
        broadcast_weights(model, self.comm)
        if self.exchange is None:
            self.exchange = GradientExchange(model, self.comm, self.bucket_bytes, self.sparse_embeddings)
        if self not in model.gradient_hooks:
            model.gradient_hooks.append(self)
        return self

    def detach(self, model):
        if self in model.gradient_hooks:
            model.gradient_hooks.remove(self)

    def __call__(self, model):
        if self.exchange is None:
            self.exchange = GradientExchange(model, self.comm, self.bucket_bytes, self.sparse_embeddings)
        count, self.count = self.count, None
        self.exchange.run(count)


def loss_positions(model, x, y_pred, mask):
    """The number of positions this rank's mean loss averaged over: the real steps under an output mask,
    all ``N·T`` steps of a sequence output, ``N`` samples otherwise (and with several outputs)."""
    if isinstance(y_pred, (list, tuple)):
        return data.n_samples(x)
    if mask is not None:
        return float(np.sum(mask))
    shape = np.shape(y_pred)
    return float(np.prod(shape[:-1])) if len(shape) > 1 else float(shape[0])


def train_step(model, hook, x, y):
    """One data-parallel step on this rank's shard ``(x, y)`` (possibly empty); returns the local loss."""
    if data.n_samples(x) == 0:
        model.zero_grad()
        value = None
        hook.count = 0.0
    else:
        value, y_pred, mask = model.compute_gradients(x, y)
        hook.count = loss_positions(model, x, y_pred, mask)
    for h in model.gradient_hooks:
        h(model)
    model.apply_gradients()
    if value is not None:
        model._update_metrics(value, y, y_pred, mask)
    return value


def _state(model):
    """Loss and metric accumulators of ``model`` as one float64 vector (to sum over ranks)."""
    parts = [model._loss_total, model._loss_count, *model._output_loss_totals]
    for m in model.compiled_metrics:
        parts += [m.total, m.count]
    return np.array(parts, dtype=np.float64)


def _set_state(model, v):
    k = len(model._output_loss_totals)
    model._loss_total, model._loss_count = float(v[0]), v[1]
    model._output_loss_totals = [float(t) for t in v[2:2 + k]]
    for i, m in enumerate(model.compiled_metrics):
        m.total, m.count = float(v[2 + k + 2 * i]), float(v[3 + k + 2 * i])


def global_logs(model, comm):
    """The logs of the accumulated loss and metrics summed over every rank (the same on all ranks)."""
    local = _state(model)
    if comm.size == 1:
        return model._logs()
    summed = comm.allreduce_sum(local.copy())
    _set_state(model, summed)
    try:
        return model._logs()
    finally:
        _set_state(model, local)


def evaluate(model, x, y, batch_size=32, comm=None, verbose=0, return_dict=True):
    """``model.evaluate`` with the samples split across ranks (``shard``); every rank gets the global logs."""
    comm = init() if comm is None else comm
    model._require_compiled("evaluate")
    x, y = model._check_xy(x, y, "evaluate")
    batch_size = data.check_batch_size(batch_size)
    part = shard(data.n_samples(x), comm.size, comm.rank)
    xs, ys = data.take(x, part), data.take(y, part)
    n = data.n_samples(xs)
    model._reset_metrics()
    with progress.bar(total=math.ceil(n / batch_size), desc="Evaluate", verbose=verbose if comm.is_root else 0,
                      unit="batch") as pbar:
        for start in range(0, n, batch_size):
            idx = slice(start, start + batch_size)
            model._test_step(data.take(xs, idx), data.take(ys, idx))
            pbar.update(1)
    logs = global_logs(model, comm)
    return model._format_result(logs, return_dict)


def fit(model, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, initial_epoch=0, comm=None, seed=None,
        bucket_bytes=DEFAULT_BUCKET_BYTES, sparse_embeddings=True, timeout=None):
    """``model.fit`` over every rank of ``comm``; returns a ``History`` (the same on every rank).

    Args:
        model: a compiled model, the same on every rank (rank 0's weights are broadcast).
        x, y, epochs, verbose, callbacks, validation_split, validation_data, shuffle, initial_epoch: as
            ``Model.fit``; ``batch_size`` is the *global* batch, split over the ranks.
        comm: the process group (``init()``: MPI under mpiexec, else one process).
        seed: the data-order seed (None: drawn from ``backend.rng()`` on rank 0 and broadcast).
        bucket_bytes, sparse_embeddings: see ``GradientExchange``.
        timeout: seconds without a finished step after which the job is aborted (None: no watchdog).

    The exchange's byte counts end up in ``history.exchange`` (``GradientExchange.summary()``).
    """
    comm = init() if comm is None else comm
    with comm.guard("training (rnnlab.distributed.fit)"):
        return _fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                    shuffle, initial_epoch, comm, seed, bucket_bytes, sparse_embeddings, timeout)


def _fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
         initial_epoch, comm, seed, bucket_bytes, sparse_embeddings, timeout):
    model._require_compiled("fit")
    if hasattr(x, "as_arrays"):
        shuffle = bool(getattr(x, "shuffle", False))
    x, y, batch_size = data.from_dataset(x, y, batch_size, "fit")
    x, y = model._check_xy(x, y, "fit")
    batch_size = data.check_batch_size(batch_size)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit() got epochs={epochs!r}; expected a non-negative integer.")
    x, y, val = model._validation(x, y, validation_split, validation_data)
    model._check_targets(x, y)                    # builds the model with one sample's forward pass
    hook = DataParallel(comm, bucket_bytes, sparse_embeddings).attach(model)
    if seed is None:
        seed = int(backend.rng().integers(2 ** 31)) if comm.is_root else None
    seed = int(comm.bcast(seed))
    n = data.n_samples(x)
    steps = math.ceil(n / batch_size)
    verbose = verbose if comm.is_root else 0
    mine = [cb for cb in (callbacks or []) if comm.is_root or not (isinstance(cb, ROOT_ONLY_CALLBACKS)
                                                                   or getattr(cb, "rank0_only", False))]
    history = _callbacks.History()
    params = {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size,
              "ranks": comm.size}
    cbs = _callbacks.CallbackList(mine + [history], model=model, params=params)
    model.history, model.stop_training = history, False
    own_watchdog = bool(timeout) and comm._watchdog is None      # a task's watchdog outlives fit
    comm.start_watchdog(timeout, "training")
    stop = np.zeros(1)
    try:
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            model._reset_metrics()
            cbs.on_epoch_begin(epoch)
            order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
            start_time = time.perf_counter()
            with progress.bar(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", verbose=verbose,
                              unit="batch") as pbar:
                for step in range(steps):
                    idx = order[step * batch_size:(step + 1) * batch_size]
                    idx = idx[shard(len(idx), comm.size, comm.rank)]
                    cbs.on_train_batch_begin(step)
                    train_step(model, hook, data.take(x, idx), data.take(y, idx))
                    logs = model._logs()                          # this rank's running logs
                    cbs.on_train_batch_end(step, logs)
                    comm.beat()
                    pbar.update(1)
                    pbar.set_postfix_str(progress.format_logs(logs), refresh=False)
                    stop[0] = float(model.stop_training)
                    if comm.size > 1:
                        comm.allreduce_sum(stop)                  # one rank's stop stops every rank
                    if stop[0]:
                        model.stop_training = True
                        break
                epoch_logs = global_logs(model, comm)
                if val is not None:
                    val_logs = evaluate(model, val[0], val[1], batch_size=batch_size, comm=comm)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                pbar.set_postfix_str(progress.format_logs(epoch_logs))
            if verbose == 2:
                seconds = time.perf_counter() - start_time
                progress.line(f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {progress.format_logs(epoch_logs)}")
            cbs.on_epoch_end(epoch, epoch_logs)
            comm.beat()
            stop[0] = float(model.stop_training)
            if comm.size > 1:
                comm.allreduce_sum(stop)
            if stop[0]:
                break
        if epochs > initial_epoch:
            model.optimizer.finalize_variable_values([w for w, _ in model.parameters()])
        cbs.on_train_end()
    finally:
        hook.detach(model)
        if own_watchdog:
            comm.stop_watchdog()
    history.exchange = hook.exchange.summary()
    return history
