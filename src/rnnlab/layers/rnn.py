"""The recurrent driver: ``RNN(cell)`` runs a cell over a sequence, with masks, states and BPTT.

A *cell* (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``) knows one recurrence. It exposes

    cell.step(x_t, states) -> (h_t, new_states, cache)               # one step, caller-owned states
    cell.forward_sequence(X, states, mask) -> (H, finals, cache)     # the fast loop, time-major
    cell.backward_sequence(dH, d_finals, cache) -> (dX, d_states0)   # BPTT, adds weight grads

where ``X`` is ``(T, N, D)``, ``H`` is ``(T, N, H)`` and ``mask`` is ``(T, N)`` bool or None.
The ``RNN`` layer owns everything around the loop, the same for every cell:

- batch-first ``(N, T, D)`` inputs in, a time-major contiguous copy for the loop;
- ``go_backwards``: the inputs (and mask) are read from the last step to the first and, as in
  Keras, the output sequence is returned in that reversed order (not flipped back);
- masking (Keras semantics): at a masked step the states are carried over unchanged and the
  output repeats the previous step's output, zeros before the first real step. Because the state
  is carried, the output at step t is ``h_t`` once a real step has been seen and 0 before:
  ``y_t = h_t * seen_t`` with ``seen_t = OR_{s<=t} mask_s``;
- ``initial_state`` (list of ``(N, H)`` arrays; LSTM ``[h0, c0]``), with gradients;
- ``return_sequences`` / ``return_state``; ``backward`` takes gradients aligned with the outputs
  and returns ``[dx]`` (``[dx, d_h0, ...]`` when an ``initial_state`` was given);
- ``stateful=True``: the final states of one batch are the initial states of the next
  (truncated BPTT: no gradient crosses the batch boundary); ``reset_states()`` clears them;
- ``hidden_gradient_sink(sink)``: within the block every ``backward`` also hands ``sink(layer,
  dh, cache)`` the per-step gradients dL/dh_t (T, N, H) that its BPTT loop held (time-major, in
  the order the steps ran) and the forward cache; ``rnnlab.diagnostics`` is built on it.

The cells (``layers/cell.py`` and each cell's module) hold the time loops and the one-step API
(``cell.step``); their compiled twins live in ``rnnlab.kernels``. The cells share the recurrent
options of ``RNNCellBase``: variational ``dropout`` / ``recurrent_dropout`` and ``layer_norm``
(``BlockNorm``). ``RNN.step`` advances the cell by one step with the states owned by the caller.

Example::

    layer = RNN(LSTMCell(16), return_sequences=True)
    y = layer.forward(np.ones((2, 5, 3)))          # (2, 5, 16)
    dx, = layer.backward(np.ones_like(y))           # (2, 5, 3)
"""
import contextlib
import contextvars

import numpy as np

from .. import buffers
from .base import Layer
from .cell import RNNCellBase
from .checks import check_grad, check_states
from . import checks as _checks


_HIDDEN_GRADIENT_SINK = contextvars.ContextVar("rnnlab_hidden_gradient_sink", default=None)


@contextlib.contextmanager
def hidden_gradient_sink(sink):
    """Within the block, each ``RNN.backward`` also calls ``sink(layer, dh, cache)``.

    ``dh`` (T, N, H) is time-major, in the order the steps ran (reversed input order for
    ``go_backwards``): ``dh[t]`` is dL/dh_t, the total gradient of the loss with respect to the
    state h_t, through the output y_t and through the later steps t+1..T-1, exactly as the BPTT
    loop holds it (the loop's ``dh_out`` record; no recomputation). ``cache`` is the cell's forward
    cache of that call (gates, states). Recording runs the NumPy loop, not the compiled twin; outside
    the block nothing changes. Nested blocks: the innermost sink receives the calls.

    Example::

        seen = []
        with hidden_gradient_sink(lambda layer, dh, cache: seen.append((layer.name, dh))):
            model.compute_gradients(x, y)
    """
    if not callable(sink):
        raise TypeError(f"hidden_gradient_sink expects a callable sink(layer, dh, cache), got {type(sink).__name__}.")
    token = _HIDDEN_GRADIENT_SINK.set(sink)
    try:
        yield sink
    finally:
        _HIDDEN_GRADIENT_SINK.reset(token)


def _contiguous_copy(X):
    """A C-contiguous copy of ``X`` in a reused scratch array (``buffers.empty``)."""
    out = buffers.empty(X.shape, X.dtype)
    np.copyto(out, X)
    return out

