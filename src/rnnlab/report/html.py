"""Page assembly for ``rnnlab report``: small builders that return HTML strings, every text escaped, every
image inlined as a base64 PNG ``data:`` URI, the style sheet in the page. Nothing refers outside the file,
so the page opens offline and can be mailed or archived as it is.

Example::

    from rnnlab.report import html
    body = html.section("Config", html.table([("units", 64), ("cell", "lstm")]))
    page = html.page("runs/imdb", [body])          # a complete <!DOCTYPE html> document, as a str
"""
import base64
import html as _html

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; border-bottom: 2px solid #36c; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; color: #234; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; white-space: pre-wrap; }
th { background: #eef2f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; margin: .4em 0; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .85em; }
p.note { color: #8a5300; background: #fff6e5; border-left: 4px solid #f0a020; padding: .4em .7em; }
nav a { margin-right: 1em; }
""".strip()

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def escape(value):
    """``value`` as text safe inside HTML elements and quoted attributes (``<``, ``>``, ``&``, quotes)."""
    return _html.escape(str(value), quote=True)


def anchor(title):
    """A stable id for a section title: lower case, letters and digits kept, the rest as ``-``."""
    return "".join(c if c.isalnum() else "-" for c in str(title).lower()).strip("-") or "section"


def image(png, alt):
    """An ``<img>`` holding ``png`` (the bytes of a PNG file) inline as ``data:image/png;base64,...``.

    Raises ValueError when ``png`` is not PNG data (say, a path was passed instead of the file's bytes)."""
    if not isinstance(png, (bytes, bytearray)) or not bytes(png).startswith(PNG_MAGIC):
        got = f"{type(png).__name__} starting {bytes(png[:8])!r}" if isinstance(png, (bytes, bytearray)) \
            else type(png).__name__
        raise ValueError(f"html.image expects the bytes of a PNG file, got {got}; read the file first "
                         "(open(path, 'rb').read()) or draw it with figures.png_bytes(fig).")
    data = base64.b64encode(bytes(png)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def note(text):
    """A highlighted remark: why a section is empty, what to pass to fill it."""
    return f'<p class="note">{escape(text)}</p>'


def paragraph(text):
    return f"<p>{escape(text)}</p>"


def pre(text):
    """Preformatted text (a model summary, a generated sample), escaped."""
    return f"<pre>{escape(text)}</pre>"


def _cell(value, tag):
    if isinstance(value, float):
        return f'<{tag} class="num">{value:.6g}</{tag}>'
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f'<{tag} class="num">{value}</{tag}>'
    return f"<{tag}>{escape(value)}</{tag}>"


def table(rows, header=None):
    """An HTML table of ``rows`` (each a sequence of cells; floats shown with 6 significant digits)."""
    head = "<tr>" + "".join(_cell(h, "th") for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(_cell(v, "td") for v in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def settings_table(pairs, per_row=3):
    """``(name, value)`` pairs laid out ``per_row`` to a row (name, value, name, value, ...): long
    configurations stay short on the page."""
    pairs = list(pairs)
    rows = []
    for k in range(0, len(pairs), per_row):
        chunk = pairs[k:k + per_row]
        rows.append([x for pair in chunk for x in pair] + ["", ""] * (per_row - len(chunk)))
    return table(rows, ["setting", "value"] * min(per_row, max(len(pairs), 1)))


def section(title, *parts):
    """``<section>`` with an ``<h2>`` title and the given HTML parts (already built by the functions here)."""
    return f'<section id="{anchor(title)}"><h2>{escape(title)}</h2>' + "".join(parts) + "</section>"


def page(title, sections, subtitle=None):
    """A whole document: the title, a table of contents of the sections' titles, the sections.

    Args:
        title: the page heading (e.g. the run directory); escaped.
        sections: ``(title, html)`` pairs, ``html`` made with ``section`` (or any trusted HTML).
        subtitle: an optional line under the heading; escaped.
    """
    nav = " ".join(f'<a href="#{anchor(t)}">{escape(t)}</a>' for t, _ in sections)
    sub = paragraph(subtitle) if subtitle else ""
    body = "\n".join(h for _, h in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body><h1>{escape(title)}</h1>{sub}<nav>{nav}</nav>\n{body}\n</body></html>\n")
