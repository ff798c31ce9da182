"""Each remaining user-triggerable error of models/losses/optimisers/metrics/callbacks/saving/utils, pinned."""
import json

import numpy as np
import pytest

from rnnlab import callbacks, layers, losses, metrics, models, optimizers, utils


@pytest.fixture
def model():
    m = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    m.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    return m


def test_fit_argument_errors(model):
    x, y = np.ones((6, 4)), np.zeros(6, int)
    with pytest.raises(ValueError, match="epochs=-1; expected a non-negative integer"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data must be a tuple \(x_val, y_val\)"):
        model.fit(x, y, validation_data=x, verbose=0)
    with pytest.raises(ValueError, match="validation_split=0.6 leaves 0 training and 2 validation samples out of 2"):
        model.fit(x[:2], y[:2], validation_split=0.6, verbose=0)
    with pytest.raises(ValueError, match=r"fit\(\) needs targets y; got y=None"):
        model.fit(x, None, verbose=0)
    with pytest.raises(TypeError, match="x must be numeric, got an array of dtype <U"):
        model.fit(np.array([["a"] * 4] * 6), y, verbose=0)
    with pytest.raises(TypeError, match="callbacks must be rnnlab.callbacks.Callback instances, got function"):
        model.fit(x, y, verbose=0, callbacks=[lambda: None])
    m2 = models.Sequential([layers.Dense(1, input_shape=(4,))])
    m2.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"y contains NaN or infinite values"):
        m2.fit(x, np.full((6, 1), np.nan), verbose=0)


def test_compile_errors(model):
    with pytest.raises(ValueError, match=r"Metric names must be distinct and not 'loss'"):
        model.compile("sgd", "mse", metrics=["accuracy", "accuracy"])
    with pytest.raises(TypeError, match="metrics must be a list of names or Metric objects, got dict"):
        model.compile("sgd", "mse", metrics={"a": "accuracy"})
    m = models.Sequential([layers.Dense(1, input_shape=(2,))])
    m.compile("sgd")
    with pytest.raises(RuntimeError, match=r"compiled without a loss, so fit\(\) cannot run"):
        m.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)


def test_sequential_errors():
    with pytest.raises(ValueError, match="Sequential.pop: the model has no layers"):
        models.Sequential().pop()
    with pytest.raises(ValueError, match="has no layers; add some"):
        models.Sequential().predict(np.ones((1, 2)))
    with pytest.raises(ValueError, match="A Sequential config needs a list 'layers', got NoneType"):
        models.Sequential.from_config({"name": "x"})


def test_loss_argument_errors():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="expects integer class ids, got non-integer values"):
        losses.get("sparse_categorical_crossentropy").forward(np.array([0.5, 1.0]), p)
    with pytest.raises(ValueError, match="expects one-hot \\(or probability\\) targets >= 0, got values down to -1"):
        losses.get("categorical_crossentropy").forward(np.array([[1, 0, 0], [-1, 1, 1]]), p)
    with pytest.raises(ValueError, match=r"got a mask of shape \(2, 2\); expected \(2, 4\)"):
        losses.get("mse").forward(np.zeros((2, 4, 1)), np.zeros((2, 4, 1)), mask=np.ones((2, 2), bool))
    loss = losses.get("mse")
    loss.forward(np.zeros((2, 1)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="Loss 'mean_squared_error' has no fused gradient"):
        loss.backward_fused()
    with pytest.raises(TypeError, match="Expected a loss name or rnnlab.losses.Loss, got int"):
        losses.get(3)
    with pytest.raises(TypeError, match="Expected numeric y \\(targets\\), got an array of dtype <U"):
        losses.get("mse").forward(np.array([["a"], ["b"]]), np.zeros((2, 1)))


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match=r"SGD got momentum=1.5; expected a float in \[0, 1\)"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Unknown optimizer class 'lion' in config"):
        optimizers.get({"class_name": "Lion"})
    with pytest.raises(TypeError, match="Expected an optimizer name or rnnlab.optimizers.Optimizer, got float"):
        optimizers.get(0.1)


def test_metric_and_callback_errors():
    with pytest.raises(TypeError, match="Expected a metric name or rnnlab.metrics.Metric, got int"):
        metrics.get(1)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'up'"):
        callbacks.EarlyStopping(mode="up")


def test_utils_errors():
    with pytest.raises(ValueError, match=r"class ids must be in \[0, 2\), got values from 0 to 3"):
        utils.to_categorical([0, 3], num_classes=2)
    with pytest.raises(ValueError, match="expects integer class ids, got non-integer values"):
        utils.to_categorical([0.5])
    np.testing.assert_array_equal(utils.to_categorical([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="set_random_seed got -1; expected a non-negative integer"):
        utils.set_random_seed(-1)


def test_saving_errors(tmp_path, model):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="it is a file; model.save expects a directory path"):
        model.save(tmp_path / "file")
    with pytest.raises(ValueError, match="is a file; load_model expects the directory"):
        models.load_model(tmp_path / "file")

    class Unregistered(models.Sequential):
        pass

    with pytest.raises(ValueError, match="Model class 'Unregistered' is not registered for saving"):
        Unregistered([layers.Dense(1, input_shape=(2,))]).save(tmp_path / "u")

    model.save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["format_version"] = 99
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="has format_version 99; this rnnlab reads versions 1..1"):
        models.load_model(tmp_path / "m")
    cfg["format_version"] = 1
    cfg["compile_config"]["optimizer"]["class_name"] = "Lion"
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"bad compile_config \(Unknown optimizer class 'lion'"):
        models.load_model(tmp_path / "m")
    assert models.load_model(tmp_path / "m", compile=False).optimizer is None

    from safetensors.numpy import load_file, save_file
    cfg["compile_config"] = None
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    tensors = load_file(str(tmp_path / "m" / "model.safetensors"))
    key = next(iter(tensors))
    tensors[key] = np.full_like(tensors[key], np.nan)
    save_file(tensors, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ValueError, match=f"weight '{key}' contains NaN or infinite values"):
        models.load_model(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="model.safetensors' is missing; the model directory is incomplete"):
        models.load_model(tmp_path / "m")
