"""Compiled SimpleRNN time loops: twins of ``rnnlab.layers.simple_rnn.simple_rnn_forward_loop`` /
``_backward_loop`` (activation tanh).

Per step one BLAS product and one vectorised pass over the N·H units:

    forward:  z_t = XW_t + h_{t-1}·W_h     h_t = tanh(z_t)       masked rows: h_t = h_{t-1}
    backward: dz_t = (dy_t + dh_t)·(1 - h_t²)     dh_{t-1} = dz_t·W_hᵀ   masked rows: dz_t = 0, dh passes

Example::

    from rnnlab.kernels.simple_rnn import simple_rnn_forward_loop
    Hs, Z = simple_rnn_forward_loop(XW, h0, W_h)            # XW (T, N, H) float32
"""
import numpy as np
from numba import njit

from .. import activations
from ..layers import simple_rnn as _numpy
from ._common import as_c, compiled_ok, mask_args, scalar, tanh


@njit(cache=True, error_model="numpy")
def _forward(XW, h0, W_h, mask, has_mask):
    T, N, H = XW.shape
    Hs = np.empty((T + 1, N, H), dtype=XW.dtype)
    Hs[0] = h0
    hW = np.empty((N, H), dtype=XW.dtype)                     # (N, H)
    for t in range(T):
        np.dot(Hs[t], W_h, hW)                                # h_{t-1} · W_h
        z = XW[t]
        for n in range(N):
            zn, hn, h, h_prev = z[n], hW[n], Hs[t + 1, n], Hs[t, n]
            for j in range(H):
                z_j = zn[j] + hn[j]                           # z_t = XW_t + h_{t-1}·W_h
                zn[j] = z_j
                h[j] = tanh(z_j)                              # h_t = tanh(z_t)
            if has_mask and not mask[t, n]:                   # masked: carry the state
                for j in range(H):
                    h[j] = h_prev[j]
    return Hs, XW


@njit(cache=True, error_model="numpy")
def _backward(dH, dh_T, Hs, W_hT, mask, has_mask):
    T, N, H = dH.shape
    one = scalar(dH, 1.0)
    dZ = np.empty((T, N, H), dtype=dH.dtype)
    dh = dh_T.copy()                                          # (N, H) gradient w.r.t. h_t
    carry = np.zeros((N, H), dtype=dH.dtype)
    for t in range(T - 1, -1, -1):
        dz, dH_t = dZ[t], dH[t]
        for n in range(N):
            dzn, dhn, dyn, h = dz[n], dh[n], dH_t[n], Hs[t + 1, n]
            if has_mask and not mask[t, n]:                   # masked: h carried over
                for j in range(H):
                    carry[n, j] = dhn[j] + dyn[j]
                    dzn[j] = 0
                continue
            for j in range(H):
                dzn[j] = (dhn[j] + dyn[j]) * (one - h[j] * h[j])   # through h_t = tanh(z_t)
        np.dot(dz, W_hT, dh)                                  # through h_{t-1} · W_h
        if has_mask:
            for n in range(N):
                if not mask[t, n]:
                    for j in range(H):
                        dh[n, j] = carry[n, j]
    return dZ, dh


def simple_rnn_forward_loop(XW, h0, W_h, mask=None, f=activations.tanh, **options):
    """Compiled ``rnnlab.layers.simple_rnn.simple_rnn_forward_loop`` (same arguments and results)."""
    dt = XW.dtype
    if not (compiled_ok(dt, f, options=options) and XW.ndim == 3 and XW.flags.c_contiguous):
        return _numpy.simple_rnn_forward_loop(XW, h0, W_h, mask, f, **options)
    T, N, _ = XW.shape
    M, has_mask = mask_args(mask, T, N)
    return _forward(XW, as_c(h0, dt), as_c(W_h, dt), M, has_mask)


def simple_rnn_backward_loop(dH, dh_T, Hs, Z, W_hT, mask=None, f_backward=activations.tanh_backward,
                             **options):
    """Compiled ``rnnlab.layers.simple_rnn.simple_rnn_backward_loop`` (same arguments and results)."""
    dt = dH.dtype
    if not (compiled_ok(dt, options=options) and f_backward is activations.tanh_backward):
        return _numpy.simple_rnn_backward_loop(dH, dh_T, Hs, Z, W_hT, mask, f_backward, **options)
    T, N, _ = dH.shape
    M, has_mask = mask_args(mask, T, N)
    return _backward(as_c(dH, dt), as_c(dh_T, dt), as_c(Hs, dt), as_c(W_hT, dt), M, has_mask)
