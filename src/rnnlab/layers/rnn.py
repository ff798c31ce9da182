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
- ``return_sequences`` / ``return_state``; ``backward`` takes gradients aligned with the outputs;
- ``stateful=True``: the final states of one batch are the initial states of the next
  (truncated BPTT: no gradient crosses the batch boundary); ``reset_states()`` clears them.

Each cell's two time loops are module-level functions with plain array arguments
(``simple_rnn_forward_loop``/``_backward_loop``, ``lstm_...``, ``gru_...``, ``gru_v1_...``), looked up
when called. The optional ``rec_mask`` / ``norm`` / ``cell_norm`` keywords are passed only when used
(``RNNCellBase._loop_options``), so a compiled loop with the plain signature can replace the NumPy
one in the default case (no recurrent dropout, no layer norm).

The cells share the recurrent options of issue 4 (see ``RNNCellBase``): variational ``dropout`` /
``recurrent_dropout`` and ``layer_norm`` (``BlockNorm``).

Example::

    layer = RNN(LSTMCell(16), return_sequences=True)
    y = layer.forward(np.ones((2, 5, 3)))          # (2, 5, 16)
    dx = layer.backward(np.ones_like(y))            # (2, 5, 3)
"""
import numpy as np

from .. import activations, backend, buffers
from .base import Layer

LAYER_NORM_EPSILON = 1e-3          # as Keras's LayerNormalization


def _contiguous_copy(X):
    """A C-contiguous copy of ``X`` in a reused scratch array (``buffers.empty``)."""
    out = buffers.empty(X.shape, X.dtype)
    np.copyto(out, X)
    return out


def _positive_int(value, what, cls_name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{cls_name} expects a positive integer {what!r}, got {value!r}.")
    return int(value)


def _rate(value, what, cls_name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{cls_name} expects {what} to be a fraction in [0, 1), got {value!r}.")
    return float(value)


class BlockNorm:
    """Layer normalisation (Ba, Kiros & Hinton 2016) of each gate block, inside a time loop.

    For one sample and one block of H values ``z`` (one gate's linear combination):

        μ = mean(z)    σ² = mean((z - μ)²)    ẑ = (z - μ) / sqrt(σ² + ε)    y = γ ⊙ ẑ + β

    Backward (per block): ``dẑ = dy ⊙ γ``,
    ``dz = (dẑ - mean(dẑ) - ẑ ⊙ mean(dẑ ⊙ ẑ)) / sqrt(σ² + ε)``, ``dγ += Σ dy ⊙ ẑ``, ``dβ += Σ dy``.

    ``forward(z, t, lo, hi)`` normalises the columns ``lo:hi`` (whole blocks) of step ``t`` and
    keeps ẑ, 1/σ and y for ``backward(dy, t, lo, hi)``, which returns dz and accumulates dγ, dβ.

    Args:
        gamma, beta: (K·H,) gains and offsets of the K blocks.  T, N, H: steps, batch, block width.
    """

    def __init__(self, gamma, beta, T, N, H, eps=LAYER_NORM_EPSILON):
        G = gamma.shape[0]
        self.gamma, self.beta, self.H, self.eps = gamma, beta, H, eps
        self.xhat = np.empty((T, N, G), dtype=gamma.dtype)             # ẑ
        self.inv = np.empty((T, N, G // H, 1), dtype=gamma.dtype)      # 1 / sqrt(σ² + ε) per block
        self.out = np.empty((T, N, G), dtype=gamma.dtype)              # y, the activation's input
        self.dgamma = np.zeros_like(gamma)
        self.dbeta = np.zeros_like(beta)

    def forward(self, z, t, lo=0, hi=None):
        hi = self.gamma.shape[0] if hi is None else hi
        N, H = z.shape[0], self.H
        zb = z.reshape(N, (hi - lo) // H, H)                            # (N, k, H)
        d = zb - zb.mean(axis=-1, keepdims=True)                        # z - μ
        inv = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + self.eps)
        self.inv[t][:, lo // H:hi // H] = inv
        xhat = self.xhat[t][:, lo:hi]
        xhat[...] = (d * inv).reshape(N, hi - lo)                       # ẑ
        y = self.out[t][:, lo:hi]
        np.multiply(xhat, self.gamma[lo:hi], out=y)
        y += self.beta[lo:hi]                                           # y = γ ⊙ ẑ + β
        return y

    def backward(self, dy, t, lo=0, hi=None):
        hi = self.gamma.shape[0] if hi is None else hi
        N, H = dy.shape[0], self.H
        xhat = self.xhat[t][:, lo:hi]
        self.dgamma[lo:hi] += (dy * xhat).sum(axis=0)                   # through γ ⊙ ẑ
        self.dbeta[lo:hi] += dy.sum(axis=0)                             # through + β
        dxh = (dy * self.gamma[lo:hi]).reshape(N, -1, H)                # dẑ
        xh = xhat.reshape(N, -1, H)
        dz = dxh - dxh.mean(axis=-1, keepdims=True) - xh * (dxh * xh).mean(axis=-1, keepdims=True)
        dz *= self.inv[t][:, lo // H:hi // H]                           # through ẑ = (z - μ) / σ
        return dz.reshape(N, hi - lo)


class RNNCellBase(Layer):
    """Base class of the one-step cells. Subclasses define the weights and the sequence loops.

    Args:
        units: size H of the hidden state (positive int).
        activation, recurrent_activation: names from ``rnnlab.activations``.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer: as in Keras.
        dropout: fraction of the *inputs* x_t to drop (training only).
        recurrent_dropout: fraction of h_{t-1} to drop where it enters the recurrent product
            ``h_{t-1} · W_h`` (training only; the carried state itself is not dropped).
        layer_norm: normalise each gate block's linear combination before its nonlinearity
            (``BlockNorm``); appends ``norm_gamma`` (K·H,) ones and ``norm_beta`` (K·H,) zeros
            after Keras's weights (K gate blocks: 1 SimpleRNN, 4 LSTM, 3 GRU; LSTM also
            ``cell_norm_gamma``/``cell_norm_beta`` (H,) for c_t before its tanh).
        seed: seeds the kernel (``seed``) and recurrent kernel (``seed + 1``) initialisers and the
            cell's own dropout generator (``seed + 2``); without it, dropout uses the global
            generator of ``backend``, looked up at each call.

    Dropout is variational (Gal & Ghahramani 2016), as in Keras: one input mask (N, D) and one
    recurrent mask (N, H) per sequence, drawn at the start of each training forward pass, used at
    every time step and shared by all gates, scaled by 1/(1 - rate); off when ``training=False``.
    The last masks are kept in ``cell._dropout_masks``; setting ``cell._reuse_dropout_masks = True``
    makes later training passes reuse them instead of drawing new ones (for gradient checks).
    """

    state_names = ("h",)
    n_blocks = 1               # gate blocks of H in the kernel: 1 SimpleRNN, 4 LSTM, 3 GRU

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0.0,
                 recurrent_dropout=0.0, layer_norm=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = _positive_int(units, "units", cls)
        self.activation = activation or "linear"
        self.f, self.f_backward = activations.get(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.dropout = _rate(dropout, "dropout", cls)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", cls)
        self.layer_norm = bool(layer_norm)
        self.seed = seed
        self._rng = None                       # the cell's own dropout generator, made on first use
        self._dropout_masks = None
        self._reuse_dropout_masks = False
        self._step_cache = None

    @property
    def state_size(self):
        """One entry per state, each the state's width H (Keras's ``cell.state_size``)."""
        return [self.units] * len(self.state_names)

    def get_initial_state(self, batch_size):
        """Zero states for a batch, as Keras's ``cell.get_initial_state``: a list of (N, H) arrays."""
        return [np.zeros((batch_size, H), dtype=self.dtype) for H in self.state_size]

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
                "bias_initializer": self.bias_initializer, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "layer_norm": self.layer_norm, "seed": self.seed}

    # ---- the pieces every cell shares ---------------------------------------------------------

    def _build_common(self, D):
        """Kernel (D, K·H) and recurrent kernel (H, K·H), then the layer-norm weights if asked."""
        H, G = self.units, self.n_blocks * self.units
        self.add_weight("kernel", (D, G), self.kernel_initializer, self._seed(0))
        self.add_weight("recurrent_kernel", (H, G), self.recurrent_initializer, self._seed(1))

    def _build_norm(self):
        if self.layer_norm:
            G = self.n_blocks * self.units
            self.add_weight("norm_gamma", (G,), "ones")
            self.add_weight("norm_beta", (G,), "zeros")

    def _make_norm(self, T, N):
        if not self.layer_norm:
            return None
        return BlockNorm(self._params["norm_gamma"], self._params["norm_beta"], T, N, self.units)

    def _add_norm_grads(self, norm, prefix="norm"):
        if norm is not None:
            self._grads[f"{prefix}_gamma"] += norm.dgamma
            self._grads[f"{prefix}_beta"] += norm.dbeta

    def _draw_dropout_masks(self, N, D, training):
        """``(m_x (N, D) or None, m_h (N, H) or None)``: kept with prob 1 - rate, scaled by 1/(1 - rate)."""
        if not training or (self.dropout == 0.0 and self.recurrent_dropout == 0.0):
            return None, None
        if self._reuse_dropout_masks and self._dropout_masks is not None:
            m_x, m_h = self._dropout_masks
            if (m_x is None or m_x.shape == (N, D)) and (m_h is None or m_h.shape == (N, self.units)):
                return m_x, m_h
        if self.seed is None:
            gen = backend.rng()                                            # the global one, looked up per call
        else:
            if self._rng is None:
                self._rng = backend.rng(int(self.seed) + 2)
            gen = self._rng

        def draw(rate, shape):
            if rate == 0.0:
                return None
            return ((gen.random(shape) >= rate) / (1.0 - rate)).astype(self.dtype)
        self._dropout_masks = (draw(self.dropout, (N, D)), draw(self.recurrent_dropout, (N, self.units)))
        return self._dropout_masks

    def _project_inputs(self, X, m_x):
        """``(X_d, XW)``: the (dropped-out) inputs and ``X_d · W_x`` for all steps as one GEMM."""
        T, N, D = X.shape
        Xd = X if m_x is None else X * m_x                                 # (T, N, D) x_t ⊙ m_x
        W_x = self._params["kernel"]
        XW = np.matmul(Xd.reshape(T * N, D), W_x, out=buffers.empty((T * N, W_x.shape[1]), W_x.dtype))
        return Xd, XW.reshape(T, N, -1)                                    # (T, N, K·H)

    def _project_inputs_backward(self, dG2, Xd, m_x):
        """Adds dW_x = X_dᵀ · dG and returns dX (T, N, D), through ``X_d · W_x`` and the dropout."""
        T, N, D = Xd.shape
        self._grads["kernel"] += Xd.reshape(T * N, D).T @ dG2              # through x_t · W_x
        dX = np.matmul(dG2, self._params["kernel"].T, out=buffers.empty((T * N, D), dG2.dtype))
        dX = dX.reshape(T, N, D)                                           # through x_t · W_x
        if m_x is not None:
            dX *= m_x                                                      # through x_t ⊙ m_x
        return dX

    @staticmethod
    def _loop_options(**options):
        """Keyword arguments for a time loop, leaving out the unused ones (None), so the plain
        signature (also that of compiled loops) serves the default case."""
        return {k: v for k, v in options.items() if v is not None}

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

    def forward(self, inputs, states=None, training=False):
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
        return cell.get_initial_state(N)
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


