"""buffers.empty reuses a big scratch array only when nothing else refers to it."""
import numpy as np
import pytest

from rnnlab import buffers
from rnnlab.layers import GRU, LSTM, SimpleRNN

BIG = (256, 1024)                      # 1 MiB of float32, above MIN_BYTES


@pytest.fixture(autouse=True)
def fresh_pool():
    buffers.clear()
    yield
    buffers.clear()


def test_a_freed_array_is_handed_out_again():
    a = buffers.empty(BIG, np.float32)
    addr = a.ctypes.data
    del a
    b = buffers.empty(BIG, np.float32)
    assert b.ctypes.data == addr and b.shape == BIG and b.dtype == np.float32


def test_an_array_or_view_still_held_is_never_reused():
    a = buffers.empty(BIG, np.float32)
    b = buffers.empty(BIG, np.float32)
    assert not np.shares_memory(a, b)
    view = a[10:20]
    del a
    c = buffers.empty(BIG, np.float32)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, b)


def test_other_shape_or_dtype_gets_a_new_array():
    del_me = buffers.empty(BIG, np.float32)
    del del_me                                                    # free, but of another shape/dtype
    b = buffers.empty((1024, 256), np.float32)
    c = buffers.empty(BIG, np.float64)
    assert b.shape == (1024, 256) and c.dtype == np.float64 and buffers.kept() == 3


def test_small_arrays_are_not_kept():
    a = buffers.empty((10, 10), np.float32)
    assert a.shape == (10, 10) and buffers.kept() == 0


def test_zeros_is_zero_even_when_reused():
    a = buffers.empty(BIG, np.float32)
    a.fill(7.0)
    del a
    z = buffers.zeros(BIG, np.float32)
    assert not z.any()


def test_the_pool_keeps_at_most_max_kept(monkeypatch):
    monkeypatch.setattr(buffers, "MAX_KEPT", 2)
    held = [buffers.empty(BIG, np.float32) for _ in range(3)]      # all in use
    assert buffers.kept() == 2
    del held
    buffers.empty(BIG, np.float32)
    assert buffers.kept() == 2
    buffers.clear()
    assert buffers.kept() == 0


@pytest.mark.parametrize("units", [128, 520])           # compiled loop; stepped in Python (kernels.blas)
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_layer_results_survive_later_passes(rng, cls, units):
    """With batch 1 the batch-first output is a view of the loop's state array, which lives in
    the pool: later passes must not overwrite what the caller still holds."""
    layer = cls(units, return_sequences=True)
    x1, x2 = (rng.standard_normal((1, 600, 8)).astype(np.float32) for _ in range(2))
    y1 = layer.forward(x1, training=True)
    y1_kept = y1.copy()
    dx1, = layer.backward(np.ones_like(y1))
    dx1_kept = dx1.copy()
    for _ in range(2):
        y2 = layer.forward(x2, training=True)
        layer.backward(np.ones_like(y2))
    np.testing.assert_array_equal(y1, y1_kept)
    np.testing.assert_array_equal(dx1, dx1_kept)
    assert not np.array_equal(y1, y2)


def test_backward_twice_gives_the_same_gradients(rng):
    layer = LSTM(128, return_sequences=True)
    x = rng.standard_normal((4, 200, 8)).astype(np.float32)
    y = layer.forward(x, training=True)
    R = rng.standard_normal(y.shape).astype(np.float32)
    layer.zero_grad()
    dx1, = layer.backward(R)
    g1 = [g.copy() for g in layer.get_gradients()]
    layer.zero_grad()
    dx2, = layer.backward(R)
    np.testing.assert_array_equal(dx1, dx2)
    for a, b in zip(g1, layer.get_gradients()):
        np.testing.assert_array_equal(a, b)


def test_the_pool_keeps_at_most_max_bytes(monkeypatch):
    monkeypatch.setattr(buffers, "MAX_BYTES", 3 * (1 << 20))      # three BIG arrays
    for n in range(6):                                            # ever new shapes, each freed at once
        buffers.empty((256 + n, 1024), np.float32)
    assert buffers.kept() == 2                                    # 2 of ~1 MiB fit under 3 MiB, not 3
    huge = buffers.empty((1024, 1024), np.float32)                # 4 MiB: over the limit on its own
    assert huge.shape == (1024, 1024) and buffers.kept() == 2


def test_a_tracer_cannot_make_a_held_array_look_free():
    """Debuggers and tracers that read frame locals add references, at import or at call time;
    a held array must never look free because of them."""
    import importlib
    import sys

    def tracer(frame, event, arg):
        frame.f_locals                                             # what pdb-like tools do
        return tracer
    sys.settrace(tracer)
    try:
        importlib.reload(buffers)                                  # the module set up under a tracer
    finally:
        sys.settrace(None)
    for traced in (True, False):
        sys.settrace(tracer if traced else None)
        try:
            a = buffers.empty(BIG, np.float32)
            b = buffers.empty(BIG, np.float32)
        finally:
            sys.settrace(None)
        assert not np.shares_memory(a, b)
        del a, b
        buffers.empty(BIG, np.float32)                             # reuses one of the two
        assert buffers.kept() == 2
