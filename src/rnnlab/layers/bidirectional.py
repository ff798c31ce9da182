"""Bidirectional: run a recurrent layer forwards and a copy of it backwards, then merge.

    y_fwd = layer(x)                       reads x_1 .. x_T
    y_bwd = backward_layer(x)              go_backwards: reads x_T .. x_1 (and the mask reversed)
    y_bwd is flipped back to x's time order when return_sequences (as Keras does)
    y = merge(y_fwd, y_bwd)                concat | sum | mul | ave | None (a list [y_fwd, y_bwd])

``backward_layer`` defaults to a copy of ``layer``'s config with ``go_backwards`` flipped and
the name ``"backward_" + layer.name`` (its seed, if any, is offset so that the two directions do
not start from identical weights). Weights: the forward layer's, then the backward layer's.
``initial_state``: the forward layer's states, then the backward layer's. With
``return_state=True`` the outputs are ``[y] + forward states + backward states`` (``[y_fwd, y_bwd]
+ ...`` when merge_mode is None).

Example::

    bi = Bidirectional(LSTM(8, return_sequences=True))
    y = bi.forward(np.random.rand(2, 5, 3))           # (2, 5, 16)
"""
import numpy as np

from .base import Layer
from .rnn import RNN
from .serialization import deserialize, serialize

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_BACKWARD_SEED_OFFSET = 7919


