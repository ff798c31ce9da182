"""GRU: gated recurrent unit, Keras's ``GRU`` (gate order z, r, h).

``reset_after=True`` (Keras's default; the same equations as PyTorch's GRU):

    [x_z | x_r | x_h] = x_t · W_x + b_x              [u_z | u_r | u_h] = h_{t-1} · W_h + b_h
    z = σ(x_z + u_z)      r = σ(x_r + u_r)      h̃ = tanh(x_h + r ⊙ u_h)
    h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃

``reset_after=False`` (the original GRU): the reset gate acts on h_{t-1} before the product,

    h̃ = tanh(x_h + (r ⊙ h_{t-1}) · W_hh + b_h)      (W_hh = recurrent_kernel[:, 2H:])

Weights in Keras's layout: ``[kernel (D, 3H), recurrent_kernel (H, 3H), bias]`` with bias
``(2, 3H)`` (row 0 input bias b_x, row 1 recurrent bias b_h) when ``reset_after=True`` and
``(3H,)`` otherwise.

BPTT per step (dh arrives from the output at t and from step t+1):

    dh̃ = dh ⊙ (1 - z)      dz = dh ⊙ (h_{t-1} - h̃)      dh_{t-1} = dh ⊙ z + (recurrent paths)
    reset_after=True:   da_h = tanh'(dh̃), du_h = da_h ⊙ r, dr = da_h ⊙ u_h

Example::

    layer = GRU(16, return_sequences=True)
    y = layer.forward(np.random.rand(2, 7, 3))        # (2, 7, 16)
"""
from typing import NamedTuple, Optional

import numpy as np

from .. import activations, kernels
from .block_norm import BlockNorm
from .cell import RNNCellBase
from .rnn import RNN
from . import checks as _checks


@kernels.twin("rnnlab.kernels.gru:gru_forward_loop")
def gru_forward_loop(XW, h0, W_h, mask=None, *, b=None, b_h=None, f=activations.tanh, g=activations.sigmoid,
                     rec_mask=None, norm=None):
    """The sequential part of the GRU forward pass, ``reset_after=True`` (signature convention:
    ``rnnlab.kernels``).

    Args:
        XW: (T, N, 3H) ``x_t · W_x``; overwritten in place with the activation inputs
            ``[x_z + u_z | x_r + u_r | x_h + r ⊙ u_h]``.
        h0: (N, H).  W_h: (H, 3H).  mask: (T, N) bool or None.
        b: (3H,) input bias b_x added to XW first, or None (the compiled twin adds it inside its
            step pass).  b_h: (3H,) recurrent bias or None.
        f: activation (candidate), g: recurrent activation (gates).
        rec_mask: (N, H) recurrent dropout mask or None: ``u = (h_{t-1} ⊙ m_h) · W_h + b_h``.
        norm: ``BlockNorm`` or None: each block's linear combination is normalised before its
            nonlinearity (z and r blocks, then the candidate block).
    Returns:
        ``(Hs, Z, A, UH)``: Hs (T+1, N, H) with ``Hs[0] = h0``; Z = XW; A (T, N, 3H) activated
        ``[z, r, h̃]``; UH (T, N, H) ``u_h = h_{t-1} · W_hh + b_hh``.
    """
    if b is not None:
        XW += b                                          # x_t · W_x + b_x
    T, N, G = XW.shape
    H = G // 3
    dt = XW.dtype
    Hs = np.empty((T + 1, N, H), dtype=dt)
    A = np.empty((T, N, G), dtype=dt)
    UH = np.empty((T, N, H), dtype=dt)
    Hs[0] = h0
    Z = XW
    U = np.empty((N, G), dtype=dt)
    carry = None if mask is None else ~mask[:, :, None]    # (T, N, 1): masked rows keep their state
    for t in range(T):
        h_prev, z, a = Hs[t], Z[t], A[t]
        np.matmul(h_prev if rec_mask is None else h_prev * rec_mask, W_h, out=U)   # u = h_{t-1} · W_h
        if b_h is not None:
            U += b_h                                     # + b_h
        z[:, :2 * H] += U[:, :2 * H]                     # x_z + u_z, x_r + u_r
        if norm is not None:
            z[:, :2 * H] = norm.forward(z[:, :2 * H], t, 0, 2 * H)   # LN of the z and r blocks
        a[:, :2 * H] = g(z[:, :2 * H])                   # z, r
        UH[t] = U[:, 2 * H:]
        z[:, 2 * H:] += a[:, H:2 * H] * U[:, 2 * H:]     # x_h + r ⊙ u_h
        if norm is not None:
            z[:, 2 * H:] = norm.forward(z[:, 2 * H:], t, 2 * H, 3 * H)   # LN of the candidate block
        a[:, 2 * H:] = f(z[:, 2 * H:])                   # h̃
        hh, h = a[:, 2 * H:], Hs[t + 1]
        np.subtract(h_prev, hh, out=h)
        h *= a[:, :H]
        h += hh                                          # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃
        if mask is not None:
            np.copyto(h, h_prev, where=carry[t])         # carry at masked steps
    return Hs, Z, A, UH


