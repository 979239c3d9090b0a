"""A learning-rate factor held in the optimiser state, for changes decided during training.

Schedules (``nn.optim.schedules``) fix the learning rate as a function of the step count when
the optimiser is made. A decision taken while training (reduce on a plateau, a user's rule)
needs the rate in the *state*: :func:`scale_learning_rate` wraps an optimiser so every update
is multiplied by a factor stored as a 0-d tensor in its state. Changing the factor with
:func:`set_lr_scale` changes the effective learning rate of SGD, Adam, AdamW, RMSprop and
Adagrad exactly as changing their ``lr`` would (their updates are linear in ``lr``), without
a retrace of a jitted step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from fieldgrad.fields import Tensor, astype, tensor, tree_map

from ._base import GradientTransformation, Optimizer, _as_transformation
from ._leaves import is_array

__all__ = ["ScaledState", "scale_learning_rate", "set_lr_scale", "get_lr_scale"]


class ScaledState(NamedTuple):
    """State of :func:`scale_learning_rate`: the inner state and the factor (float64 0-d)."""

    inner: Any
    scale: Tensor


def scale_learning_rate(opt, scale: float = 1.0) -> Optimizer:
    """``opt`` with its updates multiplied by a factor kept in the state.

    Args:
        opt: an Optimizer or GradientTransformation.
        scale: the initial factor.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.scale_learning_rate(nn.optim.sgd(1.0))
        >>> p = {"w": fg.tensor([1.0])}
        >>> s = nn.optim.set_lr_scale(opt.init(p), 0.1)
        >>> new, _ = opt.update({"w": fg.tensor([2.0])}, s, p)
        >>> new["w"].numpy().astype(float).round(3).tolist()
        [0.8]
    """
    inner = _as_transformation(opt)

    def init(params):
        return ScaledState(inner.init(params), tensor(float(scale), dtype="float64"))

    def update(updates, state, params=None):
        if not isinstance(state, ScaledState):
            raise TypeError(
                f"scale_learning_rate: expected a ScaledState (from init), got "
                f"{type(state).__name__}"
            )
        new, inner_state = inner.update(updates, state.inner, params)

        def scaled(u):
            return u * astype(state.scale, u.dtype) if is_array(u) else u

        return tree_map(scaled, new), ScaledState(inner_state, state.scale)

    return Optimizer(GradientTransformation(init, update, f"scale_learning_rate({inner!r})"))


def _find(state, fn):
    """``state`` with ``fn`` applied to every ScaledState in it (nested tuples, lists, dicts)."""
    if isinstance(state, ScaledState):
        return fn(state)
    if isinstance(state, tuple) and not hasattr(type(state), "_fields"):
        return tuple(_find(s, fn) for s in state)
    if isinstance(state, list):
        return [_find(s, fn) for s in state]
    if isinstance(state, dict):
        return {k: _find(v, fn) for k, v in state.items()}
    return state


def set_lr_scale(state, value: float):
    """A copy of the optimiser ``state`` with the factor of every ScaledState set to ``value``.

    Raises:
        ValueError: the state holds no ScaledState (wrap the optimiser with
            :func:`scale_learning_rate`).
    """
    found = []

    def put(s: ScaledState):
        found.append(s)
        return ScaledState(s.inner, tensor(float(value), dtype="float64"))

    new = _find(state, put)
    if not found:
        raise ValueError(
            "set_lr_scale: the optimiser state has no learning-rate factor; make the optimiser "
            "with nn.optim.scale_learning_rate(opt)"
        )
    return new


def get_lr_scale(state) -> float:
    """The factor of the first ScaledState in ``state``.

    Raises:
        ValueError: the state holds no ScaledState.
    """
    found = []
    _find(state, lambda s: found.append(s) or s)
    if not found:
        raise ValueError(
            "get_lr_scale: the optimiser state has no learning-rate factor; make the optimiser "
            "with nn.optim.scale_learning_rate(opt)"
        )
    return float(found[0].scale)
