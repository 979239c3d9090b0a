"""Polygon (simple, either orientation) and Triangle in the plane."""

from __future__ import annotations

import numpy as np

from ._base import Geometry, unit_rows

__all__ = ["Polygon", "Triangle"]

_CHUNK = 1 << 15


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _check_simple(name: str, v: np.ndarray, tol: float) -> None:
    """Raise if two edges of the closed polyline ``v`` meet anywhere but at a shared vertex."""
    m = len(v)
    a, e = v, np.roll(v, -1, axis=0) - v
    for i in range(m):
        j = (i + 1) % m  # adjacent edge: degenerate only if it folds back onto edge i
        folded = np.dot(e[i], e[j]) < 0
        if folded and abs(_cross(e[i], e[j])) <= tol * np.linalg.norm(e[i]) * np.linalg.norm(e[j]):
            raise ValueError(f"{name}: edges {i} and {j} fold back onto each other")
        for j in range(i + 2, m):
            if i == 0 and j == m - 1:
                continue
            t = tol * max(np.linalg.norm(e[i]), np.linalg.norm(e[j]))
            if _segment_distance(a[i], e[i], a[j], e[j]) <= t:
                raise ValueError(f"{name}: edges {i} and {j} intersect (not a simple polygon)")


def _segment_distance(a: np.ndarray, e: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Distance between segments ``a + s e`` and ``b + t f`` (s, t in [0, 1])."""
    d1, d2 = _cross(f, a - b), _cross(f, a + e - b)
    d3, d4 = _cross(e, b - a), _cross(e, b + f - a)
    if d1 * d2 < 0 and d3 * d4 < 0:
        return 0.0
    ends = [(a, b, f), (a + e, b, f), (b, a, e), (b + f, a, e)]
    return min(float(_point_segment(p[None], q, g)[0]) for p, q, g in ends)


def _point_segment(x: np.ndarray, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    t = np.clip(((x - a) @ e) / (e @ e), 0.0, 1.0)
    return np.linalg.norm(x - a - t[:, None] * e, axis=1)


class Polygon(Geometry):
    """A simple closed polygon given by its vertices, in either orientation.

    ``inside`` uses ray casting (even-odd crossings) and the distance to the nearest edge.
    Boundary samples are uniform in arc length (each edge gets points in proportion to its
    length); interior samples come from rejection in the bounding box. Each edge's outward normal
    is constant; a vertex gets the normalised sum of its two edges' normals.

    Args:
        vertices: ``(m, 2)`` vertices in order, ``m >= 3``; do not repeat the first at the end.

    Raises:
        ValueError: fewer than 3 vertices, a repeated vertex (zero-length edge), zero area, or
            crossing edges.

    Example:
        >>> L = Polygon([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]])
        >>> L.volume, L.boundary_measure
        (3.0, 8.0)
        >>> L.inside([[0.5, 0.5], [1.5, 1.5]]).tolist()
        [True, False]
        >>> L.boundary_normal([[1.5, 1.0], [1.0, 1.0]]).round(4).tolist()
        [[0.0, 1.0], [0.7071, 0.7071]]
    """

    def __init__(self, vertices) -> None:
        name = type(self).__name__
        v = np.array(vertices, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3:
            raise ValueError(f"{name}: expected vertices of shape (m, 2), m >= 3, got {v.shape}")
        if not np.isfinite(v).all():
            raise ValueError(f"{name}: vertices must be finite")
        lo, hi = v.min(axis=0), v.max(axis=0)
        scale = float(np.linalg.norm(hi - lo))
        e = np.roll(v, -1, axis=0) - v
        length = np.linalg.norm(e, axis=1)
        if scale == 0 or (length <= 1e-12 * scale).any():
            raise ValueError(f"{name}: repeated vertex (an edge of zero length)")
        area = 0.5 * float(_cross(v, np.roll(v, -1, axis=0)).sum())
        if abs(area) <= 1e-12 * scale * scale:
            raise ValueError(f"{name}: degenerate polygon (zero area: collinear vertices)")
        _check_simple(name, v, 1e-12)
        self.vertices = v
        self.vertices.flags.writeable = False
        if area < 0:  # keep counter-clockwise order internally: outward normal = (e_y, -e_x)
            v = v[::-1].copy()
            e = np.roll(v, -1, axis=0) - v
            length = np.linalg.norm(e, axis=1)
        self._a, self._e, self._len = v, e, length
        self._n = np.stack([e[:, 1], -e[:, 0]], axis=1) / length[:, None]
        self._cum = np.concatenate([[0.0], np.cumsum(length)])
        self._area = abs(area)
        super().__init__(2, (lo, hi))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vertices.tolist()})"

    @property
    def volume(self) -> float:
        """The area (shoelace formula)."""
        return self._area

    @property
    def boundary_measure(self) -> float:
        """The perimeter."""
        return float(self._cum[-1])

    def _edge_distances(self, x: np.ndarray) -> np.ndarray:
        """(n, m) distances from each point to each edge."""
        r = x[:, None, :] - self._a[None]
        t = np.clip(np.einsum("nmk,mk->nm", r, self._e) / self._len**2, 0.0, 1.0)
        return np.linalg.norm(r - t[..., None] * self._e[None], axis=2)

    def _sdf(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(len(x))
        a, b = self._a, np.roll(self._a, -1, axis=0)
        for s in range(0, len(x), _CHUNK):
            p = x[s : s + _CHUNK]
            dist = self._edge_distances(p).min(axis=1)
            px, py = p[:, :1], p[:, 1:]
            straddle = (a[:, 1] > py) != (b[:, 1] > py)
            with np.errstate(divide="ignore", invalid="ignore"):
                cx = a[:, 0] + (py - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
            odd = (straddle & (px < cx)).sum(axis=1) % 2 == 1
            out[s : s + _CHUNK] = np.where(odd, -dist, dist)
        return out

    def _normals(self, x: np.ndarray, atol: float) -> np.ndarray:
        out = np.empty_like(x)
        for s in range(0, len(x), _CHUNK):
            near = self._edge_distances(x[s : s + _CHUNK]) <= atol
            out[s : s + _CHUNK] = unit_rows(near.astype(np.float64) @ self._n)
        return out

    def _boundary_unit_dim(self) -> int:
        return 1

    def _boundary_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = u[:, 0] * self._cum[-1]
        k = np.clip(np.searchsorted(self._cum, s, side="right") - 1, 0, len(self._len) - 1)
        t = np.clip((s - self._cum[k]) / self._len[k], 0.0, 1.0)
        return self._a[k] + t[:, None] * self._e[k], np.ones(len(u), dtype=bool)


class Triangle(Polygon):
    """The closed triangle with vertices ``x1, x2, x3`` (either orientation).

    Interior samples use the exact map ``(1 - sqrt(s)) A + sqrt(s) ((1 - t) B + t C)``, which
    is uniform in area, so no point is rejected.

    Args:
        x1: first vertex ``(x, y)``.
        x2: second vertex.
        x3: third vertex.

    Raises:
        ValueError: collinear or repeated vertices.

    Example:
        >>> tri = Triangle([0, 0], [1, 0], [0, 1])
        >>> tri.volume
        0.5
        >>> bool(tri.inside(tri.sample_interior(100, "halton")).all())
        True
    """

    def __init__(self, x1, x2, x3) -> None:
        super().__init__([x1, x2, x3])

    def _interior_from_unit(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, c = self._a
        r = np.sqrt(u[:, :1])
        x = (1.0 - r) * a + r * ((1.0 - u[:, 1:2]) * b + u[:, 1:2] * c)
        return x, np.ones(len(u), dtype=bool)
