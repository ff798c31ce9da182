"""The language model: Embedding -> stacked recurrent layers -> a softmax over the vocabulary at every step.

    e_t = E[w_t]                                  (B, k) ids -> (B, k, d)        [dropout]
    h^l_t = RNN_l(h^{l-1}_t, h^l_{t-1})           stateful: states carried from window to window  [dropout]
    p_t = softmax(h^L_t W + b)                    (B, k, V); tied: W = Eᵀ (Press & Wolf 2017)

Dropout is Zaremba et al.'s (on the non-recurrent connections, a new mask per step) or, with
``variational``, Gal & Ghahramani's (one mask per window shared by every step, the same rate on the
recurrent connections). Every weight is drawn from U(-init_scale, init_scale) when ``init_scale`` is set.

Example::

    model = build_model(LMConfig(**PRESETS["zaremba-small"]), vocab_size=10000)
"""
from ... import backend, layers, models

_CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}


def _dropout(rate, variational, seed):
    noise = (None, 1, None) if variational else None                 # one mask for every step of a window
    return layers.Dropout(rate, noise_shape=noise, seed=seed)


def build_model(config, vocab_size, stateful=True):
    """A ``Sequential`` language model for ``config`` (an ``LMConfig``) over ``vocab_size`` tokens."""
    d = config.embed_dim or config.units
    rate, seed = config.dropout, config.seed
    emb = layers.Embedding(vocab_size, d, name="embedding")
    stack = [emb]
    if rate:
        stack.append(_dropout(rate, config.variational, seed + 11))
    for i in range(config.layers):
        rec = rate if (config.variational and rate) else 0.0
        stack.append(_CELLS[config.cell](config.units, return_sequences=True, stateful=stateful,
                                         recurrent_dropout=rec, seed=seed + 100 + i, name=f"{config.cell}_{i + 1}"))
        if rate:
            stack.append(_dropout(rate, config.variational, seed + 200 + i))
    if config.tie_weights:
        stack.append(layers.TiedDense(emb, activation="softmax", name="output"))
    else:
        stack.append(layers.Dense(vocab_size, activation="softmax", seed=seed + 300, name="output"))
    model = models.Sequential(stack, name="language_model")
    model.build((None, None))
    if config.init_scale is not None:
        rng = backend.rng(seed)
        s = config.init_scale
        model.set_weights([rng.uniform(-s, s, size=w.shape) for w in model.get_weights()])
    return model
