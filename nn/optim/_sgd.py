"""Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from typing import Any, NamedTuple

from fieldgrad.fields import Tensor, tree_unflatten, where

from . import _leaves
from ._base import GradientTransformation, Optimizer
from ._leaves import LearningRate

__all__ = ["sgd", "SGDState"]


class SGDState(NamedTuple):
    """State of :func:`sgd`: the step count and the momentum buffers (None without momentum)."""

    count: Tensor
    momentum: Any


def sgd(
    lr: LearningRate,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> Optimizer:
    """Stochastic gradient descent, step for step as ``torch.optim.SGD``.

    With gradient ``g``, parameter ``p`` and buffer ``b`` (``b = g`` on the first step)::

        g <- g + weight_decay * p
        b <- momentum * b + (1 - dampening) * g
        p <- p - lr * (g + momentum * b if nesterov else b)

    Without momentum the step is ``p <- p - lr * g``.

    Args:
        lr: learning rate, a float or a schedule ``count -> lr``.
        momentum: momentum factor in [0, 1).
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        weight_decay: L2 penalty added to the gradient.
        dampening: dampening of the momentum in [0, 1].

    Returns:
        An :class:`Optimizer` whose state is an :class:`SGDState`.

    Raises:
        ValueError: a hyperparameter out of range, or Nesterov without plain momentum.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.sgd(0.5, momentum=0.9)
        >>> p = fg.tensor([1.0])
        >>> s = opt.init(p)
        >>> for _ in range(2):
        ...     p, s = opt.update(fg.tensor([1.0]), s, p)
        >>> round(float(p.numpy()[0]), 4)   # 1 - 0.5 * 1 - 0.5 * 1.9
        -0.45
    """
    who = "sgd"
    _leaves.check_lr(lr, who)
    _leaves.check_range(momentum, 0.0, 1.0, "momentum", who)
    _leaves.check_range(dampening, 0.0, 1.0, "dampening", who, hi_open=False)
    if not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"{who}: weight_decay must be a float >= 0, got {weight_decay!r}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"{who}: nesterov needs momentum > 0 and dampening == 0")
    use_momentum = momentum != 0

    def init(params):
        _leaves.check_params(params)
        buf = _leaves.zeros_tree(params) if use_momentum else None
        return SGDState(_leaves.init_count(), buf)

    def update(updates, state, params=None):
        if weight_decay and params is None:
            raise ValueError(f"{who}: weight_decay needs params in update()")
        g, p, treedef = _leaves.prepare(updates, params, state.momentum)
        bufs = _leaves.moments(state.momentum, len(g), "momentum") if use_momentum else None
        sc = _leaves.Scalars(lr=_leaves.lr_at(lr, state.count))
        first = state.count == 0
        out, new_bufs = [], []
        for k, (gk, pk) in enumerate(zip(g, p)):
            if gk is None:
                out.append(None)
                if use_momentum:
                    new_bufs.append(bufs[k])
                continue
            if weight_decay:
                gk = gk + weight_decay * pk.astype(gk.dtype)
            if use_momentum:
                b = momentum * bufs[k] + (1.0 - dampening) * gk
                if dampening:
                    b = where(first, gk, b)  # torch starts the buffer at g, undamped
                new_bufs.append(b)
                gk = gk + momentum * b if nesterov else b
            out.append(-sc("lr", gk.dtype) * gk)
        new_mom = tree_unflatten(treedef, new_bufs) if use_momentum else None
        return tree_unflatten(treedef, out), SGDState(state.count + 1, new_mom)

    name = (
        f"sgd(lr={lr!r}, momentum={momentum}, nesterov={nesterov}, "
        f"weight_decay={weight_decay}, dampening={dampening})"
    )
    return Optimizer(GradientTransformation(init, update, name))
