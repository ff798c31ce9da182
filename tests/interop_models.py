"""The recurrent grid shared by the interop tests, written once for any Keras-like API ``K``
(real ``keras`` or ``rnnlab``): every cell kind and option, with a padded batch."""
import numpy as np

V, T, E, H = 12, 7, 5, 4
KINDS = ["rnn", "lstm", "gru", "gru_v1"]                 # gru_v1: GRU(reset_after=False)
OPTIONS = ["seq", "last", "backwards", "backwards_last", "stacked",
           "bi_concat", "bi_sum", "bi_mul", "bi_ave", "state", "bi_state"]


def rnn(K, kind, **kw):
    L = K.layers
    if kind == "gru_v1":
        kw["reset_after"] = False
    return {"rnn": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU, "gru_v1": L.GRU}[kind](H, **kw)


def recurrent_layers(K, kind, option):
    """The layers after the Embedding for one grid option."""
    L = K.layers
    if option == "seq":
        return [rnn(K, kind, return_sequences=True)]
    if option == "last":
        return [rnn(K, kind)]
    if option == "backwards":
        return [rnn(K, kind, return_sequences=True, go_backwards=True)]
    if option == "backwards_last":
        return [rnn(K, kind, go_backwards=True)]
    if option == "stacked":
        return [rnn(K, kind, return_sequences=True), rnn(K, kind)]
    if option.startswith("bi_") and option != "bi_state":
        return [L.Bidirectional(rnn(K, kind, return_sequences=True), merge_mode=option[3:])]
    if option == "state":
        return [rnn(K, kind, return_sequences=True, return_state=True)]
    if option == "bi_state":
        return [L.Bidirectional(rnn(K, kind, return_state=True))]
    raise ValueError(option)


def build(K, kind, option, mask_zero=True, sequential=False):
    """An Embedding followed by the option's recurrent layer(s); functional unless ``sequential``."""
    L = K.layers
    inp = K.Input((T,), dtype="int32")
    layers = [L.Embedding(V, E, mask_zero=mask_zero)] + recurrent_layers(K, kind, option)
    if sequential:
        return K.Sequential([inp] + layers)
    x = inp
    for layer in layers:
        x = layer(x)
    return K.Model(inp, x)


def randomize(model, seed=0, scale=0.6):
    """Uniform(-scale, scale) float32 weights in every layer (Keras or rnnlab)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            layer.set_weights([rng.uniform(-scale, scale, np.shape(w)).astype("float32") for w in ws])


def padded_ids(seed=1, n=5):
    """Token ids (n, T): a full row, post-, pre- and both-sides padding, and a short row."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, V, size=(n, T)).astype("int32")
    x[1, 4:] = 0
    x[2, :3] = 0
    x[3, :1] = 0
    x[3, -1:] = 0
    x[4, 2:] = 0
    return x


def as_list(y):
    return [np.asarray(a) for a in (y if isinstance(y, (list, tuple)) else [y])]
