"""What a residual function sees: :class:`Points` (named coordinates) and :class:`Field` /
:class:`Fields` (network outputs with ``.d()`` derivatives by coordinate names)."""

from __future__ import annotations

import functools
import operator
import re
from typing import Sequence

import fieldgrad as fg

__all__ = ["Points", "Field", "Fields", "multi_index"]


class Points:
    """Points ``(N, d)`` with named coordinates: ``x["t"]`` (or ``x.t``) is the column ``(N,)``.

    Args:
        tensor: the points, shape ``(N, d)``.
        names: one coordinate name per column.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Points
        >>> x = Points(fg.tensor([[1.0, 2.0], [3.0, 4.0]]), ("x", "t"))
        >>> x["t"].tolist(), x.x.tolist(), len(x)
        ([2.0, 4.0], [1.0, 3.0], 2)
    """

    __slots__ = ("tensor", "names", "_cols")

    def __init__(self, tensor, names: Sequence[str]):
        names = tuple(names)
        if tensor.ndim != 2 or tensor.shape[1] != len(names):
            raise ValueError(
                f"Points: expected shape (N, {len(names)}) for coordinates {names}, got "
                f"{tuple(tensor.shape)}"
            )
        self.tensor = tensor
        self.names = names
        self._cols: dict = {}

    @staticmethod
    def axis_of(key, names: Sequence[str]) -> int:
        """The column of a coordinate given by name or index."""
        if isinstance(key, str):
            if key not in names:
                raise KeyError(f"unknown coordinate {key!r}; coordinates are {tuple(names)}")
            return list(names).index(key)
        i = operator.index(key)
        if not -len(names) <= i < len(names):
            raise IndexError(f"coordinate index {i} out of range for coordinates {tuple(names)}")
        return i % len(names)

    def __getitem__(self, key) -> fg.Tensor:
        i = self.axis_of(key, self.names)
        col = self._cols.get(i)
        if col is None:
            col = self._cols[i] = self.tensor[:, i]
        return col

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            names = object.__getattribute__(self, "names")
        except AttributeError:
            raise AttributeError(name) from None
        if name in names:
            return self[name]
        raise AttributeError(
            f"Points has no attribute or coordinate {name!r}; coordinates are {names}"
        )

    @property
    def shape(self) -> tuple:
        return tuple(self.tensor.shape)

    @property
    def dtype(self):
        return self.tensor.dtype

    def __len__(self) -> int:
        return self.tensor.shape[0]

    def __repr__(self) -> str:
        return f"Points(N={self.tensor.shape[0]}, coordinates={self.names})"


@functools.lru_cache(maxsize=1024)
def _parse(spec, order: int, variables: tuple) -> tuple:
    if isinstance(spec, tuple) and spec and all(isinstance(k, int) for k in spec):
        if len(spec) != len(variables) or any(k < 0 for k in spec):
            raise ValueError(
                f"multi-index {spec} must hold {len(variables)} non-negative orders, one per "
                f"coordinate {variables}"
            )
        return tuple(k * order for k in spec)
    if isinstance(spec, str):
        tokens = _tokens(spec, variables)
    elif isinstance(spec, tuple) and all(isinstance(s, str) for s in spec):
        tokens = [t for s in spec for t in _tokens(s, variables)]
    else:
        raise TypeError(
            f"derivative spec must be a string of coordinate names ('x', 'xx', 'xt'), a tuple "
            f"of names or a multi-index of ints, got {spec!r}"
        )
    if not tokens:
        raise ValueError(f"empty derivative spec {spec!r}; name at least one coordinate")
    alpha = [0] * len(variables)
    for t in tokens:
        alpha[variables.index(t)] += order
    return tuple(alpha)


def _tokens(spec: str, variables: tuple) -> list:
    """Split a spec into coordinate names: exact name, separators, else longest-prefix match."""
    if spec in variables:
        return [spec]
    parts = [p for p in re.split(r"[\s,*]+", spec) if p]
    if len(parts) > 1:
        return [t for p in parts for t in _tokens(p, variables)]
    out, i = [], 0
    by_length = sorted(variables, key=len, reverse=True)
    while i < len(spec):
        name = next((v for v in by_length if spec.startswith(v, i)), None)
        if name is None:
            raise ValueError(
                f"cannot read derivative spec {spec!r} at {spec[i:]!r}: coordinates are {variables}"
            )
        out.append(name)
        i += len(name)
    return out


