"""The sections of ``rnnlab report``, one function each: ``section(ctx) -> html`` (see ``html.section``).

Common to every run: ``overview``, ``configuration``, ``curves``, ``gradient_flow``. Per task (``TASK_SECTIONS``):
``sentiment`` (confusion matrix, most confident mistakes), ``lm`` (samples), ``translate`` (attention maps),
``forecast`` (forecast plot, backtest table). A section whose input is missing says so in a note; an error
inside one becomes a note too (``guarded``), so one broken part never costs the rest of the page.

Example::

    ctx = RunContext("runs/imdb")
    sections.curves(ctx)           # '<section id="training-curves"><h2>Training curves</h2><img ...></section>'
"""
import contextlib
import io
import os
import warnings

import numpy as np

from . import figures, html
from .taskdata import (MissingInput, forecast_series, gradient_batch, lm_corpus, sentiment_examples,
                       translate_dataset)

MISTAKES = 10            # most confident mistakes listed
TEXT_CHARS = 400         # characters of a review shown
SAMPLES = 3              # language-model samples
ATTENTION_MAPS = 3       # translation attention maps
SCALAR_KEYS = ("test_accuracy", "test_perplexity", "valid_perplexity", "epoch", "bleu", "test_bleu")


def guarded(title, build, ctx):
    """``build(ctx)``, or a section titled ``title`` holding a note when it is missing an input or fails."""
    try:
        return build(ctx)
    except MissingInput as e:
        return html.section(title, html.note(str(e)))
    except Exception as e:                                        # noqa: BLE001 - shown on the page instead
        return html.section(title, html.note(f"This section could not be built: {type(e).__name__}: {e}"))


# ---- every run ------------------------------------------------------------------------------------------

def overview(ctx):
    """Task, data and the headline numbers saved with the model; the files found in the directory."""
    meta = ctx.metadata
    rows = [("run directory", os.path.abspath(ctx.run_dir)), ("task", ctx.task or "none recorded"),
            ("data", ctx.data_origin())]
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    rows += [(k, v) for k, v in {**info, **meta}.items() if k in SCALAR_KEYS and isinstance(v, (int, float))]
    files = sorted(os.listdir(ctx.run_dir))
    parts = [html.table(rows), html.paragraph("Files: " + ", ".join(files))]
    if ctx.config is None:
        parts.append(html.note("No config.json: this is not a saved model directory, so only the training "
                               "artefacts can be shown."))
    return html.section("Overview", *parts)


