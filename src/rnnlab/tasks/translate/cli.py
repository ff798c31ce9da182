"""The translation task's command line, plugged into ``rnnlab.cli`` (``TASKS["translate"]``)::

    rnnlab train translate --data tatoeba:../shared/data/tatoeba/fra.txt.xz --src en --tgt fr --out runs/fr
    rnnlab train translate --data tatoeba:../shared/data/tatoeba/fra.txt.xz --src fr --tgt en --out runs/fr-en
    rnnlab predict runs/fr "I love you." "Where is Tom?" --beam 5
    rnnlab predict runs/fr --file sentences.txt            # one sentence per line; --file - reads stdin
    rnnlab predict runs/fr "I love you." --attention-map attention.png
    rnnlab evaluate runs/fr --data tatoeba:../shared/data/tatoeba/fra.txt.xz --beam 5

The flags of ``rnnlab train translate`` other than ``--data``, ``--out`` and ``--quiet`` come from
``TranslateConfig``. ``evaluate`` rebuilds the held-out split from the settings saved with the model.
"""
import argparse
import sys

from ...distributed.comm import add_cli_arguments
from .config import TranslateConfig
from .evaluation import evaluate
from .training import train
from .translator import load


def register_train(subparsers):
    p = subparsers.add_parser(
        "translate", help="sentence translation (Tatoeba pairs): bidirectional encoder, attention decoder",
        description="Train an encoder-decoder translator with attention on Tatoeba sentence pairs, checkpoint the "
                    "model directory after every epoch, then report BLEU/chrF on a few held-out sentences.")
    p.add_argument("--data", required=True, metavar="tatoeba:FILE",
                   help="a manythings.org/anki file: English<TAB>translation lines (.txt or .xz/.gz/.bz2)")
    TranslateConfig.add_arguments(p)
    p.add_argument("--out", metavar="MODEL_DIR", help="write the model directory here after every epoch")
    p.add_argument("--quiet", action="store_true", help="no progress bars, one line per epoch")
    add_cli_arguments(p)
    p.set_defaults(func=_train_main)
    return p


def _train_main(args):
    config = TranslateConfig.from_args(args, "rnnlab train translate")
    tr, report = train(args.data, config, out=args.out, verbose=2 if args.quiet else 1,
                       distributed=args.distributed, dist_timeout=args.dist_timeout)
    if report.get("rank", 0) != 0:
        return 0                                    # rank 0 alone prints
    dataset = report["dataset"]
    print(f"{report['train_pairs']} training pairs, vocabularies {report['src_vocab']} ({config.src}) and "
          f"{report['tgt_vocab']} ({config.tgt}); wall {report['wall_seconds']:.0f}s"
          + (f"; saved to {args.out}" if args.out else ""))
    quick = evaluate(tr, dataset, "test", beam_width=1, max_sentences=500)
    print(f"greedy on the first {quick['sentences']} test sentences: BLEU {quick['bleu']:.2f}  chrF "
          f"{quick['chrf']:.2f}  exact match {quick['exact_match']:.1f}%  (rnnlab evaluate for the whole split)")
    return 0


def _read_sentences(args):
    """``(sentences, names)``: the arguments, or the non-blank lines of --file / stdin, each named by where it came
    from ("in.txt, line 3") for the error and warning messages."""
    sentences = [(s, f"Argument {i + 1}") for i, s in enumerate(args.sentences)]
    if args.file is not None or args.sentences == ["-"]:
        sentences = [] if args.sentences == ["-"] else sentences
        path = "-" if args.file is None else args.file
        sentences += [(s, w) for s, w in _lines(path) if s.strip()]
    if not sentences:
        raise ValueError("No sentence to translate: give sentences as arguments, --file FILE (one per line) or "
                         "'-' / --file - to read standard input.")
    return [s for s, _ in sentences], [w for _, w in sentences]


