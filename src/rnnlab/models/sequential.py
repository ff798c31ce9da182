"""``Sequential``: a plain stack of layers, each feeding the next (Keras's ``models.Sequential``).

Forward runs the layers in order and carries the mask with the data (``Embedding(mask_zero=True)``
makes one; recurrent layers use it; ``return_sequences=False`` ends it)::

    mask = None
    for layer in layers:
        x_in, x = x, layer.forward(x, training=training, mask=mask)
        mask = layer.compute_mask(x_in, mask)

Backward calls each layer's ``backward`` in reverse; a layer that returns ``None`` (Embedding:
token ids have no gradient) ends it.

Example (seed 004, the notes' stacked RNN)::

    from rnnlab import models, layers
    model1 = models.Sequential()
    model1.add(layers.Embedding(100, 128))
    model1.add(layers.SimpleRNN(64, return_sequences=True))
    model1.add(layers.SimpleRNN(32))
    model1.add(layers.Dense(2, activation='softmax'))
    model1.summary()         # 12,800 + 12,352 + 3,104 + 66 = 28,322 parameters
"""
import inspect

from .. import layers as _layers
from ..layers.base import Layer
from ..layers.input_layer import InputLayer
from ..layers.symbolic import SymbolicTensor
from .model import Model


def _takes_mask(layer):
    try:
        return "mask" in inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        return False


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers (same as calling ``add`` on each).
        name: the model's name (``"sequential"``, ``"sequential_1"``, ... if not given).
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._layers = []
        self._build_input_shape = None
        self._output_shapes = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Append a layer to the stack; a leading ``layers.Input(shape)`` sets the input shape (Keras 3)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            if self._layers:
                raise ValueError(f"Sequential model {self.name!r}: layers.Input(...) can only come first, before "
                                 f"any layer; the model already has {[l.name for l in self._layers]}.")
            self._build_input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects an rnnlab layer (e.g. layers.Dense(2)), "
                            f"got {type(layer).__name__}: {layer!r:.80}.")
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"Sequential model {self.name!r} already has a layer named {layer.name!r}; "
                             "layer names must be unique (pass name=... to the layer).")
        self._layers.append(layer)
        self._output_shapes = None

    def pop(self):
        if not self._layers:
            raise ValueError("Sequential.pop: the model has no layers.")
        self._output_shapes = None
        return self._layers.pop()

    # ---- building ---------------------------------------------------------------------------------

    def _default_input_shape(self):
        if not self._layers:
            return None
        first = self._layers[0]
        if first.input_shape is not None:
            return tuple(first.input_shape)
        if isinstance(first, _layers.Embedding):
            return (None, None)                 # Keras 2: Embedding's default input shape is (None,)
        return None

    @property
    def built(self):
        return bool(self._layers) and all(l.built for l in self._layers)

    def build(self, input_shape=None):
        """Create every layer's weights for inputs of ``input_shape`` (batch axis included, may be None)."""
        if not self._layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers; add some before building it.")
        if input_shape is None:
            input_shape = self._build_input_shape or self._default_input_shape()
        if input_shape is None:
            raise ValueError(
                f"Sequential model {self.name!r} has not been built yet and does not know its input shape. "
                "Pass input_shape=... to its first layer, call model.build((None, timesteps, features)), "
                "or train/predict on data first.")
        shape = tuple(input_shape)
        shapes = []
        for layer in self._layers:
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
            shapes.append(shape)
        self._build_input_shape = tuple(input_shape)
        self._output_shapes = shapes

    # ---- forward / backward ----------------------------------------------------------------------

    def _forward(self, x, training=False):
        if not self._layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers; add some first.")
        declared = self._layers[0].input_shape
        if declared is not None:
            self._check_declared_input(x, declared)
            if not self.built:
                self.build()                    # as Keras does: input_shape=... fixes the weights' shapes
        if self._build_input_shape is None:
            self._build_input_shape = (None,) + tuple(x.shape[1:])
        mask = None
        for layer in self._layers:
            x_in = x
            if mask is not None and _takes_mask(layer):
                x = layer.forward(x_in, training=training, mask=mask)
            else:
                x = layer.forward(x_in, training=training)
            mask = layer.compute_mask(x_in, mask)
        self._output_mask = mask
        return x

    def _check_declared_input(self, x, declared):
        """The feature (last) axis of ``x`` must match the first layer's ``input_shape``.

        Only the feature axis is checked: like Keras, a different number of time steps than declared
        is allowed (recurrent layers run over any length). For an Embedding first layer the last
        axis is time, so nothing is checked here (the Embedding checks its ids).
        """
        first = self._layers[0]
        if isinstance(first, _layers.Embedding) or len(declared) < 2 or declared[-1] is None:
            return
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) < 2 or shape[-1] == declared[-1]:
            return
        raise ValueError(
            f"Sequential model {self.name!r} expects inputs with {declared[-1]} features on the last axis "
            f"(its first layer {first.name!r} has input_shape={tuple(declared[1:])}), got inputs of shape "
            f"{tuple(shape)}. Pass data of shape (batch, ..., {declared[-1]}) or build the model with a "
            "different input_shape.")

    def _backward(self, grad, pre_activation=False):
        last = len(self._layers) - 1
        for i in range(last, -1, -1):
            layer = self._layers[i]
            if i == last and pre_activation:
                grad, = layer.backward(grad, pre_activation=True)   # grad is already dL/dz (fused softmax/CE)
            else:
                grad, = layer.backward(grad)                # dL/d(input of layer i)
            if grad is None:                                # Embedding: ids have no gradient
                break
        return grad

    def step(self, x_t, states=None, training=False):
        """One time step through the stack, the states owned by the caller: ``(y_t, new_states)``.

        Args:
            x_t: this step's input: (N,) token ids for an Embedding model, else (N, D).
            states: a list with one entry per layer (None for a layer without state, a list of (N, H)
                arrays for a recurrent layer), as the previous call returned it; None starts from zeros.
        Returns:
            ``y_t`` (the model's output for this step, e.g. (N, V) next-token probabilities) and the
            new states. Stepping a sequence gives the same outputs as ``model(x)`` on all of it.

        Example::

            states = None
            for t in range(T):
                probs, states = model.step(ids[:, t], states)     # O(1) work per token
        """
        if not self._layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers; add some first.")
        states = [None] * len(self._layers) if states is None else list(states)
        if len(states) != len(self._layers):
            raise ValueError(f"Sequential model {self.name!r} has {len(self._layers)} layers, so step() expects "
                             f"states as a list of {len(self._layers)} entries (one per layer, None for a layer "
                             f"without state), got {len(states)}. Pass the states the previous step returned.")
        mask, new_states = None, []
        for layer, state in zip(self._layers, states):
            x_in = x_t
            x_t, state = layer.step(x_in, state, training=training, mask=mask)
            new_states.append(state)
            mask = layer.compute_mask(x_in, mask)
        return x_t, new_states

    def _output_layer(self):
        return self._layers[-1] if self._layers else None

    # ---- summary ------------------------------------------------------------------------------------

    def _summary_rows(self):
        if self._output_shapes is None:
            self.build()
        return list(zip(self._layers, self._output_shapes))

    # ---- configuration ------------------------------------------------------------------------------

    def get_config(self):
        return {"name": self.name,
                "layers": [_layers.serialize(l) for l in self._layers],
                "build_input_shape": None if self._build_input_shape is None else list(self._build_input_shape)}

    @classmethod
    def from_config(cls, config):
        if not isinstance(config.get("layers"), list):
            raise ValueError(f"A Sequential config needs a list 'layers', got {type(config.get('layers')).__name__}.")
        model = cls([_layers.deserialize(spec) for spec in config["layers"]], name=config.get("name"))
        by_name = {layer.name: layer for layer in model.layers}
        for layer in model.all_layers():                  # layers that refer to another by name (TiedDense)
            if hasattr(layer, "link"):
                layer.link(by_name)
        if config.get("build_input_shape") is not None:
            model.build(tuple(config["build_input_shape"]))
        return model

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={[l.name for l in self._layers]}>"

