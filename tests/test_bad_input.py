"""Bad input everywhere a user can reach it (issue 17, part 1): each case gets an error of a specific type whose
message names the argument (or the file and line), what was given and what was expected.

The cases are grouped by family (one parametrised test per family): layer constructors, models and compile,
optimiser hyperparameters, fit/evaluate/predict data, saving and loading, dataset loaders, text utilities, task
settings and the command line. A case is ``(id, call, exception type, regex the message must match)``; ``call``
takes the test's ``tmp_path``.
"""
import gzip
import io
import json
import tarfile

import numpy as np
import pytest

from rnnlab import cli, layers, losses, models, optimizers
from rnnlab.datasets import load_csv, load_imdb, load_nsmc, train_test_split
from rnnlab.models import saving
from rnnlab.tasks.lm import LMConfig
from rnnlab.tasks.sentiment import SentimentConfig, build_model
from rnnlab.tasks.sentiment.data import parse_data_spec
from rnnlab.text import LMVocabulary, Vocabulary, pad_sequences, tokenizers


def case(name, call, exc, match):
    return pytest.param(call, exc, match, id=name)


def run_case(call, exc, match, tmp_path):
    with pytest.raises(exc, match=match):
        call(tmp_path)


# ---- helpers -------------------------------------------------------------------------------------------------

