"""``rnnlab report``: the page for a tiny sentiment run and a tiny forecaster, its sections, its robustness
when parts are missing, that it refers to nothing outside itself, and that a real headless Chromium renders
every image (skipped when Chromium is not installed)."""
import argparse
import base64
import os
import re
import shutil
import struct
import subprocess
import zlib

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from rnnlab.report import build_report, cli as report_cli, html  # noqa: E402
from rnnlab.tasks import forecast, sentiment  # noqa: E402

FILLER = "the a movie film plot actor scene story was is it and this very quite".split()


@pytest.fixture(scope="module")
def sentiment_dir(tmp_path_factory):
    """A sentiment model directory trained for 2 epochs on 300 synthetic reviews (one cue word each); two
    reviews carry markup that the page must escape."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        y = int(rng.integers(0, 2))
        words = list(rng.choice(FILLER, size=8))
        words.insert(int(rng.integers(0, 9)), "great" if y else "awful")
        if i % 150 == 7:
            words.append("<script>alert(1)</script>")
        rows.append(f'"{" ".join(words)}",{y}\n')
    root = tmp_path_factory.mktemp("sentiment")
    (root / "reviews.csv").write_text("text,label\n" + "".join(rows), encoding="utf-8")
    out = root / "run"
    sentiment.train(f"csv:{root / 'reviews.csv'}", model="lstm", vocab_size=40, maxlen=12, embed_dim=8, units=8,
                    epochs=2, batch_size=32, lr=0.01, verbose=0, out=str(out))
    return out


@pytest.fixture(scope="module")
def forecast_dir(tmp_path_factory):
    """A forecaster of a noisy monthly sine (200 months), 3 epochs."""
    rng = np.random.default_rng(1)
    months = np.arange(np.datetime64("1990-01"), np.datetime64("1990-01") + 200)
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(200) / 12) + rng.normal(0, 0.3, 200)
    root = tmp_path_factory.mktemp("forecast")
    (root / "s.csv").write_text("Month,y\n" + "".join(f"{m},{v:.5f}\n" for m, v in zip(months, y)), encoding="utf-8")
    out = root / "run"
    forecast.train(f"csv:{root / 's.csv'}", column="y", input_width=12, horizon=6, model="gru", units=8, epochs=3,
                   test=24, verbose=0, statistical=False, out=str(out))
    return out


@pytest.fixture(scope="module")
def sentiment_page(sentiment_dir):
    path = build_report(sentiment_dir)
    return path, open(path, encoding="utf-8").read()


@pytest.fixture(scope="module")
def forecast_page(forecast_dir, tmp_path_factory):
    path = build_report(forecast_dir, out=tmp_path_factory.mktemp("out") / "fc.html")
    return path, open(path, encoding="utf-8").read()


def _sections(page):
    return re.findall(r'<section id="([^"]+)"><h2>', page)


def _notes(page):
    return re.findall(r'<p class="note">(.*?)</p>', page)


def _png_sizes(page):
    """(width, height) of every inline image, read from its PNG header; the image data is inflated to
    check it is whole."""
    sizes = []
    for data in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page):
        png = base64.b64decode(data, validate=True)
        assert png[:8] == html.PNG_MAGIC and png[12:16] == b"IHDR"
        idat = b"".join(png[i + 8:i + 8 + struct.unpack(">I", png[i:i + 4])[0]]
                        for i in [m.start() - 4 for m in re.finditer(b"IDAT", png)])
        assert len(zlib.decompress(idat)) > 0
        sizes.append(struct.unpack(">II", png[16:24]))
    return sizes


def test_sentiment_page_has_every_section(sentiment_page):
    path, page = sentiment_page
    assert os.path.basename(path) == "report.html"
    assert _sections(page) == ["overview", "training-curves", "gradient-flow",
                               "sentiment--confusion-matrix-and-mistakes", "configuration"]
    assert _notes(page) == []
    assert page.count("<img ") == 3                              # curves, gradient flow, confusion matrix
    assert all(w > 100 and h > 100 for w, h in _png_sizes(page))
    assert "most confident mistakes" in page and "true \\ predicted" in page
    assert "spectral radius" in page and "lstm" in page


def test_forecast_page_has_every_section(forecast_page):
    _, page = forecast_page
    assert _sections(page) == ["overview", "training-curves", "gradient-flow", "forecast", "configuration"]
    assert _notes(page) == []                        # the forecast run wrote its curves.png beside the model
    assert page.count("<img ") == 3 and len(_png_sizes(page)) == 3
    assert "first test origin" in page and "SeasonalNaive" in page


def test_text_is_escaped(sentiment_page):
    _, page = sentiment_page
    assert "<script" not in page.lower()
    assert html.escape("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"
    assert html.table([("<i>", 1.5)]) == '<table><tr><td>&lt;i&gt;</td><td class="num">1.5</td></tr></table>'


def test_no_external_references(sentiment_page, forecast_page):
    for _, page in (sentiment_page, forecast_page):
        refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', page, flags=re.I)
        assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
        assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', page, flags=re.I)
        assert "@import" not in page and "url(" not in page


def _bare_copy(run_dir, to):
    """The model alone, saved again: no history, curves or training_config.json (so no recorded data)."""
    sentiment.load(run_dir).save(str(to))
    assert not (to / "training_config.json").exists() and not (to / "curves.png").exists()
    return to


def test_missing_parts_become_notes(sentiment_dir, tmp_path):
    run = _bare_copy(sentiment_dir, tmp_path / "bare")
    page = open(build_report(run), encoding="utf-8").read()
    notes = _notes(page)
    assert any("No training history" in n for n in notes)
    assert sum("No data" in n and "--data" in n for n in notes) == 2           # gradient flow and the task section
    assert page.count("<img ") == 0


def test_data_given_on_the_command_line(sentiment_dir, tmp_path, capsys):
    run = _bare_copy(sentiment_dir, tmp_path / "bare")
    parser = argparse.ArgumentParser(prog="rnnlab")
    report_cli.register(parser.add_subparsers(dest="command"))
    out = tmp_path / "r.html"
    args = parser.parse_args(["report", str(run), "--out", str(out), "--max-examples", "40",
                              "--data", f"csv:{sentiment_dir.parent / 'reviews.csv'}"])
    assert args.func(args) == 0 and f"wrote {out}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert [n for n in _notes(page) if not n.startswith("No training history")] == []
    assert "40 held-out texts" in page and page.count("<img ") == 2          # gradient flow, confusion matrix


def test_a_broken_model_is_reported_not_raised(sentiment_dir, tmp_path):
    run = tmp_path / "broken"
    shutil.copytree(sentiment_dir, run)
    (run / "model.safetensors").write_bytes(b"not weights")
    page = open(build_report(run), encoding="utf-8").read()
    assert "could not be built" in page and "training-curves" in page and page.count("<img ") == 1


def test_errors_say_what_was_given(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        build_report(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="does not exist"):
        build_report(tmp_path, out=tmp_path / "no" / "r.html")
    with pytest.raises(ValueError, match="PNG"):
        html.image(b"GIF89a", "x")
    with pytest.raises(SystemExit):
        report_cli.main([str(tmp_path), "--max-examples", "0"])


def test_language_model_samples(tmp_path):
    lm = pytest.importorskip("rnnlab.tasks.lm")
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("the cat sat on the mat .\nthe dog ate the bone .\na bird sang a song .\n" * 40,
                      encoding="utf-8")
    lm.train(f"text:{corpus}", out=str(tmp_path / "run"), verbose=0, units=16, layers=1, num_steps=6,
             batch_size=4, epochs=1, optimizer="adam", lr=0.02, valid_fraction=0.2)
    page = open(build_report(tmp_path / "run"), encoding="utf-8").read()
    assert _sections(page) == ["overview", "training-curves", "gradient-flow", "language-model--samples",
                               "configuration"]
    assert _notes(page) == [] and "Validation perplexity" in page and page.count("<img ") == 2


def test_translation_attention_maps(tmp_path):
    translate = pytest.importorskip("rnnlab.tasks.translate")
    words = "a b c d e f".split()
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("".join(f"{x} {y} {z}\t{z} {y} {x}\n" for x in words for y in words for z in words),
                     encoding="utf-8")
    translate.train(f"tatoeba:{pairs}", src="en", tgt="fr", max_pairs=200, min_freq=1, units=8, embed_dim=8,
                    attention="luong", epochs=1, verbose=0, out=str(tmp_path / "run"))
    page = open(build_report(tmp_path / "run", data=f"tatoeba:{pairs}"), encoding="utf-8").read()
    assert "translation--attention-maps" in _sections(page)
    assert page.count('alt="attention map: ') == 3, _notes(page)


# ---- a real browser ------------------------------------------------------------------------------------------

def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("Chromium is not installed (apt-get install -y chromium)")


def _run_chromium(args, tmp_path):
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
           '--host-resolver-rules=MAP * ~NOTFOUND', *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("which", ["sentiment_page", "forecast_page"])
def test_chromium_renders_the_plots(which, request, tmp_path):
    path, _ = request.getfixturevalue(which)
    shot = tmp_path / "shot.png"
    proc = _run_chromium([f"--screenshot={shot}", "--window-size=1200,2000", f"file://{os.path.abspath(path)}"],
                         tmp_path)
    assert shot.is_file(), proc.stderr[-2000:]
    import matplotlib.image
    rgb = matplotlib.image.imread(str(shot))[..., :3]
    assert rgb.shape[:2] == (2000, 1200)
    assert rgb.std() > 0.05                                            # not blank
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    coloured = (spread > 0.3) & (rgb[..., 2] > rgb[..., 0])            # the plots' blue lines and bars
    assert coloured.sum() > 500, coloured.sum()


def test_chromium_decodes_every_image(sentiment_page, tmp_path):
    """The browser's own decoder: a copy of the page with a tiny script writing each image's naturalWidth
    into the DOM, read back with --dump-dom (the report itself has no script)."""
    _, page = sentiment_page
    probe = ("<script>window.addEventListener('load', () => { const p = document.createElement('pre'); "
             "p.id = 'widths'; p.textContent = Array.from(document.images, i => i.naturalWidth + 'x' + "
             "i.naturalHeight + ':' + i.src.slice(0, 22)).join(' '); document.body.appendChild(p); });</script>")
    copy = tmp_path / "probe.html"
    copy.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    proc = _run_chromium(["--dump-dom", "--virtual-time-budget=5000", f"file://{copy}"], tmp_path)
    found = re.search(r'<pre id="widths">([^<]*)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    images = found.group(1).split()
    assert len(images) == page.count("<img ") == 3
    for item in images:
        size, src = item.split(":", 1)
        w, h = map(int, size.split("x"))
        assert w > 0 and h > 0 and src == "data:image/png;base64,"
