"""The translation network: a bidirectional recurrent encoder, a recurrent decoder started from the encoder's
final states, and optionally attention over the encoder outputs; built with the functional API so that every
gradient comes from the library's hand-written layers.

Shapes: N sentences, S source steps, T target steps, d = ``embed_dim``, u = ``units``, V = target vocabulary::

    encoder     e = E_src[x]                                    (N, S, d)    mask m = x != <pad>
                H, h→, c→, h←, c← = BiLSTM(e, mask=m)           H (N, S, 2u) (GRU: no c)
    bridge      s_0 = tanh(W_h [h→; h←] + b_h)                  (N, u)       (and c_0 likewise)
    decoder     o_t = LSTM(E_tgt[y_{t-1}], s_{t-1})             (N, T, u)    teacher forcing: y_0 = <start>
    attention   bahdanau  score_tj = vᵀ tanh(W_q o_t + W_k H_j + b)          (additive, Bahdanau et al. 2015)
                luong     score_tj = o_tᵀ W_k H_j                            ("general", Luong et al. 2015)
                a_t = softmax_j(score_t + mask)                 (N, T, S)    padded source steps get -1e9
                c_t = Σ_j a_tj H_j                              (N, T, 2u)
                õ_t = tanh(W_c [c_t; o_t] + b_c)                (N, T, u)    the attentional vector
    output      p_t = softmax(W_o õ_t + b_o)                    (N, T, V)    (none: õ_t = o_t)
                tied: W_o = E_tgtᵀ (``tie_embeddings``, Press & Wolf 2017; needs d = u)

Both attention variants attend from the decoder's current output o_t (Luong's placement, which runs the
decoder over the whole target in one call during training) and differ in the score. ``none`` is the plain
encoder-decoder of Sutskever et al. / Keras's lstm_seq2seq: the bridged final states alone carry the source.

Embeddings are drawn from N(0, ``embed_init``²) (1, PyTorch's default): with Keras's U(-0.05, 0.05) the
embedded inputs are so small that, under Adam, a model with the attentional layer sits on the unigram
solution (every output the same word distribution) for epochs while PyTorch's copy learns; measured on 4k
en-fr pairs, the plateau is gone with N(0, 1).

Masks: the source embedding's mask (``mask_zero=True``) skips padded steps in both encoder directions, so
the final states are those of the last real token, and reaches the attention as its value mask. The decoder
runs from ``initial_state`` (so, by Keras 3's rule, without a mask); padded target steps come after the real
ones and cannot change them, and the target embedding's mask travels to the output, where the loss counts
real steps only (``losses``: weights m / Σm).

Example::

    model = build_model(TranslateConfig(units=64, embed_dim=32), src_vocab_size=500, tgt_vocab_size=600)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.train_on_batch([x_src, x_tgt], y)          # x_src (N, S), x_tgt (N, T), y (N, T) int
"""
from ... import backend, layers, models

_CELLS = {"lstm": layers.LSTM, "gru": layers.GRU}


def build_model(config, src_vocab_size, tgt_vocab_size):
    """The training model ``Model([source ids, target input ids], next-token probabilities)``."""
    u, d, seed = config.units, config.embed_dim, config.seed
    Cell = _CELLS[config.cell]
    src = layers.Input(shape=(None,), dtype="int32", name="source")
    tgt = layers.Input(shape=(None,), dtype="int32", name="target_in")
    e_src = layers.Embedding(src_vocab_size, d, mask_zero=True, seed=seed + 1, name="src_embedding")(src)
    tgt_embedding = layers.Embedding(tgt_vocab_size, d, mask_zero=True, seed=seed + 2, name="tgt_embedding")
    e_tgt = tgt_embedding(tgt)
    if config.dropout:
        e_src = layers.Dropout(config.dropout, seed=seed + 3, name="src_dropout")(e_src)
        e_tgt = layers.Dropout(config.dropout, seed=seed + 4, name="tgt_dropout")(e_tgt)
    encoder = layers.Bidirectional(Cell(u, return_sequences=True, return_state=True, seed=seed + 5),
                                   name="encoder")
    enc = encoder(e_src)
    H, states = enc[0], enc[1:]
    n = len(states) // 2                                                   # states per direction
    initial = []
    for i, name in enumerate(("h", "c")[:n]):
        both = layers.Concatenate(name=f"bridge_{name}_concat")([states[i], states[n + i]])
        initial.append(layers.Dense(u, activation="tanh", seed=seed + 6 + i, name=f"bridge_{name}")(both))
    o = Cell(u, return_sequences=True, seed=seed + 8, name="decoder")(e_tgt, initial_state=initial)
    if config.attention == "none":
        top = o
    else:
        if config.attention == "bahdanau":
            a = config.attention_units or u
            q = layers.Dense(a, use_bias=False, seed=seed + 9, name="attention_query")(o)
            k = layers.Dense(a, seed=seed + 10, name="attention_key")(H)
            context = layers.AdditiveAttention(seed=seed + 11, name="attention")([q, H, k])
        else:
            k = layers.Dense(u, use_bias=False, seed=seed + 10, name="attention_key")(H)
            context = layers.Attention(name="attention")([o, H, k])
        both = layers.Concatenate(name="attentional_concat")([context, o])
        top = layers.Dense(u, activation="tanh", seed=seed + 12, name="attentional")(both)
    if config.dropout:
        top = layers.Dropout(config.dropout, seed=seed + 13, name="output_dropout")(top)
    if config.tie_embeddings:
        out = layers.TiedDense(tgt_embedding, activation="softmax", name="output")(top)
    else:
        out = layers.Dense(tgt_vocab_size, activation="softmax", seed=seed + 14, name="output")(top)
    model = models.Model([src, tgt], out, name=f"translate_{config.attention}")
    if config.embed_init is not None:
        rng = backend.rng(seed + 15)
        for name in ("src_embedding", "tgt_embedding"):
            layer = model.get_layer(name)
            layer.set_weights([rng.normal(0.0, config.embed_init, w.shape) for w in layer.get_weights()])
    return model
