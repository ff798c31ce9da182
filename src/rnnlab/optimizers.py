"""Optimisers with Keras's names, defaults and update rules; weights are updated in place.

For a parameter ``w`` with gradient ``g`` at step ``t`` (1-based), learning rate ``lr``:

    SGD       v = m v - lr g;  w += v                 (nesterov: w += m v - lr g)
    Adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
              w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)      (Keras's eps placement)
    RMSprop   v = rho v + (1 - rho) g^2;  w -= lr g / sqrt(v + eps)              (Keras 3; torch: sqrt(v) + eps)
    Adagrad   a += g^2 (a starts at initial_accumulator_value);  w -= lr g / sqrt(a + eps)

Gradient clipping (the notes' cure for exploding gradients), at most one of:

    clipnorm=c          per tensor: g <- g * c / max(||g||, c)
    global_clipnorm=c   all tensors together: g <- g * c / max(sqrt(sum ||g||^2), c)
    clipvalue=c         g <- clip(g, -c, c)

``learning_rate`` is a float or a callable ``lr(step)`` of the 0-based step count (a schedule).

Weight averaging, as Keras's ``use_ema=True``: after every update each weight's exponential moving
average is kept,

    avg = ema_momentum * avg + (1 - ema_momentum) * w        (avg = w after the first update)

and ``finalize_variable_values(weights)`` (which ``fit`` calls when training ends) writes the
averages into the weights; ``ema_overwrite_frequency=k`` also does so after every k-th update.
The average of the last ~1/(1 - ema_momentum) steps is smoother than the last step's weights.

Example::

    opt = optimizers.get("adam")                  # Adam(learning_rate=0.001)
    opt.apply(model.parameters())                 # [(param, grad), ...]
"""
import numpy as np

from . import kernels


@kernels.twin("rnnlab.kernels.updates")
def sgd_step(w, g, lr):
    """``w -= lr g`` in place (compiled twin: one pass, no temporary)."""
    w -= lr * g


@kernels.twin("rnnlab.kernels.updates")
def adam_step(w, g, m, v, alpha, beta_1, beta_2, epsilon):
    """Adam's update of ``w`` and its moments ``m``, ``v``, in place, with ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)``
    (compiled twin: the same operations in one pass)."""
    m += (1.0 - beta_1) * (g - m)                    # m = b1 m + (1 - b1) g
    v += (1.0 - beta_2) * (g * g - v)                # v = b2 v + (1 - b2) g^2
    w -= alpha * m / (np.sqrt(v) + epsilon)


@kernels.twin("rnnlab.kernels.updates")
def sum_squares(g):
    """``sum(g^2)`` as a Python float, accumulated in float64 (compiled twin: without the temporary ``g * g``)."""
    return float(np.sum(np.square(g, dtype=np.float64)))


