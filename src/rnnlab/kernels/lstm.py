"""Compiled LSTM time loops: twins of ``lstm_forward_loop`` / ``lstm_backward_loop`` (``rnnlab.layers.lstm``).

Same equations (see ``rnnlab.layers.lstm``), gate order i, f, c, o; per step one BLAS product
and a few vectorised passes over the N·H units:

    z = XW_t + h_{t-1}·W_h      i, f, o = σ(z_i, z_f, z_o)   c̃ = tanh(z_c)
    c_t = f ⊙ c_{t-1} + i ⊙ c̃   h_t = o ⊙ tanh(c_t)          masked rows: h_t, c_t = h_{t-1}, c_{t-1}

Backward, per unit (dh = dy_t + dh from step t+1; masked rows pass dh, dc through, dz = 0):

    dz_o = dh·tanh(c_t)·o(1-o)     dc += dh·o·(1-tanh²(c_t))
    dz_i = dc·c̃·i(1-i)   dz_f = dc·c_{t-1}·f(1-f)   dz_c = dc·i·(1-c̃²)   dc_{t-1} = dc·f
    dh_{t-1} = dz·W_hᵀ

``_forward_step`` / ``_backward_step`` are one step's passes; the time loop around them either
runs compiled (``_forward``/``_backward``, the product by numba's ``np.dot``) or in Python (the
product by NumPy's ``matmul``), as ``kernels.blas.steps_in_python`` decides from the shape.

Example::

    from rnnlab.kernels.lstm import lstm_forward_loop
    Hs, Cs, Z, A, TC = lstm_forward_loop(XW, h0, c0, W_h, b=b)    # XW (T, N, 4H) float32
"""
import numpy as np
from numba import njit

from .. import activations, buffers
from . import blas
from ._common import as_c, bias_arg, carry_step, check_backward, check_forward, mask_args, scalar, tanh


def _gate_coefficients(H, dtype):
    """(3, 4H) ``[α; β; γ]`` with every gate ``α ⊙ tanh(β ⊙ z) + γ``: σ(z) = ½·tanh(½z) + ½ for
    i, f, o and tanh(z) = 1·tanh(1·z) + 0 for c̃, so one vectorised pass activates all four."""
    coef = np.full((3, 4 * H), 0.5, dtype=dtype)
    coef[:2, 2 * H:3 * H] = 1.0
    coef[2, 2 * H:3 * H] = 0.0
    return coef


@njit(cache=True, error_model="numpy")
def _forward_step(t, XW, hW, b, Hs, Cs, A, TC, coef, mask, has_mask):
    """Step t given hW = h_{t-1}·W_h (N, 4H) and the bias b (4H,): z into XW[t], gates A[t],
    tanh(c_t) TC[t], c_t, h_t. ``coef`` from ``_gate_coefficients``. Two passes per row, each of
    which vectorises."""
    N, G = hW.shape
    H = G // 4
    alpha, beta, gamma = coef[0], coef[1], coef[2]
    z, a, tc_t = XW[t], A[t], TC[t]
    for n in range(N):
        zn, hn, an = z[n], hW[n], a[n]
        for k in range(G):
            z_k = (zn[k] + b[k]) + hn[k]                      # z_t = x_t·W_x + b + h_{t-1}·W_h
            zn[k] = z_k
            an[k] = alpha[k] * tanh(beta[k] * z_k) + gamma[k]   # i, f, o = σ(z); c̃ = tanh(z_c)
    for n in range(N):
        an, tcn = a[n], tc_t[n]
        c_prev, h_prev, c, h = Cs[t, n], Hs[t, n], Cs[t + 1, n], Hs[t + 1, n]
        for j in range(H):
            c_j = an[H + j] * c_prev[j] + an[j] * an[2 * H + j]   # c_t = f ⊙ c_{t-1} + i ⊙ c̃
            c[j] = c_j
            tc_j = tanh(c_j)
            tcn[j] = tc_j
            h[j] = an[3 * H + j] * tc_j                       # h_t = o ⊙ tanh(c_t)
        if has_mask and not mask[t, n]:                       # masked: carry the states
            for j in range(H):
                c[j] = c_prev[j]
                h[j] = h_prev[j]


@njit(cache=True, error_model="numpy")
def _forward(XW, W_h, b, Hs, Cs, A, TC, coef, mask, has_mask):
    N, G = XW.shape[1], XW.shape[2]
    hW = np.empty((N, G), dtype=XW.dtype)                     # (N, 4H)
    for t in range(XW.shape[0]):
        np.dot(Hs[t], W_h, hW)                                # h_{t-1} · W_h
        _forward_step(t, XW, hW, b, Hs, Cs, A, TC, coef, mask, has_mask)


