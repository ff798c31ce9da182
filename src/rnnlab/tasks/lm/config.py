"""The settings of the language-model task, each declared once in ``LMConfig`` (flags of ``rnnlab train lm``,
keyword arguments of ``lm.train``, the ``"config"`` saved with the model), plus named presets.

Presets (``--preset NAME``; flags given on the command line override them):

- ``zaremba-small``: Zaremba, Sutskever & Vinyals (2014), the small non-regularised PTB model: 2 × 200
  LSTM, 20 steps, batch 20, 13 epochs, SGD at learning rate 1 halved each epoch after the 4th, gradients
  clipped to global norm 5, every weight drawn from U(-0.1, 0.1). Published test perplexity 114.5.
- ``ptb-tied``: a regularised, weight-tied variant (Press & Wolf 2017; Gal & Ghahramani 2016 dropout)
  sized to train in about an hour on two CPU cores.
- ``char``: a character-level model (Tiny Shakespeare, Korean text): 2 × 384 LSTM, 100 steps,
  batch 64, Adam, dropout 0.2.

Example::

    from rnnlab.tasks.lm import LMConfig, PRESETS
    config = LMConfig(**PRESETS["zaremba-small"])
    config.units                  # 200
"""
from dataclasses import dataclass
from typing import Optional

from ..config import TaskConfig, setting

CELLS = ("lstm", "gru", "simple_rnn")
LEVELS = ("word", "char")
OPTIMIZERS = ("sgd", "adam")
POSITIVE = "[1, inf)"
RATE = "a rate in [0, 1), e.g. 0.5"


@dataclass
class LMConfig(TaskConfig):
    """Every setting of a language-model run: corpus level, network, truncated BPTT and optimiser."""

    level: str = setting("word", "tokens: words (whitespace-separated, <eos> per line) or characters",
                         choices=LEVELS)
    cell: str = setting("lstm", "recurrent cell", choices=CELLS)
    layers: int = setting(2, "stacked recurrent layers", interval=POSITIVE)
    units: int = setting(200, "units per recurrent layer", interval=POSITIVE)
    embed_dim: Optional[int] = setting(None, "embedding size (default: units)", interval=POSITIVE)
    dropout: float = setting(0.0, "dropout on the embeddings, between layers and before the output",
                             interval="[0, 1)", expected=RATE)
    variational: bool = setting(False, "variational dropout (Gal & Ghahramani): one mask per window for every "
                                       "step, and the same rate on the recurrent connections")
    tie_weights: bool = setting(False, "use the embedding matrix as the output matrix (Press & Wolf); the last "
                                       "layer's units must equal embed_dim")
    init_scale: Optional[float] = setting(0.1, "draw every weight from U(-s, s) (none: Keras's initialisers)",
                                          interval="(0, inf)")
    num_steps: int = setting(20, "truncated BPTT window k (steps backpropagated)", interval=POSITIVE)
    batch_size: int = setting(20, "parallel streams B", interval=POSITIVE)
    eval_batch_size: int = setting(1, "streams for evaluation (1: the whole text as one stream)", interval=POSITIVE)
    epochs: int = setting(13, "passes over the training stream", interval=POSITIVE)
    optimizer: str = setting("sgd", "sgd (Zaremba's) or adam", choices=OPTIMIZERS)
    lr: float = setting(1.0, "learning rate (sgd: on the loss summed over the k steps, as Zaremba)",
                        interval="(0, inf)")
    lr_decay: float = setting(0.5, "multiply the learning rate by this each epoch after decay_after",
                              interval="(0, 1]")
    decay_after: int = setting(4, "epochs at the full learning rate", interval="[0, inf)")
    clipnorm: Optional[float] = setting(5.0, "clip all gradients together to this global norm (none: off)",
                                        interval="(0, inf)")
    max_vocab: Optional[int] = setting(None, "keep the most frequent tokens (the rest become <unk>)",
                                       interval=POSITIVE)
    valid_fraction: float = setting(0.1, "text:FILE corpora: the last part held out for validation",
                                    interval="(0, 1)")
    seed: int = setting(0, "seed of weights and dropout", interval="[0, inf)")

    def check_together(self, where):
        embed = self.embed_dim or self.units
        if self.tie_weights and embed != self.units:
            raise ValueError(f"{where} got tie_weights=True with units={self.units} and embed_dim={embed}; the "
                             "tied output matrix is the embedding matrix, so the last layer's units must equal "
                             "embed_dim. Pass embed_dim equal to units (or leave it out).")


PRESETS = {
    "zaremba-small": dict(level="word", cell="lstm", layers=2, units=200, dropout=0.0, num_steps=20, batch_size=20,
                          epochs=13, optimizer="sgd", lr=1.0, lr_decay=0.5, decay_after=4, clipnorm=5.0,
                          init_scale=0.1),
    "ptb-tied": dict(level="word", cell="lstm", layers=2, units=400, dropout=0.4, variational=False,
                     tie_weights=True, num_steps=35, batch_size=20, epochs=12, optimizer="sgd", lr=1.0,
                     lr_decay=0.6, decay_after=5, clipnorm=5.0, init_scale=0.05),
    "char": dict(level="char", cell="lstm", layers=2, units=384, embed_dim=64, dropout=0.2, num_steps=100,
                 batch_size=64, eval_batch_size=16, epochs=16, optimizer="adam", lr=2e-3, lr_decay=0.85,
                 decay_after=6, clipnorm=5.0, init_scale=None),
}
