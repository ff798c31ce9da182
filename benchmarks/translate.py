"""Translation on Tatoeba: corpus BLEU / chrF / exact match on the held-out split, and what attention, beam
search and the framework each change, measured on this machine in one run.

    python benchmarks/translate.py                                   # the full run (see the time budget below)
    python benchmarks/translate.py --max-pairs 30000 --minutes 8     # a slice
    python benchmarks/translate.py --max-pairs 5000 --epochs 1 --test-sentences 200 --skip-torch   # smoke test

Runs, each on the same split and the same batches (``training.epoch_batches``: fixed by seed and epoch):

1. rnnlab, English -> French (<= ``--max-words`` words), Bahdanau (or ``--attention luong``) attention:
   trained for ``--minutes`` (or ``--epochs``), scored with beam search (``--beam``) and with greedy search:
   the gain of beam search;
2. rnnlab, the same network without attention (``attention=none``), same budget: the gain of attention;
3. PyTorch (CPU, the threads NumPy's BLAS gets), the same architecture (bidirectional LSTM encoder, tanh
   bridge, LSTM decoder, the same attention score and attentional layer, Adam, global-norm clipping,
   the same masked loss), trained on the same batches for the same wall time as run 1 and decoded by the
   same ``rnnlab.decoding`` beam search through a torch step function: BLEU and seconds per epoch side by side;
4. rnnlab, English -> Korean (characters on the Korean side), attention + beam: BLEU / chrF and samples.

Time budget: runs 1-3 take ``--minutes`` each (3 × 60 min by default), plus decoding the test sentences
(``--test-sentences``; about 15-40 s per thousand with beam 5) and run 4 (``--ko-minutes``).
Use ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` to fix the threads of both libraries.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe  # noqa: E402

from rnnlab import decoding  # noqa: E402
from rnnlab.tasks import translate  # noqa: E402
from rnnlab.tasks.translate.data import END_ID, PAD_ID, START_ID, detokenize, pad  # noqa: E402
from rnnlab.tasks.translate.training import epoch_batches  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tatoeba"


# ---- rnnlab ---------------------------------------------------------------------------------------------

def score(name, tr, data, args, beams):
    rows = []
    for beam in beams:
        r = translate.evaluate(tr, data, "test", beam_width=beam, max_sentences=args.test_sentences)
        rows.append(dict(name=name, search="greedy" if beam == 1 else f"beam {beam}", bleu=r["bleu"], chrf=r["chrf"],
                         em=r["exact_match"], decode=r["seconds"], n=r["sentences"], result=r))
        print(f"  {name:28s} {rows[-1]['search']:8s} BLEU {r['bleu']:6.2f}  chrF {r['chrf']:6.2f}  exact "
              f"{r['exact_match']:5.1f}%  ({r['sentences']} sentences, {r['seconds']:.0f}s)", flush=True)
    return rows


def run_rnnlab(name, data, config, args):
    print(f"\n== {name}: {config.to_dict()}", flush=True)
    tr, report = translate.train(data, config, verbose=2)
    hist = report["history"]
    epochs = sum(h["fraction"] for h in hist)
    per_epoch = sum(h["seconds"] for h in hist) / epochs
    print(f"  {epochs:.2f} epochs, {per_epoch:.0f} s/epoch, final train loss {hist[-1]['train_loss']:.3f}"
          + (f", valid loss {hist[-1]['valid_loss']:.3f}" if hist[-1]["valid_loss"] is not None else ""))
    return tr, report, epochs, per_epoch


# ---- PyTorch: the same network ----------------------------------------------------------------------------

def torch_net(config, Vs, Vt):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            u, d, a = config.units, config.embed_dim, config.attention_units or config.units
            self.src_emb, self.tgt_emb = nn.Embedding(Vs, d, padding_idx=0), nn.Embedding(Vt, d, padding_idx=0)
            self.encoder = nn.LSTM(d, u, batch_first=True, bidirectional=True)
            self.bridge_h, self.bridge_c = nn.Linear(2 * u, u), nn.Linear(2 * u, u)
            self.decoder = nn.LSTM(d, u, batch_first=True)
            self.luong = config.attention == "luong"
            if self.luong:                                                  # score o · (W_k H), no bias
                self.key = nn.Linear(2 * u, u, bias=False)
            else:                                                           # score vᵀ tanh(W_q o + W_k H + b)
                self.query, self.key = nn.Linear(u, a, bias=False), nn.Linear(2 * u, a)
                self.v = nn.Parameter(torch.empty(a).uniform_(-(6 / (a + 1)) ** 0.5, (6 / (a + 1)) ** 0.5))
            self.attentional, self.out = nn.Linear(3 * u, u), nn.Linear(u, Vt)

        def encode(self, x):
            mask = x != PAD_ID
            lengths = mask.sum(1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(self.src_emb(x), lengths, batch_first=True,
                                                       enforce_sorted=False)
            H, (h, c) = self.encoder(packed)
            H, _ = nn.utils.rnn.pad_packed_sequence(H, batch_first=True, total_length=x.shape[1])
            h0 = torch.tanh(self.bridge_h(torch.cat([h[0], h[1]], -1)))
            c0 = torch.tanh(self.bridge_c(torch.cat([c[0], c[1]], -1)))
            return h0, c0, H, self.key(H), mask

        def decode(self, y_in, h0, c0, H, K, mask):
            o, (h, c) = self.decoder(self.tgt_emb(y_in), (h0[None], c0[None]))           # (N, T, u)
            if self.luong:
                s = o @ K.transpose(1, 2)                                                  # (N, T, S)
            else:
                s = torch.tanh(self.query(o)[:, :, None, :] + K[:, None, :, :]) @ self.v  # (N, T, S)
            s = s.masked_fill(~mask[:, None, :], -1e9)
            ctx = torch.softmax(s, -1) @ H                                                 # (N, T, 2u)
            top = torch.tanh(self.attentional(torch.cat([ctx, o], -1)))
            return self.out(top), h[0], c[0]

        def forward(self, x, y_in):
            return self.decode(y_in, *self.encode(x))[0]

    return Net()


def run_torch(data, config, seconds, args):
    import torch
    torch.manual_seed(config.seed)
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
    torch.set_num_threads(threads)
    net = torch_net(config, len(data.src_vocab), len(data.tgt_vocab))
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=0)
    print(f"\n== PyTorch {torch.__version__} ({threads} threads), the same network and batches, {seconds:.0f} s",
          flush=True)
    t_start, epoch, fractions, spent = time.perf_counter(), 0, [], 0.0
    while time.perf_counter() - t_start < seconds and epoch < (args.epochs or 10 ** 6):
        t0, total, count, done = time.perf_counter(), 0.0, 0, 0
        batches = epoch_batches(data, data.train, config, epoch)
        for x, x_in, y in batches:
            x, x_in, y = (torch.from_numpy(a.astype(np.int64)) for a in (x, x_in, y))
            logits = net(x, x_in)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            if config.clipnorm:
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.clipnorm)
            opt.step()
            n = int((y != 0).sum())
            total, count, done = total + loss.item() * n, count + n, done + 1
            if time.perf_counter() - t_start > seconds:
                break
        epoch += 1
        fractions.append(done / len(batches))
        spent += time.perf_counter() - t0
        print(f"  epoch {epoch} ({done}/{len(batches)} batches): train loss {total / count:.4f} "
              f"({time.perf_counter() - t0:.0f}s)", flush=True)
    return net, sum(fractions), spent / sum(fractions)


def torch_translate(net, data, sources, beam, batch_size=64):
    import torch

    def step(tokens, state):
        h, c, H, K, mask = (torch.from_numpy(s) for s in state)
        with torch.no_grad():
            logits, h, c = net.decode(torch.from_numpy(tokens.astype(np.int64))[:, None], h, c, H, K, mask)
        return torch.log_softmax(logits[:, 0].double(), -1).numpy(), [h.numpy(), c.numpy(), *state[2:]]

    ids = [data.src_vocab.encode(translate.tokenize(s)) for s in sources]
    out = [None] * len(ids)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for k in range(0, len(order), batch_size):
        chunk = order[k:k + batch_size]
        x = pad([ids[i] for i in chunk])
        with torch.no_grad():
            state = [t.numpy() for t in net.encode(torch.from_numpy(x.astype(np.int64)))]
        start, L = np.full(len(x), START_ID), 3 * x.shape[1] + 10
        res = decoding.greedy(step, start, state, L, END_ID) if beam == 1 else \
            decoding.beam_search(step, start, state, L, beam_width=beam, end_token=END_ID)
        for i, row, n in zip(chunk, res.tokens, res.lengths):
            out[i] = detokenize(data.tgt_vocab.decode([t for t in row[:n] if t != END_ID]))
    return out


def score_torch(net, data, config, args, beams):
    sources, refs = data.test.references()
    sources, refs = sources[:args.test_sentences], refs[:args.test_sentences]
    rows = []
    for beam in beams:
        t0 = time.perf_counter()
        hyps = torch_translate(net, data, sources, beam)
        r = translate.corpus_scores(hyps, refs)
        rows.append(dict(name=f"torch, {config.attention}", search="greedy" if beam == 1 else f"beam {beam}",
                         bleu=r["bleu"], chrf=r["chrf"], em=r["exact_match"], decode=time.perf_counter() - t0,
                         n=len(sources)))
        print(f"  {rows[-1]['name']:28s} {rows[-1]['search']:8s} BLEU {r['bleu']:6.2f}  chrF {r['chrf']:6.2f}  "
              f"exact {r['exact_match']:5.1f}%  ({len(sources)} sentences, {rows[-1]['decode']:.0f}s)", flush=True)
    return rows


# ---- main -----------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fr", default=str(DATA / "fra.txt.xz"), help="the English-French Tatoeba file")
    p.add_argument("--ko", default=str(DATA / "kor.txt.xz"), help="the English-Korean Tatoeba file")
    p.add_argument("--max-pairs", type=int, default=None, help="use about this many en-fr pairs (default: all)")
    p.add_argument("--max-words", type=int, default=10)
    p.add_argument("--minutes", type=float, default=60.0, help="training wall time of each en-fr run")
    p.add_argument("--epochs", type=int, default=None, help="at most this many epochs per run")
    p.add_argument("--ko-minutes", type=float, default=5.0)
    p.add_argument("--ko-epochs", type=int, default=30)
    p.add_argument("--attention", default="bahdanau", choices=("bahdanau", "luong"),
                   help="the attention of the main runs (rnnlab and torch)")
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--embed-dim", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-decay", type=float, default=0.8)
    p.add_argument("--min-freq", type=int, default=2)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--test-sentences", type=int, default=2000, help="score the first N test sources (0: all)")
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--skip-none", action="store_true", help="skip the run without attention")
    p.add_argument("--skip-korean", action="store_true")
    args = p.parse_args(argv)
    args.test_sentences = args.test_sentences or None
    print(describe())
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    base = translate.TranslateConfig(
        src="en", tgt="fr", max_words=args.max_words, max_pairs=args.max_pairs, min_freq=args.min_freq,
        units=args.units, embed_dim=args.embed_dim, batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay,
        epochs=args.epochs or 1000, minutes=args.minutes, attention=args.attention)
    t0 = time.perf_counter()
    data = translate.load_dataset(f"tatoeba:{args.fr}", base)
    sources, _ = data.test.references()
    print(f"en-fr: {len(data.train)} training pairs, {len(data.valid)} valid, {len(sources)} test sources "
          f"({len(data.test)} pairs); vocabularies en {len(data.src_vocab)}, fr {len(data.tgt_vocab)} "
          f"(min_freq {args.min_freq}); read in {time.perf_counter() - t0:.0f}s")
    rows, epochs = [], {}
    main_name = f"rnnlab, {args.attention}"
    tr, report, n, spe = run_rnnlab(main_name, data, base, args)
    epochs[main_name] = (n, spe)
    train_seconds = sum(h["seconds"] for h in report["history"])
    rows += score(main_name, tr, data, args, [args.beam, 1])
    if not args.skip_none:
        cfg = translate.TranslateConfig.create(base, "benchmark", attention="none")
        tr_none, _, n, spe = run_rnnlab("rnnlab, no attention", data, cfg, args)
        epochs["rnnlab, no attention"] = (n, spe)
        rows += score("rnnlab, no attention", tr_none, data, args, [args.beam, 1])
    if not args.skip_torch:
        net, n, spe = run_torch(data, base, train_seconds, args)
        epochs[f"torch, {args.attention}"] = (n, spe)
        rows += score_torch(net, data, base, args, [args.beam, 1])
    print("\nen->fr, held-out test sources (BLEU/chrF: sacrebleu 13a, case-insensitive, multi-reference)")
    print(f"{'model':28s} {'search':8s} {'epochs':>6s} {'s/epoch':>8s} {'BLEU':>6s} {'chrF':>6s} {'exact%':>6s} "
          f"{'decode s':>8s}")
    for r in rows:
        n, spe = epochs[r["name"]]
        print(f"{r['name']:28s} {r['search']:8s} {n:6.2f} {spe:8.0f} {r['bleu']:6.2f} {r['chrf']:6.2f} {r['em']:6.1f} "
              f"{r['decode']:8.0f}")
    best = rows[0]["result"]
    print(f"\nsamples ({main_name}, beam):")
    for s, h, refs in list(zip(best["sources"], best["hypotheses"], best["references"]))[:8]:
        print(f"  {s}\n    -> {h}\n       ref: {refs[0]}")
    if not args.skip_korean and Path(args.ko).exists():
        ko = translate.TranslateConfig(src="en", tgt="ko", max_words=args.max_words, min_freq=2, units=args.units,
                                       embed_dim=args.embed_dim, batch_size=32, lr=args.lr, epochs=args.ko_epochs,
                                       minutes=args.ko_minutes, attention="bahdanau", dropout=0.2)
        data_ko = translate.load_dataset(f"tatoeba:{args.ko}", ko)
        print(f"\nen-ko: {len(data_ko.train)} training pairs; vocabularies en {len(data_ko.src_vocab)}, "
              f"ko {len(data_ko.tgt_vocab)} characters")
        tr_ko, _, _, _ = run_rnnlab("rnnlab en->ko, bahdanau", data_ko, ko, args)
        r = score("rnnlab en->ko, bahdanau", tr_ko, data_ko, args, [args.beam])[0]["result"]
        for s, h, refs in list(zip(r["sources"], r["hypotheses"], r["references"]))[:8]:
            print(f"  {s}\n    -> {h}\n       ref: {refs[0]}")
    print(f"\ntotal wall {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
