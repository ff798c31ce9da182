"""The process group: detection of an MPI launch, a small wrapper around ``mpi4py``'s ``COMM_WORLD``, a
one-process stand-in with the same methods, and the failure policy (one failing rank ends the job).

Detection: ``mpiexec -n N`` (MPICH's Hydra, Open MPI, Intel MPI, Slurm's PMI) puts the rank count in the
environment of every process it starts; ``launched_by_mpi()`` reads it *without importing mpi4py*, so the
single-process path never loads MPI::

    PMI_SIZE (MPICH/Hydra, Intel MPI), OMPI_COMM_WORLD_SIZE (Open MPI), PMIX_SIZE, MV2_COMM_WORLD_SIZE

Failure policy (``Comm.guard``): an exception on any rank prints ``rank r of N failed while <what>:
<type>: <message>`` with its traceback to stderr and calls ``MPI_Abort``, which ends every rank at once
(a rank that merely exits would leave the others waiting forever inside the next all-reduce). A rank
killed by a signal (SIGKILL, out of memory) is seen by MPICH's launcher, which kills the others within
about a second ("BAD TERMINATION ... KILLED BY SIGNAL: 9"). ``Comm.start_watchdog(timeout)`` covers the
remaining case, a rank that hangs: when no training step finished for ``timeout`` seconds on a rank, it
aborts the job with a message naming the rank and what it was doing.

Example::

    from rnnlab.distributed import comm as dcomm
    c = dcomm.init()                 # Comm over COMM_WORLD under mpiexec, LocalComm (size 1) otherwise
    with c.guard("training"):
        ...                           # an exception here ends the job on every rank, with its message
"""
import os
import sys
import threading
import time
import traceback

import numpy as np

#: environment variables in which MPI launchers give the number of processes of the job
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")
#: ``RNNLAB_DISTRIBUTED=0`` turns the automatic detection off, ``=1`` forces the MPI path
SWITCH = "RNNLAB_DISTRIBUTED"


def launched_by_mpi(environ=None):
    """True when this process was started by an MPI launcher with more than one process (or
    ``RNNLAB_DISTRIBUTED=1``); False with ``RNNLAB_DISTRIBUTED=0``. Never imports mpi4py."""
    env = os.environ if environ is None else environ
    forced = env.get(SWITCH)
    if forced is not None and forced.strip() != "":
        return forced.strip().lower() not in ("0", "false", "no", "off")
    for name in SIZE_VARIABLES:
        try:
            if int(env.get(name, "0")) > 1:
                return True
        except ValueError:
            continue
    return False


def shard(n, size, rank):
    """The ``slice`` of ``n`` items that ``rank`` of ``size`` takes: contiguous, sizes differing by at most
    one, the larger ones first (``np.array_split``'s rule). ``shard(5, 2, 0) == slice(0, 3)``."""
    base, extra = divmod(int(n), int(size))
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


class _Group:
    """What ``Comm`` and ``LocalComm`` share: the failure guard and the watchdog."""

    rank, size = 0, 1
    _watchdog = None

    @property
    def is_root(self):
        return self.rank == 0

    def guard(self, what):
        """A context manager: an exception inside ends the whole job (``abort``) after printing which rank
        failed, while doing ``what``, and why. On one process the exception is simply raised."""
        return _Guard(self, what)

    def fail(self, what, exc):
        """Print why this rank failed and end the job (``abort``)."""
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(f"{detail}rnnlab.distributed: rank {self.rank} of {self.size} failed while {what}: "
                         f"{type(exc).__name__}: {exc}\nrnnlab.distributed: aborting all {self.size} processes.\n")
        sys.stderr.flush()
        self.abort(1)

    def abort(self, code=1):
        raise SystemExit(code)

    # ---- watchdog -------------------------------------------------------------------------------------

    def start_watchdog(self, timeout, what="training"):
        """Abort the job when ``beat()`` is not called for ``timeout`` seconds (None or 0: no watchdog)."""
        if not timeout or self.size == 1:
            return
        if self._watchdog is None:
            self._watchdog = _Watchdog(self, float(timeout))
        self._watchdog.what = what
        self._watchdog.beat()

    def beat(self, what=None):
        """Tell the watchdog that this rank made progress (a step ended)."""
        if self._watchdog is not None:
            self._watchdog.beat(what)

    def stop_watchdog(self):
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None


class _Guard:
    def __init__(self, group, what):
        self.group, self.what = group, what

    def __enter__(self):
        return self.group

    def __exit__(self, exc_type, exc, tb):
        if exc is None or self.group.size == 1 or isinstance(exc, SystemExit) and exc.code in (0, None):
            return False
        self.group.fail(self.what, exc)
        return False


class _Watchdog:
    """A daemon thread that aborts the job when the last ``beat`` is older than ``timeout`` seconds.
    mpi4py releases the GIL inside blocking MPI calls, so the thread runs while a rank waits."""

    def __init__(self, group, timeout):
        self.group, self.timeout, self.what = group, timeout, "training"
        self._last = time.monotonic()
        self._stop = threading.Event()
        threading.Thread(target=self._run, name="rnnlab-watchdog", daemon=True).start()

    def beat(self, what=None):
        self._last = time.monotonic()
        if what is not None:
            self.what = what

    def stop(self):
        self._stop.set()

    def _run(self):
        while not self._stop.wait(min(1.0, self.timeout / 4)):
            idle = time.monotonic() - self._last
            if idle > self.timeout:
                sys.stderr.write(f"rnnlab.distributed: rank {self.group.rank} of {self.group.size} made no progress "
                                 f"for {idle:.0f}s while {self.what} (watchdog timeout {self.timeout:.0f}s): another "
                                 "rank probably hangs or died; aborting all processes. Raise the timeout "
                                 "(--dist-timeout / timeout=) for slow steps.\n")
                sys.stderr.flush()
                self.group.abort(3)
                return


