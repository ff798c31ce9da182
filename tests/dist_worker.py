"""The program that ``tests/test_distributed.py`` runs under ``mpiexec -n N`` (and builds its references from).

    python tests/dist_worker.py equiv OUT.npz      train the small model twice (data in order; shuffled), save
    python tests/dist_worker.py raise              rank 1 raises during epoch 2: the job must abort with its message
"""
import sys

import numpy as np

from rnnlab import backend, callbacks, distributed, layers, models, optimizers, utils

N_SAMPLES, BATCH, EPOCHS, VAL = 219, 20, 5, 0.1     # 197 training samples: 10 steps, last batch 17 -> shards 9 + 8


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 50, size=(N_SAMPLES, 12))
    lengths = rng.integers(3, 13, size=N_SAMPLES)
    x[np.arange(12)[None, :] < (12 - lengths)[:, None]] = 0                 # pre-padding, masked
    y = (x.sum(axis=1) % 3 == 0).astype(np.float64)
    return x, y


def make_model(seed=0):
    backend.set_floatx("float64")
    utils.set_random_seed(seed)
    model = models.Sequential([layers.Embedding(50, 8, mask_zero=True), layers.LSTM(16),
                               layers.Dense(1, activation="sigmoid")])
    model.build((None, 12))
    model.compile(optimizers.Adam(0.01), "binary_crossentropy", ["accuracy"])
    return model


class Raise(callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 3 and distributed.init().rank == 1:
            raise ValueError("injected failure on purpose")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


def main(argv):
    comm = distributed.init()
    x, y = make_data()
    if argv[0] == "equiv":
        out = {}
        for name, shuffle in (("ordered", False), ("shuffled", True)):
            model = make_model()
            hist = distributed.fit(model, x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, validation_split=VAL,
                                   shuffle=shuffle, seed=7, comm=comm)
            out.update({f"{name}_w{i}": w for i, w in enumerate(model.get_weights())})
            out.update({f"{name}_h_{k}": np.array(v) for k, v in hist.history.items()})
            out[f"{name}_saved"] = np.array(hist.exchange["saved_fraction"])
        if comm.rank == 0:
            np.savez(argv[1], **out)
        elif len(argv) > 2:
            np.savez(argv[2], **out)
    elif argv[0] == "raise":
        model = make_model()
        distributed.fit(model, x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[Raise()], comm=comm)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