def _lines(path):
    """``(line, "FILE, line n")`` for each line of a UTF-8 file ('-': standard input); bytes that are not UTF-8
    are an error naming the file and the line."""
    name = "standard input" if path == "-" else path
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)          # a text stream without bytes (e.g. StringIO) is text
        data = sys.stdin.read().encode("utf-8", "surrogateescape") if stream is None else stream.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    for n, raw in enumerate(data.splitlines(), 1):
        try:
            yield raw.decode("utf-8"), f"{name}, line {n}"
        except UnicodeDecodeError as e:
            raise ValueError(f"{name}, line {n}: byte {e.start + 1} ({raw[e.start:e.start + 1]!r}) is not UTF-8 "
                             f"({e.reason}); save the file as UTF-8.") from None


def cli_predict(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab predict {model_dir}",
                                description="Translate sentences with a trained translation model.")
    p.add_argument("sentences", nargs="*", help="sentences to translate ('-' reads one per line from stdin)")
    p.add_argument("--file", help="read sentences from this UTF-8 file, one per line ('-': stdin)")
    p.add_argument("--beam", type=int, default=5, help="beam width (1: greedy search)")
    p.add_argument("--length-penalty", type=float, default=1.0,
                   help="rank beams by log p / length**this (0: raw log p)")
    p.add_argument("--max-length", type=int, default=None, help="most output tokens (default: from the source)")
    p.add_argument("--attention-map", metavar="PNG", help="draw the first sentence's attention weights here")
    args = p.parse_args(argv)
    if args.beam < 1:
        raise ValueError(f"--beam must be an integer >= 1 (1: greedy), got {args.beam}.")
    if args.max_length is not None and args.max_length < 1:
        raise ValueError(f"--max-length must be a positive integer, got {args.max_length}.")
    sentences, names = _read_sentences(args)
    tr = load(model_dir)
    for out in tr.translate(sentences, beam_width=args.beam, length_penalty=args.length_penalty,
                            max_length=args.max_length, names=names):
        print(out)
    if args.attention_map:
        from .plots import save_attention_map
        src, out, weights = tr.attention_weights(sentences[0], args.beam, args.length_penalty, args.max_length)
        save_attention_map(args.attention_map, src, out, weights)
        print(f"attention map of {sentences[0]!r} written to {args.attention_map}", file=sys.stderr)
    return 0


def cli_evaluate(model_dir, argv):
    p = argparse.ArgumentParser(prog=f"rnnlab evaluate {model_dir}",
                                description="BLEU, chrF and exact match of a translation model on its held-out "
                                            "split (rebuilt from the settings saved with the model).")
    p.add_argument("--data", required=True, metavar="tatoeba:FILE", help="the file the model was trained on")
    p.add_argument("--split", default="test", choices=("test", "valid"))
    p.add_argument("--beam", type=int, default=5, help="beam width (1: greedy search)")
    p.add_argument("--length-penalty", type=float, default=1.0)
    p.add_argument("--max-sentences", type=int, default=None, help="score only the first N sources of the split")
    p.add_argument("--show", type=int, default=5, help="print this many sample translations")
    args = p.parse_args(argv)
    if args.beam < 1:
        raise ValueError(f"--beam must be an integer >= 1 (1: greedy), got {args.beam}.")
    tr = load(model_dir)
    r = evaluate(tr, args.data, args.split, beam_width=args.beam, length_penalty=args.length_penalty,
                 max_sentences=args.max_sentences)
    for src, hyp, refs in list(zip(r["sources"], r["hypotheses"], r["references"]))[:max(args.show, 0)]:
        print(f"  {src}\n  -> {hyp}\n     ref: {refs[0]}")
    search = "greedy" if args.beam == 1 else f"beam {args.beam}"
    print(f"{args.split}: BLEU {r['bleu']:.2f}  chrF {r['chrf']:.2f}  exact match {r['exact_match']:.1f}%  "
          f"({r['sentences']} sentences, {search}, {r['seconds']:.0f}s)")
    print(f"sacrebleu {r['signatures']['bleu']} / {r['signatures']['chrf']}")
    return 0
