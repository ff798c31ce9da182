"""What the sections of a report share: the run directory, its saved metadata and training settings, the data
to evaluate on, and the task's model loaded once (through the task's own ``load``).

Example::

    ctx = RunContext("runs/imdb", data="imdb:../shared/data/imdb/aclImdb_labeled.tar.xz", max_examples=500)
    ctx.task                # "sentiment"
    ctx.loaded()            # the SentimentClassifier (loaded on first use, then kept)
"""
import importlib
import json
import os

#: task name -> the module whose ``load(path)`` reads its model directory
TASK_MODULES = {"sentiment": "rnnlab.tasks.sentiment", "lm": "rnnlab.tasks.lm", "forecast": "rnnlab.tasks.forecast",
                "translate": "rnnlab.tasks.translate", "caption": "rnnlab.tasks.caption"}


def read_json(path):
    """The JSON content of ``path``, or None when the file does not exist."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class RunContext:
    """The run directory and what every section reads from it.

    Args:
        run_dir: a model directory (``config.json`` from ``model.save``, and what training wrote beside it).
        data: a data spec for the task (``imdb:PATH``, ``csv:PATH``, ``ptb:DIR``, ``tatoeba:PATH``...); None:
            the ``data`` recorded in ``training_config.json`` (or, for a forecaster, the series path it saved).
        max_examples: at most this many held-out examples are evaluated (keeps big test sets quick).
        seed: seed of sampling (language-model samples).
    """

    def __init__(self, run_dir, data=None, max_examples=500, seed=0):
        self.run_dir = os.fspath(run_dir)
        if not os.path.isdir(self.run_dir):
            raise FileNotFoundError(f"rnnlab report got RUN_DIR {self.run_dir!r}, which is not a directory; "
                                    "expected a model directory written by 'rnnlab train ... --out DIR'.")
        if not isinstance(max_examples, int) or isinstance(max_examples, bool) or max_examples < 1:
            raise ValueError(f"rnnlab report got max_examples={max_examples!r}; expected a positive integer.")
        self.config = read_json(os.path.join(self.run_dir, "config.json"))
        if self.config is not None and not isinstance(self.config, dict):
            raise ValueError(f"{self.run_dir}/config.json is not a JSON object; is this an rnnlab model directory?")
        self.metadata = (self.config or {}).get("metadata") or {}
        self.training_config = read_json(os.path.join(self.run_dir, "training_config.json")) or {}
        self.task = self.metadata.get("task")
        self.given_data = data
        self.max_examples, self.seed = max_examples, seed
        self._loaded, self._load_error = None, None

    @property
    def data(self):
        """The data spec to evaluate on: ``--data``, else the one recorded in the model directory, else None."""
        if self.given_data:
            return self.given_data
        recorded = self.training_config.get("data")
        if isinstance(recorded, str) and recorded:
            return recorded
        path = (self.metadata.get("info") or {}).get("path") if self.task == "forecast" else None
        return f"csv:{path}" if path and os.path.isfile(path) else None

    def data_origin(self):
        """Words for the report: where the data came from."""
        if self.given_data:
            return f"--data {self.given_data}"
        return f"{self.data} (recorded in the model directory)" if self.data else "none"

    def loaded(self):
        """The task's model object (``tasks.<task>.load(run_dir)``), loaded once; the load's error is raised again
        on every call so each section can report it."""
        if self._load_error is not None:
            raise self._load_error
        if self._loaded is None:
            if self.task not in TASK_MODULES:
                raise ValueError(f"{self.run_dir}: the model's metadata names task {self.task!r}; task sections "
                                 f"exist for {sorted(TASK_MODULES)}.")
            try:
                self._loaded = importlib.import_module(TASK_MODULES[self.task]).load(self.run_dir)
            except Exception as e:                                    # noqa: BLE001 - reported by the section
                self._load_error = e
                raise
        return self._loaded