@kernels.twin("rnnlab.kernels.gru:gru_backward_loop")
def gru_backward_loop(dH, dh_T, Hs, Z, A, UH, W_hT, mask=None, *,
                      f_backward=activations.tanh_backward, g_backward=activations.sigmoid_backward,
                      rec_mask=None, norm=None, dh_out=None):
    """The sequential part of GRU BPTT, ``reset_after=True``.

    Args:
        dH: (T, N, H) output gradients.  dh_T: (N, H) final-state gradient.
        Hs, Z, A, UH: from ``gru_forward_loop``.  W_hT: (3H, H) contiguous ``W_h.T``.
        mask: (T, N) bool or None.  f_backward, g_backward: ``(da, a, z) -> dz``.
        rec_mask, norm: as given to the forward loop.
        dh_out: (T, N, H) array or None (the default: nothing recorded). When given, row t receives
            dL/dh_t, the total gradient reaching the state h_t (from y_t and from step t+1), as the
            loop holds it; ``rnnlab.diagnostics`` reads it. The compiled twin declines it.
    Returns:
        ``(dGx, dGu, dh0)``: dGx (T, N, 3H) gradients w.r.t. ``x_t · W_x + b_x``,
        dGu (T, N, 3H) w.r.t. ``h_{t-1} · W_h + b_h``, dh0 (N, H).
    """
    T, N, H = dH.shape
    dGx = np.empty((T, N, 3 * H), dtype=dH.dtype)
    dGu = np.empty((T, N, 3 * H), dtype=dH.dtype)
    dh = np.array(dh_T, dtype=dH.dtype, copy=True)
    for t in range(T - 1, -1, -1):
        dh += dH[t]                                                  # h_t feeds y_t and step t+1
        if dh_out is not None:
            dh_out[t] = dh                               # record dL/dh_t (diagnostics)
        if mask is not None:
            m = mask[t][:, None]
            carry = np.where(m, 0.0, dh)                             # through the carry at masked rows
            dh = np.where(m, dh, 0.0)
        a, z, dx, du, h_prev = A[t], Z[t], dGx[t], dGu[t], Hs[t]
        zg, r, hh = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        dx[:, 2 * H:] = f_backward(dh * (1.0 - zg), hh, z[:, 2 * H:])   # through (1 - z) ⊙ h̃, h̃ = tanh(.)
        if norm is not None:
            dx[:, 2 * H:] = norm.backward(dx[:, 2 * H:], t, 2 * H, 3 * H)   # through LN of the candidate
        dx[:, :H] = g_backward(dh * (h_prev - hh), zg, z[:, :H])        # through z ⊙ (h_{t-1} - h̃)
        dx[:, H:2 * H] = g_backward(dx[:, 2 * H:] * UH[t], r, z[:, H:2 * H])   # through r ⊙ u_h
        if norm is not None:
            dx[:, :2 * H] = norm.backward(dx[:, :2 * H], t, 0, 2 * H)   # through LN of z and r
        du[:, :2 * H] = dx[:, :2 * H]                                # u_z, u_r enter like x_z, x_r
        du[:, 2 * H:] = dx[:, 2 * H:] * r                            # through r ⊙ u_h
        dh_prev = dh * zg                                            # through z ⊙ h_{t-1}
        dh = du @ W_hT                                               # through h_{t-1} · W_h
        if rec_mask is not None:
            dh *= rec_mask                                           # through h_{t-1} ⊙ m_h
        dh += dh_prev
        if mask is not None:
            dh += carry
    return dGx, dGu, dh


