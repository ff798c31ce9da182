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
    if dtype.kind in "iub":
        _check_fits(np.asarray(value), dtype, "the fill value")
    x = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return x
    for i, (s, n) in enumerate(zip(sequences, lengths)):
        if n == 0:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if dtype.kind in "iub":                # ids must fit the integer type exactly: never wrap or truncate
            try:
                raw = np.asarray(kept)
            except ValueError as e:
                raise ValueError(f"pad_sequences: sequence {i} could not be read as an array ({e}).") from None
            _check_fits(raw, dtype, f"sequence {i}")
        try:
            kept = np.asarray(kept, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise ValueError(f"pad_sequences: sequence {i} holds items that are not {dtype.name} values ({e}); "
                             "encode text to integer ids first.") from None
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequence {i} has elements of shape {kept.shape[1:]}, but earlier "
                             f"ones have shape {tuple(sample_shape)}; all elements must have one shape.")
        if padding == "post":
            x[i, :len(kept)] = kept
        else:
            x[i, maxlen - len(kept):] = kept
    return x


def _check_fits(a, dtype, what):
    """Refuse values of ``a`` that the integer/bool ``dtype`` cannot hold exactly (a ValueError naming ``what``)."""
    if a.size == 0:
        return
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        example = str(a.ravel()[0])
        raise ValueError(f"pad_sequences: {what} holds non-numeric items (dtype {a.dtype}, e.g. {example!r:.40}); "
                         "encode text to integer ids first (Vocabulary.encode).")
    if np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"pad_sequences: {what} holds complex values; expected {dtype.name} ids.")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a) & (a == np.round(a))):
        bad = a[~(np.isfinite(a) & (a == np.round(a)))].ravel()[:3].tolist()
        raise ValueError(f"pad_sequences: {what} holds values that are not whole numbers ({bad}); dtype={dtype.name} "
                         "would truncate them. Pass integer ids, or dtype='float32' for real values.")
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    lo, hi = (info.min, info.max) if info else (0, 1)
    amin, amax = a.min(), a.max()
    if amin < lo or amax > hi:
        bad = (amin if amin < lo else amax).item()
        raise ValueError(f"pad_sequences: {what} holds {bad!r}, which does not fit dtype={dtype.name} "
                         f"([{lo}, {hi}]); pass a wider dtype such as 'int64'.")
