"""Balls: Hypersphere (the closed n-D ball), Disk (2-D) and Sphere (3-D)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ._base import Geometry, unit_rows
from ._interval import check_finite

__all__ = ["Hypersphere", "Disk", "Sphere"]


def check_center(name: str, center, dim: int | None) -> np.ndarray:
    """``center`` as a finite float64 vector (of length ``dim`` if given, else >= 2)."""
    c = np.array(center, dtype=np.float64)
    if c.ndim != 1 or (dim is not None and c.size != dim) or c.size < 2:
        want = f"length {dim}" if dim is not None else "length d >= 2 (use Interval in 1-D)"
        raise ValueError(f"{name}: expected a center of {want}, got shape {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError(f"{name}: center must be finite, got {c}")
    return c


def check_positive(value, what: str) -> float:
    """``value`` as a positive finite float, or a ValueError naming ``what``."""
    value = check_finite(value, what)
    if not value > 0:
        raise ValueError(f"{what} must be positive, got {value}")
    return value


def sphere_unit_dim(d: int) -> int:
    """Unit-cube coordinates used by :func:`sphere_directions` in ``d`` dimensions."""
    return 1 if d == 2 else 2 if d == 3 else d


def sphere_directions(u: np.ndarray, d: int) -> np.ndarray:
    """Map unit-cube points onto the unit sphere ``S^(d-1)``, uniformly in surface measure.

    2-D: the angle ``2 pi u``. 3-D: Archimedes' map (``z = 1 - 2 u_0``, azimuth ``2 pi u_1``).
    Otherwise ``d`` normal variates by inverse transform (``ndtri``), normalised.
    """
    if d == 2:
        a = 2.0 * np.pi * u[:, 0]
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    if d == 3:
        z = 1.0 - 2.0 * u[:, 0]
        a = 2.0 * np.pi * u[:, 1]
        s = np.sqrt(np.maximum(0.0, 1.0 - z * z))
        return np.stack([s * np.cos(a), s * np.sin(a), z], axis=1)
    g = ndtri(np.clip(u[:, :d], 1e-16, 1.0 - 1e-16))
    g[np.linalg.norm(g, axis=1) == 0, 0] = 1.0
    return unit_rows(g)


class Hypersphere(Geometry):
    """The closed ball ``|x - center| <= radius`` in ``d >= 2`` dimensions.

    Interior samples take a direction uniform on the sphere and the radius ``r u^(1/d)`` (in
    2-D the polar map ``(r sqrt(u_0), 2 pi u_1)``); boundary samples take the direction only.
    Directions come from angles in 2-D, Archimedes' map in 3-D and normalised Gaussian vectors
    (by inverse transform, so quasi-Monte Carlo methods apply) in higher dimensions. The outward
    normal is ``(x - center) / radius``.

    Args:
        center: the center, ``d`` numbers.
        radius: the radius (positive).

    Raises:
        ValueError: a center of length < 2, a radius that is not positive, non-finite values.

    Example:
        >>> ball = Hypersphere([0.0, 0.0, 0.0, 0.0], 1.0)
        >>> round(ball.volume, 6)  # pi^2 / 2
        4.934802
        >>> x = ball.sample_boundary(8, "sobol")
        >>> bool(np.allclose(np.linalg.norm(x, axis=1), 1.0))
        True
    """

    _DIM: int | None = None

    def __init__(self, center, radius: float) -> None:
        name = type(self).__name__
        self.center = check_center(name, center, self._DIM)
        self.radius = check_positive(radius, f"{name}: radius")
        self.center.flags.writeable = False
        super().__init__(self.center.size, (self.center - self.radius, self.center + self.radius))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.center.tolist()}, {self.radius})"

    @property
    def volume(self) -> float:
        """``pi^(d/2) r^d / Gamma(d/2 + 1)``."""
        d = self.dim
        return math.pi ** (d / 2) * self.radius**d / math.gamma(d / 2 + 1)

    @property
    def boundary_measure(self) -> float:
        """``2 pi^(d/2) r^(d-1) / Gamma(d/2)``."""
        d = self.dim
        return 2.0 * math.pi ** (d / 2) * self.radius ** (d - 1) / math.gamma(d / 2)

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        return np.linalg.norm(x - self.center, axis=1) - self.radius

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        n = unit_rows(x - self.center)
        n[np.abs(self._sdf(x)) > atol] = 0.0
        return n

    def _interior_unit_dim(self) -> int:
        return 1 + sphere_unit_dim(self.dim)

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rho = self.radius * u[:, :1] ** (1.0 / self.dim)
        x = self.center + rho * sphere_directions(u[:, 1:], self.dim)
        return x, np.ones(len(u), dtype=bool)

    def _boundary_unit_dim(self) -> int:
        return sphere_unit_dim(self.dim)

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.center + self.radius * sphere_directions(u, self.dim)
        return x, np.ones(len(u), dtype=bool)


class Disk(Hypersphere):
    """The closed disk ``|x - center| <= radius`` in the plane (a 2-D :class:`Hypersphere`).

    Args:
        center: ``(x, y)``.
        radius: the radius (positive).

    Raises:
        ValueError: a center that is not 2-D or a radius that is not positive.

    Example:
        >>> disk = Disk([0.0, 0.0], 2.0)
        >>> round(disk.volume, 4), round(disk.boundary_measure, 4)
        (12.5664, 12.5664)
        >>> disk.boundary_normal([[0.0, 2.0], [0.0, 1.0]]).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """

    _DIM = 2


class Sphere(Hypersphere):
    """The closed ball ``|x - center| <= radius`` in space (a 3-D :class:`Hypersphere`).

    Args:
        center: ``(x, y, z)``.
        radius: the radius (positive).

    Raises:
        ValueError: a center that is not 3-D or a radius that is not positive.

    Example:
        >>> ball = Sphere([0.0, 0.0, 0.0], 1.0)
        >>> round(ball.volume, 6), round(ball.boundary_measure, 6)  # 4/3 pi, 4 pi
        (4.18879, 12.566371)
    """

    _DIM = 3
