"""Interval: the segment ``[l, r]`` of the real line."""

from __future__ import annotations

import math

import numpy as np

from ._base import Geometry
from ._samplers import check_count

__all__ = ["Interval"]


def check_finite(value, what: str) -> float:
    """``value`` as a finite float, or a ValueError naming ``what``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a real number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return value


class Interval(Geometry):
    """The closed interval ``[l, r]``; points have shape ``(n, 1)``.

    The boundary is the two end points (boundary measure 2, counting measure); boundary samples
    fall on ``l`` or ``r`` with equal probability. The outward normal is ``-1`` at ``l`` and ``+1``
    at ``r``.

    Args:
        l: left end.
        r: right end, ``r > l``.

    Raises:
        ValueError: ``r <= l`` or an end that is not finite.

    Example:
        >>> geom = Interval(-1.0, 1.0)
        >>> x = geom.sample_interior(4, "sobol")
        >>> x.shape, bool(geom.inside(x).all())
        ((4, 1), True)
        >>> geom.boundary_normal([[-1.0], [0.0], [1.0]]).ravel().tolist()
        [-1.0, 0.0, 1.0]
    """

    def __init__(self, l: float, r: float) -> None:
        l, r = check_finite(l, "Interval: l"), check_finite(r, "Interval: r")
        if not r > l:
            raise ValueError(f"{type(self).__name__}: expected l < r, got l={l}, r={r}")
        self.l, self.r = l, r
        super().__init__(1, ([l], [r]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.l}, {self.r})"

    @property
    def volume(self) -> float:
        """The length ``r - l``."""
        return self.r - self.l

    @property
    def boundary_measure(self) -> float:
        """2: the two end points."""
        return 2.0

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        c, h = 0.5 * (self.l + self.r), 0.5 * (self.r - self.l)
        return np.abs(x[:, 0] - c) - h

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        t = x[:, 0]
        n = np.zeros_like(x)
        n[np.abs(t - self.l) <= atol, 0] = -1.0
        n[np.abs(t - self.r) <= atol, 0] = 1.0
        return n

    def _interior_unit_dim(self) -> int:
        return 1

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.l + (self.r - self.l) * u[:, :1]
        return x, np.ones(len(u), dtype=bool)

    def _boundary_unit_dim(self) -> int:
        return 1

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.where(u[:, :1] < 0.5, self.l, self.r)
        return x, np.ones(len(u), dtype=bool)

    def uniform_points(self, n: int, boundary: bool = True) -> np.ndarray:
        """Exactly ``n`` equispaced points: ``linspace(l, r, n)`` with ``boundary=True``,
        otherwise the ``n`` interior nodes of ``linspace(l, r, n + 2)``."""
        n = check_count(n)
        if boundary:
            t = np.linspace(self.l, self.r, n) if n > 1 else np.array([0.5 * (self.l + self.r)])
        else:
            t = np.linspace(self.l, self.r, n + 2)[1:-1]
        return t[:, None]
