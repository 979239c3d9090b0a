"""Gradient transformations, their composition and the optimiser wrapper.

A :class:`GradientTransformation` is a pair of pure functions, as in optax::

    state = t.init(params)
    updates, state = t.update(grads, state, params)

Its ``updates`` are the changes to *add* to the parameters (a descent step is negative). An
:class:`Optimizer` wraps one transformation and also applies the updates::

    params, state = opt.update(grads, state, params)

Parameters, gradients and updates are pytrees of float tensors. ``None`` holes (from
``nn.partition``) are empty containers; a ``None`` in the gradients where the parameters hold a
tensor leaves that tensor and its optimiser state unchanged. States are NamedTuples of tensors
whose step count is an int32 0-d tensor, so a jitted training step traces once.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

from fieldgrad.fields import tree_flatten, tree_unflatten

from ._leaves import align, check_leaf

__all__ = [
    "GradientTransformation",
    "Optimizer",
    "EmptyState",
    "chain",
    "apply_updates",
]


class EmptyState(NamedTuple):
    """The state of a stateless transformation (no leaves)."""


@dataclasses.dataclass(frozen=True, eq=False)
class GradientTransformation:
    """A pure ``(init, update)`` pair that turns gradients into parameter updates.

    Args:
        init: ``init(params) -> state``.
        update: ``update(updates, state, params=None) -> (updates, state)``.
        name: a description shown by ``repr``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> t = nn.optim.clip_by_value(-1.0, 1.0)
        >>> u, _ = t.update({"w": fg.tensor([3.0, -0.5])}, t.init(None))
        >>> u["w"].numpy().tolist()
        [1.0, -0.5]
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple]
    name: str = "transformation"

    def __repr__(self) -> str:
        return self.name


@dataclasses.dataclass(frozen=True, eq=False)
class Optimizer:
    """An optimiser: a gradient transformation that also applies its updates.

    Args:
        transformation: the :class:`GradientTransformation` that makes the updates.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.sgd(0.1)
        >>> params = {"w": fg.tensor([1.0, 2.0])}
        >>> state = opt.init(params)
        >>> params, state = opt.update({"w": fg.tensor([1.0, 1.0])}, state, params)
        >>> params["w"].numpy().astype(float).round(3).tolist()
        [0.9, 1.9]
    """

    transformation: GradientTransformation

    def init(self, params) -> Any:
        """The initial state for ``params`` (a pytree of float tensors)."""
        return self.transformation.init(params)

    def transform(self, grads, state, params=None) -> tuple:
        """``(updates, new_state)``: the updates to add to ``params``, for chaining."""
        return self.transformation.update(grads, state, params)

    def update(self, grads, state, params) -> tuple:
        """One step: ``(new_params, new_state)``.

        Args:
            grads: gradients, a pytree shaped like ``params`` (``None`` holes allowed).
            state: the state from :meth:`init` or from the previous step.
            params: the current parameters.

        Returns:
            The updated parameters (each leaf keeps its dtype) and the new state.
        """
        if params is None:
            raise ValueError(
                "Optimizer.update needs the current params; use transform() "
                "to get updates without parameters"
            )
        updates, state = self.transformation.update(grads, state, params)
        return apply_updates(params, updates), state

    def __repr__(self) -> str:
        return f"Optimizer({self.transformation!r})"


def _as_transformation(t) -> GradientTransformation:
    if isinstance(t, Optimizer):
        return t.transformation
    if isinstance(t, GradientTransformation):
        return t
    raise TypeError(
        f"chain: expected GradientTransformation or Optimizer arguments, got {type(t).__name__}"
    )


def chain(*transforms) -> Optimizer:
    """Compose transformations left to right; the result is an :class:`Optimizer`.

    Args:
        *transforms: GradientTransformations or Optimizers, e.g. ``clip_by_global_norm(1.0)``
            then ``adam(1e-3)``.

    Returns:
        An Optimizer whose state is the tuple of the parts' states.

    Raises:
        TypeError: an argument is not a transformation.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.chain(nn.optim.clip_by_global_norm(1.0), nn.optim.sgd(1.0))
        >>> params = {"w": fg.tensor([0.0, 0.0])}
        >>> new, _ = opt.update({"w": fg.tensor([3.0, 4.0])}, opt.init(params), params)
        >>> new["w"].numpy().astype(float).round(3).tolist()
        [-0.6, -0.8]
    """
    parts = tuple(_as_transformation(t) for t in transforms)

    def init(params):
        return tuple(t.init(params) for t in parts)

    def update(updates, state, params=None):
        if not isinstance(state, tuple) or len(state) != len(parts):
            raise ValueError(
                f"chain: expected a state tuple of {len(parts)} parts (from init), got "
                f"{type(state).__name__}"
            )
        new_states = []
        for t, s in zip(parts, state):
            updates, s = t.update(updates, s, params)
            new_states.append(s)
        return updates, tuple(new_states)

    name = "chain(" + ", ".join(repr(t) for t in parts) + ")"
    return Optimizer(GradientTransformation(init, update, name))


def apply_updates(params, updates):
    """``params + updates`` leaf by leaf; each result keeps its parameter's dtype.

    A ``None`` update leaves its parameter unchanged.

    Raises:
        ValueError: the trees or a pair of leaf shapes do not match.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> p = nn.optim.apply_updates([fg.tensor([1.0])], [fg.tensor([0.5])])
        >>> p[0].numpy().tolist()
        [1.5]
    """
    p_leaves, treedef = tree_flatten(params)
    u_leaves = align(params, updates, "updates")
    out = []
    for k, (p, u) in enumerate(zip(p_leaves, u_leaves)):
        if u is None:
            out.append(p)
            continue
        check_leaf(u, p, k, "updates")
        out.append(p + (u if u.dtype == p.dtype else u.astype(p.dtype)))
    return tree_unflatten(treedef, out)