class RNN(Layer):
    """A recurrent layer: runs ``cell`` over the time axis (Keras's ``keras.layers.RNN``).

    Args:
        cell: an ``RNNCellBase`` instance (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``).
        return_sequences: output the whole sequence (N, T, H) instead of the last output (N, H).
        return_state: also return the final states: ``[output, h]`` (``[output, h, c]`` for LSTM).
        go_backwards: process the sequence from last step to first; as in Keras, the output
            sequence is returned in this reversed order.
        stateful: carry the final states of a batch over as the initial states of the next batch
            (sample i to sample i; same batch size required). Truncated BPTT: ``backward``
            does not return gradients for carried states. ``reset_states()`` sets them to zeros.
        unroll: accepted for Keras compatibility and kept in the config; it changes nothing (the
            time loop is the same Python/compiled loop either way).

    ``forward(inputs (N, T, D), training=False, mask=None (N, T) bool, initial_state=None)``;
    ``backward(grad)`` returns dX, or ``(dX, [d_h0, ...])`` when ``initial_state`` was given.
    """

    supports_masking = True
    cell_class = None          # set by SimpleRNN/LSTM/GRU, whose configs are flat like Keras's

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, **kwargs):
        if not isinstance(cell, RNNCellBase):
            raise TypeError(f"RNN expects a cell such as SimpleRNNCell(units), LSTMCell or GRUCell, "
                            f"got {type(cell).__name__}.")
        kwargs.setdefault("dtype", cell.dtype.name)
        super().__init__(**kwargs)
        if self.dtype != cell.dtype:
            raise ValueError(f"RNN got dtype={self.dtype.name!r} but its cell has dtype {cell.dtype.name!r}; "
                             "give the cell the same dtype.")
        self.cell = cell
        self.return_sequences = _checks.flag(return_sequences, "return_sequences", type(self).__name__)
        self.return_state = _checks.flag(return_state, "return_state", type(self).__name__)
        self.go_backwards = _checks.flag(go_backwards, "go_backwards", type(self).__name__)
        self.stateful = _checks.flag(stateful, "stateful", type(self).__name__)
        self.unroll = _checks.flag(unroll, "unroll", type(self).__name__)
        self._states = None                    # stateful: the carried states (no gradient)
        self._params = cell._params            # the cell's weights are the layer's weights
        self._grads = cell._grads

    @property
    def units(self):
        return self.cell.units

    def sublayers(self):
        return [self.cell]

    def step(self, x_t, state=None, training=False, mask=None):
        """One time step, the state owned by the caller: ``(h_t, new_state)`` (see ``RNNCellBase.step``).

        ``state``: list of (N, H) arrays or None (zeros); ``mask``: (N,) bool or None. The output is
        ``h_t`` whatever ``return_sequences`` says (it is this step's output)."""
        if self.go_backwards:
            raise ValueError(f"Layer {self.name!r} has go_backwards=True: it reads a sequence from its end, so it "
                             "cannot run forwards one step at a time.")
        h, new_state, _ = self.cell.step(x_t, state, training=training, mask_t=mask)
        return h, new_state

    @property
    def states(self):
        """The carried states of a stateful layer (None before the first batch / after a reset)."""
        return None if self._states is None else [s.copy() for s in self._states]

    def reset_states(self):
        """Forget the carried states: the next batch starts from zeros (and may change batch size)."""
        self._states = None

    @property
    def state_size(self):
        return self.cell.state_size

    def build(self, input_shape):
        self.cell.build(tuple(input_shape))
        self.cell.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        N, T = input_shape[0], input_shape[1]
        out = (N, T, self.units) if self.return_sequences else (N, self.units)
        if self.return_state:
            return [out] + [(N, H) for H in self.state_size]
        return out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self.state_size)
        return out

    # ---- forward ------------------------------------------------------------------------------

    def _check_inputs(self, inputs):
        x = self._to_array(inputs)
        self._check_rank(x, 3, hint=" (batch, timesteps, features)")
        if x.shape[1] == 0:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) got inputs of shape {x.shape} with no "
                             "time steps; a sequence needs at least one step.")
        self._maybe_build(x.shape)
        D = self.cell.input_dim
        if x.shape[2] != D:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) was built for {D} input features, "
                             f"got inputs of shape {x.shape} (last axis {x.shape[2]}). A layer keeps the feature size "
                             "of its first input; use a new layer for a different one.")
        return x

    def _check_mask(self, mask, N, T):
        if mask is None:
            return None
        m = np.asarray(mask)
        if m.dtype == object or not (m.dtype == bool or np.issubdtype(m.dtype, np.number)):
            raise TypeError(f"Layer {self.name!r}: mask must be a boolean array, got dtype {m.dtype}.")
        if m.shape != (N, T):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): mask must have shape (batch, timesteps) "
                             f"= {(N, T)}, got {m.shape}. Pass one boolean per (sample, step), "
                             "True for real steps.")
        return m.astype(bool, copy=False)

    def forward(self, inputs, training=False, mask=None, initial_state=None):
        x = self._check_inputs(inputs)                                  # (N, T, D)
        N, T, _ = x.shape
        m = self._check_mask(mask, N, T)
        if initial_state is None and self.stateful and self._states is not None:
            if self._states[0].shape[0] != N:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}) is stateful and carries states for a batch of "
                    f"{self._states[0].shape[0]}, but got a batch of {N}. Feed batches of one size (drop or pad "
                    "the last one), or call reset_states() first.")
            states = self._states                                       # carried over: no gradient
        else:
            states = check_states(self, initial_state, N)
        X = x.transpose(1, 0, 2)                                        # (T, N, D) view
        if self.go_backwards:
            X = X[::-1]
        self._forget_calls()                                            # frees the last pass's arrays for reuse
        X = _contiguous_copy(X)                                         # (T, N, D) time-major
        M = None
        if m is not None:
            M = m.T[::-1] if self.go_backwards else m.T
            M = np.ascontiguousarray(M)                                 # (T, N)
        Hseq, finals, cache = self.cell.forward_sequence(X, states, M, training)    # (T, N, H)
        seen = None
        if M is not None:
            seen = np.logical_or.accumulate(M, axis=0)[:, :, None]      # (T, N, 1): a real step so far
            Y = Hseq * seen                                             # y_t = h_t, zeros before 1st step
        else:
            Y = Hseq
        out = np.ascontiguousarray(Y.transpose(1, 0, 2)) if self.return_sequences else Y[-1].copy()
        self._save(cache=cache, seen=seen, N=N, T=T, had_state=initial_state is not None)
        if self.stateful:
            self._states = [f.copy() for f in finals]
        if self.return_state:
            return [out] + finals
        return out

    # ---- backward -----------------------------------------------------------------------------

    def backward(self, grad_outputs):
        """``[dx]``, or ``[dx, d_state0, ...]`` when the call had an ``initial_state``.

        ``grad_outputs``: dL/d(output), or with ``return_state`` a list aligned with
        ``[output, h(, c)]`` (None for an unused one)."""
        call = self._restore()
        cache, seen, N, T, had_state = call.cache, call.seen, call.N, call.T, call.had_state
        n_states = len(self.state_size)
        if self.return_state:
            if not isinstance(grad_outputs, (list, tuple)) or len(grad_outputs) != 1 + n_states:
                raise ValueError(f"Layer {self.name!r} has return_state=True, so backward expects a list of "
                                 f"{1 + n_states} gradients aligned with [output, {', '.join(self.cell.state_names)}] "
                                 "(None for an unused one).")
            d_out, d_finals = grad_outputs[0], list(grad_outputs[1:])
        else:
            d_out, d_finals = grad_outputs, [None] * n_states
        Hdim = self.units
        out_shape = (N, T, Hdim) if self.return_sequences else (N, Hdim)
        d_out = check_grad(self, d_out, out_shape, "output")
        d_finals = [check_grad(self, d, (N, Hdim), f"state {name!r}")
                    for d, name in zip(d_finals, self.cell.state_names)]
        if d_out is not None and self.return_sequences:
            dH = buffers.empty((T, N, Hdim), self.dtype)                 # (T, N, H)
            np.copyto(dH, d_out.transpose(1, 0, 2))                      # through the batch-first transpose
        else:
            dH = buffers.zeros((T, N, Hdim), self.dtype)
            if d_out is not None:
                dH[-1] = d_out                                           # through y = y_{T-1}
        if d_out is not None and seen is not None:
            dH *= seen                                                   # through y_t = h_t * seen_t
        sink = _HIDDEN_GRADIENT_SINK.get()
        if sink is None:
            dX, d_states0 = self.cell.backward_sequence(dH, d_finals, cache)   # (T, N, D)
        else:
            dX, d_states0 = self._backward_recorded(sink, dH, d_finals, cache)
        if self.go_backwards:
            dX = dX[::-1]                                                # through the time reversal
        dx = np.ascontiguousarray(dX.transpose(1, 0, 2))                 # (N, T, D)
        return [dx] + list(d_states0) if had_state else [dx]

    def _backward_recorded(self, sink, dH, d_finals, cache):
        """``cell.backward_sequence`` with the per-step dL/dh_t recorded and handed to ``sink``."""
        if not getattr(self.cell, "records_hidden_gradients", False):
            raise ValueError(f"Layer {self.name!r}: its cell {type(self.cell).__name__} cannot record dL/dh_t "
                             "(its backward_sequence takes no dh_out). Record a layer whose cell sets "
                             "records_hidden_gradients = True (SimpleRNN, LSTM, GRU), or leave the block.")
        dh_out = np.empty(dH.shape, dtype=dH.dtype)                      # (T, N, H), kept by the sink
        result = self.cell.backward_sequence(dH, d_finals, cache, dh_out=dh_out)
        sink(self, dh_out, cache)
        return result

    # ---- config --------------------------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        if self.cell_class is None:
            from .serialization import serialize
            config["cell"] = serialize(self.cell)
        else:
            config.update(self.cell.cell_args())
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls.cell_class is None:
            from .serialization import deserialize
            config["cell"] = deserialize(config["cell"])
        return cls(**config)
