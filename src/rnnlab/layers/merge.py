"""Merge layers: one tensor from a list of tensors (Keras 3's ``keras.layers`` merging layers).

    Concatenate(axis)  y = [x_1, x_2, ...] joined on ``axis``           dx_i = dy's slice for x_i
    Add                y = x_1 + x_2 + ...                             dx_i = dy
    Subtract           y = x_1 - x_2                (exactly 2)        dx_1 = dy, dx_2 = -dy
    Multiply           y = x_1 * x_2 * ...                             dx_i = dy * prod_{j != i} x_j
    Average            y = (x_1 + ... + x_k) / k                       dx_i = dy / k
    Maximum            y = max(x_1, ..., x_k)                          dx_i = dy where x_i is the max, else 0
    Dot(axes)          batch dot product over one axis of each input  (see ``Dot``)

**The call.** ``forward(inputs, mask=None)`` takes ``inputs`` as a list of arrays (at least two; exactly
two for Subtract and Dot) with the same batch size, and ``mask`` as None or a list aligned with the
inputs (each None or a boolean ``(N, T)`` array). ``backward(dy)`` returns a list with one gradient per
input, in order, each of that input's shape and each its own array.

**Broadcasting** (Add, Subtract, Multiply, Average, Maximum), as in Keras 3: an input of lower rank gets
size-1 axes inserted after the batch axis (``(N, D)`` acts as ``(N, 1, D)``), then axes of size 1 are
broadcast; any other difference is an error. The gradient of a broadcast input is summed back over the
axes it was broadcast on.

**Masks** (Keras 3): the output mask of the elementwise merges is the logical OR of the input masks,
and None as soon as one input has none. Add, Subtract and Average ignore masks in their values.
Multiply counts a masked entry as 1 and, when every input has a mask, zeroes the output where no input
is valid. Maximum takes the maximum over the valid inputs only (an input without a mask is valid
everywhere; where none is valid the first input is passed). Concatenate joins the masks as Keras 3
does: every mask is widened to its input's shape (all True for an input without one), the widened
masks are joined on ``axis`` and reduced with ``any`` over the last axis; so joining on the time axis
joins the masks, and joining on the feature axis ORs them. Dot drops the mask.

**Maximum's ties** go to the first input holding the maximum (as TensorFlow's gradient of
``maximum`` and NumPy's ``argmax`` do; ``torch.maximum`` and JAX split a tie equally).

Merge layers look at whole tensors, so none of them is ``per_step``.

Example::

    cat = Concatenate()
    h = cat.forward([h_forward, h_backward])            # (N, T, H) and (N, T, H) -> (N, T, 2H)
    dh_forward, dh_backward = cat.backward(dh)          # one gradient per input, in order
    scores = Dot(axes=(2, 2))([queries, keys])          # (N, T, D) . (N, S, D) -> (N, T, S)
"""
import numpy as np

from . import checks
from .base import Layer
from . import checks as _checks


def _fmt(shape):
    """A shape as Keras prints it: a tuple with None for unknown sizes."""
    return tuple(None if d is None else int(d) for d in shape)


def _conflict(shapes, axis):
    """The first two shapes whose known sizes differ on ``axis``, with those sizes."""
    first = None
    for s in shapes:
        if s[axis] is None:
            continue
        if first is None:
            first = s
        elif s[axis] != first[axis]:
            return first, s
    return None


def _aligned(x, rank):
    """``x`` with size-1 axes inserted after the batch axis up to ``rank`` (a view)."""
    return x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:])