def _check_grad(layer, grad, shape, what):
    """``grad`` as an array of ``shape`` in the layer's dtype (None stays None), or a clear error."""
    if grad is None:
        return None
    g = layer._to_array(grad, f"the gradient of the {what}")
    if g.shape != shape:
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): backward got a gradient of shape {g.shape} "
                         f"for the {what}, which has shape {shape}.")
    return g


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
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self._states = None                    # stateful: the carried states (no gradient)
        self._params = cell._params            # the cell's weights are the layer's weights
        self._grads = cell._grads
        self._cache = None

    @property
    def units(self):
        return self.cell.units

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
            states = _check_states(self, initial_state, N)
        X = x.transpose(1, 0, 2)                                        # (T, N, D) view
        if self.go_backwards:
            X = X[::-1]
        self._cache = None                                              # frees the last pass's arrays for reuse
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
        self._cache = (cache, seen, N, T, initial_state is not None)
        if self.stateful:
            self._states = [f.copy() for f in finals]
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
        out_shape = (N, T, Hdim) if self.return_sequences else (N, Hdim)
        d_out = _check_grad(self, d_out, out_shape, "output")
        d_finals = [_check_grad(self, d, (N, Hdim), f"state {name!r}")
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
                      go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls.cell_class is None:
            from .serialization import deserialize
            config["cell"] = deserialize(config["cell"])
        return cls(**config)
