"""Pooling and flattening: max_pool2d, avg_pool2d, MaxPool2d, AvgPool2d, flatten, Flatten.

Pooling is built from public ops. When the stride equals the kernel size (non-overlapping
windows, the common ``MaxPool2d(2)``), the padded and cropped input is reshaped to
``(N, C, H_out, KH, W_out, KW)`` and reduced over the two window axes. Otherwise the
``KH * KW`` window taps are strided slices of the padded input, stacked on a last axis and
reduced. Max pooling pads with ``-inf`` (the smallest integer for integer inputs), so padding
never wins a window.

Gradients of max pooling follow :func:`fieldgrad.max`: where several elements of a window tie
for the maximum, they share the window's gradient equally (PyTorch gives it all to one).
"""

from __future__ import annotations

import numpy as np

import fieldgrad as fg
from fieldgrad.fields import Tensor

from ._conv import _ints
from ._module import Module

__all__ = ["max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d", "flatten", "Flatten"]


def _pool_args(x, kernel_size, stride, padding, fn: str):
    x = fg.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{fn}: input must have shape (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}"
        )
    k = _ints(kernel_size, 2, "kernel_size", fn, 1)
    s = k if stride is None else _ints(stride, 2, "stride", fn, 1)
    p = _ints(padding, 2, "padding", fn, 0)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{fn}: padding {p} must be at most half the kernel size {k}")
    h, w = x.shape[-2:]
    out = tuple((n + 2 * pi - ki) // si + 1 for n, pi, ki, si in zip((h, w), p, k, s))
    if min(out) < 1:
        raise ValueError(
            f"{fn}: kernel {k} is larger than the padded input of shape {tuple(x.shape)} "
            f"(padding {p})"
        )
    return x, k, s, p, out


def _pool(x, k, s, p, out, fill, reduce):
    """Reduce every (k, s, p) window of the last two axes of ``x`` with ``reduce(t, axes)``."""
    lead = tuple((0, 0) for _ in range(x.ndim - 2))
    if p != (0, 0):
        x = fg.pad(x, (*lead, (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    (kh, kw), (sh, sw), (oh, ow) = k, s, out
    front = x.shape[:-2]
    if (sh, sw) == (kh, kw):
        if x.shape[-2:] != (oh * kh, ow * kw):
            x = x[..., : oh * kh, : ow * kw]
        x = fg.reshape(x, (*front, oh, kh, ow, kw))
        return reduce(x, (-3, -1))
    taps = [
        x[..., a : a + sh * (oh - 1) + 1 : sh, b : b + sw * (ow - 1) + 1 : sw]
        for a in range(kh)
        for b in range(kw)
    ]
    return reduce(fg.stack(taps, axis=-1), -1)


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d`` (floor mode, no dilation).

    ``y[n, c, i, j] = max_{a < KH, b < KW} x_pad[n, c, i*sh + a, j*sw + b]`` with ``x_pad``
    padded by ``-inf``. Tied maxima share the gradient equally.

    Args:
        x: input (N, C, H, W) or (C, H, W).
        kernel_size: an int or a pair (KH, KW).
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair, at most half the kernel size.

    Returns:
        Tensor of shape (N, C, H_out, W_out), ``H_out = (H + 2*ph - KH) // sh + 1``.

    Raises:
        ValueError: wrong input rank (the shape is named), bad kernel, stride or padding, or a
            kernel larger than the padded input.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> x = fg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> nn.max_pool2d(x, 2).tolist()
        [[[[4.0]]]]
    """
    x, k, s, p, out = _pool_args(x, kernel_size, stride, padding, "max_pool2d")
    dt = np.dtype(x.dtype)
    if dt.kind == "f":
        fill = -np.inf
    elif dt.kind == "b":
        fill = False
    else:
        fill = int(np.iinfo(dt).min)
    return _pool(x, k, s, p, out, fill, lambda t, axes: fg.max(t, axis=axes))


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d`` (floor mode).

    Each output is the mean of its window of the zero-padded input; with
    ``count_include_pad=False`` the padding is left out of the divisor.

    Args:
        x: floating input (N, C, H, W) or (C, H, W).
        kernel_size: an int or a pair (KH, KW).
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair, at most half the kernel size.
        count_include_pad: divide by KH*KW (True) or by the number of real input elements in
            each window (False).

    Returns:
        Tensor of shape (N, C, H_out, W_out), ``H_out = (H + 2*ph - KH) // sh + 1``.

    Raises:
        ValueError: wrong input rank (the shape is named), bad kernel, stride or padding, or a
            kernel larger than the padded input.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> x = fg.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
        >>> nn.avg_pool2d(x, (2, 2), stride=1).tolist()
        [[[[3.0, 4.0]]]]
    """
    x, k, s, p, out = _pool_args(x, kernel_size, stride, padding, "avg_pool2d")
    if np.dtype(x.dtype).kind != "f":
        raise TypeError(f"avg_pool2d: input must be floating point, got {x.dtype}")
    if count_include_pad or p == (0, 0):
        return _pool(x, k, s, p, out, 0, lambda t, axes: fg.mean(t, axis=axes))
    total = _pool(x, k, s, p, out, 0, lambda t, axes: fg.sum(t, axis=axes))
    # number of real (unpadded) elements in each window: a static table
    ones = np.pad(np.ones(x.shape[-2:]), ((p[0], p[0]), (p[1], p[1])))
    win = np.lib.stride_tricks.sliding_window_view(ones, k)[:: s[0], :: s[1]]
    count = win.sum(axis=(-2, -1))[: out[0], : out[1]]
    return total / fg.tensor(count, dtype=x.dtype)


class MaxPool2d(Module):
    """2-D max pooling layer (see :func:`max_pool2d`).

    Args:
        kernel_size: an int or a pair.
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair, at most half the kernel size.

    Shape:
        Input (N, C, H, W) or (C, H, W); output (N, C, H_out, W_out),
        ``H_out = (H + 2*ph - KH) // sh + 1``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> nn.MaxPool2d(2)(fg.ones((1, 3, 8, 6))).shape
        (1, 3, 4, 3)
    """

    kernel_size: tuple
    stride: tuple
    padding: tuple

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size = _ints(kernel_size, 2, "kernel_size", "MaxPool2d", 1)
        self.stride = (
            self.kernel_size if stride is None else _ints(stride, 2, "stride", "MaxPool2d", 1)
        )
        self.padding = _ints(padding, 2, "padding", "MaxPool2d", 0)

    def __call__(self, x, *, key=None) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(Module):
    """2-D average pooling layer (see :func:`avg_pool2d`).

    Args:
        kernel_size: an int or a pair.
        stride: an int or a pair (default: ``kernel_size``).
        padding: an int or a pair, at most half the kernel size.
        count_include_pad: count padding zeros in the divisor.

    Shape:
        Input (N, C, H, W) or (C, H, W); output (N, C, H_out, W_out),
        ``H_out = (H + 2*ph - KH) // sh + 1``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> nn.AvgPool2d(3, stride=1, padding=1)(fg.ones((2, 1, 5, 5))).shape
        (2, 1, 5, 5)
    """

    kernel_size: tuple
    stride: tuple
    padding: tuple
    count_include_pad: bool

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        self.kernel_size = _ints(kernel_size, 2, "kernel_size", "AvgPool2d", 1)
        self.stride = (
            self.kernel_size if stride is None else _ints(stride, 2, "stride", "AvgPool2d", 1)
        )
        self.padding = _ints(padding, 2, "padding", "AvgPool2d", 0)
        self.count_include_pad = bool(count_include_pad)

    def __call__(self, x, *, key=None) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)


def _axis(d: int, ndim: int, what: str, shape) -> int:
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise ValueError(f"flatten: {what}={d} is out of range for a tensor of shape {shape}")
    return d % max(ndim, 1)


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` (inclusive) into one, as ``torch.flatten``.

    Args:
        x: the tensor.
        start_dim: first axis merged (default 0: flatten everything).
        end_dim: last axis merged (negative counts from the end).

    Returns:
        A tensor of rank ``x.ndim - (end - start)`` (a 0-d input gives shape (1,)).

    Raises:
        ValueError: an axis out of range or ``start_dim`` after ``end_dim`` (shape named).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> nn.flatten(fg.ones((2, 3, 4)), 1).shape
        (2, 12)
    """
    x = fg.asarray(x)
    shape = tuple(x.shape)
    if x.ndim == 0:
        _axis(start_dim, 0, "start_dim", shape)
        _axis(end_dim, 0, "end_dim", shape)
        return fg.reshape(x, (1,))
    s = _axis(start_dim, x.ndim, "start_dim", shape)
    e = _axis(end_dim, x.ndim, "end_dim", shape)
    if s > e:
        raise ValueError(
            f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for shape {shape}"
        )
    merged = int(np.prod(shape[s : e + 1], dtype=np.int64))
    return fg.reshape(x, (*shape[:s], merged, *shape[e + 1 :]))


class Flatten(Module):
    """Flatten axes ``start_dim..end_dim`` (default: all but the batch axis), as ``nn.Flatten``.

    Args:
        start_dim: first axis merged (default 1).
        end_dim: last axis merged (default -1).

    Shape:
        Input (N, *rest); output (N, prod(rest)) with the defaults.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> nn.Flatten()(fg.ones((2, 3, 4, 5))).shape
        (2, 60)
    """

    start_dim: int = 1
    end_dim: int = -1

    def __call__(self, x, *, key=None) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)
