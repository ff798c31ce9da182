"""Summing the gradients of every rank: bucketed dense all-reduce over the model's flat gradient buffer, and
a sparse exchange of the touched rows of embedding matrices, with the bytes of each counted.

Loss scaling. Rank ``r`` holds the gradient ``g_r`` of its *local* mean loss over ``n_r`` loss positions
(samples; or time steps; or the real steps of a mask). The global-batch mean over ``N = sum_r n_r`` is

    L = (1/N) sum_r sum_{i in r} l_i = sum_r (n_r / N) L_r      so      g = sum_r (n_r / N) g_r

Each rank therefore multiplies its buffer by ``n_r``, all ranks sum, and every rank divides by ``N``
(summed in a one-number all-reduce started first). Shards of unequal size (the last batch of an epoch)
and empty shards (``n_r = 0``) are weighted correctly, so the result equals one process on the whole
global batch up to rounding. Without counts (``counts=None``) the ranks are weighed equally, ``g =
(1/R) sum_r g_r``.

Dense part. The flat buffer (``model.flat_gradients()``: every gradient a view of it) minus the sparse
segments is cut into contiguous buckets of at most ``bucket_bytes``, last layers first; each bucket is an
``MPI_Iallreduce`` in place, all started before the first is waited on, so the buckets (and the sparse
exchange below) travel together.

Sparse part. An ``Embedding``'s gradient is zero except in the rows of the ids of the batch. Each rank
finds its non-zero rows ``I_r`` (one pass over the matrix), and the ranks ``Allgatherv`` the row ids and
the rows (``m_r = |I_r|`` rows of ``E`` numbers); every rank then adds rank 0's rows, then rank 1's, ...
into a zeroed matrix. Bytes per rank: ``8 m + itemsize·E·m`` with ``m = sum_r m_r``, against
``itemsize·V·E`` for the dense matrix; when ``m (E + 1) >= V·E`` (a tied output layer writes every row)
the matrix goes through the dense all-reduce instead, decided from the gathered counts, so on every
rank alike. Finding the rows from the gradient rather than from the ids keeps the exchange exact
whoever wrote into the matrix.

Example::

    exchange = GradientExchange(model, comm, bucket_bytes=4 << 20)
    loss, y_pred, mask = model.compute_gradients(x_shard, y_shard)
    exchange.run(count=len(x_shard))          # every rank now holds the global-batch gradient
    exchange.stats                            # bytes and seconds, dense and sparse
"""
import time

import numpy as np

from ..layers.embedding import Embedding
from ..models.traversal import unique_parameters

DEFAULT_BUCKET_BYTES = 4 << 20


