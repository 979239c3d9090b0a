"""Loss functions: regression (mse, mae, huber) and classification (cross-entropy family).

Every loss takes predictions first and targets second, checks their shapes (no silent
broadcasting of an ``(N, 1)`` prediction against ``(N,)`` targets), and reduces with
``reduction="mean"`` (default), ``"sum"`` or ``"none"`` (per-element or per-example values).
Targets may be tensors, numpy arrays or nested lists; float targets are cast to the
prediction's dtype. Classification losses are computed from logits through ``fg.logsumexp``,
so they stay finite for logits of any size.

Example:
    >>> import fieldgrad as fg
    >>> from fieldgrad.nn import losses
    >>> float(losses.mse(fg.tensor([1.0, 2.0]), fg.tensor([0.0, 0.0])))
    2.5
    >>> round(float(losses.cross_entropy(fg.tensor([[2.0, 0.0]]), fg.tensor([0]))), 4)
    0.1269
"""

from __future__ import annotations

import numpy as np

import fieldgrad.fields as F
from fieldgrad.fields import Tensor, Tracer

from ._activations import log_softmax

__all__ = [
    "mse",
    "mae",
    "l1",
    "huber",
    "log_softmax",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
]

_REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(x, name: str, fn: str):
    if isinstance(x, (Tensor, Tracer)):
        return x
    try:
        return F.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{fn}: {name} must be a tensor or array, got {type(x).__name__}") from e


def _is_float(x) -> bool:
    return np.dtype(x.dtype).kind == "f"


def _prediction(x, fn: str):
    x = _as_tensor(x, "the prediction", fn)
    if not _is_float(x):
        raise TypeError(f"{fn}: predictions must be float32/float64, got {np.dtype(x.dtype).name}")
    return x


def _float_target(target, like, fn: str):
    target = _as_tensor(target, "the target", fn)
    if tuple(target.shape) != tuple(like.shape):
        raise ValueError(
            f"{fn}: prediction shape {tuple(like.shape)} and target shape "
            f"{tuple(target.shape)} differ (they must be equal; reshape one of them)"
        )
    return target if target.dtype == like.dtype else F.astype(target, like.dtype)


