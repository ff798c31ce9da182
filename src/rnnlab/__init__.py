"""rnnlab: recurrent neural networks from their equations, in NumPy, with a Keras-style API.

As with Keras, ``import rnnlab as keras`` gives ``keras.Sequential``, ``keras.Model``, ``keras.Input``,
``keras.layers`` and ``keras.models.load_model``, so Keras code runs with only the import changed.
"""
from . import activations, backend, initializers, layers
from . import callbacks, losses, metrics, models, optimizers, utils
from . import datasets, text
from .layers import Input
from .models import Model, Sequential
from .models.trainer import NonFiniteError, TrainingInterrupted

__version__ = "0.1.0"
