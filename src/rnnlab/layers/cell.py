"""``RNNCellBase``: what every recurrent cell shares (weights, dropout masks, input projection, one step).

A cell knows one recurrence. It exposes the whole-sequence loops that ``RNN`` drives and a one-step
API for decoding, with the state owned by the caller::

    H, finals, cache = cell.forward_sequence(X, states, mask, training)   # X (T, N, D) time-major
    dX, d_states0 = cell.backward_sequence(dH, d_finals, cache)           # BPTT, adds weight grads
    cell.backward_sequence(dH, d_finals, cache, dh_out=buf)               # also records dL/dh_t
    h_t, states, cache = cell.step(x_t, states, training=False)           # one step, x_t (N, D)
    dx_t, d_states = cell.step_backward(dh_t, d_states, cache)            # its backward

Example::

    cell = LSTMCell(4)
    states = cell.get_initial_state(2)                  # [h, c], zeros (2, 4)
    h, states, cache = cell.step(np.ones((2, 3)), states)
"""
import numpy as np

from .. import activations, backend, buffers
from .base import Layer
from .block_norm import BlockNorm
from .checks import check_states, positive_int, rate
from . import checks as _checks


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
        self.units = positive_int(units, "units", cls)
        self.activation = activation or "linear"
        self.f, self.f_backward = activations.get(self.activation)
        self.use_bias = _checks.flag(use_bias, "use_bias", type(self).__name__)
        self.kernel_initializer = _checks.initializer(kernel_initializer, "kernel_initializer", cls)
        self.recurrent_initializer = _checks.initializer(recurrent_initializer, "recurrent_initializer", cls)
        self.bias_initializer = _checks.initializer(bias_initializer, "bias_initializer", type(self).__name__)
        self.dropout = rate(dropout, "dropout", cls)
        self.recurrent_dropout = rate(recurrent_dropout, "recurrent_dropout", cls)
        self.layer_norm = _checks.flag(layer_norm, "layer_norm", type(self).__name__)
        self.seed = seed
        self._rng = None                       # the cell's own dropout generator, made on first use
        self._dropout_masks = None
        self._reuse_dropout_masks = False
        self._given_masks = None               # step(): the caller's masks for this sequence

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
        if self._given_masks is not None:
            return self._given_masks
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

    records_hidden_gradients = False   # True when backward_sequence takes ``dh_out`` (the built-in cells)

    def backward_sequence(self, dH, d_finals, cache, dh_out=None):
        """BPTT: ``dH`` (T, N, H) and final-state gradients (list, None for zero) to
        ``(dX (T, N, D), [d_state0, ...])``; adds the weight gradients into ``self._grads``.

        ``dh_out``: None, or a (T, N, H) array that receives dL/dh_t at every step as the time loop
        holds it (for ``rnnlab.diagnostics``; a cell that can fill it sets
        ``records_hidden_gradients = True``). It forces the NumPy loop; None costs nothing."""
        raise NotImplementedError

    # ---- one step, the state owned by the caller ----------------------------------------------

    def dropout_masks(self, batch_size, training=True):
        """``(m_x (N, D) or None, m_h (N, H) or None)``: this cell's variational dropout masks for one
        sequence of ``batch_size`` rows. Draw them once per sequence and pass them to every ``step``
        of it (the same masks at every step, as the whole-sequence pass uses)."""
        if not self.built:
            raise ValueError(f"Layer {self.name!r} is not built yet; run one step (or build it) first.")
        return self._draw_dropout_masks(int(batch_size), self.input_dim, training)

    def step(self, x_t, states=None, training=False, mask_t=None, dropout_masks=None):
        """One step of the recurrence: ``(h_t (N, H), new_states, cache)``.

        Args:
            x_t: (N, D) inputs of this step.
            states: list of (N, H) arrays (``[h]``, LSTM ``[h, c]``); None means zeros. Owned by the
                caller: the cell keeps nothing between steps.
            training: apply dropout (then ``dropout_masks`` is required when the cell has dropout).
            mask_t: (N,) bool or None; rows with False carry their states over unchanged
                (``h_t = h_{t-1}``), as a masked step of the whole-sequence pass does.
            dropout_masks: from ``cell.dropout_masks(N)``, drawn once per sequence.
        Returns:
            ``h_t``, ``new_states`` (list, LSTM ``[h_t, c_t]``) and ``cache``, an opaque record that
            ``step_backward`` needs (keep it only if you will backpropagate).

        Example::

            cell = GRUCell(8)
            states = None
            for x_t in xs:                                  # xs: (T, N, D)
                h, states, _ = cell.step(x_t, states)
        """
        x = self._to_array(x_t)
        self._check_rank(x, 2, hint=" (batch, features) for one step")
        self._maybe_build(x.shape)
        N = x.shape[0]
        if x.shape[1] != self.input_dim:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) was built for {self.input_dim} "
                             f"input features, got inputs of shape {x.shape}.")
        states = check_states(self, states, N, "states")
        M = None
        if mask_t is not None:
            M = np.asarray(mask_t, dtype=bool)
            if M.shape != (N,):
                raise ValueError(f"Layer {self.name!r}: mask_t must have shape (batch,) = {(N,)}, got {M.shape}.")
            M = M[None]                                                        # (1, N)
        uses_dropout = training and (self.dropout > 0.0 or self.recurrent_dropout > 0.0)
        if uses_dropout and dropout_masks is None:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) has dropout, and step(training=True) needs the "
                "masks of the whole sequence: draw them once with masks = cell.dropout_masks(batch_size) and "
                "pass dropout_masks=masks to every step (or step with training=False).")
        self._given_masks = tuple(dropout_masks) if uses_dropout else None
        try:
            _, finals, cache = self.forward_sequence(np.ascontiguousarray(x[None]), states, M, training)
        finally:
            self._given_masks = None
        return finals[0], finals, cache

    def step_backward(self, dh_t, d_states, cache):
        """The backward of one ``step``: ``(dx_t (N, D), [d_state_{t-1}, ...])``; adds the weight
        gradients into the cell.

        Args:
            dh_t: dL/dh_t (N, H) from this step's output, or None.
            d_states: dL/d(new_states) from the next step (list aligned with the states, None for zero).
            cache: the ``cache`` that ``step`` returned.
        """
        n = len(self.state_names)
        d_finals = [None] * n if d_states is None else list(d_states)
        if len(d_finals) != n:
            raise ValueError(f"Layer {self.name!r}: step_backward expects {n} state gradient(s) "
                             f"[{', '.join(self.state_names)}] (None for zero), got {len(d_finals)}.")
        if dh_t is None:
            ref = next((d for d in d_finals if d is not None), None)
            if ref is None:
                raise ValueError(f"Layer {self.name!r}: step_backward got no gradient at all (dh_t and every "
                                 "state gradient None); pass dh_t or a state gradient.")
            dh = np.zeros((1,) + np.shape(ref), dtype=self.dtype)
        else:
            dh = np.asarray(dh_t, dtype=self.dtype)[None]                      # (1, N, H)
        dX, d0 = self.backward_sequence(dh, d_finals, cache)
        return dX[0], list(d0)

    # ---- one step, Keras-like (per-call records) ----------------------------------------------

    def __call__(self, inputs, states=None, **kwargs):
        return self.forward(inputs, states, **kwargs)

    def forward(self, inputs, states=None, training=False):
        """One step, as Keras's ``cell(x_t, states)``: ``(h_t, new_states)``; the record for
        ``backward`` is kept on the cell (see ``Layer``). Prefer ``step`` when you own the states."""
        x = self._to_array(inputs)
        if x.ndim == 2:
            self._maybe_build(x.shape)
        masks = self.dropout_masks(x.shape[0], training) if training and x.ndim == 2 else None
        h, finals, cache = self.step(x, states, training=training, dropout_masks=masks)
        self._save(cache=cache)
        return h, finals

    def backward(self, grad_outputs, grad_states=None):
        """One step back: ``[dx_t (N, D), d_state_{t-1}, ...]`` (one entry per input of the call)."""
        dx, d0 = self.step_backward(grad_outputs, grad_states, self._restore().cache)
        return [dx] + d0

    @property
    def input_dim(self):
        return self._params["kernel"].shape[0]
