"""RMSprop: gradients scaled by a running root mean square, optionally centred."""

from __future__ import annotations

from typing import Any, NamedTuple

from fieldgrad.fields import Tensor, sqrt, tree_unflatten

from . import _leaves
from ._base import GradientTransformation, Optimizer
from ._leaves import LearningRate

__all__ = ["rmsprop", "RMSpropState"]


class RMSpropState(NamedTuple):
    """State of :func:`rmsprop`.

    Attributes:
        count: steps taken, an int32 0-d tensor.
        square_avg: running mean of the squared gradients.
        grad_avg: running mean of the gradients (``centered``), or None.
        momentum: momentum buffers (``momentum > 0``), or None.
    """

    count: Tensor
    square_avg: Any
    grad_avg: Any
    momentum: Any


def rmsprop(
    lr: LearningRate,
    alpha: float = 0.99,
    eps: float = 1e-8,
    momentum: float = 0.0,
    centered: bool = False,
    weight_decay: float = 0.0,
) -> Optimizer:
    """RMSprop, step for step as ``torch.optim.RMSprop``.

    With gradient ``g``::

        g <- g + weight_decay * p
        s <- alpha * s + (1 - alpha) * g^2
        a <- alpha * a + (1 - alpha) * g                  (centered only)
        d = sqrt(s - a^2) + eps  (centered)  or  sqrt(s) + eps
        b <- momentum * b + g / d;  p <- p - lr * b       (momentum > 0)
        p <- p - lr * g / d                               (otherwise)

    Args:
        lr: learning rate, a float or a schedule ``count -> lr``.
        alpha: smoothing constant of the running means, in [0, 1).
        eps: added to the denominator.
        momentum: momentum factor in [0, 1).
        centered: normalise by the estimated variance instead of the second moment.
        weight_decay: L2 penalty coefficient.

    Returns:
        An :class:`Optimizer` whose state is an :class:`RMSpropState`.

    Raises:
        ValueError: a hyperparameter out of range.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.rmsprop(0.01, alpha=0.75)
        >>> p = fg.tensor([1.0])
        >>> p, s = opt.update(fg.tensor([3.0]), opt.init(p), p)
        >>> p.numpy().astype(float).round(4).tolist()   # 1 - 0.01 * 3 / sqrt(0.25 * 9)
        [0.98]
    """
    who = "rmsprop"
    _leaves.check_lr(lr, who)
    _leaves.check_range(alpha, 0.0, 1.0, "alpha", who)
    _leaves.check_range(momentum, 0.0, 1.0, "momentum", who)
    if not isinstance(eps, (int, float)) or not eps >= 0:
        raise ValueError(f"{who}: eps must be a float >= 0, got {eps!r}")
    if not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValueError(f"{who}: weight_decay must be a float >= 0, got {weight_decay!r}")
    use_momentum = momentum != 0

    def init(params):
        _leaves.check_params(params)
        z = _leaves.zeros_tree
        return RMSpropState(
            _leaves.init_count(),
            z(params),
            z(params) if centered else None,
            z(params) if use_momentum else None,
        )

    def update(updates, state, params=None):
        if weight_decay and params is None:
            raise ValueError(f"{who}: weight_decay needs params in update()")
        g, p, treedef = _leaves.prepare(updates, params, state.square_avg)
        n = len(g)
        sq = _leaves.moments(state.square_avg, n, "square_avg")
        ga = _leaves.moments(state.grad_avg, n, "grad_avg") if centered else [None] * n
        mb = _leaves.moments(state.momentum, n, "momentum") if use_momentum else [None] * n
        sc = _leaves.Scalars(lr=_leaves.lr_at(lr, state.count))
        out, new_sq, new_ga, new_mb = [], [], [], []
        for k, (gk, pk) in enumerate(zip(g, p)):
            if gk is None:
                out.append(None)
                new_sq.append(sq[k])
                new_ga.append(ga[k])
                new_mb.append(mb[k])
                continue
            if weight_decay:
                gk = gk + weight_decay * pk.astype(gk.dtype)
            s = alpha * sq[k] + (1.0 - alpha) * (gk * gk)
            new_sq.append(s)
            if centered:
                a = alpha * ga[k] + (1.0 - alpha) * gk
                new_ga.append(a)
                denom = sqrt(s - a * a) + eps
            else:
                denom = sqrt(s) + eps
            step = gk / denom
            if use_momentum:
                step = momentum * mb[k] + step
                new_mb.append(step)
            out.append(-sc("lr", gk.dtype) * step)

        def unflat(leaves, on=True):
            return tree_unflatten(treedef, leaves) if on else None

        state = RMSpropState(
            state.count + 1, unflat(new_sq), unflat(new_ga, centered), unflat(new_mb, use_momentum)
        )
        return unflat(out), state

    name = (
        f"rmsprop(lr={lr!r}, alpha={alpha}, eps={eps}, momentum={momentum}, "
        f"centered={centered}, weight_decay={weight_decay})"
    )
    return Optimizer(GradientTransformation(init, update, name))
