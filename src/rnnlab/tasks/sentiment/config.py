"""The settings of the sentiment task, each declared once in ``SentimentConfig``: they are the keyword
arguments of ``sentiment.train``, the flags of ``rnnlab train sentiment`` and the ``"config"`` part of a
saved model's metadata, checked the same way everywhere (see ``rnnlab.tasks.config``). Example::

    from rnnlab.tasks.sentiment import SentimentConfig
    config = SentimentConfig(model="bilstm", maxlen=500, dropout=0.5)
    config.units                                                        # 64, the default
    SentimentConfig.from_dict({"model": "gru"}) == SentimentConfig(model="gru")   # True
    SentimentConfig(dropout=1.5)    # ValueError: SentimentConfig got dropout=1.5; expected a rate in [0, 1) ...
"""
from dataclasses import dataclass
from typing import Optional, Union

from ... import optimizers
from ..config import TaskConfig, setting

MODELS = ("simple_rnn", "lstm", "gru", "bilstm", "conv_lstm")
POOLINGS = ("last", "mean", "max", "concat")
DATA_KINDS = ("imdb", "nsmc", "csv")
DEFAULT_TOKENIZER = {"imdb": "english", "nsmc": "korean", "csv": "english"}
SIDES = ("pre", "post")
POSITIVE = "[1, inf)"
RATE = "a rate in [0, 1), e.g. 0.5"


@dataclass
class SentimentConfig(TaskConfig):
    """Every setting of a sentiment run: network, text pipeline, training and data split."""

    model: str = setting("lstm", "network: SimpleRNN, LSTM, GRU, Bidirectional LSTM, or Conv1D + MaxPooling1D "
                                 "before an LSTM", choices=MODELS)
    pooling: str = setting("mean", "how the hidden states are used: the last one, their mean or max over the real "
                                   "steps, or all of them side by side", choices=POOLINGS)
    tokenizer: Optional[str] = setting(None, "english, korean (kiwipiepy morphemes), korean_syllable, "
                                             "korean_whitespace, whitespace (default: english for imdb/csv, "
                                             "korean for nsmc)")
    vocab_size: int = setting(20000, "ids kept, padding and OOV included", interval=POSITIVE)
    maxlen: int = setting(200, "tokens per text T", interval=POSITIVE)
    padding: str = setting("pre", "where short texts get their padding", choices=SIDES)
    truncating: str = setting("pre", "where long texts lose tokens", choices=SIDES)
    embed_dim: int = setting(64, "embedding size", interval=POSITIVE)
    units: int = setting(64, "units of the recurrent layer (per direction)", interval=POSITIVE)
    conv_filters: int = setting(64, "conv_lstm: Conv1D filters", interval=POSITIVE)
    conv_kernel: int = setting(5, "conv_lstm: Conv1D kernel size", interval=POSITIVE)
    pool_size: int = setting(4, "conv_lstm: MaxPooling1D size", interval=POSITIVE)
    dropout: float = setting(0.0, "dropout before the output layer", interval="[0, 1)", expected=RATE)
    rnn_dropout: float = setting(0.0, "variational dropout on the recurrent layer's inputs (one mask per review)",
                                 interval="[0, 1)", expected=RATE)
    epochs: int = setting(3, "passes over the training texts", interval=POSITIVE)
    batch_size: int = setting(64, "texts per gradient step", interval=POSITIVE)
    optimizer: str = setting("adam", "optimiser, with Keras's defaults", choices=sorted(optimizers.OPTIMIZERS))
    lr: float = setting(1e-3, "learning rate", interval="[0, inf)")
    clipnorm: Optional[float] = setting(None, "clip each gradient tensor to this norm (0: no clipping)",
                                        interval="[0, inf)")
    seed: int = setting(0, "seed of weights, shuffling and the data split", interval="[0, inf)")
    test_fraction: float = setting(0.2, "nsmc/csv: held-out share", interval="(0, 1)")
    validation_split: float = setting(0.0, "share of the training part used for validation during fit",
                                      interval="[0, 1)")
    patience: Optional[int] = setting(None, "with --validation-split: stop after this many epochs without a "
                                            "better validation loss and keep the best epoch's weights",
                                      interval="[0, inf)")
    ema: Optional[float] = setting(None, "end with the moving average of the weights (optimizer use_ema), "
                                         "e.g. 0.998", interval="[0, 1)", metavar="MOMENTUM")
    max_train: Optional[int] = setting(None, "use a random subset of the training texts", interval=POSITIVE)
    max_test: Optional[int] = setting(None, "use a random subset of the test texts", interval=POSITIVE)
    text_column: Union[int, str] = setting("text", "csv: text column name or 0-based index", interval="[0, inf)",
                                           expected="a column name or a 0-based index")
    label_column: Union[int, str] = setting("label", "csv: 0/1 label column name or 0-based index",
                                            interval="[0, inf)", expected="a column name or a 0-based index")
    delimiter: str = setting(",", "csv: field delimiter")

    def check_together(self, where):
        if self.patience is not None and not self.validation_split:
            raise ValueError(f"{where} got patience={self.patience} but validation_split={self.validation_split!r}; "
                             "early stopping watches the validation loss, so also pass validation_split, e.g. 0.1.")
