"""rnnlab layers: each owns its forward pass and its hand-derived backward pass."""
from .base import Layer
from .dense import Dense
from .embedding import Embedding
from .serialization import deserialize, serialize
from .conv1d import Conv1D
