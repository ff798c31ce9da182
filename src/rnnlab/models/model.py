"""``Model``: the base of every rnnlab model: the layers, their weights and gradients, saving; the
training loop comes from ``Trainer`` (``models/trainer.py``).

A subclass supplies the network. What it implements:

    layers                        property: the list of layers (weights, saving, summary)
    _forward(x, training)         the outputs for inputs ``x`` (an array, or a list of arrays);
                                  sets ``self._output_mask`` (an (N, T) mask of the output or None)
    _backward(grad, pre_activation=False)
                                  backpropagates dL/d(outputs) through the layers in reverse;
                                  ``pre_activation=True`` means ``grad`` is already dL/dz of the
                                  output layer's pre-activation (the fused softmax/CE gradient
                                  p - y): pass it on as ``out.backward(grad, pre_activation=True)``
    _output_layer()               the layer that produces the output (its ``output_activation()``
                                  decides whether the loss fuses with it), or None
    get_config() / from_config()  for saving (``Sequential`` shows how)

Example (a custom model; ``Trainer`` gives it compile/fit/evaluate/predict)::

    class Wide(models.Model):
        def __init__(self):
            super().__init__()
            self.rnn, self.out = layers.LSTM(8), layers.Dense(3, activation="softmax")
        @property
        def layers(self):
            return [self.rnn, self.out]
        def _forward(self, x, training=False):
            self._output_mask = None
            return self.out.forward(self.rnn.forward(x, training=training), training=training)
        def _backward(self, grad, pre_activation=False):
            dh, = self.out.backward(grad, pre_activation=pre_activation)
            self.rnn.backward(dh)
        def _output_layer(self):
            return self.out
"""
from . import summary as _summary
from .trainer import NotCompiledError, Trainer
from .traversal import all_layers, unique_parameters

__all__ = ["Model", "NotCompiledError"]


class Model(Trainer):
    """Base class of rnnlab models: weights, compile, fit, evaluate, predict, save.

    ``Model(inputs, outputs)`` (symbolic tensors from ``layers.Input``) makes a functional model
    (``models/functional.py``), as in Keras; subclass ``Model`` for a model written by hand.
    """

    functional_class = None        # set by models/functional.py when it is imported (no import back from here)

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            if Model.functional_class is None:
                raise RuntimeError("Model(inputs, outputs) needs rnnlab.models.functional; import rnnlab.models.")
            return super().__new__(Model.functional_class)
        return super().__new__(cls)

    def __init__(self, name=None):
        from ..layers.base import _auto_name
        self.name = name or _auto_name(type(self).__name__)
        self.optimizer = None
        self.loss = None
        self.compiled_metrics = []
        self._compile_config = None
        self.stop_training = False
        self.history = None
        self._output_mask = None
        self.gradient_hooks = []       # callables hook(model), run between gradients and the update
        self._flat_gradients = None

    # ---- what subclasses provide ------------------------------------------------------------

    @property
    def layers(self):
        raise NotImplementedError

    def _forward(self, x, training=False):
        raise NotImplementedError

    def _backward(self, grad, pre_activation=False):
        raise NotImplementedError

    def _output_layer(self):
        return None

    def _multi_input(self):
        return False

    def __call__(self, x, training=False):
        return self._forward(x, training=training)

    def step(self, x_t, states=None, training=False):
        """One time step through the model with the states owned by the caller (``Sequential.step``)."""
        raise NotImplementedError(f"{type(self).__name__} has no one-step API; Sequential models have "
                                  "model.step(x_t, states).")

    # ---- traversal ----------------------------------------------------------------------------

    def sublayers(self):
        """The model's top-level layers (``layers``); ``all_layers()`` goes inside them too."""
        return list(self.layers)

    def get_layer(self, name=None, index=None):
        """A top-level layer by name or by position, as Keras's ``model.get_layer``."""
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Model {self.name!r} has {len(layers)} layers; get_layer got index={index!r}.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"Model {self.name!r} has no layer named {name!r}; its layers are "
                         f"{[l.name for l in layers]}.")

    def all_layers(self):
        """Every layer of the model, wrappers' inner layers and cells included, each once."""
        return all_layers(self.layers)

    def clear_calls(self):
        """Forget every layer's kept forward records."""
        for layer in self.layers:
            layer.clear_calls()

    def reset_states(self):
        """Forget the states that stateful recurrent layers carry (Keras's ``model.reset_states()``)."""
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    # ---- weights ------------------------------------------------------------------------------

    def parameters(self):
        """``[(param, grad), ...]`` of every trainable weight, each array once (tied weights too)."""
        return unique_parameters(self.layers)

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [p for p, _ in self.parameters()]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        if not all(layer.built for layer in self.layers) and hasattr(self, "build"):
            self.build()
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model {self.name!r} has {expected} weight arrays, but set_weights got {len(weights)}. "
                             "Pass the list that get_weights() returns.")
        i = 0
        for layer in self.layers:
            n = len(layer.weights)
            if n:
                layer.set_weights(weights[i:i + n])
            i += n

    def zero_grad(self):
        if self._flat_gradients is not None:
            self._flat_gradients.fill(0.0)
            return
        for layer in self.layers:
            layer.zero_grad()

    def flat_gradients(self):
        """All trainable gradients as one 1-D array: the layers' gradient arrays become views into it
        (made on the first call; see ``models/gradients.py``). A distributed strategy sums this
        buffer across processes in a ``gradient_hooks`` hook."""
        if self._flat_gradients is None:
            from .gradients import flatten_gradients
            if not all(layer.built for layer in self.layers):
                raise ValueError(f"Model {self.name!r} is not built yet; build it (or train one batch) before "
                                 "asking for its flat gradient buffer.")
            self._flat_gradients = flatten_gradients(self.layers)
        return self._flat_gradients

    def count_params(self):
        return int(sum(layer.count_params() for layer in self.layers))

    # ---- summary --------------------------------------------------------------------------------

    def _summary_rows(self):
        """``[(layer, output_shape or None), ...]`` for ``summary``; subclasses that know shapes override it."""
        return [(layer, None) for layer in self.layers]

    def summary(self, line_length=80, print_fn=None):
        """Print a Keras-style table: layer (type), output shape, parameter count, and totals."""
        _summary.summary(self, line_length, print_fn)

    # ---- saving ---------------------------------------------------------------------------------------

    def save(self, path, metadata=None, extra_files=None):
        """Write ``path/config.json`` and ``path/model.safetensors`` (atomic; see ``models.saving``).

        ``metadata`` (a JSON-able dict) is stored in config.json under ``"metadata"``; tasks put
        ``{"task": "sentiment", ...}`` there so that ``rnnlab predict MODEL_DIR`` can dispatch on it.
        ``extra_files`` (``{name: bytes}``): a task's own files, replaced together with the model as one unit.
        """
        from .saving import save_model
        save_model(self, path, metadata=metadata, extra_files=extra_files)

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError
