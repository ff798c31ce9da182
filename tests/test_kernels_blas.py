"""kernels.blas.matmul: the same product as NumPy's ``@`` for every layout the layers hand it."""
import numpy as np
import pytest

from rnnlab import kernels
from rnnlab.kernels.blas import matmul


def _operands(rng, dtype):
    A = rng.standard_normal((7, 5)).astype(dtype)
    B = rng.standard_normal((5, 3)).astype(dtype)
    big = rng.standard_normal((10, 12)).astype(dtype)
    return [
        (A, B),                                        # C x C
        (np.asfortranarray(A), B),                     # F x C
        (A, np.asfortranarray(B)),                     # C x F
        (A.T.copy().T, B.T.copy().T),                  # F views of C copies
        (big[:7, 2:7], big[1:6, ::4]),                 # strided, neither contiguous
        (rng.standard_normal((5, 7)).astype(dtype).T, B),   # a transposed view, as in X·ᵀ·dZ
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_equals_numpy_for_every_layout(dtype):
    rng = np.random.default_rng(0)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for a, b in _operands(rng, dtype):
        C = matmul(a, b)
        assert C.shape == (a.shape[0], b.shape[1]) and C.dtype == dtype
        assert C.flags.c_contiguous
        np.testing.assert_allclose(C, a.astype(np.float64) @ b.astype(np.float64), rtol=tol, atol=tol)


def test_matmul_without_compiled_loops_uses_numpy(monkeypatch):
    monkeypatch.setenv("RNNLAB_DISABLE_NUMBA", "1")
    assert not kernels.available()
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    np.testing.assert_array_equal(matmul(a, b), a @ b)


def test_matmul_empty_and_integer_operands_fall_back():
    a = np.zeros((0, 4), np.float32)
    b = np.ones((4, 3), np.float32)
    assert matmul(a, b).shape == (0, 3)
    ai, bi = np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)
    np.testing.assert_array_equal(matmul(ai, bi), ai @ bi)


def test_matmul_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"matmul got shapes \(2, 3\) and \(4, 5\); expected \(m, k\) and \(k, n\)"):
        matmul(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32))
