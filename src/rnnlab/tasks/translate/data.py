"""Sentence pairs for translation: reading Tatoeba files, tokenising, the held-out split, vocabularies and
padded batches.

**Files.** ``tatoeba:PATH`` is a manythings.org/anki file (``.txt``, or ``.xz``/``.gz``/``.bz2``): one pair per
line, ``English<TAB>other language[<TAB>attribution]``. English is always column 1, so ``src="en"`` reads
(column 1 -> column 2) and ``tgt="en"`` the reverse (``--src fr --tgt en``). A line with fewer than two
columns, or an empty one, is an error naming the file and the line.

**Tokens.** Text is normalised first (Unicode NFKC, which also turns the narrow no-break spaces U+202F and
thin spaces U+2009 of the French file into plain spaces; zero-width characters dropped; curly apostrophes as
``'``; lowercase; whitespace collapsed). Then, by the side's level:

- ``word``: letters/digits runs are words, every other non-space character is a token of its own, an
  elision apostrophe stays on the word before it (``j'ai`` -> ``j'`` ``ai``; ``don't`` -> ``don'`` ``t``)
  and an intra-word hyphen is the token ``@-@`` (``peut-être`` -> ``peut @-@ être``), so
  ``detokenize`` can glue it back. The regular expressions are Unicode-aware (``\\w``), so accents and Hangul
  are letters. Word level suits Tatoeba: the sentences are short (<= 10 words after filtering) and
  frequent, so the vocabularies stay manageable (English about 8.4k, French about 13k tokens seen at least twice
  in the training split), the sequences short (<= ~15 tokens), and every output token is a whole word.
- ``char``: every character is a token, a space is ``▁``. ``level="auto"`` chooses it for Korean (and
  ja/zh/th): a Korean word (eojeol) carries its particles and endings (``학교에``, ``학교는``...), so with
  3.6k pairs nearly every word form is rare; Hangul syllables (about 1,000 distinct) are seen often
  enough to learn. Sentences stay short (<= ~40 syllables).

Tokens seen fewer than ``min_freq`` times in the training split become ``<unk>`` (default 2: halves the
French softmax, which dominates the cost, and a word seen once cannot be learned anyway).

**Split.** Tatoeba has many source sentences with several translations. Pairs are grouped by their
normalised source sentence, the groups are shuffled with the seed, and whole groups go to test
(``test_fraction``), validation (``valid_fraction``) and training, so no source sentence is in two parts. The
test split keeps every translation of its sources as references (multi-reference BLEU). The split depends
only on the file, the languages, ``max_words``, ``max_pairs`` and ``seed``, which are saved with a model.

**Vocabularies** are built from the training split: ``<pad>`` = 0, ``<unk>`` = 1, ``<start>`` = 2,
``<end>`` = 3, then tokens by decreasing count (``rnnlab.text.Vocabulary``; saved as JSON).

Example::

    data = load_dataset("tatoeba:../shared/data/tatoeba/fra.txt.xz", TranslateConfig(max_pairs=5000))
    data.train.src[0], data.train.tgt[0]       # a pair of normalised sentences
    x_src, x_tgt, y = data.arrays(data.train, np.arange(64))     # padded ids (64, Ts), (64, Tt), (64, Tt)
"""
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...text import Vocabulary
from ...text.corpus import read_text

START, END = "<start>", "<end>"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SPACE = "▁"
HYPHEN = "@-@"
KINDS = ("tatoeba",)

_REPLACE = [(c, "") for c in "\u200b\u200c\u200d\u2060\ufeff"] + [
    ("’", "'"), ("‘", "'"), ("`", "'"), ("´", "'"), ("“", '"'), ("”", '"'), ("„", '"')]
_HYPHEN_RE = re.compile(r"(?<=[^\W_])-(?=[^\W_])")
# a number (3.5, 1,000), a word with an elision apostrophe kept if a letter follows, or one other character
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:'(?=[^\W_]))?|" + re.escape(HYPHEN) + r"|\S")
_NO_SPACE_BEFORE = set(".,!?;:)]}»%…") | {"'s"}
_NO_SPACE_AFTER = set("([{«¿¡")