def _unbroadcast(g, shape):
    """``g`` (the output's shape) summed back to an input of ``shape``: over the axes it was broadcast on."""
    aligned = tuple(shape[:1]) + (1,) * (g.ndim - len(shape)) + tuple(shape[1:])
    axes = tuple(i for i, (a, d) in enumerate(zip(aligned, g.shape)) if a == 1 and d != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return np.array(g.reshape(shape))                                  # its own array


class _Merge(Layer):
    """What every merge layer shares: the checks of the input list, of the masks and of the shapes."""
    supports_masking = True
    n_inputs = None            # an exact number of inputs (Subtract, Dot), or None for "two or more"

    def _expected_count(self):
        return f"exactly {self.n_inputs}" if self.n_inputs else "at least 2"

    def _check_count(self, n, what):
        if (self.n_inputs and n != self.n_inputs) or n < 2:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) merges {self._expected_count()} tensors, but got "
                f"{n} {what}. Pass a list with one entry per tensor, e.g. layer.forward([x1, x2]).")

    def _inputs(self, inputs):
        """The input list as arrays of the layer's dtype, all with the same batch size."""
        self.built = True                   # no weights: a layer that has been called is built
        cls = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            got = (f"a single array of shape {np.shape(inputs)}" if hasattr(inputs, "shape")
                   else f"a {type(inputs).__name__}")
            raise TypeError(
                f"Layer {self.name!r} ({cls}) expects a list of input arrays ({self._expected_count()}, one per "
                f"tensor to merge), got {got}. Call it as layer.forward([x1, x2]).")
        self._check_count(len(inputs), "inputs")
        xs = [self._to_array(x, f"input {i}") for i, x in enumerate(inputs)]
        for i, x in enumerate(xs):
            if x.ndim < 1:
                raise ValueError(f"Layer {self.name!r} ({cls}): input {i} is a scalar; every input needs a "
                                 "batch axis (axis 0).")
        if len({x.shape[0] for x in xs}) > 1:
            raise ValueError(
                f"Layer {self.name!r} ({cls}) got inputs of shapes {[x.shape for x in xs]} with different batch "
                f"sizes {[x.shape[0] for x in xs]}; every input must have the same number of samples on axis 0.")
        return xs

    def _masks(self, mask, xs):
        """``mask`` as a list aligned with ``xs``: None entries, or boolean arrays of shape ``x.shape[:k]``."""
        cls = type(self).__name__
        if mask is None:
            return [None] * len(xs)
        if not isinstance(mask, (list, tuple)):
            raise TypeError(
                f"Layer {self.name!r} ({cls}) expects mask to be None or a list with one entry per input (None or a "
                f"boolean (batch, timesteps) array), got a {type(mask).__name__}.")
        if len(mask) != len(xs):
            raise ValueError(f"Layer {self.name!r} ({cls}) got {len(mask)} masks for {len(xs)} inputs; pass one "
                             "mask per input (None for an input without one).")
        out = []
        for i, (m, x) in enumerate(zip(mask, xs)):
            if m is not None:
                m = np.asarray(m)
                if m.dtype == object or not (m.dtype == bool or np.issubdtype(m.dtype, np.number)):
                    raise TypeError(f"Layer {self.name!r} ({cls}): mask {i} must be a boolean array, "
                                    f"got dtype {m.dtype}.")
                if m.ndim == 0 or m.ndim > x.ndim or m.shape != x.shape[:m.ndim]:
                    raise ValueError(
                        f"Layer {self.name!r} ({cls}) got a mask of shape {m.shape} for input {i} of shape "
                        f"{x.shape}; expected a boolean mask of shape {x.shape[:2]} (batch, timesteps).")
                m = m.astype(bool, copy=False)
            out.append(m)
        return out

    def _shape_list(self, input_shape):
        """``input_shape`` checked to be a list of shape tuples, one per input."""
        if not isinstance(input_shape, (list, tuple)) or not input_shape \
                or not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects a list of input shapes, one tuple per "
                f"input (batch axis first), got {input_shape!r}.")
        self._check_count(len(input_shape), "input shapes")
        return [tuple(s) for s in input_shape]

    def compute_mask(self, inputs, mask=None):
        """The OR of the input masks; None when ``mask`` is None or any input has no mask (Keras 3)."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise TypeError(f"Layer {self.name!r} ({type(self).__name__}): compute_mask expects a list of masks, "
                            f"one per input, got a {type(mask).__name__}.")
        if isinstance(inputs, (list, tuple)) and len(inputs) != len(mask):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): compute_mask got {len(mask)} masks for "
                             f"{len(inputs)} inputs; pass one per input.")
        if any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, dtype=bool) for m in mask])


class _Elementwise(_Merge):
    """An elementwise merge with Keras 3's broadcasting (see the module docstring)."""

    def compute_output_shape(self, input_shape):
        shapes = self._shape_list(input_shape)
        cls = type(self).__name__
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"Layer {self.name!r} ({cls}) got input shapes {shapes}; each needs a batch axis.")
        rank = max(len(s) for s in shapes)
        padded = [s[:1] + (1,) * (rank - len(s)) + s[1:] for s in shapes]      # size-1 axes after the batch
        out = []
        for axis, dims in enumerate(zip(*padded)):
            known = {d for d in dims if d is not None and (d != 1 or axis == 0)}
            if len(known) > 1:
                a, b = _conflict([p for p in padded if p[axis] != 1 or axis == 0], axis)
                what = ("batch sizes" if axis == 0 else "sizes")
                raise ValueError(
                    f"Layer {self.name!r} ({cls}) cannot merge inputs of shapes {_fmt(a)} and {_fmt(b)}: axis "
                    f"{axis} has {what} {a[axis]} and {b[axis]}. {cls} works elementwise, so the inputs must have "
                    "the same shape (a size-1 axis, or a missing axis after the batch axis, is broadcast as in "
                    "Keras); project or reshape the inputs to a common shape first (e.g. with a Dense layer).")
            if known:
                out.append(known.pop())
            elif any(d is None for d in dims):
                out.append(None)
            else:
                out.append(1)
        return tuple(out)

    def _prepare(self, inputs, mask):
        """Inputs and masks aligned to the output's rank (views), the output shape, the input shapes."""
        xs = self._inputs(inputs)
        masks = self._masks(mask, xs)
        shape = self.compute_output_shape([x.shape for x in xs])
        rank = len(shape)
        ms = [None if m is None else _aligned(m.reshape(m.shape + (1,) * (x.ndim - m.ndim)), rank)
              for m, x in zip(masks, xs)]                                      # elementwise, broadcastable
        return [_aligned(x, rank) for x in xs], ms, shape, [x.shape for x in xs]

    def _dy(self, grad_outputs, shape):
        return checks.check_grad(self, grad_outputs, shape, "output")


