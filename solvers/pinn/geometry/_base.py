"""Geometry: the one small interface every PINN domain implements.

A geometry is a closed set in ``R^d`` described on the host with numpy (float64): it answers
``inside`` / ``on_boundary`` / ``boundary_normal`` / ``signed_distance`` for point sets of shape
``(n, d)`` and draws seeded point sets with ``sample_interior`` / ``sample_boundary``.

Conventions shared by every shape:

- Points are numpy arrays (or anything with ``.numpy()``) of shape ``(n, d)``.
- ``inside`` is the closed set: a point within ``atol`` of the boundary counts as inside.
- ``atol`` defaults to ``1e-6`` times the diameter of the bounding box (``geom.atol``).
- ``boundary_normal`` gives unit outward normals on the boundary; at a corner (a point on two
  faces or edges) the normalised sum of the faces' normals; **zeros** for points that are not on
  the boundary, so mixed batches need no masking.
- ``signed_distance`` is negative inside, zero on the boundary, positive outside; exact for the
  simple shapes, a bound with the exact sign and zero set for CSG (useful for hard constraints).
- Sampling maps seeded points of the unit cube (:func:`sample`) onto the interior or boundary.
  Shapes with a measure-preserving map use it directly; others (polygons, CSG) keep the mapped
  points that fall in the set, drawing more candidates for a bounded number of rounds.
"""

from __future__ import annotations

import abc
import math

import numpy as np

from ._samplers import check_count, check_method, check_seed, sample

__all__ = ["Geometry"]

_MAX_ROUNDS = 8
_MAX_CANDIDATES = 2**22


