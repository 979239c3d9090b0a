"""Constructive solid geometry: Union (``a | b``), Difference (``a - b``), Intersection (``a & b``).

With ``d_a``, ``d_b`` the parts' signed distances, the combined signed distance is
``min(d_a, d_b)`` (union), ``max(d_a, d_b)`` (intersection) or ``max(d_a, -d_b)`` (difference).
Its sign and zero set are exact, so ``inside`` is the set logic on the closed parts and
``on_boundary`` means: on a part's boundary and not strictly inside the other part (union), inside
the other part (intersection), or, for a difference, on ``a``'s boundary and not strictly inside
``b`` or on ``b``'s boundary and inside ``a``. Away from the boundary it is a bound, not the
exact distance.

Interior points come from rejection in the bounding box. Boundary points come from rejection
too: each candidate picks a part with probability proportional to that part's boundary measure,
is drawn on that part's boundary and is kept if it lies on the visible boundary. Both draw more
candidates for a bounded number of rounds and raise a RuntimeError if they cannot fill ``n``.
Where two parts share a stretch of boundary, it is counted once from each part.
"""

from __future__ import annotations

import numpy as np

from ._base import Geometry, unit_rows
from ._time import GeometryXTime

__all__ = ["Union", "Difference", "Intersection"]


class _CSG(Geometry):
    _SYMBOL = "?"

    def __init__(self, a: Geometry, b: Geometry) -> None:
        name = type(self).__name__
        for g in (a, b):
            if not isinstance(g, Geometry):
                raise TypeError(f"{name}: expected two Geometry objects, got {type(g).__name__}")
        if isinstance(a, GeometryXTime) or isinstance(b, GeometryXTime):
            raise TypeError(f"{name}: combine the spatial geometries first, then multiply by time")
        if a.dim != b.dim:
            raise ValueError(f"{name}: parts of different dimensions ({a.dim} and {b.dim})")
        self.a, self.b = a, b
        super().__init__(a.dim, self._make_bbox(a.bbox, b.bbox))

    def __repr__(self) -> str:
        return f"({self.a!r} {self._SYMBOL} {self.b!r})"

    def _make_bbox(self, ba, bb):
        raise NotImplementedError

    def _combine(self, da: np.ndarray, db: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _visible(self, x: np.ndarray, from_a: bool, atol: float) -> np.ndarray:
        """Which points of part a's (``from_a``) or b's boundary lie on this set's boundary."""
        raise NotImplementedError

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        return self._combine(self.a._sdf(x), self.b._sdf(x))

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        sign_b = -1.0 if isinstance(self, Difference) else 1.0
        na, nb = self.a._normals(x, atol), self.b._normals(x, atol)
        va = self.a._on_boundary(x, atol) & self._visible(x, True, atol)
        vb = self.b._on_boundary(x, atol) & self._visible(x, False, atol)
        return unit_rows(na * va[:, None] + sign_b * nb * vb[:, None])

    def _boundary_proposal_measure(self) -> float:
        return self.a._boundary_proposal_measure() + self.b._boundary_proposal_measure()

    def _boundary_unit_dim(self) -> int:
        return max(self.a._boundary_unit_dim(), self.b._boundary_unit_dim())

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ma, mb = self.a._boundary_proposal_measure(), self.b._boundary_proposal_measure()
        w = ma / (ma + mb)
        from_a = u[:, 0] < w
        # The part-selecting coordinate, rescaled within its slot, is reused as the first one.
        first = np.where(from_a, u[:, 0] / w, (u[:, 0] - w) / max(1.0 - w, 1e-300))
        v = u.copy()
        v[:, 0] = np.clip(first, 0.0, np.nextafter(1.0, 0.0))
        x = np.empty((len(u), self.dim))
        keep = np.zeros(len(u), dtype=bool)
        for part, rows, is_a in ((self.a, from_a, True), (self.b, ~from_a, False)):
            if rows.any():
                xp, kp = part._boundary_from_unit(v[rows, : part._boundary_unit_dim()])
                x[rows] = xp
                keep[rows] = kp & self._visible(xp, is_a, self.atol)
        return x, keep


class Union(_CSG):
    """The union ``a | b`` of two geometries of the same dimension (see the module docstring).

    Args:
        a: a Geometry.
        b: a Geometry of the same dimension.

    Raises:
        TypeError: a part that is not a Geometry.
        ValueError: parts of different dimensions.

    Example:
        >>> from fieldgrad.solvers.pinn.geometry import Disk
        >>> u = Disk([0.0, 0.0], 1.0) | Disk([1.0, 0.0], 1.0)
        >>> u.inside([[1.8, 0.0], [0.5, 0.0]]).tolist(), u.on_boundary([[1.0, 0.0]]).tolist()
        ([True, True], [False])
    """

    _SYMBOL = "|"

    def _make_bbox(self, ba, bb):
        return np.minimum(ba[0], bb[0]), np.maximum(ba[1], bb[1])

    def _combine(self, da, db):
        return np.minimum(da, db)

    def _visible(self, x, from_a, atol):
        other = self.b if from_a else self.a
        return other._sdf(x) >= -atol


class Intersection(_CSG):
    """The intersection ``a & b`` of two geometries of the same dimension.

    Args:
        a: a Geometry.
        b: a Geometry of the same dimension.

    Raises:
        TypeError: a part that is not a Geometry.
        ValueError: parts of different dimensions or disjoint bounding boxes (an empty set).

    Example:
        >>> from fieldgrad.solvers.pinn.geometry import Disk, Rectangle
        >>> lens = Disk([0.0, 0.0], 1.0) & Rectangle([0.0, -2.0], [2.0, 2.0])
        >>> lens.inside([[0.5, 0.0], [-0.5, 0.0]]).tolist()
        [True, False]
        >>> lens.boundary_normal([[0.0, 0.5]]).tolist()
        [[-1.0, 0.0]]
    """

    _SYMBOL = "&"

    def _make_bbox(self, ba, bb):
        lo, hi = np.maximum(ba[0], bb[0]), np.minimum(ba[1], bb[1])
        if not (hi > lo).all():
            raise ValueError(
                f"{type(self).__name__}: the parts' bounding boxes do not overlap "
                f"(the intersection is empty or has no volume)"
            )
        return lo, hi

    def _combine(self, da, db):
        return np.maximum(da, db)

    def _visible(self, x, from_a, atol):
        other = self.b if from_a else self.a
        return other._sdf(x) <= atol


class Difference(_CSG):
    """The difference ``a - b``: the closed set of points of ``a`` not strictly inside ``b``.

    On ``b``'s part of the boundary the outward normal is ``-n_b`` (into ``b``).

    Args:
        a: a Geometry.
        b: a Geometry of the same dimension.

    Raises:
        TypeError: a part that is not a Geometry.
        ValueError: parts of different dimensions.

    Example:
        >>> from fieldgrad.solvers.pinn.geometry import Disk, Rectangle
        >>> holed = Rectangle([-1.0, -1.0], [1.0, 1.0]) - Disk([0.0, 0.0], 0.5)
        >>> holed.inside([[0.0, 0.0], [0.9, 0.9]]).tolist()
        [False, True]
        >>> holed.boundary_normal([[0.5, 0.0]]).tolist()
        [[-1.0, 0.0]]
    """

    _SYMBOL = "-"

    def _make_bbox(self, ba, bb):
        return ba

    def _combine(self, da, db):
        return np.maximum(da, -db)

    def _visible(self, x, from_a, atol):
        if from_a:
            return self.b._sdf(x) >= -atol
        return self.a._sdf(x) <= atol