class Add(_Elementwise):
    """Elementwise sum of two or more inputs: ``y = x_1 + x_2 + ... + x_k``.

    Shapes: every input ``(N, ...)`` of one shape (or broadcastable, see the module docstring); output
    the same. Mask: OR of the input masks (None if one is missing); the values ignore it.

    Example::

        y = Add().forward([x1, x2])          # (N, T, D) + (N, T, D) -> (N, T, D)
    """

    def forward(self, inputs, training=False, mask=None):
        xs, _, shape, in_shapes = self._prepare(inputs, mask)
        y = np.zeros(shape, dtype=self.dtype)
        for x in xs:
            y += x                                                          # (N, ...) broadcast
        self._save(shape=shape, in_shapes=in_shapes)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        dy = self._dy(grad_outputs, call.shape)
        return [_unbroadcast(dy, s) for s in call.in_shapes]               # through the sum


class Subtract(_Elementwise):
    """Difference of exactly two inputs: ``y = x_1 - x_2``.

    Shapes: both inputs ``(N, ...)`` of one shape (or broadcastable); output the same.
    Mask: OR of the two masks (None if one is missing); the values ignore it.

    Example::

        d = Subtract().forward([a, b])       # a - b
    """
    n_inputs = 2

    def forward(self, inputs, training=False, mask=None):
        (x1, x2), _, shape, in_shapes = self._prepare(inputs, mask)
        y = x1 - x2                                                          # (N, ...)
        self._save(shape=shape, in_shapes=in_shapes)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        dy = self._dy(grad_outputs, call.shape)
        s1, s2 = call.in_shapes
        return [_unbroadcast(dy, s1), _unbroadcast(-dy, s2)]                # through x1 - x2


