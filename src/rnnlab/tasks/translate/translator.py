"""``Translator``: a trained translation network with its vocabularies and settings: greedy and beam-search
translation, attention weights, and a self-contained model directory::

    MODEL_DIR/config.json          network + metadata {"task": "translate", "config": {TranslateConfig}, ...}
    MODEL_DIR/model.safetensors    weights
    MODEL_DIR/src_vocab.json       source vocabulary (tokens in id order)
    MODEL_DIR/tgt_vocab.json       target vocabulary

Decoding runs the trained layers one target token at a time (``rnnlab.decoding``). The encoder runs once
per batch; the decoder state carried between steps is ``[decoder states, H, K, source mask]`` (every array
with the batch first), so ``decoding.reorder_states`` moves the encoder outputs H, the attention keys K and
the mask along with the beams. One step (``step``), for the last tokens y (B,)::

    o, s = decoder.step(E_tgt[y], s)                           (B, u)
    c, a = attention([W_q o], H, K, mask)                      (B, 2u), weights a (B, S)
    log p = log softmax(W_o tanh(W_c [c; o] + b_c) + b_o)      (B, V)

which is the training graph at one position, so the step's probabilities equal those of the whole
teacher-forced target (a test checks it). The prefix is never re-run.

Unknown words of an input become ``<unk>`` with a warning naming them and where they are (as Keras's and
torchtext's vocabularies map them to an OOV id); an empty input, or one holding characters that are not text
(control characters other than tab, unassigned code points, lone surrogates), is an error naming the sentence
(from a file: the file and the line).

Example::

    tr = load("runs/en-fr")
    tr.translate(["I love you.", "Where is the station?"], beam_width=5)     # ["je t'aime.", ...]
    src, out, weights = tr.attention_weights("I love you.")                 # weights (len(out), len(src))
"""
import json
import unicodedata
import warnings

import numpy as np

from ... import decoding, models
from .config import TranslateConfig
from .data import END_ID, PAD_ID, START_ID, UNK_ID, detokenize, pad, tokenize
from ...text import Vocabulary

TASK = "translate"
SRC_VOCAB, TGT_VOCAB = "src_vocab.json", "tgt_vocab.json"


