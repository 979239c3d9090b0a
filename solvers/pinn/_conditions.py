"""Boundary, initial and data conditions of a PINN problem.

Each condition holds its points (host-side numpy, drawn from the geometry with a seed and drawn
again by :meth:`Condition.resample`) and implements one residual method,
``residual(solution, data, coefficients) -> tensor``, whose mean square is its loss term.

Where a boundary condition applies (``where``): ``None`` for the whole boundary of the
problem's geometry, a geometry whose boundary is sampled instead, or a vectorised predicate
``where(x) -> bool array`` on numpy points ``(n, d)`` that selects part of the boundary.
Values (``value``) are a number or a host function ``value(x) -> array`` of numpy points
``(n, d)`` giving ``(n,)`` values, evaluated when the points are drawn.
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

import fieldgrad as fg

from ._field import Points, Solution

__all__ = [
    "Condition",
    "DirichletBC",
    "NeumannBC",
    "RobinBC",
    "PeriodicBC",
    "IC",
    "PointSetBC",
    "OperatorBC",
]

_ROUNDS = 16


def coefficient_kwargs(fn: Callable, coefficients: dict | None) -> dict:
    """The PDE coefficients ``fn`` asks for, as keyword arguments: ``{"params": dict}`` when
    ``fn`` has a parameter named ``params``, else each coefficient ``fn`` names (all of them
    when it takes ``**kwargs``)."""
    if not coefficients:
        return {}
    try:
        ps = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return dict(coefficients)
    if "params" in ps:
        return {"params": coefficients}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in ps.values()):
        return dict(coefficients)
    return {k: v for k, v in coefficients.items() if k in ps}


def _values(value, x: np.ndarray, ncols: int | None, who: str) -> np.ndarray:
    """A condition's target values at host points: ``(n,)`` (or ``(n, ncols)``)."""
    n = x.shape[0]
    v = value(x) if callable(value) else value
    v = np.asarray(v, dtype=np.float64)
    shape = (n,) if ncols is None else (n, ncols)
    if v.ndim == 0 or v.shape == shape[1:]:
        return np.broadcast_to(v, shape).copy()
    if ncols is None and v.shape == (n, 1):
        v = v[:, 0]
    if v.shape != shape:
        raise ValueError(f"{who}: value gave shape {v.shape} for {n} points; expected {shape}")
    return v


def _column(y, c: int):
    n, m = y.shape
    return fg.reshape(y, (n,)) if m == 1 else y[:, c]


def _flat(r):
    """A residual as one flat tensor (lists are concatenated)."""
    if isinstance(r, (list, tuple)):
        return fg.concatenate([fg.reshape(fg.asarray(t), (-1,)) for t in r])
    return fg.reshape(fg.asarray(r), (-1,))


