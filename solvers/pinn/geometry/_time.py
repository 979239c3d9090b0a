"""Time: TimeDomain ``[t0, t1]`` and the space-time cylinder GeometryXTime (``geom * time``)."""

from __future__ import annotations

import numpy as np

from ._base import Geometry
from ._interval import Interval
from ._samplers import check_count

__all__ = ["TimeDomain", "GeometryXTime"]


class TimeDomain(Interval):
    """The time interval ``[t0, t1]``, an :class:`Interval` whose points are times ``(n, 1)``.

    ``geometry * TimeDomain(t0, t1)`` builds the space-time domain :class:`GeometryXTime`.

    Args:
        t0: initial time.
        t1: final time, ``t1 > t0``.

    Raises:
        ValueError: ``t1 <= t0`` or a time that is not finite.

    Example:
        >>> td = TimeDomain(0.0, 2.0)
        >>> td.t0, td.t1, td.volume
        (0.0, 2.0, 2.0)
    """

    def __init__(self, t0: float, t1: float) -> None:
        super().__init__(t0, t1)
        self.t0, self.t1 = self.l, self.r


class GeometryXTime(Geometry):
    """The space-time domain ``geometry x [t0, t1]``; points are ``(x..., t)``, time last.

    Its boundary is the spatial boundary times the time interval (the lateral surface); the
    initial slice ``t = t0`` is separate (:meth:`on_initial`, :meth:`sample_initial`), and the
    final slice is not boundary. Normals have a zero time component. ``signed_distance`` is the
    spatial one (the distance to the lateral boundary, for hard boundary constraints). Interior
    and boundary samples draw space and time jointly from one ``dim``-dimensional point set, so
    quasi-Monte Carlo methods keep their uniformity in space-time.

    Args:
        geometry: the spatial Geometry.
        timedomain: a :class:`TimeDomain`.

    Raises:
        TypeError: arguments of the wrong types (or a geometry that already has time).

    Example:
        >>> from fieldgrad.solvers.pinn.geometry import Interval
        >>> dom = Interval(-1.0, 1.0) * TimeDomain(0.0, 1.0)
        >>> x = dom.sample_boundary(4, "sobol")
        >>> x.shape, sorted(set(np.abs(x[:, 0]).tolist()))
        ((4, 2), [1.0])
        >>> dom.on_initial([[0.3, 0.0], [0.3, 0.5]]).tolist()
        [True, False]
    """

    def __init__(self, geometry: Geometry, timedomain: TimeDomain) -> None:
        name = type(self).__name__
        if not isinstance(geometry, Geometry) or isinstance(geometry, GeometryXTime):
            raise TypeError(f"{name}: expected a spatial Geometry, got {type(geometry).__name__}")
        if not isinstance(timedomain, TimeDomain):
            raise TypeError(f"{name}: expected a TimeDomain, got {type(timedomain).__name__}")
        self.geometry, self.timedomain = geometry, timedomain
        lo, hi = geometry.bbox
        super().__init__(geometry.dim + 1, ([*lo, timedomain.t0], [*hi, timedomain.t1]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.geometry!r}, {self.timedomain!r})"

    @property
    def volume(self) -> float:
        """The spatial volume times the duration."""
        return self.geometry.volume * self.timedomain.volume

    @property
    def boundary_measure(self) -> float:
        """The spatial boundary measure times the duration."""
        return self.geometry.boundary_measure * self.timedomain.volume

    def _split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[:, :-1], x[:, -1:]

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        return self.geometry._sdf(x[:, :-1])

    def _inside(self, x: np.ndarray, atol: float) -> np.ndarray:
        xs, t = self._split(x)
        return self.geometry._inside(xs, atol) & self.timedomain._inside(t, atol)

    def _on_boundary(self, x: np.ndarray, atol: float) -> np.ndarray:
        xs, t = self._split(x)
        return self.geometry._on_boundary(xs, atol) & self.timedomain._inside(t, atol)

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        xs, t = self._split(x)
        n = np.zeros_like(x)
        n[:, :-1] = self.geometry._normals(xs, atol)
        n[~self.timedomain._inside(t, atol)] = 0.0
        return n

    def _boundary_proposal_measure(self) -> float:
        return self.geometry._boundary_proposal_measure() * self.timedomain.volume

    def _with_time(self, u: np.ndarray, k: int, space_map) -> tuple[np.ndarray, np.ndarray]:
        xs, keep = space_map(u[:, :k])
        t = self.timedomain.t0 + (self.timedomain.t1 - self.timedomain.t0) * u[:, k : k + 1]
        return np.concatenate([xs, t], axis=1), keep

    def _interior_unit_dim(self) -> int:
        return self.geometry._interior_unit_dim() + 1

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.geometry._interior_unit_dim()
        return self._with_time(u, k, self.geometry._interior_from_unit)

    def _boundary_unit_dim(self) -> int:
        return self.geometry._boundary_unit_dim() + 1

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.geometry._boundary_unit_dim()
        return self._with_time(u, k, self.geometry._boundary_from_unit)

    def on_initial(self, x, atol: float | None = None) -> np.ndarray:
        """Whether each point lies on the initial slice: ``t = t0`` (within ``atol``), x inside.

        Args:
            x: points of shape ``(n, dim)``, time last.
            atol: tolerance; defaults to ``self.atol``.

        Returns:
            bool array of shape ``(n,)``.
        """
        x, atol = self._points(x), self._tol(atol)
        xs, t = self._split(x)
        return (np.abs(t[:, 0] - self.timedomain.t0) <= atol) & self.geometry._inside(xs, atol)

    def sample_initial(self, n: int, method: str = "pseudo", seed: int = 0) -> np.ndarray:
        """``n`` seeded points of the initial slice: the spatial interior at ``t = t0``.

        Args:
            n: number of points (positive).
            method: a sampling method name (see :func:`sample`).
            seed: non-negative integer; the same seed gives the same points.

        Returns:
            float64 array of shape ``(n, dim)`` whose last column is ``t0``.
        """
        xs = self.geometry.sample_interior(n, method, seed)
        return np.concatenate([xs, np.full((len(xs), 1), self.timedomain.t0)], axis=1)

    def uniform_points(self, n: int, boundary: bool = True) -> np.ndarray:
        """About ``n`` points: a spatial grid (:meth:`Geometry.uniform_points`) at equispaced
        times, with the spacing in time matched to the spacing in space.

        Args:
            n: the approximate number of points (positive).
            boundary: whether boundary nodes (and the end times) may be included.

        Returns:
            float64 array of shape ``(m, dim)``, time last.
        """
        n = check_count(n)
        try:
            vol = self.geometry.volume
        except NotImplementedError:
            vol = self.geometry.estimate_volume()
        duration = self.timedomain.volume
        h = (vol * duration / n) ** (1.0 / self.dim)
        nt = max(1, int(round(duration / h)))
        xs = self.geometry.uniform_points(max(1, int(round(n / nt))), boundary)
        ts = self.timedomain.uniform_points(nt, boundary)[:, 0]
        return np.concatenate([np.tile(xs, (nt, 1)), np.repeat(ts, len(xs))[:, None]], axis=1)
