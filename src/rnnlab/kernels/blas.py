"""How a compiled time loop reaches BLAS: compiled over SciPy's for tiny steps, else stepped in Python.

Each recurrent step needs one product, ``h_{t-1}·W_h`` (backward: ``dz_t·W_hᵀ``). From inside numba
the only BLAS is numba's ``np.dot``, i.e. SciPy's OpenBLAS (``scipy.linalg.cython_blas``). NumPy
bundles an OpenBLAS of its own, newer here (0.3.31 against SciPy's 0.3.30), and every product
outside the loops (``X·W_x`` over all steps, ``dW = Xᵀ·dZ``, ``dX = dZ·W_xᵀ``, Dense layers) is
NumPy's ``@``. Measured on this 2-core machine (float32, 2 threads):

- NumPy's is faster for the short-batch per-step product: (20, 650) x (650, 2600) takes 0.49 ms
  there and 0.82 ms in SciPy's; (1, 128) x (128, 512) 2.9 µs against 22 µs.
- Each OpenBLAS keeps its own thread pool, whose threads spin for a while after a product before
  they sleep. When both pools work in one layer call, the idle one's spinning threads halve the
  other's: LSTM training step, T=200, N=64, D=H=128, 205 ms with both in use, 112 ms with one.
- OpenBLAS computes a product of at most 2^18 multiply-adds in the calling thread (its
  ``GEMM_MULTITHREAD_THRESHOLD``: 1- and 2-thread times are equal there), so SciPy's pool never
  wakes for such a step.
- Stepping the loop in Python costs ~2 µs a step (a NumPy ``matmul`` call and the compiled pass's
  dispatch), which would dominate only a tiny step.

So a compiled twin runs its whole loop compiled, products by numba's ``np.dot``, only when the
step product has ``N·H·G <= STEP_MACS`` multiply-adds (``steps_in_python`` is False); otherwise
the loop steps in Python, calling NumPy's ``matmul`` into a preallocated buffer and then the
compiled pass of the step. Either way only NumPy's thread pool ever runs threads.

Example::

    from rnnlab.kernels import blas
    blas.steps_in_python(64, 128, 512)       # True: LSTM, batch 64, H=128
"""

STEP_MACS = 1 << 14     # multiply-adds of h_{t-1}·W_h up to which the whole loop runs compiled


def steps_in_python(N, H, G):
    """True when the time loop of a call (batch N, width H, G gate columns) steps in Python over
    NumPy's BLAS rather than running compiled over SciPy's (see the module docstring)."""
    return N * H * G > STEP_MACS
