"""Language models on the standard data: perplexity, bits per character and wall time on this machine, and
rnnlab against a same-architecture PyTorch model trained on the same batches.

    python benchmarks/lm.py train zaremba-small ptb:../shared/data/ptb           # Zaremba's small PTB model
    python benchmarks/lm.py train ptb-tied ptb:../shared/data/ptb                # the best recipe here
    python benchmarks/lm.py train char text:../shared/data/tinyshakespeare/input.txt.xz --prompt "ROMEO:"
    python benchmarks/lm.py compare ptb:../shared/data/ptb --epochs 2            # rnnlab vs torch, same batches
    python benchmarks/lm.py compare ptb:../shared/data/ptb --epochs 13 --torch-only   # torch's whole run
    python benchmarks/lm.py generate runs/bench-zaremba-small                    # tokens per second, batch 1

``train`` prints the learning curve (per epoch: learning rate, train/valid perplexity or bits per
character, seconds), the test perplexity, the wall time, and samples. ``compare`` starts both libraries
from the same weights (rnnlab's, converted to PyTorch's gate layout), feeds them the same windows in
the same order, alternates their epochs and prints each epoch's seconds and validation perplexity.
``generate`` times one-token steps at batch 1 (embedding, the recurrent stack, the softmax) against
the same PyTorch model stepping one token at a time.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from machine import describe  # noqa: E402

from rnnlab.tasks import lm as lm_task  # noqa: E402
from rnnlab.text import streams  # noqa: E402


def train(args):
    out = args.out or f"runs/bench-{args.preset}"
    lm, report = lm_task.train(args.data, preset=args.preset, out=out, verbose=2 if args.quiet else 1,
                               **({"epochs": args.epochs} if args.epochs else {}))
    print(f"\n{args.preset}: {lm.config.to_dict()}")
    print("epoch  lr       train ppl  valid ppl  valid nats  valid bits  seconds")
    for r in report["history"]:
        print(f"{r['epoch']:5d}  {r['lr']:<7.4g}  {r['train_perplexity']:9.2f}  {r['valid_perplexity']:9.2f}  "
              f"{r['valid_loss']:10.4f}  {r['valid_loss'] / math.log(2):10.4f}  {r['seconds']:7.0f}")
    if "test_perplexity" in report:
        print(f"test perplexity {report['test_perplexity']:.2f}")
    print(f"wall time {report['wall_seconds'] / 60:.1f} min (training, evaluation and checkpoints); saved to {out}")
    prompt = args.prompt or ("the company said" if lm.config.level == "word" else "\n")
    for seed in range(args.samples):
        text = lm.generate(prompt, length=args.length, temperature=0.8, top_k=40, seed=seed)
        print(f"\n--- sample {seed} (temperature 0.8, top-k 40) ---\n{prompt}{'' if lm.config.level == 'char' else ' '}"
              f"{text}")


def _torch_model(lm):
    """The same network in PyTorch, with rnnlab's weights (Keras gate order i, f, c, o -> torch's i, f, g, o)."""
    import torch
    cfg, model = lm.config, lm.model
    if cfg.cell != "lstm" or cfg.dropout or cfg.tie_weights:
        raise SystemExit("compare/generate support the plain LSTM model (no dropout, no tying), e.g. zaremba-small")
    emb = model.layers[0]
    V, E = emb.input_dim, emb.output_dim
    rnns = [layer for layer in model.layers if hasattr(layer, "cell")]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, E)
            self.rnn = torch.nn.LSTM(E, cfg.units, num_layers=len(rnns), batch_first=True)
            self.out = torch.nn.Linear(cfg.units, V)

        def forward(self, x, state=None):
            h, state = self.rnn(self.emb(x), state)
            return self.out(h), state

    net = Net()
    with torch.no_grad():
        net.emb.weight.copy_(torch.from_numpy(emb.get_weights()[0]))
        for i, layer in enumerate(rnns):
            W, U, b = layer.get_weights()
            getattr(net.rnn, f"weight_ih_l{i}").copy_(torch.from_numpy(W.T.copy()))
            getattr(net.rnn, f"weight_hh_l{i}").copy_(torch.from_numpy(U.T.copy()))
            getattr(net.rnn, f"bias_ih_l{i}").copy_(torch.from_numpy(b))
            getattr(net.rnn, f"bias_hh_l{i}").zero_()
        Wo, bo = model.layers[-1].get_weights()
        net.out.weight.copy_(torch.from_numpy(Wo.T.copy()))
        net.out.bias.copy_(torch.from_numpy(bo))
    return net


def _torch_epoch(net, data, cfg, lr):
    import torch
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    state, total, count = None, 0.0, 0
    loss_fn = torch.nn.CrossEntropyLoss()
    for x, y in streams.windows(data, cfg.num_steps, drop_last=True):
        x, y = torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = net(x, state)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)) * cfg.num_steps   # Zaremba's cost
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clipnorm)
        opt.step()
        total += loss.item() / cfg.num_steps * y.numel()
        count += y.numel()
    return total / count


def _torch_nll(net, ids, num_steps=35):
    import torch
    data = streams.batchify(ids, 1)
    state, total, count = None, 0.0, 0
    with torch.inference_mode():
        for x, y in streams.windows(data, num_steps):
            logits, state = net(torch.from_numpy(x.astype(np.int64)), state)
            logp = torch.log_softmax(logits, -1).numpy()
            total -= float(np.take_along_axis(logp, y[..., None].astype(np.int64), -1).sum())
            count += y.size
    return total / count


def compare(args):
    import torch
    torch.set_num_threads(2)
    cfg = lm_task.LMConfig(**lm_task.PRESETS["zaremba-small"])
    corpus = lm_task.load_corpus(args.data, "word")
    lm = lm_task.LanguageModel(lm_task.build_model(cfg, len(corpus.vocab)), corpus.vocab, cfg)
    net = _torch_model(lm)
    data = streams.batchify(corpus.train, cfg.batch_size)
    from rnnlab.tasks.lm.training import epoch_lr, make_optimizer, run_epoch
    print("epoch  rnnlab s  torch s  ratio  rnnlab valid ppl  torch valid ppl")
    nan = float("nan")
    for epoch in range(args.epochs):
        lr = epoch_lr(cfg, epoch)
        t_r = v_r = nan
        if not args.torch_only:
            lm.model.compile(make_optimizer(cfg, lr), "sparse_categorical_crossentropy")
            t0 = time.perf_counter()
            run_epoch(lm.model, data, cfg, verbose=0)
            t_r = time.perf_counter() - t0
            v_r = math.exp(lm.nll(corpus.valid))
        t0 = time.perf_counter()
        _torch_epoch(net, data, cfg, lr)
        t_t = time.perf_counter() - t0
        v_t = math.exp(_torch_nll(net, corpus.valid))
        print(f"{epoch + 1:5d}  {t_r:8.1f}  {t_t:7.1f}  {t_r / t_t:5.2f}  {v_r:16.2f}  {v_t:15.2f}", flush=True)
    print(f"test perplexity: torch {math.exp(_torch_nll(net, corpus.test)):.2f}"
          + ("" if args.torch_only else f", rnnlab {math.exp(lm.nll(corpus.test)):.2f}"))


def generate(args):
    import torch
    torch.set_num_threads(args.threads)
    lm = lm_task.load(args.model_dir)
    net = _torch_model(lm).eval()
    n = args.tokens
    start, states = lm.prime(np.array([0]))
    step = lm._step_fn()
    tok = start
    t0 = time.perf_counter()
    for _ in range(n):
        logp, states = step(tok, states)
        tok = logp.argmax(-1)
    t_r = (time.perf_counter() - t0) / n
    state, tok = None, torch.zeros((1, 1), dtype=torch.int64)
    with torch.inference_mode():
        t0 = time.perf_counter()
        for _ in range(n):
            logits, state = net(tok, state)
            tok = torch.log_softmax(logits[:, -1], -1).argmax(-1, keepdim=True)
        t_t = (time.perf_counter() - t0) / n
    print(f"one-token step at batch 1 ({args.threads} threads): rnnlab {t_r * 1e3:.3f} ms ({1 / t_r:.0f} tokens/s), "
          f"torch {t_t * 1e3:.3f} ms ({1 / t_t:.0f} tokens/s), ratio {t_r / t_t:.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="which", required=True)
    t = sub.add_parser("train")
    t.add_argument("preset", choices=sorted(lm_task.PRESETS))
    t.add_argument("data")
    t.add_argument("--epochs", type=int)
    t.add_argument("--out")
    t.add_argument("--prompt")
    t.add_argument("--samples", type=int, default=2)
    t.add_argument("--length", type=int, default=60)
    t.add_argument("--quiet", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("data")
    c.add_argument("--epochs", type=int, default=2)
    c.add_argument("--torch-only", action="store_true",
                   help="train only the PyTorch model (rnnlab's run with the same weights and batches is "
                        "`train zaremba-small`)")
    g = sub.add_parser("generate")
    g.add_argument("model_dir")
    g.add_argument("--tokens", type=int, default=2000)
    g.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    print(describe())
    {"train": train, "compare": compare, "generate": generate}[args.which](args)


if __name__ == "__main__":
    main()