def unit_rows(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` scaled to unit length; rows of (near) zero length become zeros."""
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    ok = norm > 1e-12
    return np.where(ok, v / np.where(ok, norm, 1.0), 0.0) + 0.0  # + 0.0: no negative zeros


class Geometry(abc.ABC):
    """A closed domain in ``R^dim`` (see the module docstring for the conventions).

    Subclasses implement ``_sdf`` (signed distance), ``_normals`` (outward normals, zeros off the
    boundary) and ``_boundary_from_unit`` (unit-cube points to boundary points); they may
    override ``_interior_from_unit`` with an exact map (the default is rejection in the bounding
    box).

    Attributes:
        dim: the dimension ``d`` of the points.
        bbox: ``(lo, hi)``, two float64 arrays of shape ``(d,)``.
        atol: the default tolerance of ``inside`` and ``on_boundary``.

    Example:
        >>> from fieldgrad.solvers.pinn.geometry import Rectangle
        >>> geom = Rectangle([0.0, 0.0], [2.0, 1.0])
        >>> x = geom.sample_interior(16, "halton", seed=0)
        >>> bool(geom.inside(x).all()), geom.boundary_normal([[2.0, 0.5]]).tolist()
        (True, [[1.0, 0.0]])
    """

    def __init__(self, dim: int, bbox) -> None:
        lo, hi = (np.array(b, dtype=np.float64).reshape(dim) for b in bbox)
        lo.flags.writeable = False
        hi.flags.writeable = False
        self.dim = int(dim)
        self.bbox = (lo, hi)
        self.atol = 1e-6 * float(np.linalg.norm(hi - lo))

    # ----- hooks for subclasses
    @abc.abstractmethod
    def _sdf(self, x: np.ndarray) -> np.ndarray:
        """Signed distance of validated points ``x`` (n, d) -> (n,)."""

    @abc.abstractmethod
    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        """Unit outward normals (n, d) of validated points; zeros off the boundary."""

    @abc.abstractmethod
    def _boundary_unit_dim(self) -> int:
        """How many unit-cube coordinates ``_boundary_from_unit`` consumes."""

    @abc.abstractmethod
    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit-cube points (m, k) -> (boundary points (m, d), bool mask of the ones to keep)."""

    def _inside(self, x: np.ndarray, atol: float) -> np.ndarray:
        return self._sdf(x) <= atol

    def _on_boundary(self, x: np.ndarray, atol: float) -> np.ndarray:
        return np.abs(self._sdf(x)) <= atol

    def _interior_unit_dim(self) -> int:
        return self.dim

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.bbox
        x = lo + (hi - lo) * u
        return x, self._inside(x, self.atol)

    def _boundary_proposal_measure(self) -> float:
        """Measure of the set ``_boundary_from_unit`` draws from (before its mask)."""
        return self.boundary_measure

    # ----- helpers
    def _points(self, x) -> np.ndarray:
        if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
            x = x.numpy()
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"{type(self).__name__}: expected points of shape (n, {self.dim}), "
                f"got shape {x.shape}"
            )
        return x

    def _tol(self, atol) -> float:
        if atol is None:
            return self.atol
        atol = float(atol)
        if not atol >= 0:
            raise ValueError(f"atol must be a non-negative number, got {atol}")
        return atol

    def _draw(self, n, method, seed, k: int, fmap, where: str) -> np.ndarray:
        n, method, seed = check_count(n), check_method(method), check_seed(seed)
        m, got, cap = n, 0, max(_MAX_CANDIDATES, 16 * n)
        for _ in range(_MAX_ROUNDS):
            x, keep = fmap(sample(m, k, method, seed))
            x = x[keep]
            got = len(x)
            if got >= n:
                if method == "hammersley":  # an ordered set: thin it evenly, not by prefix
                    return x[(np.arange(n) * got) // n]
                return x[:n]
            if m >= cap:
                break
            rate = got / m
            m = min(cap, 64 * m if rate == 0 else max(2 * m, math.ceil(1.25 * n / rate) + 16))
        raise RuntimeError(
            f"{type(self).__name__}: could only draw {got} of {n} {where} points from {m} "
            f"candidates (acceptance rate {got / m:.3g}); the {where} set is empty or a tiny "
            "part of what is sampled"
        )

    # ----- public interface
    def signed_distance(self, x) -> np.ndarray:
        """Signed distance to the boundary: negative inside, zero on it, positive outside.

        Args:
            x: points of shape ``(n, dim)``.

        Returns:
            float64 array of shape ``(n,)``.
        """
        return self._sdf(self._points(x))

    def inside(self, x, atol: float | None = None) -> np.ndarray:
        """Whether each point lies in the closed domain (boundary within ``atol`` included).

        Args:
            x: points of shape ``(n, dim)``.
            atol: tolerance; defaults to ``self.atol``.

        Returns:
            bool array of shape ``(n,)``.
        """
        return self._inside(self._points(x), self._tol(atol))

    def on_boundary(self, x, atol: float | None = None) -> np.ndarray:
        """Whether each point lies within ``atol`` of the boundary.

        Args:
            x: points of shape ``(n, dim)``.
            atol: tolerance; defaults to ``self.atol``.

        Returns:
            bool array of shape ``(n,)``.
        """
        return self._on_boundary(self._points(x), self._tol(atol))

    def boundary_normal(self, x, atol: float | None = None) -> np.ndarray:
        """Unit outward normals at boundary points; zeros at points not on the boundary.

        At a corner the normal is the normalised sum of the adjacent faces' normals.

        Args:
            x: points of shape ``(n, dim)``.
            atol: tolerance deciding which points (and faces) a point is on.

        Returns:
            float64 array of shape ``(n, dim)``.
        """
        return self._normals(self._points(x), self._tol(atol))

    def sample_interior(self, n: int, method: str = "pseudo", seed: int = 0) -> np.ndarray:
        """``n`` seeded points of the (closed) domain, uniform in volume.

        Args:
            n: number of points (positive).
            method: a name from :data:`SAMPLERS` (see :func:`sample`).
            seed: non-negative integer; the same seed gives the same points.

        Returns:
            float64 array of shape ``(n, dim)``.

        Raises:
            ValueError: bad ``n`` or unknown ``method``.
            RuntimeError: rejection could not find ``n`` points (an empty or tiny domain).
        """
        k = self._interior_unit_dim()
        return self._draw(n, method, seed, k, self._interior_from_unit, "interior")

    def sample_boundary(self, n: int, method: str = "pseudo", seed: int = 0) -> np.ndarray:
        """``n`` seeded points on the boundary, uniform in its surface measure.

        Args:
            n: number of points (positive).
            method: a name from :data:`SAMPLERS` (see :func:`sample`).
            seed: non-negative integer; the same seed gives the same points.

        Returns:
            float64 array of shape ``(n, dim)``.

        Raises:
            ValueError: bad ``n`` or unknown ``method``.
            RuntimeError: rejection could not find ``n`` points (an empty visible boundary).
        """
        k = self._boundary_unit_dim()
        return self._draw(n, method, seed, k, self._boundary_from_unit, "boundary")

    def uniform_points(self, n: int, boundary: bool = True) -> np.ndarray:
        """About ``n`` points of an equispaced grid over the domain (deterministic).

        The grid covers the bounding box with spacing ``(volume / n) ** (1 / dim)`` and keeps the
        points inside; with ``boundary=True`` its nodes include the bounding box's faces, with
        ``boundary=False`` it is cell-centred and points on the boundary are dropped.

        Args:
            n: the approximate number of points (positive).
            boundary: whether boundary nodes may be included.

        Returns:
            float64 array of shape ``(m, dim)`` with ``m`` close to ``n``.
        """
        n = check_count(n)
        lo, hi = self.bbox
        side = hi - lo
        try:
            vol = self.volume
        except NotImplementedError:
            vol = self.estimate_volume()
        h = (vol / n) ** (1.0 / self.dim)
        counts = np.maximum(1, np.round(side / h)).astype(int)
        axes = []
        for a, s, c in zip(lo, side, counts):
            if boundary and c > 1:
                axes.append(np.linspace(a, a + s, c))
            else:
                axes.append(a + (np.arange(c) + 0.5) * s / c)
        x = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
        keep = self._inside(x, self.atol)
        if not boundary:
            keep &= ~self._on_boundary(x, self.atol)
        return x[keep]

    def estimate_volume(self, n: int = 2**16, method: str = "sobol", seed: int = 0) -> float:
        """Monte Carlo estimate of the volume: bounding-box volume times the fraction inside."""
        lo, hi = self.bbox
        x = lo + (hi - lo) * sample(n, self.dim, method, seed)
        return float(np.prod(hi - lo) * np.mean(self._inside(x, self.atol)))

    @property
    def volume(self) -> float:
        """Closed-form volume (length, area); NotImplementedError where there is none."""
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form volume; use estimate_volume()"
        )

    @property
    def boundary_measure(self) -> float:
        """Closed-form boundary measure (point count, perimeter, surface area)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form boundary measure")

    # ----- constructive solid geometry and the space-time product
    def __or__(self, other: Geometry) -> Geometry:
        from ._csg import Union

        return Union(self, other) if isinstance(other, Geometry) else NotImplemented

    def __and__(self, other: Geometry) -> Geometry:
        from ._csg import Intersection

        return Intersection(self, other) if isinstance(other, Geometry) else NotImplemented

    def __sub__(self, other: Geometry) -> Geometry:
        from ._csg import Difference

        return Difference(self, other) if isinstance(other, Geometry) else NotImplemented

    def __mul__(self, other) -> Geometry:
        from ._time import GeometryXTime, TimeDomain

        return GeometryXTime(self, other) if isinstance(other, TimeDomain) else NotImplemented
