"""Compiled (numba) twins of the recurrent time loops -- optional, same results, less overhead.

Each cell's time loops (``simple_rnn_forward_loop``, ``lstm_backward_loop``, ...) are plain NumPy
functions in the cell's own module under ``rnnlab.layers``. Those that have a compiled twin here
say so where they are defined::

    from rnnlab import kernels

    @kernels.twin("rnnlab.kernels.lstm:lstm_forward_loop")
    def lstm_forward_loop(XW, h0, c0, W_h, mask=None, *, b=None, f=tanh, g=sigmoid, ...):
        ...                                   # the NumPy loop

``twin`` turns the NumPy loop into a dispatcher. At each call, when ``available()`` (numba and
scipy import and ``RNNLAB_DISABLE_NUMBA`` is not set), it calls the twin -- its module is imported
on the first such call -- with the same arguments; otherwise, or when the twin raises ``Decline``,
it calls the NumPy loop. The check costs one environment lookup per sequence, not per time step.
The dependency runs one way: the layers import this package, nothing here imports a layer. A new
cell needs its NumPy loops decorated in its own module and, if it wants one, a twin module here;
there is no table to edit. ``lstm_forward_loop.numpy`` is the undecorated NumPy loop,
``lstm_forward_loop.twin()`` the compiled twin (``None`` for a loop declared with
``twin(None)``), ``kernels.loops()`` every dispatcher made so far.

A twin takes exactly the NumPy loop's signature and gives its results (to float rounding). What it
does not compile it declines by raising ``Decline`` BEFORE it writes to any argument: activations
other than the defaults (``tanh`` activation, ``sigmoid`` recurrent activation), recurrent dropout
or layer norm (``rec_mask``/``norm``/``cell_norm``), a dtype other than float32/float64, an ``XW``
that is not a C-contiguous (T, N, G) array.

The loops' signatures (one convention for every cell)
-----------------------------------------------------

Forward: ``(XW, *initial states, W_h, mask=None, *, options)``; backward:
``(dH, *final-state gradients, *what the forward returned, W_hT, mask=None, *, options)``::

    simple_rnn_forward_loop(XW, h0, W_h, mask=None, *, b, f, rec_mask, norm)          -> Hs, Z
    simple_rnn_backward_loop(dH, dh_T, Hs, Z, W_hT, mask=None, *, f_backward, rec_mask, norm, dh_out)
                                                                                      -> dZ, dh0
    lstm_forward_loop(XW, h0, c0, W_h, mask=None, *, b, f, g, rec_mask, norm, cell_norm)
                                                                          -> Hs, Cs, Z, A, TC
    lstm_backward_loop(dH, dh_T, dc_T, Hs, Cs, Z, A, TC, W_hT, mask=None, *, f_backward, g_backward,
                       rec_mask, norm, cell_norm, dh_out)                     -> dZ, dh0, dc0
    gru_forward_loop(XW, h0, W_h, mask=None, *, b, b_h, f, g, rec_mask, norm)     -> Hs, Z, A, UH
    gru_backward_loop(dH, dh_T, Hs, Z, A, UH, W_hT, mask=None, *, f_backward, g_backward, rec_mask,
                      norm, dh_out)                                          -> dGx, dGu, dh0
    gru_v1_forward_loop(XW, h0, W_h, mask=None, *, b, f, g, rec_mask, norm)          -> Hs, Z, A
    gru_v1_backward_loop(dH, dh_T, Hs, Z, A, W_hT, mask=None, *, f_backward, g_backward, rec_mask,
                         norm, dh_out)                                             -> dG, dh0

- ``XW`` (T, N, G) is ``x_t · W_x`` for all steps (G = K·H for K gate blocks); the forward loop
  overwrites it in place with the activation inputs and returns it as ``Z``.
- ``W_h`` (H, G) is the recurrent kernel; the backward loop takes its transpose ``W_hT`` (G, H),
  C-contiguous. ``mask`` is (T, N) bool or None: at a masked step the states are carried over.
- ``b``: the input bias (G,), added to ``XW`` (GRU: its input bias b_x). ``b_h`` (GRU
  ``reset_after=True`` only): the recurrent bias, added to ``h_{t-1} · W_h``. None: no bias.
- ``f``, ``g``: activation and recurrent activation (``f_backward``, ``g_backward``:
  ``(da, a, z) -> dz``); ``rec_mask`` (N, H): recurrent dropout mask; ``norm``, ``cell_norm``
  (LSTM): ``BlockNorm`` layer norms. The backward loop gets the options the forward one got.
- ``dh_out`` (backward only; default None): a (T, N, H) array into which the NumPy loop writes
  dL/dh_t at each step, for ``rnnlab.diagnostics``; the twins decline it, so recording runs the
  NumPy loop and the default call does no extra work.

How the twins run
-----------------

Per time step one BLAS product ``h_{t-1} · W_h`` (backward: ``dz_t · W_hᵀ``) into a preallocated
buffer (GRU ``reset_after=False``: two, the second needing the reset gate of the first), then, per
row, a few short passes over the gates (pre-activation sum, activations, state update, mask carry),
each simple enough for the compiler to vectorise (AVX-512 where the CPU has it). Each cell's step
is one compiled function (``_forward_step`` / ``_backward_step``); the time loop around it runs
compiled for a tiny step product and steps in Python over NumPy's BLAS otherwise (``kernels.blas``
says why and where the line is). Their scratch arrays come from ``rnnlab.buffers``, which reuses
freed ones instead of faulting in fresh pages each call. Two details decide the speed of the passes:

- ``error_model="numpy"``: numba's default Python error model checks every division for zero, which
  keeps the loop over the rational tanh from vectorising (it runs an order of magnitude slower);
- one pass per gate instead of one loop body touching a dozen arrays: LLVM gives up on vectorising
  a loop with too many possibly-aliasing arrays (the fused LSTM forward step took twice as long).

In float32, tanh (and sigmoid = (1 + tanh(z/2)) / 2) use a rational approximation that the compiler
vectorises (max relative error 3.5e-7, a few float32 ulps); in float64 they call the C library's
``tanh`` (same values as NumPy to ~1e-16).

numba and scipy come with ``pip install rnnlab`` wherever numba ships wheels (``rnnlab[fast]`` asks for
them anywhere). Environment variable
``RNNLAB_DISABLE_NUMBA=1`` forces the NumPy loops (read at every call, so it can be toggled).
The loops are compiled on first use and cached on disk (``cache=True``): the first call in a
fresh install takes a few seconds per cell, later processes load the cache.

Example::

    from rnnlab import kernels
    kernels.available()        # True when the compiled loops are in use
"""
# Measured on the 2-core development machine (AMD Zen 5, float32), behind the two choices above:
#   error_model="numpy": float32 tanh loop 2.2 ns/element with numba's default model, 0.15 with it;
#   one pass per gate: LSTM forward loop, T=200, N=64, H=128, 41 ms with one fused loop body, 21 ms.
import functools
import importlib
import os

