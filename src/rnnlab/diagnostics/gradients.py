"""Gradient diagnostics of recurrent layers, read from the hand-written BPTT.

**∂L/∂h_t.** For a recurrent layer with states ``h_0 .. h_{T-1}`` (one per step, in the order the
steps run; reversed input order for ``go_backwards``), ``∂L/∂h_t`` is the *total* derivative of the
loss with respect to the state ``h_t``: perturb ``h_t`` after step t has produced it and everything
that reads it changes, the output ``y_t`` and the steps t+1..T-1 (through ``h_t`` only; an LSTM's
``c_t`` is held fixed). BPTT computes exactly this at every step::

    ∂L/∂h_t = ∂L/∂y_t + (∂h_{t+1}/∂h_t)ᵀ ∂L/∂h_{t+1}          (∂L/∂h_T = 0 past the last step)

and ``record_hidden_gradients()`` keeps the loop's own value (the ``dh_out`` record of the cells'
backward loops), nothing is recomputed. Norms are per sample, ``‖∂L/∂h_t‖₂`` over the H units, then
averaged over the batch. With a loss on the last step only, the distance from the loss is T-1-t,
and for the vanilla RNN ``∂h_{t+1}/∂h_t = diag(f'(z_{t+1})) W_hᵀ``: a product of T-1-t such
factors, which shrinks or grows geometrically (the notes' vanishing and exploding gradients).

**∂h_{T-1}/∂h_t.** The Jacobian of the last state with respect to an earlier one (H × H per sample).
``state_jacobian_norms`` reads its rows from the same BPTT: one backward pass with the gradient
``e_k`` on the last state gives row k, ``e_kᵀ ∂h_{T-1}/∂h_t``, at every t at once; the batch is
replicated H times so that one pass gives all rows.

**Spectral radius** ``ρ(W) = max |λ_i(W)|`` of each (H, H) block of the recurrent kernel: with
``ρ(W_h) > 1`` a vanilla RNN's gradients can explode, with ``ρ(W_h) < 1`` (and bounded f') they
vanish (Pascanu, Mikolov and Bengio 2013).

**Saturation**: the fraction of gate values within ``tol`` of their limits (sigmoid: < tol or
> 1 - tol; tanh: |a| > 1 - tol; relu: 0), where the derivative nearly vanishes.

Example::

    from rnnlab import diagnostics
    with diagnostics.record_hidden_gradients() as rec:
        model.compute_gradients(x, y)
    rec.norms()                       # {"lstm": array of T per-step mean ‖∂L/∂h_t‖}
    diagnostics.spectral_radii(model) # {"lstm": {"i": 0.98, "f": 1.01, "c": 0.99, "o": 1.0}}
"""
import contextlib
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import numpy as np

from ..layers.rnn import RNN, hidden_gradient_sink
from ..models.traversal import all_layers, carried_states_kept

#: gate block names of each cell's kernel, in Keras's order
GATE_BLOCKS = {"SimpleRNNCell": ("h",), "LSTMCell": ("i", "f", "c", "o"), "GRUCell": ("z", "r", "h")}


# ---- what the BPTT held: ∂L/∂h_t ------------------------------------------------------------------

class HiddenGradientRecord(NamedTuple):
    """One ``RNN.backward`` call seen by ``record_hidden_gradients``."""
    layer: RNN
    dh: np.ndarray                       # (N, T, H) ∂L/∂h_t, batch-first, steps in the order they ran
    saturation: dict                     # {gate: fraction}, from the call's forward cache
    inputs: Optional[tuple]              # (X (N, T, D) as the cell saw it, initial states) if kept