def _number(owner, arg, value, low, high, low_open=False, high_open=True, words=None):
    """``value`` as a float in the interval from ``low`` to ``high`` (ends open or closed as given), else a
    ValueError naming the optimiser, the argument, the value and the allowed range."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and np.isfinite(value)
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{owner} got {arg}={value!r}; expected {words or 'a number'} in {interval}.")
    return float(value)


class Optimizer:
    """Base class: clipping, the learning-rate schedule, the step count and per-parameter state."""

    name = "optimizer"

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None):
        if not callable(learning_rate):
            if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number)) \
                    or not np.isfinite(learning_rate) or learning_rate < 0:
                raise ValueError(f"{type(self).__name__} got learning_rate={learning_rate!r}; expected a "
                                 "non-negative float or a callable schedule lr(step).")
            learning_rate = float(learning_rate)
        for arg, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or v <= 0
                                  or not np.isfinite(v)):
                raise ValueError(f"{type(self).__name__} got {arg}={v!r}; expected a positive number (finite) or None.")
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm, clipvalue and global_clipnorm can be "
                             f"set (as in Keras), got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}.")
        if isinstance(ema_momentum, bool) or not isinstance(ema_momentum, (int, float, np.integer, np.floating)) \
                or not 0.0 <= ema_momentum < 1.0:
            raise ValueError(f"{type(self).__name__} got ema_momentum={ema_momentum!r}; expected a float in "
                             "[0, 1), e.g. 0.99.")
        if ema_overwrite_frequency is not None and (isinstance(ema_overwrite_frequency, bool) or not isinstance(
                ema_overwrite_frequency, (int, np.integer)) or ema_overwrite_frequency <= 0):
            raise ValueError(f"{type(self).__name__} got ema_overwrite_frequency={ema_overwrite_frequency!r}; "
                             "expected a positive integer (steps) or None.")
        self.use_ema, self.ema_momentum = bool(use_ema), float(ema_momentum)
        self.ema_overwrite_frequency = None if ema_overwrite_frequency is None else int(ema_overwrite_frequency)
        self._averages = {}          # id(param) -> (param, moving average), with use_ema
        self.learning_rate = learning_rate
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self._slots = {}             # id(param) -> (param, dict of state arrays)

    def current_learning_rate(self):
        lr = self.learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    def clip_gradients(self, grads):
        """The gradients after clipping: a scaled gradient is a new array, one within the limit is returned as it
        is; the inputs are never modified."""
        if self.clipnorm is not None:
            c = self.clipnorm
            return [_scaled(g, c / max(np.sqrt(sum_squares(g)), c)) for g in grads]
        if self.global_clipnorm is not None:
            c = self.global_clipnorm
            norm = float(np.sqrt(sum(sum_squares(g) for g in grads)))
            return [_scaled(g, c / max(norm, c)) for g in grads]
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return list(grads)

    def apply(self, params_and_grads):
        """One update of every ``(param, grad)`` pair, in place; then the step count goes up by one."""
        pairs = list(params_and_grads)
        lr = self.current_learning_rate()
        grads = self.clip_gradients([g for _, g in pairs])
        self.iterations += 1
        for (w, _), g in zip(pairs, grads):
            self._update(w, g.astype(w.dtype, copy=False), self._state(self._slots, w, self._make_slots), lr)
        if self.use_ema:
            self._update_averages([w for w, _ in pairs])

    @staticmethod
    def _state(table, w, make):
        """``table``'s state of the array ``w``, made by ``make(w)`` when ``w`` is new to it. Keyed by
        ``id(w)`` but checked by identity, since Python reuses the ids of freed arrays."""
        entry = table.get(id(w))
        if entry is None or entry[0] is not w:
            entry = table[id(w)] = (w, make(w))
        return entry[1]

    def _update_averages(self, weights):
        m = self.ema_momentum
        for w in weights:
            known = self._averages.get(id(w))
            if known is None or known[0] is not w:             # first update (of this array): avg = w
                self._averages[id(w)] = (w, w.copy())
                continue
            avg = known[1]
            avg *= m
            avg += (1.0 - m) * w                               # avg = m avg + (1 - m) w
        if self.ema_overwrite_frequency and self.iterations % self.ema_overwrite_frequency == 0:
            self.finalize_variable_values(weights)

    def finalize_variable_values(self, weights):
        """With ``use_ema``: write each weight's moving average into it (in place); else nothing."""
        if not self.use_ema:
            return
        for w in weights:
            entry = self._averages.get(id(w))
            if entry is not None and entry[0] is w:
                w[...] = entry[1]

    def _make_slots(self, w):
        return {}

    def _update(self, w, g, slots, lr):
        raise NotImplementedError

    def get_config(self):
        lr = self.current_learning_rate() if callable(self.learning_rate) else self.learning_rate
        return {"class_name": type(self).__name__, "learning_rate": lr, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum, "ema_overwrite_frequency": self.ema_overwrite_frequency}

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self.learning_rate}>"