class Bidirectional(Layer):
    """Bidirectional wrapper for ``SimpleRNN``, ``LSTM``, ``GRU`` and ``RNN(cell)`` layers.

    Args:
        layer: the forward recurrent layer (an ``RNN`` instance).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None``.
        backward_layer: optional recurrent layer for the backward direction; it must have the
            opposite ``go_backwards`` and the same ``return_sequences``/``return_state`` as ``layer``.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional expects a recurrent layer (SimpleRNN, LSTM, GRU or RNN(cell)), "
                            f"got {type(layer).__name__}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional got merge_mode={merge_mode!r}; expected one of {list(_MERGE_MODES)}.")
        kwargs.setdefault("dtype", layer.dtype.name)
        super().__init__(**kwargs)
        self._user_backward = backward_layer is not None
        if backward_layer is None:
            spec = serialize(layer)
            config = spec["config"]
            config["name"] = "backward_" + layer.name
            config["go_backwards"] = not layer.go_backwards
            backward_layer = deserialize(spec)
            if backward_layer.cell.seed is not None:
                backward_layer.cell.seed = int(backward_layer.cell.seed) + _BACKWARD_SEED_OFFSET
        elif not isinstance(backward_layer, RNN):
            raise TypeError(f"Bidirectional expects backward_layer to be a recurrent layer, "
                            f"got {type(backward_layer).__name__}.")
        else:
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError(f"Bidirectional: backward_layer must have go_backwards={not layer.go_backwards} "
                                 "(the opposite of the forward layer's), "
                                 f"got go_backwards={backward_layer.go_backwards}.")
            for attr in ("return_sequences", "return_state"):
                if getattr(backward_layer, attr) != getattr(layer, attr):
                    raise ValueError(f"Bidirectional: forward and backward layers must have the same {attr}; "
                                     f"got {getattr(layer, attr)} and {getattr(backward_layer, attr)}.")
        if backward_layer.dtype != layer.dtype:
            raise ValueError(f"Bidirectional: forward layer dtype {layer.dtype.name} and backward layer dtype "
                             f"{backward_layer.dtype.name} differ.")
        self.forward_layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def sublayers(self):
        return [self.forward_layer, self.backward_layer]

    # ---- building ------------------------------------------------------------------------------

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            sub._maybe_build(tuple(input_shape))
        self._link_weights()
        self.built = True

    def _link_weights(self):
        """The wrapper's weights are the sublayers' arrays (forward's first), shared, not copied."""
        self._params, self._grads = {}, {}
        for sub in (self.forward_layer, self.backward_layer):
            for k in sub._params:
                self._params[f"{sub.name}/{k}"] = sub._params[k]
                self._grads[f"{sub.name}/{k}"] = sub._grads[k]

    def compute_output_shape(self, input_shape):
        fwd = self.forward_layer.compute_output_shape(input_shape)
        out, states = (fwd[0], fwd[1:]) if self.return_state else (fwd, [])
        if self.merge_mode == "concat":
            outs = [tuple(out[:-1]) + (2 * out[-1],)]
        elif self.merge_mode is None:
            outs = [tuple(out), tuple(out)]
        else:
            outs = [tuple(out)]
        if self.return_state:
            return outs + list(states) + list(states)
        return outs[0] if len(outs) == 1 else outs

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outs + [None] * (2 * len(self.forward_layer.state_size))
        return outs[0] if len(outs) == 1 else outs

    def reset_states(self):
        """Forget the carried states of stateful forward and backward layers."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    # ---- forward / backward ---------------------------------------------------------------------

    def forward(self, inputs, training=False, mask=None, initial_state=None):
        x = self.forward_layer._check_inputs(inputs)
        self._maybe_build(x.shape)
        n_f, n_b = len(self.forward_layer.state_size), len(self.backward_layer.state_size)
        s_f = s_b = None
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) != n_f + n_b:
                got = len(initial_state) if isinstance(initial_state, (list, tuple)) else type(initial_state).__name__
                raise ValueError(f"Layer {self.name!r} (Bidirectional) expects initial_state as a list of "
                                 f"{n_f + n_b} arrays (the forward layer's {n_f} states, then the backward "
                                 f"layer's {n_b}), got {got}.")
            s_f, s_b = list(initial_state[:n_f]), list(initial_state[n_f:])
        out_f = self.forward_layer.forward(x, training=training, mask=mask, initial_state=s_f)
        out_b = self.backward_layer.forward(x, training=training, mask=mask, initial_state=s_b)
        if self.return_state:
            (y_f, *st_f), (y_b, *st_b) = out_f, out_b
        else:
            y_f, y_b, st_f, st_b = out_f, out_b, [], []
        if self.return_sequences:
            y_b = y_b[:, ::-1]                                   # back to the inputs' time order
        if self.merge_mode == "concat":
            y = [np.concatenate([y_f, y_b], axis=-1)]
        elif self.merge_mode == "sum":
            y = [y_f + y_b]
        elif self.merge_mode == "mul":
            y = [y_f * y_b]
        elif self.merge_mode == "ave":
            y = [(y_f + y_b) * 0.5]
        else:
            y = [y_f, np.ascontiguousarray(y_b)]
        self._save(y_f=y_f, y_b=y_b, n_f=n_f)
        if self.return_state:
            return y + st_f + st_b
        return y[0] if len(y) == 1 else y

    def backward(self, grad_outputs):
        """``[dx]``, or ``[dx, d_states...]`` (forward layer's, then backward layer's) when the call
        had an ``initial_state``."""
        call = self._restore()
        y_f, y_b, n_f = call.y_f, call.y_b, call.n_f
        n_out = 2 if self.merge_mode is None else 1
        if self.return_state or self.merge_mode is None:
            n_expected = n_out + (2 * n_f if self.return_state else 0)
            if not isinstance(grad_outputs, (list, tuple)) or len(grad_outputs) != n_expected:
                raise ValueError(f"Layer {self.name!r} (Bidirectional) expects a list of {n_expected} gradients "
                                 "aligned with its outputs (None for an unused one).")
            grads = list(grad_outputs)
        else:
            grads = [grad_outputs]
        d_outs, d_states = grads[:n_out], grads[n_out:]
        if self.merge_mode is None:
            dy_f, dy_b = d_outs
        else:
            dy = d_outs[0]
            if dy is None:
                dy_f = dy_b = None
            else:
                dy = np.asarray(dy, dtype=self.dtype)
                if self.merge_mode == "concat":
                    H = y_f.shape[-1]
                    dy_f, dy_b = dy[..., :H], dy[..., H:]                 # through the concatenation
                elif self.merge_mode == "sum":
                    dy_f = dy_b = dy                                      # through y_f + y_b
                elif self.merge_mode == "mul":
                    dy_f, dy_b = dy * y_b, dy * y_f                       # through y_f ⊙ y_b
                else:
                    dy_f = dy_b = dy * 0.5                                # through (y_f + y_b) / 2
        if dy_b is not None and self.return_sequences:
            dy_b = np.asarray(dy_b)[:, ::-1]                              # through the flip back in time
        g_f, g_b = [dy_f], [dy_b]
        if self.return_state:
            g_f += d_states[:n_f]
            g_b += d_states[n_f:]
        else:
            g_f, g_b = g_f[0], g_b[0]
        dx_f, *ds_f = self.forward_layer.backward(g_f)
        dx_b, *ds_b = self.backward_layer.backward(g_b)
        return [dx_f + dx_b] + ds_f + ds_b                                # x feeds both directions

    # ---- config ----------------------------------------------------------------------------------

    def get_config(self):
        config = {**super().get_config(), "layer": serialize(self.forward_layer), "merge_mode": self.merge_mode}
        config["backward_layer"] = serialize(self.backward_layer) if self._user_backward else None
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)

