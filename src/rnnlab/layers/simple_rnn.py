"""SimpleRNN: the vanilla (Elman) recurrent layer of the lecture notes (seed 000).

    z_t = x_t · W_x + h_{t-1} · W_h + b          x_t: (N, D)  W_x: (D, H)  W_h: (H, H)  b: (H,)
    h_t = f(z_t)                                  f = tanh by default; output y_t = h_t

Weights in Keras's layout: ``[kernel (D, H), recurrent_kernel (H, H), bias (H,)]``; the notes
write ``W_x`` as (H, D), so their ``W_x`` is our ``kernel.T``.

BPTT (the weights are shared, so their gradients are sums over time):

    dz_t = (dy_t + dh_{t+1 -> t}) * f'(z_t)       dh_{t+1 -> t} = dz_{t+1} · W_hᵀ
    dW_x = Σ_t x_tᵀ dz_t     dW_h = Σ_t h_{t-1}ᵀ dz_t     db = Σ_t dz_t     dx_t = dz_t · W_xᵀ

Only the ``dz`` recurrence is sequential; the sums are single GEMMs over all steps.

Example::

    layer = SimpleRNN(8, return_sequences=True)
    y = layer.forward(np.random.rand(2, 10, 4))      # (2, 10, 8)
"""
from typing import NamedTuple, Optional

import numpy as np

from .. import activations, kernels
from .block_norm import BlockNorm
from .cell import RNNCellBase
from .rnn import RNN


@kernels.twin("rnnlab.kernels.simple_rnn:simple_rnn_forward_loop")
def simple_rnn_forward_loop(XW, h0, W_h, mask=None, *, b=None, f=activations.tanh, rec_mask=None, norm=None):
    """The sequential part of the SimpleRNN forward pass (signature convention: ``rnnlab.kernels``).

    Args:
        XW: (T, N, H) ``x_t · W_x`` for all steps; overwritten in place with the
            activation inputs ``z_t`` (returned as ``Z``).
        h0: (N, H) initial state.  W_h: (H, H) recurrent kernel.
        mask: (T, N) bool or None; at a masked step the state is carried over.
        b: (H,) bias added to XW first, or None (the compiled twin adds it inside its step pass).
        f: the activation (array -> array).
        rec_mask: (N, H) recurrent dropout mask or None: ``(h_{t-1} ⊙ m_h) · W_h``.
        norm: a ``BlockNorm`` or None: ``z_t`` is layer-normalised before ``f``.
    Returns:
        ``(Hs, Z)``: ``Hs`` (T+1, N, H) with ``Hs[0] = h0`` and ``Hs[t+1] = h_t``; ``Z`` is ``XW``.
    """
    if b is not None:
        XW += b                                          # x_t · W_x + b
    T, N, H = XW.shape
    Hs = np.empty((T + 1, N, H), dtype=XW.dtype)
    Hs[0] = h0
    Z = XW
    hW = np.empty((N, H), dtype=XW.dtype)
    carry = None if mask is None else ~mask[:, :, None]    # (T, N, 1): masked rows keep their state
    for t in range(T):
        np.matmul(Hs[t] if rec_mask is None else Hs[t] * rec_mask, W_h, out=hW)   # h_{t-1} · W_h
        z = Z[t]
        z += hW                                          # z_t = x_t·W_x + b + h_{t-1}·W_h
        if norm is not None:
            z[...] = norm.forward(z, t)                  # LN(z_t)
        Hs[t + 1] = f(z)                                 # h_t = f(z_t)
        if mask is not None:
            np.copyto(Hs[t + 1], Hs[t], where=carry[t])  # carry at masked steps
    return Hs, Z


@kernels.twin("rnnlab.kernels.simple_rnn:simple_rnn_backward_loop")
def simple_rnn_backward_loop(dH, dh_T, Hs, Z, W_hT, mask=None, *, f_backward=activations.tanh_backward,
                             rec_mask=None, norm=None, dh_out=None):
    """The sequential part of SimpleRNN BPTT.

    Args:
        dH: (T, N, H) gradient of the loss w.r.t. each ``h_t`` from the outputs.
        dh_T: (N, H) gradient w.r.t. the final state (zeros if unused).
        Hs, Z: from ``simple_rnn_forward_loop``.  W_hT: (H, H) contiguous ``W_h.T``.
        mask: (T, N) bool or None.  f_backward: ``(da, a, z) -> dz``.
        rec_mask, norm: as given to the forward loop.
        dh_out: (T, N, H) array or None (the default: nothing recorded). When given, row t receives
            dL/dh_t, the total gradient reaching the state h_t (from y_t and from step t+1), as the
            loop holds it; ``rnnlab.diagnostics`` reads it. The compiled twin declines it.
    Returns:
        ``(dZ, dh0)``: dZ (T, N, H) gradients w.r.t. ``x_t·W_x + b + h_{t-1}·W_h``, dh0 (N, H).
    """
    T, N, H = dH.shape
    dZ = np.empty_like(dH)
    dh = np.array(dh_T, dtype=dH.dtype, copy=True)
    for t in range(T - 1, -1, -1):
        dh += dH[t]                                      # h_t feeds y_t and step t+1
        if dh_out is not None:
            dh_out[t] = dh                               # record dL/dh_t (diagnostics)
        if mask is not None:
            m = mask[t][:, None]
            carry = np.where(m, 0.0, dh)                 # through h_t = h_{t-1} at masked rows
            dh = np.where(m, dh, 0.0)                    # through h_t = f(z_t) at real rows
        dz = f_backward(dh, Hs[t + 1], Z[t])             # through h_t = f(z_t)
        if norm is not None:
            dz = norm.backward(dz, t)                    # through LN(z_t)
        dZ[t] = dz
        dh = dz @ W_hT                                   # through h_{t-1} · W_h
        if rec_mask is not None:
            dh *= rec_mask                               # through h_{t-1} ⊙ m_h
        if mask is not None:
            dh += carry
    return dZ, dh


