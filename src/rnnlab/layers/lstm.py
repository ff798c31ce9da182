"""LSTM: long short-term memory, Keras's ``LSTM`` (gate order i, f, c, o).

    z_t = x_t · W_x + h_{t-1} · W_h + b                  (N, 4H) = [z_i | z_f | z_c | z_o]
    i = σ(z_i)   f = σ(z_f)   c̃ = tanh(z_c)   o = σ(z_o)   (σ = recurrent_activation, tanh = activation)
    c_t = f ⊙ c_{t-1} + i ⊙ c̃
    h_t = o ⊙ tanh(c_t)

Weights in Keras's layout: ``[kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)]``;
``unit_forget_bias=True`` starts the forget-gate bias at 1.

BPTT per step (dh, dc arrive from the output at t and from step t+1):

    do = dh ⊙ tanh(c_t)                    dc += dh ⊙ o ⊙ tanh'(c_t)
    di = dc ⊙ c̃    df = dc ⊙ c_{t-1}    dc̃ = dc ⊙ i    dc_{t-1} = dc ⊙ f
    dz = [di σ'(z_i) | df σ'(z_f) | dc̃ tanh'(z_c) | do σ'(z_o)]      dh_{t-1} = dz · W_hᵀ

Example::

    layer = LSTM(16, return_state=True)
    y, h, c = layer.forward(np.random.rand(2, 7, 3))
"""
from typing import NamedTuple, Optional

import numpy as np

from .. import activations, kernels
from .block_norm import BlockNorm
from .cell import RNNCellBase
from .rnn import RNN
from . import checks as _checks


@kernels.twin("rnnlab.kernels.lstm:lstm_forward_loop")
def lstm_forward_loop(XW, h0, c0, W_h, mask=None, *, b=None, f=activations.tanh, g=activations.sigmoid,
                      rec_mask=None, norm=None, cell_norm=None):
    """The sequential part of the LSTM forward pass (signature convention: ``rnnlab.kernels``).

    Args:
        XW: (T, N, 4H) ``x_t · W_x``; overwritten in place with the gate activation inputs.
        h0, c0: (N, H) initial states.  W_h: (H, 4H).  mask: (T, N) bool or None.
        b: (4H,) bias added to XW first, or None (the compiled twin adds it inside its step pass).
        f: activation (candidate and cell output), g: recurrent activation (gates).
        rec_mask: (N, H) recurrent dropout mask or None: ``(h_{t-1} ⊙ m_h) · W_h``.
        norm, cell_norm: ``BlockNorm`` or None: layer norm of the 4 gate blocks of z_t, and of
            c_t before ``f`` (``h_t = o ⊙ f(LN(c_t))``).
    Returns:
        ``(Hs, Cs, Z, A, TC)``: Hs, Cs (T+1, N, H) with the initial states at index 0;
        Z = XW (T, N, 4H) activation inputs; A (T, N, 4H) activated gates [i, f, c̃, o];
        TC (T, N, H) ``f(c_t)`` of the unmasked new cell state.
    """
    if b is not None:
        XW += b                                          # x_t · W_x + b
    T, N, G = XW.shape
    H = G // 4
    dt = XW.dtype
    Hs = np.empty((T + 1, N, H), dtype=dt)
    Cs = np.empty((T + 1, N, H), dtype=dt)
    A = np.empty((T, N, G), dtype=dt)
    TC = np.empty((T, N, H), dtype=dt)
    Hs[0] = h0
    Cs[0] = c0
    Z = XW
    hW = np.empty((N, G), dtype=dt)
    carry = None if mask is None else ~mask[:, :, None]    # (T, N, 1): masked rows keep their state
    for t in range(T):
        np.matmul(Hs[t] if rec_mask is None else Hs[t] * rec_mask, W_h, out=hW)   # h_{t-1} · W_h
        z, a = Z[t], A[t]
        z += hW                                          # z_t
        if norm is not None:
            z[...] = norm.forward(z, t)                  # LN per gate block
        a[:, :2 * H] = g(z[:, :2 * H])                   # i, f
        a[:, 2 * H:3 * H] = f(z[:, 2 * H:3 * H])         # c̃
        a[:, 3 * H:] = g(z[:, 3 * H:])                   # o
        c, h = Cs[t + 1], Hs[t + 1]
        np.multiply(a[:, H:2 * H], Cs[t], out=c)         # f ⊙ c_{t-1}
        c += a[:, :H] * a[:, 2 * H:3 * H]                # + i ⊙ c̃
        tc = TC[t]
        tc[...] = f(c if cell_norm is None else cell_norm.forward(c, t))   # tanh(c_t) (of LN(c_t))
        np.multiply(a[:, 3 * H:], tc, out=h)             # h_t = o ⊙ tanh(c_t)
        if mask is not None:
            np.copyto(c, Cs[t], where=carry[t])          # carry c and h at masked steps
            np.copyto(h, Hs[t], where=carry[t])
    return Hs, Cs, Z, A, TC