class Condition:
    """Base class: a set of points and one residual method.

    Args:
        component: the output the condition constrains (name or index).
        num_points: points to draw (default: the problem's ``num_boundary`` or
            ``num_initial``).
        name: the loss term's name (default: the condition's kind).
    """

    kind = "condition"
    count = "boundary"  # which of the problem's point counts applies

    def __init__(self, *, component=0, num_points: int | None = None, name: str | None = None):
        self.component = component
        self.num_points = num_points
        self.name = name or self.kind
        self.data: dict | None = None
        self.variables: tuple | None = None  # coordinate names, set by the Problem

    def resample(self, geometry, n: int, method: str = "pseudo", seed: int = 0) -> dict:
        """Draw the condition's points (``num_points`` overrides ``n``); returns the data."""
        n = self.num_points or n
        if not n or n < 1:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: needs a positive number of points; set "
                f"num_points or the problem's num_{self.count}"
            )
        self.data = self.sample(geometry, int(n), method, int(seed))
        return self.data

    def sample(self, geometry, n: int, method: str, seed: int) -> dict:
        """The condition's host data (numpy arrays) for ``n`` points."""
        raise NotImplementedError

    def residual(self, sol: Solution, data: dict, coefficients: dict | None = None):
        """The residual at the condition's points (tensors in ``data``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, component={self.component!r})"


class _OnBoundary(Condition):
    """A condition on (part of) the boundary, selected by ``where``."""

    def __init__(self, where=None, **kw):
        super().__init__(**kw)
        if where is not None and not callable(where) and not hasattr(where, "sample_boundary"):
            raise TypeError(
                f"{type(self).__name__}: where must be None, a geometry or a predicate "
                f"where(x) -> bool array, got {type(where).__name__}"
            )
        self.where = where

    def boundary_points(self, geometry, n: int, method: str, seed: int) -> np.ndarray:
        if hasattr(self.where, "sample_boundary"):
            return np.asarray(self.where.sample_boundary(n, method=method, seed=seed))
        if self.where is None:
            return np.asarray(geometry.sample_boundary(n, method=method, seed=seed))
        found, total, m = [], 0, max(2 * n, 64)
        for k in range(_ROUNDS):
            x = np.asarray(geometry.sample_boundary(m, method=method, seed=seed + 7919 * k))
            keep = np.asarray(self.where(x), dtype=bool).reshape(-1)
            if keep.shape != (len(x),):
                raise ValueError(
                    f"{type(self).__name__}: where(x) must return one bool per point, got "
                    f"shape {keep.shape} for {len(x)} points"
                )
            found.append(x[keep])
            total += int(keep.sum())
            if total >= n:
                return np.concatenate(found)[:n]
            m = min(16 * m, 2**20)
        raise RuntimeError(
            f"{type(self).__name__} {self.name!r}: the predicate kept {total} of the {n} "
            f"boundary points needed after {_ROUNDS} rounds; does it select any boundary?"
        )


class DirichletBC(_OnBoundary):
    """``u = value`` on (part of) the boundary.

    Args:
        where: ``None`` (whole boundary), a geometry or a predicate ``where(x) -> bool``.
        value: number or host function ``value(x) -> (n,)``.
        component: the constrained output.

    Example:
        >>> import numpy as np, fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import DirichletBC, Solution
        >>> bc = DirichletBC(value=lambda x: x[:, 0] ** 2)
        >>> data = {"x": fg.tensor([[0.5], [2.0]]), "value": fg.tensor([0.25, 4.0])}
        >>> bc.residual(Solution(lambda z: z * z, variables=("x",)), data).tolist()
        [0.0, 0.0]
    """

    kind = "dirichlet"

    def __init__(self, where=None, value=0.0, component=0, **kw):
        super().__init__(where, component=component, **kw)
        self.value = value

    def sample(self, geometry, n, method, seed):
        x = self.boundary_points(geometry, n, method, seed)
        return {"x": x, "value": _values(self.value, x, None, self.name)}

    def residual(self, sol, data, coefficients=None):
        return _column(sol(data["x"]), sol.component(self.component)) - data["value"]


class NeumannBC(_OnBoundary):
    """``du/dn = value`` with the outward normal of the geometry (one ``fg.jvp`` along it).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import NeumannBC, Solution
        >>> bc = NeumannBC(value=4.0)
        >>> data = {"x": fg.tensor([[2.0]]), "normal": fg.tensor([[1.0]])}
        >>> data["value"] = fg.tensor([4.0])
        >>> bc.residual(Solution(lambda z: z * z, variables=("x",)), data).tolist()
        [0.0]
    """

    kind = "neumann"

    def __init__(self, where=None, value=0.0, component=0, **kw):
        super().__init__(where, component=component, **kw)
        self.value = value

    def normals(self, geometry, x: np.ndarray) -> np.ndarray:
        source = self.where if hasattr(self.where, "boundary_normal") else geometry
        return np.asarray(source.boundary_normal(x), dtype=np.float64)

    def sample(self, geometry, n, method, seed):
        x = self.boundary_points(geometry, n, method, seed)
        return {
            "x": x,
            "normal": self.normals(geometry, x),
            "value": _values(self.value, x, None, self.name),
        }

    def normal_derivative(self, sol, data):
        _, dn = sol.directional(data["x"], data["normal"])
        return _column(dn, sol.component(self.component))

    def residual(self, sol, data, coefficients=None):
        return self.normal_derivative(sol, data) - data["value"]


class RobinBC(NeumannBC):
    """``du/dn = g(x, u)``: ``g`` takes :class:`Points` and the values ``(n,)`` (fieldgrad
    ops) and may ask for the problem's coefficients by name.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import RobinBC, Solution
        >>> bc = RobinBC(g=lambda x, u: 2.0 * u)            # u = e^{2x}
        >>> data = {"x": fg.tensor([[0.5]], dtype="float64"), "normal": fg.tensor([[1.0]])}
        >>> r = bc.residual(Solution(lambda z: fg.exp(2.0 * z), variables=("x",)), data)
        >>> abs(float(r[0])) < 1e-12
        True
    """

    kind = "robin"

    def __init__(self, where=None, g: Callable = None, component=0, **kw):
        if not callable(g):
            raise TypeError("RobinBC: g must be a function g(x, u) -> tensor")
        super().__init__(where, value=0.0, component=component, **kw)
        self.g = g

    def sample(self, geometry, n, method, seed):
        x = self.boundary_points(geometry, n, method, seed)
        return {"x": x, "normal": self.normals(geometry, x)}

    def residual(self, sol, data, coefficients=None):
        x = fg.asarray(data["x"])
        u, dn = sol.directional(x, fg.astype(fg.asarray(data["normal"]), x.dtype))
        c = sol.component(self.component)
        kw = coefficient_kwargs(self.g, coefficients)
        g = self.g(sol.points(x), _column(u, c), **kw)
        return _column(dn, c) - g


class PeriodicBC(Condition):
    """Periodicity along one coordinate: ``d^k u(x_lo) = d^k u(x_hi)`` for ``k = 0 ..
    derivative_order`` on paired points of the two faces ``x[axis] = lo`` and ``= hi`` of the
    geometry's bounding box (derivatives along the axis, from one jet over both faces).

    Args:
        component: the output.
        axis: the periodic coordinate (name or index).
        derivative_order: 0 matches values; 1 values and first derivatives; and so on.

    Example:
        >>> import fieldgrad as fg, math
        >>> from fieldgrad.solvers.pinn import PeriodicBC, Solution
        >>> bc = PeriodicBC(0, "x", derivative_order=1)
        >>> x_lo, x_hi = fg.tensor([[0.0], [0.0]]), fg.tensor([[2 * math.pi], [2 * math.pi]])
        >>> r = bc.residual(Solution(fg.sin, variables=("x",)), {"x_lo": x_lo, "x_hi": x_hi})
        >>> r.shape, max(abs(v) for v in r.tolist()) < 1e-5
        ((4,), True)
    """

    kind = "periodic"

    def __init__(self, component=0, axis=0, derivative_order: int = 0, **kw):
        super().__init__(component=component, **kw)
        if int(derivative_order) < 0:
            raise ValueError(f"PeriodicBC: derivative_order must be >= 0, got {derivative_order}")
        self.axis = axis
        self.derivative_order = int(derivative_order)

    def sample(self, geometry, n, method, seed):
        if isinstance(self.axis, str) and self.variables is None:
            raise ValueError(
                "PeriodicBC: a named axis needs the coordinate names; sample it through a "
                "Problem or give the axis as an index"
            )
        i = Points.axis_of(self.axis, self.variables or range(geometry.dim))
        lo, hi = (np.asarray(b, dtype=np.float64) for b in geometry.bbox)
        tol = 1e-6 * max(1.0, float(np.abs(hi - lo).max()))
        found, total = [], 0
        for k in range(_ROUNDS):
            x = np.asarray(geometry.sample_boundary(max(4 * n, 64), method=method, seed=seed + k))
            x = x[np.abs(x[:, i] - lo[i]) <= tol]
            found.append(x)
            total += len(x)
            if total >= n:
                break
        if total < n:
            raise RuntimeError(f"PeriodicBC: found {total} of {n} points on the face x[{i}] = lo")
        x_lo = np.concatenate(found)[:n].copy()
        x_lo[:, i] = lo[i]
        x_hi = x_lo.copy()
        x_hi[:, i] = hi[i]
        return {"x_lo": x_lo, "x_hi": x_hi}

    def residual(self, sol, data, coefficients=None):
        x_lo, x_hi = fg.asarray(data["x_lo"]), fg.asarray(data["x_hi"])
        n, c = x_lo.shape[0], sol.component(self.component)
        x = fg.concatenate([x_lo, x_hi], axis=0)
        if self.derivative_order == 0:
            ders = [sol(x)]
        else:
            e = np.zeros(x.shape[1])
            e[sol.axis(self.axis)] = 1.0
            v = fg.broadcast_to(fg.tensor(e, dtype=x.dtype), x.shape)
            ders = sol.directional(x, v, self.derivative_order)
        cols = [_column(d, c) for d in ders]
        return fg.concatenate([col[:n] - col[n:] for col in cols])


class IC(Condition):
    """``u(x, t0) = value(x)`` (``derivative=1``: ``u_t(x, t0) = value(x)``) at points from
    ``geometry.sample_initial``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import IC, Solution
        >>> ic = IC(lambda x: 0.0, derivative=1)
        >>> data = {"x": fg.tensor([[0.3, 0.0]]), "value": fg.tensor([0.0])}
        >>> ic.residual(Solution(lambda z: z[:, 0] * z[:, 1] ** 2), data).tolist()
        [0.0]
    """

    kind = "ic"
    count = "initial"

    def __init__(self, value=0.0, component=0, derivative: int = 0, **kw):
        super().__init__(component=component, **kw)
        if derivative not in (0, 1):
            raise ValueError(f"IC: derivative must be 0 (u) or 1 (u_t), got {derivative}")
        self.value = value
        self.derivative = derivative

    def sample(self, geometry, n, method, seed):
        if not hasattr(geometry, "sample_initial"):
            raise TypeError(
                f"IC needs a space-time geometry with sample_initial, got {type(geometry).__name__}"
            )
        x = np.asarray(geometry.sample_initial(n, method=method, seed=seed))
        return {"x": x, "value": _values(self.value, x, None, self.name)}

    def residual(self, sol, data, coefficients=None):
        x, c = fg.asarray(data["x"]), sol.component(self.component)
        if self.derivative == 0:
            return _column(sol(x), c) - data["value"]
        e = np.zeros(x.shape[1])
        e[sol.axis(sol.time_variable)] = 1.0
        _, ut = sol.directional(x, fg.broadcast_to(fg.tensor(e, dtype=x.dtype), x.shape))
        return _column(ut, c) - data["value"]


class PointSetBC(Condition):
    """Observed data: ``u(points) = values`` (inverse problems, measurements).

    Args:
        points: host points ``(n, d)``.
        values: ``(n,)`` for one component, ``(n, k)`` for a list of k components.
        component: an output, or a list of outputs.
        batch_size: draw this many of the points at each resample (default: all).

    Example:
        >>> import numpy as np, fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import PointSetBC, Solution
        >>> bc = PointSetBC(np.array([[1.0], [2.0]]), np.array([2.0, 4.0]))
        >>> d = {k: fg.tensor(v) for k, v in bc.resample(None, 0).items()}
        >>> bc.residual(Solution(lambda z: 2.0 * z, variables=("x",)), d).tolist()
        [0.0, 0.0]
    """

    kind = "data"
    count = "data"

    def __init__(self, points, values, component=0, batch_size: int | None = None, **kw):
        super().__init__(component=component, **kw)
        self.points = np.asarray(points, dtype=np.float64)
        if self.points.ndim != 2:
            raise ValueError(f"PointSetBC: points must be (n, d), got shape {self.points.shape}")
        k = len(component) if isinstance(component, (list, tuple)) else None
        self.values = _values(np.asarray(values), self.points, k, "PointSetBC")
        self.batch_size = batch_size

    def resample(self, geometry, n: int, method: str = "pseudo", seed: int = 0) -> dict:
        self.data = self.sample(geometry, len(self.points), method, int(seed))
        return self.data

    def sample(self, geometry, n, method, seed):
        if self.batch_size is None or self.batch_size >= len(self.points):
            return {"x": self.points, "value": self.values}
        idx = np.random.default_rng(seed).choice(len(self.points), self.batch_size, replace=False)
        return {"x": self.points[idx], "value": self.values[idx]}

    def residual(self, sol, data, coefficients=None):
        y = sol(data["x"])
        if isinstance(self.component, (list, tuple)):
            cols = [_column(y, sol.component(c)) for c in self.component]
            return fg.stack(cols, axis=1) - data["value"]
        return _column(y, sol.component(self.component)) - data["value"]


class OperatorBC(_OnBoundary):
    """A residual ``fn(x: Points, u: Field | Fields) -> tensor`` on (part of) the boundary,
    written like a PDE (derivatives by ``u.d(...)``); it may ask for coefficients by name.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import OperatorBC, Solution
        >>> bc = OperatorBC(lambda x, u: u.d("xx") - 2.0)
        >>> sol = Solution(lambda z: z * z, variables=("x",))
        >>> bc.residual(sol, {"x": fg.tensor([[3.0]])}).tolist()
        [0.0]
    """

    kind = "operator"

    def __init__(self, fn: Callable, where=None, **kw):
        if not callable(fn):
            raise TypeError("OperatorBC: fn must be a residual function fn(x, u)")
        super().__init__(where, **kw)
        self.fn = fn

    def sample(self, geometry, n, method, seed):
        return {"x": self.boundary_points(geometry, n, method, seed)}

    def residual(self, sol, data, coefficients=None):
        kw = coefficient_kwargs(self.fn, coefficients)
        return _flat(sol.apply(self.fn, data["x"], **kw))
