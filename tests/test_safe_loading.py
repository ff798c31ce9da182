"""Loading never executes code and never allocates on trust (issue 17, part 5).

A config naming an arbitrary class, module or function is refused against allow-lists; a hostile config (deeply
nested, absurd sizes, wrong types, files outside the model directory) gets a clear error before anything large is
allocated; a weights file whose header claims terabytes, has overlapping or out-of-bounds offsets or wrong dtypes
is refused before its tensors are read; archive members with absolute paths or ``..`` are never written anywhere.
Allocation is measured with ``tracemalloc`` (NumPy reports its buffers to it).
"""
import io
import json
import os
import struct
import tarfile
import tracemalloc

import numpy as np
import pytest

from rnnlab import layers, models
from rnnlab.datasets import load_imdb
from rnnlab.models import saving
from rnnlab.tasks.sentiment import SentimentClassifier
from rnnlab.text import Vocabulary

PEAK_LIMIT = 64 * 2**20          # bytes a refused load may allocate at most


@pytest.fixture
def saved(tmp_path):
    m = models.Sequential([layers.Embedding(20, 4, name="emb"), layers.LSTM(3, name="lstm"),
                           layers.Dense(2, activation="softmax", name="out")])
    m.build((None, 5))
    m.compile("adam", "sparse_categorical_crossentropy")
    m.save(tmp_path / "m")
    return tmp_path / "m"


def edit_config(path, change):
    cfg = json.loads((path / "config.json").read_text())
    change(cfg)
    (path / "config.json").write_text(json.dumps(cfg))


def refused(path, match, exc=ValueError, loader=models.load_model):
    """Assert ``loader(path)`` raises ``exc`` matching ``match`` while allocating at most PEAK_LIMIT bytes."""
    tracemalloc.start()
    try:
        with pytest.raises(exc, match=match):
            loader(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"the refused load allocated {peak} bytes"


def layer_cfg(cfg, i):
    return cfg["config"]["layers"][i]


# ---- allow-lists: no class, module or function named by a file ----------------------------------------------

@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "builtins.eval", "__import__", "Model"])
def test_model_class_outside_the_allow_list(saved, name):
    edit_config(saved, lambda c: c.update(class_name=name))
    refused(saved, rf"names model class '{name}'; expected one of \[")


@pytest.mark.parametrize("name", ["os.system", "builtins.exec", "checks", "np", "initializers", "Lambda"])
def test_layer_class_outside_the_allow_list(saved, name):
    edit_config(saved, lambda c: layer_cfg(c, 2).update(class_name=name))
    refused(saved, r"could not rebuild the model from its config \((Unknown layer class|.*Lambda)")


@pytest.mark.parametrize("field, value, match", [
    ("activation", "os.system", r"Unknown activation 'os.system'"),
    ("kernel_initializer", "posix.system", r"got kernel_initializer='posix.system'; expected one of"),
    ("activation", {"class_name": "eval"}, r"activation"),
])
def test_functions_named_in_a_layer_config(saved, field, value, match):
    edit_config(saved, lambda c: layer_cfg(c, 2)["config"].update({field: value}))
    refused(saved, match)


@pytest.mark.parametrize("compile_config, match", [
    ({"optimizer": {"class_name": "os.system"}, "loss": "mse"}, r"bad compile_config \(Unknown optimizer class"),
    ({"optimizer": "adam", "loss": "builtins.eval"}, r"bad compile_config \(Unknown loss 'builtins.eval'"),
    ({"optimizer": "adam", "loss": "mse", "metrics": ["os.system"]}, r"bad compile_config \(Unknown metric"),
    ({"optimizer": {"class_name": "adam", "__class__": "x"}, "loss": "mse"}, r"unknown key\(s\) \['__class__'\]"),
    ([1, 2], r"field 'compile_config' must be a dict or null, got list"),
])
def test_compile_config_allow_lists(saved, compile_config, match):
    edit_config(saved, lambda c: c.update(compile_config=compile_config))
    refused(saved, match)


