"""Leaf-level plumbing shared by the transformations.

Aligning a gradient tree with ``None`` holes to the parameters' leaves, checking leaves and
optimiser states, building zero-filled moment trees and casting per-step scalars (Python floats
or float64 0-d tensors) once per leaf dtype.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Union

import numpy as np

from fieldgrad.fields import (
    Tensor,
    Tracer,
    float64,
    full,
    int32,
    tree_flatten,
    tree_leaves,
    tree_structure,
    tree_unflatten,
    zeros,
)

ScheduleFn = Callable[[Any], Any]
LearningRate = Union[float, ScheduleFn]


def is_array(x) -> bool:
    return isinstance(x, (Tensor, Tracer))


def _is_child(v) -> bool:
    """Whether a dataclass field value is a pytree child (as the pytree flattener decides)."""
    if is_array(v) or isinstance(v, (list, tuple, dict)):
        return True
    return dataclasses.is_dataclass(v) and not isinstance(v, type)


def align(ref, tree, what: str = "grads") -> list:
    """The leaves of ``tree`` matched to the leaves of ``ref``: ``None`` where ``tree`` has a hole.

    Raises:
        ValueError: the structures differ other than by ``None`` holes in ``tree``.
    """
    if tree is None:
        return [None] * len(tree_leaves(ref))
    if tree_structure(tree) == tree_structure(ref):
        return tree_leaves(tree)
    if isinstance(ref, dict) and isinstance(tree, dict) and set(ref) == set(tree):
        return [x for k in sorted(ref) for x in align(ref[k], tree[k], what)]
    if isinstance(ref, (list, tuple)) and type(ref) is type(tree) and len(ref) == len(tree):
        return [x for r, t in zip(ref, tree) for x in align(r, t, what)]
    if dataclasses.is_dataclass(ref) and type(ref) is type(tree):
        out = []
        for f in dataclasses.fields(ref):
            r, t = getattr(ref, f.name), getattr(tree, f.name)
            if _is_child(r):
                out.extend(align(r, t, what))
            elif t is not None and _is_child(t):
                break
        else:
            return out
    raise ValueError(
        f"{what} tree {tree_structure(tree)} does not match the parameters' structure "
        f"{tree_structure(ref)} (only None holes may differ)"
    )


def check_leaf(g, p, k: int, what: str = "grads") -> None:
    """Check one gradient/update leaf against its parameter (shape and float dtype)."""
    if not is_array(g):
        raise TypeError(f"{what} leaf {k}: expected a tensor, got {type(g).__name__}")
    if np.dtype(g.dtype).kind != "f":
        raise TypeError(f"{what} leaf {k}: expected a float tensor, got dtype {g.dtype}")
    if p is not None and tuple(g.shape) != tuple(p.shape):
        raise ValueError(
            f"{what} leaf {k} has shape {tuple(g.shape)}, its parameter has shape {tuple(p.shape)}"
        )


def prepare(updates, params, ref_state) -> tuple:
    """Aligned leaf lists ``(g, p, treedef)`` for a transformation's update.

    The reference structure is ``params`` when given, else ``ref_state`` (a moment tree made by
    ``init``), else ``updates`` itself. ``p`` is a list of ``None`` when ``params`` is None.
    """
    ref = params if params is not None else ref_state if ref_state is not None else updates
    ref_leaves, treedef = tree_flatten(ref)
    g = align(ref, updates)
    p = ref_leaves if params is not None else [None] * len(g)
    for k, (gi, pi) in enumerate(zip(g, p)):
        if gi is not None:
            check_leaf(gi, pi, k)
    return g, p, treedef


def moments(state_tree, n: int, what: str) -> list:
    """The leaves of a state moment tree, checked to match ``n`` parameter leaves."""
    leaves = tree_leaves(state_tree)
    if len(leaves) != n:
        raise ValueError(
            f"optimiser state {what!r} has {len(leaves)} leaves but the parameters have {n}; "
            "was the state made by init() of these parameters?"
        )
    return leaves


def check_params(params) -> list:
    """The leaves of ``params``, checked to be float tensors."""
    leaves = tree_leaves(params)
    for k, x in enumerate(leaves):
        if not is_array(x):
            raise TypeError(f"params leaf {k}: expected a tensor, got {type(x).__name__}")
        if np.dtype(x.dtype).kind != "f":
            raise TypeError(f"params leaf {k}: expected a float tensor, got dtype {x.dtype}")
    return leaves


def zeros_tree(params, fill: float = 0.0):
    """A tree shaped like ``params`` with every leaf ``fill`` (same dtypes)."""
    leaves, treedef = tree_flatten(params)
    return tree_unflatten(treedef, [full(x.shape, fill, dtype=x.dtype) for x in leaves])


def init_count() -> Tensor:
    """The step count of a fresh state: an int32 0-d tensor holding 0."""
    return zeros((), dtype=int32)


def lr_at(lr: LearningRate, count):
    """The learning rate at step ``count``: a Python float, or a float64 0-d tensor."""
    if callable(lr):
        return lr(count)
    return lr


def check_lr(lr, who: str) -> None:
    if callable(lr):
        return
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr >= 0:
        raise ValueError(f"{who}: lr must be a float >= 0 or a schedule, got {lr!r}")


def check_range(value, lo: float, hi: float, name: str, who: str, hi_open=True) -> None:
    ok = (
        isinstance(value, (int, float)) and lo <= value and (value < hi if hi_open else value <= hi)
    )
    if not ok:
        rng = f"[{lo}, {hi})" if hi_open else f"[{lo}, {hi}]"
        raise ValueError(f"{who}: {name} must be in {rng}, got {value!r}")


class Scalars:
    """Step scalars (Python floats or float64 0-d tensors) cast once per leaf dtype."""

    def __init__(self, **values):
        self._values = values
        self._cache: dict = {}

    def __call__(self, name: str, dtype):
        v = self._values[name]
        if not is_array(v):
            return v
        key = (name, np.dtype(dtype))
        if key not in self._cache:
            self._cache[key] = v if v.dtype == dtype else v.astype(dtype)
        return self._cache[key]


def as_float64(count):
    """The int32 step count as a float64 0-d tensor (for bias corrections)."""
    return count.astype(float64)
