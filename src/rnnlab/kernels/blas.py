"""How a compiled time loop reaches BLAS: compiled over SciPy's for small steps, else stepped in Python.

Each recurrent step needs one product, ``h_{t-1}·W_h`` (backward: ``dz_t·W_hᵀ``). From inside numba
the only BLAS is numba's ``np.dot``, i.e. SciPy's OpenBLAS (``scipy.linalg.cython_blas``). NumPy
bundles an OpenBLAS of its own (a newer one in the development environment), and every product
outside the loops (``X·W_x`` over all steps, ``dW = Xᵀ·dZ``, ``dX = dZ·W_xᵀ``, Dense layers) is
NumPy's ``@``. What decides between them (figures in the comment below this docstring):

- NumPy's is faster for the short-batch per-step product, markedly so for a single row.
- Each OpenBLAS keeps its own thread pool, whose threads spin for a while after a product before
  they sleep. When both pools work in one layer call, the idle one's spinning threads take the
  cores from the other's, nearly doubling a training step.
- OpenBLAS computes a product of at most 2^18 multiply-adds in the calling thread (its
  ``GEMM_MULTITHREAD_THRESHOLD``: 1- and 2-thread times are equal there), so SciPy's pool never
  wakes for such a step.
- Stepping the loop in Python costs a couple of microseconds a step (a NumPy ``matmul`` call and
  the compiled pass's dispatch), which dominates a tiny step: a compiled loop is several times
  faster there.
- SciPy's ``sgemm`` is slow for a few rows of a wider state, but fine for one row and for a narrow
  state.

So a compiled twin runs its whole loop compiled, products by numba's ``np.dot``, when the step
product stays in the calling thread (``N·H·G <= THREAD_MACS``) and is tiny (``<= TINY_MACS``), or
has one row, or a state of at most ``NARROW_H`` units; otherwise (``steps_in_python`` is True) the
loop steps in Python, calling NumPy's ``matmul`` into a preallocated buffer and then the compiled
pass of the step. Either way only NumPy's thread pool ever runs threads.

Example::

    from rnnlab.kernels import blas
    blas.steps_in_python(64, 128, 512)       # True: LSTM, batch 64, H=128
    blas.steps_in_python(1, 128, 512)        # False: one row
"""
# Measured on the 2-core development machine (float32, 2 threads; NumPy's OpenBLAS 0.3.31,
# SciPy's 0.3.30), the figures behind the choices above:
#   per-step product (20, 650) x (650, 2600): 0.49 ms in NumPy's BLAS, 0.82 ms in SciPy's;
#     (1, 128) x (128, 512): 2.9 us against 22 us.
#   both thread pools in one layer call: LSTM training step, T=200, N=64, D=H=128, 205 ms with
#     both in use, 112 ms with one.
#   stepping in Python, ~2 us a step: SimpleRNN training step, T=300, N=1, H=64, 0.22 ms
#     compiled, 0.91 ms stepped.
#   SciPy's sgemm, LSTM training step, T=300: N=2, H=128 16.4 ms compiled, 10.5 ms stepped;
#     N=1, H=256 8.2 ms compiled, 9.2 ms stepped; N=32, H=16 3.6 ms compiled, 4.3 ms stepped.

THREAD_MACS = 1 << 18   # OpenBLAS's single-thread limit (multiply-adds of h_{t-1}·W_h)
TINY_MACS = 1 << 14     # up to here the whole loop runs compiled whatever the shape
NARROW_H = 32           # states this narrow, or a batch of one row, run compiled up to THREAD_MACS


def steps_in_python(N, H, G):
    """True when the time loop of a call (batch N, width H, G gate columns) steps in Python over
    NumPy's BLAS rather than running compiled over SciPy's (see the module docstring)."""
    macs = N * H * G
    if macs > THREAD_MACS:
        return True
    return not (macs <= TINY_MACS or N == 1 or H <= NARROW_H)