class Multiply(_Elementwise):
    """Elementwise product of two or more inputs: ``y = x_1 * x_2 * ... * x_k``.

    With masks (Keras 3): a masked entry of an input counts as 1, ``f_i = where(m_i, x_i, 1)``, and when
    every input has a mask the output is zeroed where no input is valid::

        y    = prod_i f_i                      (then y = where(m_1 | ... | m_k, y, 0))
        dx_i = m_i * dy * prod_{j != i} f_j

    (Where the output was zeroed every ``m_i`` is False, so ``m_i`` already stops the gradient there.)

    The products of the other inputs come from running products from the left and from the right, so
    a zero input is no problem (no division).

    Shapes: every input ``(N, ...)`` of one shape (or broadcastable); output the same.

    Example::

        gated = Multiply().forward([h, g])   # h * g
    """

    def forward(self, inputs, training=False, mask=None):
        xs, ms, shape, in_shapes = self._prepare(inputs, mask)
        fs = [x if m is None else np.where(m, x, self.dtype.type(1)) for x, m in zip(xs, ms)]  # masked -> 1
        y = np.ones(shape, dtype=self.dtype)
        for f in fs:
            y = y * f                                                          # (N, ...) broadcast
        if all(m is not None for m in ms):
            keep = np.logical_or.reduce([np.broadcast_to(m, shape) for m in ms])   # (N, ...) any valid
            y = np.where(keep, y, self.dtype.type(0))
        self._save(fs=fs, ms=ms, shape=shape, in_shapes=in_shapes)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        dy = self._dy(grad_outputs, call.shape)
        fs, k = call.fs, len(call.fs)
        left, right = [1.0] * k, [1.0] * k                                     # prod_{j<i} f_j, prod_{j>i} f_j
        for i in range(1, k):
            left[i] = left[i - 1] * fs[i - 1]
        for i in range(k - 2, -1, -1):
            right[i] = right[i + 1] * fs[i + 1]
        grads = []
        for i, (m, s) in enumerate(zip(call.ms, call.in_shapes)):
            d = dy * left[i] * right[i]                                        # through the product
            if m is not None:
                d = np.where(m, d, 0)                                          # through where(m, x, 1)
            grads.append(_unbroadcast(np.asarray(d, dtype=self.dtype), s))
        return grads


class Average(_Elementwise):
    """Elementwise mean of two or more inputs: ``y = (x_1 + ... + x_k) / k``.

    Shapes: every input ``(N, ...)`` of one shape (or broadcastable); output the same.
    Mask: OR of the input masks (None if one is missing); the values ignore it (as Keras 3).

    Example::

        y = Average().forward([x1, x2, x3])
    """

    def forward(self, inputs, training=False, mask=None):
        xs, _, shape, in_shapes = self._prepare(inputs, mask)
        y = np.zeros(shape, dtype=self.dtype)
        for x in xs:
            y += x                                                             # (N, ...) broadcast
        y /= len(xs)
        self._save(shape=shape, in_shapes=in_shapes)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        dy = self._dy(grad_outputs, call.shape)
        ds = dy / len(call.in_shapes)                                          # through / k
        return [_unbroadcast(ds, s) for s in call.in_shapes]                   # through the sum


class Maximum(_Elementwise):
    """Elementwise maximum of two or more inputs: ``y = max(x_1, ..., x_k)``.

    The gradient goes to the input that holds the maximum; on a tie, to the first such input::

        w    = argmax_i x_i  (first on ties; over the valid inputs only when masks are given)
        y    = x_w
        dx_i = dy * (w == i)

    With masks (Keras 3) the maximum is over the inputs valid at that entry (an input without a mask
    is valid everywhere); where none is valid, ``y`` is the first input.

    Shapes: every input ``(N, ...)`` of one shape (or broadcastable); output the same.

    Example::

        y = Maximum().forward([x1, x2])      # np.maximum(x1, x2)
    """

    def forward(self, inputs, training=False, mask=None):
        xs, ms, shape, in_shapes = self._prepare(inputs, mask)
        best = np.array(np.broadcast_to(xs[0], shape))                         # (N, ...) running maximum
        winner = np.zeros(shape, dtype=np.intp)                                # (N, ...) which input holds it
        valid = np.ones(shape, dtype=bool) if ms[0] is None else np.array(np.broadcast_to(ms[0], shape))
        for i in range(1, len(xs)):
            v = True if ms[i] is None else ms[i]
            take = v & (~valid | (xs[i] > best))                              # strictly greater: first wins
            best = np.where(take, xs[i], best)
            winner = np.where(take, i, winner)
            valid = valid | v
        self._save(winner=winner, shape=shape, in_shapes=in_shapes)
        return best

    def backward(self, grad_outputs):
        call = self._restore()
        dy = self._dy(grad_outputs, call.shape)
        return [_unbroadcast(np.where(call.winner == i, dy, 0).astype(self.dtype, copy=False), s)
                for i, s in enumerate(call.in_shapes)]                         # through the max


