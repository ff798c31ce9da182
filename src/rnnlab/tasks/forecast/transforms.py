"""What the network sees: the series transformed, differenced and scaled, with statistics from the training
part only, and the way back to the original units.

Three stages, applied in this order to every column x (and undone in reverse for the forecasts):

    value      none:  v = x        log: v = log x (x > 0)        log1p: v = log(1 + x) (x >= 0)
    detrend    none:  u_t = v_t    diff: u_t = v_t - v_{t-1}      returns: u_t = v_t / v_{t-1} - 1
               seasonal: u_t = v_t - v_{t-m}  (m = ``season``: the change since the same month last year)
    scaler     standard: z = (u - mean) / std      minmax: z = (u - min) / (max - min)      none: z = u

mean/std/min/max are per column, over the training rows only: changing anything after the training part
leaves every statistic, and so every training window, unchanged (no leakage).

Targets. A forecast made at origin ``o`` (the last observed index is ``o - 1``) for ``h = 1 .. H`` is the
target column's value ``x_{o+h-1}``. The network learns, in its own units,

    detrend none:     (v_{o+h-1} - mean) / std                        (the scaled level)
    detrend diff:     (v_{o+h-1} - v_{o-1}) / std                     (the change since the origin)
    detrend returns:  (v_{o+h-1} / v_{o-1} - 1) / std                 (the cumulative return)
    detrend seasonal: (v_{o+h-1} - v_{o+h-1-m} - mean) / std          (the seasonal change at that step)

with mean/std of the target column's u (min-max: offset min and range max - min; for diff/returns only the
scale applies, since a cumulative change has no fixed offset). Every map from a target back to x is
increasing, so quantiles of the target are quantiles of x and prediction intervals survive the inversion.
Inverting needs the last ``memory`` observed values before the origin (1 for diff/returns, m for seasonal;
for h > m a seasonal forecast builds on its own forecast m steps earlier).

Example::

    import numpy as np
    from rnnlab.tasks.forecast.transforms import Transforms
    x = np.arange(1.0, 101.0)[:, None]                      # (T, C=1)
    t = Transforms(value="log", detrend="diff").fit(x[:80])
    z = t.inputs(x)                                          # (100, 1), row 0 is NaN (no previous value)
    y = t.targets(x, origins=np.array([90]), horizon=3)      # (1, 3)
    t.invert(y, last=x[89:90, 0:1])                          # [[91, 92, 93]] back in units of x
"""
import numpy as np

VALUES = ("none", "log", "log1p")
DETRENDS = ("none", "diff", "returns", "seasonal")
SCALERS = ("standard", "minmax", "none")


def _choice(value, name, allowed):
    if value not in allowed:
        raise ValueError(f"Transforms got {name}={value!r}; expected one of {allowed}.")
    return value