class LocalComm(_Group):
    """One process, no MPI: every collective is the identity. The distributed code path runs unchanged on
    it, which is how tests compare one process with N."""

    def Allreduce(self, buf):                       # noqa: N802  (MPI's names)
        return buf

    def allreduce_sum(self, buf):
        """Sum ``buf`` (a float64 or float32 array) over ranks, in place."""
        return buf

    def iallreduce_sum(self, buf):
        return _Done()

    def allgatherv(self, local, counts=None):
        """Concatenate every rank's ``local`` along axis 0, in rank order: here ``(local, [len(local)])``."""
        return np.asarray(local), np.array([len(local)], dtype=np.int64)

    def allgather_counts(self, count):
        return np.array([int(count)], dtype=np.int64)

    def bcast_arrays(self, arrays, root=0):
        return arrays

    def bcast(self, obj, root=0):
        return obj

    def barrier(self):
        pass


class _Done:
    def Wait(self):                                 # noqa: N802
        pass


class Comm(_Group):
    """``COMM_WORLD`` of mpi4py with the few collectives data-parallel training needs.

    Args:
        mpi_comm: an ``mpi4py.MPI.Comm`` (default: ``COMM_WORLD``).
    """

    def __init__(self, mpi_comm=None):
        from mpi4py import MPI
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if mpi_comm is None else mpi_comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def abort(self, code=1):
        self.comm.Abort(code)

    def allreduce_sum(self, buf):
        """Sum the contiguous array ``buf`` over ranks, in place (MPI_Allreduce with MPI_IN_PLACE)."""
        self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)
        return buf

    def iallreduce_sum(self, buf):
        """Start summing ``buf`` in place; returns a request whose ``Wait()`` finishes it."""
        return self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)

    def allgather_counts(self, count):
        """Every rank's integer ``count``, in rank order: an int64 array of length ``size``."""
        counts = np.zeros(self.size, dtype=np.int64)
        self.comm.Allgather(np.array([int(count)], dtype=np.int64), counts)
        return counts

    def allgatherv(self, local, counts=None):
        """Concatenate every rank's ``local`` (1-D, or 2-D with one row length everywhere) along axis 0, in
        rank order; returns ``(gathered, counts)`` with ``counts`` the rows per rank."""
        local = np.ascontiguousarray(local)
        if counts is None:
            counts = self.allgather_counts(len(local))
        row = int(np.prod(local.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()),) + local.shape[1:], dtype=local.dtype)
        sizes = counts * row
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        mpitype = self.MPI._typedict[local.dtype.char]
        self.comm.Allgatherv(local.reshape(-1), [out.reshape(-1), sizes, offsets, mpitype])
        return out, counts

    def bcast_arrays(self, arrays, root=0):
        """Overwrite every array of ``arrays`` with rank ``root``'s values (in place); returns them."""
        for a in arrays:
            if not a.flags.c_contiguous:
                raise ValueError(f"bcast_arrays needs C-contiguous arrays, got one of shape {a.shape}; "
                                 "pass np.ascontiguousarray(a) and copy the result back.")
            self.comm.Bcast(a, root=root)
        return arrays

    def bcast(self, obj, root=0):
        """A picklable Python object from ``root`` to every rank."""
        return self.comm.bcast(obj, root=root)

    def barrier(self):
        self.comm.Barrier()


_ACTIVE = None


def init(distributed=None, timeout=None):
    """The process group of this run: a ``Comm`` over MPI when ``distributed`` is True (or None and
    ``launched_by_mpi()``), else a ``LocalComm``. Made once per process and returned again afterwards.

    Args:
        distributed: True: require MPI (an ImportError that says how to install it when mpi4py is
            missing); False: one process; None: detect from the environment.
        timeout: seconds without a finished step after which the watchdog aborts the job (None: off).
    """
    global _ACTIVE
    use_mpi = launched_by_mpi() if distributed is None else bool(distributed)
    if _ACTIVE is not None and (isinstance(_ACTIVE, Comm) == use_mpi):
        return _ACTIVE
    if not use_mpi:
        return LocalComm()
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise ImportError("Distributed training needs mpi4py and an MPI library: pip install 'rnnlab[mpi]' "
                          "(mpi4py and the mpich wheel), then launch with mpiexec -n N rnnlab train ...") from None
    _ACTIVE = Comm()
    if timeout:
        _ACTIVE.start_watchdog(timeout)
    return _ACTIVE


def active():
    """The ``Comm`` made by ``init`` (None before, and in single-process runs)."""
    return _ACTIVE


def add_cli_arguments(parser):
    """Add ``--distributed`` and ``--dist-timeout`` to a task's ``rnnlab train`` parser."""
    parser.add_argument("--distributed", action="store_true", default=None,
                        help="data-parallel over MPI (mpiexec -n N rnnlab train ...); detected automatically "
                             "under mpiexec, so only needed to insist (set RNNLAB_DISTRIBUTED=0 to turn off)")
    parser.add_argument("--dist-timeout", type=float, default=None, metavar="SECONDS",
                        help="distributed runs: abort the job when a rank makes no progress for this long")


def for_task(distributed=None, timeout=None):
    """The process group a task's ``train`` uses: None on the single-process path (nothing of MPI is
    loaded), else ``init(True, timeout)``."""
    if distributed is False or (distributed is None and not launched_by_mpi()):
        return None
    return init(True, timeout)
