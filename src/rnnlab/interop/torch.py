"""rnnlab <-> PyTorch: ``to_torch(model)`` gives an ``nn.Module``; ``from_torch(modules)`` gives a Sequential.

Weights (see ``_gates`` for the tables): ``weight_ih = kernel.T`` and ``weight_hh = recurrent_kernel.T``
with the gate blocks reordered (LSTM: Keras i, f, c, o = PyTorch i, f, g, o; GRU: Keras z, r, h ->
PyTorch r, z, n). Keras's single bias goes into ``bias_ih`` (``bias_hh = 0``); coming back,
``bias_ih + bias_hh`` is Keras's bias. GRU ``reset_after=True`` (the default) has two bias rows,
which are exactly ``bias_ih``/``bias_hh``. ``reset_after=False`` applies the reset gate before the
recurrent product; PyTorch has no such GRU, so it is refused.

**Masks.** A torch module cannot see Keras masks, so the module returned by ``to_torch`` takes them
as arguments: ``module(x, lengths=None, mask=None)`` (``lengths``: right padding, as
``pack_padded_sequence``; ``mask``: a bool (N, T) mask). When the model starts with
``Embedding(mask_zero=True)`` and neither is given, the mask is ``x != 0``. Each row's real steps
must form one block — padding before them (rnnlab's sentiment default, ``padding="pre"``), after
them, or both; a gap raises ``ValueError``. The rows are rolled so their real steps come first,
run through ``pack_padded_sequence`` and rolled back, and the outputs follow rnnlab's (Keras's)
conventions exactly:

- padded steps before the first real one give zeros, those after the last repeat the last output
  (the backward half of a Bidirectional: the same, mirrored); a row with no real step gives zeros;
- ``go_backwards=True`` reads the sequence (and mask) flipped and returns it in that order;
- masked global pooling averages (or takes the maximum over) the real steps only.

``from_torch`` reads ``nn.Embedding`` (``padding_idx=0`` <-> ``mask_zero=True``), ``nn.LSTM`` /
``nn.GRU`` / ``nn.RNN`` (stacked layers become stacked rnnlab layers, ``bidirectional=True`` a
``Bidirectional(merge_mode="concat")``), ``nn.Linear`` (an activation module right after it is
folded in), ``nn.Dropout``, ``nn.LayerNorm``, ``nn.Flatten``, activation modules, and the blocks of a
module made by ``to_torch``. The last recurrent module returns its final output (PyTorch's
``h_n[-1]``, or ``cat(h_n[-2], h_n[-1])`` when bidirectional) unless ``return_sequences=True``;
earlier ones return sequences, as a stack must.

Example::

    from rnnlab.interop.torch import to_torch, from_torch
    net = to_torch(model).eval()                       # nn.Module, float32
    p = net(torch.as_tensor(ids))                      # mask from ids != 0 (mask_zero=True)
    back = from_torch(net)                             # rnnlab Sequential, same outputs

    emb, lstm, fc = nn.Embedding(100, 8, padding_idx=0), nn.LSTM(8, 16, num_layers=2), nn.Linear(16, 1)
    model = from_torch([emb, lstm, fc, nn.Sigmoid()])   # Embedding(mask_zero) -> LSTM -> LSTM -> Dense
"""
import numpy as np

from .. import layers as L
from ..models import Sequential
from . import _gates
from ._common import ConversionError, check_recurrent, refuse, require, rnn_kind, sequential_layers

torch = require("torch", "rnnlab.interop.torch")
nn = torch.nn
_pack, _unpack = nn.utils.rnn.pack_padded_sequence, nn.utils.rnn.pad_packed_sequence
_ACTS = {"linear": None, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
         "softmax": lambda z: torch.softmax(z, dim=-1)}
_ACT_MODULES = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: "linear"}


def _t(a):
    return torch.as_tensor(np.ascontiguousarray(np.asarray(a, np.float32)))


def _span_mask(span, T, device):
    """The bool mask (N, T) of a span ``(start, length)``: real steps are ``start <= t < start + length``."""
    start, length = span
    t = torch.arange(T, device=device)[None, :]
    return (t >= start[:, None]) & (t < (start + length)[:, None])


