import numpy as np
import pytest

from rnnlab.text import pad_sequences

SEQS = [[1, 2, 3, 4], [5], [], [6, 7]]


def test_keras_defaults_pad_and_truncate_at_the_front():
    x = pad_sequences(SEQS, maxlen=3)
    assert x.dtype == np.int32
    np.testing.assert_array_equal(x, [[2, 3, 4], [0, 0, 5], [0, 0, 0], [0, 6, 7]])


@pytest.mark.parametrize("padding, truncating, expected", [
    ("post", "post", [[1, 2, 3], [5, 0, 0], [0, 0, 0], [6, 7, 0]]),
    ("pre", "post", [[1, 2, 3], [0, 0, 5], [0, 0, 0], [0, 6, 7]]),
    ("post", "pre", [[2, 3, 4], [5, 0, 0], [0, 0, 0], [6, 7, 0]]),
])
def test_padding_and_truncating_sides(padding, truncating, expected):
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=3, padding=padding, truncating=truncating), expected)


def test_maxlen_none_uses_longest_and_value_dtype():
    x = pad_sequences(SEQS, value=-1, dtype="int64")
    assert x.shape == (4, 4) and x.dtype == np.int64
    np.testing.assert_array_equal(x[1], [-1, -1, -1, 5])
    np.testing.assert_array_equal(pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32"), [[0, 0.5, 1.5]])
    assert pad_sequences([], maxlen=5).shape == (0, 5)
    assert pad_sequences(SEQS, maxlen=0).shape == (4, 0)


def test_sequences_of_vectors():
    seqs = [np.ones((3, 2)), np.full((1, 2), 2.0)]
    x = pad_sequences(seqs, maxlen=2, dtype="float64", padding="post")
    assert x.shape == (2, 2, 2)
    np.testing.assert_array_equal(x[1], [[2, 2], [0, 0]])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match=r'padding=\'middle\'; expected "pre" or "post"'):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match=r'truncating=\'both\'; expected "pre" or "post"'):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match=r"maxlen=-1; expected a non-negative integer"):
        pad_sequences(SEQS, maxlen=-1)
    with pytest.raises(ValueError, match=r"item 1 is int 5. Encode text to ids first"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match=r"item 0 is str 'a b'"):
        pad_sequences(["a b"])
    with pytest.raises(ValueError, match=r"str value='x' with dtype='int32'"):
        pad_sequences(SEQS, value="x")
    with pytest.raises(ValueError, match=r"sequence 1 has elements of shape \(3,\)"):
        pad_sequences([np.ones((2, 2)), np.ones((2, 3))])