__all__ = ["Decline", "available", "disabled", "loops", "twin", "why_unavailable"]

_IMPORT_ERROR = None
_LOOPS = []               # every dispatcher ``twin`` made, in definition order (for ``loops()``)


class Decline(NotImplementedError):
    """Raised by a compiled twin for a call it does not compile, before it has written to any
    argument; the dispatcher then runs the NumPy loop with the same arguments."""


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


def twin(target):
    """Decorator for a NumPy time loop: dispatch each call to its compiled twin ``target``.

    Args:
        target: ``"module:function"`` (e.g. ``"rnnlab.kernels.lstm:lstm_forward_loop"``), or
            ``"module"`` for a function of the NumPy loop's name there, or None for a loop without
            a twin (the dispatcher then always runs the NumPy loop). The module is imported on the
            first call that finds ``available()`` True; the function is looked up in it at each
            call (so a test can replace it).
    Returns:
        A decorator. The dispatcher it makes has the NumPy loop's name, docstring and signature,
        and the attributes ``numpy`` (the NumPy loop), ``twin()`` (the compiled function, importing
        its module; None without a target) and ``twin_target`` (``target``).
    """
    if target is not None and not (isinstance(target, str) and target.strip(":")):
        raise TypeError(f"twin target must be 'module:function', 'module' or None, got {target!r}")

    def decorate(loop):
        if target is None:
            def resolve():
                return None

            def dispatch(*args, **kwargs):
                return loop(*args, **kwargs)
        else:
            module_name, _, name = target.partition(":")
            name = name or loop.__name__
            module = None

            def resolve():
                nonlocal module
                if module is None:
                    module = importlib.import_module(module_name)
                return getattr(module, name)

            def dispatch(*args, **kwargs):
                if available():
                    try:
                        return resolve()(*args, **kwargs)
                    except Decline:
                        pass                              # the twin left the arguments untouched
                return loop(*args, **kwargs)
        functools.update_wrapper(dispatch, loop)
        dispatch.numpy = loop
        dispatch.twin = resolve
        dispatch.twin_target = target
        _LOOPS.append(dispatch)
        return dispatch
    return decorate


def loops():
    """Every dispatcher ``twin`` has made so far (the cells' modules make theirs when imported)."""
    return tuple(_LOOPS)