class HiddenGradientRecorder:
    """Collects ``HiddenGradientRecord`` s; made by ``record_hidden_gradients``.

    ``records`` lists the calls in the order backward ran (the reverse of the forward calls);
    ``gradients()`` and ``norms()`` key them by layer name in forward order (a layer called k > 1
    times in one pass gives ``name``, ``name[1]``, ..., ``name[k-1]``).
    """

    def __init__(self, layers=None, keep_inputs=False, tol=0.05):
        self._only = None if layers is None else {id(layer) for layer in layers}
        self.keep_inputs = bool(keep_inputs)
        self.tol = float(tol)
        self.records = []

    def __call__(self, layer, dh, cache):
        if self._only is not None and id(layer) not in self._only:
            return
        inputs = None
        if self.keep_inputs:
            states0 = [cache.Hs[0].copy()] + ([cache.Cs[0].copy()] if hasattr(cache, "Cs") else [])
            inputs = (np.ascontiguousarray(cache.Xd.transpose(1, 0, 2)), states0)
        self.records.append(HiddenGradientRecord(layer, dh.transpose(1, 0, 2), saturation(layer, cache, self.tol),
                                                 inputs))

    def _keyed(self):
        out, counts = {}, {}
        for rec in reversed(self.records):                          # forward order
            k = counts.get(rec.layer.name, 0)
            counts[rec.layer.name] = k + 1
            out[rec.layer.name if k == 0 else f"{rec.layer.name}[{k}]"] = rec
        return out

    def gradients(self):
        """``{name: (N, T, H) ∂L/∂h_t}`` in forward order."""
        return {name: rec.dh for name, rec in self._keyed().items()}

    def norms(self, reduce="mean"):
        """``{name: per-step norms}``: see ``step_norms`` for ``reduce``."""
        return {name: step_norms(rec.dh, reduce) for name, rec in self._keyed().items()}

    def saturation(self):
        """``{name: {gate: saturated fraction}}`` of the recorded calls' forward passes."""
        return {name: rec.saturation for name, rec in self._keyed().items()}


@contextlib.contextmanager
def record_hidden_gradients(layers=None, keep_inputs=False, tol=0.05):
    """Within the block, every recurrent layer's backward keeps ∂L/∂h_t (N, T, H) as its BPTT held it.

    Args:
        layers: the RNN layers to record (default: all).
        keep_inputs: also keep each call's inputs and initial states (for ``state_jacobian_norms``).
        tol: saturation threshold (see ``saturation``).
    Yields:
        a ``HiddenGradientRecorder``. Recording runs the NumPy loops (the compiled twins decline
        ``dh_out``); outside the block the layers are exactly as fast as before.

    Example::

        with record_hidden_gradients() as rec:
            model.compute_gradients(x, y)
        rec.norms()["simple_rnn"]           # (T,) mean over the batch of ‖∂L/∂h_t‖₂
    """
    recorder = HiddenGradientRecorder(layers, keep_inputs, tol)
    with hidden_gradient_sink(recorder):
        yield recorder


def step_norms(dh, reduce="mean"):
    """Per-step norms of ``dh`` (N, T, H).

    ``reduce``: ``"mean"`` (default) — mean over samples of ``‖dh[n, t]‖₂``, shape (T,);
    ``"none"`` — (N, T); ``"batch"`` — the norm of the whole (N, H) slice at each step, (T,).
    """
    dh = np.asarray(dh)
    if dh.ndim != 3:
        raise ValueError(f"step_norms expects dL/dh of shape (batch, steps, units), got shape {dh.shape}.")
    per = np.linalg.norm(dh.astype(np.float64, copy=False), axis=-1)    # (N, T)
    if reduce == "mean":
        return per.mean(axis=0)
    if reduce == "none":
        return per
    if reduce == "batch":
        return np.sqrt((per ** 2).sum(axis=0))
    raise ValueError(f"reduce must be 'mean', 'none' or 'batch', got {reduce!r}.")


def decay_per_step(norms, distance=None):
    """The geometric decay factor per step: ``exp(slope)`` of the least-squares line through
    ``log ‖∂L/∂h_t‖`` against the distance from the loss.

    Args:
        norms: (T,) per-step norms (index t = step; the loss at the last step by default).
        distance: (T,) distances, default ``T-1-t``.
    Returns:
        ``factor`` (float): < 1 vanishing (the norm shrinks by ``factor`` per step back), > 1 exploding.
        Steps whose norm is 0 or not finite are left out; NaN when fewer than two remain.
    """
    norms = np.asarray(norms, dtype=np.float64)
    d = np.arange(len(norms))[::-1] if distance is None else np.asarray(distance, dtype=np.float64)
    ok = np.isfinite(norms) & (norms > 0)
    if ok.sum() < 2:
        return float("nan")
    slope = np.polyfit(d[ok], np.log(norms[ok]), 1)[0]
    return float(np.exp(slope))


