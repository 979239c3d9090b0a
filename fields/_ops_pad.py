"""Padding: constant, periodic (numpy's "wrap"), reflect, symmetric and edge borders.

Constant padding writes ``x`` into a broadcast of the constant (``slice_update``); the other
modes gather each padded axis once at a host-computed index vector, so a periodic or
reflecting halo for a stencil costs one kernel per padded axis.
"""

from __future__ import annotations

import numpy as np

from ._convert import as_operand, astype
from ._ops_gather import slice_update_p
from ._ops_rearrange import take_host
from ._ops_shape import broadcast_to
from ._tensor import Tensor

__all__ = ["pad"]

MODES = ("constant", "edge", "periodic", "wrap", "reflect", "symmetric")


def _pad_width(pad_width, nd: int) -> list:
    try:
        w = np.asarray(pad_width)
    except ValueError:
        w = np.asarray([])  # ragged: reported below
    if w.dtype.kind not in "iu" and w.size:
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    try:
        w = np.broadcast_to(w, (nd, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} must be an int, a (before, after) pair, or one pair "
            f"per axis for a tensor of {nd} dimensions"
        ) from None
    if (w < 0).any():
        raise ValueError(f"pad: pad widths must be >= 0, got {pad_width!r}")
    return [(int(b), int(e)) for b, e in w]


def _source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    i = np.arange(-before, n + after)
    if mode == "edge" or n == 1:
        return np.clip(i, 0, n - 1)
    if mode == "periodic":
        return i % n
    if mode == "reflect":
        period = 2 * n - 2
        m = i % period
        return np.where(m >= n, period - m, m)
    period = 2 * n  # symmetric
    m = i % period
    return np.where(m >= n, period - 1 - m, m)


def pad(x, pad_width, mode="constant", constant_values=0) -> Tensor:
    """Pad ``x`` with a border along each axis, as ``numpy.pad``.

    Args:
        x: the tensor.
        pad_width: an int (the same before and after every axis), a ``(before, after)`` pair
            for every axis, or one pair per axis ``((b0, a0), (b1, a1), ...)``.
        mode: ``"constant"`` (fill with ``constant_values``), ``"periodic"`` (alias ``"wrap"``:
            the opposite side's values, as for periodic boundary conditions), ``"reflect"``
            (mirror without repeating the edge: ``3 2 | 1 2 3 | 2 1``), ``"symmetric"``
            (mirror repeating the edge: ``2 1 | 1 2 3 | 3 2``) or ``"edge"`` (repeat the edge
            value). Pads wider than the axis repeat the pattern, as numpy does.
        constant_values: the fill value of ``"constant"`` mode (a scalar or 0-d tensor,
            converted to ``x``'s dtype).

    Returns:
        A new tensor of shape ``x.shape[d] + before_d + after_d`` per axis.

    Raises:
        ValueError: an unknown mode (the valid ones are listed), negative or malformed
            ``pad_width``, or a non-constant mode on an empty axis that is padded.

    Example:
        >>> import fieldgrad as fg
        >>> fg.pad(fg.tensor([1, 2, 3]), 2, mode="periodic").tolist()
        [2, 3, 1, 2, 3, 1, 2]
    """
    if mode not in MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; valid modes are {', '.join(MODES)}")
    mode = "periodic" if mode == "wrap" else mode
    x = as_operand(x)
    widths = _pad_width(pad_width, x.ndim)
    if all(b == 0 and e == 0 for b, e in widths):
        return x
    if mode == "constant":
        c = as_operand(constant_values)
        if c.ndim != 0:
            raise ValueError(
                f"pad: constant_values must be a scalar, got shape {tuple(c.shape)}; pad one "
                "axis at a time for different values"
            )
        shape = tuple(n + b + e for n, (b, e) in zip(x.shape, widths))
        base = broadcast_to(astype(c, x.dtype), shape)
        if x.size == 0:
            return base
        return slice_update_p.bind(
            base,
            x,
            start=tuple(b for b, _ in widths),
            stride=(1,) * x.ndim,
            shape=tuple(x.shape),
        )
    for axis, (b, e) in enumerate(widths):
        if b == 0 and e == 0:
            continue
        n = x.shape[axis]
        if n == 0:
            raise ValueError(
                f"pad: cannot pad the empty axis {axis} (tensor shape {tuple(x.shape)}) in "
                f"mode {mode!r}; only 'constant' mode pads empty axes"
            )
        x = take_host(x, _source_index(n, b, e, mode), axis)
    return x
