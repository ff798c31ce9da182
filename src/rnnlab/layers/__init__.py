"""rnnlab layers: each owns its forward pass and its hand-derived backward pass."""
from .base import Layer, recording
from .input_layer import Input, InputLayer
from .symbolic import SymbolicTensor
from .dense import Dense
from .embedding import Embedding
from .serialization import deserialize, serialize
from .rnn import RNN
from .simple_rnn import SimpleRNN, SimpleRNNCell
from .lstm import LSTM, LSTMCell
from .gru import GRU, GRUCell
from .bidirectional import Bidirectional
from .conv1d import Conv1D
from .flatten import Flatten
from .global_pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from .pooling import AveragePooling1D, MaxPooling1D
from .dropout import Dropout
from .normalization import LayerNormalization
from .time_distributed import TimeDistributed
from .attention import AdditiveAttention, Attention
from .merge import Add, Average, Concatenate, Dot, Maximum, Multiply, Subtract
from .reshaping import Permute, RepeatVector, Reshape
from .core import Activation, Masking
from .lambda_layer import Lambda
from .tied import TiedDense
