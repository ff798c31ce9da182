"""rnnlab -> ONNX: ``to_onnx(model, path)`` writes a Sequential model as an ONNX graph (opset 17).

Layer by layer (``x`` batch-first ``(N, T, D)``, ONNX's recurrent operators are time-major):

| rnnlab | ONNX |
|---|---|
| Embedding | ``Gather(embeddings, ids)``; ``mask_zero=True``: ``mask = ids != 0``, ``sequence_lens = sum(mask)`` |
| SimpleRNN / LSTM / GRU | ``RNN`` / ``LSTM`` / ``GRU`` on ``Transpose(x, (1, 0, 2))`` |
| Bidirectional | one operator with ``direction="bidirectional"``, weights stacked [forward; reverse] |
| Dense, TimeDistributed(Dense) | ``MatMul`` + ``Add`` (+ the activation) |
| Conv1D, Max/AveragePooling1D | ``Conv`` / ``MaxPool`` / ``AveragePool`` on channels-first ``(N, C, T)`` |
| GlobalAverage/MaxPooling1D | ``ReduceSum``/``ReduceMax`` over real steps (the mask) |
| LayerNormalization | ``LayerNormalization`` (last axis) |
| Dropout | nothing (inference) |
| Flatten, Activation, Masking | ``Flatten``, the activation, ``Not(Equal)`` + ``Mul`` |

The recurrent operators, per direction (``W (G*H, D)``, ``R (G*H, H)``, ``B = [Wb; Rb] (2*G*H,)``):

| cell | ONNX gates | from Keras's | bias |
|---|---|---|---|
| LSTM | i, o, f, c | i, f, c, o | ``Wb`` = Keras bias, ``Rb`` = 0 |
| GRU  | z, r, h | z, r, h | see below |
| RNN  | h | h | ``Wb`` = Keras bias, ``Rb`` = 0 |

GRU: ``reset_after=True`` is ``linear_before_reset=1`` with ``Wb, Rb`` = Keras's bias rows 0 and 1;
``reset_after=False`` is ``linear_before_reset=0`` with ``Wb`` = Keras's bias and ``Rb`` = 0.

Outputs are ``Y (T, num_directions, N, H)`` and ``Y_h (num_directions, N, H)`` (and LSTM's ``Y_c``).
With ``return_sequences`` the graph turns ``Y`` back to batch-first; without it the output is ``Y_h``.
``go_backwards`` flips the input (and mask) in time and returns the flipped sequence, as rnnlab and
Keras do. Masks become ``sequence_lens``: each row is rolled so its real steps come first, run, and
rolled back; ONNX leaves zeros at padded steps, which then get rnnlab's values (zeros before the
first real step, the last output after the last one; mirrored for the reverse direction).

Inputs: token ids are ``int64 (N, T)`` named ``"input_ids"``; float inputs are ``float32 (N, T, D)``
named ``"inputs"``. The output is ``"output"`` (``"output"``, ``"state_h"``, ... with ``return_state``).
A mask must be one block of real steps per row (padding before, after or on both sides, as
``padding="pre"`` or ``"post"`` gives); a mask with a gap gives other numbers than rnnlab's. A row
that is all padding gives zeros, as in rnnlab.

Example::

    from rnnlab.interop.onnx import to_onnx
    to_onnx(model, "model.onnx")
    import onnxruntime as ort
    p = ort.InferenceSession("model.onnx").run(None, {"input_ids": ids.astype("int64")})[0]
"""
from pathlib import Path

import numpy as np

from .. import layers as L
from ..models.saving import atomic_write_bytes
from . import _gates
from ._common import ConversionError, check_recurrent, refuse, require, rnn_kind, sequential_layers

OPSET = 17
IR_VERSION = 8
_ONNX_ACT = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
_DEFAULT_ACTS = {"lstm": ("sigmoid", "tanh", "tanh"), "gru": ("sigmoid", "tanh"), "rnn": ("tanh",)}


