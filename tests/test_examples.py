"""Keras's examples under examples/ run with rnnlab on a small slice (the full runs are benchmarks)."""
import os
import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def _run(script, env, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_addition_rnn_on_a_slice(tmp_path):
    out = _run("addition_rnn.py", {"ADDITION_TRAINING_SIZE": "1200", "ADDITION_EPOCHS": "3"}, tmp_path)
    assert "Total questions: 1200" in out and "(1080, 7, 12)" in out
    assert "Total params: 205,324" in out                         # 72,192 + 131,584 + 1,548, as in Keras
    accs = [float(a) for a in re.findall(r"exact-answer accuracy after epoch \d+: ([0-9.]+)", out)]
    assert len(accs) == 2 and all(0.0 <= a <= 1.0 for a in accs)
    assert len(re.findall(r"^Q .* T .* [☑☒] ", out, flags=re.M)) == 20


def test_lstm_seq2seq_on_a_slice(tmp_path, shared_data):
    env = {"SEQ2SEQ_SAMPLES": "300", "SEQ2SEQ_EPOCHS": "2", "SEQ2SEQ_DECODE": "2",
           "SEQ2SEQ_DATA": str(shared_data / "tatoeba" / "fra.txt.xz"), "SEQ2SEQ_OUT": str(tmp_path / "s2s")}
    out = _run("lstm_seq2seq.py", env, tmp_path)
    assert "Number of samples: 300" in out
    m = re.search(r"final val_loss ([0-9.]+) val_accuracy ([0-9.]+)", out)
    assert m and float(m.group(1)) > 0
    assert out.count("Decoded sentence:") == 2
    assert (tmp_path / "s2s" / "config.json").is_file()          # saved, then reloaded for inference
