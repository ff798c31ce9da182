"""The captioning network: an encoder that turns the input into a vector ``v``, and a word decoder
conditioned on ``v`` in one of two ways, trained end to end by teacher forcing.

Encoder (``v`` has ``vector_dim`` entries)::

    image (N, S, S, 3) read as S rows of 3S values (N, S, 3S)
      dense:  v = relu(W_2 relu(W_1 flatten(x) + b_1) + b_2)
      conv:   Conv1D(k=3, relu) -> MaxPool(2) -> Conv1D(k=3, relu) -> MaxPool(2) -> flatten -> Dense(relu)
    vector (N, D) (user features):  v = relu(W x + b)

Decoder, with y_0 = <start> and teacher forcing (the input at step t is the true word y_{t-1})::

    repeat:      x_t = [E[y_{t-1}]; v]                 RepeatVector(T) + Concatenate, the vector at every step
                 h_t = RNN(x_t, h_{t-1}),  h_0 = 0
    init_state:  x_t = E[y_{t-1}]
                 h_0 = tanh(W_h v + b_h), c_0 = tanh(W_c v + b_c) (LSTM)     Show and Tell's conditioning
    p(y_t | y_<t, v) = softmax(W_o h_t + b_o)           TimeDistributed(Dense), (N, T, V)

The training model is a functional ``Model([inputs, tokens], probabilities)``; its layers are named
(``vector``, ``embedding``, ``decoder``, ``init_h``, ``init_c``, ``output``) so that ``Captioner`` runs them
one step at a time for decoding. Padding after ``<end>`` is trained as ``<pad> -> <pad>`` (no mask):
Concatenate joins masks as Keras 3 does, so the unmasked repeated vector would unmask every step anyway,
and right padding leaves the caption's own steps unchanged in both styles.

Example::

    model = build_model(CaptionConfig(conditioning="repeat"), vocab_size=20, input_shape=(32, 32, 3), length=11)
    model.predict([images.reshape(-1, 32, 96), decoder_input], verbose=0).shape     # (N, 11, 20)
"""
from ... import layers, models

_CELLS = {"lstm": layers.LSTM, "gru": layers.GRU}


def model_input_shape(input_shape):
    """The shape the network reads: an image (S, S, 3) as rows (S, 3S); a vector (D,) unchanged."""
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) == 3:
        return input_shape[0], input_shape[1] * input_shape[2]
    return input_shape


def _encoder(x, config, image):
    seed = config.seed
    if not image:
        return layers.Dense(config.vector_dim, activation="relu", seed=seed + 1, name="vector")(x)
    if config.encoder == "dense":
        h = layers.Flatten(name="flatten")(x)
        h = layers.Dense(config.encoder_units, activation="relu", seed=seed + 2, name="encoder_hidden")(h)
    else:
        h = layers.Conv1D(config.encoder_units, 3, activation="relu", seed=seed + 3, name="conv_1")(x)
        h = layers.MaxPooling1D(2, name="pool_1")(h)
        h = layers.Conv1D(config.encoder_units, 3, activation="relu", seed=seed + 4, name="conv_2")(h)
        h = layers.MaxPooling1D(2, name="pool_2")(h)
        h = layers.Flatten(name="flatten")(h)
    return layers.Dense(config.vector_dim, activation="relu", seed=seed + 5, name="vector")(h)


def build_model(config, vocab_size, input_shape, length):
    """The training model for ``config`` (a ``CaptionConfig``), ``vocab_size`` words, inputs of ``input_shape``
    ((S, S, 3) images or (D,) vectors) and decoder sequences of ``length`` steps (T)."""
    image = len(input_shape) == 3
    seed = config.seed
    x_in = layers.Input(model_input_shape(input_shape), name="image" if image else "features")
    tokens = layers.Input((length,), dtype="int64", name="tokens")
    v = _encoder(x_in, config, image)
    e = layers.Embedding(vocab_size, config.embed_dim, seed=seed + 6, name="embedding")(tokens)
    rnn = _CELLS[config.cell](config.units, return_sequences=True, seed=seed + 7, name="decoder")
    if config.conditioning == "repeat":
        r = layers.RepeatVector(length, name="repeat")(v)
        h = rnn(layers.Concatenate(name="concat")([e, r]))
    else:
        names = ("init_h", "init_c") if config.cell == "lstm" else ("init_h",)
        states = [layers.Dense(config.units, activation="tanh", seed=seed + 8 + i, name=n)(v)
                  for i, n in enumerate(names)]
        h = rnn(e, initial_state=states)
    out = layers.TimeDistributed(layers.Dense(vocab_size, activation="softmax", seed=seed + 10), name="output")(h)
    return models.Model([x_in, tokens], out, name=f"captioner_{config.conditioning}")
