"""The ``rnnlab`` command line.

    rnnlab demo [--lengths 10 50 100 --epochs ...]     the built-in job: vanilla RNN forgets, LSTM/GRU remember
    rnnlab diagnose [--steps 100 --out DIR]            vanishing/exploding gradients measured, with plots
    rnnlab report RUN_DIR [--out report.html] [--data SPEC]   one self-contained HTML page of a run
    rnnlab train TASK ...                              train a task's model (tasks plug in, see below)
    mpiexec -n N rnnlab train sentiment|lm|translate ... data-parallel over MPI (detected; --distributed to insist)
    rnnlab predict MODEL_DIR ...                       predict with a saved model
    rnnlab evaluate MODEL_DIR ...                      evaluate a saved model
    rnnlab generate | forecast | translate | caption MODEL_DIR ...    the verbs of one task
    rnnlab summary MODEL_DIR                           print a saved model's summary table
    rnnlab export MODEL_DIR --onnx model.onnx [--keras model.keras]   export a saved model
    rnnlab convert SRC DST                             .keras -> model dir; model dir -> .keras / .onnx

Plugging in a task (the table ``TASKS`` below lists the modules; a missing module is skipped):
a task module may define any of

    register_train(subparsers)      add ``rnnlab train NAME`` with ``subparsers.add_parser(NAME, ...)``
                                    and ``parser.set_defaults(func=run)``; ``run(args)`` returns an exit code
    cli_predict(model_dir, argv)    handle ``rnnlab predict MODEL_DIR ARGV...`` -> exit code
    cli_evaluate(model_dir, argv)   handle ``rnnlab evaluate MODEL_DIR ARGV...`` -> exit code

A task declares its settings once in a ``TaskConfig`` dataclass (``rnnlab.tasks.config``); its
``register_train`` then adds every flag with ``Config.add_arguments(parser)`` and rebuilds the settings
with ``Config.from_args(args)`` (see ``rnnlab.tasks.sentiment.cli``).

``predict``/``evaluate`` read ``metadata["task"]`` from ``MODEL_DIR/config.json`` (the task writes it
with ``model.save(path, metadata={"task": NAME, ...})``) and hand the remaining arguments to the
module registered under that name. A model saved without a task gets the generic handler here:
NumPy arrays in ``.npy`` files (``--x``, ``--y``, ``--output``), never pickled.
"""
import argparse
import importlib
import sys

#: task name -> module path. Each module may define register_train, cli_predict, cli_evaluate.
TASKS = {
    "sentiment": "rnnlab.tasks.sentiment.cli",
    "lm": "rnnlab.tasks.lm",
    "forecast": "rnnlab.tasks.forecast",
    "translate": "rnnlab.tasks.translate",
    "caption": "rnnlab.tasks.caption",
}


#: verbs that belong to one task: ``rnnlab VERB MODEL_DIR ...`` runs that task's ``cli_VERB`` (or its
#: ``cli_predict``); a model of another task gets a clear error.
VERBS = {"generate": "lm", "forecast": "forecast", "translate": "translate", "caption": "caption"}


def _task_module(name):
    """The task's module, or None if it is not installed (a module that fails inside still raises)."""
    path = TASKS[name]
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as e:
        if e.name is not None and path.startswith(e.name):
            return None
        raise


def _check_output_file(path, what):
    """Refuse an output file path that cannot be written, before any work."""
    import os
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"{what} {path!r} is a folder; expected a file path such as predictions.npy.")
    if not os.path.isdir(folder):
        raise ValueError(f"{what} {path!r}: the folder {folder!r} does not exist; create it first.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{what} {path!r}: no permission to write in {folder!r}.")


def _load_npy(path, what):
    import numpy as np
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"Could not read {what} from {path!r} as a .npy array ({e}).") from None


# ---- generic predict / evaluate (models saved without a task) -----------------------------------------

def _generic_predict(model_dir, argv):
    import numpy as np
    from .models import load_model
    p = argparse.ArgumentParser(prog=f"rnnlab predict {model_dir}",
                                description="Predict with a model saved without a task: inputs from a .npy file.")
    p.add_argument("--x", required=True, help="input array (.npy, e.g. padded token ids of shape (N, T))")
    p.add_argument("--output", help="write the predictions here (.npy); otherwise print them")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    if args.output:
        _check_output_file(args.output, "--output")
    model = load_model(model_dir, compile=False)
    y = model.predict(_load_npy(args.x, "--x"), batch_size=args.batch_size, verbose=1)
    if args.output:
        np.save(args.output, y, allow_pickle=False)
        print(f"wrote predictions of shape {y.shape} to {args.output}")
    else:
        print(np.array2string(y, precision=4, threshold=200))
    return 0


def _generic_evaluate(model_dir, argv):
    from .models import load_model
    from .progress import format_logs
    p = argparse.ArgumentParser(prog=f"rnnlab evaluate {model_dir}",
                                description="Evaluate a model saved without a task on .npy arrays "
                                            "(the model must have been compiled before saving).")
    p.add_argument("--x", required=True, help="inputs (.npy)")
    p.add_argument("--y", required=True, help="targets (.npy)")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    model = load_model(model_dir)
    if model.loss is None:
        raise ValueError(f"The model in {model_dir!r} was saved without compile settings, so it has no loss to "
                         "evaluate; compile it before model.save.")
    logs = model.evaluate(_load_npy(args.x, "--x"), _load_npy(args.y, "--y"), batch_size=args.batch_size,
                          verbose=1, return_dict=True)
    print(format_logs(logs))
    return 0


