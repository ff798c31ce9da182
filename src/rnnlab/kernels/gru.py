"""Compiled GRU time loops (``reset_after=True``): twins of ``rnnlab.layers.gru.gru_forward_loop`` /
``_backward_loop``. ``reset_after=False`` keeps the NumPy loops.

Per step one BLAS product and a few vectorised passes over the N·H units (gate order z, r, h):

    u = h_{t-1}·W_h + b_h     z = σ(x_z + u_z)   r = σ(x_r + u_r)   h̃ = tanh(x_h + r ⊙ u_h)
    h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃                    masked rows: h_t = h_{t-1}

Backward per unit (dh = dy_t + dh from step t+1; masked rows: dh passes, gate gradients 0):

    dx_h = dh·(1-z)·(1-h̃²)   dx_z = dh·(h_{t-1}-h̃)·z(1-z)   dx_r = dx_h·u_h·r(1-r)
    du = [dx_z | dx_r | dx_h·r]      dh_{t-1} = dh·z + du·W_hᵀ

``_forward_step`` / ``_backward_step`` are one step's passes; the time loop around them either
runs compiled (``_forward``/``_backward``, the product by numba's ``np.dot``) or in Python (the
product by NumPy's ``matmul``), as ``kernels.blas.steps_in_python`` decides from the shape.

Example::

    from rnnlab.kernels.gru import gru_forward_loop
    Hs, Z, A, UH = gru_forward_loop(XW, h0, W_h, b_h)        # XW (T, N, 3H) float32
"""
import numpy as np
from numba import njit

from .. import activations, buffers
from ..layers import gru as _numpy
from . import blas
from ._common import as_c, compiled_backward_ok, compiled_ok, mask_args, scalar, sigmoid, tanh


@njit(cache=True, error_model="numpy")
def _forward_step(t, XW, U, b_x, b_h, Hs, A, UH, mask, has_mask):
    """Step t given U = h_{t-1}·W_h (N, 3H) and the biases b_x, b_h (3H,): activation inputs into
    XW[t], gates A[t], u_h UH[t], h_t."""
    N, G = U.shape
    H = G // 3
    z, a, uh_t = XW[t], A[t], UH[t]
    for n in range(N):
        zn, un, an, uhn = z[n], U[n], a[n], uh_t[n]
        h_prev, h = Hs[t, n], Hs[t + 1, n]                    # separate passes, each one vectorises
        for k in range(G):
            un[k] += b_h[k]                                   # u = h_{t-1}·W_h + b_h
        for k in range(2 * H):
            zn[k] = (zn[k] + b_x[k]) + un[k]                  # [x_z + u_z | x_r + u_r]
        for k in range(2 * H):
            an[k] = sigmoid(zn[k])                            # z, r = σ(.)
        for j in range(H):
            uhn[j] = un[2 * H + j]                            # u_h, kept for the backward pass
        for j in range(H):
            zn[2 * H + j] = (zn[2 * H + j] + b_x[2 * H + j]) + an[H + j] * uhn[j]   # x_h + r ⊙ u_h
        for j in range(H):
            an[2 * H + j] = tanh(zn[2 * H + j])               # h̃ = tanh(.)
        for j in range(H):                                    # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃
            h[j] = (h_prev[j] - an[2 * H + j]) * an[j] + an[2 * H + j]
        if has_mask and not mask[t, n]:                       # masked: carry the state
            for j in range(H):
                h[j] = h_prev[j]


@njit(cache=True, error_model="numpy")
def _forward(XW, W_h, b_x, b_h, Hs, A, UH, mask, has_mask):
    U = np.empty((XW.shape[1], XW.shape[2]), dtype=XW.dtype)    # (N, 3H)
    for t in range(XW.shape[0]):
        np.dot(Hs[t], W_h, U)                                 # u = h_{t-1} · W_h
        _forward_step(t, XW, U, b_x, b_h, Hs, A, UH, mask, has_mask)


@njit(cache=True, error_model="numpy")
def _backward_step(t, dH, dh, Hs, A, UH, dGx, dGu, dh_z, mask, has_mask):
    """Step t's gradients dGx[t] (w.r.t. the x-side activation inputs) and dGu[t] (w.r.t. u) from
    dh (gradient w.r.t. h_t from step t+1); dh_z gets the part through z ⊙ h_{t-1}, or a masked
    row's carried dh + dy_t."""
    N, H = dh.shape
    one = scalar(dH, 1.0)
    g_h = np.empty(H, dtype=dH.dtype)                         # dh_t + dy_t of one row
    a, dx, du, uh_t, dH_t = A[t], dGx[t], dGu[t], UH[t], dH[t]
    for n in range(N):
        an, dxn, dun, uhn, dhn, dyn = a[n], dx[n], du[n], uh_t[n], dh[n], dH_t[n]
        if has_mask and not mask[t, n]:                       # masked: h carried over
            for j in range(H):
                dh_z[n, j] = dhn[j] + dyn[j]
                dxn[j] = dxn[H + j] = dxn[2 * H + j] = 0
                dun[j] = dun[H + j] = dun[2 * H + j] = 0
            continue
        h_prev, dhzn = Hs[t, n], dh_z[n]                      # separate passes, each one vectorises
        for j in range(H):
            g_h[j] = dhn[j] + dyn[j]                          # h_t feeds y_t and step t+1
        for j in range(H):                                    # through (1 - z) ⊙ h̃, h̃ = tanh(.)
            dxn[2 * H + j] = g_h[j] * (one - an[j]) * (one - an[2 * H + j] * an[2 * H + j])
        for j in range(H):                                    # through z ⊙ (h_{t-1} - h̃)
            dxn[j] = g_h[j] * (h_prev[j] - an[2 * H + j]) * an[j] * (one - an[j])
        for j in range(H):                                    # through r ⊙ u_h
            dxn[H + j] = dxn[2 * H + j] * uhn[j] * an[H + j] * (one - an[H + j])
        for k in range(2 * H):
            dun[k] = dxn[k]                                   # u_z, u_r enter like x_z, x_r
        for j in range(H):
            dun[2 * H + j] = dxn[2 * H + j] * an[H + j]       # through r ⊙ u_h
        for j in range(H):
            dhzn[j] = g_h[j] * an[j]                          # through z ⊙ h_{t-1}


@njit(cache=True, error_model="numpy")
def _backward(dH, dh, Hs, A, UH, W_hT, dGx, dGu, mask, has_mask):
    dh_z = np.zeros(dh.shape, dtype=dH.dtype)                 # the part through z ⊙ h_{t-1} (or the carry)
    for t in range(dH.shape[0] - 1, -1, -1):
        _backward_step(t, dH, dh, Hs, A, UH, dGx, dGu, dh_z, mask, has_mask)
        np.dot(dGu[t], W_hT, dh)                              # through h_{t-1} · W_h
        dh += dh_z


def gru_forward_loop(XW, h0, W_h, b_h=None, mask=None, f=activations.tanh, g=activations.sigmoid, b_x=None,
                     **options):
    """Compiled ``rnnlab.layers.gru.gru_forward_loop`` (same arguments and results; the input bias
    is added inside the step pass, not in a pass of its own)."""
    dt = XW.dtype
    if not (compiled_ok(dt, f, g, options) and XW.ndim == 3 and XW.flags.c_contiguous):
        return _numpy.gru_forward_loop(XW, h0, W_h, b_h, mask, f, g, b_x, **options)
    T, N, G = XW.shape
    H = G // 3
    M, has_mask = mask_args(mask, T, N)
    b_x = np.zeros(G, dtype=dt) if b_x is None else as_c(b_x, dt)
    b_h = np.zeros(G, dtype=dt) if b_h is None else as_c(b_h, dt)
    W_h = as_c(W_h, dt)
    Hs, A, UH = buffers.empty((T + 1, N, H), dt), buffers.empty((T, N, G), dt), buffers.empty((T, N, H), dt)
    Hs[0] = h0
    if not blas.steps_in_python(N, H, G):
        _forward(XW, W_h, b_x, b_h, Hs, A, UH, M, has_mask)
        return Hs, XW, A, UH
    U = np.empty((N, G), dtype=dt)
    for t in range(T):
        np.matmul(Hs[t], W_h, out=U)                          # u = h_{t-1} · W_h, NumPy's BLAS
        _forward_step(t, XW, U, b_x, b_h, Hs, A, UH, M, has_mask)
    return Hs, XW, A, UH


def gru_backward_loop(dH, dh_T, Hs, Z, A, UH, W_hT, mask=None, f_backward=activations.tanh_backward,
                      g_backward=activations.sigmoid_backward, **options):
    """Compiled ``rnnlab.layers.gru.gru_backward_loop`` (same arguments and results)."""
    dt = dH.dtype
    if not compiled_backward_ok(dt, options, f_backward, g_backward):
        return _numpy.gru_backward_loop(dH, dh_T, Hs, Z, A, UH, W_hT, mask, f_backward, g_backward,
                                        **options)
    T, N, H = dH.shape
    M, has_mask = mask_args(mask, T, N)
    dH, Hs, A, UH, W_hT = (as_c(x, dt) for x in (dH, Hs, A, UH, W_hT))
    dGx, dGu = buffers.empty((T, N, 3 * H), dt), buffers.empty((T, N, 3 * H), dt)
    dh = np.array(dh_T, dtype=dt, order="C")                  # (N, H) gradient w.r.t. h_t
    if not blas.steps_in_python(N, H, 3 * H):
        _backward(dH, dh, Hs, A, UH, W_hT, dGx, dGu, M, has_mask)
        return dGx, dGu, dh
    dh_z = np.zeros((N, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        _backward_step(t, dH, dh, Hs, A, UH, dGx, dGu, dh_z, M, has_mask)
        np.matmul(dGu[t], W_hT, out=dh)                       # through h_{t-1} · W_h, NumPy's BLAS
        dh += dh_z
    return dGx, dGu, dh