def _reduce(x, reduction: str, fn: str):
    if reduction == "mean":
        return F.mean(x)
    if reduction == "sum":
        return F.sum(x)
    if reduction == "none":
        return x
    raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def mse(pred, target, *, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(pred - target)**2``, reduced.

    Args:
        pred: predictions, any shape.
        target: targets of the same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Raises:
        ValueError: the shapes differ, or an unknown reduction.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import losses
        >>> losses.mse(fg.tensor([1.0, 3.0]), [1.0, 1.0], reduction="none").tolist()
        [0.0, 4.0]
    """
    _check_reduction(reduction, "mse")
    pred = _prediction(pred, "mse")
    d = pred - _float_target(target, pred, "mse")
    return _reduce(d * d, reduction, "mse")


def mae(pred, target, *, reduction: str = "mean") -> Tensor:
    """Mean absolute error (L1 loss) ``|pred - target|``, reduced.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import losses
        >>> float(losses.mae(fg.tensor([1.0, -3.0]), [0.0, 0.0]))
        2.0
    """
    _check_reduction(reduction, "mae")
    pred = _prediction(pred, "mae")
    return _reduce(F.abs(pred - _float_target(target, pred, "mae")), reduction, "mae")


l1 = mae


def huber(pred, target, *, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Huber loss: ``d**2 / 2`` for ``|d| <= delta``, else ``delta * (|d| - delta / 2)``.

    ``d = pred - target``; the same as ``torch.nn.functional.huber_loss``.

    Raises:
        ValueError: ``delta`` is not positive, the shapes differ, or an unknown reduction.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import losses
        >>> losses.huber(fg.tensor([0.5, 3.0]), [0.0, 0.0], reduction="none").tolist()
        [0.125, 2.5]
    """
    _check_reduction(reduction, "huber")
    if not delta > 0:
        raise ValueError(f"huber: delta must be positive, got {delta}")
    pred = _prediction(pred, "huber")
    a = F.abs(pred - _float_target(target, pred, "huber"))
    # min(|d|, delta) * (|d| - min(|d|, delta) / 2) is both branches in one smooth formula.
    q = F.minimum(a, delta)
    return _reduce(q * (a - 0.5 * q), reduction, "huber")


def _class_targets(logits, targets, fn: str):
    """Split targets into ("index", int tensor) or ("prob", float tensor), shapes checked."""
    targets = _as_tensor(targets, "targets", fn)
    batch, c = tuple(logits.shape[:-1]), logits.shape[-1]
    kind = np.dtype(targets.dtype).kind
    if kind in "iu":
        if tuple(targets.shape) != batch:
            raise ValueError(
                f"{fn}: integer class targets must have shape {batch} (logits {tuple(logits.shape)}"
                f" without the class axis), got {tuple(targets.shape)}"
            )
        if isinstance(targets, Tensor) and targets.size:
            t = targets.numpy()
            lo, hi = int(t.min()), int(t.max())
            if lo < 0 or hi >= c:
                raise ValueError(
                    f"{fn}: class targets must lie in [0, {c}) for {c} classes, got values in "
                    f"[{lo}, {hi}]"
                )
        return "index", targets
    if tuple(targets.shape) != tuple(logits.shape):
        hint = " (float class indices? cast them to int)" if tuple(targets.shape) == batch else ""
        raise ValueError(
            f"{fn}: probability targets must have the logits' shape {tuple(logits.shape)}, got "
            f"{tuple(targets.shape)}{hint}"
        )
    return "prob", targets if targets.dtype == logits.dtype else F.astype(targets, logits.dtype)


def _pick(x, targets):
    """``x[..., targets]`` along the last axis (a masked sum: no gather, fuses)."""
    onehot = F.equal(F.expand_dims(targets, -1), F.arange(x.shape[-1], dtype=targets.dtype))
    return F.sum(F.where(onehot, x, 0.0), axis=-1)


def _logits(logits, fn: str):
    logits = _prediction(logits, fn)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(
            f"{fn}: logits need a class axis (last) of length >= 1, got shape {tuple(logits.shape)}"
        )
    return logits


def cross_entropy(
    logits, targets, *, label_smoothing: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """Softmax cross-entropy between logits and class targets.

    The class axis is the last one. With integer targets the loss of an example is
    ``logsumexp(z) - z[t]``; with probability (or one-hot) targets ``q`` it is
    ``sum_c q_c (logsumexp(z) - z_c)``. Label smoothing ``e`` replaces the targets by
    ``(1 - e) q + e / C``, as in ``torch.nn.functional.cross_entropy``.

    Args:
        logits: unnormalised scores.
        targets: integer class indices (any integer dtype) or class probabilities.
        label_smoothing: ``e`` in ``[0, 1]``.
        reduction: ``"mean"`` over examples, ``"sum"`` or ``"none"``.

    Returns:
        A scalar, or the per-example losses (shape ``logits.shape[:-1]``) for ``"none"``.

    Raises:
        ValueError: a shape mismatch (both shapes are named), an index outside ``[0, C)``
            (checked for concrete targets), ``label_smoothing`` outside ``[0, 1]``.

    Shape:
        logits ``(N, C)`` (or ``(..., C)``); targets ``(N,)`` integers or ``(N, C)`` floats.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import losses
        >>> z = fg.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
        >>> [round(v, 4) for v in losses.cross_entropy(z, [2, 0], reduction="none").tolist()]
        [0.4076, 1.0986]
    """
    fn = "cross_entropy"
    _check_reduction(reduction, fn)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
    logits = _logits(logits, fn)
    kind, targets = _class_targets(logits, targets, fn)
    lse = F.logsumexp(logits, axis=-1)
    e = float(label_smoothing)
    if kind == "index":
        loss = lse - _pick(logits, targets)
        if e:
            loss = lse - (1.0 - e) * _pick(logits, targets) - e * F.mean(logits, axis=-1)
    else:
        q = targets if not e else (1.0 - e) * targets + e / logits.shape[-1]
        loss = lse * F.sum(q, axis=-1) - F.sum(q * logits, axis=-1)
    return _reduce(loss, reduction, fn)


def nll_loss(log_probs, targets, *, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``-log_probs[..., t]`` of integer class targets.

    Use with :func:`~fieldgrad.nn.log_softmax` outputs:
    ``cross_entropy(z, t) == nll_loss(log_softmax(z), t)``.

    Raises:
        ValueError: targets are not integers of shape ``log_probs.shape[:-1]``, or out of range.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import losses
        >>> float(losses.nll_loss(fg.tensor([[-0.5, -2.0]]), [1]))
        2.0
    """
    fn = "nll_loss"
    _check_reduction(reduction, fn)
    log_probs = _logits(log_probs, fn)
    kind, targets = _class_targets(log_probs, targets, fn)
    if kind != "index":
        raise ValueError(f"{fn}: targets must be integer class indices, got dtype {targets.dtype}")
    return _reduce(-_pick(log_probs, targets), reduction, fn)


def binary_cross_entropy_with_logits(
    logits, targets, *, pos_weight=None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in ``[0, 1]``, stably.

    ``loss = (1 - y) x + (1 + (w - 1) y) (log1p(exp(-|x|)) + max(-x, 0))`` with positive-class
    weight ``w`` (default 1): finite for any logits, as ``torch``'s function of the same name.

    Args:
        logits: ``x``, any shape.
        targets: ``y`` of the same shape (float or integer 0/1).
        pos_weight: optional weight of positive examples, broadcast against ``x``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import losses
        >>> x = fg.tensor([0.0, 100.0, -100.0])
        >>> [round(v, 4) for v in losses.binary_cross_entropy_with_logits(
        ...     x, [1.0, 1.0, 1.0], reduction="none").tolist()]
        [0.6931, 0.0, 100.0]
    """
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, fn)
    x = _prediction(logits, fn)
    y = _float_target(targets, x, fn)
    soft = F.log1p(F.exp(-F.abs(x))) + F.maximum(-x, 0.0)  # softplus(-x) = -log(sigmoid(x))
    if pos_weight is None:
        loss = (1.0 - y) * x + soft
    else:
        w = _as_tensor(pos_weight, "pos_weight", fn)
        w = w if w.dtype == x.dtype else F.astype(w, x.dtype)
        loss = (1.0 - y) * x + (1.0 + (w - 1.0) * y) * soft
    return _reduce(loss, reduction, fn)
