"""Collocation point management: seeds per term, resampling and residual-based adaptive
refinement (RAR, Lu et al. 2021: evaluate the residual on many candidates, add the worst)."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["RAR", "term_seed", "worst_points"]


def term_seed(seed: int, index: int) -> int:
    """A non-negative seed for term ``index`` of a problem drawn with ``seed`` (decorrelated
    streams from numpy's SeedSequence)."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0] >> 1)


@dataclasses.dataclass(frozen=True)
class RAR:
    """Residual-based adaptive refinement settings.

    Args:
        every: refine every this many Adam steps.
        num_candidates: candidate points drawn from the domain each time.
        num_add: how many of the candidates with the largest residual are added.
        max_points: stop adding once this many points were added (None: no limit).
    """

    every: int = 1000
    num_candidates: int = 10000
    num_add: int = 10
    max_points: int | None = None

    def __post_init__(self):
        if int(self.every) < 1 or int(self.num_candidates) < 1 or int(self.num_add) < 1:
            raise ValueError(
                f"RAR: every, num_candidates and num_add must be >= 1, got {self.every}, "
                f"{self.num_candidates}, {self.num_add}"
            )
        if self.num_add > self.num_candidates:
            raise ValueError(
                f"RAR: num_add ({self.num_add}) exceeds num_candidates ({self.num_candidates})"
            )


def worst_points(candidates, residual_sq, num_add: int) -> np.ndarray:
    """The ``num_add`` candidates with the largest squared residual, worst first.

    Args:
        candidates: points ``(n, d)``.
        residual_sq: squared residual at each candidate ``(n,)`` (NaN counts as worst).
        num_add: how many to return.

    Example:
        >>> import numpy as np
        >>> from fieldgrad.solvers.pinn import worst_points
        >>> worst_points(np.arange(5.0)[:, None], np.array([1.0, 9.0, 0.0, 4.0, 2.0]), 2).ravel()
        array([1., 3.])
    """
    x = np.asarray(candidates, dtype=np.float64)
    r = np.asarray(residual_sq, dtype=np.float64).reshape(-1)
    if r.shape[0] != x.shape[0]:
        raise ValueError(f"worst_points: {x.shape[0]} candidates but {r.shape[0]} residuals")
    r = np.where(np.isnan(r), np.inf, r)
    order = np.argsort(-r, kind="stable")[: int(num_add)]
    return x[order]
