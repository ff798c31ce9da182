import json

import numpy as np
import pytest

from rnnlab import layers, models, optimizers
from rnnlab.models import saving


@pytest.fixture
def trained(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, size=(20, 6))
    y = rng.integers(0, 3, size=20)
    model = models.Sequential([layers.Embedding(12, 5, mask_zero=True, name="emb"),
                               layers.Bidirectional(layers.LSTM(4, return_sequences=True), name="bi"),
                               layers.GRU(3, name="gru"),
                               layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizers.Adam(0.01, clipnorm=1.0), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model"
    model.save(path, metadata={"task": "unit-test", "note": "kept"})
    return model, x, y, path


def test_round_trip_predicts_identically(trained):
    model, x, y, path = trained
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    loaded = models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert isinstance(loaded.optimizer, optimizers.Adam) and loaded.optimizer.clipnorm == 1.0
    assert loaded.loss.name == "sparse_categorical_crossentropy"
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert saving.load_metadata(path) == {"task": "unit-test", "note": "kept"}
    loaded.fit(x, y, epochs=1, verbose=0)                     # and it trains on


def test_weight_keys_and_no_pickle(trained):
    model, _, _, path = trained
    from safetensors.numpy import load_file
    keys = sorted(load_file(str(path / "model.safetensors")))
    assert keys[0] == "000_emb/embeddings"
    assert "003_out/kernel" in keys and "003_out/bias" in keys and "002_gru/recurrent_kernel" in keys
    assert len(keys) == len(model.weights)
    config = json.loads((path / "config.json").read_text())
    assert config["format"] == "rnnlab.model" and config["format_version"] == 1
    assert config["class_name"] == "Sequential"
    assert [l["class_name"] for l in config["config"]["layers"]] == ["Embedding", "Bidirectional", "GRU", "Dense"]
    for f in path.iterdir():
        assert b"\x80\x04\x95" not in f.read_bytes()[:4]     # no pickle protocol header anywhere


def test_extra_files_are_allowed(trained):
    model, x, _, path = trained
    (path / "vocab.json").write_text('{"a": 2}')
    np.testing.assert_array_equal(models.load_model(path).predict(x), model.predict(x))
    model.save(path)                                           # re-saving keeps other files
    assert (path / "vocab.json").read_text() == '{"a": 2}'


def test_truncated_weights_file(trained):
    _, _, _, path = trained
    w = path / "model.safetensors"
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"model.safetensors' is not a readable safetensors"
                                         r" file .*truncated or corrupted"):
        models.load_model(path)


def test_garbage_config(trained):
    _, _, _, path = trained
    (path / "config.json").write_bytes(b"\x00\x01garbage{")
    with pytest.raises(ValueError, match=r"config.json' is not valid JSON"):
        models.load_model(path)


def test_foreign_config(trained):
    _, _, _, path = trained
    (path / "config.json").write_text('{"model": "something else"}')
    with pytest.raises(ValueError, match=r"config.json' is not an rnnlab model config"):
        models.load_model(path)


def test_wrong_config(trained):
    _, _, _, path = trained
    config = json.loads((path / "config.json").read_text())
    config["config"]["layers"][3]["config"]["units"] = 4          # Dense(4) does not match the saved (.., 3)
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"weight '003_out/kernel' has shape \(3, 3\),"
                                         r" but the model in config.json needs \(3, 4\)"):
        models.load_model(path)
    config["config"]["layers"][3]["class_name"] = "os.system"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"could not rebuild the model from its config"
                                         r" \(Unknown layer class 'os.system'"):
        models.load_model(path)
    config["class_name"] = "NoSuchModel"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="names model class 'NoSuchModel'; expected one of"):
        models.load_model(path)


def test_missing_weight(trained):
    _, _, _, path = trained
    from safetensors.numpy import load_file, save_file
    tensors = load_file(str(path / "model.safetensors"))
    del tensors["003_out/bias"]
    save_file(tensors, str(path / "model.safetensors"))
    with pytest.raises(ValueError, match=r"does not match config.json: missing weights \['003_out/bias'\]"):
        models.load_model(path)


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model found at"):
        models.load_model(tmp_path / "nope")
    with pytest.raises(ValueError, match="config.json' is missing"):
        models.load_model(tmp_path)


def test_failed_save_leaves_previous_model_intact(trained, monkeypatch):
    model, x, y, path = trained
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    model.fit(x, y, epochs=2, verbose=0)                           # the weights change

    def crash(f, data):
        f.write(data[: len(data) // 2])                            # half written, then the "crash"
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(saving, "_write_file", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before     # no temp files left, old files intact
    monkeypatch.undo()
    loaded = models.load_model(path)
    assert not np.array_equal(loaded.predict(x), model.predict(x))        # it is the previous good model
    model.save(path)
    np.testing.assert_array_equal(models.load_model(path).predict(x), model.predict(x))


def test_unsaveable_metadata(trained, tmp_path):
    model, _, _, _ = trained
    with pytest.raises(ValueError, match="is not JSON-able"):
        model.save(tmp_path / "m2", metadata={"f": object()})


def test_weights_from_another_save_are_refused(trained, tmp_path):
    """As if a crash fell between renaming the new weights and the new config."""
    model, x, y, path = trained
    model.fit(x, y, epochs=1, verbose=0)                      # same architecture, new weights
    newer = tmp_path / "newer"
    model.save(newer)
    (path / "model.safetensors").write_bytes((newer / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"model\.safetensors' is not the weights file that .*config\.json' was "
                                         r"saved with \(SHA-256 differs\).*Re-save the model"):
        models.load_model(path)


def test_config_without_a_weights_digest_still_loads(trained):
    model, x, _, path = trained
    cfg = json.loads((path / "config.json").read_text())
    assert len(cfg.pop("weights_sha256")) == 64
    (path / "config.json").write_text(json.dumps(cfg))
    np.testing.assert_array_equal(models.load_model(path).predict(x), model.predict(x))
