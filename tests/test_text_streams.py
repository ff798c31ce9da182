import numpy as np
import pytest

from rnnlab.text import batchify, num_windows, windows


def test_batchify_cuts_contiguous_streams_and_drops_the_remainder():
    s = batchify(np.arange(23), 4)
    assert s.shape == (4, 5)
    np.testing.assert_array_equal(s[0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(s[3], [15, 16, 17, 18, 19])
    np.testing.assert_array_equal(s.ravel(), np.arange(20))          # rows read in order = corpus in order
    assert batchify([5, 6, 7, 8], 2).tolist() == [[5, 6], [7, 8]]
    ids = np.arange(10, dtype=np.int32)
    out = batchify(ids, 1)
    assert out.dtype == np.int32 and out.shape == (1, 10) and np.shares_memory(out, ids)


def test_batchify_errors():
    with pytest.raises(ValueError, match=r"batch_size=0; expected an integer >= 1"):
        batchify(np.arange(10), 0)
    with pytest.raises(ValueError, match=r"batch_size=2.5; expected an integer >= 1"):
        batchify(np.arange(10), 2.5)
    with pytest.raises(ValueError, match=r"corpus of 7 tokens is too short for 4 streams: need at least 2 tokens "
                                         r"per stream \(8 in all\)"):
        batchify(np.arange(7), 4)
    with pytest.raises(ValueError, match=r"expects a 1-D sequence of token ids.*got shape \(2, 5\)"):
        batchify(np.arange(10).reshape(2, 5), 2)
    with pytest.raises(ValueError, match=r"integer token ids, got dtype float64"):
        batchify(np.linspace(0, 1, 10), 2)


@pytest.mark.parametrize("batch_size,num_steps,drop_last", [(3, 4, False), (3, 4, True), (2, 1, False),
                                                             (5, 7, False), (4, 3, True), (1, 50, False)])
def test_every_token_once_per_epoch_in_order(batch_size, num_steps, drop_last):
    ids = np.arange(103)
    streams = batchify(ids, batch_size)
    B, L = streams.shape
    pairs = windows(streams, num_steps, drop_last=drop_last)
    assert len(pairs) == num_windows(L, num_steps, drop_last)
    for x, y in pairs:
        assert x.shape == y.shape and x.shape[0] == B and 1 <= x.shape[1] <= num_steps
        np.testing.assert_array_equal(y, x + 1)                    # targets are the inputs shifted by one
    # each stream, rebuilt from the x columns in order plus the last y, is read exactly once
    rebuilt = np.concatenate([x for x, _ in pairs] + [pairs[-1][1][:, -1:]], axis=1)
    covered = sum(x.shape[1] for x, _ in pairs)
    np.testing.assert_array_equal(rebuilt, streams[:, :covered + 1])
    targets = np.concatenate([y for _, y in pairs], axis=1)
    np.testing.assert_array_equal(targets, streams[:, 1:covered + 1])
    if drop_last:
        assert covered == (L - 1) // num_steps * num_steps
        assert all(x.shape[1] == num_steps for x, _ in pairs)
    else:
        assert covered == L - 1                                   # every target column exactly once
        np.testing.assert_array_equal(np.sort(targets.ravel()), np.sort(streams[:, 1:].ravel()))


def test_window_count_and_last_window_length():
    streams = batchify(np.arange(22), 2)                           # L = 11: 10 targets per stream
    pairs = windows(streams, 4)
    assert [x.shape[1] for x, _ in pairs] == [4, 4, 2]
    np.testing.assert_array_equal(pairs[-1][0], [[8, 9], [19, 20]])
    np.testing.assert_array_equal(pairs[-1][1], [[9, 10], [20, 21]])
    assert [x.shape[1] for x, _ in windows(streams, 4, drop_last=True)] == [4, 4]
    assert [x.shape[1] for x, _ in windows(streams, 5)] == [5, 5]   # 5 divides 10: no short window
    assert num_windows(11, 4) == 3 and num_windows(11, 4, drop_last=True) == 2
    assert num_windows(11, 5) == 2 and num_windows(11, 5, drop_last=True) == 2
    assert num_windows(11, 10) == 1 and num_windows(11, 11) == 1 and num_windows(11, 11, drop_last=True) == 0
    assert num_windows(2, 1) == 1


def test_zaremba_ptb_window_count():
    # Zaremba et al.'s reader: epoch_size = (len // batch_size - 1) // num_steps
    n, B, k = 929_589, 20, 35
    assert num_windows(n // B, k, drop_last=True) == (n // B - 1) // k == 1327


def test_windows_errors():
    streams = batchify(np.arange(12), 2)                           # L = 6
    with pytest.raises(ValueError, match=r"num_steps=0; expected an integer >= 1"):
        windows(streams, 0)
    with pytest.raises(ValueError, match=r"5 targets, fewer than num_steps=6, so drop_last=True leaves no window"):
        windows(streams, 6, drop_last=True)
    assert len(windows(streams, 6)) == 1
    with pytest.raises(ValueError, match=r"expects the \(batch, length\) streams of batchify, got shape \(12,\)"):
        windows(np.arange(12), 3)
    with pytest.raises(ValueError, match=r"streams of length 1; each stream needs at least 2 tokens"):
        windows(np.arange(3).reshape(3, 1), 3)
    with pytest.raises(ValueError, match=r"length=1; a stream needs at least 2 tokens"):
        num_windows(1, 3)
    with pytest.raises(ValueError, match=r"num_steps=-1; expected an integer >= 1"):
        num_windows(10, -1)
