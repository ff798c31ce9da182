"""Keras-style models: ``Sequential``, ``Model(inputs, outputs)`` (functional), the ``Model`` base with the
training loop, saving and loading."""
from .model import Model, NotCompiledError
from .saving import load_model, register_model_class, save_model
from .sequential import Sequential
from .trainer import NonFiniteError, TrainingInterrupted
from .functional import Functional

register_model_class(Sequential)
register_model_class(Functional)