class SimpleRNNCache(NamedTuple):
    """What ``SimpleRNNCell.forward_sequence`` keeps for ``backward_sequence``."""
    Xd: np.ndarray                     # (T, N, D) inputs after input dropout
    Hs: np.ndarray                     # (T+1, N, H) h_0 .. h_T
    Z: np.ndarray                      # (T, N, H) activation inputs z_t
    mask: Optional[np.ndarray]         # (T, N) bool
    m_x: Optional[np.ndarray]          # (N, D) input dropout mask
    m_h: Optional[np.ndarray]          # (N, H) recurrent dropout mask
    norm: Optional[BlockNorm]          # layer norm of z_t


class SimpleRNNCell(RNNCellBase):
    """One step of the vanilla RNN: ``h_t = f(x_t · W_x + h_{t-1} · W_h + b)``.

    Args: ``units``, ``activation="tanh"``, ``use_bias=True``, ``kernel_initializer="glorot_uniform"``,
    ``recurrent_initializer="orthogonal"``, ``bias_initializer="zeros"``, ``dropout=0``,
    ``recurrent_dropout=0``, ``layer_norm=False`` (``h_t = f(LN(z_t))``; weights ``norm_gamma``,
    ``norm_beta`` (H,) after the bias), ``seed=None``.

    Example::

        cell = SimpleRNNCell(4)
        h, [h] = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    """

    records_hidden_gradients = True

    def build(self, input_shape):
        self._build_common(input_shape[-1])
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer)
        self._build_norm()
        self.built = True

    def forward_sequence(self, X, states, mask=None, training=False):
        T, N, D = X.shape
        m_x, m_h = self._draw_dropout_masks(N, D, training)
        Xd, XW = self._project_inputs(X, m_x)                              # (T, N, H) one GEMM
        norm = self._make_norm(T, N)
        Hs, Z = simple_rnn_forward_loop(XW, states[0], self._params["recurrent_kernel"], mask,
                                        b=self._params.get("bias"), f=self.f, rec_mask=m_h, norm=norm)
        return Hs[1:], [Hs[-1].copy()], SimpleRNNCache(Xd, Hs, Z, mask, m_x, m_h, norm)

    def backward_sequence(self, dH, d_finals, cache, dh_out=None):
        T, N, D = cache.Xd.shape
        H = self.units
        W_h, Hs, m_h = self._params["recurrent_kernel"], cache.Hs, cache.m_h
        dh_T = d_finals[0] if d_finals[0] is not None else np.zeros((N, H), dtype=dH.dtype)
        dZ, dh0 = simple_rnn_backward_loop(dH, dh_T, Hs, cache.Z, np.ascontiguousarray(W_h.T), cache.mask,
                                           f_backward=self.f_backward, rec_mask=m_h, norm=cache.norm,
                                           dh_out=dh_out)
        dZ2 = dZ.reshape(T * N, H)                                          # (T·N, H)
        Hp = Hs[:-1] if m_h is None else Hs[:-1] * m_h                      # h_{t-1} ⊙ m_h
        self._grads["recurrent_kernel"] += Hp.reshape(T * N, H).T @ dZ2    # through h_{t-1} · W_h
        if self.use_bias:
            self._grads["bias"] += dZ2.sum(axis=0)                         # through + b
        self._add_norm_grads(cache.norm)
        return self._project_inputs_backward(dZ2, cache.Xd, cache.m_x), [dh0]


class SimpleRNN(RNN):
    """Fully connected recurrent layer, Keras's ``SimpleRNN``.

    Args:
        units: hidden size H.  activation: ``"tanh"``.  use_bias: True.
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
        bias_initializer="zeros", seed=None: as in Keras.
        dropout, recurrent_dropout: variational dropout rates (see ``RNNCellBase``).
        layer_norm: ``h_t = f(LN(z_t))``, weights ``norm_gamma``, ``norm_beta`` (H,) appended.
        return_sequences, return_state, go_backwards, stateful, unroll: see ``RNN`` (with ``go_backwards``
        the output sequence comes back in reversed order, as in Keras).

    Shapes: inputs (N, T, D) -> (N, T, H) with return_sequences else (N, H);
    weights ``[kernel (D, H), recurrent_kernel (H, H), bias (H,)]``.

    Example::

        layer = SimpleRNN(8, return_sequences=True)
        y = layer.forward(np.random.rand(2, 10, 4))      # (2, 10, 8)
    """

    cell_class = SimpleRNNCell

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 layer_norm=False, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias,
                             kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                             bias_initializer=bias_initializer, dropout=dropout, recurrent_dropout=recurrent_dropout,
                             layer_norm=layer_norm, seed=seed, dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
