"""Compiled GRU time loops: twins of ``gru_forward_loop`` / ``gru_backward_loop`` (``reset_after=True``)
and ``gru_v1_forward_loop`` / ``gru_v1_backward_loop`` (``reset_after=False``) of ``rnnlab.layers.gru``.

``reset_after=True``: per step one BLAS product and a few vectorised passes over the N·H units
(gate order z, r, h):

    u = h_{t-1}·W_h + b_h     z = σ(x_z + u_z)   r = σ(x_r + u_r)   h̃ = tanh(x_h + r ⊙ u_h)
    h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃                    masked rows: h_t = h_{t-1}

Backward per unit (dh = dy_t + dh from step t+1; masked rows: dh passes, gate gradients 0):

    dx_h = dh·(1-z)·(1-h̃²)   dx_z = dh·(h_{t-1}-h̃)·z(1-z)   dx_r = dx_h·u_h·r(1-r)
    du = [dx_z | dx_r | dx_h·r]      dh_{t-1} = dh·z + du·W_hᵀ

``reset_after=False``: two products per step, the second needing the reset gate of the first
(W_h = [W_hz | W_hr | W_hh], the bias b all on the input side):

    [u_z | u_r] = h_{t-1}·[W_hz | W_hr]    z = σ(x_z + u_z)   r = σ(x_r + u_r)
    h̃ = tanh(x_h + (r ⊙ h_{t-1})·W_hh)     h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃

    dg_h = dh·(1-z)·(1-h̃²)   dg_z = dh·(h_{t-1}-h̃)·z(1-z)   d(r ⊙ h) = dg_h·W_hhᵀ
    dg_r = d(r ⊙ h)·h_{t-1}·r(1-r)    dh_{t-1} = dh·z + d(r ⊙ h)·r + [dg_z | dg_r]·[W_hz | W_hr]ᵀ

``_forward_step`` / ``_backward_step`` (``reset_after=False``: ``_v1_forward_gates`` and
``_v1_forward_state``, ``_v1_backward_candidate`` and ``_v1_backward_reset``, one after each
product) are one step's passes; the time loop around them either runs compiled (``_forward``,
``_backward``, ``_v1_forward``, ``_v1_backward``: the products by numba's ``np.dot``) or in Python
(the products by NumPy's ``matmul``), as ``kernels.blas.steps_in_python`` decides from the shape.

Example::

    from rnnlab.kernels.gru import gru_forward_loop
    Hs, Z, A, UH = gru_forward_loop(XW, h0, W_h, b=b_x, b_h=b_h)     # XW (T, N, 3H) float32
"""
import numpy as np
from numba import njit

from .. import activations, buffers
from . import blas
from ._common import as_c, bias_arg, check_backward, check_forward, mask_args, scalar, sigmoid, tanh


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


def gru_forward_loop(XW, h0, W_h, mask=None, *, b=None, b_h=None, f=activations.tanh, g=activations.sigmoid,
                     rec_mask=None, norm=None):
    """Compiled ``gru_forward_loop`` of ``rnnlab.layers.gru`` (same arguments and results; the input
    bias is added inside the step pass, not in a pass of its own). Declines (``kernels.Decline``)
    other activations, ``rec_mask``/``norm`` and other dtypes or layouts of ``XW``."""
    dt = check_forward(XW, f, g, rec_mask=rec_mask, norm=norm)
    T, N, G = XW.shape
    H = G // 3
    M, has_mask = mask_args(mask, T, N)
    b_x, b_h = bias_arg(b, G, dt), bias_arg(b_h, G, dt)
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


def gru_backward_loop(dH, dh_T, Hs, Z, A, UH, W_hT, mask=None, *, f_backward=activations.tanh_backward,
                      g_backward=activations.sigmoid_backward, rec_mask=None, norm=None, dh_out=None):
    """Compiled ``gru_backward_loop`` of ``rnnlab.layers.gru`` (same arguments and results)."""
    dt = check_backward(dH, f_backward, g_backward, rec_mask=rec_mask, norm=norm, dh_out=dh_out)
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


# ---- reset_after=False: the reset gate acts on h_{t-1} before the product ------------------------

@njit(cache=True, error_model="numpy")
def _v1_forward_gates(t, XW, U, b, Hs, A, RH):
    """Step t, first half, given U = h_{t-1}·[W_hz | W_hr] (N, 2H): z, r into XW[t], A[t] and
    r ⊙ h_{t-1} into RH (N, H), the left factor of the second product."""
    N, H = RH.shape
    z, a = XW[t], A[t]
    for n in range(N):
        zn, un, an, rhn, h_prev = z[n], U[n], a[n], RH[n], Hs[t, n]
        for k in range(2 * H):
            zn[k] = (zn[k] + b[k]) + un[k]                    # [x_z + u_z | x_r + u_r]
        for k in range(2 * H):
            an[k] = sigmoid(zn[k])                            # z, r = σ(.)
        for j in range(H):
            rhn[j] = an[H + j] * h_prev[j]                    # r ⊙ h_{t-1}


