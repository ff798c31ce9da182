"""Translation training over MPI: ``mpiexec -n 2`` gives the weights of one process (float64)."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_distributed import mpirun, needs_mpi  # noqa: E402

from rnnlab import backend  # noqa: E402
from rnnlab.tasks import translate  # noqa: E402

WORDS = ["go", "run", "stop", "come", "wait", "look", "eat", "sleep"]
FR = ["va", "cours", "arrête", "viens", "attends", "regarde", "mange", "dors"]
SETTINGS = dict(src="en", tgt="fr", min_freq=1, units=8, embed_dim=6, batch_size=7, epochs=3, test_fraction=0.1,
                valid_fraction=0.1, dropout=0.0, seed=3, minutes=None)

TRAIN = """
import sys
import numpy as np
from rnnlab import backend
from rnnlab.tasks import translate
backend.set_floatx("float64")
tr, report = translate.train("tatoeba:" + sys.argv[1], verbose=0, distributed=True, **SETTINGS)
np.savez(sys.argv[2] + f"{report['rank']}.npz", *tr.model.get_weights())
"""


def _pairs(path):
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(60):                                     # 2-4 word commands and their word-by-word "translation"
        k = rng.integers(0, len(WORDS), size=rng.integers(2, 5))
        lines.append(" ".join(WORDS[i] for i in k) + " !\t" + " ".join(FR[i] for i in k) + " !\tCC-BY\n")
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


@needs_mpi
def test_two_ranks_train_the_translator_of_one_process(tmp_path):
    data = _pairs(tmp_path / "pairs.txt")
    script = tmp_path / "train.py"
    script.write_text(f"SETTINGS = {SETTINGS!r}\n" + TRAIN, encoding="utf-8")
    run = mpirun(2, [str(script), data, str(tmp_path / "rank")], timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    old = backend.floatx()
    backend.set_floatx("float64")
    try:
        tr, report = translate.train("tatoeba:" + data, verbose=0, distributed=False, **SETTINGS)
    finally:
        backend.set_floatx(old)
    assert "rank" not in report
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    for i, w in enumerate(tr.model.get_weights()):
        np.testing.assert_array_equal(ranks[0][f"arr_{i}"], ranks[1][f"arr_{i}"], err_msg=f"ranks differ, weight {i}")
        np.testing.assert_allclose(ranks[0][f"arr_{i}"], w, rtol=0, atol=1e-10, err_msg=f"weight {i}")