class SGD(Optimizer):
    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _number("SGD", "momentum", momentum, 0.0, 1.0, words="a float")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"SGD got nesterov={nesterov!r}; expected True or False.")
        self.nesterov = bool(nesterov)

    def _make_slots(self, w):
        return {"v": np.zeros_like(w)} if self.momentum else {}

    def _update(self, w, g, slots, lr):
        if not self.momentum:
            sgd_step(w, g, lr)
            return
        v, m = slots["v"], self.momentum
        v *= m
        v -= lr * g                                      # v = m v - lr g
        if self.nesterov:
            w += m * v - lr * g
        else:
            w += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _number("Adam", "beta_1", beta_1, 0.0, 1.0, words="a float")
        self.beta_2 = _number("Adam", "beta_2", beta_2, 0.0, 1.0, words="a float")
        self.epsilon = _number("Adam", "epsilon", epsilon, 0.0, np.inf, low_open=True, words="a small positive float")

    def _make_slots(self, w):
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def _update(self, w, g, slots, lr):
        t = self.iterations
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * np.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        adam_step(w, g, slots["m"], slots["v"], alpha, b1, b2, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class RMSprop(Optimizer):
    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _number("RMSprop", "rho", rho, 0.0, 1.0, words="a float")
        self.momentum = _number("RMSprop", "momentum", momentum, 0.0, 1.0, words="a float")
        self.epsilon = _number("RMSprop", "epsilon", epsilon, 0.0, np.inf, low_open=True,
                               words="a small positive float")

    def _make_slots(self, w):
        slots = {"v": np.zeros_like(w)}
        if self.momentum:
            slots["mom"] = np.zeros_like(w)
        return slots

    def _update(self, w, g, slots, lr):
        v = slots["v"]
        v *= self.rho
        v += (1.0 - self.rho) * g * g                    # v = rho v + (1 - rho) g^2
        step = lr * g / np.sqrt(v + self.epsilon)       # Keras 3 puts eps inside the square root
        if self.momentum:
            mom = slots["mom"]
            mom *= self.momentum
            mom += step                                  # mom = momentum mom + lr g / sqrt(v + eps)
            step = mom
        w -= step

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}


class Adagrad(Optimizer):
    name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _number("Adagrad", "initial_accumulator_value", initial_accumulator_value,
                                                 0.0, np.inf, words="a non-negative float")
        self.epsilon = _number("Adagrad", "epsilon", epsilon, 0.0, np.inf, low_open=True,
                               words="a small positive float")

    def _make_slots(self, w):
        return {"a": np.full_like(w, self.initial_accumulator_value)}

    def _update(self, w, g, slots, lr):
        a = slots["a"]
        a += g * g                                       # a = a + g^2
        w -= lr * g / np.sqrt(a + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


def _scaled(g, factor):
    """``g * factor`` as a new array; ``g`` itself when the factor is 1 (the norm was within the limit)."""
    return g if factor == 1.0 else g * factor


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}     # by Keras name


def get(identifier):
    """An optimiser from a name (Keras defaults), an instance, or a ``get_config()`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = str(config.pop("class_name", "")).lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer class {name!r} in config; expected one of {sorted(OPTIMIZERS)}.")
        import inspect
        cls = OPTIMIZERS[name]
        known = set(inspect.signature(cls.__init__).parameters) | set(inspect.signature(Optimizer.__init__).parameters)
        unknown = sorted(set(config) - known - {"self", "kwargs"})
        if unknown:
            raise ValueError(f"Optimizer config for {cls.__name__} has unknown key(s) {unknown}; expected some of "
                             f"{sorted(known - {'self', 'kwargs'})}.")
        return cls(**config)
    if isinstance(identifier, str):
        cls = OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}; expected one of {sorted(OPTIMIZERS)} "
                             "or an rnnlab.optimizers.Optimizer instance.")
        return cls()
    raise TypeError(f"Expected an optimizer name or rnnlab.optimizers.Optimizer, got {type(identifier).__name__}.")
