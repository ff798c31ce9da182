"""CSVLogger (Keras's file format), TensorBoard (event files read back by parsing the TFRecord framing)
and the training artefacts (write_run_artifacts, RunArtifacts)."""
import json
import os
import struct

import numpy as np
import pytest

from rnnlab import callbacks, diagnostics
from rnnlab.artifacts import RunArtifacts, write_run_artifacts
from rnnlab.diagnostics import experiments


def _tiny_model():
    x, y = experiments.first_token_batch(40, 6, 3)
    return experiments.build("simple_rnn", 6, 4, 3), x, y


# ---- CSVLogger -----------------------------------------------------------------------------------

def _feed(logger, epochs_logs, begin=True):
    if begin:
        logger.on_train_begin()
    for e, logs in enumerate(epochs_logs):
        logger.on_epoch_end(e, logs)
    logger.on_train_end()


def test_csv_logger_writes_keras_format(tmp_path):
    """Keras 3's CSVLogger writes ``epoch`` then the sorted keys, adds ``val_`` columns (``NA``) when the first
    epoch has none, uses the csv excel dialect (``\\r\\n`` rows) and, with append, no second header."""
    path = tmp_path / "log.csv"
    _feed(callbacks.CSVLogger(path), [{"loss": 0.5, "accuracy": 0.25}, {"loss": 0.25, "accuracy": 0.5}])
    assert path.read_bytes().decode() == ("epoch,accuracy,loss,val_accuracy,val_loss\r\n"
                                          "0,0.25,0.5,NA,NA\r\n1,0.5,0.25,NA,NA\r\n")
    _feed(callbacks.CSVLogger(path, append=True), [{"loss": 0.125, "accuracy": 0.75}])
    assert path.read_bytes().decode().count("epoch") == 1
    assert path.read_bytes().decode().endswith("0,0.75,0.125,NA,NA\r\n")
    semi = tmp_path / "semi.csv"
    _feed(callbacks.CSVLogger(semi, separator=";"), [{"loss": 1.0, "val_loss": 2.0, "seq": [1, 2]}])
    assert semi.read_bytes().decode() == 'epoch;loss;seq;val_loss\r\n0;1.0;"""[1, 2]""";2.0\r\n'
    with pytest.raises(ValueError, match="separator"):
        callbacks.CSVLogger(path, separator=";;")


def test_csv_logger_in_fit(tmp_path):
    model, x, y = _tiny_model()
    path = tmp_path / "run" / "history.csv"
    history = model.fit(x, y, epochs=2, batch_size=20, verbose=0, validation_split=0.5,
                        callbacks=[callbacks.CSVLogger(path)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss"
    assert [float(v) for v in lines[2].split(",")] == [1.0, history.history["loss"][1], history.history["val_loss"][1]]


# ---- TensorBoard: read the event files back ------------------------------------------------------

def _crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def read_scalars(folder):
    """``{tag: [(step, value)]}`` of every event file in ``folder``: TFRecord framing (length, masked CRC32C of
    the length, payload, masked CRC32C of the payload), each payload a tensorflow ``Event`` protobuf."""
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    out = {}
    for name in sorted(os.listdir(folder)):
        if not name.startswith("events.out.tfevents."):
            continue
        data = open(os.path.join(folder, name), "rb").read()
        pos = 0
        while pos < len(data):
            header = data[pos:pos + 8]
            (length,), (len_crc,) = struct.unpack("<Q", header), struct.unpack("<I", data[pos + 8:pos + 12])
            assert len_crc == _masked(_crc32c(header))
            payload = data[pos + 12:pos + 12 + length]
            (data_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
            assert data_crc == _masked(_crc32c(payload))
            pos += 16 + length
            event = event_pb2.Event.FromString(payload)
            for v in event.summary.value:
                value = v.simple_value if v.HasField("simple_value") else float(np.asarray(v.tensor.float_val)[0])
                out.setdefault(v.tag, []).append((event.step, value))
    return out


def test_tensorboard_event_files_hold_the_logged_scalars(tmp_path):
    pytest.importorskip("tensorboardX")
    model, x, y = _tiny_model()
    tb = callbacks.TensorBoard(tmp_path / "tb", update_freq=1)
    flow = diagnostics.GradientFlow(log_to=[tb])
    history = model.fit(x, y, epochs=2, batch_size=10, verbose=0, validation_split=0.5, callbacks=[tb, flow])
    train = read_scalars(tmp_path / "tb" / "train")
    valid = read_scalars(tmp_path / "tb" / "validation")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in valid["epoch_loss"]], history.history["val_loss"], rtol=1e-6)
    assert [s for s, _ in train["batch_loss"]] == [1, 2, 3, 4]              # 2 steps per epoch, every step
    tag = "hidden_grad/simple_rnn/last"
    assert [s for s, _ in train[tag]] == [0, 2]                              # GradientFlow: first step of each epoch
    np.testing.assert_allclose([v for _, v in train[tag]], flow.history[tag], rtol=1e-6)
    assert "spectral_radius/simple_rnn/h" in train and "grad_norm/simple_rnn/kernel" in train
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(tmp_path, update_freq="batchwise")


# ---- training artefacts -------------------------------------------------------------------------------

def test_write_run_artifacts(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.5, 0.75], "accuracy": [0.25, 0.5]}
    paths = write_run_artifacts(tmp_path / "m", history, {"units": np.int64(8), "cell": "lstm"})
    assert set(paths) == {"csv", "json", "png", "config"}
    assert (tmp_path / "m" / "history.csv").read_text().splitlines() == [
        "epoch,accuracy,loss,val_loss", "0,0.25,1.0,1.5", "1,0.5,0.5,0.75"]
    assert json.loads((tmp_path / "m" / "history.json").read_text())["val_loss"] == [1.5, 0.75]
    assert json.loads((tmp_path / "m" / "training_config.json").read_text()) == {"cell": "lstm", "units": 8}
    assert (tmp_path / "m" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    rows = [{"epoch": 1, "train_loss": 5.0, "valid_loss": 5.5}, {"epoch": 2, "train_loss": 4.0, "valid_loss": 4.5}]
    write_run_artifacts(tmp_path / "lm", rows, None, plot=False)
    assert (tmp_path / "lm" / "history.csv").read_text().splitlines()[0] == "epoch,train_loss,valid_loss"
    assert not (tmp_path / "lm" / "curves.png").exists()
    with pytest.raises(ValueError, match="different lengths"):
        write_run_artifacts(tmp_path / "bad", {"loss": [1.0], "val_loss": []})


def test_run_artifacts_callback(tmp_path):
    model, x, y = _tiny_model()
    model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[RunArtifacts(tmp_path, {"epochs": 2})])
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == "epoch,loss"
    assert (tmp_path / "curves.png").exists() and (tmp_path / "training_config.json").exists()
