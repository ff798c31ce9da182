"""``LanguageModel``: a trained network with its vocabulary and settings: perplexity of a text, generation,
and a self-contained model directory::

    MODEL_DIR/config.json         network + metadata {"task": "lm", "config": {LMConfig}, "epoch": ..., ...}
    MODEL_DIR/model.safetensors   weights
    MODEL_DIR/vocab.json          the vocabulary (tokens in id order)

Generation runs one token at a time with the states carried (``Sequential.step``: O(1) work per token,
the prefix is never run again), drawing from ``rnnlab.decoding``: temperature, top-k, top-p, a seed,
or greedy. The prompt is read first to prime the states, as the start of a line (after an ``<eos>`` for
words, a line break for characters, when the vocabulary has one), which is where the training text's
lines start.

Example::

    lm = load("runs/ptb")
    lm.perplexity(ids)                                    # exp(mean negative log-likelihood)
    lm.generate("the market", length=20, temperature=0.8, top_k=40, seed=1)
"""
import json
import math

import numpy as np

from ... import decoding, models, progress
from ...text import LMVocabulary, streams
from .config import LMConfig
from .data import tokens_of

TASK = "lm"
VOCAB_FILE = "vocab.json"


class LanguageModel:
    """A trained language model: ``model`` (a stateful ``Sequential``), ``vocab`` (``LMVocabulary``), ``config``
    (``LMConfig``) and ``info`` (JSON-able extras saved with it: epoch, learning rate, history)."""

    def __init__(self, model, vocab, config, info=None):
        self.model, self.vocab, self.config = model, vocab, config
        self.info = dict(info or {})

    # ---- scoring ---------------------------------------------------------------------------------

    def nll(self, ids, batch_size=None, num_steps=35, verbose=0):
        """Mean negative log-likelihood (nats per token) of the 1-D id stream ``ids``, every token but the first
        predicted from all the tokens before it in its stream (``batch_size`` streams; 1: the whole text)."""
        B = batch_size or self.config.eval_batch_size
        total, count = self.nll_sums(streams.batchify(np.asarray(ids), B), num_steps, verbose)
        return total / count

    def nll_sums(self, data, num_steps=35, verbose=0):
        """``(sum of -log p, number of predicted tokens)`` over the ``(B, L)`` streams ``data``, states
        carried along each stream (a distributed run gives each rank some of the streams and adds the sums)."""
        self.model.reset_states()
        total, count = 0.0, 0
        try:
            for x, y in progress.bar(streams.windows(data, num_steps), desc="Evaluate", verbose=verbose,
                                     unit="window"):
                p = self.model._forward(x, training=False)                       # (B, k, V)
                py = np.take_along_axis(p, y[..., None].astype(np.int64), axis=-1)[..., 0]
                total -= float(np.log(np.maximum(py, 1e-30)).sum())
                count += y.size
        finally:
            self.model.reset_states()
        return total, count

    def perplexity(self, ids, **kwargs):
        """``exp(nll)``: the word-level figure of merit."""
        return math.exp(self.nll(ids, **kwargs))

    def bits_per_char(self, ids, **kwargs):
        return self.nll(ids, **kwargs) / math.log(2.0)

    # ---- generation -------------------------------------------------------------------------------

    def _step_fn(self):
        def step(tokens, states):
            p, states = self.model.step(tokens, states)                           # (B, V), states carried
            return np.log(np.maximum(p, 1e-30)), states
        return step

    def prime(self, prompt_ids, batch=1):
        """States after reading ``prompt_ids`` but its last token, and that last token (the first input of
        generation), for ``batch`` identical rows."""
        ids = np.asarray(prompt_ids, dtype=np.int64)
        if ids.size == 0:
            raise ValueError("The prompt is empty; give at least one token (or character) to start from.")
        states = None
        for t in ids[:-1]:
            _, states = self.model.step(np.full(batch, t), states)
        return np.full(batch, ids[-1]), states

    def generate(self, prompt, length=100, temperature=1.0, top_k=None, top_p=None, seed=None, greedy=False):
        """Continue ``prompt`` (text) by ``length`` tokens; returns the continuation as text."""
        if not isinstance(prompt, str):
            raise TypeError(f"generate() expects the prompt as a string, got {type(prompt).__name__}.")
        tokens = tokens_of(prompt, self.config.level)
        if self.config.level == "word" and tokens and tokens[-1] == "<eos>" and not prompt.endswith("\n"):
            tokens = tokens[:-1]                                                 # a prompt line is not a sentence end
        if not tokens:
            raise ValueError("The prompt is empty; give at least one token (or character) to start from.")
        boundary = "<eos>" if self.config.level == "word" else "\n"
        if boundary in self.vocab and tokens[0] != boundary:
            tokens = [boundary] + list(tokens)                                   # read as the start of a line
        ids = self.vocab.encode(tokens, what="the prompt")
        start, states = self.prime(ids)
        step = self._step_fn()
        if greedy:
            out = decoding.greedy(step, start, states, max_length=length)
        else:
            out = decoding.sample(step, start, states, max_length=length, temperature=temperature, top_k=top_k,
                                  top_p=top_p, seed=seed)
        words = self.vocab.decode(out.tokens[0])
        if self.config.level == "char":
            return "".join(words)
        pieces = []
        for w in words:                                                          # <eos> ends a line
            pieces.append("\n" if w == "<eos>" else (w if not pieces or pieces[-1] == "\n" else " " + w))
        return "".join(pieces)

    # ---- saving -------------------------------------------------------------------------------------

    def save(self, path, extra_files=None):
        """Write the model directory (weights, config, vocab.json and ``extra_files``) as one unit, replaced as a
        whole (``models.saving``)."""
        meta = {"task": TASK, "config": self.config.to_dict(), "vocab_file": VOCAB_FILE, **self.info}
        vocab = json.dumps(self.vocab.to_dict(), ensure_ascii=False).encode("utf-8")
        self.model.save(path, metadata=meta, extra_files={**(extra_files or {}), VOCAB_FILE: vocab})


def load(path):
    """Read a model directory written by ``LanguageModel.save`` (or ``rnnlab train lm``)."""
    model = models.load_model(path)
    meta = models.saving.load_metadata(path)
    if meta.get("task") != TASK:
        raise ValueError(f"{str(path)!r} holds a model of task {meta.get('task')!r}, not a language model.")
    config = LMConfig.from_dict(meta.get("config") or {}, where=f"{path}/config.json")
    vocab = LMVocabulary.load(models.saving.member_path(path, meta.get("vocab_file", VOCAB_FILE), "vocabulary file"))
    vocab.check_compatible(model.layers[0].input_dim, what=f"the model in {path}")
    info = {k: v for k, v in meta.items() if k not in ("task", "config", "vocab_file")}
    return LanguageModel(model, vocab, config, info)
