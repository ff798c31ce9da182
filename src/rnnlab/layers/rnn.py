"""The recurrent driver: ``RNN(cell)`` runs a cell over a sequence, with masks, states and BPTT.

A *cell* (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``) knows one recurrence. It exposes

    cell(x_t, states) -> (h_t, new_states)                   # one step, as in Keras
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
- ``return_sequences`` / ``return_state``; ``backward`` takes gradients aligned with the outputs.

Example::

    layer = RNN(LSTMCell(16), return_sequences=True)
    y = layer.forward(np.ones((2, 5, 3)))          # (2, 5, 16)
    dx = layer.backward(np.ones_like(y))            # (2, 5, 3)
"""
import numpy as np

from .. import activations
from .base import Layer, _auto_name


def _default_name(kwargs, cls_name):
    """Keras-style default names ("lstm", "simple_rnn_1", "gru_cell") for acronym class names."""
    if kwargs.get("name") is None:
        kwargs["name"] = _auto_name(cls_name.replace("LSTM", "Lstm").replace("GRU", "Gru").replace("RNN", "Rnn"))
    return kwargs


def _positive_int(value, what, cls_name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{cls_name} expects a positive integer {what!r}, got {value!r}.")
    return int(value)


class RNNCellBase(Layer):
    """Base class of the one-step cells. Subclasses define the weights and the sequence loops.

    Args:
        units: size H of the hidden state (positive int).
        activation, recurrent_activation: names from ``rnnlab.activations``.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer: as in Keras.
        seed: seeds the kernel (``seed``) and the recurrent kernel (``seed + 1``) initialisers.
    """

    state_names = ("h",)

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", seed=None, **kwargs):
        super().__init__(**_default_name(kwargs, type(self).__name__))
        cls = type(self).__name__
        self.units = _positive_int(units, "units", cls)
        self.activation = activation or "linear"
        self.f, self.f_backward = activations.get(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.seed = seed
        self._step_cache = None

    @property
    def state_size(self):
        """One entry per state, each the state's width H (Keras's ``cell.state_size``)."""
        return [self.units] * len(self.state_names)

    def _seed(self, k):
        return None if self.seed is None else int(self.seed) + k

    def add_weight(self, name, shape, initializer="zeros", seed=None):
        """As ``Layer.add_weight``, but always C-contiguous (``orthogonal`` gives a transposed,
        Fortran-ordered array for (H, 4H); the time loops want row-major weights)."""
        value = super().add_weight(name, shape, initializer, seed)
        if not value.flags.c_contiguous:
            value = self._params[name] = np.ascontiguousarray(value)
        return value

    def cell_args(self):
        """The cell's own constructor arguments (what a ``SimpleRNN``/``LSTM``/``GRU`` config adds)."""
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer,
                "recurrent_initializer": self.recurrent_initializer,
                "bias_initializer": self.bias_initializer, "seed": self.seed}

    def get_config(self):
        return {**super().get_config(), **self.cell_args()}

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    # ---- what a subclass writes -------------------------------------------------------------

    def forward_sequence(self, X, states, mask=None, training=False):
        """Run the recurrence over time-major ``X`` (T, N, D) from ``states`` (list of (N, H)).

        Returns ``(H, finals, cache)``: hidden states (T, N, H), final states, and what
        ``backward_sequence`` needs."""
        raise NotImplementedError

    def backward_sequence(self, dH, d_finals, cache):
        """BPTT: ``dH`` (T, N, H) and final-state gradients (list, None for zero) to
        ``(dX (T, N, D), [d_state0, ...])``; adds the weight gradients into ``self._grads``."""
        raise NotImplementedError

    # ---- one step, Keras-like ---------------------------------------------------------------

    def __call__(self, inputs, states=None, **kwargs):
        return self.forward(inputs, states, **kwargs)

    def forward(self, inputs, states=None, training=False, mask=None):
        """One step: ``x_t`` (N, D) and ``states`` (list of (N, H); zeros if None) to
        ``(h_t, new_states)``."""
        x = self._to_array(inputs)
        self._check_rank(x, 2, hint=" (batch, features) for one step")
        self._maybe_build(x.shape)
        if x.shape[1] != self.input_dim:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) was built for {self.input_dim} "
                             f"input features, got inputs of shape {x.shape}.")
        states = _check_states(self, states, x.shape[0], "states")
        _, finals, cache = self.forward_sequence(np.ascontiguousarray(x[None]), states, None, training)
        self._step_cache = cache
        return finals[0], finals

    def backward(self, grad_outputs, grad_states=None):
        """One step back: d h_t (N, H) and optional gradients of the new states to
        ``(dx_t (N, D), [d_state_{t-1}, ...])``."""
        if self._step_cache is None:
            raise ValueError(f"Layer {self.name!r}: backward() called before forward(); run forward first.")
        dh = np.asarray(grad_outputs, dtype=self.dtype)
        d_finals = list(grad_states) if grad_states is not None else [None] * len(self.state_names)
        dX, d0 = self.backward_sequence(dh[None], d_finals, self._step_cache)
        return dX[0], d0

    @property
    def input_dim(self):
        return self._params["kernel"].shape[0]