@njit(cache=True, error_model="numpy")
def _v1_forward_state(t, XW, V, b, Hs, A, mask, has_mask):
    """Step t, second half, given V = (r ⊙ h_{t-1})·W_hh (N, H): h̃ and h_t."""
    N, H = V.shape
    z, a = XW[t], A[t]
    for n in range(N):
        zn, vn, an, h_prev, h = z[n], V[n], a[n], Hs[t, n], Hs[t + 1, n]
        for j in range(H):
            zn[2 * H + j] = (zn[2 * H + j] + b[2 * H + j]) + vn[j]   # x_h + (r ⊙ h_{t-1})·W_hh
        for j in range(H):
            an[2 * H + j] = tanh(zn[2 * H + j])               # h̃ = tanh(.)
        for j in range(H):                                    # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃
            h[j] = (h_prev[j] - an[2 * H + j]) * an[j] + an[2 * H + j]
        if has_mask and not mask[t, n]:                       # masked: carry the state
            for j in range(H):
                h[j] = h_prev[j]


@njit(cache=True, error_model="numpy")
def _v1_forward(XW, W_hzr, W_hh, b, Hs, A, mask, has_mask):
    N, H = Hs.shape[1], Hs.shape[2]
    U = np.empty((N, 2 * H), dtype=XW.dtype)
    RH = np.empty((N, H), dtype=XW.dtype)
    V = np.empty((N, H), dtype=XW.dtype)
    for t in range(XW.shape[0]):
        np.dot(Hs[t], W_hzr, U)                               # h_{t-1} · [W_hz | W_hr]
        _v1_forward_gates(t, XW, U, b, Hs, A, RH)
        np.dot(RH, W_hh, V)                                   # (r ⊙ h_{t-1}) · W_hh
        _v1_forward_state(t, XW, V, b, Hs, A, mask, has_mask)


@njit(cache=True, error_model="numpy")
def _v1_backward_candidate(t, dH, dh, Hs, A, dG, DZR, DHH, dh_z, mask, has_mask):
    """Step t, first half: dG[t]'s z and h̃ blocks (also into DZR[:, :H] and DHH, the contiguous
    left factors of the products) from dh; dh_z gets the part through z ⊙ h_{t-1}, or a masked
    row's carried dh + dy_t (its gate gradients are 0)."""
    N, H = dh.shape
    one = scalar(dH, 1.0)
    g_h = np.empty(H, dtype=dH.dtype)                         # dh_t + dy_t of one row
    a, dg, dH_t = A[t], dG[t], dH[t]
    for n in range(N):
        an, dgn, dhn, dyn, dzrn, dhhn, dhzn = a[n], dg[n], dh[n], dH_t[n], DZR[n], DHH[n], dh_z[n]
        if has_mask and not mask[t, n]:                       # masked: h carried over
            for j in range(H):
                dhzn[j] = dhn[j] + dyn[j]
                dgn[j] = dgn[H + j] = dgn[2 * H + j] = 0
                dzrn[j] = dzrn[H + j] = dhhn[j] = 0
            continue
        h_prev = Hs[t, n]                                     # separate passes, each one vectorises
        for j in range(H):
            g_h[j] = dhn[j] + dyn[j]                          # h_t feeds y_t and step t+1
        for j in range(H):                                    # through (1 - z) ⊙ h̃, h̃ = tanh(.)
            dhhn[j] = g_h[j] * (one - an[j]) * (one - an[2 * H + j] * an[2 * H + j])
        for j in range(H):
            dgn[2 * H + j] = dhhn[j]
        for j in range(H):                                    # through z ⊙ (h_{t-1} - h̃)
            dzrn[j] = g_h[j] * (h_prev[j] - an[2 * H + j]) * an[j] * (one - an[j])
        for j in range(H):
            dgn[j] = dzrn[j]
        for j in range(H):
            dhzn[j] = g_h[j] * an[j]                          # through z ⊙ h_{t-1}


@njit(cache=True, error_model="numpy")
def _v1_backward_reset(t, Hs, A, dG, DZR, DRH, dh_z, mask, has_mask):
    """Step t, second half, given DRH = dh̃-block · W_hhᵀ (the gradient w.r.t. r ⊙ h_{t-1}): dG[t]'s
    r block (also into DZR[:, H:]), and the part of dh_{t-1} through r ⊙ h_{t-1} added to dh_z."""
    N, H = DRH.shape
    one = scalar(DRH, 1.0)
    a, dg = A[t], dG[t]
    for n in range(N):
        if has_mask and not mask[t, n]:                       # masked: DRH row is 0, nothing to add
            continue
        an, dgn, drhn, dzrn, dhzn, h_prev = a[n], dg[n], DRH[n], DZR[n], dh_z[n], Hs[t, n]
        for j in range(H):                                    # through r ⊙ h_{t-1}, r = σ(.)
            dzrn[H + j] = drhn[j] * h_prev[j] * an[H + j] * (one - an[H + j])
        for j in range(H):
            dgn[H + j] = dzrn[H + j]
        for j in range(H):
            dhzn[j] += drhn[j] * an[H + j]                    # through r ⊙ h_{t-1}, to h_{t-1}


