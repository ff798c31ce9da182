"""``rnnlab report RUN_DIR``: one self-contained HTML page about a training run.

The page holds the configuration, the training curves, the gradient flow through time on a held-out batch and
what the run's task offers: a confusion matrix and the most confident mistakes (sentiment), samples (language
models), attention maps (translation), forecast plots (time series). Images are inline base64 PNGs and the
style sheet is in the page: it makes no request, so it opens offline and can be archived as one file.

Modules: ``html`` (page assembly, escaping), ``figures`` (matplotlib to PNG bytes), ``context`` (the run
directory and its model, loaded once), ``taskdata`` (each task's held-out data), ``sections`` (one function
per section), ``cli`` (``register(subparsers)`` for ``rnnlab report``).

Example::

    from rnnlab.report import build_report
    path = build_report("runs/imdb", out="runs/imdb/report.html",
                        data="imdb:../shared/data/imdb/aclImdb_labeled.tar.xz", max_examples=500)
"""
import os
import tempfile

from . import html, sections
from .context import RunContext

REPORT_FILE = "report.html"


def render(ctx):
    """The report page of a ``RunContext`` as a str (every section guarded: failures become notes)."""
    chosen = list(sections.COMMON_SECTIONS)
    if ctx.task in sections.TASK_SECTIONS:
        chosen.append(sections.TASK_SECTIONS[ctx.task])
    built = [(title, sections.guarded(title, build, ctx)) for title, build in chosen]
    if ctx.task not in sections.TASK_SECTIONS:
        built.append(("Task", html.section("Task", html.note(
            f"No task section for task {ctx.task!r}; sections exist for {sorted(sections.TASK_SECTIONS)}."))))
    built += [(title, sections.guarded(title, build, ctx)) for title, build in sections.LAST_SECTIONS]
    return html.page(f"rnnlab report: {os.path.basename(os.path.abspath(ctx.run_dir))}", built,
                     subtitle=f"task {ctx.task or 'unknown'}; data {ctx.data_origin()}")


def build_report(run_dir, out=None, data=None, max_examples=500, seed=0):
    """Write the report of ``run_dir`` and return its path.

    Args:
        run_dir: a model directory written by ``rnnlab train ... --out DIR`` (or a task's ``save``).
        out: the HTML file to write (replaced atomically); None: ``RUN_DIR/report.html`` (a file beside the
            model's own: it is not in the model's manifest, and a later save of the model carries it over).
        data: a data spec to evaluate on (see ``RunContext``); None: the one recorded in the directory.
        max_examples: held-out examples evaluated at most.
        seed: seed of the language-model samples.
    """
    ctx = RunContext(run_dir, data=data, max_examples=max_examples, seed=seed)
    out = os.fspath(out) if out is not None else os.path.join(ctx.run_dir, REPORT_FILE)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ValueError(f"--out {out!r}: its folder {parent!r} does not exist; create it or choose another path.")
    page = render(ctx)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html.tmp", dir=parent)
    try:                                          # atomic: a reader never sees half a page
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)                      # mkstemp's 0600 would hide the page from other users
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return out


__all__ = ["REPORT_FILE", "RunContext", "build_report", "render"]
