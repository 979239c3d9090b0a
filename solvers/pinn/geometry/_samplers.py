"""Seeded point sets in the unit cube ``[0, 1)^d``: pseudo-random and quasi-Monte Carlo.

Every geometry draws its points here and maps them onto its interior or boundary, so one
``method`` name and one ``seed`` give the same points on every run. The methods:

- ``"pseudo"`` (alias ``"uniform"``): independent uniform draws from ``numpy.random.Generator``.
  For an equispaced grid use :meth:`Geometry.uniform_points` instead.
- ``"lhs"``: Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`).
- ``"halton"``: scrambled Halton sequence (:class:`scipy.stats.qmc.Halton`).
- ``"sobol"``: scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`). Its balance properties
  hold for powers of two; for any other ``n`` the next power of two is drawn and its first ``n``
  points (a prefix of the same sequence) are returned, so no warning is raised.
- ``"hammersley"``: the first coordinate is ``(i + 1/2) / n`` and the remaining ``d - 1`` are a
  scrambled Halton sequence. The set is built for exactly ``n`` points (it is not a sequence).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.stats import qmc

__all__ = ["SAMPLERS", "sample"]

SAMPLERS = ("pseudo", "uniform", "lhs", "halton", "sobol", "hammersley")


def check_count(n, what: str = "n") -> int:
    """``n`` as a positive int, or a ValueError naming ``what``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be a positive integer, got {n!r}")
    if n <= 0:
        raise ValueError(f"{what} must be a positive integer, got {n}")
    return int(n)


def check_method(method) -> str:
    """The canonical lower-case name of a sampling method, or a ValueError naming the valid ones."""
    name = method.lower() if isinstance(method, str) else method
    if name not in SAMPLERS:
        raise ValueError(
            f"unknown sampling method {method!r}; expected one of {', '.join(SAMPLERS)}"
        )
    return "pseudo" if name == "uniform" else name


def check_seed(seed) -> int:
    """``seed`` as a non-negative int, or a TypeError/ValueError."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return int(seed)


def _engine(cls, d: int, seed: int, **kw):
    try:
        return cls(d, rng=seed, **kw)
    except TypeError:  # scipy < 1.15 names the argument `seed`
        return cls(d, seed=seed, **kw)


def _halton(n: int, d: int, seed: int) -> np.ndarray:
    return _engine(qmc.Halton, d, seed, scramble=True).random(n)


def sample(n: int, d: int, method: str = "pseudo", seed: int = 0) -> np.ndarray:
    """``n`` points in the unit cube ``[0, 1)^d`` drawn by ``method`` (see the module docstring).

    Args:
        n: number of points (positive).
        d: dimension (positive).
        method: one of ``"pseudo"``, ``"uniform"`` (same as ``"pseudo"``), ``"lhs"``,
            ``"halton"``, ``"sobol"``, ``"hammersley"``; case-insensitive.
        seed: non-negative integer; the same seed gives the same points.

    Returns:
        A float64 numpy array of shape ``(n, d)`` with entries in ``[0, 1)``.

    Raises:
        ValueError: ``n`` or ``d`` not positive, or an unknown ``method`` (the message lists the
            valid ones).
        TypeError: ``n``, ``d`` or ``seed`` not an integer.

    Example:
        >>> u = sample(5, 2, "sobol", seed=1)
        >>> u.shape, bool(((u >= 0) & (u < 1)).all())
        ((5, 2), True)
        >>> bool((sample(5, 2, "sobol", seed=1) == u).all())
        True
    """
    n = check_count(n, "n")
    d = check_count(d, "d")
    method = check_method(method)
    seed = check_seed(seed)
    if method == "pseudo":
        u = np.random.default_rng(seed).random((n, d))
    elif method == "lhs":
        u = _engine(qmc.LatinHypercube, d, seed).random(n)
    elif method == "halton":
        u = _halton(n, d, seed)
    elif method == "sobol":
        m = max(0, math.ceil(math.log2(n)))
        u = _engine(qmc.Sobol, d, seed, scramble=True).random_base2(m)[:n]
    else:  # hammersley
        first = (np.arange(n, dtype=np.float64) + 0.5) / n
        rest = _halton(n, d - 1, seed) if d > 1 else np.empty((n, 0))
        u = np.column_stack([first, rest])
    return np.ascontiguousarray(u, dtype=np.float64)
