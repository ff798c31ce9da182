"""``Captioner``: a trained captioning network with its vocabulary and settings: captions by greedy or beam
search, exact-caption rate and BLEU, and a self-contained model directory::

    MODEL_DIR/config.json         network + metadata {"task": "caption", "config": {CaptionConfig},
                                  "input_shape": [32, 32, 3] or [D], "length": T, "history": ..., ...}
    MODEL_DIR/model.safetensors   weights
    MODEL_DIR/vocab.json          the vocabulary (<pad>, <unk>, <start>, <end>, words)

Decoding encodes each input once (``v``, or the initial states ``h_0, c_0`` made from it) and then runs the
decoder one word at a time through ``rnnlab.decoding``: the step function

    logits, states = step(tokens (B,), states)      states = [v or None, decoder states [h, c] or [h]]

embeds the last word, joins ``v`` to it (``repeat``), advances the recurrent layer (``RNN.step``) and returns
``log p(y_t | y_<t, v)`` (B, V). The states hold the batch on axis 0, so beam search reorders ``v`` with
the decoder states.

Example::

    cap = load("runs/caption")
    cap.caption(images[:3])                       # ['a small red circle above a big blue square', ...]
    cap.caption(images[:3], beam=4)
    cap.evaluate(images, captions)                # {'exact': 0.93, 'bleu': 97.1, 'n': 500}
"""
import json
import os

import numpy as np

from ... import decoding, models
from ...text import Vocabulary
from .config import CaptionConfig
from .data import END_ID, START_ID, check_vocabulary, tokenize
from .network import model_input_shape

TASK = "caption"
VOCAB_FILE = "vocab.json"


def corpus_bleu(hypotheses, references):
    """Corpus BLEU (0-100) of the hypothesis strings against one reference each, by ``sacrebleu``."""
    try:
        import sacrebleu
    except ImportError:
        raise ImportError("BLEU needs the sacrebleu package: pip install sacrebleu (or rnnlab[translate]).") from None
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


