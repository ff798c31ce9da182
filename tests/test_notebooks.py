"""The seed-004 notebooks in ``examples/`` run top to bottom (``nbclient``) on a small slice of the shared data:
300 reviews of each split, one epoch. Skipped when nbclient/nbformat/ipykernel or the shared data are absent."""
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = ROOT.parent / "shared" / "data"
SLICE, EPOCHS, TIMEOUT = "300", "1", 240

NOTEBOOKS = {                                           # notebook -> (data file, what its last result prints)
    "IMDb_stacked_RNN_example.ipynb": ("imdb/aclImdb_labeled.tar.xz", "stacked LSTM: test accuracy"),
    "IMDb_RNN_return_seq_true_concat.ipynb": ("imdb/aclImdb_labeled.tar.xz", "states concatenated: test accuracy"),
    "IMDb_RNN_return_seq_true_mean.ipynb": ("imdb/aclImdb_labeled.tar.xz", "states averaged: test accuracy"),
    "RNN_sentiment_Korean.ipynb": ("nsmc/ratings_test.txt.xz", "SimpleRNN: test accuracy"),
}


def _outputs(nb):
    for cell in nb.cells:
        yield from cell.get("outputs", [])


def _text(nb):
    parts = []
    for out in _outputs(nb):
        parts.append(out.get("text", "") if out.get("output_type") == "stream" else
                     str(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_on_a_slice(name, monkeypatch):
    data_file, expected = NOTEBOOKS[name]
    if not (DATA / data_file).is_file():
        pytest.skip(f"shared data {DATA / data_file} is absent")
    if name.startswith("RNN_sentiment_Korean"):
        pytest.importorskip("kiwipiepy")
    monkeypatch.setenv("RNNLAB_DATA_DIR", str(DATA))
    monkeypatch.setenv("RNNLAB_NOTEBOOK_SLICE", SLICE)
    monkeypatch.setenv("RNNLAB_NOTEBOOK_EPOCHS", EPOCHS)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    seconds = time.perf_counter() - start
    text = _text(nb)
    assert f"reviews per split: {SLICE}" in text and expected in text, text[-2000:]
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]
    images = [o for o in _outputs(nb) if "image/png" in o.get("data", {})]
    assert images, "the notebook's plots are missing from its outputs"
    print(f"{name}: {seconds:.1f}s")