@njit(cache=True, error_model="numpy")
def _v1_backward(dH, dh, Hs, A, W_hzrT, W_hhT, dG, mask, has_mask):
    N, H = dh.shape
    dh_z = np.zeros((N, H), dtype=dH.dtype)                   # the parts not through [W_hz | W_hr]
    DZR = np.empty((N, 2 * H), dtype=dH.dtype)
    DHH = np.empty((N, H), dtype=dH.dtype)
    DRH = np.empty((N, H), dtype=dH.dtype)
    for t in range(dH.shape[0] - 1, -1, -1):
        _v1_backward_candidate(t, dH, dh, Hs, A, dG, DZR, DHH, dh_z, mask, has_mask)
        np.dot(DHH, W_hhT, DRH)                               # through (r ⊙ h_{t-1}) · W_hh
        _v1_backward_reset(t, Hs, A, dG, DZR, DRH, dh_z, mask, has_mask)
        np.dot(DZR, W_hzrT, dh)                               # through h_{t-1} · [W_hz | W_hr]
        dh += dh_z


def gru_v1_forward_loop(XW, h0, W_h, mask=None, *, b=None, f=activations.tanh, g=activations.sigmoid,
                        rec_mask=None, norm=None):
    """Compiled ``gru_v1_forward_loop`` of ``rnnlab.layers.gru`` (``reset_after=False``; same
    arguments and results). Two products per step, ``h_{t-1}·[W_hz | W_hr]`` then
    ``(r ⊙ h_{t-1})·W_hh``, each followed by its compiled pass. Declines (``kernels.Decline``) other
    activations, ``rec_mask``/``norm`` and other dtypes or layouts of ``XW``."""
    dt = check_forward(XW, f, g, rec_mask=rec_mask, norm=norm)
    T, N, G = XW.shape
    H = G // 3
    M, has_mask = mask_args(mask, T, N)
    b = bias_arg(b, G, dt)
    W_h = np.asarray(W_h)
    W_hzr, W_hh = as_c(W_h[:, :2 * H], dt), as_c(W_h[:, 2 * H:], dt)   # (H, 2H), (H, H)
    Hs, A = buffers.empty((T + 1, N, H), dt), buffers.empty((T, N, G), dt)
    Hs[0] = h0
    if not blas.steps_in_python(N, H, G):
        _v1_forward(XW, W_hzr, W_hh, b, Hs, A, M, has_mask)
        return Hs, XW, A
    U, RH, V = np.empty((N, 2 * H), dtype=dt), np.empty((N, H), dtype=dt), np.empty((N, H), dtype=dt)
    for t in range(T):
        np.matmul(Hs[t], W_hzr, out=U)                        # h_{t-1} · [W_hz | W_hr], NumPy's BLAS
        _v1_forward_gates(t, XW, U, b, Hs, A, RH)
        np.matmul(RH, W_hh, out=V)                            # (r ⊙ h_{t-1}) · W_hh
        _v1_forward_state(t, XW, V, b, Hs, A, M, has_mask)
    return Hs, XW, A


def gru_v1_backward_loop(dH, dh_T, Hs, Z, A, W_hT, mask=None, *, f_backward=activations.tanh_backward,
                         g_backward=activations.sigmoid_backward, rec_mask=None, norm=None, dh_out=None):
    """Compiled ``gru_v1_backward_loop`` of ``rnnlab.layers.gru`` (same arguments and results)."""
    dt = check_backward(dH, f_backward, g_backward, rec_mask=rec_mask, norm=norm, dh_out=dh_out)
    T, N, H = dH.shape
    M, has_mask = mask_args(mask, T, N)
    dH, Hs, A, W_hT = (as_c(x, dt) for x in (dH, Hs, A, W_hT))
    W_hzrT, W_hhT = W_hT[:2 * H], W_hT[2 * H:]                # (2H, H), (H, H): row blocks, contiguous
    dG = buffers.empty((T, N, 3 * H), dt)
    dh = np.array(dh_T, dtype=dt, order="C")                  # (N, H) gradient w.r.t. h_t
    if not blas.steps_in_python(N, H, 3 * H):
        _v1_backward(dH, dh, Hs, A, W_hzrT, W_hhT, dG, M, has_mask)
        return dG, dh
    dh_z = np.zeros((N, H), dtype=dt)
    DZR, DHH, DRH = np.empty((N, 2 * H), dtype=dt), np.empty((N, H), dtype=dt), np.empty((N, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        _v1_backward_candidate(t, dH, dh, Hs, A, dG, DZR, DHH, dh_z, M, has_mask)
        np.matmul(DHH, W_hhT, out=DRH)                        # through (r ⊙ h_{t-1}) · W_hh, NumPy's BLAS
        _v1_backward_reset(t, Hs, A, dG, DZR, DRH, dh_z, M, has_mask)
        np.matmul(DZR, W_hzrT, out=dh)                        # through h_{t-1} · [W_hz | W_hr]
        dh += dh_z
    return dG, dh
