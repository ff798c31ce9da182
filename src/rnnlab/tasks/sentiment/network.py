"""The sentiment network, from a ``SentimentConfig``::

    Embedding(V, E, mask_zero=True)            (N, T) -> (N, T, E)       id 0 = padding, masked
    [Conv1D + MaxPooling1D]                    conv_lstm only: shorter sequences
    SimpleRNN | LSTM | GRU | Bidirectional(LSTM)                         h_1 .. h_T
    pooling: last   h_T                        (N, H)      the final state
             mean   (1/T) sum_t h_t            (N, H)      over real (unmasked) steps
             max    max_t h_t                  (N, H)      over real steps
             concat Flatten(h_1 .. h_T)        (N, T*H)    every hidden state side by side
    [Dropout]  Dense(1, sigmoid)               p = P(positive | text)

Example::

    from rnnlab.tasks.sentiment import build_model
    net = build_model("bilstm", vocab_size=20000, maxlen=500, pooling="mean", dropout=0.5, rnn_dropout=0.4)
    net.predict(ids).shape                      # (N, 1) for ids of shape (N, 500)
"""
from ... import layers, models
from .config import MODELS, POOLINGS, SentimentConfig


def build_model(model=None, *, config=None, **settings):
    """The network for ``config`` (a ``SentimentConfig``; None: the defaults) with ``settings`` changed.

    Args:
        model: shorthand for ``settings["model"]``: ``"simple_rnn"``, ``"lstm"``, ``"gru"``, ``"bilstm"``
            (Bidirectional LSTM, concat) or ``"conv_lstm"`` (Conv1D(relu, same) + MaxPooling1D before the LSTM).
        **settings: ``SentimentConfig`` fields. The network uses model, pooling, vocab_size (the Embedding's
            input size, ``len(vocabulary)``), maxlen, embed_dim, units, dropout (a ``Dropout`` before the
            output layer; 0: none), rnn_dropout (the recurrent layer's variational ``dropout=``: one mask over
            the embedding features per review, the same at every step; both directions of a BiLSTM) and, for
            conv_lstm, conv_filters, conv_kernel and pool_size.

    Returns:
        An uncompiled ``Sequential`` mapping ``(N, maxlen)`` ids to ``(N, 1)`` = P(positive).
    """
    if model is not None:
        settings["model"] = model
    for name, known, what in (("model", MODELS, "sentiment model"), ("pooling", POOLINGS, "pooling")):
        if name in settings and settings[name] not in known:
            raise ValueError(f"Unknown {what} {settings[name]!r}; expected one of {known}.")
    c = SentimentConfig.create(config, "build_model", **settings)
    seqs = c.pooling != "last"
    net = [layers.Embedding(c.vocab_size, c.embed_dim, mask_zero=True, input_length=c.maxlen)]
    if c.model == "conv_lstm":
        net += [layers.Conv1D(c.conv_filters, c.conv_kernel, padding="same", activation="relu"),
                layers.MaxPooling1D(c.pool_size)]
    rnn = {"simple_rnn": layers.SimpleRNN, "gru": layers.GRU}.get(c.model, layers.LSTM)
    net.append(layers.Bidirectional(layers.LSTM(c.units, return_sequences=seqs, dropout=c.rnn_dropout))
               if c.model == "bilstm" else rnn(c.units, return_sequences=seqs, dropout=c.rnn_dropout))
    if c.pooling == "mean":
        net.append(layers.GlobalAveragePooling1D())
    elif c.pooling == "max":
        net.append(layers.GlobalMaxPooling1D())
    elif c.pooling == "concat":
        net.append(layers.Flatten())
    if c.dropout:
        net.append(layers.Dropout(c.dropout))
    net.append(layers.Dense(1, activation="sigmoid"))
    return models.Sequential(net, name=f"sentiment_{c.model}_{c.pooling}")
