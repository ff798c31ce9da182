"""The settings of the translation task, each declared once in ``TranslateConfig``: the flags of
``rnnlab train translate``, the keyword arguments of ``translate.train`` and the ``"config"`` saved with a
model directory (from which ``rnnlab evaluate`` rebuilds the same held-out split).

Example::

    from rnnlab.tasks.translate import TranslateConfig
    config = TranslateConfig(attention="luong", units=128)
    config.to_dict()["attention"]           # 'luong'
"""
from dataclasses import dataclass
from typing import Optional

from ..config import TaskConfig, setting

CELLS = ("lstm", "gru")
ATTENTIONS = ("bahdanau", "luong", "none")
LEVELS = ("auto", "word", "char")
POSITIVE = "[1, inf)"
#: languages written without spaces between words (or with long agglutinated words): ``level="auto"``
#: tokenises them into characters (Hangul syllables for Korean).
CHAR_LANGUAGES = ("ko", "ja", "zh", "th")


@dataclass
class TranslateConfig(TaskConfig):
    """Every setting of a translation run: languages and data, network, optimiser, split."""

    src: str = setting("en", "source language code (tatoeba files: column 1 is English, column 2 the other)")
    tgt: str = setting("fr", "target language code (--src fr --tgt en swaps the columns)")
    max_words: int = setting(10, "keep pairs whose sentences both have at most this many words (whitespace "
                                 "separated)", interval=POSITIVE)
    max_pairs: Optional[int] = setting(None, "use a random subset of about this many pairs (whole source "
                                             "groups, drawn with the seed) before splitting", interval=POSITIVE)
    src_level: str = setting("auto", "source tokens: word, char (syllables), or auto (char for ko/ja/zh/th)",
                             choices=LEVELS)
    tgt_level: str = setting("auto", "target tokens: word, char, or auto", choices=LEVELS)
    min_freq: int = setting(2, "keep tokens seen at least this often in the training split (the rest -> <unk>)",
                            interval=POSITIVE)
    cell: str = setting("lstm", "recurrent cell of the encoder and the decoder", choices=CELLS)
    attention: str = setting("bahdanau", "bahdanau (additive), luong (general multiplicative) or none (the "
                                         "encoder's final state alone starts the decoder)", choices=ATTENTIONS)
    units: int = setting(256, "units of the decoder and of each encoder direction", interval=POSITIVE)
    embed_dim: int = setting(256, "embedding size (source and target)", interval=POSITIVE)
    embed_init: Optional[float] = setting(1.0, "draw the embeddings from N(0, s²) (PyTorch's default; none: Keras's "
                                               "U(-0.05, 0.05), which leaves the attention models on a unigram "
                                               "plateau for epochs)", interval="(0, inf)")
    tie_embeddings: bool = setting(False, "use the target embedding as the output matrix (Press & Wolf 2017): "
                                         "fewer weights, faster steps; needs embed_dim == units")
    attention_units: Optional[int] = setting(None, "bahdanau: size of the scoring layer (default: units)",
                                             interval=POSITIVE)
    dropout: float = setting(0.0, "dropout on the embeddings and before the output layer", interval="[0, 1)",
                             expected="a rate in [0, 1), e.g. 0.2")
    batch_size: int = setting(64, "sentence pairs per batch", interval=POSITIVE)
    epochs: int = setting(10, "passes over the training pairs", interval=POSITIVE)
    lr: float = setting(1e-3, "Adam learning rate", interval="(0, inf)")
    lr_decay: float = setting(1.0, "multiply the learning rate by this after every epoch", interval="(0, 1]")
    clipnorm: Optional[float] = setting(5.0, "clip all gradients together to this global norm (none: off)",
                                        interval="(0, inf)")
    minutes: Optional[float] = setting(None, "stop training once this wall time (minutes, data included) has passed, "
                                             "mid-epoch if need be",
                                       interval="(0, inf)")
    test_fraction: float = setting(0.1, "fraction of source sentences held out for the test split",
                                   interval="(0, 1)")
    valid_fraction: float = setting(0.02, "fraction of source sentences held out for validation loss",
                                    interval="[0, 1)")
    seed: int = setting(0, "seed of the split, the batches, the weights and dropout", interval="[0, inf)")

    def check_together(self, where):
        for name in ("src", "tgt"):
            code = getattr(self, name)
            if not code.isalpha() or not 2 <= len(code) <= 3:
                raise ValueError(f"{where} got {name}={code!r}; expected a language code such as 'en', 'fr', 'ko'.")
        if self.tie_embeddings and self.embed_dim != self.units:
            raise ValueError(f"{where} got tie_embeddings=True with embed_dim={self.embed_dim} and units={self.units}; "
                             "the tied output matrix is the target embedding, so they must be equal. Pass equal "
                             "sizes or tie_embeddings=False.")
        if self.src == self.tgt:
            raise ValueError(f"{where} got src={self.src!r} and tgt={self.tgt!r}; they must differ.")
        if self.test_fraction + self.valid_fraction >= 0.9:
            raise ValueError(f"{where} got test_fraction={self.test_fraction} and valid_fraction="
                             f"{self.valid_fraction}; together they must leave at least 10% for training.")

    def level(self, side):
        """``"word"`` or ``"char"`` for ``side`` ("src" or "tgt"), resolving ``"auto"`` by language."""
        level = getattr(self, f"{side}_level")
        if level == "auto":
            return "char" if getattr(self, side).lower() in CHAR_LANGUAGES else "word"
        return level