def _check_states(layer, states, N, what="initial_state"):
    """A list of (N, H) arrays in the layer's dtype (zeros when ``states`` is None)."""
    cell = layer if isinstance(layer, RNNCellBase) else layer.cell
    sizes = cell.state_size
    if states is None:
        return [np.zeros((N, H), dtype=cell.dtype) for H in sizes]
    if isinstance(states, np.ndarray):
        states = [states]
    if not isinstance(states, (list, tuple)):
        raise TypeError(f"Layer {layer.name!r}: {what} must be a list of arrays, got {type(states).__name__}.")
    expected = [(N, H) for H in sizes]
    if len(states) != len(sizes):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects {len(sizes)} {what} array(s) "
            f"[{', '.join(cell.state_names)}] of shapes {expected}, got {len(states)}.")
    out = []
    for name, s, shape in zip(cell.state_names, states, expected):
        s = layer._to_array(s, what)
        if s.shape != shape:
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): {what} {name!r} must have shape "
                             f"{shape} (batch, units), got {s.shape}.")
        out.append(s)
    return out


class RNN(Layer):
    """A recurrent layer: runs ``cell`` over the time axis (Keras's ``keras.layers.RNN``).

    Args:
        cell: an ``RNNCellBase`` instance (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``).
        return_sequences: output the whole sequence (N, T, H) instead of the last output (N, H).
        return_state: also return the final states: ``[output, h]`` (``[output, h, c]`` for LSTM).
        go_backwards: process the sequence from last step to first; as in Keras, the output
            sequence is returned in this reversed order.

    ``forward(inputs (N, T, D), training=False, mask=None (N, T) bool, initial_state=None)``;
    ``backward(grad)`` returns dX, or ``(dX, [d_h0, ...])`` when ``initial_state`` was given.
    """

    supports_masking = True
    cell_class = None          # set by SimpleRNN/LSTM/GRU, whose configs are flat like Keras's

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, **kwargs):
        if not isinstance(cell, RNNCellBase):
            raise TypeError(f"RNN expects a cell such as SimpleRNNCell(units), LSTMCell or GRUCell, "
                            f"got {type(cell).__name__}.")
        kwargs.setdefault("dtype", cell.dtype.name)
        super().__init__(**_default_name(kwargs, type(self).__name__))
        if self.dtype != cell.dtype:
            raise ValueError(f"RNN got dtype={self.dtype.name!r} but its cell has dtype {cell.dtype.name!r}; "
                             "give the cell the same dtype.")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self._params = cell._params            # the cell's weights are the layer's weights
        self._grads = cell._grads
        self._cache = None

    @property
    def units(self):
        return self.cell.units

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
        states = _check_states(self, initial_state, N)
        X = x.transpose(1, 0, 2)                                        # (T, N, D) view
        if self.go_backwards:
            X = X[::-1]
        X = np.ascontiguousarray(X)                                     # (T, N, D) time-major
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
        self._cache = (cache, seen, N, T, initial_state is not None)
        if self.return_state:
            return [out] + finals
        return out

    # ---- backward -----------------------------------------------------------------------------

    def backward(self, grad_outputs):
        if self._cache is None:
            raise ValueError(f"Layer {self.name!r}: backward() called before forward(); run forward first.")
        cache, seen, N, T, had_state = self._cache
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
        dH = np.zeros((T, N, Hdim), dtype=self.dtype)                    # (T, N, H)
        if d_out is not None:
            d_out = np.asarray(d_out, dtype=self.dtype)
            if self.return_sequences:
                dH[...] = d_out.transpose(1, 0, 2)                       # through the batch-first transpose
            else:
                dH[-1] = d_out                                           # through y = y_{T-1}
            if seen is not None:
                dH *= seen                                               # through y_t = h_t * seen_t
        d_finals = [None if d is None else np.asarray(d, dtype=self.dtype) for d in d_finals]
        dX, d_states0 = self.cell.backward_sequence(dH, d_finals, cache)   # (T, N, D)
        if self.go_backwards:
            dX = dX[::-1]                                                # through the time reversal
        dx = np.ascontiguousarray(dX.transpose(1, 0, 2))                 # (N, T, D)
        if had_state:
            return dx, d_states0
        return dx

    # ---- config --------------------------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        if self.cell_class is None:
            from .serialization import serialize
            config["cell"] = serialize(self.cell)
        else:
            config.update(self.cell.cell_args())
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls.cell_class is None:
            from .serialization import deserialize
            config["cell"] = deserialize(config["cell"])
        return cls(**config)
