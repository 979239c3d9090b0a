"""Pytrees: nested containers of tensors that every transform and optimiser accepts.

Containers are tuples, lists, dicts (flattened in sorted-key order), namedtuples, ``None`` (an
empty container), dataclasses, and any type registered with :func:`register_pytree_node`.
Everything else is a leaf.

A dataclass instance flattens its fields: a field whose value is a tensor, a tracer or a
container is a child; any other field value (an int, a string, a function) is static and
becomes part of the tree structure, so two instances with different static values have
different structures.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_unflatten",
    "tree_leaves",
    "tree_structure",
    "tree_map",
]


class _NodeType(NamedTuple):
    flatten: Callable[[Any], tuple]  # x -> (children, aux)
    unflatten: Callable[[Any, list], Any]  # (aux, children) -> x


_registry: dict[type, _NodeType] = {}


def register_pytree_node(cls: type, flatten: Callable, unflatten: Callable) -> None:
    """Make instances of ``cls`` containers.

    Args:
        cls: the type.
        flatten: ``flatten(x) -> (children, aux)``; ``aux`` is hashable static data.
        unflatten: ``unflatten(aux, children) -> x``.
    """
    _registry[cls] = _NodeType(flatten, unflatten)


register_pytree_node(tuple, lambda t: (list(t), None), lambda _, c: tuple(c))
register_pytree_node(list, lambda t: (list(t), None), lambda _, c: list(c))
register_pytree_node(
    dict,
    lambda d: ([d[k] for k in sorted(d)], tuple(sorted(d))),
    lambda keys, c: dict(zip(keys, c)),
)
register_pytree_node(type(None), lambda _: ([], None), lambda _, c: None)


def _is_childish(v) -> bool:
    from ._core import Tracer
    from ._tensor import Tensor

    if isinstance(v, (Tensor, Tracer)):
        return True
    if type(v) in _registry or _is_namedtuple(v) or _is_dataclass_instance(v):
        return v is not None
    return False


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_dataclass_instance(x) -> bool:
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


def _node(x):
    """(node kind, children, aux) for a container, or None for a leaf."""
    t = type(x)
    reg = _registry.get(t)
    if reg is not None:
        children, aux = reg.flatten(x)
        return t, children, aux
    if _is_namedtuple(x):
        return t, list(x), None
    if _is_dataclass_instance(x):
        names, children, static = [], [], []
        for f in dataclasses.fields(x):
            v = getattr(x, f.name)
            if _is_childish(v):
                names.append(f.name)
                children.append(v)
            else:
                static.append((f.name, v))
        return t, children, (tuple(names), tuple(static))
    return None


class PyTreeDef:
    """The structure of a pytree: node types, static data and the number of leaves."""

    __slots__ = ("kind", "aux", "children", "num_leaves", "_k", "_h")

    def __init__(self, kind, aux, children: tuple):
        self.kind = kind  # None for a leaf
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)
        # Structural key and hash, computed once: jit looks trees up on every call.
        self._k = (kind, _hashable(aux), tuple(c._k for c in children))
        self._h = hash(self._k)

    def __eq__(self, other):
        return isinstance(other, PyTreeDef) and self._h == other._h and self._k == other._k

    def __hash__(self):
        return self._h

    def __repr__(self):
        if self.kind is None:
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        return f"{getattr(self.kind, '__name__', self.kind)}({inner})"


def _hashable(aux):
    try:
        hash(aux)
        return aux
    except TypeError:
        return repr(aux)


_LEAF = PyTreeDef(None, None, ())


def tree_flatten(tree) -> tuple[list, PyTreeDef]:
    """The leaves of ``tree`` (depth first, left to right) and its structure.

    Example:
        >>> import fieldgrad as fg
        >>> leaves, tdef = fg.tree_flatten({"b": 2, "a": (1, None)})
        >>> leaves
        [1, 2]
    """
    leaves: list = []

    def rec(x):
        node = _node(x)
        if node is None:
            leaves.append(x)
            return _LEAF
        kind, children, aux = node
        return PyTreeDef(kind, aux, tuple(rec(c) for c in children))

    return leaves, rec(tree)


def tree_unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves``."""
    it = iter(leaves)

    def rec(td: PyTreeDef):
        if td.kind is None:
            return next(it)
        children = [rec(c) for c in td.children]
        reg = _registry.get(td.kind)
        if reg is not None:
            return reg.unflatten(td.aux, children)
        if issubclass(td.kind, tuple):  # namedtuple
            return td.kind(*children)
        names, static = td.aux
        obj = object.__new__(td.kind)
        for name, v in list(zip(names, children)) + list(static):
            object.__setattr__(obj, name, v)
        return obj

    out = rec(treedef)
    rest = list(it)
    if rest:
        raise ValueError(f"tree_unflatten: {len(rest)} leaves left over for structure {treedef}")
    return out


def tree_leaves(tree) -> list:
    """The leaves of ``tree``."""
    return tree_flatten(tree)[0]


def tree_structure(tree) -> PyTreeDef:
    """The structure of ``tree``."""
    return tree_flatten(tree)[1]


def tree_map(f: Callable, tree, *rest):
    """Apply ``f`` to every leaf (and the matching leaves of ``rest``, of the same structure).

    Raises:
        ValueError: a tree in ``rest`` has another structure (both are shown).
    """
    leaves, td = tree_flatten(tree)
    others = []
    for r in rest:
        lv, td2 = tree_flatten(r)
        if td2 != td:
            raise ValueError(f"tree_map: tree structures differ: {td} and {td2}")
        others.append(lv)
    return tree_unflatten(td, [f(*xs) for xs in zip(leaves, *others)])
