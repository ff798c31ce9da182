"""Truncated-BPTT batches for language models, cut as Zaremba et al. (2014) cut them.

The corpus (one long 1-D id array) is split into ``B`` contiguous parallel streams, one per batch
row (``batchify``); training then walks along the streams ``num_steps`` tokens at a time
(``windows``), carrying the recurrent state from one window to the next (a stateful model), so
row ``b`` of consecutive batches reads stream ``b`` in order.

For every window, ``y`` is ``x`` shifted one token ahead: ``y[:, t]`` is the token after
``x[:, t]``. Over an epoch (``drop_last=False``) each target token of the streams -- every column
but the first -- is a ``y`` exactly once, and each column but the last is an ``x`` exactly once;
``drop_last=True`` (Zaremba's training) leaves out the final, shorter window.

Example::

    streams = batchify(np.arange(20), batch_size=2)    # [[0..9], [10..19]]
    for x, y in windows(streams, num_steps=4):         # x (2, 4), (2, 4), then (2, 1)
        ...                                            # x[0] = [0 1 2 3], y[0] = [1 2 3 4]
    num_windows(10, 4)                                 # 3 (9 targets per stream: 4 + 4 + 1)
"""
import numpy as np


def _check_positive_int(value, name, fn):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{fn} got {name}={value!r}; expected an integer >= 1.")
    return int(value)


def batchify(ids, batch_size):
    """Cut a 1-D id sequence into ``batch_size`` contiguous streams: a ``(B, L)`` array, ``L = len // B``.

    Stream ``b`` (row ``b``) holds tokens ``b*L .. b*L+L-1``, so reading each row left to right
    reads the corpus in order; the last ``len % B`` tokens are dropped. The result is
    ``ids[:B*L].reshape(B, L)``: a view of ``ids`` when ``ids`` is a contiguous array (copy it
    before writing into it).

    Example::

        batchify(np.arange(7), 3)      # [[0, 1], [2, 3], [4, 5]]  (token 6 dropped)
    """
    batch_size = _check_positive_int(batch_size, "batch_size", "batchify")
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"batchify expects a 1-D sequence of token ids (the whole corpus), got shape {ids.shape}; "
                         "concatenate the documents first, e.g. vocab.encode(word_tokens(text)).")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"batchify expects integer token ids, got dtype {ids.dtype}; encode the tokens first "
                         "(LMVocabulary.encode).")
    if len(ids) < 2 * batch_size:
        raise ValueError(f"batchify: a corpus of {len(ids)} tokens is too short for {batch_size} streams: need at "
                         f"least 2 tokens per stream ({2 * batch_size} in all). Use a smaller batch_size or "
                         "more text.")
    length = len(ids) // batch_size
    return ids[:batch_size * length].reshape(batch_size, length)


def num_windows(length, num_steps, drop_last=False):
    """How many ``(x, y)`` windows ``windows`` gives for streams of ``length`` tokens.

    A stream of ``L`` tokens has ``L - 1`` targets: ``ceil((L-1) / num_steps)`` windows, or
    ``floor((L-1) / num_steps)`` with ``drop_last=True`` (possibly 0).

    Example::

        num_windows(10, 4), num_windows(10, 4, drop_last=True)    # (3, 2)
    """
    num_steps = _check_positive_int(num_steps, "num_steps", "num_windows")
    length = _check_positive_int(length, "length", "num_windows")
    if length < 2:
        raise ValueError(f"num_windows got length={length}; a stream needs at least 2 tokens (an input and "
                         "its target).")
    targets = length - 1
    return targets // num_steps if drop_last else -(-targets // num_steps)


def windows(streams, num_steps, drop_last=False):
    """The ``(x, y)`` windows of an epoch over ``batchify``'s ``(B, L)`` streams, in order.

    Window ``j`` starts at ``i = j * num_steps``: ``x = streams[:, i:i+k]`` and
    ``y = streams[:, i+1:i+1+k]``, with ``k = num_steps`` except for the final window, which is
    shorter when ``num_steps`` does not divide ``L - 1``; ``drop_last=True`` leaves that one out
    (Zaremba et al.'s reader). With ``drop_last=False`` every target token of the streams (all but
    the first column) is a ``y`` exactly once over the epoch. ``x`` and ``y`` are views of
    ``streams``. Returns a list; its length is ``num_windows(L, num_steps, drop_last)``.

    Example::

        pairs = windows(batchify(ids, 20), num_steps=35, drop_last=True)
        for x, y in pairs:
            loss = model.train_on_batch(x, y)       # stateful: the state carries to the next window
    """
    num_steps = _check_positive_int(num_steps, "num_steps", "windows")
    streams = np.asarray(streams)
    if streams.ndim != 2:
        raise ValueError(f"windows expects the (batch, length) streams of batchify, got shape {streams.shape}; "
                         "call batchify(ids, batch_size) first.")
    length = streams.shape[1]
    if length < 2:
        raise ValueError(f"windows got streams of length {length}; each stream needs at least 2 tokens (an input "
                         "and its target). Use a smaller batch_size in batchify.")
    count = num_windows(length, num_steps, drop_last)
    if count == 0:
        raise ValueError(f"windows: streams of {length} tokens have {length - 1} targets, fewer than num_steps="
                         f"{num_steps}, so drop_last=True leaves no window. Use drop_last=False, a smaller "
                         "num_steps, or a smaller batch_size.")
    out = []
    for j in range(count):
        i = j * num_steps
        k = min(num_steps, length - 1 - i)
        out.append((streams[:, i:i + k], streams[:, i + 1:i + 1 + k]))
    return out