@kernels.twin("rnnlab.kernels.gru:gru_v1_forward_loop")
def gru_v1_forward_loop(XW, h0, W_h, mask=None, *, b=None, f=activations.tanh, g=activations.sigmoid,
                        rec_mask=None, norm=None):
    """The sequential part of the GRU forward pass, ``reset_after=False`` (signature convention:
    ``rnnlab.kernels``).

    Args:
        XW: (T, N, 3H) ``x_t · W_x``; overwritten in place with the activation inputs
            ``[x_z + h·W_hz | x_r + h·W_hr | x_h + (r ⊙ h)·W_hh]`` (bias included).
        h0: (N, H).  W_h: (H, 3H).  mask: (T, N) bool or None.
        b: (3H,) bias added to XW first (reset_after=False has no recurrent bias), or None.
        f, g: activations.
        rec_mask: (N, H) recurrent dropout mask or None (h_{t-1} ⊙ m_h in both products).
        norm: ``BlockNorm`` or None (as in ``gru_forward_loop``).
    Returns:
        ``(Hs, Z, A)``: Hs (T+1, N, H); Z = XW; A (T, N, 3H) activated ``[z, r, h̃]``.
    """
    if b is not None:
        XW += b                                          # x_t · W_x + b
    T, N, G = XW.shape
    H = G // 3
    dt = XW.dtype
    W_hzr = np.ascontiguousarray(W_h[:, :2 * H])        # (H, 2H)
    W_hh = np.ascontiguousarray(W_h[:, 2 * H:])         # (H, H)
    Hs = np.empty((T + 1, N, H), dtype=dt)
    A = np.empty((T, N, G), dtype=dt)
    Hs[0] = h0
    Z = XW
    U = np.empty((N, 2 * H), dtype=dt)
    V = np.empty((N, H), dtype=dt)
    carry = None if mask is None else ~mask[:, :, None]    # (T, N, 1): masked rows keep their state
    for t in range(T):
        h_prev, z, a = Hs[t], Z[t], A[t]
        h_in = h_prev if rec_mask is None else h_prev * rec_mask   # h_{t-1} ⊙ m_h
        np.matmul(h_in, W_hzr, out=U)                    # h_{t-1} · [W_hz | W_hr]
        z[:, :2 * H] += U
        if norm is not None:
            z[:, :2 * H] = norm.forward(z[:, :2 * H], t, 0, 2 * H)
        a[:, :2 * H] = g(z[:, :2 * H])                   # z, r
        np.matmul(a[:, H:2 * H] * h_in, W_hh, out=V)     # (r ⊙ h_{t-1}) · W_hh
        z[:, 2 * H:] += V
        if norm is not None:
            z[:, 2 * H:] = norm.forward(z[:, 2 * H:], t, 2 * H, 3 * H)
        a[:, 2 * H:] = f(z[:, 2 * H:])                   # h̃
        hh, h = a[:, 2 * H:], Hs[t + 1]
        np.subtract(h_prev, hh, out=h)
        h *= a[:, :H]
        h += hh                                          # h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃
        if mask is not None:
            np.copyto(h, h_prev, where=carry[t])         # carry at masked steps
    return Hs, Z, A