def _flat(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _flat(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v if isinstance(v, (int, float, str)) or v is None else str(v)


def configuration(ctx):
    """The task settings saved with the model, the run's ``training_config.json`` and the layer table."""
    parts = []
    settings = dict(_flat(ctx.metadata.get("config") or {}))
    if settings:
        parts += [html.paragraph("Settings saved with the model (config.json):"),
                  html.settings_table((k, "None" if v is None else v) for k, v in settings.items())]
    extra = [(k, "None" if v is None else v) for k, v in _flat(ctx.training_config) if settings.get(k, ...) != v]
    if extra:
        parts += [html.paragraph("Other settings of the training run (training_config.json):"),
                  html.settings_table(extra)]
    if ctx.config is not None:
        from ..models import load_model
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            load_model(ctx.run_dir, compile=False).summary()
        parts.append(html.pre(out.getvalue()))
    if not parts:
        parts.append(html.note("Neither config.json nor training_config.json is in the directory."))
    return html.section("Configuration", *parts)


def _history(ctx):
    """``{key: [per epoch]}`` from history.json, else from the history kept in the metadata (language models,
    forecasters), else None."""
    from ..artifacts import history_columns
    from .context import read_json
    cols = read_json(os.path.join(ctx.run_dir, "history.json"))
    if cols is None:
        kept = ctx.metadata.get("history") or (ctx.metadata.get("info") or {}).get("history")
        if isinstance(kept, list) and kept and isinstance(kept[0], dict) and "loss" in kept[0] \
                and isinstance(kept[0]["loss"], list):
            kept = kept[0]                                         # forecaster: one History per ensemble member
        cols = history_columns(kept) if kept else None
    return cols


def curves(ctx):
    """``curves.png`` inline (drawn from the history when the PNG is missing) and the last epoch's values."""
    title = "Training curves"
    cols = _history(ctx)
    png_path = os.path.join(ctx.run_dir, "curves.png")
    numeric = {k: v for k, v in (cols or {}).items() if k != "epoch" and v
               and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)}
    parts = []
    if os.path.isfile(png_path):
        with open(png_path, "rb") as f:
            parts.append(html.image(f.read(), "training curves (curves.png)"))
    elif numeric:
        parts += [html.note("curves.png is missing; drawn from the saved history."),
                  html.image(figures.history_curves(numeric), "training curves")]
    else:
        return html.section(title, html.note("No training history: neither curves.png nor history.json is in the "
                                             "directory (train with 'rnnlab train ... --out DIR' to get them)."))
    if numeric:
        parts.append(html.table([(k, float(v[-1])) for k, v in numeric.items()], ("quantity", "last epoch")))
    return html.section(title, *parts)


def gradient_flow(ctx):
    """‖∂L/∂h_t‖ per step of every recurrent layer on one held-out batch (``diagnostics.hidden_gradient_norms``)."""
    from .. import diagnostics
    from ..diagnostics.plots import plot_hidden_gradients
    title = "Gradient flow"
    if ctx.config is None:
        return html.section(title, html.note("No saved model (config.json), so no gradients to measure."))
    model, x, y = gradient_batch(ctx)
    if not diagnostics.recurrent_layers(model):
        return html.section(title, html.note("The model has no recurrent layers; nothing flows through time."))
    norms = diagnostics.hidden_gradient_norms(model, x, y)
    rows = [{"name": name, "norms": n, "decay_per_step": diagnostics.decay_per_step(n)} for name, n in norms.items()]
    png = figures.drawn_by(lambda path: plot_hidden_gradients(rows, path, title="‖∂L/∂h_t‖ on one held-out batch"))
    table = [(r["name"], len(r["norms"]), float(r["norms"][-1]), float(r["norms"][0]), r["decay_per_step"])
             for r in rows]
    radii = diagnostics.spectral_radii(model)
    return html.section(
        title, html.paragraph(f"One training-mode backward pass on {len(y)} held-out examples (no weight update)."),
        html.image(png, "gradient norm per step"),
        html.table(table, ("layer", "steps", "‖∂L/∂h‖ last step", "first step", "factor per step")),
        html.table([(n, g, float(v)) for n, gates in radii.items() for g, v in gates.items()],
                   ("layer", "gate", "spectral radius of W_h")))


# ---- per task -------------------------------------------------------------------------------------------

def sentiment(ctx):
    """Accuracy and confusion matrix on the held-out texts, and the most confident mistakes."""
    title = "Sentiment: confusion matrix and mistakes"
    clf = ctx.loaded()
    texts, labels = sentiment_examples(ctx)
    if not texts:
        raise MissingInput("The held-out part of the data is empty.")
    p = clf.predict_proba(texts)
    pred = (p >= 0.5).astype(np.int64)
    counts = np.zeros((2, 2), dtype=np.int64)
    np.add.at(counts, (labels, pred), 1)
    names = list(clf.labels)
    wrong = np.flatnonzero(pred != labels)
    worst = wrong[np.argsort(-np.abs(p[wrong] - 0.5))][:MISTAKES]
    rows = [(names[labels[i]], float(p[i]), texts[i][:TEXT_CHARS] + ("…" if len(texts[i]) > TEXT_CHARS else ""))
            for i in worst]
    return html.section(
        title, html.paragraph(f"{len(texts)} held-out texts: accuracy {float(np.mean(pred == labels)):.4f}."),
        html.image(figures.confusion_matrix(counts, names), "confusion matrix"),
        html.table([[names[i]] + [int(c) for c in counts[i]] for i in range(2)], ["true \\ predicted"] + names),
        html.paragraph(f"The {len(rows)} most confident mistakes:"),
        html.table(rows, ("true label", "P(positive)", "text")) if rows else html.note("No mistakes."))


def lm(ctx):
    """Samples from the language model (and its perplexity on the validation text when data is given)."""
    title = "Language model: samples"
    model = ctx.loaded()
    parts, prompts = [], []
    try:
        corpus = lm_corpus(ctx)
    except MissingInput as e:
        parts.append(html.note(f"{e} Samples start from common words instead."))
        corpus = None
    if corpus is not None:
        sep = "" if model.config.level == "char" else " "
        words = [w for w in model.vocab.decode(corpus.valid[:200]) if w not in ("<eos>", "\n")]
        prompts = [sep.join(words[k:k + 3]) for k in range(0, min(len(words), 3 * SAMPLES * 10), 30)][:SAMPLES]
        ppl = model.perplexity(corpus.valid[:20000])
        parts.append(html.paragraph(f"Validation perplexity (first {min(len(corpus.valid), 20000)} tokens): "
                                    f"{ppl:.2f}."))
    if not prompts:
        usual = [w for w in model.vocab.tokens if w.strip() and not w.startswith("<")]
        prompts = [w for w in ("the", "a", "i", "t") if w in model.vocab][:SAMPLES] or usual[:SAMPLES]
    rows = [(prompt, t, model.generate(prompt, length=40, temperature=t, seed=ctx.seed + k))
            for k, prompt in enumerate(prompts) for t in (0.7, 1.0)]
    return html.section(title, *parts, html.table(rows, ("prompt", "temperature", "continuation")))


def translate(ctx):
    """Translations of held-out sentences and their attention maps (``Translator.attention_weights``)."""
    from ..tasks.translate.plots import save_attention_map
    title = "Translation: attention maps"
    tr = ctx.loaded()
    data = translate_dataset(ctx)
    sources = list(dict.fromkeys(data.test.src))[:ATTENTION_MAPS]
    if not sources:
        raise MissingInput("The test split of the data is empty.")
    with warnings.catch_warnings():                              # unknown words: the map shows them as <unk>
        warnings.simplefilter("ignore")
        rows = list(zip(sources, tr.translate(sources, beam_width=1, warn=False)))
    parts = [html.table(rows, ("source", "translation (greedy)"))]
    if not hasattr(tr, "attention_weights"):
        parts.append(html.note("This version of the translator has no attention_weights(); maps skipped."))
    elif tr.config.attention == "none":
        parts.append(html.note("The model was trained without attention (attention='none'): no maps to show."))
    else:
        for s in sources:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                src, out, w = tr.attention_weights(s)
            if len(out) != len(w) or len(src) != w.shape[1]:          # e.g. <pad> outputs left out of ``out``
                parts.append(html.note(f"{s!r}: {len(out)} output and {len(src)} source tokens for weights of shape "
                                       f"{w.shape}; the map's axes are numbered instead."))
                src, out = [str(j) for j in range(w.shape[1])], [str(t) for t in range(len(w))]
            parts.append(html.image(figures.drawn_by(lambda path: save_attention_map(path, src, out, w)),
                                    f"attention map: {s}"))
    return html.section(title, *parts)


def forecast(ctx):
    """The forecast from the start of the test span against what happened (or past the end of the kept series),
    with its intervals, and the backtest table saved at training."""
    from ..tasks.forecast.cli import future_dates
    from ..tasks.forecast.plots import plot_forecast
    title = "Forecast"
    f = ctx.loaded()
    values, dates, test_start = forecast_series(ctx)
    H, t = f.config.horizon, f.config.input_columns().index(f.config.column)
    origin = test_start if test_start is not None and test_start + H <= len(values) else len(values)
    fc = f.predict(values, np.array([origin]))
    shown = slice(max(0, origin - max(5 * H, 60)), origin)
    actual = values[origin:origin + H, t] if origin + H <= len(values) else None
    when = dates[origin:origin + H] if actual is not None else future_dates(dates[:origin], H, f.info.get("freq", "D"))
    bands = {lv: (lo[0], hi[0]) for lv, (lo, hi) in fc.intervals.items()}
    png = figures.drawn_by(lambda path: plot_forecast(path, dates[shown], values[shown, t], when, fc.point[0], bands,
                                                      actual=actual, ylabel=f.config.column,
                                                      title=f"{f.config.column}: {H}-step forecast from "
                                                            f"{dates[origin - 1]}"))
    what = "the first test origin, against the observed values" if actual is not None else "the end of the series"
    parts = [html.paragraph(f"Forecast of {H} steps from {what}."), html.image(png, "forecast")]
    rows = ((f.info.get("backtest") or {}).get("rows"))
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        keys = list(rows[0])
        parts += [html.paragraph("Backtest on the test span (saved at training):"),
                  html.table([["" if r.get(k) is None else r.get(k) for k in keys] for r in rows], keys)]
    return html.section(title, *parts)


TASK_SECTIONS = {"sentiment": ("Sentiment: confusion matrix and mistakes", sentiment),
                 "lm": ("Language model: samples", lm),
                 "translate": ("Translation: attention maps", translate),
                 "forecast": ("Forecast", forecast)}

#: (title, section), in page order; the task's section comes after these, the configuration (long) last
COMMON_SECTIONS = (("Overview", overview), ("Training curves", curves), ("Gradient flow", gradient_flow))
LAST_SECTIONS = (("Configuration", configuration),)