class _Graph:
    """A tiny builder over ``onnx.helper``: unique names, constants as initializers."""

    def __init__(self, onnx):
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, hint):
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, array, hint="const"):
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, n_out=1, hint=None, **attrs):
        outs = [self.name(hint or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def ints(self, values):
        return self.const(np.asarray(values, np.int64), "ints")


def _f32(a):
    return np.ascontiguousarray(np.asarray(a, np.float32))


def _activation(g, x, name, layer):
    if name in (None, "linear"):
        return x
    if name == "softmax":
        return g.op("Softmax", [x], axis=-1)
    if name in _ONNX_ACT:
        return g.op(_ONNX_ACT[name], [x])
    if name == "hard_sigmoid":
        return g.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
    refuse(layer, "ONNX", f"activation {name!r} has no ONNX operator here")


class _State:
    """What flows between layers: the tensor name, its rank, and the mask: float ``(N, T)``, the real
    steps' ``start`` (int64) and count (``lens`` int32 for ``sequence_lens``, ``lens64``)."""

    def __init__(self, x, rank, mask=None, lens=None, start=None, lens64=None):
        self.x, self.rank, self.mask, self.lens, self.start, self.lens64 = x, rank, mask, lens, start, lens64

    def keep(self, x, rank=None):
        return _State(x, self.rank if rank is None else rank, self.mask, self.lens, self.start, self.lens64)


def _recurrent_weights(layers, kind):
    """Stack ONNX W, R, B over directions for one or two rnnlab recurrent layers."""
    Ws, Rs, Bs = [], [], []
    for layer in layers:
        cell = layer.cell
        ws = dict(zip(["kernel", "recurrent_kernel", "bias"], cell.weights))
        W, R, b_in, b_rec = _gates.keras_to(kind, "onnx", ws["kernel"], ws["recurrent_kernel"], ws.get("bias"),
                                            cell.units, getattr(cell, "reset_after", True))
        Ws.append(W)
        Rs.append(R)
        Bs.append(np.concatenate([b_in, b_rec]))
    return _f32(np.stack(Ws)), _f32(np.stack(Rs)), _f32(np.stack(Bs))


def _check_rnn(layer):
    check_recurrent(layer, "ONNX")
    cell, kind = layer.cell, rnn_kind(layer)
    if kind == "lstm":
        acts = (cell.recurrent_activation, cell.activation, cell.activation)
    elif kind == "gru":
        acts = (cell.recurrent_activation, cell.activation)
    else:
        acts = (cell.activation,)
    for a in acts:
        if a not in _ONNX_ACT:
            refuse(layer, "ONNX", f"activation {a!r} inside the recurrence is not one of {sorted(_ONNX_ACT)}")
    return kind, acts


def _time_index(g, x):
    """``(t (1, T) int64, T (1,) int64)`` for the time axis of ``x (N, T, ...)``."""
    T = g.op("Slice", [g.op("Shape", [x]), g.ints([1]), g.ints([2])])
    t = g.op("Range", [g.const(np.int64(0)), g.op("Squeeze", [T, g.ints([0])]), g.const(np.int64(1))])
    return g.op("Unsqueeze", [t, g.ints([0])]), T


def _shift(g, x, start, sign):
    """Roll each row of ``x (N, T, C)`` so that step ``start`` comes first (sign=+1) or goes back (-1)."""
    t, T = _time_index(g, x)
    s = g.op("Unsqueeze", [start, g.ints([1])])
    idx = g.op("Mod", [g.op("Add" if sign > 0 else "Sub", [g.op("Add", [t, T]), s]), T])       # (N, T)
    idx = g.op("Expand", [g.op("Unsqueeze", [idx, g.ints([2])]), g.op("Shape", [x])])
    return g.op("GatherElements", [x, idx], axis=1)


def _flip(g, x):
    return g.op("Slice", [x, g.ints([-1]), g.ints([-(2 ** 62)]), g.ints([1]), g.ints([-1])])


def _recurrent(g, st, layer, last):
    """One SimpleRNN/LSTM/GRU or Bidirectional layer.

    A masked batch (each row's real steps one block, ``start <= t < start + len``) is rolled so the
    real steps come first, run with ``sequence_lens = len`` and rolled back; ONNX leaves zeros at the
    padded steps, which then get rnnlab's values: the forward direction repeats its last output after
    the block (zeros before it), the reverse direction mirrors that."""
    bidir = isinstance(layer, L.Bidirectional)
    fwd = layer.forward_layer if bidir else layer
    directions = [layer.forward_layer, layer.backward_layer] if bidir else [layer]
    kind, acts = _check_rnn(fwd)
    for d in directions[1:]:
        if _check_rnn(d) != (kind, acts):
            refuse(layer, "ONNX", "its backward layer differs from its forward layer in cell type or activations")
    if bidir and (fwd.go_backwards or not layer.backward_layer.go_backwards):
        refuse(layer, "ONNX", "its forward layer reads backwards (go_backwards=True); ONNX's bidirectional "
               "operator reads forward then reverse")
    if bidir and layer.merge_mode is None:
        refuse(layer, "ONNX", "merge_mode=None returns two tensors, which a Sequential chain cannot pass on")
    if fwd.return_state and not last:
        refuse(layer, "ONNX", "return_state=True is only exported on the model's last layer")
    if st.rank != 3:
        refuse(layer, "ONNX", f"it receives a rank-{st.rank} tensor; recurrent layers read (N, T, D)")
    H = fwd.units
    W, R, B = _recurrent_weights(directions, kind)
    attrs = {"hidden_size": H, "direction": "bidirectional" if bidir else "forward"}
    if acts != _DEFAULT_ACTS[kind]:
        attrs["activations"] = [_ONNX_ACT[a] for a in acts] * len(directions)
    if kind == "gru":
        attrs["linear_before_reset"] = int(fwd.cell.reset_after)
    x, start = st.x, st.start
    if not bidir and fwd.go_backwards:              # rnnlab reads the flipped sequence and returns it flipped
        x = _flip(g, x)
        if start is not None:
            _, T = _time_index(g, x)
            start = g.op("Sub", [g.op("Sub", [T, start]), st.lens64])
    if start is not None:
        x = _shift(g, x, start, +1)
    xt = g.op("Transpose", [x], perm=[1, 0, 2])
    inputs = [xt, g.const(W, "W"), g.const(R, "R"), g.const(B, "B"), st.lens or ""]
    outs = g.op({"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[kind], inputs, n_out=3 if kind == "lstm" else 2,
                hint=kind, **attrs)
    Y, Y_h = outs[0], outs[1]
    ndir = len(directions)

    def direction(t, d):                             # (dirs, N, H) -> (N, H)
        return g.op("Squeeze", [g.op("Slice", [t, g.ints([d]), g.ints([d + 1]), g.ints([0])]), g.ints([0])])

    hs = [direction(Y_h, d) for d in range(ndir)]
    cs = [direction(outs[2], d) for d in range(ndir)] if kind == "lstm" else []
    if fwd.return_sequences:
        Yb = g.op("Transpose", [Y], perm=[2, 0, 1, 3])                             # (N, T, dirs, H)
        seqs = [g.op("Squeeze", [g.op("Slice", [Yb, g.ints([d]), g.ints([d + 1]), g.ints([2])]), g.ints([2])])
                for d in range(ndir)]                                           # (N, T, H) each
        if start is not None:
            seqs = [_shift(g, s_, start, -1) for s_ in seqs]
            t, _ = _time_index(g, x)
            s3 = g.op("Unsqueeze", [start, g.ints([1])])
            after = g.op("Unsqueeze", [g.op("GreaterOrEqual", [t, g.op("Add", [s3, g.op("Unsqueeze", [
                st.lens64, g.ints([1])])])]), g.ints([2])])
            seqs[0] = g.op("Where", [after, g.op("Unsqueeze", [hs[0], g.ints([1])]), seqs[0]])
            if bidir:
                before = g.op("Unsqueeze", [g.op("Less", [t, s3]), g.ints([2])])
                seqs[1] = g.op("Where", [before, g.op("Unsqueeze", [hs[1], g.ints([1])]), seqs[1]])
        outs_y = seqs
    else:
        outs_y = hs
    if bidir:
        a, b = outs_y
        y = {"concat": lambda: g.op("Concat", [a, b], axis=-1), "sum": lambda: g.op("Add", [a, b]),
             "mul": lambda: g.op("Mul", [a, b]),
             "ave": lambda: g.op("Mul", [g.op("Add", [a, b]), g.const(np.float32(0.5))])}[layer.merge_mode]()
    else:
        y = outs_y[0]
    states = []
    if fwd.return_state:
        for d in range(ndir):
            suffix = "_backward" if d else ""
            states += [(f"state_h{suffix}", hs[d])] + ([(f"state_c{suffix}", cs[d])] if kind == "lstm" else [])
    if fwd.return_sequences:                         # the mask passes on unflipped, as in Keras
        return _State(y, 3, st.mask, st.lens, st.start, st.lens64), states
    return _State(y, 2), states


def _dense(g, st, layer):
    ws = layer.weights
    y = g.op("MatMul", [st.x, g.const(_f32(ws[0]), "kernel")])
    if layer.use_bias:
        y = g.op("Add", [y, g.const(_f32(ws[1]), "bias")])
    return st.keep(_activation(g, y, layer.activation, layer))


def _channels_first(g, x):
    return g.op("Transpose", [x], perm=[0, 2, 1])


def _pad_attrs(layer, k, d=1):
    if layer.padding == "same":
        return {"auto_pad": "SAME_UPPER"}
    if layer.padding == "valid":
        return {"auto_pad": "VALID"}
    if layer.padding == "causal":
        return {"pads": [(k - 1) * d, 0]}
    refuse(layer, "ONNX", f"padding {layer.padding!r} is not supported")


def _conv1d(g, st, layer):
    k = int(np.shape(layer.weights[0])[0])
    d = int(layer.dilation_rate if np.isscalar(layer.dilation_rate) else layer.dilation_rate[0])
    s = int(layer.strides if np.isscalar(layer.strides) else layer.strides[0])
    W = _f32(np.transpose(layer.weights[0], (2, 1, 0)))                    # (k, in, out) -> (out, in, k)
    ins = [_channels_first(g, st.x), g.const(W, "conv_W")]
    if layer.use_bias:
        ins.append(g.const(_f32(layer.weights[1]), "conv_b"))
    y = g.op("Conv", ins, kernel_shape=[k], strides=[s], dilations=[d], **_pad_attrs(layer, k, d))
    y = _activation(g, _channels_first(g, y), layer.activation, layer)
    return _State(y, 3)


def _pool1d(g, st, layer):
    p = int(layer.pool_size if np.isscalar(layer.pool_size) else layer.pool_size[0])
    s = layer.strides if layer.strides is not None else p
    s = int(s if np.isscalar(s) else s[0])
    attrs = {"kernel_shape": [p], "strides": [s], **_pad_attrs(layer, p)}
    if isinstance(layer, L.AveragePooling1D):
        attrs["count_include_pad"] = 0
    y = g.op("MaxPool" if isinstance(layer, L.MaxPooling1D) else "AveragePool", [_channels_first(g, st.x)], **attrs)
    return _State(_channels_first(g, y), 3)


def _global_pool(g, st, layer):
    keep = int(bool(layer.keepdims))
    avg = isinstance(layer, L.GlobalAveragePooling1D)
    if st.mask is None:
        y = g.op("ReduceMean" if avg else "ReduceMax", [st.x], axes=[1], keepdims=keep)
        return _State(y, 3 if keep else 2)
    axes = g.ints([1])
    m3 = g.op("Unsqueeze", [st.mask, g.ints([2])])                              # (N, T, 1)
    count = g.op("ReduceSum", [m3, axes], keepdims=keep)                         # (N, 1) or (N, 1, 1)
    if avg:
        total = g.op("ReduceSum", [g.op("Mul", [st.x, m3]), axes], keepdims=keep)
        y = g.op("Div", [total, g.op("Max", [count, g.const(np.float32(1.0))])])
    else:
        real = g.op("Cast", [m3], to=g.onnx.TensorProto.BOOL)
        low = g.op("Where", [real, st.x, g.const(np.float32(-np.inf))])
        top = g.op("ReduceMax", [low], axes=[1], keepdims=keep)               # opset 17: axes attribute
        any_real = g.op("Greater", [count, g.const(np.float32(0.0))])
        y = g.op("Where", [any_real, top, g.const(np.float32(0.0))])
    return _State(y, 3 if keep else 2)


def _layer_norm(g, st, layer):
    axis = layer.axis if np.isscalar(layer.axis) else (layer.axis[0] if len(layer.axis) == 1 else None)
    if axis not in (-1, st.rank - 1):
        refuse(layer, "ONNX", f"normalising over axis {layer.axis!r} (only the last axis is exported)")
    names = layer.weight_names()
    ws = {n.split("/")[-1]: w for n, w in zip(names, layer.weights)}
    if not layer.weights:
        refuse(layer, "ONNX", "center=False and scale=False leave no weights to size the operator")
    C = int(np.shape(layer.weights[0])[0])
    gamma = _f32(ws.get("gamma", np.ones(C)))
    beta = _f32(ws.get("beta", np.zeros(C)))
    y = g.op("LayerNormalization", [st.x, g.const(gamma, "gamma"), g.const(beta, "beta")], axis=-1,
             epsilon=float(layer.epsilon))
    return st.keep(y)


def _masked(g, x, rank, flags):
    """A state for ``x`` masked by ``flags`` (bool (N, T)): the float mask, start and lengths."""
    mask = g.op("Cast", [flags], to=g.onnx.TensorProto.FLOAT)
    lens64 = g.op("Cast", [g.op("ReduceSum", [mask, g.ints([1])], keepdims=0)], to=g.onnx.TensorProto.INT64)
    lens = g.op("Cast", [lens64], to=g.onnx.TensorProto.INT32)
    start = g.op("ArgMax", [mask], axis=1, keepdims=0)          # the first real step
    return _State(x, rank, mask, lens, start, lens64)


def _layer(g, st, layer, last):
    """Translate one layer; returns ``(state, extra_outputs)``."""
    if isinstance(layer, L.Embedding):
        if st.rank != 2:
            refuse(layer, "ONNX", "an Embedding must read (N, T) token ids")
        y = g.op("Gather", [g.const(_f32(layer.weights[0]), "embeddings"), st.x], axis=0)
        if layer.mask_zero:
            return _masked(g, y, 3, g.op("Not", [g.op("Equal", [st.x, g.const(np.int64(0))])])), []
        return _State(y, 3), []
    if isinstance(layer, L.Masking):
        keep = g.op("Not", [g.op("Equal", [st.x, g.const(np.float32(layer.mask_value))])])
        flags = g.op("Cast", [g.op("ReduceMax", [g.op("Cast", [keep], to=g.onnx.TensorProto.FLOAT)], axes=[-1],
                                   keepdims=0)], to=g.onnx.TensorProto.BOOL)
        out = _masked(g, st.x, 3, flags)
        out.x = g.op("Mul", [st.x, g.op("Unsqueeze", [out.mask, g.ints([2])])])
        return out, []
    if isinstance(layer, (L.Bidirectional, L.RNN)):
        return _recurrent(g, st, layer, last)
    if isinstance(layer, L.Dense):
        return _dense(g, st, layer), []
    if isinstance(layer, L.TimeDistributed):
        inner = layer.layer
        if not isinstance(inner, (L.Dense, L.Activation, L.Dropout)):
            refuse(layer, "ONNX", f"TimeDistributed({type(inner).__name__}) is exported for Dense, Activation and "
                   "Dropout only")
        return _layer(g, st, inner, last)
    if isinstance(layer, L.Dropout):
        return st, []
    if isinstance(layer, L.Activation):
        return st.keep(_activation(g, st.x, layer.activation, layer)), []
    if isinstance(layer, L.Flatten):
        return _State(g.op("Flatten", [st.x], axis=1), 2), []
    if isinstance(layer, (L.GlobalAveragePooling1D, L.GlobalMaxPooling1D)):
        return _global_pool(g, st, layer), []
    if isinstance(layer, L.Conv1D):
        return _conv1d(g, st, layer), []
    if isinstance(layer, (L.MaxPooling1D, L.AveragePooling1D)):
        return _pool1d(g, st, layer), []
    if isinstance(layer, L.LayerNormalization):
        return _layer_norm(g, st, layer), []
    refuse(layer, "ONNX", f"class {type(layer).__name__} has no ONNX translation (exported: Embedding, SimpleRNN, "
           "LSTM, GRU, Bidirectional, Dense, TimeDistributed(Dense), Dropout, Activation, Flatten, Masking, Conv1D, "
           "Max/AveragePooling1D, GlobalMax/AveragePooling1D, LayerNormalization)")


def build(model, name=None):
    """The ``onnx.ModelProto`` for ``model`` (checked by ``onnx.checker``); nothing is written."""
    onnx = require("onnx", "Exporting to ONNX")
    layers = sequential_layers(model, "ONNX")
    shape = model._build_input_shape
    if shape is None:
        raise ConversionError(f"Model {model.name!r} has no known input shape; build it or call it on data first.")
    ids = isinstance(layers[0], L.Embedding)
    dims = ["batch"] + [d if d is not None else f"dim{i}" for i, d in enumerate(shape[1:], 1)]
    if ids and len(dims) > 1 and shape[1] is None:
        dims[1] = "time"
    in_name = "input_ids" if ids else "inputs"
    in_type = onnx.TensorProto.INT64 if ids else onnx.TensorProto.FLOAT
    g = _Graph(onnx)
    st = _State(in_name, len(shape))
    extras = []
    for i, layer in enumerate(layers):
        st, extras = _layer(g, st, layer, last=i == len(layers) - 1)
    outputs = [st.x] + [t for _, t in extras]
    out_names = ["output"] + [n for n, _ in extras]
    for src, dst in zip(outputs, out_names):
        g.nodes.append(onnx.helper.make_node("Identity", [src], [dst]))
    graph = onnx.helper.make_graph(
        g.nodes, name or model.name, [onnx.helper.make_tensor_value_info(in_name, in_type, dims)],
        [onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, ["batch"] + [f"{n}_{k}" for k in range(1, r)])
         for n, r in zip(out_names, [st.rank] + [2] * len(extras))], g.inits)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="rnnlab")
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_onnx(model, path):
    """Write ``model`` (an rnnlab Sequential) to ``path`` as ONNX (opset 17); see the module docstring.

    Raises ConversionError (naming the layer and the reason) before anything is written when a layer
    has no faithful ONNX translation.
    """
    proto = build(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, proto.SerializeToString())
    return path