@kernels.twin("rnnlab.kernels.gru:gru_v1_backward_loop")
def gru_v1_backward_loop(dH, dh_T, Hs, Z, A, W_hT, mask=None, *,
                         f_backward=activations.tanh_backward, g_backward=activations.sigmoid_backward,
                         rec_mask=None, norm=None, dh_out=None):
    """The sequential part of GRU BPTT, ``reset_after=False``.

    Args:
        dH, dh_T: output and final-state gradients.  Hs, Z, A: from ``gru_v1_forward_loop``.
        W_hT: (3H, H) contiguous ``W_h.T`` (its row blocks ``[:2H]``, ``[2H:]`` are the transposed
            ``[W_hz | W_hr]`` and ``W_hh``).
        mask: (T, N) bool or None.  f_backward, g_backward: ``(da, a, z) -> dz``.
        rec_mask, norm: as given to the forward loop.
        dh_out: (T, N, H) array or None (the default: nothing recorded). When given, row t receives
            dL/dh_t, the total gradient reaching the state h_t (from y_t and from step t+1), as the
            loop holds it; ``rnnlab.diagnostics`` reads it. The compiled twin declines it.
    Returns:
        ``(dG, dh0)``: dG (T, N, 3H) gradients w.r.t. the gates' linear combinations, dh0 (N, H).
    """
    T, N, H = dH.shape
    W_hT = np.ascontiguousarray(W_hT)
    W_hzrT, W_hhT = W_hT[:2 * H], W_hT[2 * H:]                   # (2H, H), (H, H), contiguous
    dG = np.empty((T, N, 3 * H), dtype=dH.dtype)
    dh = np.array(dh_T, dtype=dH.dtype, copy=True)
    for t in range(T - 1, -1, -1):
        dh += dH[t]                                                  # h_t feeds y_t and step t+1
        if dh_out is not None:
            dh_out[t] = dh                               # record dL/dh_t (diagnostics)
        if mask is not None:
            m = mask[t][:, None]
            carry = np.where(m, 0.0, dh)
            dh = np.where(m, dh, 0.0)
        a, z, dg, h_prev = A[t], Z[t], dG[t], Hs[t]
        h_in = h_prev if rec_mask is None else h_prev * rec_mask
        zg, r, hh = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        dg[:, 2 * H:] = f_backward(dh * (1.0 - zg), hh, z[:, 2 * H:])   # through (1 - z) ⊙ h̃
        if norm is not None:
            dg[:, 2 * H:] = norm.backward(dg[:, 2 * H:], t, 2 * H, 3 * H)
        dg[:, :H] = g_backward(dh * (h_prev - hh), zg, z[:, :H])        # through z ⊙ (h_{t-1} - h̃)
        drh = dg[:, 2 * H:] @ W_hhT                                  # through (r ⊙ h_{t-1}) · W_hh
        dg[:, H:2 * H] = g_backward(drh * h_in, r, z[:, H:2 * H])    # through r ⊙ h_{t-1}
        if norm is not None:
            dg[:, :2 * H] = norm.backward(dg[:, :2 * H], t, 0, 2 * H)
        dh_prev = dh * zg                                            # through z ⊙ h_{t-1}
        dh_in = drh * r                                              # through r ⊙ h_{t-1}
        dh_in += dg[:, :2 * H] @ W_hzrT                              # through h_{t-1} · [W_hz | W_hr]
        if rec_mask is not None:
            dh_in *= rec_mask                                        # through h_{t-1} ⊙ m_h
        dh = dh_prev + dh_in
        if mask is not None:
            dh += carry
    return dG, dh


class GRUCache(NamedTuple):
    """What ``GRUCell.forward_sequence`` keeps for ``backward_sequence``."""
    Xd: np.ndarray                     # (T, N, D) inputs after input dropout
    Hs: np.ndarray                     # (T+1, N, H) h_0 .. h_T
    Z: np.ndarray                      # (T, N, 3H) activation inputs
    A: np.ndarray                      # (T, N, 3H) activated [z, r, h̃]
    UH: Optional[np.ndarray]           # (T, N, H) u_h (reset_after=True), else None
    mask: Optional[np.ndarray]         # (T, N) bool
    m_x: Optional[np.ndarray]          # (N, D) input dropout mask
    m_h: Optional[np.ndarray]          # (N, H) recurrent dropout mask
    norm: Optional[BlockNorm]          # layer norm of the gate blocks