def _shift(x, start, sign):
    """Roll each row of ``x (N, T, ...)`` in time so that step ``start`` comes first (sign=+1) or back (-1)."""
    T = x.shape[1]
    idx = (torch.arange(T, device=x.device)[None, :] + sign * start[:, None]) % T
    return torch.gather(x, 1, idx.view(idx.shape + (1,) * (x.dim() - 2)).expand_as(x))


def _flip_span(span, T):
    start, length = span
    return (T - start - length, length)


class Recurrent(nn.Module):
    """One rnnlab SimpleRNN/LSTM/GRU (or Bidirectional of one) around ``nn.RNN/LSTM/GRU`` (batch first).

    ``forward(x (N, T, D), span=None)`` -> ``(y, span or None)``. ``span = (start, length)`` says where
    each row's real steps are (a mask made of one block: pre- or post-padding). Rows are rolled so the
    real steps come first, run packed, and rolled back; then the padded steps get rnnlab's values:
    zeros before the first real step, the last output after it (mirrored for the backward direction).
    With ``return_state`` ``y`` is a tuple ``(output, h, [c], [h_backward, [c_backward]])``.
    """

    def __init__(self, kind, input_size, units, bidirectional=False, return_sequences=False, return_state=False,
                 go_backwards=False, merge_mode="concat", nonlinearity="tanh", bias=True):
        super().__init__()
        self.kind, self.units, self.bidirectional = kind, units, bidirectional
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.merge_mode = go_backwards, merge_mode
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
        self.rnn = cls(input_size, units, batch_first=True, bidirectional=bidirectional, bias=bias, **extra)

    def _run(self, x, span):
        """Outputs (N, T, dirs*H) aligned with ``x`` (zeros at padded steps) and final ``h``, ``c``."""
        if span is None:
            out, hn = self.rnn(x)
        else:
            start, length = span
            packed = _pack(_shift(x, start, 1), length.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
            out, hn = self.rnn(packed)
            out, _ = _unpack(out, batch_first=True, total_length=x.shape[1])
            out = _shift(out, start, -1)
        h, c = (hn if self.kind == "lstm" else (hn, None))
        if span is not None:                         # rows without real steps: nothing was read
            alive = (span[1] > 0).to(out.dtype)
            out, h = out * alive[:, None, None], h * alive[None, :, None]
            c = None if c is None else c * alive[None, :, None]
        return out, h, c

    def forward(self, x, span=None):
        T, H, given = x.shape[1], self.units, span
        if self.go_backwards:                        # rnnlab reads the flipped sequence and returns it flipped
            x = torch.flip(x, [1])
            span = None if span is None else _flip_span(span, T)
        out, h, c = self._run(x, span)
        if self.return_sequences:
            parts = [out[..., :H], out[..., H:]] if self.bidirectional else [out]
            if span is not None:
                start, length = span
                t = torch.arange(T, device=x.device)[None, :, None]
                after = t >= (start + length)[:, None, None]
                parts[0] = torch.where(after, h[0][:, None, :], parts[0])      # forward: repeat the last output
                if self.bidirectional:                                          # backward: the same, mirrored
                    parts[1] = torch.where(t < start[:, None, None], h[1][:, None, :], parts[1])
        else:
            parts = [h[0], h[1]] if self.bidirectional else [h[0]]
        if self.bidirectional:
            a, b = parts
            y = {"concat": lambda: torch.cat([a, b], -1), "sum": lambda: a + b, "mul": lambda: a * b,
                 "ave": lambda: (a + b) * 0.5}[self.merge_mode]()
        else:
            y = parts[0]
        if self.return_state:
            states = []
            for d in range(2 if self.bidirectional else 1):
                states += [h[d]] + ([c[d]] if c is not None else [])
            y = (y, *states)
        return y, (given if self.return_sequences else None)         # the mask passes on unflipped, as in Keras


class Dense(nn.Module):
    """``nn.Linear`` plus rnnlab's named activation (``linear``, ``sigmoid``, ``tanh``, ``relu``, ``softmax``)."""

    def __init__(self, in_features, units, activation="linear", bias=True):
        super().__init__()
        self.linear, self.activation = nn.Linear(in_features, units, bias=bias), activation

    def forward(self, x, span=None):
        y = self.linear(x)
        f = _ACTS[self.activation]
        return (y if f is None else f(y)), span


class GlobalPool(nn.Module):
    """Masked mean or maximum over time (real steps only; a row without any gives zeros)."""

    def __init__(self, mode, keepdims=False):
        super().__init__()
        self.mode, self.keepdims = mode, keepdims

    def forward(self, x, span=None):
        if span is None:
            y = x.mean(1) if self.mode == "mean" else x.amax(1)
        else:
            m = _span_mask(span, x.shape[1], x.device)[..., None]
            n = m.sum(1).to(x.dtype)
            if self.mode == "mean":
                y = (x * m).sum(1) / n.clamp(min=1)
            else:
                y = torch.where(n > 0, torch.where(m, x, torch.full_like(x, -torch.inf)).amax(1), torch.zeros(()))
        return (y[:, None] if self.keepdims else y), None


class Step(nn.Module):
    """A per-step module (Embedding, Dropout, LayerNorm, ...) that passes the mask span on."""

    def __init__(self, module, keeps_mask=True):
        super().__init__()
        self.module, self.keeps_mask = module, keeps_mask

    def forward(self, x, span=None):
        return self.module(x), (span if self.keeps_mask else None)


def mask_span(mask):
    """``(start, length)`` of a bool mask (N, T) whose real steps form one block per row (pre- or
    post-padding); ValueError for a mask with holes, which packed sequences cannot express."""
    mask = torch.as_tensor(mask).bool()
    length = mask.sum(1)
    start = torch.where(length > 0, mask.int().argmax(1), torch.zeros_like(length))
    if bool((_span_mask((start, length), mask.shape[1], mask.device) != mask).any()):
        raise ValueError("to_torch modules run masked rows as packed sequences, so each row's real steps must be "
                         "one block (padding before and/or after, none in between); this mask has a gap. Pad at "
                         "one end.")
    return start, length


class RnnlabSequential(nn.Module):
    """What ``to_torch`` returns: the blocks of an rnnlab Sequential, run in order with the mask.

    ``forward(x, lengths=None, mask=None)``: ``x`` is ``(N, T)`` token ids (long) or ``(N, T, D)``
    floats; ``lengths (N,)`` marks right-padded rows (``pack_padded_sequence``'s convention), ``mask
    (N, T)`` bool any one-block mask. With neither, a model starting with ``Embedding(mask_zero=True)``
    uses ``x != 0`` (pre- or post-padding, as rnnlab).
    """

    def __init__(self, blocks, mask_zero=False):
        super().__init__()
        self.blocks, self.mask_zero = nn.ModuleList(blocks), mask_zero

    def forward(self, x, lengths=None, mask=None):
        span = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths).long().to(x.device)
            span = (torch.zeros_like(lengths), lengths)
        elif mask is not None:
            span = mask_span(mask)
        elif self.mask_zero:
            span = mask_span(x != 0)
        for block in self.blocks:
            x, span = block(x, span)
        return x


