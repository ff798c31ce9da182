"""Every error a user can trigger on the recurrent layers says what was passed and what was expected."""
import numpy as np
import pytest

from rnnlab.layers import GRU, LSTM, RNN, Bidirectional, Dense, GRUCell, LSTMCell, SimpleRNN


@pytest.fixture
def lstm():
    layer = LSTM(4, name="enc")
    layer.forward(np.ones((2, 3, 5)))
    return layer


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"'enc' \(LSTM\) expects inputs of rank 3 \(batch, timesteps, features\), "
                                         r"got shape \(2, 3\) \(rank 2\)"):
        LSTM(4, name="enc").forward(np.ones((2, 3)))


def test_wrong_feature_size_after_build(lstm):
    with pytest.raises(ValueError, match=r"built for 5 input features, got inputs"
                                         r" of shape \(2, 3, 6\) \(last axis 6\)"):
        lstm.forward(np.ones((2, 3, 6)))


def test_mask_shape(lstm):
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\) = \(2, 3\), got \(2, 4\)"):
        lstm.forward(np.ones((2, 3, 5)), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"mask must have shape .* got \(2, 3, 1\)"):
        lstm.forward(np.ones((2, 3, 5)), mask=np.ones((2, 3, 1), bool))
    with pytest.raises(TypeError, match="mask must be a boolean array, got dtype <U1"):
        lstm.forward(np.ones((2, 3, 5)), mask=np.array([["a"] * 3] * 2))


def test_initial_state_count_and_shapes(lstm):
    x = np.ones((2, 3, 5))
    with pytest.raises(ValueError, match=r"expects 2 initial_state array\(s\) \[h, c\]"
                                         r" of shapes \[\(2, 4\), \(2, 4\)\], got 1"):
        lstm.forward(x, initial_state=[np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"initial_state 'c' must have shape \(2, 4\) \(batch, units\), got \(3, 4\)"):
        lstm.forward(x, initial_state=[np.zeros((2, 4)), np.zeros((3, 4))])
    with pytest.raises(TypeError, match="initial_state must be a list of arrays, got dict"):
        lstm.forward(x, initial_state={"h": 0})
    with pytest.raises(ValueError, match=r"initial_state 'h' must have shape \(2, 4\) \(batch, units\), got \(2, 5\)"):
        GRU(4).forward(x, initial_state=[np.zeros((2, 5))])


@pytest.mark.parametrize("cls, cell", [(SimpleRNN, "SimpleRNNCell"), (LSTM, "LSTMCell"), (GRU, "GRUCell")])
@pytest.mark.parametrize("units", [0, -3, 2.5, True])
def test_non_positive_units(cls, cell, units):
    with pytest.raises(ValueError, match=rf"{cell} expects a positive integer 'units', got {units!r}"):
        cls(units)


def test_unknown_activation_and_merge_mode():
    with pytest.raises(ValueError, match="Unknown activation 'swishy'"):
        SimpleRNN(3, activation="swishy")
    with pytest.raises(ValueError, match="Unknown activation 'gelu2'"):
        LSTM(3, recurrent_activation="gelu2")
    with pytest.raises(ValueError, match=r"merge_mode='max'; expected one of \['concat', 'sum', 'mul', 'ave', None\]"):
        Bidirectional(LSTM(3), merge_mode="max")


def test_set_weights_count_and_shapes(lstm):
    with pytest.raises(ValueError, match=r"expects 3 weight arrays \[\(5, 16\), \(4,"
                                         r" 16\), \(16,\)\], but set_weights got 2"):
        lstm.set_weights([np.zeros((5, 16)), np.zeros((4, 16))])
    with pytest.raises(ValueError, match=r"weight 'recurrent_kernel' has shape \(4, 16\), but"
                                         r" set_weights got an array of shape \(16, 4\)"):
        lstm.set_weights([np.zeros((5, 16)), np.zeros((16, 4)), np.zeros(16)])
    gru = GRU(2)
    gru.forward(np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match=r"weight 'bias' has shape \(2, 6\), but set_weights"
                                         r" got an array of shape \(6,\)"):
        gru.set_weights([np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6)])
    bi = Bidirectional(SimpleRNN(2))
    bi.forward(np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match=r"expects 6 weight arrays .* but set_weights got 3"):
        bi.set_weights([np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2)])


def test_backward_before_forward():
    with pytest.raises(ValueError, match=r"'dec': backward\(\) called before forward\(\); run forward first"):
        GRU(3, name="dec").backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        Bidirectional(GRU(3)).backward(np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        LSTMCell(3).backward(np.ones((2, 3)))


def test_return_state_backward_needs_a_list(lstm):
    layer = LSTM(4, return_state=True)
    layer.forward(np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match=r"return_state=True, so backward expects a list"
                                         r" of 3 gradients aligned with \[output, h, c\]"):
        layer.backward(np.ones((2, 4)))


def test_wrappers_reject_non_recurrent_things():
    with pytest.raises(TypeError, match="RNN expects a cell such as SimpleRNNCell.*got Dense"):
        RNN(Dense(3))
    with pytest.raises(TypeError, match=r"Bidirectional expects a recurrent layer .* got Dense"):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match="backward_layer must have go_backwards=True"):
        Bidirectional(GRU(3), backward_layer=GRU(3))
    with pytest.raises(ValueError, match="same return_sequences; got True and False"):
        Bidirectional(GRU(3, return_sequences=True), backward_layer=GRU(3, go_backwards=True))


def test_bidirectional_initial_state_count():
    bi = Bidirectional(LSTM(3))
    with pytest.raises(ValueError, match=r"expects initial_state as a list of 4 arrays \(the forward layer's 2 states, "
                                         r"then the backward layer's 2\), got 2"):
        bi.forward(np.ones((2, 3, 5)), initial_state=[np.zeros((2, 3))] * 2)


def test_cell_step_rank():
    with pytest.raises(ValueError, match=r"expects inputs of rank 2 \(batch, features\)"
                                         r" for one step, got shape \(2, 3, 4\)"):
        GRUCell(3)(np.ones((2, 3, 4)))


def test_backward_gradient_shapes():
    layer = GRU(3, return_sequences=True, return_state=True, name="g")
    layer.forward(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"'g' \(GRU\): backward got a gradient of shape \(2, 3\) for the output, "
                                         r"which has shape \(2, 4, 3\)"):
        layer.backward([np.ones((2, 3)), None])
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) for the state 'h', which has shape \(2, 3\)"):
        layer.backward([None, np.ones(3)])


def test_empty_sequence():
    with pytest.raises(ValueError, match=r"got inputs of shape \(2, 0, 5\) with no time steps"):
        LSTM(3).forward(np.ones((2, 0, 5)))