class GRUCell(RNNCellBase):
    """One GRU step (equations in the module docstring); state ``[h]``.

    Args: ``units``, ``activation="tanh"``, ``recurrent_activation="sigmoid"``, ``use_bias=True``,
    ``kernel_initializer="glorot_uniform"``, ``recurrent_initializer="orthogonal"``,
    ``bias_initializer="zeros"``, ``reset_after=True``, ``dropout=0``, ``recurrent_dropout=0``,
    ``layer_norm=False`` (weights ``norm_gamma``, ``norm_beta`` (3H,) after Keras's), ``seed=None``.

    Example::

        cell = GRUCell(4)
        h, [h] = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    """

    n_blocks = 3
    records_hidden_gradients = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", reset_after=True, dropout=0.0, recurrent_dropout=0.0,
                 layer_norm=False, seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, layer_norm=layer_norm,
                         seed=seed, **kwargs)
        self.recurrent_activation = recurrent_activation or "linear"
        self.g, self.g_backward = activations.get(self.recurrent_activation)
        self.reset_after = _checks.flag(reset_after, "reset_after", type(self).__name__)

    def cell_args(self):
        return {**super().cell_args(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}

    def build(self, input_shape):
        H = self.units
        self._build_common(input_shape[-1])
        if self.use_bias:
            self.add_weight("bias", (2, 3 * H) if self.reset_after else (3 * H,), self.bias_initializer)
        self._build_norm()
        self.built = True

    def forward_sequence(self, X, states, mask=None, training=False):
        T, N, D = X.shape
        W_h = self._params["recurrent_kernel"]
        m_x, m_h = self._draw_dropout_masks(N, D, training)
        Xd, XW = self._project_inputs(X, m_x)                                  # (T, N, 3H) one GEMM
        b = self._params.get("bias")
        norm = self._make_norm(T, N)
        if self.reset_after:
            Hs, Z, A, UH = gru_forward_loop(XW, states[0], W_h, mask, b=None if b is None else b[0],
                                            b_h=None if b is None else b[1], f=self.f, g=self.g,
                                            rec_mask=m_h, norm=norm)
        else:
            Hs, Z, A = gru_v1_forward_loop(XW, states[0], W_h, mask, b=b, f=self.f, g=self.g,
                                           rec_mask=m_h, norm=norm)
            UH = None
        return Hs[1:], [Hs[-1].copy()], GRUCache(Xd, Hs, Z, A, UH, mask, m_x, m_h, norm)

    def backward_sequence(self, dH, d_finals, cache, dh_out=None):
        T, N, D = cache.Xd.shape
        H, G = self.units, 3 * self.units
        W_h, Hs, A, m_h = self._params["recurrent_kernel"], cache.Hs, cache.A, cache.m_h
        dh_T = np.zeros((N, H), dtype=dH.dtype) if d_finals[0] is None else d_finals[0]
        options = dict(f_backward=self.f_backward, g_backward=self.g_backward, rec_mask=m_h, norm=cache.norm)
        if dh_out is not None:
            options["dh_out"] = dh_out                                          # diagnostics only
        W_hT = np.ascontiguousarray(W_h.T)
        Hp = Hs[:-1] if m_h is None else Hs[:-1] * m_h                          # h_{t-1} ⊙ m_h
        if self.reset_after:
            dGx, dGu, dh0 = gru_backward_loop(dH, dh_T, Hs, cache.Z, A, cache.UH, W_hT, cache.mask, **options)
            dGx2, dGu2 = dGx.reshape(T * N, G), dGu.reshape(T * N, G)
            self._grads["recurrent_kernel"] += Hp.reshape(T * N, H).T @ dGu2   # through h_{t-1} · W_h
            if self.use_bias:
                self._grads["bias"][0] += dGx2.sum(axis=0)                      # through + b_x
                self._grads["bias"][1] += dGu2.sum(axis=0)                      # through + b_h
        else:
            dG, dh0 = gru_v1_backward_loop(dH, dh_T, Hs, cache.Z, A, W_hT, cache.mask, **options)
            dGx2 = dG.reshape(T * N, G)
            RHp = (A[:, :, H:2 * H] * Hp).reshape(T * N, H)                     # r ⊙ h_{t-1}
            self._grads["recurrent_kernel"][:, :2 * H] += Hp.reshape(T * N, H).T @ dGx2[:, :2 * H]   # h·W_hzr
            self._grads["recurrent_kernel"][:, 2 * H:] += RHp.T @ dGx2[:, 2 * H:]   # through (r ⊙ h)·W_hh
            if self.use_bias:
                self._grads["bias"] += dGx2.sum(axis=0)                         # through + b
        self._add_norm_grads(cache.norm)
        return self._project_inputs_backward(dGx2, cache.Xd, cache.m_x), [dh0]


class GRU(RNN):
    """Gated recurrent unit layer, Keras's ``GRU``.

    Args:
        units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
        reset_after=True, seed=None: as in Keras.
        dropout, recurrent_dropout: variational dropout rates (see ``RNNCellBase``); the recurrent
            mask multiplies h_{t-1} where it enters the products (reset_after=False: also inside
            ``(r ⊙ h_{t-1}) · W_hh``), not the carry ``z ⊙ h_{t-1}``.
        layer_norm: LN of each gate block's linear combination; ``norm_gamma``, ``norm_beta`` (3H,) appended.
        return_sequences, return_state, go_backwards, stateful, unroll: see ``RNN`` (with ``go_backwards``
        the output sequence comes back in reversed order, as in Keras).

    Shapes: inputs (N, T, D) -> (N, T, H) or (N, H); weights ``[kernel (D, 3H),
    recurrent_kernel (H, 3H), bias (2, 3H)]`` (bias ``(3H,)`` when ``reset_after=False``), gates z, r, h.

    Example::

        layer = GRU(16, return_sequences=True)
        y = layer.forward(np.random.rand(2, 7, 3))        # (2, 7, 16)
    """

    cell_class = GRUCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", reset_after=True, dropout=0.0, recurrent_dropout=0.0,
                 layer_norm=False, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation,
                       use_bias=use_bias, kernel_initializer=kernel_initializer,
                       recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                       reset_after=reset_after, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       layer_norm=layer_norm, seed=seed, dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
