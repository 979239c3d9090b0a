"""Gradient clipping: by global norm, by value, and the global norm of a tree."""

from __future__ import annotations

import numpy as np

from fieldgrad.fields import (
    Tensor,
    float64,
    maximum,
    result_type,
    sqrt,
    tree_leaves,
    tree_unflatten,
    zeros,
)
from fieldgrad.fields import clip as _clip
from fieldgrad.fields import sum as _sum

from . import _leaves
from ._base import EmptyState, GradientTransformation

__all__ = ["global_norm", "clip_by_global_norm", "clip_by_value", "clip"]


def global_norm(tree) -> Tensor:
    """The L2 norm of all leaves of ``tree`` taken together: ``sqrt(sum_i sum(x_i^2))``.

    Partial sums are accumulated in float64; the result has the leaves' common dtype.

    Args:
        tree: a pytree of float tensors (``None`` holes allowed).

    Returns:
        A 0-d tensor.

    Raises:
        TypeError: a leaf is not a float tensor.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> float(nn.optim.global_norm({"a": fg.tensor([3.0]), "b": [fg.tensor([4.0])]}).numpy())
        5.0
    """
    leaves = tree_leaves(tree)
    for k, x in enumerate(leaves):
        _leaves.check_leaf(x, None, k, "global_norm: tree")
    if not leaves:
        return zeros(())
    total = None
    for x in leaves:
        s = _sum(x * x).astype(float64)
        total = s if total is None else total + s
    dtype = result_type(*[x.dtype for x in leaves])
    norm = sqrt(total)
    return norm if norm.dtype == dtype else norm.astype(dtype)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all updates together so that their global norm is at most ``max_norm``.

    ``u <- u * max_norm / max(global_norm(u), max_norm)``: unchanged when the norm is within
    the bound, otherwise scaled down to it (the direction is kept).

    Args:
        max_norm: the largest allowed global norm (> 0).

    Returns:
        A stateless :class:`GradientTransformation`, e.g. for
        ``chain(clip_by_global_norm(1.0), adam(1e-3))``.

    Raises:
        ValueError: ``max_norm`` is not a positive number.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> t = nn.optim.clip_by_global_norm(1.0)
        >>> u, _ = t.update([fg.tensor([3.0, 4.0])], t.init(None))
        >>> u[0].numpy().astype(float).round(3).tolist()
        [0.6, 0.8]
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be a number > 0, got {max_norm!r}")
    max_norm = float(max_norm)

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        g, _, treedef = _leaves.prepare(updates, params, None)
        present = [x for x in g if x is not None]
        if not present:
            return updates, state
        norm = global_norm(present).astype(float64)
        scale = _leaves.Scalars(s=max_norm / maximum(norm, max_norm))
        out = [None if x is None else x * scale("s", x.dtype) for x in g]
        return tree_unflatten(treedef, out), state

    return GradientTransformation(init, update, f"clip_by_global_norm({max_norm})")


def clip_by_value(min_value: float, max_value: float) -> GradientTransformation:
    """Clip every update entry to ``[min_value, max_value]``.

    Args:
        min_value: the lower bound.
        max_value: the upper bound (>= ``min_value``).

    Returns:
        A stateless :class:`GradientTransformation`.

    Raises:
        ValueError: the bounds are not numbers or ``min_value > max_value``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> t = nn.optim.clip_by_value(-1.0, 0.5)
        >>> u, _ = t.update((fg.tensor([-2.0, 0.25, 3.0]),), t.init(None))
        >>> u[0].numpy().tolist()
        [-1.0, 0.25, 0.5]
    """
    for name, v in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or np.isnan(v):
            raise ValueError(f"clip_by_value: {name} must be a number, got {v!r}")
    if min_value > max_value:
        raise ValueError(f"clip_by_value: min_value {min_value} > max_value {max_value}")

    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        g, _, treedef = _leaves.prepare(updates, params, None)
        out = [None if x is None else _clip(x, min_value, max_value) for x in g]
        return tree_unflatten(treedef, out), state

    return GradientTransformation(init, update, f"clip_by_value({min_value}, {max_value})")


def clip(max_delta: float) -> GradientTransformation:
    """Clip every update entry to ``[-max_delta, max_delta]`` (``clip_by_value`` shorthand).

    Args:
        max_delta: the bound (>= 0).

    Returns:
        A stateless :class:`GradientTransformation`.

    Raises:
        ValueError: ``max_delta`` is negative or not a number.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> t = nn.optim.clip(1.0)
        >>> t.update([fg.tensor([-3.0, 0.5])], t.init(None))[0][0].numpy().tolist()
        [-1.0, 0.5]
    """
    if isinstance(max_delta, bool) or not isinstance(max_delta, (int, float)) or not max_delta >= 0:
        raise ValueError(f"clip: max_delta must be a number >= 0, got {max_delta!r}")
    return clip_by_value(-max_delta, max_delta)
