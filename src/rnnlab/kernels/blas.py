"""One BLAS for a recurrent layer: the products around the compiled loops go where the loops' go.

NumPy and SciPy each bundle an OpenBLAS of their own, and each OpenBLAS keeps its own thread pool.
The compiled loops reach BLAS through numba's ``np.dot``, which calls SciPy's
(``scipy.linalg.cython_blas``). If the big products around the loop (``X·W_x`` over all steps,
``dW_x = Xᵀ·dZ``, ``dW_h = H_prevᵀ·dZ``, ``dX = dZ·W_xᵀ``) went to NumPy's OpenBLAS instead, the
threads of one pool would still be spinning, waiting for work, while the other pool's threads run:
on 2 cores the two pools halve each other. Measured here (LSTM training step, T=200, N=64, D=H=128,
2 threads): 205 ms with both pools in use, 112 ms with the loop's pool limited to one thread.

``matmul(a, b)`` therefore computes ``a @ b`` with SciPy's ``?gemm`` whenever the compiled loops
are in use (``kernels.available()``), and with NumPy's ``@`` otherwise. Both are the same product
to rounding (float64 results agree to ~1e-15).

Row-major arrays are handed to the Fortran routine without copies: ``C = A·B`` is computed as
``Cᵀ = Bᵀ·Aᵀ``, and a C-contiguous matrix is an F-contiguous view of its transpose.

Example::

    from rnnlab.kernels.blas import matmul
    C = matmul(A, B)            # (m, k) x (k, n) -> (m, n), C-contiguous
"""
import numpy as np

from . import available

_GEMM = {}


def _gemm(dtype):
    if not _GEMM:
        from scipy.linalg import blas
        _GEMM.update({np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm})
    return _GEMM.get(np.dtype(dtype))


def _fortran_operand(M):
    """``(F, trans)`` with ``F`` F-contiguous and ``op(F) = M`` (``trans=1``: ``op`` transposes)."""
    if M.flags.f_contiguous:
        return M, 0
    if not M.flags.c_contiguous:
        M = np.ascontiguousarray(M)
    return M.T, 1


def matmul(a, b):
    """``a @ b`` for 2-D float arrays, through the compiled loops' BLAS when they are in use.

    Args:
        a: (m, k) array; b: (k, n) array of the same float dtype (any strides).
    Returns:
        (m, n) C-contiguous array, ``a @ b``.
    """
    if a.ndim == b.ndim == 2 and a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul got shapes {a.shape} and {b.shape}; expected (m, k) and (k, n) with the "
                         "same k.")
    gemm = _gemm(a.dtype) if a.dtype == b.dtype and a.ndim == b.ndim == 2 else None
    if gemm is None or 0 in a.shape or 0 in b.shape or not available():
        return np.ascontiguousarray(a @ b)
    bt, trans_b = _fortran_operand(b.T)                 # op(bt) = bᵀ   (n, k)
    at, trans_a = _fortran_operand(a.T)                 # op(at) = aᵀ   (k, m)
    return gemm(1.0, bt, at, trans_a=trans_b, trans_b=trans_a).T   # (bᵀ·aᵀ)ᵀ = a·b
