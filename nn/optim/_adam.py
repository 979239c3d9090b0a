"""Adam and AdamW: adaptive moment estimation with L2 or decoupled weight decay."""

from __future__ import annotations

from typing import Any, NamedTuple

from fieldgrad.fields import Tensor, maximum, power, sqrt, tree_unflatten

from . import _leaves
from ._base import GradientTransformation, Optimizer
from ._leaves import LearningRate

__all__ = ["adam", "adamw", "AdamState"]


class AdamState(NamedTuple):
    """State of :func:`adam` / :func:`adamw`.

    Attributes:
        count: steps taken, an int32 0-d tensor.
        mu: first-moment estimates, shaped like the parameters.
        nu: second-moment estimates.
        nu_max: running maximum of ``nu`` (AMSGrad), or None.
    """

    count: Tensor
    mu: Any
    nu: Any
    nu_max: Any


def _check(lr, b1, b2, eps, weight_decay, who) -> None:
    _leaves.check_lr(lr, who)
    _leaves.check_range(b1, 0.0, 1.0, "b1", who)
    _leaves.check_range(b2, 0.0, 1.0, "b2", who)
    if not isinstance(eps, (int, float)) or not eps >= 0:
        raise ValueError(f"{who}: eps must be a float >= 0, got {eps!r}")
    if not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValueError(f"{who}: weight_decay must be a float >= 0, got {weight_decay!r}")


def _adam(lr, b1, b2, eps, weight_decay, amsgrad, decoupled, who) -> Optimizer:
    _check(lr, b1, b2, eps, weight_decay, who)

    def init(params):
        _leaves.check_params(params)
        nu_max = _leaves.zeros_tree(params) if amsgrad else None
        return AdamState(
            _leaves.init_count(), _leaves.zeros_tree(params), _leaves.zeros_tree(params), nu_max
        )

    def update(updates, state, params=None):
        if weight_decay and params is None:
            raise ValueError(f"{who}: weight_decay needs params in update()")
        g, p, treedef = _leaves.prepare(updates, params, state.mu)
        n = len(g)
        mu = _leaves.moments(state.mu, n, "mu")
        nu = _leaves.moments(state.nu, n, "nu")
        nu_max = _leaves.moments(state.nu_max, n, "nu_max") if amsgrad else [None] * n
        count = state.count + 1
        t = _leaves.as_float64(count)
        lr_t = _leaves.lr_at(lr, state.count)
        # As torch: step = lr / (1 - b1^t), denom = sqrt(v) / sqrt(1 - b2^t) + eps.
        sc = _leaves.Scalars(
            step=lr_t / (1.0 - power(b1, t)),
            bc2_sqrt=sqrt(1.0 - power(b2, t)),
            decay=lr_t * weight_decay,
        )
        out, new_mu, new_nu, new_max = [], [], [], []
        for k, (gk, pk) in enumerate(zip(g, p)):
            if gk is None:
                out.append(None)
                new_mu.append(mu[k])
                new_nu.append(nu[k])
                new_max.append(nu_max[k])
                continue
            dt = gk.dtype
            if weight_decay and not decoupled:
                gk = gk + weight_decay * pk.astype(dt)
            m = b1 * mu[k] + (1.0 - b1) * gk
            v = b2 * nu[k] + (1.0 - b2) * (gk * gk)
            vhat = v
            if amsgrad:
                vhat = maximum(nu_max[k], v)
                new_max.append(vhat)
            u = -sc("step", dt) * (m / (sqrt(vhat) / sc("bc2_sqrt", dt) + eps))
            if weight_decay and decoupled:
                u = u - sc("decay", dt) * pk.astype(dt)
            out.append(u)
            new_mu.append(m)
            new_nu.append(v)
        unflat = lambda leaves: tree_unflatten(treedef, leaves)  # noqa: E731
        state = AdamState(
            count, unflat(new_mu), unflat(new_nu), unflat(new_max) if amsgrad else None
        )
        return unflat(out), state

    name = (
        f"{who}(lr={lr!r}, b1={b1}, b2={b2}, eps={eps}, weight_decay={weight_decay}, "
        f"amsgrad={amsgrad})"
    )
    return Optimizer(GradientTransformation(init, update, name))


def adam(
    lr: LearningRate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
) -> Optimizer:
    """Adam, step for step as ``torch.optim.Adam`` (weight decay is an L2 term on the gradient).

    With gradient ``g`` and step ``t = 1, 2, ...``::

        g <- g + weight_decay * p
        m <- b1 * m + (1 - b1) * g;   v <- b2 * v + (1 - b2) * g^2
        p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    With ``amsgrad`` the running maximum of ``v`` replaces ``v`` in the denominator.

    Args:
        lr: learning rate, a float or a schedule ``count -> lr``.
        b1: decay rate of the first moment, in [0, 1).
        b2: decay rate of the second moment, in [0, 1).
        eps: added to the denominator.
        weight_decay: L2 penalty coefficient.
        amsgrad: use the AMSGrad variant.

    Returns:
        An :class:`Optimizer` whose state is an :class:`AdamState`.

    Raises:
        ValueError: a hyperparameter out of range.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.adam(0.1)
        >>> p = fg.tensor([1.0, -1.0])
        >>> p, s = opt.update(fg.tensor([2.0, -3.0]), opt.init(p), p)
        >>> p.numpy().astype(float).round(4).tolist()   # the first step moves each entry by lr
        [0.9, -0.9]
    """
    return _adam(lr, b1, b2, eps, weight_decay, amsgrad, False, "adam")


def adamw(
    lr: LearningRate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> Optimizer:
    """AdamW, step for step as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    The step is Adam's without the L2 term, and the parameters also shrink by
    ``lr * weight_decay * p`` (``lr`` is the scheduled value at that step).

    Args:
        lr: learning rate, a float or a schedule ``count -> lr``.
        b1: decay rate of the first moment, in [0, 1).
        b2: decay rate of the second moment, in [0, 1).
        eps: added to the denominator.
        weight_decay: decoupled weight decay coefficient.
        amsgrad: use the AMSGrad variant.

    Returns:
        An :class:`Optimizer` whose state is an :class:`AdamState`.

    Raises:
        ValueError: a hyperparameter out of range.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.adamw(0.1, weight_decay=0.5)
        >>> p = fg.tensor([1.0])
        >>> p, s = opt.update(fg.tensor([0.0]), opt.init(p), p)
        >>> p.numpy().astype(float).round(4).tolist()   # only the decay: 1 - 0.1 * 0.5
        [0.95]
    """
    return _adam(lr, b1, b2, eps, weight_decay, amsgrad, True, "adamw")
