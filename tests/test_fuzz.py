"""Fuzzing the readers of untrusted input with hypothesis (issue 17, part 6).

Each reader gets arbitrary (and arbitrary-but-structured) input and may only succeed or raise its documented
exception types: the IMDb archive reader, the NSMC/CSV/TSV readers, vocabulary JSON, the model config JSON, the
safetensors header and the command-line parser. ``deadline`` catches hangs; inputs are small and the readers
cap what they read, so memory stays bounded (the model-directory fuzzers also measure it with tracemalloc).
The whole module runs in well under a minute.
"""
import gzip
import io
import json
import os
import shutil
import struct
import tarfile
import tempfile
import tracemalloc

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rnnlab import cli, layers, models  # noqa: E402
from rnnlab.datasets import load_csv, load_imdb, load_nsmc  # noqa: E402
from rnnlab.models import saving  # noqa: E402
from rnnlab.tasks.sentiment import SentimentConfig  # noqa: E402
from rnnlab.text import LMVocabulary, Vocabulary  # noqa: E402

FUZZ = settings(max_examples=80, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
MEMORY_LIMIT = 64 * 2**20

json_values = st.recursive(        # Python's json module also reads and writes NaN and Infinity
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30)


@pytest.fixture(scope="module")
def work():
    d = tempfile.mkdtemp(prefix="rnnlab-fuzz-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def put(work, name, data):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


# ---- IMDb archives ---------------------------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".tar", ".tar.gz", ".tar.xz", ".tar.bz2"]))
def test_imdb_random_bytes(work, data, suffix):
    path = put(work, "imdb" + suffix, data)
    with pytest.raises(ValueError):
        load_imdb(path)


member_names = st.one_of(
    st.builds(lambda s, l, i, r: f"aclImdb/{s}/{l}/{i}_{r}.txt", st.sampled_from(["train", "test", "unsup"]),
              st.sampled_from(["neg", "pos", "x"]), st.integers(0, 99), st.integers(0, 10)),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=30),
    st.sampled_from(["../aclImdb/train/pos/1_1.txt", "/abs/train/neg/2_2.txt", "aclImdb/train/pos/../../x.txt"]))


@FUZZ
@given(members=st.lists(st.tuples(member_names, st.binary(max_size=64)), max_size=8))
def test_imdb_random_archives(work, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = put(work, "imdb.tar.gz", gzip.compress(buf.getvalue()))
    before = set(os.listdir(work))
    try:
        (x_train, y_train), (x_test, y_test) = load_imdb(path)
    except ValueError:
        pass
    else:
        assert len(x_train) == len(y_train) and len(x_test) == len(y_test)
        assert set(np.unique(np.concatenate([y_train, y_test]))) <= {0, 1}
    assert set(os.listdir(work)) == before                 # nothing extracted anywhere


# ---- NSMC / CSV / TSV --------------------------------------------------------------------------------------------

cells = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
rows = st.lists(st.lists(cells | st.sampled_from(["0", "1", "2", '"', '""', "\t", ","]), max_size=4), max_size=6)


@FUZZ
@given(rows=rows, header=st.booleans(), raw=st.binary(max_size=64))
def test_nsmc_reader(work, rows, header, raw):
    text = ("id\tdocument\tlabel\n" if header else "") + "\n".join("\t".join(r) for r in rows)
    path = put(work, "ratings.txt", text.encode("utf-8") + raw)
    try:
        texts, labels = load_nsmc(path)
    except ValueError:
        return
    assert len(texts) == len(labels) and set(labels.tolist()) <= {0, 1}


@FUZZ
@given(rows=rows, delimiter=st.sampled_from([",", "\t", ";", ",,", ""]), quoting=st.booleans(),
       has_header=st.booleans(), text_column=st.sampled_from([0, 1, "text", -1, 2.5]),
       num_classes=st.sampled_from([2, 3, 1]), compress=st.booleans())
def test_csv_reader(work, rows, delimiter, quoting, has_header, text_column, num_classes, compress):
    sep = delimiter if len(delimiter) == 1 else ","
    text = "\n".join(sep.join(r) for r in rows)
    data = text.encode("utf-8")
    path = put(work, "data.csv.gz" if compress else "data.csv", gzip.compress(data) if compress else data)
    try:
        texts, labels = load_csv(path, text_column, 1, delimiter=delimiter, has_header=has_header, quoting=quoting,
                                 num_classes=num_classes)
    except (ValueError, TypeError):
        return
    assert len(texts) == len(labels) and all(0 <= v < num_classes for v in labels.tolist())


# ---- vocabulary JSON --------------------------------------------------------------------------------------------

vocab_like = st.fixed_dictionaries({"format": st.sampled_from(["rnnlab.vocabulary", "x"]),
                                    "version": st.sampled_from([1, 2, "1"])},
                                   optional={"tokens": json_values | st.lists(st.text(max_size=4), max_size=6),
                                             "pad_token": json_values, "oov_token": json_values,
                                             "counts": json_values | st.lists(st.integers(-5, 5), max_size=6)})


@FUZZ
@given(data=vocab_like | json_values)
def test_vocabulary_from_json(data):
    try:
        v = Vocabulary.from_json(data)
    except ValueError:
        return
    assert v.tokens[:2] == [v.pad_token, v.oov_token]


@FUZZ
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_vocabulary_files(work, raw):
    path = put(work, "vocab.json", raw)
    for loader in (Vocabulary.load, LMVocabulary.load):
        try:
            loader(path)
        except ValueError:
            pass


lm_vocab_like = st.fixed_dictionaries({"format": st.sampled_from(["rnnlab.lm_vocabulary", "x"]), "version": st.just(1)},
                                      optional={"tokens": json_values | st.lists(st.text(max_size=3), max_size=5),
                                                "unk": json_values, "level": st.sampled_from(["word", "char", 3]),
                                                "counts": json_values})


@FUZZ
@given(data=lm_vocab_like | json_values)
def test_lm_vocabulary_from_dict(data):
    try:
        LMVocabulary.from_dict(data)
    except ValueError:
        pass


# ---- model config JSON and the safetensors header ------------------------------------------------------------

@pytest.fixture(scope="module")
def good_dir(work):
    m = models.Sequential([layers.Embedding(12, 4, name="emb"), layers.GRU(3, name="gru"),
                           layers.Dense(2, activation="softmax", name="out")])
    m.build((None, 5))
    m.compile("adam", "sparse_categorical_crossentropy")
    path = os.path.join(work, "good")
    m.save(path)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(path, "model.safetensors"), "rb") as f:
        weights = f.read()
    return config, weights


def paths_of(value, prefix=()):
    """Every path (tuple of keys/indices) into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths_of(v, prefix + (i,))


def replaced(value, path, new):
    if not path:
        return new
    value = json.loads(json.dumps(value))
    node = value
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return value


def load_bounded(path):
    """load_model(path): must succeed or raise ValueError, allocating less than MEMORY_LIMIT."""
    tracemalloc.start()
    try:
        try:
            models.load_model(path)
        except ValueError:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"load allocated {peak} bytes"


@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_model_config_mutations(work, good_dir, data):
    config, weights = good_dir
    where = data.draw(st.sampled_from(list(paths_of(config))))
    new = data.draw(json_values | st.integers(2**20, 2**40) | st.sampled_from(["os.system", "../x", "", "Lambda"]))
    path = os.path.join(work, "mutant")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    put(path, "model.safetensors", weights)
    put(path, "config.json", json.dumps(replaced(config, where, new)))
    load_bounded(path)


@FUZZ
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_model_config_bytes(work, good_dir, raw):
    _, weights = good_dir
    path = os.path.join(work, "raw")
    os.makedirs(path, exist_ok=True)
    put(path, "model.safetensors", weights)
    put(path, "config.json", raw)
    load_bounded(path)


tensor_entries = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "I32", "BF16", "x", 3]),
    "shape": st.lists(st.integers(-1, 2**33), max_size=3) | json_values,
    "data_offsets": st.lists(st.integers(-8, 2**40), min_size=0, max_size=3) | json_values})


@FUZZ
@given(header=st.dictionaries(st.sampled_from(["000_emb/embeddings", "002_out/bias", "x", "__metadata__"]),
                              tensor_entries | json_values, max_size=4) | json_values,
       claimed=st.none() | st.integers(0, 2**64 - 1), tail=st.binary(max_size=64))
def test_safetensors_headers(work, header, claimed, tail):
    raw = json.dumps(header).encode()
    n = len(raw) if claimed is None else claimed
    path = put(work, "w.safetensors", struct.pack("<Q", n) + raw + tail)
    try:
        out = saving.read_safetensors_header(path)
    except ValueError:
        return
    size = os.path.getsize(path)
    for _dtype, _shape, begin, end in out.values():
        assert 0 <= begin <= end <= size


@FUZZ
@given(data=st.data())
def test_weights_file_mutations(work, good_dir, data):
    config, weights = good_dir
    blob = bytearray(weights)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.none() | st.integers(0, len(blob)))
    path = os.path.join(work, "wmut")
    os.makedirs(path, exist_ok=True)
    put(path, "model.safetensors", bytes(blob[:cut] if cut is not None else blob))
    put(path, "config.json", json.dumps({k: v for k, v in config.items() if k not in ("files", "weights_sha256")}))
    load_bounded(path)


# ---- the command line ---------------------------------------------------------------------------------------------

words = st.sampled_from(["train", "sentiment", "lm", "forecast", "translate", "caption", "predict", "evaluate",
                         "generate", "summary", "export", "convert", "demo", "diagnose", "--data", "--epochs",
                         "--lr", "--units", "--model", "--out", "--help", "-h", "--version", "--steps", "--lengths",
                         "0", "-1", "1e309", "nan", "x", "imdb:x", "--", "-", "--no-such-flag", "--quiet"])


@settings(FUZZ, max_examples=150)
@given(argv=st.lists(words | st.text(max_size=6), max_size=6))
def test_cli_argument_parsing(argv, capsys):
    """Parsing alone (no command runs): a Namespace or argparse's own exit (SystemExit), nothing else."""
    parser = cli.build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as e:
        assert e.code in (0, 2)
    capsys.readouterr()


@FUZZ
@given(values=st.dictionaries(st.sampled_from(["units", "maxlen", "dropout", "lr", "model", "clipnorm", "seed",
                                               "text_column", "ema", "patience"]),
                              json_values, max_size=4))
def test_task_config_from_dict(values):
    """The settings saved with a model (read back with from_dict) fail only with ValueError/TypeError."""
    try:
        SentimentConfig.from_dict(values)
    except (ValueError, TypeError):
        pass