class Captioner:
    """A trained captioner: ``model`` (the functional training model), ``vocab`` (``Vocabulary``), ``config``
    (``CaptionConfig``) and ``info`` (``input_shape``, ``length`` and JSON-able extras saved with it)."""

    def __init__(self, model, vocab, config, info):
        check_vocabulary(vocab, "Captioner")
        self.model, self.vocab, self.config = model, vocab, config
        self.info = dict(info)
        self.input_shape = tuple(int(s) for s in self.info["input_shape"])
        self.length = int(self.info["length"])
        self._encoder = None

    @property
    def kind(self):
        """"image" (the model reads (S, S, 3) images) or "vector" (it reads (D,) feature vectors)."""
        return "image" if len(self.input_shape) == 3 else "vector"

    # ---- inputs --------------------------------------------------------------------------------------

    def prepare(self, inputs, what="inputs"):
        """``inputs`` as the network reads them, (N, ...) float32: one input or a batch, checked against the
        shape the model was trained on."""
        x = np.asarray(inputs)
        if not np.issubdtype(x.dtype, np.number):
            raise TypeError(f"{what}: expected a numeric array, got dtype {x.dtype}.")
        want = self.input_shape
        if x.shape == want:
            x = x[None]
        if x.ndim != len(want) + 1 or x.shape[1:] != want or x.shape[0] == 0:
            if self.kind == "vector":
                got = x.shape[-1] if x.ndim in (1, 2) else x.shape
                raise ValueError(f"{what}: this captioner reads feature vectors of size {want[0]}, got an array of "
                                 f"shape {x.shape} (size {got}); pass a ({want[0]},) vector or an (N, {want[0]}) "
                                 "array made by the same feature extractor as the training features.")
            raise ValueError(f"{what}: this captioner reads {want[0]}x{want[1]} RGB images, shape {want} or "
                             f"(N, {want[0]}, {want[1]}, 3) with values in [0, 1], got shape {x.shape}; render or "
                             f"resize the image to {want[0]}x{want[1]} pixels.")
        if self.kind == "image" and x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"{what}: image values must lie in [0, 1], got values from {x.min()} to {x.max()}; "
                             "divide 8-bit pixels by 255.")
        return x.astype(np.float32).reshape((x.shape[0],) + model_input_shape(want))

    # ---- decoding ------------------------------------------------------------------------------------

    def encode(self, inputs):
        """The conditioning vectors ``v`` (N, vector_dim) of ``inputs`` (images or feature vectors)."""
        if self._encoder is None:
            self._encoder = models.Model(self.model.inputs[0], self.model.get_layer("vector").output)
        return self._encoder.predict(self.prepare(inputs), batch_size=256, verbose=0)

    def initial_states(self, v):
        """The decoding states for vectors ``v``: ``[v, None]`` (repeat: v at every step, zero initial state) or
        ``[None, [tanh(W_h v + b_h), tanh(W_c v + b_c)]]`` (init_state)."""
        if self.config.conditioning == "repeat":
            return [v, None]
        names = ("init_h", "init_c") if self.config.cell == "lstm" else ("init_h",)
        return [None, [self.model.get_layer(n).forward(v) for n in names]]

    def step(self, tokens, states):
        """``(log p (B, V), states)`` after reading ``tokens`` (B,): the step function of ``rnnlab.decoding``."""
        v, rnn_states = states
        x = self.model.get_layer("embedding").forward(np.asarray(tokens, dtype=np.int64))        # (B, E)
        if v is not None:
            x = np.concatenate([x, v.astype(x.dtype)], axis=-1)                                   # (B, E + D)
        h, rnn_states = self.model.get_layer("decoder").step(x, rnn_states)                      # (B, H)
        p, _ = self.model.get_layer("output").step(h)                                             # (B, V)
        return np.log(np.maximum(p, 1e-30)), [v, rnn_states]

    def decode(self, inputs, beam=1, max_length=None, length_penalty=1.0, batch_size=256):
        """The word ids of the best caption of each input (a list of 1-D int arrays, ``<end>`` removed):
        greedy search for ``beam=1``, beam search of that width otherwise."""
        if not isinstance(beam, (int, np.integer)) or isinstance(beam, bool) or beam < 1:
            raise ValueError(f"beam must be a positive integer (1: greedy search), got {beam!r}.")
        max_length = self.length if max_length is None else max_length
        v_all = self.encode(inputs)
        out = []
        for lo in range(0, len(v_all), batch_size):
            v = v_all[lo:lo + batch_size]
            start, states = np.full(len(v), START_ID, dtype=np.int64), self.initial_states(v)
            if beam == 1:
                result = decoding.greedy(self.step, start, states, max_length=max_length, end_token=END_ID)
            else:
                result = decoding.beam_search(self.step, start, states, max_length=max_length, beam_width=int(beam),
                                              end_token=END_ID, length_penalty=length_penalty)
            for tokens, n in zip(result.tokens, result.lengths):
                tokens = tokens[:n]
                out.append(tokens[:-1] if n and tokens[-1] == END_ID else tokens)
        return out

    def caption(self, inputs, beam=1, max_length=None, length_penalty=1.0):
        """One caption (str) per input: ``inputs`` is one image (S, S, 3) / vector (D,) or a batch of them."""
        return [" ".join(self.vocab.decode(ids)) for ids in self.decode(inputs, beam, max_length, length_penalty)]

    def evaluate(self, inputs, captions, beam=1, examples=0):
        """``{"exact", "bleu", "n"}``: the fraction of captions equal to the reference word for word (after
        ``tokenize``) and corpus BLEU (0-100); ``examples`` > 0 adds that many (hypothesis, reference) pairs."""
        hyps = self.caption(inputs, beam=beam)
        if len(hyps) != len(captions):
            raise ValueError(f"evaluate got {len(hyps)} inputs and {len(captions)} captions; give one caption each.")
        refs = [" ".join(tokenize(c)) for c in captions]
        result = {"exact": float(np.mean([h == r for h, r in zip(hyps, refs)])), "bleu": corpus_bleu(hyps, refs),
                  "n": len(refs)}
        if examples:
            result["examples"] = list(zip(hyps, refs))[:examples]
        return result

    # ---- saving --------------------------------------------------------------------------------------

    def save(self, path, extra_files=None):
        """Write the model directory (weights, config and vocabulary) as one unit: it is replaced as a whole
        (``models.saving``). ``extra_files`` (``{name: bytes}``) join the same unit."""
        info = {**self.info, "input_shape": list(self.input_shape), "length": self.length}
        vocab = json.dumps(self.vocab.to_json(), ensure_ascii=False).encode("utf-8")
        self.model.save(path, metadata={"task": TASK, "config": self.config.to_dict(), "vocab_file": VOCAB_FILE,
                                        **info}, extra_files={**(extra_files or {}), VOCAB_FILE: vocab})


def load(path):
    """Read a model directory written by ``Captioner.save`` (or ``rnnlab train caption``)."""
    path = os.fspath(path)
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise FileNotFoundError(f"{path!r} is not a model directory (no config.json); pass the folder written by "
                                "'rnnlab train caption --out DIR' or Captioner.save.")
    meta = models.saving.load_metadata(path)
    if meta.get("task") != TASK:
        raise ValueError(f"{path!r} holds a model of task {meta.get('task')!r}, not a captioner.")
    model = models.load_model(path)
    config = CaptionConfig.from_dict(meta.get("config") or {}, where=f"{path}/config.json")
    vocab = Vocabulary.load(models.saving.member_path(path, meta.get("vocab_file", VOCAB_FILE), "vocabulary file"))
    info = {k: v for k, v in meta.items() if k not in ("task", "config", "vocab_file")}
    if "input_shape" not in info or "length" not in info:
        raise ValueError(f"{path}/config.json lacks 'input_shape' or 'length'; it was not written by Captioner.save.")
    return Captioner(model, vocab, config, info)
