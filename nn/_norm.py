"""Normalisation layers: LayerNorm, BatchNorm and GroupNorm (PyTorch semantics).

All three compute ``(x - mean) / sqrt(var + eps)`` with the biased variance, then an optional
per-feature affine map ``* weight + bias``; they differ in the axes the statistics run over.
``BatchNorm`` also keeps running statistics in buffers: in training mode it reports their new
values through :func:`fieldgrad.nn.record`, so ``y, model = nn.apply(model, x)`` returns the
updated model (a plain call leaves them unchanged); in eval mode it normalises with them.
"""

from __future__ import annotations

import numbers
from typing import Optional

import fieldgrad as fg
from fieldgrad.fields import Tensor

from ._conv import _ints
from ._module import Module, buffer
from ._state import record

__all__ = ["LayerNorm", "BatchNorm", "BatchNorm1d", "BatchNorm2d", "GroupNorm"]


def _eps(eps, owner: str) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"{owner}: eps must be a number >= 0, got {eps!r}")
    return float(eps)


def _normalize(x, axes, eps: float):
    mean = fg.mean(x, axis=axes, keepdims=True)
    xc = x - mean
    var = fg.mean(xc * xc, axis=axes, keepdims=True)
    return xc * fg.rsqrt(var + eps)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes, as ``nn.LayerNorm``.

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias``, statistics over the last
    ``len(normalized_shape)`` axes of each sample.

    Args:
        normalized_shape: an int or a tuple: the trailing shape of the input.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        dtype: parameter dtype (default: the default float dtype).

    Shape:
        Input (*, *normalized_shape); output the same shape.

    Raises:
        ValueError: an input whose trailing shape is not ``normalized_shape`` (both named).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> ln = nn.LayerNorm(3)
        >>> [round(v, 3) for v in ln(fg.tensor([[1.0, 2.0, 3.0]])).tolist()[0]]
        [-1.225, 0.0, 1.225]
    """

    weight: Optional[Tensor]
    bias: Optional[Tensor]
    normalized_shape: tuple
    eps: float

    def __init__(
        self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, dtype=None
    ):
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
            raise ValueError(
                f"LayerNorm: normalized_shape must be an int or a non-empty tuple of ints, got "
                f"{normalized_shape!r}"
            )
        n = len(normalized_shape)
        self.normalized_shape = _ints(
            tuple(normalized_shape), n, "normalized_shape", "LayerNorm", 1
        )
        self.eps = _eps(eps, "LayerNorm")
        self.weight = fg.ones(self.normalized_shape, dtype) if elementwise_affine else None
        self.bias = fg.zeros(self.normalized_shape, dtype) if elementwise_affine else None

    def __call__(self, x, *, key=None) -> Tensor:
        x = fg.asarray(x)
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k :]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm: input of shape {tuple(x.shape)} does not end in normalized_shape "
                f"{self.normalized_shape}"
            )
        y = _normalize(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        if self.weight is not None:
            y = y * self.weight + self.bias
        return y


def _channel_input(x, c: int, owner: str):
    x = fg.asarray(x)
    if x.ndim < 2 or x.shape[1] != c:
        raise ValueError(
            f"{owner}: input must have shape (N, C, *spatial) with C = {c}, got shape "
            f"{tuple(x.shape)}"
        )
    return x


class BatchNorm(Module):
    """Batch normalisation over every axis but the channel axis 1, as ``nn.BatchNorm1d/2d``.

    Training mode normalises with the batch statistics (biased variance) and records
    ``running = (1 - momentum) * running + momentum * batch`` for ``running_mean`` and
    ``running_var`` (the latter from the unbiased batch variance); collect the update with
    ``y, model = nn.apply(model, x)``. Eval mode (``model.eval()``) normalises with the running
    statistics.

    Args:
        num_features: the number of channels C.
        eps: added to the variance.
        momentum: weight of the batch statistics in the running update, in [0, 1].
        affine: learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
        training: start in training mode.
        dtype: dtype of parameters and buffers (default: the default float dtype).

    Shape:
        Input (N, C) or (N, C, *spatial); output the same shape. ``running_mean`` and
        ``running_var`` (buffers, initially zeros and ones) and the parameters are (C,).

    Raises:
        ValueError: an input without C channels at axis 1 (its shape named), or a training
            batch with a single value per channel.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> bn = nn.BatchNorm(2)
        >>> y, bn = nn.apply(bn, fg.tensor([[0.0, 2.0], [2.0, 6.0]]))
        >>> [[round(v, 4) for v in row] for row in y.tolist()]
        [[-1.0, -1.0], [1.0, 1.0]]
        >>> [round(v, 4) for v in bn.running_var.tolist()]
        [1.1, 1.7]
    """

    weight: Optional[Tensor]
    bias: Optional[Tensor]
    running_mean: Tensor = buffer()
    running_var: Tensor = buffer()
    num_features: int
    eps: float
    momentum: float
    training: bool

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        training: bool = True,
        dtype=None,
    ):
        self.num_features = _ints(num_features, 1, "num_features", "BatchNorm", 1)[0]
        self.eps = _eps(eps, "BatchNorm")
        if (
            isinstance(momentum, bool)
            or not isinstance(momentum, numbers.Real)
            or not (0.0 <= momentum <= 1.0)
        ):
            raise ValueError(f"BatchNorm: momentum must be a number in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.training = bool(training)
        c = (self.num_features,)
        self.weight = fg.ones(c, dtype) if affine else None
        self.bias = fg.zeros(c, dtype) if affine else None
        self.running_mean = fg.zeros(c, dtype)
        self.running_var = fg.ones(c, dtype)

    def __call__(self, x, *, key=None) -> Tensor:
        c = self.num_features
        x = _channel_input(x, c, f"BatchNorm(num_features={c})")
        axes = (0, *range(2, x.ndim))
        bshape = (1, c) + (1,) * (x.ndim - 2)
        if self.training:
            n = x.size // c
            if n < 2:
                raise ValueError(
                    f"BatchNorm: training needs more than one value per channel, got input of "
                    f"shape {tuple(x.shape)}"
                )
            mean = fg.mean(x, axis=axes, keepdims=True)
            xc = x - mean
            var = fg.mean(xc * xc, axis=axes, keepdims=True)
            y = xc * fg.rsqrt(var + self.eps)
            m, rm, rv = self.momentum, self.running_mean, self.running_var
            batch_mean = fg.reshape(mean, (c,))
            batch_var = fg.reshape(var, (c,)) * (n / (n - 1))
            record(
                self,
                running_mean=fg.astype((1 - m) * rm + m * batch_mean, rm.dtype),
                running_var=fg.astype((1 - m) * rv + m * batch_var, rv.dtype),
            )
        else:
            mean = fg.reshape(self.running_mean, bshape)
            inv = fg.rsqrt(fg.reshape(self.running_var, bshape) + self.eps)
            y = (x - mean) * inv
        if self.weight is not None:
            y = y * fg.reshape(self.weight, bshape) + fg.reshape(self.bias, bshape)
        return y


BatchNorm1d = BatchNorm
BatchNorm2d = BatchNorm


class GroupNorm(Module):
    """Group normalisation, as ``nn.GroupNorm``: statistics per sample over channel groups.

    The C channels are split into ``num_groups`` groups of ``C / num_groups``; each group of
    each sample (with all its spatial positions) is normalised, then a per-channel affine map is
    applied. The same in training and eval mode.

    Args:
        num_groups: the number of groups; must divide ``num_channels``.
        num_channels: the number of channels C.
        eps: added to the variance.
        affine: learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
        dtype: parameter dtype (default: the default float dtype).

    Shape:
        Input (N, C, *spatial); output the same shape.

    Raises:
        ValueError: ``num_groups`` does not divide ``num_channels``, or an input without C
            channels at axis 1 (its shape named).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> gn = nn.GroupNorm(2, 4)
        >>> [round(v, 3) for v in gn(fg.tensor([[1.0, 3.0, 5.0, 5.0]])).tolist()[0]]
        [-1.0, 1.0, 0.0, 0.0]
    """

    weight: Optional[Tensor]
    bias: Optional[Tensor]
    num_groups: int
    num_channels: int
    eps: float

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, dtype=None
    ):
        self.num_groups = _ints(num_groups, 1, "num_groups", "GroupNorm", 1)[0]
        self.num_channels = _ints(num_channels, 1, "num_channels", "GroupNorm", 1)[0]
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}"
            )
        self.eps = _eps(eps, "GroupNorm")
        c = (self.num_channels,)
        self.weight = fg.ones(c, dtype) if affine else None
        self.bias = fg.zeros(c, dtype) if affine else None

    def __call__(self, x, *, key=None) -> Tensor:
        c, g = self.num_channels, self.num_groups
        x = _channel_input(x, c, f"GroupNorm(num_channels={c})")
        shape = tuple(x.shape)
        xg = fg.reshape(x, (shape[0], g, c // g, *shape[2:]))
        y = fg.reshape(_normalize(xg, tuple(range(2, xg.ndim)), self.eps), shape)
        if self.weight is not None:
            bshape = (1, c) + (1,) * (x.ndim - 2)
            y = y * fg.reshape(self.weight, bshape) + fg.reshape(self.bias, bshape)
        return y