def _dispatch(action, args):
    from .models.saving import load_metadata
    task = load_metadata(args.model_dir).get("task")
    if action in VERBS and task != VERBS[action]:
        held = "a model saved without a task" if task is None else f"a {task!r} model"
        raise ValueError(f"{args.model_dir!r} holds {held}; 'rnnlab {action}' needs a model trained by "
                         f"'rnnlab train {VERBS[action]}'.")
    if task is None:
        handler = _generic_predict if action == "predict" else _generic_evaluate
        return handler(args.model_dir, args.rest)
    if task not in TASKS:
        raise ValueError(f"{args.model_dir!r} was saved by task {task!r}, which this rnnlab does not know; "
                         f"known tasks: {sorted(TASKS)}.")
    module = _task_module(task)
    handler = getattr(module, f"cli_{action}", None) if module else None
    if handler is None and action in VERBS and module is not None:     # a task's own verb may be its predict
        handler = getattr(module, "cli_predict", None) if VERBS[action] == task else None
    if handler is None:
        raise ValueError(f"Task {task!r} (module {TASKS[task]}) does not provide 'rnnlab {action}'.")
    return handler(args.model_dir, args.rest)


def _summary(args):
    from .models import load_model
    load_model(args.model_dir, compile=False).summary()
    return 0


# ---- the parser ---------------------------------------------------------------------------------------------

def build_parser():
    from .tasks import demo
    parser = argparse.ArgumentParser(
        prog="rnnlab", description="Recurrent neural networks from their equations: train, predict, demo.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo.register(sub)
    from .diagnostics import cli as diagnose_cli
    diagnose_cli.register(sub)
    from .report import cli as report_cli
    report_cli.register(sub)

    train = sub.add_parser("train", help="train a task's model (see 'rnnlab train --help')",
                           description="Train a model for one of the tasks; each has its own options.")
    train_sub = train.add_subparsers(dest="task", metavar="TASK")
    for name in TASKS:
        module = _task_module(name)
        if module is not None and hasattr(module, "register_train"):
            module.register_train(train_sub)
    train.set_defaults(func=lambda args: (train.print_help(), 2)[1])

    for action, text in (("predict", "predict with a saved model"), ("evaluate", "evaluate a saved model"),
                         ("generate", "generate text with a saved language model"),
                         ("forecast", "forecast the next steps of a series with a saved forecaster"),
                         ("translate", "translate sentences with a saved translation model"),
                         ("caption", "caption images or feature vectors with a saved captioning model")):
        p = sub.add_parser(action, help=text, add_help=True,
                           description=f"{text[0].upper()}{text[1:]}. The arguments after MODEL_DIR go to the "
                                       "task that saved the model ('rnnlab {0} MODEL_DIR --help' lists them); "
                                       "models saved without a task take --x/--y .npy files.".format(action))
        p.add_argument("model_dir", metavar="MODEL_DIR", help="directory written by model.save / rnnlab train")
        p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the task")
        p.set_defaults(func=lambda args, action=action: _dispatch(action, args))

    s = sub.add_parser("summary", help="print a saved model's layer table",
                       description="Print the summary table of a saved model.")
    s.add_argument("model_dir", metavar="MODEL_DIR")
    s.set_defaults(func=_summary)

    from .interop import cli as interop_cli
    interop_cli.register(sub)
    return parser


def main(argv=None):
    """Entry point of the ``rnnlab`` command; returns the exit code. Usage errors exit 2 (argparse); any other
    error is one line ``rnnlab: error: ...`` and exit 1 (130 for Ctrl-C), never a traceback.
    ``RNNLAB_TRACEBACK=1`` re-raises instead, for debugging."""
    import os
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except KeyboardInterrupt as e:
        if hasattr(e, "checkpoint"):               # TrainingInterrupted: SIGINT/SIGTERM, a checkpoint was written
            import shlex
            import signal
            words = list(sys.argv[1:] if argv is None else argv)
            again = getattr(e, "resume_command", None) or shlex.join(words + ([] if "--resume" in words
                                                                                else ["--resume"]))
            print(f"rnnlab: {signal.Signals(e.signal).name}: training stopped at epoch {e.epoch}, batch {e.batch} "
                  f"(0-based) with a checkpoint in {str(e.checkpoint)!r}; continue with: rnnlab {again}",
                  file=sys.stderr)
            return e.exit_code
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
    except Exception as e:                          # SystemExit (argparse, --help) passes through
        if os.environ.get("RNNLAB_TRACEBACK"):
            raise
        plain = isinstance(e, (ValueError, OSError, TypeError)) and str(e)
        text = str(e) if plain else f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if isinstance(e, MemoryError):
            text = "out of memory; use a smaller --batch-size, --maxlen or model"
        print(f"rnnlab: error: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
