"""Compiled SimpleRNN time loops: twins of ``simple_rnn_forward_loop`` / ``simple_rnn_backward_loop``
(``rnnlab.layers.simple_rnn``; activation tanh).

Per step one BLAS product and one vectorised pass over the N·H units:

    forward:  z_t = XW_t + h_{t-1}·W_h     h_t = tanh(z_t)       masked rows: h_t = h_{t-1}
    backward: dz_t = (dy_t + dh_t)·(1 - h_t²)     dh_{t-1} = dz_t·W_hᵀ   masked rows: dz_t = 0, dh passes

``_forward_step`` / ``_backward_step`` are one step's passes; the time loop around them either
runs compiled (``_forward``/``_backward``, the product by numba's ``np.dot``) or in Python (the
product by NumPy's ``matmul``), as ``kernels.blas.steps_in_python`` decides from the shape.

Example::

    from rnnlab.kernels.simple_rnn import simple_rnn_forward_loop
    Hs, Z = simple_rnn_forward_loop(XW, h0, W_h, b=b)       # XW (T, N, H) float32
"""
import numpy as np
from numba import njit

from .. import activations, buffers
from . import blas
from ._common import as_c, bias_arg, carry_step, check_backward, check_forward, mask_args, scalar, tanh


@njit(cache=True, error_model="numpy")
def _forward_step(t, XW, hW, b, Hs, mask, has_mask):
    """Step t given hW = h_{t-1}·W_h (N, H) and the bias b (H,): z_t into XW[t], h_t into Hs[t + 1]."""
    N, H = hW.shape
    z = XW[t]
    for n in range(N):
        zn, hn, h, h_prev = z[n], hW[n], Hs[t + 1, n], Hs[t, n]
        for j in range(H):
            z_j = (zn[j] + b[j]) + hn[j]                      # z_t = x_t·W_x + b + h_{t-1}·W_h
            zn[j] = z_j
            h[j] = tanh(z_j)                                  # h_t = tanh(z_t)
        if has_mask and not mask[t, n]:                       # masked: carry the state
            for j in range(H):
                h[j] = h_prev[j]


@njit(cache=True, error_model="numpy")
def _forward(XW, W_h, b, Hs, mask, has_mask):
    hW = np.empty((XW.shape[1], XW.shape[2]), dtype=XW.dtype)   # (N, H)
    for t in range(XW.shape[0]):
        np.dot(Hs[t], W_h, hW)                                # h_{t-1} · W_h
        _forward_step(t, XW, hW, b, Hs, mask, has_mask)


@njit(cache=True, error_model="numpy")
def _backward_step(t, dH, dh, Hs, dZ, carry, mask, has_mask):
    """Step t's dZ[t] from dh (gradient w.r.t. h_t from step t+1); masked rows' dh + dy_t go to
    ``carry``."""
    N, H = dh.shape
    one = scalar(dH, 1.0)
    dz, dH_t = dZ[t], dH[t]
    for n in range(N):
        dzn, dhn, dyn, h = dz[n], dh[n], dH_t[n], Hs[t + 1, n]
        if has_mask and not mask[t, n]:                       # masked: h carried over
            for j in range(H):
                carry[n, j] = dhn[j] + dyn[j]
                dzn[j] = 0
            continue
        for j in range(H):
            dzn[j] = (dhn[j] + dyn[j]) * (one - h[j] * h[j])   # through h_t = tanh(z_t)


@njit(cache=True, error_model="numpy")
def _backward(dH, dh, Hs, W_hT, dZ, mask, has_mask):
    carry = np.zeros(dh.shape, dtype=dH.dtype)                # dh of masked rows, passed through
    for t in range(dH.shape[0] - 1, -1, -1):
        _backward_step(t, dH, dh, Hs, dZ, carry, mask, has_mask)
        np.dot(dZ[t], W_hT, dh)                               # through h_{t-1} · W_h
        if has_mask:
            carry_step(t, dh, carry, mask)


def simple_rnn_forward_loop(XW, h0, W_h, mask=None, *, b=None, f=activations.tanh, rec_mask=None, norm=None):
    """Compiled ``simple_rnn_forward_loop`` of ``rnnlab.layers.simple_rnn`` (same arguments and
    results; the bias is added inside the step pass, not in a pass of its own). Declines
    (``kernels.Decline``) other activations, ``rec_mask``/``norm`` and other dtypes or layouts of ``XW``."""
    dt = check_forward(XW, f, rec_mask=rec_mask, norm=norm)
    T, N, H = XW.shape
    M, has_mask = mask_args(mask, T, N)
    W_h = as_c(W_h, dt)
    b = bias_arg(b, H, dt)
    Hs = buffers.empty((T + 1, N, H), dt)
    Hs[0] = h0
    if not blas.steps_in_python(N, H, H):
        _forward(XW, W_h, b, Hs, M, has_mask)
        return Hs, XW
    hW = np.empty((N, H), dtype=dt)
    for t in range(T):
        np.matmul(Hs[t], W_h, out=hW)                         # h_{t-1} · W_h, NumPy's BLAS
        _forward_step(t, XW, hW, b, Hs, M, has_mask)
    return Hs, XW


def simple_rnn_backward_loop(dH, dh_T, Hs, Z, W_hT, mask=None, *, f_backward=activations.tanh_backward,
                             rec_mask=None, norm=None, dh_out=None):
    """Compiled ``simple_rnn_backward_loop`` of ``rnnlab.layers.simple_rnn`` (same arguments and results)."""
    dt = check_backward(dH, f_backward, rec_mask=rec_mask, norm=norm, dh_out=dh_out)
    T, N, H = dH.shape
    M, has_mask = mask_args(mask, T, N)
    dH, Hs, W_hT = (as_c(x, dt) for x in (dH, Hs, W_hT))
    dZ = buffers.empty((T, N, H), dt)
    dh = np.array(dh_T, dtype=dt, order="C")                  # (N, H) gradient w.r.t. h_t
    if not blas.steps_in_python(N, H, H):
        _backward(dH, dh, Hs, W_hT, dZ, M, has_mask)
        return dZ, dh
    carry = np.zeros((N, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        _backward_step(t, dH, dh, Hs, dZ, carry, M, has_mask)
        np.matmul(dZ[t], W_hT, out=dh)                        # through h_{t-1} · W_h, NumPy's BLAS
        if has_mask:
            carry_step(t, dh, carry, M)
    return dZ, dh
