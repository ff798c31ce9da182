"""The settings of the captioning task, each declared once in ``CaptionConfig`` (flags of ``rnnlab train caption``,
keyword arguments of ``caption.train``, the ``"config"`` saved with the model).

Two ways to condition the decoder on the vector ``v`` (the image's encoding, or a user's feature vector):

- ``repeat``: ``v`` joins the word embedding at every step, ``x_t = [E[y_{t-1}]; v]`` (RepeatVector +
  Concatenate; "par-inject" in Tanti et al. 2018, the notes' "vector repeated at every step");
- ``init_state``: ``v`` only sets the initial states, ``h_0 = tanh(W_h v + b_h)`` (and ``c_0`` likewise for an
  LSTM), then the decoder reads words alone (Show and Tell, Vinyals et al. 2015; "init-inject").

Example::

    from rnnlab.tasks.caption import CaptionConfig
    config = CaptionConfig(conditioning="init_state", units=64, epochs=5)
    config.to_dict()["cell"]          # 'lstm'
"""
from dataclasses import dataclass

from ..config import TaskConfig, setting

CONDITIONING = ("repeat", "init_state")
CELLS = ("lstm", "gru")
ENCODERS = ("dense", "conv")
POSITIVE = "[1, inf)"


@dataclass
class CaptionConfig(TaskConfig):
    """Every setting of a captioning run: conditioning, network, optimiser and the built-in shapes dataset."""

    conditioning: str = setting("init_state", "how the decoder sees the vector: joined to the input at every "
                                              "step (repeat) or as its initial state (init_state)",
                                choices=CONDITIONING)
    cell: str = setting("lstm", "decoder cell", choices=CELLS)
    units: int = setting(128, "decoder units", interval=POSITIVE)
    embed_dim: int = setting(32, "word embedding size", interval=POSITIVE)
    vector_dim: int = setting(128, "size of the conditioning vector v (the encoder's output)", interval=POSITIVE)
    encoder: str = setting("conv", "image encoder: dense (flattened pixels -> hidden -> v) or conv (Conv1D over "
                                    "pixel rows, max pooling, then v); user vectors always go through one Dense",
                           choices=ENCODERS)
    encoder_units: int = setting(64, "hidden units (dense) or filters (conv) of the image encoder",
                                 interval=POSITIVE)
    epochs: int = setting(30, "passes over the training pairs", interval=POSITIVE)
    batch_size: int = setting(64, "pairs per gradient step", interval=POSITIVE)
    lr: float = setting(2e-3, "Adam learning rate", interval="(0, inf)")
    clipnorm: float | None = setting(5.0, "clip all gradients together to this global norm (none: off)",
                                     interval="(0, inf)")
    seed: int = setting(0, "seed of the weights, the shuffling and the built-in dataset", interval="[0, inf)")
    image_size: int = setting(32, "built-in dataset: side of the square RGB canvas in pixels", interval="[16, 256]")
    images: int = setting(8000, "built-in dataset: training images", interval=POSITIVE)
    test_images: int = setting(500, "built-in dataset: held-out images of each evaluation split (random and "
                                    "unseen combinations)", interval=POSITIVE)
    max_objects: int = setting(2, "built-in dataset: objects per image, 1 .. max_objects", interval="[1, 2]")
    valid_fraction: float = setting(0.1, "user pairs: the last part held out for evaluation", interval="[0, 1)")