def hidden_gradient_norms(model, x, y, reduce="mean"):
    """``{layer name: (T,) per-step norms of ∂L/∂h_t}`` for one batch: one training-mode forward
    and backward (``model.compute_gradients``; no weight update, stateful layers' carried states
    kept). The model's gradients are left as that pass computed them."""
    with carried_states_kept(model.layers), record_hidden_gradients() as rec:
        model.compute_gradients(x, y)
    return rec.norms(reduce)


# ---- ∂h_{T-1}/∂h_t -----------------------------------------------------------------------------

def state_jacobians(layer, x, initial_state=None):
    """``J`` (N, T, H, H): ``J[n, t] = ∂h_{T-1}/∂h_t`` for sample n (row k: ∂h_{T-1}[k]/∂h_t), from BPTT.

    Args:
        layer: an ``RNN`` layer (``SimpleRNN``, ``LSTM``, ``GRU``) or its cell.
        x: (N, T, D) inputs in the layer's input order (``go_backwards`` is honoured).
        initial_state: list of (N, H) arrays, or None for zeros.
    The pass is in inference mode (no dropout) without a mask; the layer's weight gradients and
    carried states are left unchanged. Cost: one forward and one backward over N·H rows.
    """
    cell = layer.cell if isinstance(layer, RNN) else layer
    if not getattr(cell, "records_hidden_gradients", False):
        raise ValueError(f"state_jacobians expects a SimpleRNN, LSTM or GRU layer (or cell), "
                         f"got {type(layer).__name__}.")
    x = np.asarray(x, dtype=cell.dtype)
    if x.ndim != 3:
        raise ValueError(f"state_jacobians expects x of shape (batch, steps, features), got {x.shape}.")
    if isinstance(layer, RNN):
        layer._maybe_build(x.shape)
    elif not cell.built:
        cell.build(x.shape)
        cell.built = True
    N, T, D = x.shape
    H = cell.units
    X = x.transpose(1, 0, 2)
    if isinstance(layer, RNN) and layer.go_backwards:
        X = X[::-1]
    Xr = np.ascontiguousarray(np.repeat(X, H, axis=1))                  # (T, N·H, D): sample n, row k
    states = cell.get_initial_state(N) if initial_state is None else [np.asarray(s, cell.dtype) for s in initial_state]
    states = [np.repeat(s, H, axis=0) for s in states]
    saved = {k: g.copy() for k, g in cell._grads.items()}
    try:
        _, _, cache = cell.forward_sequence(Xr, states, None, False)
        dH = np.zeros((T, N * H, H), dtype=cell.dtype)
        dH[-1] = np.tile(np.eye(H, dtype=cell.dtype), (N, 1))          # ∂(h_{T-1}[k])/∂h_{T-1} = e_k
        dh_out = np.empty_like(dH)
        cell.backward_sequence(dH, [None] * len(states), cache, dh_out=dh_out)
    finally:
        for k, g in saved.items():
            cell._grads[k][...] = g
    return dh_out.reshape(T, N, H, H).transpose(1, 0, 2, 3)


def state_jacobian_norms(layer, x, initial_state=None, ord=2):
    """``(N, T)`` norms of ``∂h_{T-1}/∂h_t`` (``ord=2``: spectral norm; ``"fro"``: Frobenius).

    Example::

        norms = state_jacobian_norms(model.layers[0], x[:4])      # (4, T); norms[:, -1] == 1
    """
    J = state_jacobians(layer, x, initial_state).astype(np.float64)
    if ord == 2:
        return np.linalg.svd(J, compute_uv=False)[..., 0]
    if ord == "fro":
        return np.sqrt((J ** 2).sum(axis=(-2, -1)))
    raise ValueError(f"ord must be 2 (spectral norm) or 'fro', got {ord!r}.")


