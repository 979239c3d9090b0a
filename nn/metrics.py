"""Metrics: classification accuracy and regression errors, on tensors or numpy arrays.

With tensor arguments a metric returns a 0-d tensor (so it runs inside ``fg.jit``, e.g. as a
:class:`~fieldgrad.nn.Trainer` metric); with numpy arrays or lists only it returns a Python
float computed by numpy. Metrics are not meant to be differentiated.

Example:
    >>> import numpy as np
    >>> from fieldgrad.nn import metrics
    >>> metrics.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    >>> metrics.relative_l2_error(np.array([0.0, 4.0]), np.array([0.0, 5.0]))
    0.2
"""

from __future__ import annotations

from typing import Union

import numpy as np

import fieldgrad.fields as F
from fieldgrad.fields import Tensor, Tracer

__all__ = [
    "accuracy",
    "binary_accuracy",
    "relative_l2_error",
    "mean_absolute_error",
    "mean_squared_error",
]

Number = Union[float, Tensor]


def _any_tensor(*xs) -> bool:
    return any(isinstance(x, (Tensor, Tracer)) for x in xs)


def _labels(x, ndim: int, fn: str, what: str):
    """Class labels from labels of rank ``ndim`` or scores of rank ``ndim + 1`` (argmax)."""
    if x.ndim == ndim + 1:
        return x.argmax(axis=-1)
    if x.ndim == ndim:
        return x
    raise ValueError(
        f"{fn}: {what} of shape {tuple(x.shape)} fit neither labels of rank {ndim} nor scores of "
        f"rank {ndim + 1}"
    )


def accuracy(logits_or_labels, targets) -> Number:
    """The fraction of examples whose predicted class equals the target class.

    Predictions are scores/logits with a trailing class axis (argmax taken) or labels of the
    targets' shape. Targets are labels or one-hot/probability rows: float scores of the same
    rank (at least 2) as the targets are compared by the argmax of both.

    Args:
        logits_or_labels: ``(N, C)`` scores or ``(N,)`` labels.
        targets: ``(N,)`` labels or ``(N, C)`` one-hot rows.

    Returns:
        A float in ``[0, 1]`` (a 0-d float32 tensor when an argument is a tensor).

    Raises:
        ValueError: the shapes do not fit together (both are named).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import metrics
        >>> float(metrics.accuracy(fg.tensor([[2.0, 1.0], [0.0, 3.0]]), fg.tensor([0, 0])))
        0.5
    """
    fn = "accuracy"
    tensor_mode = _any_tensor(logits_or_labels, targets)
    conv = F.asarray if tensor_mode else np.asarray
    p, t = conv(logits_or_labels), conv(targets)
    if p.ndim == 0:
        raise ValueError(f"{fn}: predictions must have at least one axis, got a scalar")
    t_rank = t.ndim
    if t.ndim == p.ndim >= 2 and np.dtype(p.dtype).kind == "f":
        t_rank = t.ndim - 1  # float scores beside one-hot or probability rows
    t = _labels(t, t_rank, fn, "targets")
    p = _labels(p, t_rank, fn, "predictions")
    if tuple(p.shape) != tuple(t.shape):
        raise ValueError(
            f"{fn}: predicted labels {tuple(p.shape)} and target labels {tuple(t.shape)} differ "
            f"in shape (inputs {tuple(conv(logits_or_labels).shape)} and "
            f"{tuple(conv(targets).shape)})"
        )
    if not tensor_mode:
        return float(np.mean(p == t)) if p.size else float("nan")
    hit = F.equal(F.astype(p, F.int64), F.astype(t, F.int64))
    return F.mean(F.astype(hit, F.float32))


def binary_accuracy(logits, targets, *, threshold: float = 0.0) -> Number:
    """Accuracy of binary predictions ``logits > threshold`` against 0/1 targets.

    Example:
        >>> from fieldgrad.nn import metrics
        >>> metrics.binary_accuracy([2.0, -1.0, 0.5], [1, 0, 0])
        0.6666666666666666
    """
    tensor_mode = _any_tensor(logits, targets)
    conv = F.asarray if tensor_mode else np.asarray
    x, y = conv(logits), conv(targets)
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(
            f"binary_accuracy: logits {tuple(x.shape)} and targets {tuple(y.shape)} differ in shape"
        )
    if not tensor_mode:
        return float(np.mean((x > threshold) == (y > 0.5)))
    hit = F.equal(F.greater(x, threshold), F.greater(y, 0.5))
    return F.mean(F.astype(hit, F.float32))


def _pair(pred, ref, fn: str):
    tensor_mode = _any_tensor(pred, ref)
    conv = F.asarray if tensor_mode else np.asarray
    p, r = conv(pred), conv(ref)
    if tuple(p.shape) != tuple(r.shape):
        raise ValueError(f"{fn}: pred shape {tuple(p.shape)} and ref shape {tuple(r.shape)} differ")
    if tensor_mode and p.dtype != r.dtype:
        dt = p.dtype if np.dtype(p.dtype).kind == "f" else r.dtype
        p, r = F.astype(p, dt), F.astype(r, dt)
    return tensor_mode, p, r


def relative_l2_error(pred, ref) -> Number:
    """``||pred - ref||_2 / ||ref||_2`` over all elements (the usual PINN accuracy measure).

    Raises:
        ValueError: the shapes differ, or ``ref`` is zero (numpy inputs; checked when concrete).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn import metrics
        >>> round(float(metrics.relative_l2_error(fg.tensor([1.0, 1.0]), fg.tensor([1.0, 2.0]))), 4)
        0.4472
    """
    fn = "relative_l2_error"
    tensor_mode, p, r = _pair(pred, ref, fn)
    if not tensor_mode:
        p, r = p.astype(np.float64), r.astype(np.float64)
        den = float(np.linalg.norm(r))
        if den == 0.0:
            raise ValueError(f"{fn}: the reference is zero (its norm is 0)")
        return float(np.linalg.norm(p - r)) / den
    d = p - r
    return F.sqrt(F.sum(d * d) / F.sum(r * r))


def mean_absolute_error(pred, ref) -> Number:
    """``mean(|pred - ref|)``.

    Example:
        >>> from fieldgrad.nn import metrics
        >>> metrics.mean_absolute_error([1.0, 2.0], [0.0, 4.0])
        1.5
    """
    tensor_mode, p, r = _pair(pred, ref, "mean_absolute_error")
    if not tensor_mode:
        return float(np.mean(np.abs(p.astype(np.float64) - r)))
    return F.mean(F.abs(p - r))


def mean_squared_error(pred, ref) -> Number:
    """``mean((pred - ref)**2)``.

    Example:
        >>> from fieldgrad.nn import metrics
        >>> metrics.mean_squared_error([1.0, 2.0], [0.0, 4.0])
        2.5
    """
    tensor_mode, p, r = _pair(pred, ref, "mean_squared_error")
    if not tensor_mode:
        return float(np.mean((p.astype(np.float64) - r) ** 2))
    d = p - r
    return F.mean(d * d)
