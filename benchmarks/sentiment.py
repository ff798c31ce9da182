"""Sentiment benchmark on real data: IMDb (25k train / 25k test) and NSMC (seeded 80/20 split of 50k).

For each run: load, tokenise (timed), build the vocabulary, train, evaluate on the held-out part;
prints test accuracy, tokenisation time, training time and wall time, then a summary table.
Also times tokenising all 50,000 IMDb reviews on its own (``--runs tokenize``).

    python benchmarks/sentiment.py                               # every run below, one after another
    python benchmarks/sentiment.py --runs imdb-lstm nsmc-gru     # some of them
    python benchmarks/sentiment.py --runs imdb-lstm --max-train 5000 --max-test 5000 --epochs 1   # quick

Targets (2-core machine): IMDb LSTM >= 0.88, SimpleRNN >= 0.84, BiLSTM >= 0.88; NSMC LSTM/GRU >= 0.83;
a full IMDb LSTM run < 20 minutes wall. The CPU may be shared: the load average is printed.

Measured 2026-12-01 on the 2-core machine with nothing else running (load average ~1), settings as in
RUNS below (the wide recipe: vocab 20k, embed 512, units 32, mean pooling, dropout 0.5, RMSprop 1e-3,
use_ema 0.998, batch 64, 3 epochs, seed 0; SimpleRNN: embed 64, units 64, Adam, maxlen 200):

    run              test acc   tokenise   train     wall      target
    tokenize (50k)       -        2.5 s      -         -       < 60 s          met
    imdb-lstm         0.8816      2.5 s    342 s     369 s     >= 0.88, < 20 min   met
    imdb-bilstm       0.8866      2.6 s    505 s     550 s     >= 0.88         met
    imdb-simple_rnn   0.8443      2.6 s     25 s      33 s     >= 0.84         met
    nsmc-lstm         0.8412      9.5 s    117 s     128 s     >= 0.83         met
    nsmc-gru          0.8402      8.5 s    113 s     122 s     >= 0.83         met

  commands: python benchmarks/sentiment.py --runs tokenize imdb-lstm
            python benchmarks/sentiment.py --runs imdb-bilstm imdb-simple_rnn
            python benchmarks/sentiment.py --runs nsmc-lstm nsmc-gru
  How the recipe was found: on a seeded 10 % of the IMDb training reviews held out for validation,
  the narrow-embedding LSTM (64/64, Adam) plateaued at 0.89 validation / 0.86-0.87 test whatever the
  dropout, length or pooling; a 512-wide embedding into 32 units lifted it, and the weight average
  (use_ema) steadied the later epochs (validation 0.907 at epoch 3). Those exploratory runs also
  printed test accuracy, so the choice was not blind to it; the validation ranking picked the same.
  The validation part of IMDb's training set shares movies with the training part, which is why
  validation accuracy runs ~2-3 points above test accuracy here.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

from rnnlab import datasets
from rnnlab.tasks import sentiment
from rnnlab.text import tokenizers

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
IMDB = DATA / "imdb" / "aclImdb_labeled.tar.xz"
NSMC = DATA / "nsmc" / "ratings_test.txt.xz"

COMMON = dict(vocab_size=20000, embed_dim=64, units=64, lr=1e-3, batch_size=64, padding="pre", truncating="pre",
              seed=0)
# The LSTM recipe (tuned on a seeded 10 % validation part of the training reviews, never on the test set):
# a wide embedding feeding a narrow LSTM, mean of the hidden states, dropout before the output, RMSprop,
# and the weight average of the last ~500 steps (use_ema). Reviews are cut to their last 600 tokens
# (95th percentile of the English tokeniser's lengths: 597).
WIDE = dict(maxlen=600, embed_dim=512, units=32, pooling="mean", dropout=0.5, optimizer="rmsprop", ema=0.998,
            epochs=3)
RUNS = {
    "imdb-lstm": dict(data="imdb", model="lstm", **WIDE),
    "imdb-simple_rnn": dict(data="imdb", model="simple_rnn", pooling="mean", maxlen=200, epochs=3),
    "imdb-bilstm": dict(data="imdb", model="bilstm", **WIDE),
    "nsmc-lstm": dict(data="nsmc", model="lstm", **{**WIDE, "maxlen": 60}),      # 95th pct of kiwi morphemes: 56
    "nsmc-gru": dict(data="nsmc", model="gru", **{**WIDE, "maxlen": 60}),
}


def time_tokenizer(path):
    (a, _), (b, _) = datasets.load_imdb(path)
    texts = a + b
    t = time.perf_counter()
    tokens = tokenizers.get("english").tokenize_many(texts, progress=True, desc="tokenising 50k IMDb")
    seconds = time.perf_counter() - t
    print(f"tokenised {len(texts)} IMDb reviews ({sum(map(len, tokens))} tokens) in {seconds:.1f}s", flush=True)
    return {"run": "tokenize", "reviews": len(texts), "tokenize_seconds": seconds}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", nargs="+", default=["tokenize", *RUNS], choices=["tokenize", *RUNS])
    p.add_argument("--imdb", default=str(IMDB))
    p.add_argument("--nsmc", default=str(NSMC))
    p.add_argument("--epochs", type=int, default=None, help="override every run's epochs")
    p.add_argument("--max-train", type=int, default=None)
    p.add_argument("--max-test", type=int, default=None)
    p.add_argument("--output", default=None, help="append one JSON line per run here")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="override settings, e.g. --set maxlen=300 truncating=post")
    args = p.parse_args(argv)
    overrides = {}
    for kv in args.set:
        k, _, v = kv.partition("=")
        overrides[k] = json.loads(v) if v[:1].isdigit() or v[:1] in "-[{" or v in ("null", "true", "false") else v
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}", flush=True)
    results = []
    for name in args.runs:
        if name == "tokenize":
            results.append(time_tokenizer(args.imdb))
            continue
        cfg = {**COMMON, **RUNS[name], **overrides}
        kind = cfg.pop("data")
        if args.epochs:
            cfg["epochs"] = args.epochs
        print(f"\n== {name}: {json.dumps(cfg)}", flush=True)
        _, rep = sentiment.train(f"{kind}:{getattr(args, kind)}", max_train=args.max_train, max_test=args.max_test,
                                 verbose=1, **cfg)
        rep = {"run": name, **{k: v for k, v in rep.items() if k != "history"}, "history": rep["history"],
               "load_average": os.getloadavg()[0]}
        print(f"{name}: test accuracy {rep['test_accuracy']:.4f} on {rep['test_size']} texts; tokenising "
              f"{rep['tokenize_seconds']:.1f}s, training {rep['train_seconds']:.1f}s, wall {rep['wall_seconds']:.1f}s",
              flush=True)
        results.append(rep)
        if args.output:
            with open(args.output, "a", encoding="utf-8") as f:
                f.write(json.dumps(rep) + "\n")
    print("\nrun               test_acc  tokenise_s  train_s   wall_s")
    for r in results:
        if r["run"] == "tokenize":
            print(f"{'tokenize (50k)':<17} {'':>8}  {r['tokenize_seconds']:>10.1f}")
        else:
            print(f"{r['run']:<17} {r['test_accuracy']:>8.4f}  {r['tokenize_seconds']:>10.1f}  "
                  f"{r['train_seconds']:>7.1f}  {r['wall_seconds']:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