class Translator:
    """A trained translator: ``model`` (the functional training model), ``src_vocab``/``tgt_vocab``
    (``rnnlab.text.Vocabulary``), ``config`` (``TranslateConfig``) and ``info`` (JSON-able extras saved with
    it: history, scores)."""

    def __init__(self, model, src_vocab, tgt_vocab, config, info=None):
        self.model, self.src_vocab, self.tgt_vocab, self.config = model, src_vocab, tgt_vocab, config
        self.info = dict(info or {})
        names = {layer.name for layer in model.layers}
        self._layer = {n: model.get_layer(n) for n in names}

    # ---- inputs ----------------------------------------------------------------------------------------

    def encode_sentences(self, sentences, warn=True, names=None):
        """Sentences -> list of source id lists. An empty sentence, or one with characters that are not text,
        is a ValueError; unknown tokens become ``<unk>`` (warned about once per call, naming them and where they
        are). ``names``: where each sentence came from (e.g. ``"in.txt, line 3"``), for the messages; by
        default ``"Sentence i"``."""
        if isinstance(sentences, str):
            raise TypeError("encode_sentences expects a list of sentences; wrap one sentence in a list.")
        if names is not None and len(names) != len(sentences):
            raise ValueError(f"names has {len(names)} entries for {len(sentences)} sentences; give one per sentence.")
        level, ids, unknown = self.config.level("src"), [], {}
        for i, s in enumerate(sentences):
            where = f"Sentence {i}" if names is None else names[i]
            if not isinstance(s, str):
                raise TypeError(f"{where} is a {type(s).__name__} ({s!r:.40}); expected a str.")
            bad = [c for c in dict.fromkeys(s) if c != "\t" and unicodedata.category(c) in ("Cc", "Cn", "Cs")]
            if bad:
                codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
                raise ValueError(f"{where} holds characters that are not text ({codes} in {s!r:.60}); remove them, "
                                 "or save the input as plain UTF-8 text.")
            toks = tokenize(s, level)
            if not toks:
                raise ValueError(f"{where} is empty ({s!r}); give at least one word to translate.")
            row = self.src_vocab.encode(toks)
            for t, j in zip(toks, row):
                if j == UNK_ID:
                    unknown.setdefault(t, where)
            ids.append(row)
        if unknown and warn:
            shown = ", ".join(f"{t!r} ({w})" for t, w in unknown.items())
            warnings.warn(f"{len(unknown)} source token(s) not in the model's {self.config.src!r} vocabulary were "
                          f"read as <unk>: {shown:.300}. The translation of those words will be a guess.",
                          UserWarning, stacklevel=4)
        return ids

    # ---- the encoder and one decoder step --------------------------------------------------------------

    def encode(self, src_ids):
        """Decoder start states for padded source ids (B, S): ``[decoder states, H, K, mask]``."""
        L = self._layer
        x = np.asarray(src_ids)
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"encode expects padded source ids of shape (B, S) as integers, got {x.dtype} "
                             f"{x.shape}.")
        mask = x != PAD_ID
        if not mask.any(axis=1).all():
            raise ValueError("A source row is all padding; every sentence needs at least one token.")
        out = L["encoder"].forward(L["src_embedding"].forward(x), mask=mask)
        H, states = out[0], out[1:]
        n = len(states) // 2
        initial = [L[f"bridge_{nm}"].forward(L[f"bridge_{nm}_concat"].forward([states[i], states[n + i]]))
                   for i, nm in enumerate(("h", "c")[:n])]
        K = L["attention_key"].forward(H) if self.config.attention != "none" else None
        return [initial, H, K, mask]

    def step(self, tokens, state, return_weights=False):
        """One decoder step: ``(log p (B, V), new state)``, or with ``return_weights`` also the attention
        weights (B, S) (None without attention). The ``rnnlab.decoding`` step function."""
        L = self._layer
        dec_states, H, K, mask = state
        o, dec_states = L["decoder"].step(L["tgt_embedding"].forward(np.asarray(tokens)), dec_states)
        weights = None
        if self.config.attention == "none":
            top = o
        else:
            q = o[:, None, :]
            if self.config.attention == "bahdanau":
                q = L["attention_query"].forward(q)
            context, a = L["attention"].forward([q, H, K], mask=[None, mask], return_attention_scores=True)
            weights = a[:, 0]
            top = L["attentional"].forward(L["attentional_concat"].forward([context[:, 0], o]))
        p = L["output"].forward(top)
        logp = np.log(np.maximum(p.astype(np.float64), 1e-30))
        new = [dec_states, H, K, mask]
        return (logp, new, weights) if return_weights else (logp, new)

    def _max_length(self, src_ids):
        longest = max(len(ids) for ids in src_ids)
        return 3 * longest + 10 if self.config.level("tgt") == "word" else 6 * longest + 20

    # ---- translation ------------------------------------------------------------------------------------

    def translate_ids(self, src_ids, beam_width=1, length_penalty=1.0, max_length=None, return_scores=False):
        """Target id lists (without ``<end>``) for a padded source batch (B, S): greedy (``beam_width=1``) or
        beam search. ``max_length`` counts generated tokens, ``<end>`` included."""
        x = np.asarray(src_ids)
        if max_length is None:
            max_length = self._max_length([row[row != PAD_ID] for row in x])
        state = self.encode(x)
        start = np.full(len(x), START_ID, dtype=np.int64)
        if beam_width == 1:
            out = decoding.greedy(self.step, start, state, max_length=max_length, end_token=END_ID)
        else:
            out = decoding.beam_search(self.step, start, state, max_length=max_length, beam_width=beam_width,
                                       end_token=END_ID, length_penalty=length_penalty)
        ids = [[int(t) for t in row[:n] if t != END_ID] for row, n in zip(out.tokens, out.lengths)]
        return (ids, out.scores) if return_scores else ids

    def translate_tokens(self, sentences, beam_width=1, length_penalty=1.0, max_length=None, batch_size=64,
                         warn=True, names=None):
        """Output token lists for a list of sentences, in their order (batched by source length)."""
        _check_beam(beam_width, batch_size)
        ids = self.encode_sentences(sentences, warn=warn, names=names)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        result = [None] * len(ids)
        for k in range(0, len(order), batch_size):
            chunk = order[k:k + batch_size]
            out = self.translate_ids(pad([ids[i] for i in chunk]), beam_width, length_penalty, max_length)
            for i, o in zip(chunk, out):
                result[i] = self.tgt_vocab.decode(o)
        return result

    def translate(self, sentences, beam_width=1, length_penalty=1.0, max_length=None, batch_size=64, warn=True,
                  names=None):
        """Translate one sentence (returns a str) or a list of them (returns a list of str).

        Args:
            beam_width: 1 for greedy search, K > 1 for beam search with K beams.
            length_penalty: beam search ranks finished hypotheses by ``log p / len ** length_penalty``.
            max_length: most output tokens (default: 3 × source tokens + 10, for characters 6 × + 20).
            names: where each sentence came from (``"in.txt, line 3"``), named in errors and warnings.
        """
        one = isinstance(sentences, str)
        toks = self.translate_tokens([sentences] if one else list(sentences), beam_width, length_penalty,
                                     max_length, batch_size, warn, None if names is None else list(names))
        texts = [detokenize(t, self.config.level("tgt")) for t in toks]
        return texts[0] if one else texts

    def attention_weights(self, sentence, beam_width=1, length_penalty=1.0, max_length=None):
        """``(source tokens, output tokens, weights)`` for one sentence: ``weights[t, j]`` is the attention of
        output token t (``<end>`` included, last) on source token j; shape (len(output), len(source))."""
        if self.config.attention == "none":
            raise ValueError("This model was trained with attention='none'; it has no attention weights to show. "
                             "Train with --attention bahdanau or luong.")
        if not isinstance(sentence, str):
            raise TypeError(f"attention_weights expects one sentence as a str, got {type(sentence).__name__}.")
        ids = self.encode_sentences([sentence])
        out = self.translate_ids(pad(ids), beam_width, length_penalty, max_length)[0] + [END_ID]
        state = self.encode(pad(ids))
        rows, prev = [], START_ID
        for t in out:                                                # teacher-force the chosen output
            _, state, w = self.step(np.array([prev]), state, return_weights=True)
            rows.append(w[0])
            prev = t
        src_tokens = tokenize(sentence, self.config.level("src"))
        return src_tokens, self.tgt_vocab.decode(out), np.array(rows)

    # ---- saving -------------------------------------------------------------------------------------------

    def save(self, path, extra_files=None):
        """Write the model directory (weights, config and both vocabularies) as one unit: it is replaced as a
        whole (``models.saving``). ``extra_files`` (``{name: bytes}``) join the same unit."""
        meta = {"task": TASK, "config": self.config.to_dict(), "src_vocab_file": SRC_VOCAB,
                "tgt_vocab_file": TGT_VOCAB, **self.info}
        vocabs = {SRC_VOCAB: _vocab_bytes(self.src_vocab), TGT_VOCAB: _vocab_bytes(self.tgt_vocab)}
        self.model.save(path, metadata=meta, extra_files={**(extra_files or {}), **vocabs})