# ---- rnnlab -> torch ----------------------------------------------------------------------------------

def _copy_rnn(module, suffix, layer, kind):
    cell = layer.cell
    ws = dict(zip(["kernel", "recurrent_kernel", "bias"], cell.weights))
    W, R, b_in, b_rec = _gates.keras_to(kind, "torch", ws["kernel"], ws["recurrent_kernel"], ws.get("bias"),
                                        cell.units, getattr(cell, "reset_after", True))
    with torch.no_grad():
        getattr(module, f"weight_ih_{suffix}").copy_(_t(W))
        getattr(module, f"weight_hh_{suffix}").copy_(_t(R))
        if cell.use_bias:
            getattr(module, f"bias_ih_{suffix}").copy_(_t(b_in))
            getattr(module, f"bias_hh_{suffix}").copy_(_t(b_rec))


def _check_rnn_for_torch(layer):
    check_recurrent(layer, "PyTorch")
    kind, cell = rnn_kind(layer), layer.cell
    if kind == "gru" and not cell.reset_after:
        refuse(layer, "PyTorch", "GRU reset_after=False applies the reset gate before the recurrent matrix; "
               "torch.nn.GRU only computes r * (h W_hn + b_hn) (reset_after=True)",
               "Export it to ONNX (linear_before_reset=0) or retrain with reset_after=True.")
    if kind == "rnn" and cell.activation not in ("tanh", "relu"):
        refuse(layer, "PyTorch", f"SimpleRNN activation {cell.activation!r}: nn.RNN has tanh and relu only")
    if kind in ("lstm", "gru") and (cell.activation, cell.recurrent_activation) != ("tanh", "sigmoid"):
        refuse(layer, "PyTorch", f"activations ({cell.activation!r}, {cell.recurrent_activation!r}): nn.LSTM/nn.GRU "
               "use tanh and sigmoid only")
    return kind


