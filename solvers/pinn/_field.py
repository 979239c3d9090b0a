"""The residual API: a PDE written with named coordinates and output fields.

The user writes the residual as a function of the points and the network's output fields::

    def pde(x, u):                       # x: Points, u: Field
        return u.d("t") + u * u.d("x") - nu * u.d("xx")

``x["t"]`` (or ``x.t``) is a coordinate column, ``u.value`` the field's values and ``u.d(...)``
a partial derivative by coordinate names (``"x"``, ``"xx"``, ``"xt"``, ``("x", 3)``). A system
gets a :class:`Fields` container (``u, v, p = out`` or ``out["p"]``); :func:`gradient`,
:func:`divergence` and :func:`laplacian` act over the spatial coordinates.

Cost model (see docs/pinn.md): :meth:`Solution.apply` first calls the residual in a recording
pass in which every derivative is zero, collecting the multi-indices it asks for (cached per
function and point signature). The derivatives are then computed by forward-mode Taylor
operators only, shared by every output of the network: one ``fg.jet`` along each coordinate
axis of the highest order needed on it (``u_x`` and ``u_xx`` come from one order-2 jet; an
order-1 direction is one ``fg.jvp``) and each mixed partial by polarisation of directional jets
of its total order (``u_xt = (D2[e_x+e_t] - D2[e_x] - D2[e_t]) / 2``). Nested reverse mode is
never used. Everything is fieldgrad code, so it runs under ``fg.jit`` and ``fg.grad``.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import weakref
from typing import Any, Callable, Sequence

import numpy as np

import fieldgrad as fg

from ._field_types import Field, Fields, Points, multi_index

__all__ = [
    "Points",
    "Field",
    "Fields",
    "Solution",
    "multi_index",
    "gradient",
    "divergence",
    "laplacian",
    "partial_derivatives",
]


def gradient(u: Field) -> fg.Tensor:
    """The spatial gradient of a field at every point.

    Args:
        u: a field given to a residual function.

    Returns:
        Tensor of shape ``(N, d_s)``: the derivatives along the spatial coordinates (every
        coordinate but time), in order.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Solution, gradient
        >>> sol = Solution(lambda z: z[:, 0] ** 2 * z[:, 1], variables=("x", "y"))
        >>> sol.apply(lambda x, u: gradient(u), fg.tensor([[1.0, 3.0]])).tolist()
        [[6.0, 1.0]]
    """
    _check_field(u, "gradient")
    return fg.stack([u.d(s) for s in u.spatial], axis=1)


def divergence(fields: Sequence[Field]) -> fg.Tensor:
    """The divergence ``sum_i d u_i / d x_i`` of a vector field over the spatial coordinates.

    Args:
        fields: one field per spatial coordinate (``[u, v]`` in 2-D), in coordinate order.

    Returns:
        Tensor of shape ``(N,)``.

    Raises:
        ValueError: the number of fields differs from the number of spatial coordinates.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Solution, divergence
        >>> sol = Solution(lambda z: z * z, variables=("x", "y"), outputs=("u", "v"))
        >>> sol.apply(lambda x, out: divergence(out), fg.tensor([[1.0, 2.0]])).tolist()
        [6.0]
    """
    fields = list(fields)
    for f in fields:
        _check_field(f, "divergence")
    spatial = fields[0].spatial if fields else ()
    if len(fields) != len(spatial):
        raise ValueError(
            f"divergence: got {len(fields)} fields but there are {len(spatial)} spatial "
            f"coordinates {spatial}; give one field per spatial coordinate"
        )
    total = fields[0].d(spatial[0])
    for f, s in zip(fields[1:], spatial[1:]):
        total = total + f.d(s)
    return total


def laplacian(u: Field) -> fg.Tensor:
    """The Laplacian ``sum_i d^2 u / d x_i^2`` over the spatial coordinates, shape ``(N,)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Solution, laplacian
        >>> sol = Solution(lambda z: z[:, 0] ** 2 + z[:, 1] ** 3, variables=("x", "y"))
        >>> sol.apply(lambda x, u: laplacian(u), fg.tensor([[1.0, 2.0]])).tolist()
        [14.0]
    """
    _check_field(u, "laplacian")
    total = u.d(u.spatial[0], 2)
    for s in u.spatial[1:]:
        total = total + u.d(s, 2)
    return total


def _check_field(u, where: str) -> None:
    if not isinstance(u, Field):
        raise TypeError(
            f"{where}: expected a Field (an output given to a residual function), got "
            f"{type(u).__name__}"
        )
    if not u.spatial:
        raise ValueError(f"{where}: there are no spatial coordinates among {u.variables}")


# --------------------------------------------------------------------------------------------
# Where derivatives come from: a recorder (first pass) or a table of computed values


class _Recorder:
    """Collects the requested multi-indices and answers zeros."""

    def __init__(self, n: int, dtype):
        self.requests: set = set()
        self._zeros = fg.zeros((n,), dtype=dtype)

    def derivative(self, comp: int, alpha: tuple) -> fg.Tensor:
        self.requests.add(alpha)
        return self._zeros


class _Table:
    """Serves columns of the computed ``(N, m)`` derivatives."""

    def __init__(self, table: dict):
        self.table = table
        self._cols: dict = {}

    def derivative(self, comp: int, alpha: tuple) -> fg.Tensor:
        key = (comp, alpha)
        col = self._cols.get(key)
        if col is None:
            t = self.table.get(alpha)
            if t is None:
                raise RuntimeError(
                    f"derivative {alpha} was not requested in the recording pass: the "
                    "derivatives a residual asks for must not depend on the values"
                )
            n, m = t.shape
            col = fg.reshape(t, (n,)) if m == 1 else t[:, comp]
            self._cols[key] = col
        return col


# --------------------------------------------------------------------------------------------
# The plan: which directional jets, of which order, and how mixed partials combine them


@functools.lru_cache(maxsize=256)
def _plan(alphas: frozenset) -> tuple:
    """``(orders, recipes)``: the order of the jet along each direction (a tuple of ints) and,
    per multi-index, its terms ``(direction, weight, order)``.

    A pure derivative ``k e_i`` is the k-th coefficient of the jet along ``e_i``. A mixed one
    of total order n uses the polarisation identity for the symmetric n-linear form
    ``D^n f``: ``d^a f = 1/n! sum_{0 < c <= a} (-1)^(n-|c|) prod_i C(a_i, c_i) D^n_c f`` with
    ``D^n_{g c} = g^n D^n_c``, so multiples share one direction.
    """
    orders: dict = {}
    recipes: dict = {}
    for a in sorted(alphas):
        n = sum(a)
        if n == 0:
            continue
        nz = [i for i, k in enumerate(a) if k]
        if len(nz) == 1:
            recipe = [(tuple(int(i == nz[0]) for i in range(len(a))), 1.0, n)]
        else:
            terms: dict = {}
            for c in itertools.product(*(range(k + 1) for k in a)):
                s = sum(c)
                if s == 0:
                    continue
                w = (-1) ** (n - s) * math.prod(math.comb(k, ci) for k, ci in zip(a, c))
                g = math.gcd(*c)
                cc = tuple(ci // g for ci in c)
                terms[cc] = terms.get(cc, 0.0) + w * g**n / math.factorial(n)
            recipe = [(cc, w, n) for cc, w in sorted(terms.items()) if w != 0.0]
        for c, _, k in recipe:
            orders[c] = max(orders.get(c, 0), k)
        recipes[a] = recipe
    return orders, recipes


def partial_derivatives(fn: Callable, x, alphas) -> dict:
    """Partial derivatives of every output of ``fn`` at every point, by multi-index.

    Args:
        fn: maps points ``(N, d)`` to ``(N, m)`` (each point independently).
        x: points, shape ``(N, d)``.
        alphas: iterable of multi-indices (tuples of d non-negative ints); ``(0,) * d`` is the
            value.

    Returns:
        dict multi-index -> tensor ``(N, m)``; the value is always included.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import partial_derivatives
        >>> f = lambda z: (z[:, 0] ** 2 * z[:, 1] ** 3)[:, None]
        >>> d = partial_derivatives(f, fg.tensor([[1.0, 2.0]], dtype="float64"), [(1, 1)])
        >>> round(float(d[(1, 1)][0, 0]), 9)
        24.0
    """
    d = x.shape[1]
    alphas = frozenset(tuple(int(k) for k in a) for a in alphas)
    orders, recipes = _plan(alphas)
    value = None
    along: dict = {}
    zeros = None
    for c, k in orders.items():
        v = fg.broadcast_to(fg.tensor(np.asarray(c, dtype=np.float64), dtype=x.dtype), x.shape)
        if k == 1:
            value, t = fg.jvp(fn, (x,), (v,))
            along[c] = [t]
        else:
            zeros = fg.zeros_like(x) if zeros is None else zeros
            value, along[c] = fg.jet(fn, (x,), ([v] + [zeros] * (k - 1),))
    table = {(0,) * d: fn(x) if value is None else value}
    for a, recipe in recipes.items():
        total = None
        for c, w, n in recipe:
            term = along[c][n - 1] if w == 1.0 else along[c][n - 1] * w
            total = term if total is None else total + term
        table[a] = total
    return table


# --------------------------------------------------------------------------------------------
# The solution: network + output transform, with named coordinates and outputs

# Recorded multi-indices per residual function and point signature.
_REQUESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Solution:
    """The approximate solution ``u(x) = output_transform(x, net(x))`` with named coordinates.

    Args:
        net: callable mapping points ``(N, d)`` to ``(N, m)`` (or ``(N,)`` when m = 1).
        variables: coordinate names, one per column of the points (time last by convention).
        outputs: output names, one per output column.
        output_transform: optional ``fn(x: Points, y) -> u`` (hard constraints); ``y`` is the
            net output, ``(N,)`` for one output and ``(N, m)`` otherwise; it returns the same
            shapes or a list of ``(N,)`` columns.
        time_variable: the coordinate that is not spatial (ignored when absent).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Solution
        >>> sol = Solution(lambda z: fg.sin(z[:, 0]) * fg.exp(z[:, 1]), variables=("x", "t"))
        >>> x = fg.tensor([[0.0, 0.0]], dtype="float64")
        >>> sol.apply(lambda x, u: u.d("xx") + u.d("xt") + u.d("t"), x).tolist()
        [1.0]
    """

    def __init__(
        self,
        net: Callable,
        variables: Sequence[str] = ("x", "t"),
        outputs: Sequence[str] = ("u",),
        output_transform: Callable | None = None,
        time_variable: str = "t",
    ):
        if not callable(net):
            raise TypeError(f"Solution: net must be callable, got {type(net).__name__}")
        self.net = net
        self.variables = _names(variables, "variables")
        self.outputs = _names(outputs, "outputs")
        self.output_transform = output_transform
        self.time_variable = time_variable
        self.spatial = tuple(v for v in self.variables if v != time_variable)

    def __call__(self, x) -> fg.Tensor:
        """The solution at points ``(N, d)``: a tensor ``(N, m)``."""
        x = self._check_points(x)
        n, m = x.shape[0], len(self.outputs)
        y = self.net(x)
        if self.output_transform is not None:
            y = _as_columns(y, n, None, "the network")
            y = self.output_transform(self.points(x), fg.reshape(y, (n,)) if y.shape[1] == 1 else y)
        return _as_columns(
            y, n, m, "the output transform" if self.output_transform else "the network"
        )

    def points(self, x) -> Points:
        """``x`` as :class:`Points` with this solution's coordinate names."""
        return Points(x, self.variables)

    def component(self, c) -> int:
        """The column of output ``c`` (a name or an index)."""
        if isinstance(c, str):
            if c not in self.outputs:
                raise ValueError(f"unknown output {c!r}; outputs are {self.outputs}")
            return self.outputs.index(c)
        c = operator.index(c)
        if not -len(self.outputs) <= c < len(self.outputs):
            raise ValueError(f"output index {c} out of range for outputs {self.outputs}")
        return c % len(self.outputs)

    def axis(self, a) -> int:
        """The column of coordinate ``a`` (a name or an index)."""
        return Points.axis_of(a, self.variables)

    def directional(self, x, direction, order: int = 1) -> list:
        """``[u, D u, ..., D^k u]`` along a per-point direction ``(N, d)``, each ``(N, m)``.

        One ``fg.jvp`` for order 1, one ``fg.jet`` otherwise.
        """
        x = self._check_points(x)
        v = fg.astype(fg.asarray(direction), x.dtype)
        if order == 1:
            u, t = fg.jvp(self, (x,), (v,))
            return [u, t]
        u, ders = fg.jet(self, (x,), ([v] + [fg.zeros_like(x)] * (order - 1),))
        return [u, *ders]

    def fields(self, source) -> Field | Fields:
        """The output fields over a derivative source (one Field, or Fields for a system)."""
        fs = [
            Field(name, i, source, self.variables, self.spatial)
            for i, name in enumerate(self.outputs)
        ]
        return fs[0] if len(fs) == 1 else Fields(fs)

    def apply(self, fn: Callable, x, *args: Any, **kwargs: Any):
        """Evaluate a residual ``fn(x: Points, u: Field | Fields, *args, **kwargs)``.

        Args:
            fn: the residual function.
            x: points ``(N, d)``.
            *args, **kwargs: passed on to ``fn`` (PDE coefficients).

        Returns:
            Whatever ``fn`` returns, computed with the derivatives it asked for.
        """
        x = self._check_points(x)
        n = x.shape[0]
        key = (tuple(x.shape), x.dtype.name, self.variables, self.outputs, self.time_variable)
        try:
            cache = _REQUESTS.setdefault(fn, {})
        except TypeError:  # not weakly referenceable: no cache
            cache = {}
        alphas = cache.get(key)
        if alphas is None:
            rec = _Recorder(n, x.dtype)
            fn(self.points(x), self.fields(rec), *args, **kwargs)
            alphas = cache[key] = frozenset(rec.requests)
        table = partial_derivatives(self, x, alphas)
        return fn(self.points(x), self.fields(_Table(table)), *args, **kwargs)

    def _check_points(self, x):
        x = fg.asarray(x)
        if x.ndim != 2 or x.shape[1] != len(self.variables):
            raise ValueError(
                f"points must have shape (N, {len(self.variables)}) for coordinates "
                f"{self.variables}, got {tuple(x.shape)}"
            )
        if x.dtype not in (fg.float32, fg.float64):
            raise TypeError(f"points must be float32 or float64, got {x.dtype.name}")
        return x


def _names(names, what: str) -> tuple:
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if (
        not names
        or not all(isinstance(s, str) and s for s in names)
        or len(set(names)) != len(names)
    ):
        raise ValueError(f"{what} must be distinct non-empty strings, got {names!r}")
    return names


def _as_columns(y, n: int, m: int | None, who: str):
    """``y`` as ``(n, m)``: accepts ``(n,)``, ``(n, m)`` or a list of ``(n,)`` columns."""
    if isinstance(y, (list, tuple)):
        y = fg.stack([fg.asarray(c.value if isinstance(c, Field) else c) for c in y], axis=1)
    if not hasattr(y, "shape"):
        raise TypeError(f"{who} must return a tensor, got {type(y).__name__}")
    if y.ndim == 1 and y.shape[0] == n:
        y = fg.reshape(y, (n, 1))
    if y.ndim != 2 or y.shape[0] != n or (m is not None and y.shape[1] != m):
        want = f"({n}, {m})" if m is not None else f"({n}, m)"
        raise ValueError(
            f"{who} returned shape {tuple(y.shape)} for {n} points; expected {want}"
            + ("" if m is None or m > 1 else f" or ({n},)")
        )
    return y