def _vocab_bytes(vocab):
    return json.dumps(vocab.to_json(), ensure_ascii=False).encode("utf-8")


def _check_beam(beam_width, batch_size):
    for name, v in (("beam_width", beam_width), ("batch_size", batch_size)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r} (beam_width=1 is greedy search).")


def load(path):
    """Read a model directory written by ``Translator.save`` (or ``rnnlab train translate``)."""
    meta = models.saving.load_metadata(path)
    if meta.get("task") != TASK:
        raise ValueError(f"{str(path)!r} holds a model of task {meta.get('task')!r}, not a translation model "
                         "(rnnlab train translate).")
    model = models.load_model(path, compile=False)
    config = TranslateConfig.from_dict(meta.get("config") or {}, where=f"{path}/config.json")
    member = models.saving.member_path
    src_vocab = Vocabulary.load(member(path, meta.get("src_vocab_file", SRC_VOCAB), "source vocabulary"))
    tgt_vocab = Vocabulary.load(member(path, meta.get("tgt_vocab_file", TGT_VOCAB), "target vocabulary"))
    for name, vocab in (("src_embedding", src_vocab), ("tgt_embedding", tgt_vocab)):
        if model.get_layer(name).input_dim != len(vocab):
            raise ValueError(f"{path}: the {name} layer has {model.get_layer(name).input_dim} rows but the saved "
                             f"vocabulary has {len(vocab)} tokens; the directory mixes files of two models.")
    info = {k: v for k, v in meta.items() if k not in ("task", "config", "src_vocab_file", "tgt_vocab_file")}
    return Translator(model, src_vocab, tgt_vocab, config, info)