def _recurrent_block(layer, input_size, last):
    bidir = isinstance(layer, L.Bidirectional)
    fwd = layer.forward_layer if bidir else layer
    kind = _check_rnn_for_torch(fwd)
    if bidir:
        if _check_rnn_for_torch(layer.backward_layer) != kind or fwd.go_backwards:
            refuse(layer, "PyTorch", "its two directions differ in cell type, or the forward one reads backwards")
        if layer.merge_mode is None:
            refuse(layer, "PyTorch", "merge_mode=None returns two tensors, which a Sequential chain cannot pass on")
    if fwd.return_state and not last:
        refuse(layer, "PyTorch", "return_state=True is only converted on the model's last layer")
    block = Recurrent(kind, input_size, fwd.units, bidirectional=bidir, return_sequences=fwd.return_sequences,
                      return_state=fwd.return_state, go_backwards=fwd.go_backwards and not bidir,
                      merge_mode=layer.merge_mode if bidir else "concat",
                      nonlinearity=fwd.cell.activation if kind == "rnn" else "tanh", bias=fwd.cell.use_bias)
    _copy_rnn(block.rnn, "l0", fwd, kind)
    if bidir:
        _copy_rnn(block.rnn, "l0_reverse", layer.backward_layer, kind)
    return block


def _dense_block(layer, in_features):
    if layer.activation not in _ACTS:
        refuse(layer, "PyTorch", f"activation {layer.activation!r} is not one of {sorted(_ACTS)}")
    block = Dense(in_features, layer.units, layer.activation, bias=layer.use_bias)
    with torch.no_grad():
        block.linear.weight.copy_(_t(layer.weights[0]).T)
        if layer.use_bias:
            block.linear.bias.copy_(_t(layer.weights[1]))
    return block


def _block(layer, shape, last):
    """The torch block for one rnnlab layer reading inputs of ``shape`` (batch axis included)."""
    if isinstance(layer, L.Embedding):
        emb = nn.Embedding(layer.input_dim, layer.output_dim, padding_idx=0 if layer.mask_zero else None)
        with torch.no_grad():
            emb.weight.copy_(_t(layer.weights[0]))
        return Step(emb)
    if isinstance(layer, (L.Bidirectional, L.RNN)):
        return _recurrent_block(layer, shape[-1], last)
    if isinstance(layer, L.Dense):
        return _dense_block(layer, shape[-1])
    if isinstance(layer, L.TimeDistributed) and isinstance(layer.layer, L.Dense):
        return _dense_block(layer.layer, shape[-1])
    if isinstance(layer, L.Dropout):
        return Step(nn.Dropout(layer.rate))
    if isinstance(layer, L.Activation):
        if layer.activation not in _ACTS:
            refuse(layer, "PyTorch", f"activation {layer.activation!r} is not one of {sorted(_ACTS)}")
        f = _ACTS[layer.activation]
        return Step(nn.Identity() if f is None else {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(),
                                                     "softmax": nn.Softmax(dim=-1)}[layer.activation])
    if isinstance(layer, (L.GlobalAveragePooling1D, L.GlobalMaxPooling1D)):
        return GlobalPool("mean" if isinstance(layer, L.GlobalAveragePooling1D) else "max", layer.keepdims)
    if isinstance(layer, L.Flatten):
        return Step(nn.Flatten(), keeps_mask=False)
    if isinstance(layer, L.LayerNormalization):
        axis = layer.axis if np.isscalar(layer.axis) else layer.axis[0]
        if axis not in (-1, len(shape) - 1) or not (layer.center and layer.scale):
            refuse(layer, "PyTorch", "only last-axis LayerNormalization with center and scale is converted")
        ln = nn.LayerNorm(shape[-1], eps=layer.epsilon)
        with torch.no_grad():
            ln.weight.copy_(_t(layer.weights[0]))
            ln.bias.copy_(_t(layer.weights[1]))
        return Step(ln)
    refuse(layer, "PyTorch", f"class {type(layer).__name__} has no converter (converted: Embedding, SimpleRNN, LSTM, "
           "GRU, Bidirectional, Dense, TimeDistributed(Dense), Dropout, Activation, GlobalAverage/MaxPooling1D, "
           "Flatten, LayerNormalization)", "Use rnnlab.interop.onnx for Conv1D and pooling models.")