def normalize(text):
    """NFKC, no zero-width characters, straight quotes, lowercase, single spaces, stripped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    for old, new in _REPLACE:
        if old in text:
            text = text.replace(old, new)
    return " ".join(text.lower().split())


def tokenize(text, level="word"):
    """``text`` -> list of tokens (see the module docstring). ``tokenize("J'ai vu Tom.")`` ->
    ``["j'", 'ai', 'vu', 'tom', '.']``; ``tokenize("가요!", "char")`` -> ``['가', '요', '!']``."""
    text = normalize(text)
    if level == "char":
        return [SPACE if c == " " else c for c in text]
    return _TOKEN_RE.findall(_HYPHEN_RE.sub(" " + HYPHEN + " ", text))


def detokenize(tokens, level="word"):
    """Tokens -> text: the inverse of ``tokenize`` up to spacing (punctuation attached to the word before it,
    elisions and ``@-@`` hyphens glued). Special tokens (``<pad>``, ``<start>``, ``<end>``) are dropped."""
    tokens = [t for t in tokens if t not in ("<pad>", START, END)]
    if level == "char":
        return "".join(" " if t == SPACE else t for t in tokens).strip()
    out, glue, quotes = [], True, 0
    for t in tokens:
        if t == HYPHEN:
            out.append("-")
            glue = True
            continue
        if t == '"':
            quotes += 1
            opening = quotes % 2 == 1
            out.append(('' if glue or not opening else ' ') + t)
            glue = opening
            continue
        out.append(("" if glue or t in _NO_SPACE_BEFORE else " ") + t)
        glue = t in _NO_SPACE_AFTER or (t.endswith("'") and len(t) > 1)
    return "".join(out).strip()


def count_words(text):
    """Whitespace-separated words of the normalised text (the ``max_words`` filter)."""
    return len(normalize(text).split())


# ---- reading ------------------------------------------------------------------------------------------

def parse_data_spec(spec):
    """``"tatoeba:PATH"`` -> ``("tatoeba", path)``, or a ValueError saying what is expected."""
    kind, sep, path = str(spec).partition(":")
    if not sep or kind not in KINDS or not path:
        raise ValueError(f"--data got {spec!r}; expected tatoeba:FILE, a manythings.org/anki file of "
                         "English<TAB>translation[<TAB>attribution] lines (.txt or .xz/.gz/.bz2), e.g. "
                         "tatoeba:../shared/data/tatoeba/fra.txt.xz.")
    if not Path(path).exists():
        raise FileNotFoundError(f"--data {spec!r}: the file {path!r} does not exist.")
    return kind, path


def read_pairs(path):
    """``[(english, other), ...]`` from a Tatoeba file, in file order (blank lines skipped)."""
    text = read_text(path)
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            raise ValueError(f"{path}, line {number}: expected 2 tab-separated columns (English<TAB>translation, "
                             f"optionally <TAB>attribution), got 1 column: {line!r:.80}. Fix or delete that line.")
        if not cols[0].strip() or not cols[1].strip():
            which = "first (English)" if not cols[0].strip() else "second (translation)"
            raise ValueError(f"{path}, line {number}: the {which} column is empty: {line!r:.80}. Fix or delete "
                             "that line.")
        pairs.append((cols[0], cols[1]))
    if not pairs:
        raise ValueError(f"{path}: no sentence pairs found; expected English<TAB>translation lines.")
    return pairs


def oriented(pairs, src, tgt, path="the file"):
    """Tatoeba pairs (English first) as (source, target) for the languages ``src`` -> ``tgt``."""
    if src == "en":
        return list(pairs)
    if tgt == "en":
        return [(b, a) for a, b in pairs]
    raise ValueError(f"{path} pairs English (column 1) with one other language, so --src or --tgt must be 'en'; "
                     f"got --src {src} --tgt {tgt}.")


# ---- the split ------------------------------------------------------------------------------------------

@dataclass
class PairSet:
    """Sentence pairs of one split: normalised source and target texts, token lists, and ``group``: the
    index of each pair's source sentence within the split (pairs of one source share it)."""
    src: list = field(default_factory=list)
    tgt: list = field(default_factory=list)
    src_tokens: list = field(default_factory=list)
    tgt_tokens: list = field(default_factory=list)
    group: list = field(default_factory=list)

    def __len__(self):
        return len(self.src)

    def references(self):
        """``(sources, references)``: each distinct source once, with all its targets (file order)."""
        sources, refs = [], []
        for i, g in enumerate(self.group):
            if g == len(sources):
                sources.append(self.src[i])
                refs.append([])
            refs[g].append(self.tgt[i])
        return sources, refs


