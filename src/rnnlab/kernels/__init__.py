"""Compiled (numba) twins of the recurrent time loops -- optional, same results, less overhead.

The layers' time loops (``simple_rnn_forward_loop``, ``lstm_backward_loop``, ...) are plain NumPy
functions. When numba (and scipy, whose BLAS numba's ``np.dot`` calls) can be imported, each has
a compiled twin here with the SAME signature and semantics (masking included). A layer calls

    fast(lstm_forward_loop)(XW, h0, c0, W_h, mask, self.f, self.g, **options)

``fast`` returns the compiled twin when numba is available and not disabled, else the NumPy loop
itself. The twin falls back to the NumPy loop when the call uses something it does not compile:
activations other than the defaults (``tanh`` activation, ``sigmoid`` recurrent activation),
recurrent dropout / layer norm (the ``rec_mask``/``norm``/``cell_norm`` keywords) or a dtype other
than float32/float64.

What the twins do per time step: one BLAS product ``h_{t-1} · W_h`` (backward: ``dz_t · W_hᵀ``)
into a preallocated buffer, then, per row, a few short passes over the gates (pre-activation sum,
activations, state update, mask carry), each simple enough for the compiler to vectorise (AVX-512
where the CPU has it). Each cell's step is one compiled function (``_forward_step`` /
``_backward_step``); the time loop around it runs compiled for a tiny step product and steps in
Python over NumPy's BLAS otherwise (``kernels.blas`` says why and where the line is). Their
scratch arrays come from ``rnnlab.buffers``, which reuses freed ones instead of faulting in fresh
pages each call. Two details decide the speed of the passes, both measured here:

- ``error_model="numpy"``: numba's default Python error model checks every division for zero and
  so keeps the rational tanh below scalar (float32 tanh loop: 2.2 ns/element -> 0.15 ns/element);
- one pass per gate instead of one loop body touching a dozen arrays: LLVM gives up on vectorising
  a loop with too many possibly-aliasing arrays (LSTM forward loop, T=200, N=64, H=128: 41 ms -> 21 ms).

In float32, tanh (and sigmoid = (1 + tanh(z/2)) / 2) use a rational
approximation that the compiler vectorises (max relative error 3.5e-7, a few float32 ulps); in
float64 they call the C library's ``tanh`` (same values as NumPy to ~1e-16).

Install with ``pip install rnnlab[fast]`` (numba, scipy). Environment variable
``RNNLAB_DISABLE_NUMBA=1`` forces the NumPy loops (read at every call, so it can be toggled).
The loops are compiled on first use and cached on disk (``cache=True``): the first call in a
fresh install takes a few seconds per cell, later processes load the cache.

Example::

    from rnnlab import kernels
    kernels.available()        # True when the compiled loops are in use
"""
import os

_REGISTRY = None          # numpy loop -> compiled twin, filled on first use
_IMPORT_ERROR = None


def _numba_importable():
    global _IMPORT_ERROR
    if _IMPORT_ERROR is None:
        try:
            import numba  # noqa: F401
            import scipy.linalg.cython_blas  # noqa: F401   (numba's np.dot calls BLAS through it)
            _IMPORT_ERROR = ""
        except Exception as e:                       # ImportError, or a broken install
            _IMPORT_ERROR = f"{type(e).__name__}: {e}"
    return _IMPORT_ERROR == ""


def disabled():
    """True when ``RNNLAB_DISABLE_NUMBA`` is set to something other than ``""``/``"0"``."""
    return os.environ.get("RNNLAB_DISABLE_NUMBA", "") not in ("", "0")


def available():
    """True when the compiled loops will be used: numba and scipy import, and not disabled."""
    return not disabled() and _numba_importable()


def why_unavailable():
    """A sentence saying why ``available()`` is False (``""`` when it is True)."""
    if disabled():
        return "RNNLAB_DISABLE_NUMBA is set"
    if not _numba_importable():
        return f"numba/scipy could not be imported ({_IMPORT_ERROR}); pip install rnnlab[fast]"
    return ""


def _registry():
    global _REGISTRY
    if _REGISTRY is None:
        from ..layers import gru as np_gru, lstm as np_lstm, simple_rnn as np_simple
        from . import gru, lstm, simple_rnn
        _REGISTRY = {
            np_simple.simple_rnn_forward_loop: simple_rnn.simple_rnn_forward_loop,
            np_simple.simple_rnn_backward_loop: simple_rnn.simple_rnn_backward_loop,
            np_lstm.lstm_forward_loop: lstm.lstm_forward_loop,
            np_lstm.lstm_backward_loop: lstm.lstm_backward_loop,
            np_gru.gru_forward_loop: gru.gru_forward_loop,
            np_gru.gru_backward_loop: gru.gru_backward_loop,
        }
    return _REGISTRY


def fast(loop):
    """The compiled twin of the NumPy time loop ``loop`` if available, else ``loop`` itself."""
    if not available():
        return loop
    return _registry().get(loop, loop)