def multi_index(spec, order: int = 1, variables: Sequence[str] = ("x", "t")) -> tuple:
    """The multi-index of a derivative spec: one order per coordinate.

    Args:
        spec: coordinate names (``"xx"``, ``"xt"``, ``"x1 x2"``, ``("x", "t")``) or a
            multi-index of ints.
        order: repeat the spec this many times (``("x", 3)`` is ``"xxx"``).
        variables: the coordinate names.

    Raises:
        ValueError: an unknown name, an empty spec or a bad multi-index.
        TypeError: a spec of another type.

    Example:
        >>> from fieldgrad.solvers.pinn import multi_index
        >>> multi_index("xxt"), multi_index("x", 3), multi_index("x1x2", variables=("x1", "x2"))
        ((2, 1), (3, 0), (1, 1))
    """
    order = operator.index(order)
    if order < 1:
        raise ValueError(f"derivative order must be >= 1, got {order}")
    if isinstance(spec, list):
        spec = tuple(spec)
    return _parse(spec, order, tuple(variables))


def _value(a):
    return a.value if isinstance(a, Field) else a


def _binary(op, reflected: bool = False):
    def method(self, other):
        if reflected:
            return op(_value(other), self.value)
        return op(self.value, _value(other))

    return method


class Field:
    """One output of the network inside a residual: values and partial derivatives.

    ``u.value`` is the tensor ``(N,)``; arithmetic with tensors and scalars (``+ - * / **``,
    the field on either side) returns tensors, and fieldgrad functions take a field where they
    take a tensor (``fg.sin(u)``). ``u.d("x")``, ``u.d("xx")``, ``u.d("xt")``, ``u.d("x", 3)``
    are partial derivatives by coordinate names.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Solution
        >>> sol = Solution(lambda z: z[:, 0] ** 3, variables=("x",))
        >>> x = fg.tensor([[2.0]], dtype="float64")
        >>> r = sol.apply(lambda x, u: [u.value, u.d("x"), u.d("xx"), u.d("x", 3)], x)
        >>> [float(t[0]) for t in r]
        [8.0, 12.0, 12.0, 6.0]
    """

    __slots__ = ("name", "index", "_source", "variables", "spatial")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    def __init__(self, name: str, index: int, source, variables: tuple, spatial: tuple):
        self.name = name
        self.index = index
        self._source = source
        self.variables = variables
        self.spatial = spatial

    @property
    def value(self) -> fg.Tensor:
        return self._source.derivative(self.index, (0,) * len(self.variables))

    def d(self, spec, order: int = 1) -> fg.Tensor:
        """The partial derivative named by ``spec`` (see :func:`multi_index`), shape ``(N,)``."""
        alpha = multi_index(spec, order, self.variables)
        return self._source.derivative(self.index, alpha)

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    __add__ = _binary(operator.add)
    __radd__ = _binary(operator.add, True)
    __sub__ = _binary(operator.sub)
    __rsub__ = _binary(operator.sub, True)
    __mul__ = _binary(operator.mul)
    __rmul__ = _binary(operator.mul, True)
    __truediv__ = _binary(operator.truediv)
    __rtruediv__ = _binary(operator.truediv, True)
    __pow__ = _binary(operator.pow)
    __rpow__ = _binary(operator.pow, True)

    def __neg__(self):
        return -self.value

    def __pos__(self):
        return self.value

    def __abs__(self):
        return fg.abs(self.value)

    def __fieldgrad_tensor__(self) -> fg.Tensor:
        """The values: fieldgrad ops and tensor operators accept a field through this hook."""
        return self.value

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"Field {self.name!r} cannot become a numpy array: it is traced; use "
            f"{self.name}.value in fieldgrad functions"
        )

    def __repr__(self) -> str:
        return f"Field({self.name!r}, variables={self.variables})"


class Fields:
    """The outputs of a multi-output network by name and position: ``u, v, p = out`` or
    ``out["p"]``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Solution
        >>> sol = Solution(lambda z: z * 2.0, variables=("x", "y"), outputs=("u", "v"))
        >>> out = sol.apply(lambda x, out: out, fg.tensor([[1.0, 2.0]]))
        >>> out.names, out["v"].name, [f.name for f in out]
        (('u', 'v'), 'v', ['u', 'v'])
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Sequence[Field]):
        self._fields = tuple(fields)

    @property
    def names(self) -> tuple:
        return tuple(f.name for f in self._fields)

    def __getitem__(self, key) -> Field:
        if isinstance(key, str):
            for f in self._fields:
                if f.name == key:
                    return f
            raise KeyError(f"unknown output {key!r}; outputs are {self.names}")
        return self._fields[key]

    def __iter__(self):
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Fields{self.names}"
