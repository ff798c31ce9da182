"""``BlockNorm``: layer normalisation of each gate block inside a recurrent time loop.

Example::

    norm = BlockNorm(np.ones(8), np.zeros(8), T=5, N=2, H=4)     # two blocks of 4 units
    y = norm.forward(z, t=0)                                     # z (2, 8) -> normalised per block
"""
import numpy as np

LAYER_NORM_EPSILON = 1e-3          # as Keras's LayerNormalization


class BlockNorm:
    """Layer normalisation (Ba, Kiros & Hinton 2016) of each gate block, inside a time loop.

    For one sample and one block of H values ``z`` (one gate's linear combination):

        μ = mean(z)    σ² = mean((z - μ)²)    ẑ = (z - μ) / sqrt(σ² + ε)    y = γ ⊙ ẑ + β

    Backward (per block): ``dẑ = dy ⊙ γ``,
    ``dz = (dẑ - mean(dẑ) - ẑ ⊙ mean(dẑ ⊙ ẑ)) / sqrt(σ² + ε)``, ``dγ += Σ dy ⊙ ẑ``, ``dβ += Σ dy``.

    ``forward(z, t, lo, hi)`` normalises the columns ``lo:hi`` (whole blocks) of step ``t`` and
    keeps ẑ, 1/σ and y for ``backward(dy, t, lo, hi)``, which returns dz and accumulates dγ, dβ.

    Args:
        gamma, beta: (K·H,) gains and offsets of the K blocks.  T, N, H: steps, batch, block width.
    """

    def __init__(self, gamma, beta, T, N, H, eps=LAYER_NORM_EPSILON):
        G = gamma.shape[0]
        self.gamma, self.beta, self.H, self.eps = gamma, beta, H, eps
        self.xhat = np.empty((T, N, G), dtype=gamma.dtype)             # ẑ
        self.inv = np.empty((T, N, G // H, 1), dtype=gamma.dtype)      # 1 / sqrt(σ² + ε) per block
        self.out = np.empty((T, N, G), dtype=gamma.dtype)              # y, the activation's input
        self.dgamma = np.zeros_like(gamma)
        self.dbeta = np.zeros_like(beta)

    def forward(self, z, t, lo=0, hi=None):
        hi = self.gamma.shape[0] if hi is None else hi
        N, H = z.shape[0], self.H
        zb = z.reshape(N, (hi - lo) // H, H)                            # (N, k, H)
        d = zb - zb.mean(axis=-1, keepdims=True)                        # z - μ
        inv = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + self.eps)
        self.inv[t][:, lo // H:hi // H] = inv
        xhat = self.xhat[t][:, lo:hi]
        xhat[...] = (d * inv).reshape(N, hi - lo)                       # ẑ
        y = self.out[t][:, lo:hi]
        np.multiply(xhat, self.gamma[lo:hi], out=y)
        y += self.beta[lo:hi]                                           # y = γ ⊙ ẑ + β
        return y

    def backward(self, dy, t, lo=0, hi=None):
        hi = self.gamma.shape[0] if hi is None else hi
        N, H = dy.shape[0], self.H
        xhat = self.xhat[t][:, lo:hi]
        self.dgamma[lo:hi] += (dy * xhat).sum(axis=0)                   # through γ ⊙ ẑ
        self.dbeta[lo:hi] += dy.sum(axis=0)                             # through + β
        dxh = (dy * self.gamma[lo:hi]).reshape(N, -1, H)                # dẑ
        xh = xhat.reshape(N, -1, H)
        dz = dxh - dxh.mean(axis=-1, keepdims=True) - xh * (dxh * xh).mean(axis=-1, keepdims=True)
        dz *= self.inv[t][:, lo // H:hi // H]                           # through ẑ = (z - μ) / σ
        return dz.reshape(N, hi - lo)
