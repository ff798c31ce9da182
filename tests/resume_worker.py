"""The training script that ``tests/test_resume.py`` starts, kills and resumes.

    python tests/resume_worker.py OUT.npz [CKPT_DIR]

Trains a small Embedding -> LSTM (input dropout, seeded) -> Dropout -> Dense model with Adam and EMA on shuffled
data. With ``CKPT_DIR`` it checkpoints every 2 batches and resumes from there when a checkpoint exists; SIGINT or
SIGTERM end it with exit code 130 / 143 after writing a checkpoint. The final weights go to ``OUT.npz``.
``RESUME_WORKER_SLEEP`` (seconds per batch) slows it down so that a test can kill it mid-run.
"""
import os
import sys
import time

import numpy as np

import rnnlab
from rnnlab import callbacks, layers, models, optimizers, utils

EPOCHS, BATCH, EVERY = 4, 8, 2


def make_data():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 40, size=(72, 10))
    y = (x[:, 0] > 20).astype(np.float64)
    return x, y


def make_model():
    utils.set_random_seed(7)
    m = models.Sequential([layers.Embedding(40, 6), layers.LSTM(8, dropout=0.2, seed=3),
                           layers.Dropout(0.3), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9), "binary_crossentropy", ["accuracy"])
    return m


class Slow(callbacks.Callback):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)


def main(out, ckpt=None):
    x, y = make_data()
    m = make_model()
    slow = float(os.environ.get("RESUME_WORKER_SLEEP", "0"))
    extra = {} if ckpt is None else {"checkpoint": ckpt, "checkpoint_every": EVERY, "resume": True}
    try:
        m.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[Slow(slow)] if slow else [], **extra)
    except rnnlab.TrainingInterrupted as e:
        print(e, file=sys.stderr)
        return e.exit_code
    np.savez(out, *m.get_weights())
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
