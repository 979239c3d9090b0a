"""Box: the axis-aligned box ``[lo_1, hi_1] x ... x [lo_d, hi_d]`` in any dimension."""

from __future__ import annotations

import numpy as np

from ._base import Geometry, unit_rows

__all__ = ["Box", "Hypercube", "Rectangle"]


def check_corners(name: str, lo, hi, dim: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``lo`` and ``hi`` as finite float64 vectors with ``lo < hi``, or a clear ValueError."""
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if lo.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
        raise ValueError(
            f"{name}: expected two corners of the same length d >= 1, got shapes "
            f"{lo.shape} and {hi.shape}"
        )
    if dim is not None and lo.size != dim:
        raise ValueError(f"{name}: expected corners of length {dim}, got {lo.size}")
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(f"{name}: corners must be finite, got {lo} and {hi}")
    if not (hi > lo).all():
        raise ValueError(f"{name}: expected lo < hi in every coordinate, got lo={lo}, hi={hi}")
    return lo, hi


class Box(Geometry):
    """The closed axis-aligned box with opposite corners ``lo`` and ``hi`` (any dimension).

    Interior samples map the unit cube affinely. Boundary samples pick a face with probability
    proportional to its area, then a uniform point on it. Normals are the faces' ``+-e_i``; at
    edges and corners the normalised sum of the faces' normals.

    Args:
        lo: the lower corner, a sequence of ``d`` numbers.
        hi: the upper corner, ``hi > lo`` in every coordinate.

    Raises:
        ValueError: corners of different lengths, not finite, or ``hi <= lo`` somewhere.

    Example:
        >>> box = Box([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
        >>> box.volume, box.boundary_measure
        (6.0, 22.0)
        >>> box.boundary_normal([[1.0, 1.0, 1.0], [0.5, 1.0, 1.0]]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, lo, hi) -> None:
        self.lo, self.hi = check_corners(type(self).__name__, lo, hi, getattr(self, "_DIM", None))
        super().__init__(self.lo.size, (self.lo, self.hi))
        side = self.hi - self.lo
        d = self.lo.size
        self._face_area = np.array([np.prod(np.delete(side, i)) for i in range(d)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lo.tolist()}, {self.hi.tolist()})"

    @property
    def volume(self) -> float:
        """The product of the side lengths."""
        return float(np.prod(self.hi - self.lo))

    @property
    def boundary_measure(self) -> float:
        """The total area of the ``2 d`` faces (2 end points when ``d = 1``)."""
        return float(2.0 * self._face_area.sum())

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        q = np.abs(x - 0.5 * (self.lo + self.hi)) - 0.5 * (self.hi - self.lo)
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
        return outside + np.minimum(q.max(axis=1), 0.0)

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        n = (np.abs(x - self.hi) <= atol).astype(np.float64)
        n -= np.abs(x - self.lo) <= atol
        n[np.abs(self._sdf(x)) > atol] = 0.0
        return unit_rows(n)

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.lo + (self.hi - self.lo) * u, np.ones(len(u), dtype=bool)

    def _boundary_unit_dim(self) -> int:
        return max(1, self.dim - 1)

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = self.dim
        w = np.repeat(self._face_area, 2) / (2.0 * self._face_area.sum())
        edges = np.concatenate([[0.0], np.cumsum(w)])
        face = np.minimum(np.searchsorted(edges, u[:, 0], side="right") - 1, 2 * d - 1)
        # The face-selecting coordinate, rescaled within its slot, is the first in-face one.
        v = np.clip((u[:, 0] - edges[face]) / w[face], 0.0, np.nextafter(1.0, 0.0))
        coords = np.column_stack([v, u[:, 1 : d - 1]])[:, : d - 1]
        axis, upper = face // 2, face % 2
        t = np.empty((len(u), d))
        for a in range(d):
            rows = axis == a
            t[rows, a] = upper[rows]
            if d > 1:
                t[np.ix_(rows, [i for i in range(d) if i != a])] = coords[rows]
        return self.lo + (self.hi - self.lo) * t, np.ones(len(u), dtype=bool)


Hypercube = Box


class Rectangle(Box):
    """The closed axis-aligned rectangle with corners ``xmin`` and ``xmax`` (a 2-D :class:`Box`).

    Args:
        xmin: ``(x0, y0)``, the lower-left corner.
        xmax: ``(x1, y1)``, the upper-right corner, ``x1 > x0`` and ``y1 > y0``.

    Raises:
        ValueError: corners that are not 2-D, not finite, or not ordered.

    Example:
        >>> rect = Rectangle([-1.0, -1.0], [1.0, 1.0])
        >>> rect.volume, rect.boundary_measure
        (4.0, 8.0)
        >>> rect.boundary_normal([[1.0, 1.0]]).round(4).tolist()
        [[0.7071, 0.7071]]
    """

    _DIM = 2

    def __init__(self, xmin, xmax) -> None:
        super().__init__(xmin, xmax)
