"""``pad_sequences``: cut or pad every sequence to the same length ``maxlen`` (Keras semantics).

Seed 004: a document of more than T words loses the rest (truncation); a shorter one is filled
with zeros (zero padding), so a batch is one ``(N, T)`` integer array.

Example::

    pad_sequences([[1, 2, 3], [4]], maxlen=2)                    # [[2, 3], [0, 4]]   (pre, pre)
    pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post",
                  truncating="post")                             # [[1, 2], [4, 0]]
"""
import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad/truncate a list of sequences to one array of shape ``(len(sequences), maxlen, *sample_shape)``.

    Args:
        sequences: list of sequences (lists or arrays); elements may themselves be vectors, in
            which case every element must have the same shape (``sample_shape``).
        maxlen: target length; None uses the longest sequence.
        dtype: dtype of the result (``"int32"`` by default, as Keras).
        padding: ``"pre"`` (default, as Keras) puts the fill values before the sequence,
            ``"post"`` after it.
        truncating: ``"pre"`` (default) drops the beginning of long sequences (keeps the last
            ``maxlen`` items), ``"post"`` drops their end.
        value: fill value (0: the padding id of ``Vocabulary``).

    Returns:
        ``numpy.ndarray`` of shape ``(N, maxlen) + sample_shape``. Empty sequences become all ``value``.
    """
    if padding not in _SIDES:
        raise ValueError(f'pad_sequences got padding={padding!r}; expected "pre" or "post".')
    if truncating not in _SIDES:
        raise ValueError(f'pad_sequences got truncating={truncating!r}; expected "pre" or "post".')
    if maxlen is not None and (not isinstance(maxlen, (int, np.integer)) or isinstance(maxlen, bool) or maxlen < 0):
        raise ValueError(f"pad_sequences got maxlen={maxlen!r}; expected a non-negative integer or None.")
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences expects a list of sequences, got {type(sequences).__name__}.")
    lengths = []
    sample_shape = None
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__") or isinstance(s, (str, bytes)):
            raise ValueError(f"pad_sequences expects a list of sequences (lists or arrays of ids); item {i} "
                             f"is {type(s).__name__} {s!r:.40}. Encode text to ids first.")
        lengths.append(len(s))
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(f"pad_sequences got the str value={value!r} with dtype={dtype.name!r}; use a number, "
                         "or dtype=object / a str dtype for string sequences.")
    x = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return x
    for i, (s, n) in enumerate(zip(sequences, lengths)):
        if n == 0:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequence {i} has elements of shape {kept.shape[1:]}, but earlier "
                             f"ones have shape {tuple(sample_shape)}; all elements must have one shape.")
        if padding == "post":
            x[i, :len(kept)] = kept
        else:
            x[i, maxlen - len(kept):] = kept
    return x