class Concatenate(_Merge):
    """Join the inputs along ``axis``: ``y = [x_1, x_2, ...]`` on that axis.

    Backward splits ``dy`` at the same places: ``dx_i = dy[..., o_i : o_i + n_i, ...]`` on ``axis``.

    Args:
        axis: the axis to join on (not the batch axis); ``-1`` (features) by default.

    Shapes: inputs of one rank whose sizes agree on every axis but ``axis``; the output's ``axis`` is
    the sum of theirs. Mask: see the module docstring (joined on the time axis, ORed on the feature axis).

    Example::

        y = Concatenate().forward([np.ones((2, 5, 3)), np.ones((2, 5, 4))])        # (2, 5, 7)
        y = Concatenate(axis=1).forward([np.ones((2, 5, 3)), np.ones((2, 4, 3))])  # (2, 9, 3)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"Concatenate expects an integer 'axis', got {axis!r}.")
        self.axis = int(axis)

    def _axis(self, rank, shapes):
        ax = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= ax < rank:
            raise ValueError(
                f"Layer {self.name!r} (Concatenate) has axis={self.axis}, but its inputs {[_fmt(s) for s in shapes]} "
                f"have rank {rank}, so axis must be in 1..{rank - 1} or -{rank - 1}..-1 (axis 0 is the batch axis, "
                "which cannot be joined on).")
        return ax

    def compute_output_shape(self, input_shape):
        shapes = self._shape_list(input_shape)
        ranks = [len(s) for s in shapes]
        if len(set(ranks)) > 1:
            a = shapes[0]
            b = next(s for s in shapes if len(s) != len(a))
            raise ValueError(
                f"Layer {self.name!r} (Concatenate) cannot join inputs of shapes {_fmt(a)} and {_fmt(b)} on axis "
                f"{self.axis}: they have different ranks ({len(a)} and {len(b)}). Reshape them to one rank first.")
        rank = ranks[0]
        ax = self._axis(rank, shapes)
        out = []
        for i in range(rank):
            if i == ax:
                out.append(None if any(s[i] is None for s in shapes) else int(sum(s[i] for s in shapes)))
                continue
            pair = _conflict(shapes, i)
            if pair is not None:
                a, b = pair
                raise ValueError(
                    f"Layer {self.name!r} (Concatenate) cannot join inputs of shapes {_fmt(a)} and {_fmt(b)} on axis "
                    f"{self.axis}: all other axes must match, but axis {i} has sizes {a[i]} and {b[i]}. Make them "
                    f"equal (pad or crop, or project with a Dense layer), or join on axis {i} instead.")
            known = [s[i] for s in shapes if s[i] is not None]
            out.append(int(known[0]) if known else None)
        return tuple(out)

    def forward(self, inputs, training=False, mask=None):
        xs = self._inputs(inputs)
        self._masks(mask, xs)
        self.compute_output_shape([x.shape for x in xs])                     # the clear shape errors
        ax = self._axis(xs[0].ndim, [x.shape for x in xs])
        y = np.concatenate(xs, axis=ax)                                        # (N, ..., sum n_i, ...)
        self._save(ax=ax, sizes=[x.shape[ax] for x in xs], shape=y.shape)
        return y

    def backward(self, grad_outputs):
        call = self._restore()
        dy = checks.check_grad(self, grad_outputs, call.shape, "output")
        cuts = np.cumsum(call.sizes)[:-1]                                      # where each input ends
        return [np.ascontiguousarray(g) for g in np.split(dy, cuts, axis=call.ax)]   # through the join

    def compute_mask(self, inputs, mask=None):
        """Keras 3: widen each mask to its input's shape (all True if missing), join on ``axis``, ``any`` over
        the last axis. None when ``mask`` is None or every entry is None."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"Layer {self.name!r} (Concatenate): compute_mask expects a list of inputs and a list of "
                             "masks of the same length (None for an input without a mask).")
        if all(m is None for m in mask):
            return None
        wide = []
        for x, m in zip(inputs, mask):
            shape = np.shape(x)
            if m is None:
                wide.append(np.ones(shape, dtype=bool))
                continue
            m = np.asarray(m, dtype=bool)
            wide.append(np.broadcast_to(m.reshape(m.shape + (1,) * (len(shape) - m.ndim)), shape))
        return np.concatenate(wide, axis=self.axis).any(axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


_NORM_EPSILON = 1e-7           # Keras's backend.epsilon(): the smallest norm a vector is divided by


def _l2_normalize(x, axis):
    """``u = x / max(||x||, eps)`` along ``axis`` (Keras's ``normalize``), and the divisor."""
    n = np.maximum(np.sqrt((x * x).sum(axis=axis, keepdims=True)), _NORM_EPSILON)
    return x / n, n


def _l2_normalize_backward(du, u, n, axis):
    """``dx`` from ``du`` through ``u = x / max(||x||, eps)``: ``(du - u (u . du)) / ||x||``, or
    ``du / eps`` where the norm was clipped to eps (there the divisor is a constant)."""
    live = n > _NORM_EPSILON
    return (du - live * u * (du * u).sum(axis=axis, keepdims=True)) / n


class Dot(_Merge):
    """Batch dot product of two inputs over one axis of each (Keras's ``Dot`` / ``batch_dot``).

    With ``a`` the chosen axis of ``x1`` and ``b`` that of ``x2`` (sizes equal, ``K``), every sample ``n``
    contracts them::

        y[n, i..., j...] = sum_k x1[n, i..., k (at a), ...] * x2[n, j..., k (at b), ...]

    The output's axes are ``x1``'s other axes then ``x2``'s other non-batch axes; a rank-1 result becomes
    ``(N, 1)``. So ``(N, D) . (N, D) -> (N, 1)``, ``(N, T, D) . (N, S, D)`` with ``axes=(2, 2)`` gives
    ``(N, T, S)`` and ``(N, T, D) . (N, D)`` with ``axes=(2, 1)`` gives ``(N, T)``.

    ``normalize=True`` first L2-normalises each input along its dot axis, ``u = x / max(||x||, 1e-7)``
    (so 2-D inputs give the cosine similarity); backward goes through it with
    ``dx = (du - u (u . du)) / ||x||``.

    Computation: ``x1`` is moved to ``(N, P, K)`` and ``x2`` to ``(N, K, Q)``, ``Z = A @ B`` ``(N, P, Q)``;
    backward: ``dA = dZ @ B^T``, ``dB = A^T @ dZ``, moved back.

    Args:
        axes: an int (the same axis of both inputs; a negative one counts from each input's end) or a
            pair ``(a, b)``. Axis 0 (batch) is not allowed.
        normalize: L2-normalise both inputs along their dot axis first (cosine proximity).

    Mask: dropped (None). Example::

        scores = Dot(axes=(2, 2)).forward([q, k])      # (N, T, D), (N, S, D) -> (N, T, S)
        cos = Dot(axes=1, normalize=True).forward([a, b])   # (N, D), (N, D) -> (N, 1)
    """
    n_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = self._check_axes(axes)
        self.normalize = _checks.flag(normalize, "normalize", type(self).__name__)

    @staticmethod
    def _is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    def _check_axes(self, axes):
        if self._is_int(axes):
            return int(axes)
        if not isinstance(axes, (list, tuple)):
            raise TypeError(f"Dot expects 'axes' to be an int or a pair of ints (one axis per input), "
                            f"got {axes!r}.")
        if len(axes) != 2 or not all(self._is_int(a) for a in axes):
            raise ValueError(f"Dot expects 'axes' to be an int or a pair of ints (one axis per input), got "
                             f"{axes!r}; e.g. axes=(2, 2) contracts the last axis of two 3-D inputs.")
        return (int(axes[0]), int(axes[1]))

    def _resolve(self, s1, s2):
        """The two dot axes as non-negative indices for inputs of shapes ``s1`` and ``s2``, checked."""
        pair = self.axes if isinstance(self.axes, tuple) else (self.axes, self.axes)
        out = []
        for a, s, which in zip(pair, (s1, s2), ("first", "second")):
            if len(s) < 2:
                raise ValueError(f"Layer {self.name!r} (Dot) needs inputs of rank >= 2 (batch, ...), but the {which} "
                                 f"input has shape {_fmt(s)}.")
            r = a + len(s) if a < 0 else a
            if not 1 <= r < len(s):
                raise ValueError(
                    f"Layer {self.name!r} (Dot) has axes={self.axes!r}, which gives axis {a} for the {which} input "
                    f"of shape {_fmt(s)}; it must be in 1..{len(s) - 1} (or negative from the end), since axis 0 is "
                    "the batch axis.")
            out.append(r)
        a1, a2 = out
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError(
                f"Layer {self.name!r} (Dot) cannot take the dot product of inputs of shapes {_fmt(s1)} and "
                f"{_fmt(s2)} with axes={self.axes!r}: axis {a1} of the first has size {s1[a1]} but axis {a2} of the "
                f"second has size {s2[a2]}. Choose axes of equal size (e.g. axes=(2, 2) for (N, T, D) and "
                "(N, S, D)).")
        return a1, a2

    def compute_output_shape(self, input_shape):
        s1, s2 = self._shape_list(input_shape)
        a1, a2 = self._resolve(s1, s2)
        if s1[0] is not None and s2[0] is not None and s1[0] != s2[0]:
            raise ValueError(f"Layer {self.name!r} (Dot) got input shapes {_fmt(s1)} and {_fmt(s2)} with different "
                             "batch sizes; both inputs must have the same number of samples.")
        batch = s1[0] if s1[0] is not None else s2[0]
        rest = [d for i, d in enumerate(s1) if i not in (0, a1)] + [d for i, d in enumerate(s2) if i not in (0, a2)]
        return (batch,) + tuple(rest or [1])

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, inputs, training=False, mask=None):
        x1, x2 = self._inputs(inputs)
        self._masks(mask, [x1, x2])
        a1, a2 = self._resolve(x1.shape, x2.shape)
        out_shape = self.compute_output_shape([x1.shape, x2.shape])
        u, n1 = _l2_normalize(x1, a1) if self.normalize else (x1, None)           # (N, ..., K at a1, ...)
        v, n2 = _l2_normalize(x2, a2) if self.normalize else (x2, None)           # (N, ..., K at a2, ...)
        um = np.moveaxis(u, a1, -1)                                               # (N, ..., K)
        vm = np.moveaxis(v, a2, 1)                                                # (N, K, ...)
        N, K = um.shape[0], um.shape[-1]
        A = um.reshape(N, int(np.prod(um.shape[1:-1], dtype=np.int64)), K)        # (N, P, K)
        B = vm.reshape(N, K, int(np.prod(vm.shape[2:], dtype=np.int64)))         # (N, K, Q)
        Z = A @ B                                                                 # (N, P, Q)
        self._save(A=A, B=B, um_shape=um.shape, vm_shape=vm.shape, a1=a1, a2=a2, u=u, v=v, n1=n1, n2=n2,
                   out_shape=out_shape)
        return Z.reshape(out_shape)

    def backward(self, grad_outputs):
        call = self._restore()
        dy = checks.check_grad(self, grad_outputs, call.out_shape, "output")
        dZ = dy.reshape(call.A.shape[0], call.A.shape[1], call.B.shape[2])          # (N, P, Q)
        dA = dZ @ call.B.transpose(0, 2, 1)                                       # through A @ B: (N, P, K)
        dB = call.A.transpose(0, 2, 1) @ dZ                                       # (N, K, Q)
        du = np.moveaxis(dA.reshape(call.um_shape), -1, call.a1)                  # through the moves of u
        dv = np.moveaxis(dB.reshape(call.vm_shape), 1, call.a2)                   # through the moves of v
        if self.normalize:
            du = _l2_normalize_backward(du, call.u, call.n1, call.a1)             # through u = x1 / ||x1||
            dv = _l2_normalize_backward(dv, call.v, call.n2, call.a2)             # through v = x2 / ||x2||
        return [np.ascontiguousarray(du, dtype=self.dtype), np.ascontiguousarray(dv, dtype=self.dtype)]

    def get_config(self):
        axes = list(self.axes) if isinstance(self.axes, tuple) else self.axes
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}
