"""The ``rnnlab export`` and ``rnnlab convert`` verbs; ``rnnlab.cli`` calls ``register(subparsers)``.

    rnnlab export MODEL_DIR --onnx model.onnx [--keras model.keras]
    rnnlab convert SRC DST

``convert`` picks the direction from the paths: ``model.keras`` -> an rnnlab model directory,
an rnnlab model directory -> ``.keras`` (Keras 3) or ``.onnx``. Every check runs before a file is
written, so a refused model (a layer with no equivalent) leaves nothing behind. Only the network
travels: a task's extra files (a sentiment model's ``vocab.json``) stay in the rnnlab directory.
"""
import sys
from pathlib import Path


def _load_rnnlab(model_dir):
    from ..models import load_model
    return load_model(model_dir, compile=False)


def _export(model, dst):
    dst = Path(dst)
    if dst.suffix == ".onnx":
        from .onnx import to_onnx
        to_onnx(model, dst)
    elif dst.suffix == ".keras":
        from .keras import save
        save(model, dst)
    else:
        raise ValueError(f"Cannot tell the target format of {str(dst)!r}: expected a path ending in .onnx or .keras.")
    return dst


def _guarded(fn):
    def run(args):
        try:
            return fn(args)
        except ImportError as e:
            print(f"rnnlab: error: {e}", file=sys.stderr)
            return 1
    return run


def cmd_export(args):
    """``rnnlab export MODEL_DIR --onnx PATH --keras PATH``: write one or both formats."""
    if not args.onnx and not args.keras:
        raise ValueError("rnnlab export needs --onnx PATH and/or --keras PATH.")
    model = _load_rnnlab(args.model_dir)
    targets = [t for t in (args.onnx, args.keras) if t]
    if args.onnx and not str(args.onnx).endswith(".onnx"):
        raise ValueError(f"--onnx expects a path ending in .onnx, got {args.onnx!r}.")
    if args.keras and not str(args.keras).endswith(".keras"):
        raise ValueError(f"--keras expects a path ending in .keras, got {args.keras!r}.")
    _check_all(model, targets)
    for t in targets:
        print(f"wrote {_export(model, t)}")
    return 0


def _check_all(model, targets):
    """Run every target's checks first, so that no format is written when another would be refused."""
    for t in targets:
        if str(t).endswith(".onnx"):
            from .onnx import build
            build(model)
        else:
            from .keras import to_config
            to_config(model)


def cmd_convert(args):
    """``rnnlab convert SRC DST``: keras -> rnnlab directory, rnnlab directory -> keras or onnx."""
    src, dst = Path(args.src), Path(args.dst)
    if src.suffix == ".keras":
        if dst.suffix in (".keras", ".onnx"):
            raise ValueError(f"rnnlab convert {src} {dst}: Keras to {dst.suffix} is not a direction rnnlab converts; "
                             "convert to an rnnlab model directory first (rnnlab convert SRC.keras DIR).")
        from .keras import load
        model = load(src)
        model.save(dst)
        print(f"wrote {dst}")
        return 0
    if not src.is_dir():
        raise ValueError(f"rnnlab convert: {str(src)!r} is neither a .keras file nor an rnnlab model directory.")
    model = _load_rnnlab(src)
    print(f"wrote {_export(model, dst)}")
    return 0


def register(subparsers):
    """Add ``export`` and ``convert`` to the ``rnnlab`` command's subparsers."""
    p = subparsers.add_parser("export", help="export a saved model to ONNX and/or Keras 3",
                              description="Export an rnnlab model directory to ONNX (opset 17) and/or a Keras 3 "
                                          ".keras file. Nothing is written if any layer cannot be converted.")
    p.add_argument("model_dir", metavar="MODEL_DIR", help="directory written by model.save / rnnlab train")
    p.add_argument("--onnx", metavar="PATH", help="write an ONNX model here (.onnx)")
    p.add_argument("--keras", metavar="PATH", help="write a Keras 3 model here (.keras)")
    p.set_defaults(func=_guarded(cmd_export))
    c = subparsers.add_parser("convert", help="convert between rnnlab, Keras 3 and ONNX",
                              description="Convert SRC to DST, the direction taken from the paths: a .keras file "
                                          "to an rnnlab model directory, or an rnnlab model directory to a .keras "
                                          "or .onnx file.")
    c.add_argument("src", metavar="SRC", help="a .keras file or an rnnlab model directory")
    c.add_argument("dst", metavar="DST", help="an rnnlab model directory, or a .keras / .onnx file")
    c.set_defaults(func=_guarded(cmd_convert))
    return subparsers
