"""Do exported sentiment models classify like rnnlab? IMDb's held-out reviews through ONNX and Keras 3.

Loads a sentiment model directory written by ``rnnlab train sentiment``, exports its network to ONNX
(``rnnlab.interop.onnx``) and to a Keras 3 ``.keras`` file (``rnnlab.interop.keras``, read back with
``keras.saving.load_model`` on the torch backend), encodes IMDb's test reviews with the model's own
tokeniser and vocabulary, and prints, for each format, the share of reviews given the same label as
rnnlab and the largest probability difference.

    # a small IMDb model (~1.5 minutes on 2 cores)
    rnnlab train sentiment --data imdb:../shared/data/imdb/aclImdb_labeled.tar.xz --model lstm \\
        --pooling mean --max-train 5000 --epochs 2 --maxlen 200 --embed-dim 32 --units 32 --out runs/imdb-small
    python benchmarks/interop.py runs/imdb-small                       # 5,000 held-out reviews
    python benchmarks/interop.py runs/imdb-small --max-test 0          # all 25,000

Needs onnx, onnxruntime, h5py and keras (``pip install 'rnnlab[interop]' keras``).

Measured 2026-12-02 on the shared 2-core machine (load average 3-5), the model trained by the command
above (88 s; LSTM 32 units, embed 32, mean pooling, pre-padding, 5,000 training reviews, 2 epochs),
all 25,000 IMDb test reviews (``--max-test 0``):

    format    accuracy  agreement   max |dp|  predict s
    rnnlab      0.8187     1.0000   0.00e+00       47.2
    onnx        0.8187     1.0000   4.17e-07       13.4
    keras       0.8187     1.0000   8.94e-07      406.5      (Keras 3.15.1, torch backend, CPU)
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imdb" / "aclImdb_labeled.tar.xz"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", help="a sentiment model directory (rnnlab train sentiment --out DIR)")
    parser.add_argument("--data", default=f"imdb:{DATA}", help="data spec of the held-out reviews")
    parser.add_argument("--max-test", type=int, default=5000, help="seeded subset of the test reviews; 0: all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)

    import keras
    import onnxruntime as ort

    from rnnlab.interop.keras import save as save_keras
    from rnnlab.interop.onnx import to_onnx
    from rnnlab.tasks import sentiment
    from rnnlab.tasks.sentiment.data import subset

    clf = sentiment.load(args.model_dir)
    t0 = time.time()
    _, (texts, labels) = sentiment.load_data(args.data, seed=args.seed)
    texts, labels = subset(texts, np.asarray(labels), args.max_test or None, args.seed)
    ids = clf.encode(texts)
    print(f"{len(texts)} held-out reviews, ids {ids.shape}, encoded in {time.time() - t0:.1f} s")

    t0 = time.time()
    p_rnnlab = clf.model.predict(ids, batch_size=args.batch_size, verbose=0)[:, 0]
    rows = [("rnnlab", p_rnnlab, time.time() - t0)]
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, keras_path = Path(tmp) / "model.onnx", Path(tmp) / "model.keras"
        to_onnx(clf.model, onnx_path)
        save_keras(clf.model, keras_path)
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        t0 = time.time()
        p_onnx = np.concatenate([sess.run(None, {"input_ids": ids[i:i + args.batch_size].astype(np.int64)})[0]
                                 for i in range(0, len(ids), args.batch_size)])[:, 0]
        rows.append(("onnx", p_onnx, time.time() - t0))
        k_model = keras.saving.load_model(keras_path)
        t0 = time.time()
        p_keras = np.asarray(k_model.predict(ids, batch_size=args.batch_size, verbose=0))[:, 0]
        rows.append(("keras", p_keras, time.time() - t0))

    y = np.asarray(labels)
    ref = p_rnnlab >= 0.5
    print(f"{'format':8s} {'accuracy':>9s} {'agreement':>10s} {'max |dp|':>10s} {'predict s':>10s}")
    for name, p, secs in rows:
        agree = np.mean((p >= 0.5) == ref)
        print(f"{name:8s} {np.mean((p >= 0.5) == y):9.4f} {agree:10.4f} {np.max(np.abs(p - p_rnnlab)):10.2e} "
              f"{secs:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
