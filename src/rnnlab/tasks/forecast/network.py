"""The forecasting networks: a window of W past steps of C columns in, forecasts in the network's units out.

    direct / many-to-one   x (N, W, C) -> RNN ... RNN -> h_W -> Dense(H Q) -> (N, H, Q)
    recursive              the same with H = 1, fed its own forecasts back H times (see forecaster.py)
    many-to-many           x (N, W, C) -> RNN(return_sequences) -> Dense(Q) at every step -> (N, W, Q):
                           step t predicts the value after step t (seed 003's stock example)
    seq2seq                encoder RNN -> [h, (c)]; decoder RNN over H copies of h, started from [h, (c)]
                           -> Dense(Q) at every step -> (N, H, Q)

Q is the number of quantiles (the median and both ends of each interval) trained with the pinball loss,
or 1 (a point forecast trained with the mean squared error) when no intervals are asked for.

Example::

    model = build_model(ForecastConfig(column="y", horizon=12), n_features=1, n_quantiles=5)
    model.output.shape            # (None, 12, 5)
"""
from ... import Input, Model, layers, losses, optimizers

_CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}


def output_steps(config):
    """Steps the network emits: H (direct, seq2seq), 1 (many-to-one, recursive) or W (many-to-many)."""
    if config.strategy in ("direct", "seq2seq"):
        return config.horizon
    return config.input_width if config.strategy == "many-to-many" else 1


def _stack(config, x, last_sequences):
    cell = _CELLS[config.model]
    for i in range(config.layers):
        seq = last_sequences or i < config.layers - 1
        x = cell(config.units, return_sequences=seq, seed=config.seed + i, name=f"{config.model}_{i + 1}")(x)
    return x


def build_model(config, n_features, n_quantiles):
    """The compiled network for ``config`` (a ``ForecastConfig``) reading ``n_features`` columns."""
    W, H, Q = config.input_width, output_steps(config), n_quantiles
    x_in = Input((W, n_features), name="window")
    if config.strategy == "seq2seq":
        cell = _CELLS[config.model]
        h = _stack(config, x_in, True) if config.layers > 1 else x_in
        enc = cell(config.units, return_state=True, seed=config.seed + 50, name="encoder")(h)
        h_enc, states = enc[0], enc[1:]
        dec_in = layers.RepeatVector(H, name="repeat")(h_enc)
        y = cell(config.units, return_sequences=True, seed=config.seed + 60, name="decoder")(
            dec_in, initial_state=list(states))
    else:
        y = _stack(config, x_in, config.strategy == "many-to-many")
    if config.dropout:
        y = layers.Dropout(config.dropout, seed=config.seed + 70, name="dropout")(y)
    if y.shape[1:] == (config.units,):                       # one vector per window: H Q numbers at once
        y = layers.Dense(H * Q, seed=config.seed + 80, name="head")(y)
        y = layers.Reshape((H, Q), name="steps")(y)
    else:                                                    # one vector per step: Q numbers each
        y = layers.TimeDistributed(layers.Dense(Q, seed=config.seed + 80), name="head")(y)
    model = Model(x_in, y, name=f"forecast_{config.strategy.replace('-', '_')}")
    loss = losses.Pinball(config.quantile_levels()) if Q > 1 else "mse"
    model.compile(optimizer=optimizers.Adam(learning_rate=config.lr), loss=loss)
    return model
