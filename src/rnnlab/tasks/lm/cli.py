"""The language-model task's command line, plugged into ``rnnlab.cli`` (``TASKS["lm"]``)::

    rnnlab train lm --data ptb:../shared/data/ptb --preset zaremba-small --out runs/ptb
    rnnlab train lm --data text:../shared/data/tinyshakespeare/input.txt.xz --level char --preset char --out runs/sh
    rnnlab train lm --data ptb:DIR --out runs/ptb --resume            # continue a stopped run
    mpiexec -n 2 rnnlab train lm --data ptb:DIR --preset zaremba-small --out runs/ptb   # data-parallel
    rnnlab generate runs/sh --prompt "ROMEO:" --length 500 --temperature 0.8 --top-k 40 --seed 1
    rnnlab evaluate runs/ptb --data ptb:../shared/data/ptb --split test

The flags of ``rnnlab train lm`` other than ``--data``, ``--preset``, ``--out``, ``--resume`` and ``--quiet``
come from ``LMConfig``; a preset sets the defaults and the flags given override it.
"""
import argparse
import math

from ...distributed.comm import add_cli_arguments
from .config import PRESETS, LMConfig
from .language_model import load
from .training import evaluate, train


def register_train(subparsers):
    p = subparsers.add_parser(
        "lm", help="language model (word-level PTB or any text, character level too) and text generation",
        description="Train a recurrent language model by truncated BPTT over one long stream, report perplexity "
                    "(or bits per character) and checkpoint the model directory after every epoch.")
    p.add_argument("--data", required=True, metavar="KIND:PATH",
                   help="ptb:DIR (ptb.{train,valid,test}.txt[.xz]) or text:FILE (UTF-8, .xz/.gz/.bz2 ok)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from these settings (see rnnlab.tasks.lm)")
    LMConfig.add_arguments(p)
    names = set(LMConfig.names())
    for action in p._actions:                       # only flags given on the command line override a preset
        if action.dest in names:
            action.default = argparse.SUPPRESS
    p.add_argument("--out", metavar="MODEL_DIR", help="checkpoint the model directory here after every epoch")
    p.add_argument("--resume", action="store_true", help="continue the stopped run saved in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_cli_arguments(p)
    p.set_defaults(func=_train_main)
    return p


def _train_main(args):
    given = {k: v for k, v in vars(args).items() if k in set(LMConfig.names())}
    if args.resume and given:
        raise ValueError(f"--resume continues the saved run with its own settings; drop {sorted(given)}.")
    base = LMConfig(**PRESETS[args.preset]) if args.preset else LMConfig()
    config = LMConfig.create(base, "rnnlab train lm", **given) if given else base
    try:
        lm, report = train(args.data, None if args.resume else config, out=args.out, resume=args.resume,
                           verbose=0 if args.quiet else 1, distributed=args.distributed, dist_timeout=args.dist_timeout)
    except KeyboardInterrupt as e:                  # TrainingInterrupted: the checkpoint in --out is resumable
        if hasattr(e, "checkpoint"):
            import shlex
            e.resume_command = shlex.join(["train", "lm", "--data", args.data, "--out", args.out, "--resume"])
        raise
    if report.get("ranks", 1) > 1 and report.get("rank", 0) != 0:
        return 0                                    # rank 0 alone prints
    if "test_perplexity" in report:
        print(f"test perplexity {report['test_perplexity']:.2f}")
    if lm.config.level == "char" and report["valid_loss"] is not None:
        print(f"valid {report['valid_loss']:.4f} nats/char ({report['valid_loss'] / math.log(2):.4f} bits/char)")
    print(f"wall {report['wall_seconds']:.0f}s" + (f"; saved to {args.out}" if args.out else ""))
    return 0


def cli_generate(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab generate {model_dir}",
                                description="Continue a prompt with a trained language model, one token at a time.")
    p.add_argument("--prompt", default=None, help="text to start from (default: a line end / the first token)")
    p.add_argument("--length", type=int, default=100, help="tokens (or characters) to generate")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--seed", type=int, default=None, help="for a repeatable sample")
    p.add_argument("--greedy", action="store_true", help="always the most likely token")
    args = p.parse_args(argv)
    if args.length < 1:
        raise ValueError(f"--length must be a positive integer, got {args.length}.")
    lm = load(model_dir)
    prompt = args.prompt
    if prompt is None:
        prompt = "\n" if lm.config.level == "char" and "\n" in lm.vocab else lm.vocab.id_to_token(0)
    text = lm.generate(prompt, length=args.length, temperature=args.temperature, top_k=args.top_k,
                       top_p=args.top_p, seed=args.seed, greedy=args.greedy)
    print(prompt + ("" if lm.config.level == "char" else " ") + text)
    return 0


def cli_evaluate(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab evaluate {model_dir}",
                                description="Perplexity (and bits per token) of a language model on a text.")
    p.add_argument("--data", required=True, metavar="KIND:PATH", help="ptb:DIR or text:FILE")
    p.add_argument("--split", default="test", choices=("train", "valid", "test"))
    args = p.parse_args(argv)
    lm = load(model_dir)
    r = evaluate(lm, args.data, args.split, verbose=1)
    print(f"{args.split}: perplexity {r['perplexity']:.2f}  nats/token {r['nll']:.4f}  "
          f"bits/token {r['bits_per_token']:.4f}  ({r['tokens']} tokens)")
    return 0
