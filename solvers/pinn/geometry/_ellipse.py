"""Ellipse: a closed, possibly rotated ellipse in the plane."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ellipe

from ._ball import check_center, check_positive
from ._base import Geometry, unit_rows
from ._interval import check_finite

__all__ = ["Ellipse"]

_TABLE = 4097
_BISECTIONS = 64


def _first_quadrant_distance(y0: np.ndarray, y1: np.ndarray, e1: float) -> np.ndarray:
    """Distance from points ``(y0, y1) >= 0`` to the ellipse ``x0^2 + (x1 / e1)^2 = 1``, e1 <= 1.

    The closest point is ``x_i = e_i^2 y_i / (t + e_i^2)`` where ``t`` is the root of
    ``F(t) = sum_i (e_i y_i / (t + e_i^2))^2 - 1`` (Lagrange condition), with ``e0 = 1``. ``F``
    decreases on ``t > -e1^2`` and changes sign on ``[-e1^2 + e1 y1, -e1^2 + |(y0, e1 y1)|]``,
    so bisection finds the root; points on an axis have closed forms.
    """
    e0, ee0, ee1 = 1.0, 1.0, e1 * e1
    dist = np.empty_like(y0)
    gen = (y0 > 0) & (y1 > 0)
    p0, p1 = y0[gen], y1[gen]
    lo = -ee1 + e1 * p1
    hi = -ee1 + np.hypot(e0 * p0, e1 * p1)
    for _ in range(_BISECTIONS):
        t = 0.5 * (lo + hi)
        f = (e0 * p0 / (t + ee0)) ** 2 + (e1 * p1 / (t + ee1)) ** 2 - 1.0
        lo, hi = np.where(f > 0, t, lo), np.where(f > 0, hi, t)
    t = 0.5 * (lo + hi)
    x0, x1 = ee0 * p0 / (t + ee0), ee1 * p1 / (t + ee1)
    dist[gen] = np.hypot(x0 - p0, x1 - p1)
    minor = (y0 <= 0) & (y1 > 0)  # on the minor axis: the nearest point is (0, e1)
    dist[minor] = np.abs(y1[minor] - e1)
    major = y1 <= 0  # on the major axis: an interior point near the center, or the vertex (1, 0)
    q0 = y0[major]
    inner = e0 * q0 < ee0 - ee1
    c0 = np.where(inner, ee0 * q0 / np.where(inner, ee0 - ee1, 1.0), e0)
    c1 = e1 * np.sqrt(np.maximum(0.0, 1.0 - (c0 / e0) ** 2))
    dist[major] = np.hypot(c0 - q0, c1)
    return dist


class Ellipse(Geometry):
    """The closed ellipse ``(x'/a)^2 + (y'/b)^2 <= 1`` in coordinates ``x'`` rotated by ``angle``.

    Interior samples map the disk's polar coordinates linearly (uniform in area). Boundary
    samples are uniform in arc length through the inverse of a tabulated arc-length function.
    ``signed_distance`` is exact (a bisection for the closest point). The outward normal is the
    normalised gradient ``(x'/a^2, y'/b^2)`` rotated back.

    Args:
        center: ``(x, y)``.
        semimajor: the semi-axis ``a`` along the rotated x-axis (positive).
        semiminor: the semi-axis ``b <= a`` along the rotated y-axis (positive).
        angle: rotation of the major axis from the x-axis, in radians.

    Raises:
        ValueError: non-positive semi-axes, ``semiminor > semimajor``, non-finite values.

    Example:
        >>> ell = Ellipse([0.0, 0.0], 2.0, 1.0)
        >>> round(ell.volume, 6), round(ell.boundary_measure, 6)  # 2 pi, 4 a E(3/4)
        (6.283185, 9.688448)
        >>> ell.signed_distance([[0.0, 0.0], [3.0, 0.0]]).tolist()
        [-1.0, 1.0]
    """

    def __init__(self, center, semimajor: float, semiminor: float, angle: float = 0.0) -> None:
        name = type(self).__name__
        self.center = check_center(name, center, 2)
        self.center.flags.writeable = False
        self.semimajor = check_positive(semimajor, f"{name}: semimajor")
        self.semiminor = check_positive(semiminor, f"{name}: semiminor")
        self.angle = check_finite(angle, f"{name}: angle")
        a, b = self.semimajor, self.semiminor
        if b > a:
            raise ValueError(f"{name}: expected semiminor <= semimajor, got {b} > {a}")
        c, s = math.cos(self.angle), math.sin(self.angle)
        self._rot = np.array([[c, -s], [s, c]])  # local -> global
        half = np.array([math.hypot(a * c, b * s), math.hypot(a * s, b * c)])
        theta = np.linspace(0.0, 2.0 * np.pi, _TABLE)
        speed = np.hypot(a * np.sin(theta), b * np.cos(theta))
        arc = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(theta))])
        self._theta, self._arc = theta, arc / arc[-1]
        super().__init__(2, (self.center - half, self.center + half))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.center.tolist()}, {self.semimajor}, "
            f"{self.semiminor}, angle={self.angle})"
        )

    @property
    def volume(self) -> float:
        """The area ``pi a b``."""
        return math.pi * self.semimajor * self.semiminor

    @property
    def boundary_measure(self) -> float:
        """The perimeter ``4 a E(1 - b^2 / a^2)`` (complete elliptic integral of the 2nd kind)."""
        a, b = self.semimajor, self.semiminor
        return float(4.0 * a * ellipe(1.0 - (b / a) ** 2))

    def _local(self, x: np.ndarray) -> np.ndarray:
        return (x - self.center) @ self._rot

    def _global(self, p: np.ndarray) -> np.ndarray:
        return self.center + p @ self._rot.T

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        a, b = self.semimajor, self.semiminor
        p = np.abs(self._local(x)) / a
        dist = a * _first_quadrant_distance(p[:, 0], p[:, 1], b / a)
        inside = p[:, 0] ** 2 + (p[:, 1] * a / b) ** 2 <= 1.0
        return np.where(inside, -dist, dist)

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        p = self._local(x)
        g = unit_rows(p / np.array([self.semimajor, self.semiminor]) ** 2) @ self._rot.T
        g[np.abs(self._sdf(x)) > atol] = 0.0
        return g

    def _interior_unit_dim(self) -> int:
        return 2

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rho, phi = np.sqrt(u[:, :1]), 2.0 * np.pi * u[:, 1:2]
        p = rho * np.column_stack([self.semimajor * np.cos(phi), self.semiminor * np.sin(phi)])
        return self._global(p), np.ones(len(u), dtype=bool)

    def _boundary_unit_dim(self) -> int:
        return 1

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        phi = np.interp(u[:, 0], self._arc, self._theta)
        p = np.column_stack([self.semimajor * np.cos(phi), self.semiminor * np.sin(phi)])
        return self._global(p), np.ones(len(u), dtype=bool)