@kernels.twin("rnnlab.kernels.lstm:lstm_backward_loop")
def lstm_backward_loop(dH, dh_T, dc_T, Hs, Cs, Z, A, TC, W_hT, mask=None, *,
                       f_backward=activations.tanh_backward, g_backward=activations.sigmoid_backward,
                       rec_mask=None, norm=None, cell_norm=None, dh_out=None):
    """The sequential part of LSTM BPTT.

    Args:
        dH: (T, N, H) output gradients w.r.t. each ``h_t``.  dh_T, dc_T: (N, H) final-state gradients.
        Hs, Cs, Z, A, TC: from ``lstm_forward_loop``.  W_hT: (4H, H) contiguous ``W_h.T``.
        mask: (T, N) bool or None.  f_backward, g_backward: ``(da, a, z) -> dz``.
        rec_mask, norm, cell_norm: as given to the forward loop.
        dh_out: (T, N, H) array or None (the default: nothing recorded). When given, row t receives
            dL/dh_t, the total gradient reaching the state h_t (from y_t and from step t+1), as the
            loop holds it; ``rnnlab.diagnostics`` reads it. The compiled twin declines it.
    Returns:
        ``(dZ, dh0, dc0)``: dZ (T, N, 4H) gradients w.r.t. ``x_t·W_x + b + h_{t-1}·W_h``; dh0, dc0 (N, H).
    """
    T, N, H = dH.shape
    dZ = np.empty((T, N, 4 * H), dtype=dH.dtype)
    dh = np.array(dh_T, dtype=dH.dtype, copy=True)
    dc = np.array(dc_T, dtype=dH.dtype, copy=True)
    for t in range(T - 1, -1, -1):
        dh += dH[t]                                               # h_t feeds y_t and step t+1
        if dh_out is not None:
            dh_out[t] = dh                               # record dL/dh_t (diagnostics)
        if mask is not None:
            m = mask[t][:, None]
            dh_carry, dc_carry = np.where(m, 0.0, dh), np.where(m, 0.0, dc)   # through the carry
            dh, dc = np.where(m, dh, 0.0), np.where(m, dc, 0.0)
        a, z, dz, tc = A[t], Z[t], dZ[t], TC[t]
        i, fg, cc, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        dz[:, 3 * H:] = g_backward(dh * tc, o, z[:, 3 * H:])      # through h = o ⊙ tanh(c), o = σ(z_o)
        if cell_norm is None:
            dc = dc + f_backward(dh * o, tc, Cs[t + 1])           # through tanh(c_t)
        else:
            dc = dc + cell_norm.backward(f_backward(dh * o, tc, cell_norm.out[t]), t)   # through tanh(LN(c_t))
        dz[:, :H] = g_backward(dc * cc, i, z[:, :H])              # through i ⊙ c̃, i = σ(z_i)
        dz[:, H:2 * H] = g_backward(dc * Cs[t], fg, z[:, H:2 * H])   # through f ⊙ c_{t-1}, f = σ(z_f)
        dz[:, 2 * H:3 * H] = f_backward(dc * i, cc, z[:, 2 * H:3 * H])   # through i ⊙ c̃, c̃ = tanh(z_c)
        if norm is not None:
            dz[...] = norm.backward(dz, t)                        # through LN per gate block
        dc = dc * fg                                              # through f ⊙ c_{t-1}
        dh = dz @ W_hT                                            # through h_{t-1} · W_h
        if rec_mask is not None:
            dh *= rec_mask                                        # through h_{t-1} ⊙ m_h
        if mask is not None:
            dh += dh_carry
            dc += dc_carry
    return dZ, dh, dc


class LSTMCache(NamedTuple):
    """What ``LSTMCell.forward_sequence`` keeps for ``backward_sequence``."""
    Xd: np.ndarray                     # (T, N, D) inputs after input dropout
    Hs: np.ndarray                     # (T+1, N, H) h_0 .. h_T
    Cs: np.ndarray                     # (T+1, N, H) c_0 .. c_T
    Z: np.ndarray                      # (T, N, 4H) gate activation inputs
    A: np.ndarray                      # (T, N, 4H) activated gates [i, f, c̃, o]
    TC: np.ndarray                     # (T, N, H) tanh(c_t)
    mask: Optional[np.ndarray]         # (T, N) bool
    m_x: Optional[np.ndarray]          # (N, D) input dropout mask
    m_h: Optional[np.ndarray]          # (N, H) recurrent dropout mask
    norm: Optional[BlockNorm]          # layer norm of the gate blocks
    cell_norm: Optional[BlockNorm]     # layer norm of c_t


