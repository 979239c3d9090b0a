"""Loss weighting for PINNs: gradient-norm balancing and causal weights.

* Gradient-norm balancing (Wang, Wang, Perdikaris 2021, "learning-rate annealing", in the form
  of Wang et al. 2023, "An expert's guide to training PINNs"): every ``every`` steps,
  ``lambda_hat_i = sum_j |grad L_j| / |grad L_i|`` (norms over all trainable parameters) and
  ``lambda_i <- alpha lambda_i + (1 - alpha) lambda_hat_i``, so every weighted term pulls on the
  parameters with the same gradient norm.
* Causal weighting (Wang, Sankaran, Perdikaris 2022, "Respecting causality"): the time range
  is cut into M chunks with residual losses ``L_i``; chunk i is weighted by
  ``w_i = exp(-eps sum_{k<i} L_k)`` under ``stop_gradient``, so later times train only once
  earlier ones are resolved; the PDE loss is ``mean_i w_i L_i``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import fieldgrad as fg

__all__ = [
    "AdaptiveWeights",
    "CausalWeighting",
    "balance_weights",
    "chunk_losses",
    "causal_weights",
    "causal_loss",
]


@dataclasses.dataclass(frozen=True)
class AdaptiveWeights:
    """Gradient-norm balancing of the loss terms.

    Args:
        every: update the weights every this many Adam steps.
        alpha: moving-average factor of the weights (0 takes the new estimate outright).
        terms: names of the balanced terms (default: all); the others keep their weights.
    """

    every: int = 100
    alpha: float = 0.9
    terms: tuple | None = None

    def __post_init__(self):
        if int(self.every) < 1:
            raise ValueError(f"AdaptiveWeights: every must be >= 1, got {self.every}")
        if not 0.0 <= float(self.alpha) < 1.0:
            raise ValueError(f"AdaptiveWeights: alpha must be in [0, 1), got {self.alpha}")


@dataclasses.dataclass(frozen=True)
class CausalWeighting:
    """Causal weights for the PDE residual of a time-dependent problem.

    Args:
        num_chunks: M, the number of time chunks.
        eps: the causality parameter (larger is stricter).
    """

    num_chunks: int = 32
    eps: float = 1.0

    def __post_init__(self):
        if int(self.num_chunks) < 1:
            raise ValueError(f"CausalWeighting: num_chunks must be >= 1, got {self.num_chunks}")
        if not float(self.eps) >= 0.0:
            raise ValueError(f"CausalWeighting: eps must be >= 0, got {self.eps}")


def balance_weights(grad_norms, weights, alpha: float = 0.9) -> np.ndarray:
    """One gradient-norm balancing update (host-side).

    Args:
        grad_norms: ``|grad L_i|`` per term, shape ``(T,)``.
        weights: the current weights ``(T,)``.
        alpha: moving-average factor.

    Returns:
        The new weights ``alpha w + (1 - alpha) sum_j |g_j| / |g_i|``; a term with a zero or
        non-finite gradient norm keeps its weight.

    Example:
        >>> from fieldgrad.solvers.pinn import balance_weights
        >>> balance_weights([1.0, 4.0], [1.0, 1.0], alpha=0.0).tolist()
        [5.0, 1.25]
    """
    g = np.asarray(grad_norms, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(g) & (g > 0)
    if not ok.any():
        return w.copy()
    target = np.where(ok, g[ok].sum() / np.where(ok, g, 1.0), w)
    return alpha * w + (1.0 - alpha) * target


def chunk_losses(r2, t, num_chunks: int, t0: float, t1: float):
    """Mean of ``r2`` over each of ``num_chunks`` equal time chunks of ``[t0, t1]``.

    Args:
        r2: squared residuals ``(N,)``.
        t: times of the points ``(N,)``.

    Returns:
        Tensor ``(M,)``; an empty chunk has loss 0.
    """
    m = int(num_chunks)
    scale = m / (float(t1) - float(t0))
    idx = fg.clip(fg.floor((t - float(t0)) * scale), 0.0, float(m - 1))
    bins = fg.arange(m, dtype=r2.dtype)
    onehot = fg.astype(fg.equal(fg.expand_dims(idx, 1), fg.expand_dims(bins, 0)), r2.dtype)
    counts = fg.sum(onehot, axis=0)
    return fg.matmul(r2, onehot) / fg.maximum(counts, 1.0)


def causal_weights(losses, eps):
    """``w_i = exp(-eps sum_{k<i} L_k)``, without gradient.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import causal_weights
        >>> w = causal_weights(fg.tensor([1.0, 2.0, 3.0], dtype="float64"), 0.5)
        >>> [round(v, 6) for v in w.tolist()]  # exp(0), exp(-0.5), exp(-1.5)
        [1.0, 0.606531, 0.22313]
    """
    m = losses.shape[0]
    lower = fg.tensor(np.tril(np.ones((m, m)), -1), dtype=losses.dtype)
    return fg.stop_gradient(fg.exp(-eps * fg.matmul(lower, losses)))


def causal_loss(r2, t, num_chunks: int, eps, t0: float, t1: float):
    """The causally weighted residual loss ``mean_i w_i L_i`` and the weights ``(M,)``."""
    losses = chunk_losses(r2, t, num_chunks, t0, t1)
    w = causal_weights(losses, eps)
    return fg.mean(w * losses), w
