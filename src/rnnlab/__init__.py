"""rnnlab: recurrent neural networks from their equations, in NumPy, with a Keras-style API."""
from . import activations, backend, initializers, layers
from . import callbacks, losses, metrics, models, optimizers, utils
from . import datasets, text

__version__ = "0.1.0"