@njit(cache=True, error_model="numpy")
def _backward_step(t, dH, dh, dc, Cs, A, TC, dZ, carry, mask, has_mask):
    """Step t's gate gradients dZ[t] from dh (gradient w.r.t. h_t from step t+1) and dc (updated
    in place to the gradient w.r.t. c_{t-1}); masked rows' dh + dy_t go to ``carry``."""
    N, H = dh.shape
    one = scalar(dH, 1.0)
    g_h = np.empty(H, dtype=dH.dtype)                         # dh_t + dy_t of one row
    a, dz, tc_t, dH_t = A[t], dZ[t], TC[t], dH[t]
    for n in range(N):
        an, dzn, tcn, dhn, dcn, dyn = a[n], dz[n], tc_t[n], dh[n], dc[n], dH_t[n]
        if has_mask and not mask[t, n]:                       # masked: h, c carried over
            for j in range(H):
                carry[n, j] = dhn[j] + dyn[j]
                dzn[j] = dzn[H + j] = dzn[2 * H + j] = dzn[3 * H + j] = 0
            continue
        c_prev = Cs[t, n]                                     # separate passes, each one vectorises
        for j in range(H):
            g_h[j] = dhn[j] + dyn[j]                          # h_t feeds y_t and step t+1
        for j in range(H):                                    # through h = o ⊙ tanh(c), o = σ(z_o)
            dzn[3 * H + j] = g_h[j] * tcn[j] * an[3 * H + j] * (one - an[3 * H + j])
        for j in range(H):                                    # through tanh(c_t)
            dcn[j] += g_h[j] * an[3 * H + j] * (one - tcn[j] * tcn[j])
        for j in range(H):                                    # through i ⊙ c̃, i = σ(z_i)
            dzn[j] = dcn[j] * an[2 * H + j] * an[j] * (one - an[j])
        for j in range(H):                                    # through f ⊙ c_{t-1}, f = σ(z_f)
            dzn[H + j] = dcn[j] * c_prev[j] * an[H + j] * (one - an[H + j])
        for j in range(H):                                    # through i ⊙ c̃, c̃ = tanh(z_c)
            dzn[2 * H + j] = dcn[j] * an[j] * (one - an[2 * H + j] * an[2 * H + j])
        for j in range(H):
            dcn[j] *= an[H + j]                               # through f ⊙ c_{t-1}


@njit(cache=True, error_model="numpy")
def _backward(dH, dh, dc, Cs, A, TC, W_hT, dZ, mask, has_mask):
    carry = np.zeros(dh.shape, dtype=dH.dtype)                # dh of masked rows, passed through
    for t in range(dH.shape[0] - 1, -1, -1):
        _backward_step(t, dH, dh, dc, Cs, A, TC, dZ, carry, mask, has_mask)
        np.dot(dZ[t], W_hT, dh)                               # through h_{t-1} · W_h
        if has_mask:
            carry_step(t, dh, carry, mask)


def lstm_forward_loop(XW, h0, c0, W_h, mask=None, *, b=None, f=activations.tanh, g=activations.sigmoid,
                      rec_mask=None, norm=None, cell_norm=None):
    """Compiled ``lstm_forward_loop`` of ``rnnlab.layers.lstm`` (same arguments and results; the bias
    is added inside the step pass, not in a pass of its own). Declines (``kernels.Decline``) other
    activations, ``rec_mask``/``norm``/``cell_norm`` and other dtypes or layouts of ``XW``."""
    dt = check_forward(XW, f, g, rec_mask=rec_mask, norm=norm, cell_norm=cell_norm)
    T, N, G = XW.shape
    H = G // 4
    M, has_mask = mask_args(mask, T, N)
    W_h = as_c(W_h, dt)
    b = bias_arg(b, G, dt)
    Hs, Cs = buffers.empty((T + 1, N, H), dt), buffers.empty((T + 1, N, H), dt)
    A, TC = buffers.empty((T, N, G), dt), buffers.empty((T, N, H), dt)
    Hs[0], Cs[0] = h0, c0
    coef = _gate_coefficients(H, dt)
    if not blas.steps_in_python(N, H, G):
        _forward(XW, W_h, b, Hs, Cs, A, TC, coef, M, has_mask)
        return Hs, Cs, XW, A, TC
    hW = np.empty((N, G), dtype=dt)
    for t in range(T):
        np.matmul(Hs[t], W_h, out=hW)                         # h_{t-1} · W_h, NumPy's BLAS
        _forward_step(t, XW, hW, b, Hs, Cs, A, TC, coef, M, has_mask)
    return Hs, Cs, XW, A, TC


def lstm_backward_loop(dH, dh_T, dc_T, Hs, Cs, Z, A, TC, W_hT, mask=None, *,
                       f_backward=activations.tanh_backward, g_backward=activations.sigmoid_backward,
                       rec_mask=None, norm=None, cell_norm=None, dh_out=None):
    """Compiled ``lstm_backward_loop`` of ``rnnlab.layers.lstm`` (same arguments and results)."""
    dt = check_backward(dH, f_backward, g_backward, rec_mask=rec_mask, norm=norm, cell_norm=cell_norm,
                        dh_out=dh_out)
    T, N, H = dH.shape
    M, has_mask = mask_args(mask, T, N)
    dH, Cs, A, TC, W_hT = (as_c(x, dt) for x in (dH, Cs, A, TC, W_hT))
    dZ = buffers.empty((T, N, 4 * H), dt)
    dh = np.array(dh_T, dtype=dt, order="C")                  # (N, H) gradient w.r.t. h_t
    dc = np.array(dc_T, dtype=dt, order="C")                  # (N, H) gradient w.r.t. c_t
    if not blas.steps_in_python(N, H, 4 * H):
        _backward(dH, dh, dc, Cs, A, TC, W_hT, dZ, M, has_mask)
        return dZ, dh, dc
    carry = np.zeros((N, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        _backward_step(t, dH, dh, dc, Cs, A, TC, dZ, carry, M, has_mask)
        np.matmul(dZ[t], W_hT, out=dh)                        # through h_{t-1} · W_h, NumPy's BLAS
        if has_mask:
            carry_step(t, dh, carry, M)
    return dZ, dh, dc
