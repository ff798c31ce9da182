"""The experiments behind ``rnnlab diagnose``: the lecture notes' vanishing and exploding gradients, measured.

All runs use one long-range task, the first-token task of ``rnnlab demo`` with the loss at the
LAST step only: ``T`` one-hot tokens from ``K`` classes plus a cue channel at step 0, target the
first token, ``RNN(H) -> Dense(K, softmax)``. The distance of step t from the loss is ``T-1-t``,
and every number is ``‖∂L/∂h_t‖₂`` (mean over the batch) as the BPTT loop held it
(``record_hidden_gradients``), at the weights named in each row.

1. ``vanishing``: SimpleRNN, LSTM and GRU at Keras's default initialisation, and LSTM/GRU with
   their memory gates opened (``b_f = log T`` for the LSTM forget gate, ``b_z = log T`` for the
   GRU update gate, so the gate starts at T/(T+1): a memory time of about T steps; chrono
   initialisation, Tallec & Ollivier 2018, at its longest time scale). The notes' point, that
   the gated additive path ``c_t = f ⊙ c_{t-1} + ...`` keeps the gradient, needs the gate to be
   near 1; at Keras's default bias (f = σ(1) ≈ 0.73, z = σ(0) = 0.5) it is not, and the gated cells
   vanish at initialisation too. Training on a long-range task opens the gates; the open-gate rows
   show the state it leads to.
2. ``exploding``: SimpleRNN with its (orthogonal) recurrent kernel scaled to spectral radius
   ``rho`` > 1: ``‖∂L/∂h_t‖`` grows with the distance. Then ``steps`` SGD steps with and without
   ``global_clipnorm``: the applied gradient norm (and the loss) without clipping against the
   clipped run, where the step stays bounded by the clip.
3. ``remedies``: SimpleRNN with an orthogonal vs a Glorot-uniform recurrent kernel, with and
   without layer norm, at spectral radius 1 and at ``rho``.

Example::

    from rnnlab.diagnostics import experiments
    rows = experiments.vanishing(steps=100)
    rows[0]["name"], rows[0]["decay_per_step"]
"""
import math

import numpy as np

from .. import layers, models, optimizers, utils
from .gradients import decay_per_step, hidden_gradient_norms, parameter_gradient_norms, spectral_radii

DEFAULTS = dict(steps=100, units=32, classes=8, batch=64, rho=2.0, train_steps=15, learning_rate=0.05,
                clipnorm=1.0, seed=0)
CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def first_token_batch(n, steps, classes, seed=0):
    """``x`` (n, steps, classes + 1) one-hot tokens plus the cue channel at step 0; ``y`` (n,) the first token."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, classes, size=(n, steps))
    x = np.zeros((n, steps, classes + 1), dtype=np.float32)
    np.put_along_axis(x[..., :classes], tokens[..., None], 1.0, axis=-1)
    x[:, 0, classes] = 1.0
    return x, tokens[:, 0]


def build(cell, steps, units, classes, seed=0, optimizer="adam", **cell_args):
    """``cell(units) -> Dense(classes, softmax)`` on (steps, classes + 1) inputs, compiled and built
    (``utils.set_random_seed(seed)`` first, so every weight is the same from run to run)."""
    utils.set_random_seed(seed)
    model = models.Sequential([CELLS[cell](units, input_shape=(steps, classes + 1), seed=seed, **cell_args),
                               layers.Dense(classes, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.predict(np.zeros((1, steps, classes + 1), np.float32), verbose=0)
    return model


def open_memory_gates(model, steps):
    """Set the LSTM forget-gate bias (GRU: update-gate bias) to ``log(steps)``: the gate starts at
    steps/(steps+1), a memory time of about ``steps`` steps."""
    cell = model.layers[0].cell
    H, b = cell.units, math.log(steps)
    bias = cell._params["bias"]
    if type(cell).__name__ == "LSTMCell":
        bias[H:2 * H] = b                                  # f = σ(b_f + ...)
    else:
        (bias[0] if bias.ndim == 2 else bias)[:H] = b      # z = σ(b_z + ...); h_t = z h_{t-1} + (1-z) h̃


def scale_recurrent_kernel(model, rho):
    """Scale the recurrent kernel so that its spectral radius is ``rho``."""
    W = model.layers[0].cell._params["recurrent_kernel"]
    W *= rho / max(float(np.max(np.abs(np.linalg.eigvals(W.astype(np.float64))))), 1e-12)


def summarise(name, norms):
    """One table row: the norms at distances 0, 1, 10, T-1 from the loss, the ratio far/near and
    the fitted decay factor per step."""
    T = len(norms)
    at = {d: float(norms[T - 1 - d]) for d in (0, 1, 10, T - 1) if d < T}
    return {"name": name, "norms": np.asarray(norms, dtype=np.float64), "at": at,
            "ratio": float(norms[0] / norms[-1]) if norms[-1] else float("nan"),
            "decay_per_step": decay_per_step(norms)}


def _measure(model, x, y):
    return hidden_gradient_norms(model, x, y)[model.layers[0].name]


def vanishing(steps=100, units=32, classes=8, batch=64, seed=0):
    """Rows for SimpleRNN, LSTM and GRU at default initialisation, and LSTM/GRU with open memory gates."""
    x, y = first_token_batch(batch, steps, classes, seed)
    rows = []
    for cell in ("simple_rnn", "lstm", "gru"):
        rows.append(summarise(f"{cell} (Keras init)", _measure(build(cell, steps, units, classes, seed), x, y)))
    for cell, gate in (("lstm", "b_f"), ("gru", "b_z")):
        model = build(cell, steps, units, classes, seed)
        open_memory_gates(model, steps)
        rows.append(summarise(f"{cell} ({gate}=log T)", _measure(model, x, y)))
    return rows


def exploding(steps=100, units=32, classes=8, batch=64, rho=2.0, train_steps=15, learning_rate=0.05,
              clipnorm=1.0, seed=0):
    """The exploding case: per-step norms at spectral radius ``rho`` and a short SGD run without
    and with ``global_clipnorm=clipnorm``.

    Returns ``{"row": summarise(...), "runs": {label: {"grad_norm": [...], "loss": [...],
    "update_norm": [...], "rho": [...]}}}``: per step the global gradient norm before clipping,
    the loss, the norm of the applied step ``‖Δw‖`` and the recurrent kernel's spectral radius.
    """
    x, y = first_token_batch(batch, steps, classes, seed)
    model = build("simple_rnn", steps, units, classes, seed)
    scale_recurrent_kernel(model, rho)
    row = summarise(f"simple_rnn (rho={rho:g})", _measure(model, x, y))
    runs = {}
    for label, clip in (("no clipping", None), (f"global_clipnorm={clipnorm:g}", clipnorm)):
        opt = optimizers.SGD(learning_rate, global_clipnorm=clip)
        m = build("simple_rnn", steps, units, classes, seed, optimizer=opt)
        scale_recurrent_kernel(m, rho)
        trace = {"grad_norm": [], "loss": [], "update_norm": [], "rho": []}
        with np.errstate(all="ignore"):
            for _ in range(train_steps):
                before = [w.copy() for w, _ in m.parameters()]
                loss, _, _ = m.compute_gradients(x, y)
                norms = parameter_gradient_norms(m)
                m.apply_gradients()
                step = math.sqrt(sum(float(np.sum((w.astype(np.float64) - b) ** 2))
                                     for (w, _), b in zip(m.parameters(), before)))
                trace["grad_norm"].append(math.sqrt(sum(v * v for v in norms.values())))
                trace["loss"].append(float(loss))
                trace["update_norm"].append(step)
                trace["rho"].append(spectral_radii(m)[m.layers[0].name]["h"])
        runs[label] = trace
    return {"row": row, "runs": runs}


def remedies(steps=100, units=32, classes=8, batch=64, rho=2.0, seed=0):
    """SimpleRNN rows: orthogonal vs Glorot-uniform recurrent kernel, with and without layer norm,
    at the initialiser's own scale and scaled to spectral radius ``rho``."""
    x, y = first_token_batch(batch, steps, classes, seed)
    rows = []
    for init in ("orthogonal", "glorot_uniform"):
        for ln in (False, True):
            for scale in (None, rho):
                model = build("simple_rnn", steps, units, classes, seed, recurrent_initializer=init, layer_norm=ln)
                if scale is not None:
                    scale_recurrent_kernel(model, scale)
                r0 = spectral_radii(model)[model.layers[0].name]["h"]
                name = f"{init}{' + layer norm' if ln else ''}, rho={r0:.2f}"
                rows.append(summarise(name, _measure(model, x, y)))
    return rows


def run_all(steps=100, units=32, classes=8, batch=64, rho=2.0, train_steps=15, learning_rate=0.05, clipnorm=1.0,
            seed=0):
    """``{"vanishing": rows, "exploding": {...}, "remedies": rows}`` (see each function)."""
    common = dict(steps=steps, units=units, classes=classes, batch=batch, seed=seed)
    return {"vanishing": vanishing(**common),
            "exploding": exploding(rho=rho, train_steps=train_steps, learning_rate=learning_rate,
                                   clipnorm=clipnorm, **common),
            "remedies": remedies(rho=rho, **common)}
