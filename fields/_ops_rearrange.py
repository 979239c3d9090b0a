"""Rearranging elements: flip, roll, tile and repeat (composites of the layout primitives).

``flip`` is one ``slice`` with negative strides; ``tile`` and ``repeat`` with a constant count
are one ``broadcast_to`` between free reshapes; ``roll`` and ``repeat`` with per-element counts
are one ``gather`` per axis with an index vector computed on the host (it depends only on
shapes and the Python arguments).
"""

from __future__ import annotations

import operator

import numpy as np

from ._convert import as_operand
from ._core import Tracer
from ._ops_gather import gather_p, index_tensor, slice_p
from ._ops_shape import _norm_axis, broadcast_to, reshape
from ._tensor import Tensor

__all__ = ["flip", "roll", "tile", "repeat"]


def _axes(axis, nd: int, name: str) -> tuple:
    if axis is None:
        return tuple(range(nd))
    axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
    axes = tuple(_norm_axis(a, nd) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axis in {tuple(axis)}")
    return axes


def take_host(x, index: np.ndarray, axis: int):
    """``x`` gathered along ``axis`` at a host vector of valid, non-negative indices."""
    idx = index_tensor(np.asarray(index, dtype=np.int64).reshape(-1, 1))
    nd = x.ndim
    return gather_p.bind(
        x,
        idx,
        axes=(axis,),
        x_dims=tuple(range(axis)) + (-1,) + tuple(range(axis + 1, nd)),
        idx_dims=(-1,) * axis + (0,) + (-1,) * (nd - axis - 1),
    )


def flip(x, axis=None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes when None), as ``numpy.flip``.

    One strided copy (a ``slice`` with stride -1 on the flipped axes).

    Args:
        x: the tensor.
        axis: None, an int or a tuple of ints.

    Raises:
        ValueError: an axis out of range (the number of dimensions is named) or repeated.

    Example:
        >>> import fieldgrad as fg
        >>> fg.flip(fg.tensor([[1, 2], [3, 4]]), axis=1).tolist()
        [[2, 1], [4, 3]]
    """
    x = as_operand(x)
    axes = _axes(axis, x.ndim, "flip")
    axes = tuple(a for a in axes if x.shape[a] > 1)
    if not axes or x.size == 0:
        return x
    start = tuple(x.shape[a] - 1 if a in axes else 0 for a in range(x.ndim))
    stride = tuple(-1 if a in axes else 1 for a in range(x.ndim))
    return slice_p.bind(x, start=start, stride=stride, shape=tuple(x.shape))


def roll(x, shift, axis=None) -> Tensor:
    """Shift elements cyclically along axes, as ``numpy.roll``.

    Args:
        x: the tensor.
        shift: an int or a tuple of ints: elements move ``shift`` places toward higher
            indices, those past the end come back at the start.
        axis: an int or tuple of ints matching ``shift`` (an int ``shift`` applies to every
            axis given; a repeated axis adds its shifts); None rolls the flattened tensor and
            restores the shape.

    Raises:
        ValueError: ``shift`` and ``axis`` have different lengths, or a bad axis.

    Example:
        >>> import fieldgrad as fg
        >>> fg.roll(fg.tensor([1, 2, 3, 4]), 1).tolist()
        [4, 1, 2, 3]
    """
    x = as_operand(x)
    if axis is None:
        if isinstance(shift, (tuple, list)):
            raise ValueError("roll: with axis=None, shift must be a single int")
        flat = roll(reshape(x, (-1,)), shift, 0)
        return reshape(flat, tuple(x.shape))
    shifts = shift if isinstance(shift, (tuple, list)) else None
    axes = axis if isinstance(axis, (tuple, list)) else None
    if shifts is None and axes is None:
        pairs = [(operator.index(shift), axis)]
    elif shifts is None:
        pairs = [(operator.index(shift), a) for a in axes]
    elif axes is None:
        pairs = [(operator.index(s), axis) for s in shifts]
    elif len(shifts) != len(axes):
        raise ValueError(
            f"roll: shift {tuple(shifts)} and axis {tuple(axes)} need the same number of elements"
        )
    else:
        pairs = [(operator.index(s), a) for s, a in zip(shifts, axes)]
    total: dict = {}
    for s, a in pairs:
        a = _norm_axis(a, x.ndim)
        total[a] = total.get(a, 0) + s
    for a, s in sorted(total.items()):
        n = x.shape[a]
        if n == 0 or s % n == 0:
            continue
        x = take_host(x, (np.arange(n) - s) % n, a)
    return x


def tile(x, reps) -> Tensor:
    """Repeat the whole of ``x`` ``reps`` times along each axis, as ``numpy.tile``.

    Args:
        x: the tensor.
        reps: an int or a tuple of non-negative ints; a shorter one is padded with 1s in
            front, a shorter ``x`` is treated as having leading axes of length 1.

    Returns:
        A tensor of shape ``x.shape * reps`` (elementwise, after the padding above).

    Raises:
        ValueError: a negative repetition count.

    Example:
        >>> import fieldgrad as fg
        >>> fg.tile(fg.tensor([1, 2]), (2, 2)).tolist()
        [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = as_operand(x)
    reps = (reps,) if not isinstance(reps, (tuple, list)) else tuple(reps)
    reps = tuple(operator.index(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: repetition counts must be >= 0, got {reps}")
    nd = max(len(reps), x.ndim)
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - x.ndim) + tuple(x.shape)
    inter = tuple(v for s in shape for v in (1, s))
    big = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    out = tuple(r * s for r, s in zip(reps, shape))
    return reshape(broadcast_to(reshape(x, inter), big), out)


def _counts(repeats) -> np.ndarray:
    if isinstance(repeats, Tracer):
        raise TypeError(
            "repeat: traced repetition counts are not supported: the output shape depends on "
            "their values; pass a Python int, list or a concrete tensor"
        )
    a = np.asarray(repeats)
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise TypeError(f"repeat: counts must be integers, got {a.dtype.name}")
    a = a.astype(np.int64)
    if a.ndim > 1:
        raise ValueError(f"repeat: counts must be an int or a 1-D sequence, got shape {a.shape}")
    if (a < 0).any():
        raise ValueError(f"repeat: counts must be >= 0, got {a.tolist()}")
    return a


def repeat(x, repeats, axis=None) -> Tensor:
    """Repeat each element of ``x`` along ``axis``, as ``numpy.repeat``.

    Args:
        x: the tensor.
        repeats: an int (every element the same number of times) or a sequence of one count
            per element along ``axis`` (a concrete tensor is read on the host: the output
            shape depends on it).
        axis: the axis to repeat along; None repeats the flattened tensor.

    Returns:
        A new tensor, ``axis`` lengthened to the sum of the counts.

    Raises:
        ValueError: negative counts, or counts whose length differs from the axis length.

    Example:
        >>> import fieldgrad as fg
        >>> fg.repeat(fg.tensor([1, 2]), [1, 3]).tolist()
        [1, 2, 2, 2]
    """
    x = as_operand(x)
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    if x.ndim == 0:
        x = reshape(x, (1,))
    axis = _norm_axis(axis, x.ndim)
    n = x.shape[axis]
    counts = _counts(repeats)
    if counts.ndim == 1 and counts.size == 1:
        counts = counts.reshape(())
    if counts.ndim == 0:
        r = int(counts)
        shape = tuple(x.shape)
        inter = shape[: axis + 1] + (1,) + shape[axis + 1 :]
        big = shape[: axis + 1] + (r,) + shape[axis + 1 :]
        out = shape[:axis] + (n * r,) + shape[axis + 1 :]
        return reshape(broadcast_to(reshape(x, inter), big), out)
    if counts.size != n:
        raise ValueError(
            f"repeat: {counts.size} counts given for axis {axis} of length {n} "
            f"(tensor shape {tuple(x.shape)})"
        )
    index = np.repeat(np.arange(n), counts)
    if index.size == n and (index == np.arange(n)).all():
        return x
    return take_host(x, index, axis)
