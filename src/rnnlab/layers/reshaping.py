"""Reshaping layers: RepeatVector, Reshape and Permute (Keras 3's semantics; no weights).

    RepeatVector(n)   (N, D) -> (N, n, D)        y[:, t] = x            dx = sum_t dy[:, t]
    Reshape(shape)    (N, ...) -> (N, *shape)    y = x reshaped          dx = dy reshaped back
    Permute(dims)     (N, d_1, ..., d_r) -> (N, d_dims[0], ...)          dx = dy permuted back

None of them passes a mask on (Keras's RepeatVector, Reshape and Permute do not support masking), and
none is ``per_step``: each looks at (or makes) the whole time axis.

Example::

    z = RepeatVector(4).forward(np.ones((2, 3)))             # (2, 4, 3): the encoder's summary at each step
    y = Reshape((-1, 2)).forward(np.ones((2, 12)))           # (2, 6, 2)
    y = Permute((2, 1)).forward(np.ones((2, 10, 64)))        # (2, 64, 10)
"""
import numpy as np

from . import checks
from .base import Layer


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


class RepeatVector(Layer):
    """Repeat a vector ``n`` times along a new time axis: ``y[:, t, :] = x`` for ``t < n``.

    Backward sums the gradients of the copies: ``dx = sum_t dy[:, t, :]``.

    Args:
        n: the number of repetitions (a positive int).

    Shapes: ``(N, D) -> (N, n, D)``. Mask: None.

    Example::

        z = RepeatVector(5).forward(h_last)     # (N, H) -> (N, 5, H), e.g. to feed a decoder RNN
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(n):
            raise TypeError(f"RepeatVector expects an integer 'n' (how many times to repeat), got {n!r}.")
        if n < 1:
            raise ValueError(f"RepeatVector expects a positive integer 'n' (how many times to repeat), got {n!r}.")
        self.n = int(n)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Layer {self.name!r} (RepeatVector) expects inputs of rank 2 (batch, features), got "
                             f"input shape {tuple(input_shape)}.")
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        self._check_rank(x, 2, hint=" (batch, features); to repeat a sequence, Flatten or pool it first")
        y = np.repeat(x[:, None, :], self.n, axis=1)                          # (N, n, D)
        self._save(x_shape=x.shape)
        return y

    def backward(self, grad_outputs):
        x_shape = self._restore().x_shape
        dy = checks.check_grad(self, grad_outputs, (x_shape[0], self.n, x_shape[1]), "output")
        return [dy.sum(axis=1)]                                               # through the copies: (N, D)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (row-major order, as ``np.reshape``).

    Args:
        target_shape: the new shape of one sample (no batch axis): positive ints, at most one ``-1``,
            which takes whatever size makes the number of values match.

    Shapes: ``(N, ...) -> (N, *target_shape)``; the number of values per sample must not change.
    Mask: None.

    Example::

        y = Reshape((3, 4)).forward(np.ones((2, 12)))        # (2, 3, 4)
        y = Reshape((-1, 2, 2)).forward(np.ones((2, 12)))    # (2, 3, 2, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(target_shape, (list, tuple)) or not all(_is_int(d) for d in target_shape):
            raise TypeError(f"Reshape expects 'target_shape' to be a tuple of ints (one sample's shape, no batch "
                            f"axis), got {target_shape!r}.")
        target_shape = tuple(int(d) for d in target_shape)
        if list(target_shape).count(-1) > 1 or any(d < 1 and d != -1 for d in target_shape):
            raise ValueError(f"Reshape expects 'target_shape' of positive ints with at most one -1 (the size to "
                             f"infer), got {target_shape}.")
        self.target_shape = target_shape

    def _resolved(self, sample_shape):
        """``target_shape`` with its -1 filled in for samples of ``sample_shape`` (None where unknown)."""
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = int(np.prod(sample_shape, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if -1 in self.target_shape and size % known == 0:
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if -1 not in self.target_shape and size == known:
            return self.target_shape
        raise ValueError(
            f"Layer {self.name!r} (Reshape) cannot reshape samples of shape {tuple(sample_shape)} ({size} values) to "
            f"target_shape={self.target_shape} ({'a multiple of ' if -1 in self.target_shape else ''}{known} "
            "values): the number of values per sample must not change. Choose a target_shape whose sizes multiply "
            "to it, or put -1 in place of one size to have it inferred.")

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolved(tuple(input_shape[1:]))

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        if x.ndim < 1:
            raise ValueError(f"Layer {self.name!r} (Reshape) expects inputs with a batch axis, got a scalar.")
        y = x.reshape((x.shape[0],) + self._resolved(x.shape[1:]))          # (N, *target_shape)
        self._save(x_shape=x.shape, y_shape=y.shape)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        dy = checks.check_grad(self, grad_outputs, call.y_shape, "output")
        return [dy.reshape(call.x_shape)]                                     # through the reshape

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorder the non-batch axes: output axis ``i`` (1-based) is input axis ``dims[i - 1]``.

    ``y = transpose(x, (0,) + dims)``; backward transposes back with the inverse permutation.

    Args:
        dims: a permutation of ``1..r`` for inputs of rank ``r + 1`` (1-based, the batch axis left out,
            as in Keras): ``(2, 1)`` swaps time and features.

    Shapes: ``(N, d_1, ..., d_r) -> (N, d_dims[0], ..., d_dims[r-1])``. Mask: None.

    Example::

        y = Permute((2, 1)).forward(np.ones((4, 10, 64)))     # (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or not all(_is_int(d) for d in dims):
            raise TypeError(f"Permute expects 'dims' to be a tuple of ints (a 1-based permutation of the non-batch "
                            f"axes), got {dims!r}.")
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"Permute expects 'dims' to be a permutation of 1..{len(dims)} (the non-batch axes, counted from 1 "
                f"as in Keras), got {dims}; e.g. (2, 1) swaps the two axes of (batch, timesteps, features).")
        self.dims = dims

    def _check_rank_of(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f"Layer {self.name!r} (Permute) has dims={self.dims}, so it expects inputs of rank "
                f"{len(self.dims) + 1} (batch + {len(self.dims)} axes), got shape {tuple(shape)} (rank {len(shape)}).")

    def compute_output_shape(self, input_shape):
        self._check_rank_of(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, inputs, training=False, mask=None):
        x = self._to_array(inputs)
        self._check_rank_of(x.shape)
        y = np.ascontiguousarray(x.transpose((0,) + self.dims))                # (N, d_dims[0], ...)
        self._save(y_shape=y.shape)
        return y

    def backward(self, grad_outputs):
        y_shape = self._restore().y_shape
        dy = checks.check_grad(self, grad_outputs, y_shape, "output")
        inverse = tuple(np.argsort((0,) + self.dims))                          # output axis of each input axis
        return [np.ascontiguousarray(dy.transpose(inverse))]                   # through the transpose

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}