class Transforms:
    """The value transform, detrending and scaler of a (T, C) series; ``target`` is the forecast column."""

    def __init__(self, value="none", detrend="none", scaler="standard", target=0, season=1):
        self.value = _choice(value, "value", VALUES)
        self.detrend = _choice(detrend, "detrend", DETRENDS)
        self.scaler = _choice(scaler, "scaler", SCALERS)
        self.target = int(target)
        self.season = int(season)
        if self.season < 1:
            raise ValueError(f"Transforms got season={season!r}; expected a positive integer.")
        self.offset = self.scale = None             # (C,) each, set by fit

    # ---- the three stages ---------------------------------------------------------------------------

    def _value(self, x, where):
        if self.value == "log":
            if np.any(x <= 0):
                raise ValueError(f"{where}: value='log' needs positive values, but the series has {np.min(x)!r}; "
                                 "use value='log1p' for counts with zeros, or 'none'.")
            return np.log(x)
        if self.value == "log1p":
            if np.any(x < 0):
                raise ValueError(f"{where}: value='log1p' needs values >= 0, but the series has {np.min(x)!r}.")
            return np.log1p(x)
        return np.asarray(x, dtype=np.float64)

    @property
    def memory(self):
        """Observed rows before an origin that detrending needs: 0, 1 (diff/returns) or m (seasonal)."""
        return {"none": 0, "diff": 1, "returns": 1, "seasonal": self.season}[self.detrend]

    def to_value(self, x):
        """The value transform of target-column values (log, log1p or nothing); any shape. Forecasts at or below
        the transform's domain (a lower bound under 0 for log) are clipped into it, not refused."""
        x = np.asarray(x, dtype=np.float64)
        tiny = np.finfo(np.float64).tiny
        if self.value == "log":
            return np.log(np.maximum(x, tiny))
        return np.log1p(np.maximum(x, -1.0 + 1e-12)) if self.value == "log1p" else x

    def from_value(self, v):
        """The inverse of ``to_value``."""
        return self._value_inverse(np.asarray(v, dtype=np.float64))

    def _value_inverse(self, v):
        return np.exp(v) if self.value == "log" else np.expm1(v) if self.value == "log1p" else v

    def _detrended(self, v):
        """u with the same rows as v; row 0 is NaN when differencing (no previous value)."""
        if self.detrend == "none":
            return v
        u = np.full_like(v, np.nan)
        if self.detrend == "seasonal":
            u[self.season:] = v[self.season:] - v[:-self.season]
        elif self.detrend == "diff":
            u[1:] = v[1:] - v[:-1]
        else:
            if np.any(v[:-1] == 0):
                raise ValueError("Transforms: detrend='returns' divides by the previous value, but the series has "
                                 "a 0; use detrend='diff'.")
            u[1:] = v[1:] / v[:-1] - 1.0
        return u

    # ---- fit / forward / inverse --------------------------------------------------------------------

    def fit(self, train):
        """Statistics from ``train`` (Ttrain, C), the training rows only. Returns self."""
        train = np.asarray(train, dtype=np.float64)
        if train.ndim != 2 or len(train) < 3:
            raise ValueError(f"Transforms.fit got training values of shape {train.shape}; expected (T, C) with "
                             "T >= 3.")
        u = self._detrended(self._value(train, "Transforms.fit"))
        u = u[~np.isnan(u).any(axis=1)]
        if self.scaler == "standard":
            self.offset, self.scale = u.mean(axis=0), u.std(axis=0)
        elif self.scaler == "minmax":
            self.offset, self.scale = u.min(axis=0), u.max(axis=0) - u.min(axis=0)
        else:
            self.offset, self.scale = np.zeros(u.shape[1]), np.ones(u.shape[1])
        self.scale = np.where(self.scale > 0, self.scale, 1.0)     # a constant column is left unscaled
        return self

    def _fitted(self):
        if self.offset is None:
            raise ValueError("Transforms: call fit(training_values) first.")

    def inputs(self, values):
        """(T, C) network inputs z for every row of ``values`` (row 0 NaN when differencing)."""
        self._fitted()
        u = self._detrended(self._value(np.asarray(values, dtype=np.float64), "Transforms.inputs"))
        return (u - self.offset) / self.scale

    def _target_scale(self):
        j = self.target
        centred = self.detrend in ("none", "seasonal")
        return (self.offset[j], self.scale[j]) if centred else (0.0, self.scale[j])

    def targets(self, values, origins, horizon):
        """(N, H) scaled targets for forecasts at ``origins`` (N,) over ``horizon`` steps."""
        self._fitted()
        v = self._value(np.asarray(values, dtype=np.float64)[:, self.target], "Transforms.targets")
        idx = np.asarray(origins)[:, None] + np.arange(horizon)[None, :]           # (N, H): o + h - 1
        future = v[idx]
        if self.detrend == "seasonal":
            future = future - v[idx - self.season]
        elif self.detrend == "diff":
            future = future - v[np.asarray(origins) - 1][:, None]
        elif self.detrend == "returns":
            future = future / v[np.asarray(origins) - 1][:, None] - 1.0
        offset, scale = self._target_scale()
        return (future - offset) / scale

    def invert(self, y, last=None):
        """Forecasts ``y`` (N, H) or (N, H, Q) in network units back to the target column's units.
        ``last`` (N, k): the last k >= ``memory`` observed target values before each origin (x_{o-k} ..
        x_{o-1}, original units), needed when detrending; a (N,) array is read as k = 1."""
        self._fitted()
        offset, scale = self._target_scale()
        t = np.asarray(y, dtype=np.float64) * scale + offset
        if self.detrend == "none":
            return self._value_inverse(t)
        if last is None:
            raise ValueError(f"Transforms.invert: detrend={self.detrend!r} needs the last {self.memory} observed "
                             "values before each origin (last=...).")
        last = np.asarray(last, dtype=np.float64)
        last = last[:, None] if last.ndim == 1 else last
        if last.shape[1] < self.memory:
            raise ValueError(f"Transforms.invert got {last.shape[1]} past values per origin; detrend="
                             f"{self.detrend!r} needs {self.memory}.")
        v = self._value(last, "Transforms.invert")                                  # (N, k)
        tail = (-1,) + (1,) * (t.ndim - 2)                           # one step's (N, [Q]) broadcast over quantiles
        if self.detrend == "diff":
            t = v[:, -1].reshape((-1, 1) + tail[1:]) + t
        elif self.detrend == "returns":
            t = v[:, -1].reshape((-1, 1) + tail[1:]) * (1.0 + t)
        else:                                                                       # v_{r} = v_{r-m} + u_r
            m, out = self.season, np.empty_like(t)
            for h in range(t.shape[1]):
                base = v[:, h - m].reshape(tail) if h < m else out[:, h - m]
                out[:, h] = base + t[:, h]
            t = out
        return self._value_inverse(t)

    # ---- saving -------------------------------------------------------------------------------------

    def to_dict(self):
        self._fitted()
        return {"value": self.value, "detrend": self.detrend, "scaler": self.scaler, "target": self.target,
                "season": self.season,
                "offset": self.offset.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d):
        t = cls(d["value"], d["detrend"], d["scaler"], d["target"], d.get("season", 1))
        t.offset = np.asarray(d["offset"], dtype=np.float64)
        t.scale = np.asarray(d["scale"], dtype=np.float64)
        return t
