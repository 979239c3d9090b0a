"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from typing import Any, NamedTuple

from fieldgrad.fields import Tensor, sqrt, tree_unflatten

from . import _leaves
from ._base import GradientTransformation, Optimizer
from ._leaves import LearningRate

__all__ = ["adagrad", "AdagradState"]


class AdagradState(NamedTuple):
    """State of :func:`adagrad`: the step count and the sums of squared gradients."""

    count: Tensor
    sum_sq: Any


def adagrad(
    lr: LearningRate,
    lr_decay: float = 0.0,
    eps: float = 1e-10,
    initial_accumulator_value: float = 0.0,
    weight_decay: float = 0.0,
) -> Optimizer:
    """Adagrad, step for step as ``torch.optim.Adagrad``.

    At step ``t = 1, 2, ...`` with gradient ``g``::

        g <- g + weight_decay * p
        S <- S + g^2                      (S starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(S) + eps)

    Args:
        lr: learning rate, a float or a schedule ``count -> lr``.
        lr_decay: learning-rate decay per step (>= 0).
        eps: added to the denominator.
        initial_accumulator_value: starting value of the sums (>= 0).
        weight_decay: L2 penalty coefficient.

    Returns:
        An :class:`Optimizer` whose state is an :class:`AdagradState`.

    Raises:
        ValueError: a hyperparameter out of range.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.adagrad(0.5)
        >>> p = fg.tensor([1.0])
        >>> p, s = opt.update(fg.tensor([4.0]), opt.init(p), p)
        >>> p.numpy().astype(float).round(4).tolist()   # 1 - 0.5 * 4 / sqrt(16)
        [0.5]
    """
    who = "adagrad"
    _leaves.check_lr(lr, who)
    for name, v in (
        ("lr_decay", lr_decay),
        ("eps", eps),
        ("initial_accumulator_value", initial_accumulator_value),
        ("weight_decay", weight_decay),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise ValueError(f"{who}: {name} must be a float >= 0, got {v!r}")

    def init(params):
        _leaves.check_params(params)
        return AdagradState(
            _leaves.init_count(), _leaves.zeros_tree(params, float(initial_accumulator_value))
        )

    def update(updates, state, params=None):
        if weight_decay and params is None:
            raise ValueError(f"{who}: weight_decay needs params in update()")
        g, p, treedef = _leaves.prepare(updates, params, state.sum_sq)
        acc = _leaves.moments(state.sum_sq, len(g), "sum_sq")
        lr_t = _leaves.lr_at(lr, state.count)
        if lr_decay:
            lr_t = lr_t / (1.0 + _leaves.as_float64(state.count) * lr_decay)
        sc = _leaves.Scalars(lr=lr_t)
        out, new_acc = [], []
        for k, (gk, pk) in enumerate(zip(g, p)):
            if gk is None:
                out.append(None)
                new_acc.append(acc[k])
                continue
            if weight_decay:
                gk = gk + weight_decay * pk.astype(gk.dtype)
            s = acc[k] + gk * gk
            new_acc.append(s)
            out.append(-sc("lr", gk.dtype) * (gk / (sqrt(s) + eps)))
        state = AdagradState(state.count + 1, tree_unflatten(treedef, new_acc))
        return tree_unflatten(treedef, out), state

    name = (
        f"adagrad(lr={lr!r}, lr_decay={lr_decay}, eps={eps}, "
        f"initial_accumulator_value={initial_accumulator_value}, weight_decay={weight_decay})"
    )
    return Optimizer(GradientTransformation(init, update, name))