def test_tokenizer_class_in_task_metadata(tmp_path):
    m = models.Sequential([layers.Embedding(10, 4), layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    m.build((None, 5))
    SentimentClassifier(m, "whitespace", Vocabulary(["a"]), maxlen=5).save(tmp_path / "s")
    edit_config(tmp_path / "s", lambda c: c["metadata"].update(tokenizer={"class_name": "subprocess.Popen",
                                                                          "config": {"args": "rm -rf /"}}))
    refused(tmp_path / "s", r"Unknown tokeniser class 'subprocess.Popen'", loader=SentimentClassifier.load)


# ---- hostile configs: refused before allocating ---------------------------------------------------------------

def test_deeply_nested_config(saved):
    (saved / "config.json").write_text('{"format": "rnnlab.model", "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    refused(saved, r"config.json' \(model config\) is nested too deeply|nested more than 64 levels")
    nested = {"format": "rnnlab.model", "format_version": 1}
    inner = nested
    for _ in range(100):
        inner["x"] = {}
        inner = inner["x"]
    (saved / "config.json").write_text(json.dumps(nested))
    refused(saved, r"config.json' is nested more than 64 levels deep")


@pytest.mark.parametrize("i, field, value, match", [
    (2, "units", 10**13, r"holds the integer 10000000000000, larger than 2147483647"),
    (2, "units", 2**30, r"would need \d+ bytes for weight 'kernel' of shape \(3, 1073741824\), more than the "
                        r"weights file"),
    (0, "input_dim", 2**31 - 1, r"would need \d+ bytes for weight 'embeddings'"),
    (1, "units", 2**28, r"would need \d+ bytes for weight"),
])
def test_absurd_sizes(saved, i, field, value, match):
    edit_config(saved, lambda c: layer_cfg(c, i)["config"].update({field: value}))
    refused(saved, match)


def test_absurd_input_shape_of_a_functional_model(tmp_path):
    inp = layers.Input((4,))
    out = layers.Dense(2, name="d")(inp)
    models.Model(inp, out).save(tmp_path / "f")

    def huge(c):
        for spec in c["config"]["layers"]:
            if spec["class_name"] == "InputLayer":
                spec["config"]["shape"] = [2**29]
    edit_config(tmp_path / "f", huge)
    refused(tmp_path / "f", r"input shape \(536870912,\) would need \d+ bytes for a 2-sample probe batch")


@pytest.mark.parametrize("change, match", [
    (lambda c: c.update(config="layers"), r"field 'config' must be a dict, got str"),
    (lambda c: c["config"].update(layers="abc"), r"A Sequential config needs a list 'layers', got str"),
    (lambda c: c["config"].update(layers=[1, 2]), r"could not rebuild the model from its config"),
    (lambda c: layer_cfg(c, 2)["config"].update(units="many"), r"Dense expects a positive integer 'units', got 'many'"),
    (lambda c: layer_cfg(c, 2)["config"].update(units=True), r"positive integer 'units', got True"),
    (lambda c: layer_cfg(c, 1)["config"].update(dropout=[0.5]), r"dropout to be a fraction in \[0, 1\), got \[0\.5\]"),
    (lambda c: c.update(format_version=True), r"format_version True; this rnnlab reads versions 1\.\.1"),
    (lambda c: c.update(metadata=[1]), r"field 'metadata' must be a dict or null, got list"),
    (lambda c: c.update(files={"model.safetensors": "abc"}), r"the manifest entry of 'model.safetensors' must be"),
    (lambda c: c.update(weights_file=3), r"field 'weights_file' must be a file name, got int"),
])
def test_wrong_types(saved, change, match):
    edit_config(saved, change)
    refused(saved, match)


def test_non_standard_json_numbers(saved):
    text = (saved / "config.json").read_text().replace('"units": 2', '"units": NaN', 1)
    (saved / "config.json").write_text(text)
    refused(saved, r"config.json' is not valid JSON \(non-standard JSON number NaN\)")


def test_oversized_config_is_not_read(saved):
    with open(saved / "config.json", "r+b") as f:
        f.truncate(saving.MAX_CONFIG_BYTES + 1)              # sparse: nothing is really written
    refused(saved, r"config.json' \(model config\) is \d+ bytes; at most \d+ are read")


@pytest.mark.parametrize("name", ["../outside.safetensors", "/etc/passwd", "..", "a/../../b", "sub\\..\\x", ""])
def test_weights_file_outside_the_directory(saved, name):
    edit_config(saved, lambda c: c.update(weights_file=name))
    refused(saved, r"names the weights file .*; expected a plain file name inside the model directory")


def test_manifest_entry_outside_the_directory(saved):
    edit_config(saved, lambda c: c["files"].update({"../../etc/passwd": {"sha256": "0" * 64, "size": 1}}))
    refused(saved, r"names the file listed in the manifest '\.\./\.\./etc/passwd'; expected a plain file name")


def test_symlink_leading_outside(saved, tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes((saved / "model.safetensors").read_bytes())
    (saved / "model.safetensors").unlink()
    os.symlink(secret, saved / "model.safetensors")
    refused(saved, r"model.safetensors' \(weights file\) leads outside the model directory .* through a symbolic link")


def test_task_file_outside_the_directory(tmp_path):
    m = models.Sequential([layers.Embedding(10, 4), layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    m.build((None, 5))
    SentimentClassifier(m, "whitespace", Vocabulary(["a"]), maxlen=5).save(tmp_path / "s")
    (tmp_path / "vocab.json").write_text(json.dumps(Vocabulary(["stolen"]).to_json()))
    edit_config(tmp_path / "s", lambda c: c["metadata"].update(vocab_file="../vocab.json"))
    refused(tmp_path / "s", r"names the vocabulary file '\.\./vocab.json'; expected a plain file name",
            loader=SentimentClassifier.load)


# ---- hostile weights files: the header is validated before any tensor is read ---------------------------------

def header_file(path, header, data=b"", claimed=None):
    raw = json.dumps(header).encode()
    (path / "model.safetensors").write_bytes(struct.pack("<Q", len(raw) if claimed is None else claimed) + raw + data)


def real_header(path):
    blob = (path / "model.safetensors").read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def drop_manifest(path):
    edit_config(path, lambda c: (c.pop("files", None), c.pop("weights_sha256", None)))


def test_header_claiming_terabytes(saved):
    drop_manifest(saved)
    header, data = real_header(saved)
    header_file(saved, header, data, claimed=2**42)
    refused(saved, r"not a readable safetensors file because its header claims 4398046511104 bytes")


def test_tensor_claiming_terabytes(saved):
    drop_manifest(saved)
    header, data = real_header(saved)
    header["000_emb/embeddings"]["shape"] = [2**20, 2**20]
    header_file(saved, header, data)
    refused(saved, r"tensor '000_emb/embeddings': shape \[1048576, 1048576\] of F32 needs 4398046511104 bytes, "
                   r"but its offsets span 320")


def test_overlapping_offsets(saved):
    drop_manifest(saved)
    header, data = real_header(saved)
    first, second = sorted(header.items(), key=lambda kv: kv[1].get("data_offsets", [0])[0])[1:3]
    second[1]["data_offsets"] = [first[1]["data_offsets"][0], first[1]["data_offsets"][0]
                                 + second[1]["data_offsets"][1] - second[1]["data_offsets"][0]]
    header_file(saved, header, data)
    refused(saved, r"starts at byte \d+ of the data area, expected \d+ \((overlap|gap)\)|offsets span")


def test_out_of_bounds_offsets(saved):
    drop_manifest(saved)
    header, data = real_header(saved)
    header["003_out/bias"] = dict(header.get("002_out/bias", header[next(iter(k for k in header if "bias" in k))]))
    key = next(k for k in header if k.endswith("out/bias") and k != "003_out/bias")
    header[key]["data_offsets"] = [len(data), len(data) + 8]
    header.pop("003_out/bias")
    header_file(saved, header, data)
    refused(saved, r"tensor '002_out/bias' has data_offsets \[\d+, \d+\] outside the data area")


@pytest.mark.parametrize("dtype, match", [
    ("F8_E4M3", r"has dtype 'F8_E4M3'; expected one of"),
    ("I32", r"weight '002_out/bias' is stored as I32; expected F32 or F64"),
    ("object", r"has dtype 'object'"),
])
def test_wrong_dtypes(saved, dtype, match):
    drop_manifest(saved)
    header, data = real_header(saved)
    header["002_out/bias"]["dtype"] = dtype
    header_file(saved, header, data)
    refused(saved, match)


@pytest.mark.parametrize("raw, match", [
    (b"\x05\x00\x00\x00\x00\x00\x00\x00[1,2]", r"its header is not a JSON object"),
    (b"\x04\x00\x00\x00\x00\x00\x00\x00{x:1", r"its header is not valid JSON"),
    (b"\x01\x00", r"is not a readable safetensors file \(2 bytes\)"),
    (b"\x17\x00\x00\x00\x00\x00\x00\x00" + b'{"a": {"dtype": "F32"}}', r"tensor 'a' needs 'dtype', 'shape' and "),
])
def test_garbage_headers(saved, raw, match):
    drop_manifest(saved)
    (saved / "model.safetensors").write_bytes(raw)
    refused(saved, match)


def test_huge_sparse_weights_file_is_not_read(saved):
    """A weights file padded to 1 TiB (sparse) after a valid header: refused by the header check, never read."""
    drop_manifest(saved)
    with open(saved / "model.safetensors", "r+b") as f:
        f.truncate(2**40)
    refused(saved, r"its tensors end at byte \d+ of a \d+-byte data area")


# ---- archives: members with absolute paths or .. are never written ----------------------------------------------

def test_archive_members_are_never_written(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("aclImdb/train/pos/1_9.txt", "../../../tmp/evil_rnnlab.txt", str(tmp_path / "abs.txt"),
                     "aclImdb/../../up.txt"):
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    (tmp_path / "a.tar.gz").write_bytes(buf.getvalue())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(ValueError, match="has an absolute path or '..'"):
            load_imdb("a.tar.gz")
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz"]
    assert not os.path.exists("/tmp/evil_rnnlab.txt")


def test_a_good_model_still_loads(saved):
    m = models.load_model(saved)
    assert m.predict(np.ones((2, 5), int), verbose=0).shape == (2, 2)