def classifier():
    """Embedding(10) -> LSTM -> softmax over 2 classes, compiled."""
    m = models.Sequential([layers.Embedding(10, 4), layers.LSTM(3), layers.Dense(2, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m


def regressor(loss="mse"):
    m = models.Sequential([layers.Dense(1, input_shape=(3,))])
    m.compile("sgd", loss)
    return m


IDS, LABELS = np.ones((4, 5), dtype=np.int64), np.zeros(4, dtype=np.int64)
X3, Y1 = np.ones((4, 3)), np.ones((4, 1))


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def tar_with(tmp_path, members, name="imdb.tar.gz"):
    """A .tar.gz holding ``members`` ({name: bytes}), written without ever touching those names on disk."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return write(tmp_path, name, gzip.compress(buf.getvalue()))


def saved(tmp_path, name="m"):
    m = regressor()
    m.save(tmp_path / name)
    return tmp_path / name


# ---- layers --------------------------------------------------------------------------------------------------

LAYERS = [
    case("Dense units=0", lambda t: layers.Dense(0), ValueError, r"Dense expects a positive integer 'units', got 0"),
    case("Dense units='3'", lambda t: layers.Dense("3"), ValueError, r"positive integer 'units', got '3'"),
    case("Dense units=3.0", lambda t: layers.Dense(3.0), ValueError, r"positive integer 'units', got 3\.0"),
    case("Dense activation", lambda t: layers.Dense(2, activation="swishy"), ValueError,
         r"Unknown activation 'swishy'; expected one of \["),
    case("Dense initializer", lambda t: layers.Dense(2, kernel_initializer="nope"), ValueError,
         r"Dense got kernel_initializer='nope'; expected one of \[.*'glorot_uniform'"),
    case("Dense use_bias='no'", lambda t: layers.Dense(2, use_bias="no"), ValueError,
         r"Dense expects use_bias to be True or False, got 'no'"),
    case("Dense dtype", lambda t: layers.Dense(2, dtype="int8"), ValueError,
         r"Dense got dtype='int8'; expected 'float32' or 'float64'"),
    case("Dense name=5", lambda t: layers.Dense(2, name=5), TypeError, r"Dense got name=5; expected a str"),
    case("Dense unknown kwarg", lambda t: layers.Dense(2, unitz=3), TypeError,
         r"Dense got unexpected keyword argument\(s\) \['unitz'\]"),
    case("LSTM units=-1", lambda t: layers.LSTM(-1), ValueError,
         r"LSTMCell expects a positive integer 'units', got -1"),
    case("LSTM dropout=1.5", lambda t: layers.LSTM(3, dropout=1.5), ValueError,
         r"expects dropout to be a fraction in \[0, 1\), got 1\.5"),
    case("GRU recurrent_dropout=-0.1", lambda t: layers.GRU(3, recurrent_dropout=-0.1), ValueError,
         r"recurrent_dropout to be a fraction in \[0, 1\), got -0\.1"),
    case("GRU reset_after='x'", lambda t: layers.GRU(3, reset_after="x"), ValueError,
         r"expects reset_after to be True or False, got 'x'"),
    case("SimpleRNN return_sequences=None", lambda t: layers.SimpleRNN(3, return_sequences=None), ValueError,
         r"expects return_sequences to be True or False, got None"),
    case("Embedding input_dim=0", lambda t: layers.Embedding(0, 3), ValueError,
         r"Embedding expects a positive integer 'input_dim', got 0"),
    case("Embedding initializer", lambda t: layers.Embedding(5, 3, embeddings_initializer=7), ValueError,
         r"Embedding got embeddings_initializer=7; expected one of"),
    case("Conv1D kernel_size=0", lambda t: layers.Conv1D(3, 0), ValueError,
         r"Conv1D expects a positive integer 'kernel_size', got 0"),
    case("Conv1D padding", lambda t: layers.Conv1D(3, 2, padding="full"), ValueError,
         r"Conv1D got padding='full'; expected one of \['valid', 'same', 'causal'\]"),
    case("Dropout rate=1", lambda t: layers.Dropout(1.0), ValueError, r"Dropout expects rate in \[0, 1\).*got 1\.0"),
    case("Bidirectional merge_mode", lambda t: layers.Bidirectional(layers.LSTM(2), merge_mode="x"), ValueError,
         r"Bidirectional got merge_mode='x'; expected one of"),
    case("Bidirectional of Dense", lambda t: layers.Bidirectional(layers.Dense(2)), TypeError,
         r"Bidirectional expects a recurrent layer .*got Dense"),
    case("TimeDistributed of str", lambda t: layers.TimeDistributed("dense"), TypeError,
         r"TimeDistributed expects an rnnlab Layer instance, got str"),
    case("MaxPooling1D pool_size=0", lambda t: layers.MaxPooling1D(0), ValueError,
         r"MaxPooling1D expects a positive integer 'pool_size', got 0"),
    case("Input negative shape", lambda t: layers.Input((-1,)), ValueError,
         r"Input expects shape as a tuple of positive ints or None .*got \(-1,\)"),
]


@pytest.mark.parametrize("call, exc, match", LAYERS)
def test_layers(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


# ---- models and compile ------------------------------------------------------------------------------------

MODELS = [
    case("Sequential of int", lambda t: models.Sequential([3]), TypeError,
         r"Sequential.add expects an rnnlab layer .*got int"),
    case("compile unknown optimizer", lambda t: regressor().compile("adamz", "mse"), ValueError,
         r"Unknown optimizer 'adamz'; expected one of \['adagrad', 'adam', 'rmsprop', 'sgd'\]"),
    case("compile optimizer int", lambda t: regressor().compile(3, "mse"), TypeError,
         r"Expected an optimizer name or rnnlab.optimizers.Optimizer, got int"),
    case("compile unknown loss", lambda t: regressor().compile("sgd", "msez"), ValueError,
         r"Unknown loss 'msez'; expected one of"),
    case("compile unknown metric", lambda t: regressor().compile("sgd", "mse", ["accuracyz"]), ValueError,
         r"Unknown metric 'accuracyz'"),
    case("compile loss_weights count", lambda t: regressor().compile("sgd", "mse", loss_weights=[1, 2]), ValueError,
         r"compile\(\) got 2 loss_weights for a model with 1 output"),
    case("compile metrics dict", lambda t: regressor().compile("sgd", "mse", metrics={"a": "mae"}), TypeError,
         r"metrics must be a list of names or Metric objects, got dict"),
    case("losses.get unknown", lambda t: losses.get("hinge_loss_x"), ValueError,
         r"Unknown loss 'hinge_loss_x'; expected one of"),
]


@pytest.mark.parametrize("call, exc, match", MODELS)
def test_models_and_compile(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


# ---- optimiser hyperparameters ------------------------------------------------------------------------------

OPTIMIZERS = [
    case("Adam learning_rate=-1", lambda t: optimizers.Adam(-1), ValueError,
         r"Adam got learning_rate=-1; expected a non-negative float"),
    case("SGD learning_rate=nan", lambda t: optimizers.SGD(float("nan")), ValueError, r"SGD got learning_rate=nan"),
    case("Adam beta_1=1", lambda t: optimizers.Adam(beta_1=1.0), ValueError,
         r"Adam got beta_1=1\.0; expected a float in \[0, 1\)"),
    case("Adam beta_2=-0.1", lambda t: optimizers.Adam(beta_2=-0.1), ValueError,
         r"Adam got beta_2=-0\.1; expected a float in \[0, 1\)"),
    case("Adam epsilon=0", lambda t: optimizers.Adam(epsilon=0), ValueError,
         r"Adam got epsilon=0; expected a small positive float in \(0, inf\)"),
    case("Adam epsilon='1e-7'", lambda t: optimizers.Adam(epsilon="1e-7"), ValueError, r"Adam got epsilon='1e-7'"),
    case("SGD momentum=1", lambda t: optimizers.SGD(momentum=1.0), ValueError,
         r"SGD got momentum=1\.0; expected a float in \[0, 1\)"),
    case("SGD momentum='0.9'", lambda t: optimizers.SGD(momentum="0.9"), ValueError, r"SGD got momentum='0\.9'"),
    case("SGD nesterov='yes'", lambda t: optimizers.SGD(nesterov="yes"), ValueError,
         r"SGD got nesterov='yes'; expected True or False"),
    case("RMSprop rho=1", lambda t: optimizers.RMSprop(rho=1.0), ValueError,
         r"RMSprop got rho=1\.0; expected a float in \[0, 1\)"),
    case("RMSprop momentum=-1", lambda t: optimizers.RMSprop(momentum=-1), ValueError, r"RMSprop got momentum=-1"),
    case("Adagrad initial_accumulator_value=-1", lambda t: optimizers.Adagrad(initial_accumulator_value=-1),
         ValueError, r"Adagrad got initial_accumulator_value=-1; expected a non-negative float"),
    case("clipnorm=0", lambda t: optimizers.Adam(clipnorm=0), ValueError,
         r"Adam got clipnorm=0; expected a positive number \(finite\) or None"),
    case("clipvalue=inf", lambda t: optimizers.Adam(clipvalue=float("inf")), ValueError, r"Adam got clipvalue=inf"),
    case("two clippings", lambda t: optimizers.Adam(clipnorm=1.0, clipvalue=1.0), ValueError,
         r"only one of clipnorm, clipvalue and global_clipnorm can be set"),
    case("ema_momentum=1", lambda t: optimizers.Adam(use_ema=True, ema_momentum=1.0), ValueError,
         r"Adam got ema_momentum=1\.0; expected a float in \[0, 1\)"),
    case("get: config with unknown key", lambda t: optimizers.get({"class_name": "adam", "foo": 1}), ValueError,
         r"Optimizer config for Adam has unknown key\(s\) \['foo'\]"),
]


@pytest.mark.parametrize("call, exc, match", OPTIMIZERS)
def test_optimizer_hyperparameters(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


# ---- fit / evaluate / predict data ---------------------------------------------------------------------------

def fit(model, x, y, **kw):
    return model.fit(x, y, verbose=0, **kw)


DATA = [
    case("fit x of strings", lambda t: fit(regressor(), np.array([["a"] * 3] * 4), Y1), TypeError,
         r"x must be numeric, got an array of dtype <U1"),
    case("fit x complex", lambda t: fit(regressor(), X3.astype(complex), Y1), TypeError,
         r"x must be real numbers, got an array of dtype complex128"),
    case("fit x NaN", lambda t: fit(regressor(), np.full((4, 3), np.nan), Y1), ValueError,
         r"x contains NaN or infinite values \(first at index \(0, 0\)\)"),
    case("fit y inf", lambda t: fit(regressor(), X3, np.full((4, 1), np.inf)), ValueError,
         r"y contains NaN or infinite values"),
    case("fit x beyond float32", lambda t: fit(regressor(), np.full((4, 3), 1e300), Y1), ValueError,
         r"computes in float32, but its inputs hold 1e\+300, beyond float32's largest value"),
    case("fit x wrong rank", lambda t: fit(regressor(), np.ones((4, 3, 2)), Y1), ValueError,
         r"expects inputs with 3 features on the last axis .*got inputs of shape"),
    case("fit x wrong features", lambda t: fit(regressor(), np.ones((4, 5)), Y1), ValueError,
         r"expects inputs with 3 features on the last axis"),
    case("fit x scalar", lambda t: fit(classifier(), 3, LABELS), ValueError, r"x must have a batch axis, got a scalar"),
    case("fit x ragged", lambda t: fit(classifier(), [[1, 2], [3]], [0, 1]), TypeError,
         r"x could not be turned into one array .*must be padded to one length"),
    case("fit ids >= input_dim", lambda t: fit(classifier(), np.full((4, 5), 10), LABELS), ValueError,
         r"has input_dim=10, so ids must be in \[0, 10\); got \[10, 10, 10\]"),
    case("fit ids negative", lambda t: fit(classifier(), np.full((4, 5), -1), LABELS), ValueError,
         r"ids must be in \[0, 10\); got \[-1"),
    case("fit ids uint64 huge", lambda t: fit(classifier(), np.full((4, 5), 2**63, np.uint64), LABELS), ValueError,
         r"ids must be in \[0, 10\); got \[9223372036854775808"),
    case("fit ids not whole", lambda t: fit(classifier(), np.full((4, 5), 1.5), LABELS), TypeError,
         r"expects integer token ids, got float64 values that are not whole numbers"),
    case("fit labels >= classes", lambda t: fit(classifier(), IDS, np.full(4, 5)), ValueError,
         r"labels must be class ids in \[0, 2\) because the model outputs 2 classes, got \[5\]"),
    case("fit labels negative", lambda t: fit(classifier(), IDS, np.full(4, -1)), ValueError,
         r"labels must be class ids in \[0, 2\).*got \[-1\]"),
    case("fit labels fractional", lambda t: fit(classifier(), IDS, np.full(4, 0.5)), ValueError,
         r"expects integer class ids, got non-integer values of dtype float64"),
    case("fit binary target 2", lambda t: fit(regressor("binary_crossentropy"), X3, np.full((4, 1), 2.0)), ValueError,
         r"'binary_crossentropy' expects targets in \[0, 1\].*got \[2\.0\]"),
    case("fit y wrong shape", lambda t: fit(classifier(), IDS, np.zeros((4, 3))), ValueError,
         r"got labels of shape \(4, 3\) for model outputs of shape \(4, 2\)"),
    case("fit lengths differ", lambda t: fit(classifier(), IDS, np.zeros(3, int)), ValueError,
         r"fit\(\): x has 4 samples but y has 3"),
    case("fit empty", lambda t: fit(classifier(), np.zeros((0, 5), int), np.zeros(0, int)), ValueError,
         r"fit\(\) got empty data \(0 samples\)"),
    case("fit y None", lambda t: fit(classifier(), IDS, None), ValueError, r"fit\(\) needs targets y; got y=None"),
    case("fit batch_size=0", lambda t: fit(classifier(), IDS, LABELS, batch_size=0), ValueError,
         r"batch_size must be a positive integer, got 0"),
    case("fit batch_size=2.5", lambda t: fit(classifier(), IDS, LABELS, batch_size=2.5), ValueError,
         r"batch_size must be a positive integer, got 2\.5"),
    case("fit batch_size=True", lambda t: fit(classifier(), IDS, LABELS, batch_size=True), ValueError,
         r"batch_size must be a positive integer, got True"),
    case("fit epochs='2'", lambda t: fit(classifier(), IDS, LABELS, epochs="2"), ValueError,
         r"fit\(\) got epochs='2'; expected a non-negative integer"),
    case("fit validation_split=1.5", lambda t: fit(classifier(), IDS, LABELS, validation_split=1.5), ValueError,
         r"validation_split=1\.5; expected a float in \[0, 1\)"),
    case("fit validation_data not a tuple", lambda t: fit(classifier(), IDS, LABELS, validation_data=IDS), ValueError,
         r"validation_data must be a tuple \(x_val, y_val\)"),
    case("predict empty", lambda t: classifier().predict(np.zeros((0, 5), int), verbose=0), ValueError,
         r"predict\(\) got empty input \(0 samples\)"),
    case("predict batch_size=0", lambda t: classifier().predict(IDS, batch_size=0, verbose=0), ValueError,
         r"batch_size must be a positive integer, got 0"),
    case("predict strings", lambda t: classifier().predict(np.array([["a"]]), verbose=0), TypeError,
         r"x must be numeric, got an array of dtype <U1"),
    case("predict ids out of range", lambda t: classifier().predict(np.full((2, 5), 99), verbose=0), ValueError,
         r"input_dim=10, so ids must be in \[0, 10\); got \[99"),
    case("predict rank 1 into LSTM", lambda t: classifier().predict(np.ones(5, int), verbose=0), ValueError,
         r"expects inputs of rank 3 \(batch, timesteps, features\), got shape \(5, 4\)"),
    case("evaluate lengths differ", lambda t: classifier().evaluate(IDS, np.zeros(2, int), verbose=0), ValueError,
         r"evaluate\(\): x has 4 samples but y has 2"),
    case("evaluate batch_size=-1", lambda t: classifier().evaluate(IDS, LABELS, batch_size=-1, verbose=0),
         ValueError, r"batch_size must be a positive integer, got -1"),
]


@pytest.mark.parametrize("call, exc, match", DATA)
def test_fit_evaluate_predict_data(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


def test_refused_data_changes_nothing():
    """A refused fit leaves the weights, the optimiser's step count and the history untouched."""
    m = classifier()
    m.fit(IDS, LABELS, epochs=1, verbose=0)
    before = [w.copy() for w in m.get_weights()]
    steps = m.optimizer.iterations
    for bad in (np.full((4, 5), 10), np.full((4, 5), -1)):
        with pytest.raises(ValueError):
            m.fit(bad, LABELS, verbose=0)
    with pytest.raises(ValueError):
        m.fit(IDS, np.full(4, 7), verbose=0)
    assert m.optimizer.iterations == steps
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- saving and loading --------------------------------------------------------------------------------------

def _diverged(t):
    m = regressor()
    m.build()
    w = m.get_weights()
    w[0][0, 0] = np.nan
    m.set_weights(w)
    m.save(t / "nan")


SAVING = [
    case("save onto a file", lambda t: regressor().save(write(t, "f", "x")), ValueError,
         r"Cannot save the model to .*/f': it is a file; model.save expects a directory path"),
    case("save path int", lambda t: regressor().save(3), TypeError, r"save_model got path of type int"),
    case("save metadata not JSON", lambda t: regressor().save(t / "m", metadata={"f": object()}), ValueError,
         r"its config or metadata is not JSON-able"),
    case("save metadata list", lambda t: regressor().save(t / "m", metadata=[1]), TypeError,
         r"save_model got metadata of type list; expected a JSON-able dict"),
    case("save extra file named ..", lambda t: regressor().save(t / "m", extra_files={"../x": b""}), ValueError,
         r"names the extra file '\.\./x'; expected a plain file name inside the model directory"),
    case("save extra file not bytes", lambda t: regressor().save(t / "m", extra_files={"a.txt": 3}), TypeError,
         r"extra_files\['a.txt'\] of type int; expected bytes"),
    case("save extra file config.json", lambda t: regressor().save(t / "m", extra_files={"config.json": b""}),
         ValueError, r"extra_files\['config.json'\]; config.json and model.safetensors are written by save_model"),
    case("save NaN weights", _diverged, ValueError,
         r"Refusing to save model .*weight '000_dense.*/kernel' contains NaN or infinite values.*Nothing was written"),
    case("load missing", lambda t: models.load_model(t / "nope"), FileNotFoundError,
         r"No model found at .*nope': the path does not exist"),
    case("load a file", lambda t: models.load_model(write(t, "f", "x")), ValueError,
         r"'.*f' is a file; load_model expects the directory"),
    case("load not a model dir", lambda t: models.load_model(t), ValueError,
         r"config.json' is missing: .* is not a model directory"),
    case("load path None", lambda t: models.load_model(None), TypeError, r"load_model got path of type NoneType"),
    case("check_output_dir on a file", lambda t: saving.check_output_dir(write(t, "f", "x"), "--out"), ValueError,
         r"--out=.*/f' is an existing file; a model is saved as a directory"),
    case("check_output_dir under a file", lambda t: saving.check_output_dir(write(t, "f", "x") / "sub", "--out"),
         ValueError, r"--out=.*cannot be created: .*/f' is a file, not a folder"),
]


@pytest.mark.parametrize("call, exc, match", SAVING)
def test_saving_and_loading(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


def test_refused_save_leaves_the_previous_model(tmp_path):
    m = regressor()
    m.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()}
    w = m.get_weights()
    w[0][:] = np.inf
    m.set_weights(w)
    with pytest.raises(ValueError, match="contains NaN or infinite values"):
        m.save(tmp_path / "m")
    assert {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]          # no temporary sibling left


# ---- dataset loaders -----------------------------------------------------------------------------------------

NSMC_HEAD = "id\tdocument\tlabel\n"
DATASETS = [
    case("imdb missing", lambda t: load_imdb(t / "nope.tar.xz"), FileNotFoundError,
         r"load_imdb: .*nope.tar.xz' does not exist"),
    case("imdb path int", lambda t: load_imdb(3), TypeError, r"load_imdb: expected a path .*got int"),
    case("imdb wrong suffix", lambda t: load_imdb(write(t, "imdb.zip", "x")), ValueError,
         r"load_imdb got the file .*imdb.zip'; expected the aclImdb folder or an archive ending in"),
    case("imdb damaged archive", lambda t: load_imdb(write(t, "imdb.tar.xz", b"\xfd7zXZ\x00garbage")), ValueError,
         r"imdb.tar.xz' could not be read as a tar archive .*truncated or damaged"),
    case("imdb no reviews", lambda t: load_imdb(tar_with(t, {"aclImdb/README": b"x"})), ValueError,
         r"has no train reviews: expected files aclImdb/train/\{neg,pos\}/<id>_<rating>.txt"),
    case("imdb member with ..", lambda t: load_imdb(tar_with(t, {"../aclImdb/train/pos/1_9.txt": b"x"})), ValueError,
         r"archive member '\.\./aclImdb/train/pos/1_9.txt' has an absolute path or '\.\.'"),
    case("imdb absolute member", lambda t: load_imdb(tar_with(t, {"/aclImdb/test/neg/1_1.txt": b"x"})), ValueError,
         r"archive member '/aclImdb/test/neg/1_1.txt' has an absolute path"),
    case("imdb review not UTF-8", lambda t: load_imdb(tar_with(t, {"aclImdb/train/pos/1_9.txt": b"ok \xff"})),
         ValueError, r"aclImdb/train/pos/1_9.txt, line 1: invalid UTF-8 \(byte b'\\xff' at column 4"),
    case("nsmc empty", lambda t: load_nsmc(write(t, "r.txt", "")), ValueError,
         r"r.txt: the file is empty; expected the header"),
    case("nsmc bad header", lambda t: load_nsmc(write(t, "r.txt", "a,b,c\n")), ValueError,
         r"r.txt, line 1: expected the header 'id\\tdocument\\tlabel', got 'a,b,c'"),
    case("nsmc 2 fields", lambda t: load_nsmc(write(t, "r.txt", NSMC_HEAD + "1\tgood\n")), ValueError,
         r"r.txt, line 2: expected 3 tab-separated fields \(id, document, label\), got 2"),
    case("nsmc label 2", lambda t: load_nsmc(write(t, "r.txt", NSMC_HEAD + "1\tgood\t1\n2\tbad\t2\n")), ValueError,
         r"r.txt, line 3: the label must be 0 or 1, got '2'"),
    case("nsmc not UTF-8", lambda t: load_nsmc(write(t, "r.txt", NSMC_HEAD.encode() + b"1\t\xc3\t1\n")), ValueError,
         r"r.txt, line 2: invalid UTF-8"),
    case("nsmc damaged .xz", lambda t: load_nsmc(write(t, "r.txt.xz", b"not xz")), ValueError,
         r"r.txt.xz' could not be decompressed"),
    case("csv delimiter", lambda t: load_csv(write(t, "a.csv", "text,label\nx,1\n"), 0, 1, delimiter=",,"),
         ValueError, r"load_csv got delimiter=',,'; expected one character"),
    case("csv num_classes=1", lambda t: load_csv(write(t, "a.csv", "text,label\nx,1\n"), 0, 1, num_classes=1),
         ValueError, r"load_csv got num_classes=1; expected an integer >= 2"),
    case("csv no such column", lambda t: load_csv(write(t, "a.csv", "text,label\nx,1\n"), "review", "label"),
         ValueError, r"a.csv, line 1: no column 'review' in the header \['text', 'label'\]"),
    case("csv label 7", lambda t: load_csv(write(t, "a.csv", "text,label\nx,1\ny,7\n"), "text", "label"), ValueError,
         r"a.csv, line 3: the label must be an integer in \[0, 2\), got '7'"),
    case("csv column float", lambda t: load_csv(write(t, "a.csv", "text,label\nx,1\n"), 0.5, 1), TypeError,
         r"load_csv text_column must be a column name \(str\) or a 0-based index \(int\), got float"),
    case("csv short row", lambda t: load_csv(write(t, "a.csv", "text,label\nx\n"), 0, 1), ValueError,
         r"a.csv, line 2: expected 2 fields separated by ',', got 1"),
    case("csv bad quoting", lambda t: load_csv(write(t, "a.csv", 'text,label\n"x"y,1\n'), 0, 1), ValueError,
         r"a.csv, line 2: malformed CSV .*quoting=False"),
    case("split test_fraction=0", lambda t: train_test_split(["a", "b"], np.array([0, 1]), test_fraction=0),
         ValueError, r"train_test_split got test_fraction=0; expected a number strictly between 0 and 1"),
    case("split lengths differ", lambda t: train_test_split(["a", "b"], np.array([0])), ValueError,
         r"train_test_split got 2 texts but 1 labels"),
]


@pytest.mark.parametrize("call, exc, match", DATASETS)
def test_dataset_loaders(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


def test_imdb_archive_members_are_never_written(tmp_path):
    """A hostile archive is refused, and nothing appears outside (or inside) the working folders."""
    work = tmp_path / "work"
    work.mkdir()
    archive = tar_with(work, {"aclImdb/train/pos/1_9.txt": b"fine", "../../escaped.txt": b"x",
                              str(tmp_path / "abs.txt"): b"x"})
    with pytest.raises(ValueError, match="has an absolute path or '..'"):
        load_imdb(archive)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["imdb.tar.gz", "work"]


# ---- text utilities ------------------------------------------------------------------------------------------

TEXT = [
    case("pad maxlen=-1", lambda t: pad_sequences([[1]], maxlen=-1), ValueError,
         r"pad_sequences got maxlen=-1; expected a non-negative integer or None"),
    case("pad padding='mid'", lambda t: pad_sequences([[1]], padding="mid"), ValueError,
         r"pad_sequences got padding='mid'; expected \"pre\" or \"post\""),
    case("pad truncating=1", lambda t: pad_sequences([[1]], truncating=1), ValueError,
         r"pad_sequences got truncating=1; expected \"pre\" or \"post\""),
    case("pad one str", lambda t: pad_sequences("abc"), ValueError,
         r"pad_sequences expects a list of sequences, got str"),
    case("pad item is a str", lambda t: pad_sequences([[1], "ab"]), ValueError,
         r"item 1 is str 'ab'. Encode text to ids first"),
    case("pad tokens not ids", lambda t: pad_sequences([["a", "b"]]), ValueError,
         r"sequence 0 holds non-numeric items \(dtype <U1"),
    case("pad id beyond int32", lambda t: pad_sequences([[1, 2**40]]), ValueError,
         r"sequence 0 holds 1099511627776, which does not fit dtype=int32"),
    case("pad id beyond int8", lambda t: pad_sequences([[300]], dtype="int8"), ValueError,
         r"sequence 0 holds 300, which does not fit dtype=int8 \(\[-128, 127\]\)"),
    case("pad value beyond int8", lambda t: pad_sequences([[1]], maxlen=3, value=1000, dtype="int8"), ValueError,
         r"the fill value holds 1000, which does not fit dtype=int8"),
    case("pad fractional ids", lambda t: pad_sequences([[1.5]]), ValueError,
         r"sequence 0 holds values that are not whole numbers \(\[1\.5\]\); dtype=int32 would truncate them"),
    case("pad str value", lambda t: pad_sequences([[1]], value="x"), ValueError,
         r"pad_sequences got the str value='x' with dtype='int32'"),
    case("Vocabulary max_size=1", lambda t: Vocabulary.build([["a"]], max_size=1), ValueError,
         r"Vocabulary.build got max_size=1; expected an integer >= 2"),
    case("Vocabulary min_freq=0", lambda t: Vocabulary.build([["a"]], min_freq=0), ValueError,
         r"Vocabulary.build got min_freq=0; expected an integer >= 1"),
    case("Vocabulary build from str", lambda t: Vocabulary.build("a b"), TypeError,
         r"Vocabulary.build expects an iterable of token lists, got one str"),
    case("Vocabulary encode str", lambda t: Vocabulary.build([["a"]]).encode("a"), TypeError,
         r"Vocabulary.encode expects a list of tokens, got the str 'a'"),
    case("Vocabulary decode id 9", lambda t: Vocabulary.build([["a"]]).decode([9]), ValueError,
         r"Vocabulary has ids 0..2; got 9"),
    case("Vocabulary tokens not str", lambda t: Vocabulary([1, 2]), TypeError,
         r"Vocabulary tokens must be str, got int 1 at id 2"),
    case("Vocabulary same pad/oov", lambda t: Vocabulary(pad_token="x", oov_token="x"), ValueError,
         r"pad_token and oov_token must differ, both are 'x'"),
    case("Vocabulary.load missing", lambda t: Vocabulary.load(t / "v.json"), FileNotFoundError,
         r"Vocabulary file .*v.json' does not exist"),
    case("Vocabulary.load bad JSON", lambda t: Vocabulary.load(write(t, "v.json", "{x")), ValueError,
         r"Vocabulary file .*v.json' is damaged: invalid JSON at line 1, column 2"),
    case("Vocabulary.load deep JSON", lambda t: Vocabulary.load(write(t, "v.json", "[" * 100000)), ValueError,
         r"Vocabulary file .*v.json' is damaged"),
    case("Vocabulary.load not a vocab", lambda t: Vocabulary.load(write(t, "v.json", '{"a": 1}')), ValueError,
         r"is not an rnnlab vocabulary: expected a JSON object with \"format\": 'rnnlab.vocabulary'"),
    case("LMVocabulary.load bad JSON", lambda t: LMVocabulary.load(write(t, "v.json", "[1,")), ValueError,
         r"LM vocabulary file .*v.json' is not JSON: line 1"),
    case("tokenizer unknown", lambda t: tokenizers.get("klingon"), ValueError,
         r"Unknown tokeniser 'klingon'; expected one of \['english'"),
    case("tokenizer on bytes", lambda t: tokenizers.get("english")(b"abc"), TypeError,
         r"Tokenisers take str, got bytes \(b'abc'\). Decode bytes first"),
    case("tokenizer class from config", lambda t: tokenizers.deserialize({"class_name": "os.system", "config": {}}),
         ValueError, r"Unknown tokeniser class 'os.system'; expected one of \['EnglishTokenizer'"),
    case("EnglishTokenizer punctuation", lambda t: tokenizers.EnglishTokenizer(punctuation="x"), ValueError,
         r"EnglishTokenizer got punctuation='x'; expected one of \('drop', 'split'\)"),
]


@pytest.mark.parametrize("call, exc, match", TEXT)
def test_text_utilities(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


# ---- task settings ----------------------------------------------------------------------------------------------

CONFIG = [
    case("SentimentConfig units=0", lambda t: SentimentConfig.create(None, "train", units=0), ValueError,
         r"train got units=0; expected a positive integer"),
    case("SentimentConfig unknown setting", lambda t: SentimentConfig.create(None, "train", unitz=3), TypeError,
         r"unitz"),
    case("SentimentConfig dropout=1", lambda t: SentimentConfig.create(None, "train", dropout=1.0), ValueError,
         r"train got dropout=1\.0"),
    case("SentimentConfig model", lambda t: SentimentConfig.create(None, "train", model="transformer"), ValueError,
         r"train got model='transformer'; expected one of"),
    case("SentimentConfig from_dict list", lambda t: SentimentConfig.from_dict([1]), TypeError,
         r"SentimentConfig.from_dict got list; expected a dict of settings"),
    case("SentimentConfig from_dict unknown key", lambda t: SentimentConfig.from_dict({"nope": 1}), ValueError,
         r"nope"),
    case("LMConfig lr=-1", lambda t: LMConfig.create(None, "train", lr=-1.0), ValueError, r"train got lr=-1\.0"),
    case("build_model pooling", lambda t: build_model("lstm", pooling="median"), ValueError,
         r"Unknown pooling 'median'; expected one of"),
    case("sentiment data spec", lambda t: parse_data_spec("foo:bar"), ValueError,
         r"--data got 'foo:bar'; expected KIND:PATH with KIND one of \('imdb', 'nsmc', 'csv'\)"),
]


@pytest.mark.parametrize("call, exc, match", CONFIG)
def test_task_settings(call, exc, match, tmp_path):
    run_case(call, exc, match, tmp_path)


# ---- the command line ---------------------------------------------------------------------------------------------

def main(argv, capsys):
    """``(exit code, stderr)`` of ``rnnlab ARGV``; argparse's usage errors exit with 2."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _npy(t, name, a):
    np.save(t / name, a)
    return t / name


CLI = [
    ("unknown verb", lambda t: ["frobnicate"], 2, r"invalid choice: 'frobnicate'"),
    ("predict missing dir", lambda t: ["predict", t / "nope"], 1, r"rnnlab: error: No model found at"),
    ("predict a file", lambda t: ["predict", write(t, "f", "x")], 1, r"rnnlab: error: .* is a file; load_model"),
    ("predict not a model", lambda t: ["predict", t], 1, r"rnnlab: error: .*config.json' is missing"),
    ("generic predict no --x", lambda t: ["predict", saved(t)], 2, r"the following arguments are required: --x"),
    ("generic predict --x missing", lambda t: ["predict", saved(t), "--x", t / "no.npy"], 1,
     r"rnnlab: error: Could not read --x from .*no.npy' as a .npy array"),
    ("generic predict wrong features", lambda t: ["predict", saved(t), "--x", _npy(t, "x.npy", np.ones((2, 5)))], 1,
     r"rnnlab: error: .*expects inputs with 3 features"),
    ("generic predict --batch-size 0", lambda t: ["predict", saved(t), "--x", _npy(t, "x.npy", np.ones((2, 3))),
                                                  "--batch-size", "0"], 1,
     r"rnnlab: error: batch_size must be a positive integer, got 0"),
    ("generic evaluate no --y", lambda t: ["evaluate", saved(t), "--x", "x.npy"], 2,
     r"the following arguments are required: --y"),
    ("generate with a plain model", lambda t: ["generate", saved(t)], 1,
     r"holds a model saved without a task; 'rnnlab generate' needs a model trained by 'rnnlab train lm'"),
    ("summary missing", lambda t: ["summary", t / "nope"], 1, r"rnnlab: error: No model found at"),
    ("train unknown task", lambda t: ["train", "bogus"], 2, r"argument TASK: invalid choice: 'bogus'"),
    ("train sentiment no --data", lambda t: ["train", "sentiment"], 2,
     r"the following arguments are required: --data"),
    ("train sentiment bad kind", lambda t: ["train", "sentiment", "--data", "foo:bar"], 1,
     r"rnnlab: error: --data got 'foo:bar'; expected KIND:PATH"),
    ("train sentiment data missing", lambda t: ["train", "sentiment", "--data", f"imdb:{t}/nope"], 1,
     r"rnnlab: error: load_imdb: .*nope' does not exist"),
    ("train sentiment --epochs 0", lambda t: ["train", "sentiment", "--data", "imdb:x", "--epochs", "0"], 2,
     r"argument --epochs: expected a positive integer, got '0'"),
    ("train sentiment --lr -1", lambda t: ["train", "sentiment", "--data", "imdb:x", "--lr", "-1"], 2,
     r"argument --lr: expected a non-negative number, got '-1'"),
    ("train sentiment --units x", lambda t: ["train", "sentiment", "--data", "imdb:x", "--units", "x"], 2,
     r"argument --units: expected a positive integer, got 'x'"),
    ("train sentiment --model", lambda t: ["train", "sentiment", "--data", "imdb:x", "--model", "gpt"], 2,
     r"argument --model: expected one of \('simple_rnn', 'lstm'.*got 'gpt'"),
    ("train lm bad --data", lambda t: ["train", "lm", "--data", "/nope"], 1,
     r"rnnlab: error: --data got '/nope'; expected ptb:DIR"),
    ("demo --epochs -1", lambda t: ["demo", "--epochs", "-1"], 2,
     r"argument --epochs: expected a positive integer, got '-1'"),
    ("diagnose --steps 0", lambda t: ["diagnose", "--steps", "0"], 2,
     r"argument --steps: expected a positive integer, got '0'"),
    ("export without a target", lambda t: ["export", saved(t)], 1,
     r"rnnlab: error: rnnlab export needs --onnx PATH and/or --keras PATH"),
    ("convert unknown source", lambda t: ["convert", write(t, "f", "x"), t / "o.xyz"], 1,
     r"rnnlab: error: rnnlab convert: .*/f' is neither a .keras file nor an rnnlab model directory"),
]


@pytest.mark.parametrize("make_argv, code, match", [pytest.param(*c[1:], id=c[0]) for c in CLI])
def test_command_line(make_argv, code, match, tmp_path, capsys):
    got, err = main(make_argv(tmp_path), capsys)
    assert got == code
    assert re_search(match, err), err


def re_search(pattern, text):
    import re
    return re.search(pattern, text, re.S) is not None


CLI_PENDING = [
    # The command line's checks made before any work: output paths refused before the data is read.
    ("generic predict strings (catch-all)",
     lambda t: ["predict", saved(t), "--x", _npy(t, "s.npy", np.array([["a", "b", "c"]]))], 1,
     r"rnnlab: error: x must be numeric, got an array of dtype <U1"),
    ("generic predict --output folder missing, before loading",
     lambda t: ["predict", saved(t), "--x", t / "x.npy", "--output", t / "no" / "p.npy"], 1,
     r"rnnlab: error: --output .*p.npy': the folder .*no' does not exist"),
    ("train sentiment --out is a file, before the data",
     lambda t: ["train", "sentiment", "--data", f"imdb:{t}/missing.tar.xz", "--out", write(t, "f", "x")], 1,
     r"rnnlab: error: out=.*/f' is an existing file"),
    ("train lm --out is a file, before the data",
     lambda t: ["train", "lm", "--data", f"text:{t}/missing.txt", "--out", write(t, "f", "x")], 1,
     r"rnnlab: error: out=.*/f' is an existing file"),
]


@pytest.mark.parametrize("make_argv, code, match", [pytest.param(*c[1:], id=c[0]) for c in CLI_PENDING])
def test_command_line_pending(make_argv, code, match, tmp_path, capsys):
    got, err = main(make_argv(tmp_path), capsys)
    assert got == code
    assert re_search(match, err), err


def test_saved_config_json_is_valid_json(tmp_path):
    """Sanity for the helpers above: a saved plain model is what the CLI cases expect."""
    path = saved(tmp_path)
    assert json.loads((path / "config.json").read_text())["format"] == "rnnlab.model"


def count_cases():
    return sum(map(len, (LAYERS, MODELS, OPTIMIZERS, DATA, SAVING, DATASETS, TEXT, CONFIG, CLI, CLI_PENDING)))


def test_at_least_80_cases():
    assert count_cases() >= 80