class LSTMCell(RNNCellBase):
    """One LSTM step (equations in the module docstring); states ``[h, c]``.

    Args: ``units``, ``activation="tanh"``, ``recurrent_activation="sigmoid"``, ``use_bias=True``,
    ``kernel_initializer="glorot_uniform"``, ``recurrent_initializer="orthogonal"``,
    ``bias_initializer="zeros"``, ``unit_forget_bias=True``, ``dropout=0``, ``recurrent_dropout=0``,
    ``layer_norm=False``, ``seed=None``. With ``layer_norm=True`` each gate block of z_t and the
    cell state before its tanh are normalised; weights ``norm_gamma``, ``norm_beta`` (4H,) and
    ``cell_norm_gamma``, ``cell_norm_beta`` (H,) follow Keras's three.

    Example::

        cell = LSTMCell(4)
        h, (h, c) = cell(np.ones((2, 3)), None)      # zero initial states
    """

    state_names = ("h", "c")
    n_blocks = 4
    records_hidden_gradients = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0,
                 layer_norm=False, seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, layer_norm=layer_norm,
                         seed=seed, **kwargs)
        self.recurrent_activation = recurrent_activation or "linear"
        self.g, self.g_backward = activations.get(self.recurrent_activation)
        self.unit_forget_bias = _checks.flag(unit_forget_bias, "unit_forget_bias", type(self).__name__)

    def cell_args(self):
        return {**super().cell_args(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}

    def build(self, input_shape):
        H = self.units
        self._build_common(input_shape[-1])
        if self.use_bias:
            b = self.add_weight("bias", (4 * H,), self.bias_initializer)
            if self.unit_forget_bias:
                b[H:2 * H] = 1.0                        # Keras: forget gate starts open
        self._build_norm()
        if self.layer_norm:
            self.add_weight("cell_norm_gamma", (H,), "ones")
            self.add_weight("cell_norm_beta", (H,), "zeros")
        self.built = True

    def forward_sequence(self, X, states, mask=None, training=False):
        T, N, D = X.shape
        m_x, m_h = self._draw_dropout_masks(N, D, training)
        Xd, XW = self._project_inputs(X, m_x)                              # (T, N, 4H) one GEMM
        norm = self._make_norm(T, N)
        cell_norm = None
        if self.layer_norm:
            cell_norm = BlockNorm(self._params["cell_norm_gamma"], self._params["cell_norm_beta"], T, N, self.units)
        Hs, Cs, Z, A, TC = lstm_forward_loop(XW, states[0], states[1], self._params["recurrent_kernel"], mask,
                                             b=self._params.get("bias"), f=self.f, g=self.g, rec_mask=m_h,
                                             norm=norm, cell_norm=cell_norm)
        cache = LSTMCache(Xd, Hs, Cs, Z, A, TC, mask, m_x, m_h, norm, cell_norm)
        return Hs[1:], [Hs[-1].copy(), Cs[-1].copy()], cache

    def backward_sequence(self, dH, d_finals, cache, dh_out=None):
        T, N, D = cache.Xd.shape
        H, G = self.units, 4 * self.units
        W_h, Hs, m_h = self._params["recurrent_kernel"], cache.Hs, cache.m_h
        zero = np.zeros((N, H), dtype=dH.dtype)
        dh_T = zero if d_finals[0] is None else d_finals[0]
        dc_T = zero if d_finals[1] is None else d_finals[1]
        dZ, dh0, dc0 = lstm_backward_loop(dH, dh_T, dc_T, Hs, cache.Cs, cache.Z, cache.A, cache.TC,
                                          np.ascontiguousarray(W_h.T), cache.mask, f_backward=self.f_backward,
                                          g_backward=self.g_backward, rec_mask=m_h, norm=cache.norm,
                                          cell_norm=cache.cell_norm, dh_out=dh_out)
        dZ2 = dZ.reshape(T * N, G)                                             # (T·N, 4H)
        Hp = Hs[:-1] if m_h is None else Hs[:-1] * m_h                         # h_{t-1} ⊙ m_h
        self._grads["recurrent_kernel"] += Hp.reshape(T * N, H).T @ dZ2       # through h_{t-1} · W_h
        if self.use_bias:
            self._grads["bias"] += dZ2.sum(axis=0)                            # through + b
        self._add_norm_grads(cache.norm)
        self._add_norm_grads(cache.cell_norm, "cell_norm")
        return self._project_inputs_backward(dZ2, cache.Xd, cache.m_x), [dh0, dc0]


class LSTM(RNN):
    """Long short-term memory layer, Keras's ``LSTM``.

    Args:
        units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
        unit_forget_bias=True, seed=None: as in Keras.
        dropout, recurrent_dropout: variational dropout rates (see ``RNNCellBase``).
        layer_norm: LN of each gate block and of c_t before its tanh; weights ``norm_gamma``,
            ``norm_beta`` (4H,), ``cell_norm_gamma``, ``cell_norm_beta`` (H,) appended.
        return_sequences, return_state, go_backwards, stateful, unroll: see ``RNN`` (with ``go_backwards``
        the output sequence comes back in reversed order, as in Keras).

    Shapes: inputs (N, T, D) -> (N, T, H) or (N, H); with return_state ``[output, h, c]``.
    Weights ``[kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)]``, gates i, f, c, o.

    Example::

        layer = LSTM(16, return_state=True)
        y, h, c = layer.forward(np.random.rand(2, 7, 3))
    """

    cell_class = LSTMCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0,
                 layer_norm=False, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation,
                        use_bias=use_bias, kernel_initializer=kernel_initializer,
                        recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                        unit_forget_bias=unit_forget_bias, dropout=dropout, recurrent_dropout=recurrent_dropout,
                        layer_norm=layer_norm, seed=seed, dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
