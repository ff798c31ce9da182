"""Data-parallel training over MPI: ``mpiexec -n N rnnlab train sentiment|lm ...`` or, in Python::

    from rnnlab import distributed
    comm = distributed.init()          # MPI under mpiexec (detected from the environment), else one process
    history = distributed.fit(model, x, y, batch_size=64, epochs=3, comm=comm)

Each rank computes the gradients of its shard of every global batch with the same hand-written BPTT;
``DataParallel`` (a ``model.gradient_hooks`` hook) sums them, weighted by each shard's share of the loss
positions, with bucketed all-reduces of the flat gradient buffer and a row-sparse exchange of embedding
gradients; every rank then takes the same optimiser step. See ``comm`` (detection, the failure policy),
``allreduce`` (loss scaling, buckets, bytes) and ``trainer`` (the loops).

Importing this package does not import mpi4py; ``init()`` does, and only under an MPI launch (or
``distributed=True``). The single-process path of rnnlab never imports this package.
"""
from .allreduce import DEFAULT_BUCKET_BYTES, GradientExchange
from .comm import Comm, LocalComm, active, init, launched_by_mpi, shard
from .trainer import DataParallel, broadcast_weights, evaluate, fit, global_logs, loss_positions, train_step

__all__ = ["DEFAULT_BUCKET_BYTES", "Comm", "DataParallel", "GradientExchange", "LocalComm", "active",
           "broadcast_weights", "evaluate", "fit", "global_logs", "init", "launched_by_mpi", "loss_positions",
           "shard", "train_step"]