class GradientExchange:
    """Sums ``model``'s gradients over the ranks of ``comm`` (see the module docstring).

    Args:
        model: a built ``Model``; its gradients become views of one flat buffer.
        comm: a ``Comm`` or ``LocalComm``.
        bucket_bytes: the largest dense bucket (one ``Iallreduce`` each), default 4 MiB.
        sparse_embeddings: exchange only the touched rows of ``Embedding`` matrices.
    """

    def __init__(self, model, comm, bucket_bytes=DEFAULT_BUCKET_BYTES, sparse_embeddings=True):
        if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, (int, np.integer)) or bucket_bytes < 1024:
            raise ValueError(f"GradientExchange got bucket_bytes={bucket_bytes!r}; expected an integer >= 1024, "
                             "e.g. 4 << 20 for 4 MiB buckets.")
        self.comm, self.model = comm, model
        self.flat = model.flat_gradients()
        sizes = comm.allgather_counts(self.flat.size) if comm.size > 1 else np.array([self.flat.size])
        if np.any(sizes != sizes[0]):
            raise ValueError(f"The ranks' models differ: trainable parameters per rank {sizes.tolist()}. Every rank "
                             "must build the same model (same config and vocabulary size) before training.")
        self.sparse = self._sparse_segments(model) if sparse_embeddings else []
        self.buckets = self._dense_buckets(int(bucket_bytes))
        self.stats = {"steps": 0, "bucket_bytes": 0, "embedding_sent_bytes": 0, "embedding_dense_bytes": 0,
                      "sparse_rows": 0, "sparse_fallbacks": 0, "seconds": 0.0}

    # ---- layout ---------------------------------------------------------------------------------------

    def _offsets(self, model):
        """``{id(grad view): start}`` of every gradient in the flat buffer."""
        out = {}
        for _, g in unique_parameters(model.layers):
            if g.base is not self.flat and g is not self.flat:
                raise RuntimeError("A gradient is not a view of the flat buffer; call model.flat_gradients() "
                                   "before anything replaces the layers' gradient arrays.")
            out[id(g)] = (g.__array_interface__["data"][0] - self.flat.__array_interface__["data"][0]) \
                // self.flat.itemsize
        return out

    def _sparse_segments(self, model):
        """``[(grad (V, E) view, start, stop), ...]`` of the Embedding matrices, each once."""
        offsets, seen, out = self._offsets(model), set(), []
        for layer in model.all_layers():
            if isinstance(layer, Embedding) and layer.built and layer.trainable:
                g = layer._grads["embeddings"]
                if id(g) in offsets and id(g) not in seen:
                    seen.add(id(g))
                    out.append((g, offsets[id(g)], offsets[id(g)] + g.size))
        return sorted(out, key=lambda s: s[1])

    def _dense_buckets(self, bucket_bytes):
        """Contiguous slices of the flat buffer outside the sparse segments, at most ``bucket_bytes`` each,
        from the end of the buffer (the last layers, whose gradients the backward pass finishes first)."""
        ranges, at = [], 0
        for _, start, stop in self.sparse:
            if start > at:
                ranges.append((at, start))
            at = stop
        if at < self.flat.size:
            ranges.append((at, self.flat.size))
        per = max(bucket_bytes // self.flat.itemsize, 1)
        buckets = []
        for start, stop in reversed(ranges):
            while stop > start:
                lo = max(start, stop - per)
                buckets.append(self.flat[lo:stop])
                stop = lo
        return buckets

    # ---- the exchange ---------------------------------------------------------------------------------

    def run(self, count=None):
        """Replace every rank's gradients by the global-batch gradient.

        Args:
            count: this rank's number of loss positions ``n_r`` (see the loss scaling above), or None to
                weigh the ranks equally.
        """
        t0 = time.perf_counter()
        comm = self.comm
        total = np.array([1.0 if count is None else float(count)])
        pending = [comm.iallreduce_sum(total)]                    # N = sum_r n_r, travelling with the rest
        if count is not None and float(count) != 1.0:
            self.flat *= float(count)                            # n_r g_r
        pending += [comm.iallreduce_sum(b) for b in self.buckets]
        sparse = [self._gather_rows(g) for g, _, _ in self.sparse]
        for request in pending:
            request.Wait()
        scale = 1.0 / max(total[0], 1.0) if count is not None else 1.0 / comm.size
        for b in self.buckets:
            b *= scale
            self.stats["bucket_bytes"] += b.nbytes
        for (g, _, _), gathered in zip(self.sparse, sparse):
            self._scatter_rows(g, gathered, scale)
        self.stats["steps"] += 1
        self.stats["seconds"] += time.perf_counter() - t0

    def _gather_rows(self, g):
        """Start of the sparse exchange of one (V, E) matrix: its non-zero rows from every rank."""
        rows = np.flatnonzero(g.any(axis=1))
        counts = self.comm.allgather_counts(len(rows))
        V, E = g.shape
        m = int(counts.sum())
        self.stats["embedding_dense_bytes"] += g.nbytes
        if m * (E + 1) >= V * E:                                  # as many bytes as the dense matrix: all-reduce
            self.stats["sparse_fallbacks"] += 1
            self.stats["embedding_sent_bytes"] += g.nbytes
            return ("dense", self.comm.iallreduce_sum(g.reshape(-1)))
        ids, _ = self.comm.allgatherv(rows.astype(np.int64), counts)
        values, _ = self.comm.allgatherv(g[rows], counts)
        self.stats["sparse_rows"] += m
        self.stats["embedding_sent_bytes"] += ids.nbytes + values.nbytes
        g[rows] = 0.0
        return ("rows", ids, values, counts)

    @staticmethod
    def _scatter_rows(g, gathered, scale):
        """Finish one matrix: add every rank's rows, rank by rank (ids are unique within a rank), scaled."""
        if gathered[0] == "dense":
            gathered[1].Wait()
            g *= scale
            return
        _, ids, values, counts = gathered
        values *= scale
        start = 0
        for c in counts:
            stop = start + int(c)
            g[ids[start:stop]] += values[start:stop]
            start = stop

    def summary(self):
        """Bytes per step (sent as dense buckets, sent for embeddings, and what a dense-only exchange would
        send), the share the sparse exchange saved, and the seconds spent exchanging."""
        s, steps = self.stats, max(self.stats["steps"], 1)
        sent = s["bucket_bytes"] + s["embedding_sent_bytes"]
        dense_only = s["bucket_bytes"] + s["embedding_dense_bytes"]
        return {"steps": s["steps"], "bytes_per_step": sent / steps, "dense_only_bytes_per_step": dense_only / steps,
                "embedding_bytes_per_step": s["embedding_sent_bytes"] / steps,
                "embedding_dense_bytes_per_step": s["embedding_dense_bytes"] / steps,
                "saved_fraction": 1.0 - sent / dense_only if dense_only else 0.0,
                "sparse_rows_per_step": s["sparse_rows"] / steps, "sparse_fallbacks": s["sparse_fallbacks"],
                "exchange_seconds": s["seconds"], "ranks": self.comm.size, "itemsize": self.flat.itemsize,
                "embedding_shapes": [list(g.shape) for g, _, _ in self.sparse]}
