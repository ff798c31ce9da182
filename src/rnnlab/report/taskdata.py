"""The held-out data each task's sections evaluate on, read once per report through the task's own loaders
(cached on the ``RunContext``), and one small batch ``(model, x, y)`` for the gradient-flow section.

Every function raises ``MissingInput`` with a sentence for the page when something it needs is not there.

Example::

    texts, labels = sentiment_examples(ctx)          # at most ctx.max_examples held-out reviews
    model, x, y = gradient_batch(ctx, size=32)
"""
import numpy as np

GRADIENT_BATCH = 32


class MissingInput(Exception):
    """Something a section needs is absent (no data spec, no attention...); the message says what to pass."""


def _cached(ctx, key, make):
    cache = ctx.__dict__.setdefault("_cache", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _need_data(ctx, example):
    if not ctx.data:
        raise MissingInput(f"No data: the model directory records none and no --data was given; pass e.g. "
                           f"--data {example}.")
    return ctx.data


def sentiment_examples(ctx):
    """``(texts, labels)``: up to ``max_examples`` held-out texts of the split the model was trained with."""
    def make():
        from ..tasks.sentiment.data import load_data, subset
        clf = ctx.loaded()
        c = clf.config
        spec = _need_data(ctx, "imdb:../shared/data/imdb/aclImdb_labeled.tar.xz")
        _, (texts, labels) = load_data(spec, c.test_fraction, c.seed, c.text_column, c.label_column, c.delimiter)
        texts, labels = subset(texts, np.asarray(labels), ctx.max_examples, c.seed + 1)
        return list(texts), np.asarray(labels).astype(np.int64)
    return _cached(ctx, "sentiment", make)


def forecast_series(ctx):
    """``(series values (T, C), dates (T,), test_start or None)``: the series of ``--data``/the recorded path,
    else the tail kept in the model directory (then no test span is known)."""
    def make():
        from ..tasks.forecast.training import _input_values, load_series
        f = ctx.loaded()
        if ctx.data:
            series = load_series(ctx.data, f.config)
            test_start = (f.info.get("splits") or {}).get("test_start")
            if test_start is not None and test_start > len(series.values):
                test_start = None
            return _input_values(series, f.config), series.dates, test_start
        if "tail_values" not in f.info:
            raise MissingInput("No series: pass --data csv:PATH (the model directory keeps no tail of its series).")
        return (np.asarray(f.info["tail_values"], dtype=np.float64),
                np.array(f.info["tail_dates"], dtype="datetime64"), None)
    return _cached(ctx, "forecast", make)


def lm_corpus(ctx):
    """The corpus of ``--data``/the recorded spec encoded with the model's vocabulary."""
    def make():
        from ..tasks.lm.data import load_corpus
        lm = ctx.loaded()
        spec = _need_data(ctx, "ptb:../shared/data/ptb")
        return load_corpus(spec, lm.config.level, valid_fraction=lm.config.valid_fraction,
                           vocab=lm.vocab)
    return _cached(ctx, "lm", make)


def translate_dataset(ctx):
    """The sentence pairs of ``--data``/the recorded spec, split as the model's settings say."""
    def make():
        from ..tasks.translate.data import load_dataset
        tr = ctx.loaded()
        spec = _need_data(ctx, "tatoeba:../shared/data/tatoeba/fra.txt.xz")
        return load_dataset(spec, tr.config, tr.src_vocab, tr.tgt_vocab)
    return _cached(ctx, "translate", make)


def _compiled(model, loss):
    if getattr(model, "loss", None) is None:
        model.compile("adam", loss)
    return model


def gradient_batch(ctx, size=GRADIENT_BATCH):
    """``(model, x, y)``: one batch of held-out data in the network's own input format, the model compiled
    with its loss (its saved one, or the task's)."""
    task = ctx.task
    if task == "sentiment":
        clf = ctx.loaded()
        texts, labels = sentiment_examples(ctx)
        return _compiled(clf.model, "binary_crossentropy"), clf.encode(texts[:size]), \
            labels[:size].astype(np.float32).reshape(-1, 1)
    if task == "forecast":
        from ..tasks.forecast.training import _windows_between
        f = ctx.loaded()
        values, _, _ = forecast_series(ctx)
        x, y = _windows_between(f.transforms, values, f.config, 0, len(values))
        if getattr(f.model, "loss", None) is None:
            raise MissingInput("The saved forecaster has no compile settings, so its loss is unknown.")
        return f.model, x[-size:], y[-size:]
    if task == "lm":
        lm = ctx.loaded()
        ids = lm_corpus(ctx).valid
        batch, steps = min(size, 8), min(lm.config.num_steps, 35)
        if len(ids) < batch * steps + 1:
            raise MissingInput(f"The validation text has {len(ids)} tokens; {batch * steps + 1} are needed.")
        x = ids[:batch * steps].reshape(batch, steps)
        y = ids[1:batch * steps + 1].reshape(batch, steps)
        return _compiled(lm.model, "sparse_categorical_crossentropy"), x, y
    if task == "translate":
        tr = ctx.loaded()
        data = translate_dataset(ctx)
        part = data.test if len(data.test) else data.valid
        x_src, x_tgt, y = data.arrays(part, range(min(size, len(part))))
        return _compiled(tr.model, "sparse_categorical_crossentropy"), [x_src, x_tgt], y
    raise MissingInput(f"No gradient batch is defined for task {task!r}.")