def split_pairs(pairs, config):
    """``{"train", "valid", "test"}`` -> ``PairSet`` for (source, target) ``pairs`` (see the module docstring)."""
    groups, index = [], {}
    for s, t in pairs:
        s, t = normalize(s), normalize(t)
        if s.count(" ") >= config.max_words or t.count(" ") >= config.max_words:    # more than max_words words
            continue
        if s not in index:
            index[s] = len(groups)
            groups.append([])
        groups[index[s]].append((s, t))
    if not groups:
        raise ValueError(f"No sentence pair has at most max_words={config.max_words} words on both sides; raise "
                         "max_words.")
    order = np.random.default_rng(config.seed).permutation(len(groups))
    if config.max_pairs is not None:
        sizes = np.cumsum([len(groups[g]) for g in order])
        order = order[:int(np.searchsorted(sizes, config.max_pairs)) + 1]
    n_test = max(1, int(round(config.test_fraction * len(order))))
    n_valid = int(round(config.valid_fraction * len(order)))
    if len(order) - n_test - n_valid < 1:
        raise ValueError(f"Only {len(order)} source sentences left after filtering; too few to split into "
                         "train/valid/test. Use more pairs (max_pairs, max_words).")
    parts = {"test": order[:n_test], "valid": order[n_test:n_test + n_valid], "train": order[n_test + n_valid:]}
    src_level, tgt_level = config.level("src"), config.level("tgt")
    out = {}
    for name, ids in parts.items():
        ps = PairSet()
        for g, gid in enumerate(ids):
            for s, t in groups[gid]:
                ps.src.append(s)
                ps.tgt.append(t)
                ps.src_tokens.append(tokenize(s, src_level))
                ps.tgt_tokens.append(tokenize(t, tgt_level))
                ps.group.append(g)
        out[name] = ps
    return out


def build_vocab(token_lists, min_freq=1):
    """``<pad>``, ``<unk>``, ``<start>``, ``<end>``, then the tokens seen at least ``min_freq`` times."""
    counted = Vocabulary.build(token_lists, min_freq=min_freq)
    kept = [(t, c) for t, c in zip(counted.tokens[2:], counted.counts) if t not in (START, END)]
    return Vocabulary([START, END] + [t for t, _ in kept], counts=[0, 0] + [c for _, c in kept])


# ---- arrays ---------------------------------------------------------------------------------------------

def pad(id_lists, length=None):
    """Id lists -> (N, T) int32 padded with 0 at the end; T = the longest list (or ``length``)."""
    T = max(1, max((len(ids) for ids in id_lists), default=1)) if length is None else length
    out = np.zeros((len(id_lists), T), dtype=np.int32)
    for i, ids in enumerate(id_lists):
        out[i, :len(ids)] = ids[:T]
    return out


def encode_targets(vocab, token_lists):
    """``(decoder inputs <start> y_1 .. y_n, targets y_1 .. y_n <end>)`` as padded (N, n+1) arrays."""
    ids = [vocab.encode(toks) for toks in token_lists]
    return pad([[START_ID] + i for i in ids]), pad([i + [END_ID] for i in ids])


def length_batches(lengths, batch_size, rng, pool=50):
    """Index arrays of the batches of one epoch: shuffled, then sorted by length within pools of
    ``pool`` batches (less padding per batch), and the batches shuffled again."""
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


@dataclass
class Dataset:
    """The three splits, the two vocabularies, and the config that made them."""
    train: PairSet
    valid: PairSet
    test: PairSet
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    config: object

    def arrays(self, part, index=None):
        """``(x_src (B, Ts), x_tgt (B, Tt), y (B, Tt))`` int32 arrays of ``part``'s pairs ``index`` (all if None),
        padded to the longest in the batch."""
        index = range(len(part)) if index is None else index
        src = pad([self.src_vocab.encode(part.src_tokens[i]) for i in index])
        x_tgt, y = encode_targets(self.tgt_vocab, [part.tgt_tokens[i] for i in index])
        return src, x_tgt, y


def load_dataset(spec, config, src_vocab=None, tgt_vocab=None):
    """Read ``spec`` (``tatoeba:PATH``), split it and build the vocabularies from the training split (or use
    the given ones: a trained model's)."""
    _, path = parse_data_spec(spec)
    pairs = oriented(read_pairs(path), config.src, config.tgt, path)
    parts = split_pairs(pairs, config)
    if src_vocab is None:
        src_vocab = build_vocab(parts["train"].src_tokens, config.min_freq)
    if tgt_vocab is None:
        tgt_vocab = build_vocab(parts["train"].tgt_tokens, config.min_freq)
    return Dataset(parts["train"], parts["valid"], parts["test"], src_vocab, tgt_vocab, config)
