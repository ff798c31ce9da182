"""Gate-block orders and bias conventions of the three frameworks, and the permutations between them.

rnnlab keeps Keras's layout: ``kernel (D, G*H)``, ``recurrent_kernel (H, G*H)``, gate blocks of ``H``
columns side by side. Each framework orders the blocks differently:

| cell | Keras / rnnlab | PyTorch | ONNX |
|---|---|---|---|
| LSTM | i, f, c, o | i, f, g, o  (g = c) | i, o, f, c |
| GRU  | z, r, h    | r, z, n     (n = h) | z, r, h    |
| RNN  | one block  | one block         | one block  |

Biases: Keras has one ``bias (G*H,)``; PyTorch and ONNX have an input bias and a recurrent bias that
are added together (``b_ih + b_hh``), so Keras's bias goes into the input bias and the recurrent one
is zero. The exception is Keras's GRU with ``reset_after=True``: its bias is ``(2, G*H)``, row 0 on
the input side and row 1 inside the reset product ``r * (h W_h + b_rh)`` — exactly PyTorch's
``bias_ih``/``bias_hh`` and ONNX's ``Wb``/``Rb`` with ``linear_before_reset=1``. Keras's
``reset_after=False`` (``r`` applied before the recurrent product) is ONNX's ``linear_before_reset=0``
and has no PyTorch equivalent.

PyTorch and ONNX store the transposed matrices: ``weight_ih = kernel.T`` (G*H, D).
"""
import numpy as np

_ORDERS = {
    ("lstm", "keras"): "ifco", ("lstm", "torch"): "ifco", ("lstm", "onnx"): "iofc",
    ("gru", "keras"): "zrh", ("gru", "torch"): "rzh", ("gru", "onnx"): "zrh",
    ("rnn", "keras"): "h", ("rnn", "torch"): "h", ("rnn", "onnx"): "h",
}


def permutation(kind, src, dst, units):
    """Column indices that turn ``src``'s gate-block order into ``dst``'s (``W_dst = W_src[..., p]``)."""
    a, b = _ORDERS[(kind, src)], _ORDERS[(kind, dst)]
    return np.concatenate([np.arange(a.index(g) * units, (a.index(g) + 1) * units) for g in b])


def keras_to(kind, dst, kernel, recurrent_kernel, bias, units, reset_after=True):
    """Keras-layout weights to ``dst`` ("torch" or "onnx"): ``(W (G*H, D), R (G*H, H), b_in, b_rec)``.

    A missing ``bias`` (use_bias=False) gives zero biases."""
    p = permutation(kind, "keras", dst, units)
    W, R = kernel[:, p].T, recurrent_kernel[:, p].T
    G = len(p)
    if bias is None:
        b_in, b_rec = np.zeros(G, kernel.dtype), np.zeros(G, kernel.dtype)
    elif kind == "gru" and reset_after:
        b_in, b_rec = bias[0][p], bias[1][p]
    else:
        b_in, b_rec = bias[p], np.zeros(G, kernel.dtype)
    return [np.ascontiguousarray(a) for a in (W, R, b_in, b_rec)]


def to_keras(kind, src, W, R, b_in, b_rec, units, reset_after=True):
    """``src``-layout weights back to Keras's ``[kernel, recurrent_kernel, bias]``.

    Two biases that are simply added (LSTM, SimpleRNN, GRU without reset_after) become their sum."""
    p = permutation(kind, src, "keras", units)
    kernel, rec = W.T[:, p], R.T[:, p]
    if kind == "gru" and reset_after:
        bias = np.stack([b_in[p], b_rec[p]])
    else:
        bias = (b_in + b_rec)[p]
    return [np.ascontiguousarray(a) for a in (kernel, rec, bias)]