# ---- weights: spectral radius, gradient norms -----------------------------------------------------

def spectral_radius(W):
    """``max |λ_i(W)|`` of a square matrix ``W``."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"spectral_radius expects a square matrix, got shape {W.shape}.")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def recurrent_layers(model):
    """The ``RNN`` layers of a model (or of a layer, or a list of layers), each once, depth first."""
    roots = model.layers if hasattr(model, "layers") else (model if isinstance(model, (list, tuple)) else [model])
    return [layer for layer in all_layers(roots) if isinstance(layer, RNN)]


def spectral_radii(model):
    """``{layer name: {gate: ρ(W_h block)}}`` for every recurrent layer (gates: ``GATE_BLOCKS``)."""
    out = {}
    for layer in recurrent_layers(model):
        if not layer.built:
            continue
        W = layer.cell._params["recurrent_kernel"]
        H = layer.units
        names = GATE_BLOCKS.get(type(layer.cell).__name__, tuple(str(k) for k in range(W.shape[1] // H)))
        out[layer.name] = {g: spectral_radius(W[:, k * H:(k + 1) * H]) for k, g in enumerate(names)}
    return out


def parameter_gradient_norms(model):
    """``{"layer/weight": ‖∂L/∂w‖₂}`` of the gradients now held by the layers (before any clipping,
    which the optimiser applies to copies); an array shared by two layers is listed once."""
    roots = model.layers if hasattr(model, "layers") else (model if isinstance(model, (list, tuple)) else [model])
    out, seen = {}, set()
    for layer in all_layers(roots):
        for name, g in getattr(layer, "_grads", {}).items():
            w = layer._params.get(name)
            if id(w) in seen:
                continue
            seen.add(id(w))
            out[f"{layer.name}/{name}"] = float(np.linalg.norm(np.asarray(g, dtype=np.float64)))
    return out


# ---- saturation ------------------------------------------------------------------------------

def _saturated_fraction(a, activation, tol):
    if activation in ("tanh",):
        return float(np.mean(np.abs(a) > 1.0 - tol))
    if activation in ("sigmoid", "hard_sigmoid"):
        return float(np.mean((a < tol) | (a > 1.0 - tol)))
    if activation == "relu":
        return float(np.mean(a <= 0.0))
    return float("nan")


def saturation(layer, cache=None, tol=0.05):
    """``{gate: fraction}`` of saturated activations in one forward pass of a recurrent layer.

    Args:
        layer: an RNN layer; its last call's record is read when ``cache`` is None.
        cache: the cell's forward cache (``SimpleRNNCache`` / ``LSTMCache`` / ``GRUCache``).
        tol: sigmoid gates count when ``a < tol`` or ``a > 1 - tol``; tanh when ``|a| > 1 - tol``;
            relu when ``a <= 0``.
    Gates: SimpleRNN ``h``; LSTM ``i``, ``f``, ``c`` (candidate), ``o``, ``tanh_c`` (tanh of the
    cell state); GRU ``z``, ``r``, ``h`` (candidate). Masked steps are included.
    """
    cell = layer.cell if isinstance(layer, RNN) else layer
    if cache is None:
        if not layer._calls:
            raise ValueError(f"Layer {layer.name!r} has no forward call on record; run it on a batch first.")
        cache = layer._calls[-1].cache
    act, rec = cell.activation, getattr(cell, "recurrent_activation", None)
    kind = type(cell).__name__
    if kind == "SimpleRNNCell":
        return {"h": _saturated_fraction(cache.Hs[1:], act, tol)}
    H = cell.units
    A = cache.A
    if kind == "LSTMCell":
        return {"i": _saturated_fraction(A[..., :H], rec, tol), "f": _saturated_fraction(A[..., H:2 * H], rec, tol),
                "c": _saturated_fraction(A[..., 2 * H:3 * H], act, tol),
                "o": _saturated_fraction(A[..., 3 * H:], rec, tol), "tanh_c": _saturated_fraction(cache.TC, act, tol)}
    if kind == "GRUCell":
        return {"z": _saturated_fraction(A[..., :H], rec, tol), "r": _saturated_fraction(A[..., H:2 * H], rec, tol),
                "h": _saturated_fraction(A[..., 2 * H:], act, tol)}
    return {}


# ---- one report per batch ----------------------------------------------------------------------

@dataclass
class GradientReport:
    """What ``diagnose_batch`` measured on one batch (see the module docstring for the definitions).

    ``hidden``: {layer: (T,) mean ‖∂L/∂h_t‖}; ``jacobian``: {layer: (T,) mean ‖∂h_{T-1}/∂h_t‖₂} (empty
    unless asked); ``spectral_radius``: {layer: {gate: ρ}}; ``saturation``: {layer: {gate: fraction}};
    ``parameter_gradients``: {"layer/weight": ‖g‖}; ``loss``: the batch loss.
    """
    loss: float = float("nan")
    hidden: dict = field(default_factory=dict)
    jacobian: dict = field(default_factory=dict)
    spectral_radius: dict = field(default_factory=dict)
    saturation: dict = field(default_factory=dict)
    parameter_gradients: dict = field(default_factory=dict)

    def scalars(self):
        """A flat ``{tag: float}`` for loggers (TensorBoard, CSV): ``hidden_grad/<layer>/last``,
        ``.../first``, ``.../decay_per_step``, ``spectral_radius/<layer>/<gate>``,
        ``saturation/<layer>/<gate>``, ``grad_norm/<layer>/<weight>``, ``jacobian/<layer>/first``."""
        out = {}
        for name, n in self.hidden.items():
            out[f"hidden_grad/{name}/last"] = float(n[-1])
            out[f"hidden_grad/{name}/first"] = float(n[0])
            out[f"hidden_grad/{name}/decay_per_step"] = decay_per_step(n)
        for name, n in self.jacobian.items():
            out[f"jacobian/{name}/first"] = float(n[0])
        for kind, table in (("spectral_radius", self.spectral_radius), ("saturation", self.saturation)):
            for name, gates in table.items():
                for gate, v in gates.items():
                    out[f"{kind}/{name}/{gate}"] = float(v)
        for name, v in self.parameter_gradients.items():
            out[f"grad_norm/{name}"] = float(v)
        return out


def report_from_recorder(model, recorder, loss=float("nan"), jacobian_samples=0):
    """A ``GradientReport`` from a filled recorder and the gradients now in the model."""
    report = GradientReport(loss=float(loss), hidden=recorder.norms(), saturation=recorder.saturation(),
                            spectral_radius=spectral_radii(model), parameter_gradients=parameter_gradient_norms(model))
    if jacobian_samples:
        for name, rec in recorder._keyed().items():
            if rec.inputs is None:
                continue
            X, states = rec.inputs                                    # processing order already
            k = int(jacobian_samples)
            cell = rec.layer.cell
            report.jacobian[name] = state_jacobian_norms(cell, X[:k], [s[:k] for s in states]).mean(axis=0)
    return report


def diagnose_batch(model, x, y, jacobian_samples=0, tol=0.05):
    """Every measurement on one batch: one training-mode ``compute_gradients`` (no update; the
    carried states of stateful layers are kept), recorded.

    Args:
        model: a compiled model.  x, y: one batch.
        jacobian_samples: also ``‖∂h_{T-1}/∂h_t‖₂`` averaged over the first this-many samples (0: no).
        tol: saturation threshold.
    Returns:
        a ``GradientReport``.

    Example::

        report = diagnose_batch(model, x[:32], y[:32], jacobian_samples=4)
        report.hidden["lstm"][0] / report.hidden["lstm"][-1]
    """
    with carried_states_kept(model.layers), \
            record_hidden_gradients(keep_inputs=bool(jacobian_samples), tol=tol) as rec:
        loss, _, _ = model.compute_gradients(x, y)
    return report_from_recorder(model, rec, loss, jacobian_samples)
