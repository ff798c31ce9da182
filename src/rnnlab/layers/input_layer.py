"""``Input``: the entry point of a functional model, a symbolic tensor of a given shape and dtype.

    x = layers.Input(shape=(None, 8))             # (batch, any number of steps, 8 features)
    ids = layers.Input(shape=(20,), dtype="int32", name="tokens")

``Input(...)`` makes an ``InputLayer`` and returns its output, a ``SymbolicTensor`` with the batch
axis first (``None``). The ``InputLayer`` is listed among a functional model's layers, as in Keras;
at run time it checks the array it receives (rank and known sizes) and passes it on.
"""
import numpy as np

from .. import backend
from .base import Layer
from .symbolic import Node, SymbolicTensor


class InputLayer(Layer):
    """The layer behind ``Input``: no weights; checks its array and passes it through.

    Args:
        shape: the shape of one sample (no batch axis); ``None`` for a size known at run time only.
        batch_size: a fixed batch size, or None.
        dtype: the dtype of the arrays (``backend.floatx()`` if not given; ``"int32"`` for token ids).
        name: the input's name (used for dict inputs of ``fit``/``predict``).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if shape is None or isinstance(shape, (int, np.integer)):
            shape = () if shape is None else (shape,)
        if not isinstance(shape, (list, tuple)) or any(
                d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0)
                for d in shape):
            raise ValueError(f"Input expects shape as a tuple of positive ints or None (one sample, no batch axis), "
                             f"got {shape!r}; e.g. Input(shape=(None, 8)).")
        try:
            self.input_dtype = np.dtype(dtype or backend.floatx())
        except TypeError:
            raise TypeError(f"Input got dtype={dtype!r}; expected a NumPy dtype name such as 'float32' or "
                            "'int32'.") from None
        self.sample_shape = tuple(None if d is None else int(d) for d in shape)
        self.batch_size = batch_size
        self.built = True
        node = Node(self, None)
        node.outputs.append(SymbolicTensor((batch_size,) + self.sample_shape, self.input_dtype, node, 0, self.name))

    def compute_output_shape(self, input_shape):
        return self.output.shape

    def forward(self, inputs, training=False, mask=None):
        try:
            x = np.asarray(inputs)
        except Exception as e:
            raise TypeError(f"Input {self.name!r} could not turn its data into an array ({e}).") from None
        want = self.output.shape
        if x.ndim != len(want) or any(w is not None and w != d for w, d in zip(want, x.shape)):
            raise ValueError(f"Input {self.name!r} expects arrays of shape {want} (None: any size), got {x.shape}.")
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise TypeError(f"Input {self.name!r} expects numeric data, got an array of dtype {x.dtype}.")
        if np.issubdtype(self.input_dtype, np.floating) and not np.issubdtype(x.dtype, np.floating):
            x = x.astype(self.input_dtype)
        return x

    def backward(self, grad_outputs):
        return [grad_outputs]

    def get_config(self):
        return {"name": self.name, "shape": list(self.sample_shape), "batch_size": self.batch_size,
                "dtype": self.input_dtype.name}


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """A symbolic input of ``shape`` (one sample, no batch axis) for a functional model, as Keras's ``Input``.

    Example::

        x = layers.Input((None, 8))
        y = layers.LSTM(4)(x)
        model = models.Model(x, y)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output