def to_torch(model):
    """An ``nn.Module`` (float32, eval mode) computing ``model``'s outputs; see the module docstring.

    Args:
        model: an rnnlab Sequential (built).

    Returns:
        ``RnnlabSequential``: ``module(x, lengths=None)``.

    Raises:
        ConversionError: before anything is made, for a layer with no PyTorch equivalent.
    """
    layers = sequential_layers(model, "PyTorch")
    shapes = [model._build_input_shape] + [tuple(s) for s in model._output_shapes[:-1]] \
        if model._output_shapes else None
    if shapes is None:
        model.build()
        shapes = [model._build_input_shape] + [tuple(s) for s in model._output_shapes[:-1]]
    blocks = [_block(layer, shape, i == len(layers) - 1) for i, (layer, shape) in enumerate(zip(layers, shapes))]
    mask_zero = isinstance(layers[0], L.Embedding) and layers[0].mask_zero
    return RnnlabSequential(blocks, mask_zero=mask_zero).eval()


# ---- torch -> rnnlab ----------------------------------------------------------------------------------

def _np(p):
    return p.detach().cpu().double().numpy()


def _rnn_weights(module, suffix, kind, H):
    W, R = _np(getattr(module, f"weight_ih_{suffix}")), _np(getattr(module, f"weight_hh_{suffix}"))
    if module.bias:
        b_in, b_rec = _np(getattr(module, f"bias_ih_{suffix}")), _np(getattr(module, f"bias_hh_{suffix}"))
    else:
        b_in = b_rec = np.zeros(W.shape[0])
    ws = _gates.to_keras(kind, "torch", W, R, b_in, b_rec, H, reset_after=True)
    return ws if module.bias else ws[:2]


def _rnn_layers(module, return_sequences=False, return_state=False, merge_mode="concat", go_backwards=False):
    """``[(rnnlab layer, its weights)]`` for one ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``.

    ``num_layers=k`` gives ``k`` stacked layers (all but the last return sequences); ``bidirectional``
    gives ``Bidirectional(..., merge_mode)`` layers (PyTorch concatenates, the default here).
    ``return_sequences`` / ``return_state`` / ``go_backwards`` apply to the last (only) layer.
    """
    kind = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}.get(type(module))
    name = f"{type(module).__name__}"
    if kind is None:
        raise ConversionError(f"rnn_layers expects nn.LSTM, nn.GRU or nn.RNN, got {name}.")
    if getattr(module, "proj_size", 0):
        refuse(name, "rnnlab", f"proj_size={module.proj_size} (projected LSTM) has no rnnlab layer")
    H, out = module.hidden_size, []
    for k in range(module.num_layers):
        last = k == module.num_layers - 1
        opts = dict(return_sequences=return_sequences if last else True, return_state=return_state and last,
                    use_bias=bool(module.bias), go_backwards=go_backwards and last)
        if kind == "rnn":
            opts["activation"] = module.nonlinearity
        cls = {"lstm": L.LSTM, "gru": L.GRU, "rnn": L.SimpleRNN}[kind]
        ws = _rnn_weights(module, f"l{k}", kind, H)
        if module.bidirectional:
            layer = L.Bidirectional(cls(H, **opts), merge_mode=merge_mode)
            ws = ws + _rnn_weights(module, f"l{k}_reverse", kind, H)
        else:
            layer = cls(H, **opts)
        out.append((layer, ws))
    return out


def _flatten_modules(modules):
    if isinstance(modules, RnnlabSequential):
        return list(modules.blocks)
    if isinstance(modules, (nn.Sequential, nn.ModuleList)):
        return list(modules)
    if isinstance(modules, nn.Module):
        return [modules]
    return list(modules)


def from_torch(modules, return_sequences=False, input_length=None, name=None):
    """An rnnlab Sequential (with weights) from PyTorch modules, in the order they run.

    Args:
        modules: an ``nn.Sequential``, a list of modules, or a module made by ``to_torch``.
        return_sequences: whether the last recurrent module returns the whole sequence (else its final
            output: ``h_n[-1]``, or both directions' final outputs concatenated). Ignored for blocks made
            by ``to_torch``, which remember their settings.
        input_length: a fixed number of time steps, or None.
        name: the model's name.

    Raises:
        ConversionError: for a module without an rnnlab equivalent (named in the message).
    """
    mods = _flatten_modules(modules)
    rec_idx = [i for i, m in enumerate(mods) if isinstance(m, (nn.LSTM, nn.GRU, nn.RNN))]
    built, i = [], 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        if isinstance(m, Step):
            m = m.module
        if isinstance(m, nn.Embedding):
            if m.padding_idx not in (None, 0):
                refuse(f"nn.Embedding(padding_idx={m.padding_idx})", "rnnlab", "rnnlab masks id 0 only "
                       "(mask_zero=True)")
            built.append((L.Embedding(m.num_embeddings, m.embedding_dim, mask_zero=m.padding_idx == 0),
                          [_np(m.weight)]))
        elif isinstance(m, (nn.LSTM, nn.GRU, nn.RNN)):
            last = i == rec_idx[-1]
            built += _rnn_layers(m, return_sequences=return_sequences if last else True)
        elif isinstance(m, Recurrent):
            for layer, ws in _rnn_layers(m.rnn, return_sequences=m.return_sequences, return_state=m.return_state,
                                        merge_mode=m.merge_mode, go_backwards=m.go_backwards):
                built.append((layer, ws))
        elif isinstance(m, (nn.Linear, Dense)):
            lin, act = (m.linear, m.activation) if isinstance(m, Dense) else (m, "linear")
            if isinstance(m, nn.Linear) and nxt is not None and (type(nxt) in _ACT_MODULES or (
                    isinstance(nxt, nn.Softmax) and nxt.dim in (-1, None))):
                act = "softmax" if isinstance(nxt, nn.Softmax) else _ACT_MODULES[type(nxt)]
                i += 1
            ws = [_np(lin.weight).T] + ([_np(lin.bias)] if lin.bias is not None else [])
            built.append((L.Dense(lin.out_features, activation=act, use_bias=lin.bias is not None), ws))
        elif isinstance(m, nn.Dropout):
            built.append((L.Dropout(m.p), []))
        elif isinstance(m, GlobalPool):
            cls = L.GlobalAveragePooling1D if m.mode == "mean" else L.GlobalMaxPooling1D
            built.append((cls(keepdims=m.keepdims), []))
        elif isinstance(m, nn.Flatten):
            built.append((L.Flatten(), []))
        elif isinstance(m, nn.LayerNorm):
            if len(m.normalized_shape) != 1 or not m.elementwise_affine:
                refuse(f"nn.LayerNorm{tuple(m.normalized_shape)}", "rnnlab", "only affine last-axis LayerNorm")
            ws = [_np(m.weight), _np(m.bias) if m.bias is not None else np.zeros(m.normalized_shape[0])]
            built.append((L.LayerNormalization(epsilon=m.eps), ws))
        elif type(m) in _ACT_MODULES or isinstance(m, nn.Softmax):
            built.append((L.Activation("softmax" if isinstance(m, nn.Softmax) else _ACT_MODULES[type(m)]), []))
        else:
            refuse(f"{type(m).__name__}", "rnnlab", "this PyTorch module has no rnnlab layer (converted: "
                   "Embedding, LSTM, GRU, RNN, Linear, Dropout, LayerNorm, Flatten, Sigmoid/Tanh/ReLU/Softmax "
                   "and to_torch blocks)")
        i += 1
    if not built:
        raise ConversionError("from_torch got no modules.")
    first = built[0][0]
    if isinstance(first, L.Embedding):
        head = [L.Input((input_length,), dtype="int32")]
    else:
        size = _input_size(mods)
        head = [L.Input((input_length, size))]
    model = Sequential(head + [layer for layer, _ in built], name=name)
    model.build()
    for layer, ws in built:
        if ws:
            layer.set_weights([np.asarray(w, dtype=layer.dtype) for w in ws])
    return model


def _input_size(mods):
    m = mods[0]
    m = m.rnn if isinstance(m, Recurrent) else (m.linear if isinstance(m, Dense) else m)
    for attr in ("input_size", "in_features"):
        if hasattr(m, attr):
            return int(getattr(m, attr))
    raise ConversionError(f"from_torch cannot tell the input size from the first module {type(m).__name__}; start "
                          "with nn.Embedding, a recurrent module or nn.Linear.")
