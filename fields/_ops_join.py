"""Joining and splitting tensors: concatenate (a primitive), stack, split, array_split.

``concatenate`` is a primitive because writing every input once into one output is linear in
the total size, where a composite of updates would copy the output once per input. Its
transpose slices the cotangent back into the inputs' pieces. ``stack`` and the splits are
composites (``expand_dims`` + ``concatenate``; one ``slice`` per piece).
"""

from __future__ import annotations

import operator

import numpy as np

from . import _buffer, _launch, _layout
from ._convert import as_operand, promote
from ._core import Primitive, ShapedArray, Tracer
from ._ops_gather import slice_p
from ._ops_shape import _norm_axis, expand_dims, reshape
from ._tensor import Tensor

__all__ = ["concatenate", "stack", "split", "array_split"]


def _concat_shape(shapes: list, axis: int) -> tuple:
    first = shapes[0]
    for i, s in enumerate(shapes[1:], 1):
        if len(s) != len(first):
            raise ValueError(
                f"concatenate: all tensors need the same number of dimensions, but tensor 0 has "
                f"shape {first} and tensor {i} has shape {s}"
            )
        if s[:axis] != first[:axis] or s[axis + 1 :] != first[axis + 1 :]:
            raise ValueError(
                f"concatenate: tensor 0 has shape {first} and tensor {i} has shape {s}; all "
                f"axes except the concatenation axis {axis} must match"
            )
    total = sum(s[axis] for s in shapes)
    return first[:axis] + (total,) + first[axis + 1 :]


def _concatenate_abstract(*xs: ShapedArray, axis: int) -> ShapedArray:
    dts = {x.dtype for x in xs}
    if len(dts) != 1:
        raise TypeError(
            "primitive 'concatenate' takes operands of one dtype, got "
            + ", ".join(x.dtype.name for x in xs)
            + " (the public function promotes; call it instead)"
        )
    return ShapedArray(_concat_shape([tuple(x.shape) for x in xs], axis), xs[0].dtype)


def _write_view(dst: Tensor, src: Tensor, shape: tuple, strides: tuple, offset: int) -> None:
    """Write the contiguous ``src`` into a strided view of the freshly made ``dst``."""
    n = src.size
    ser = _launch.serial(n)
    k = _launch.kernel(("scatter", ser), lambda: _layout._build_scatter(ser))
    _launch.launch(
        k,
        _buffer.kernel_view(src._buf),
        _buffer.kernel_view(dst._buf),
        n,
        _layout._pad8(shape),
        _layout._pad8(strides),
        int(offset),
    )


def _concatenate_impl(*xs: Tensor, axis: int) -> Tensor:
    aval = _concatenate_abstract(*(x.aval for x in xs), axis=axis)
    out = Tensor._new(_buffer.empty(aval.size, aval.dtype), aval.shape, aval.dtype)
    cs = _layout.contiguous_strides(aval.shape)
    pos = 0
    for x in xs:
        if x.size:
            _write_view(out, x, x.shape, cs, pos * cs[axis])
        pos += x.shape[axis]
    return out


concatenate_p = Primitive("concatenate", _concatenate_impl, _concatenate_abstract)


def _as_sequence(arrays, name: str) -> list:
    if isinstance(arrays, (Tensor, Tracer, np.ndarray)) or not hasattr(arrays, "__iter__"):
        raise TypeError(
            f"{name}: expected a sequence (list or tuple) of tensors, got {type(arrays).__name__}"
        )
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{name}: need at least one tensor")
    return arrays


def concatenate(arrays, axis=0) -> Tensor:
    """Join tensors along an existing axis, as ``numpy.concatenate``.

    Args:
        arrays: a sequence of tensors (or arrays, lists) of one number of dimensions whose
            shapes agree except along ``axis``. Dtypes are promoted to a common one.
        axis: the axis to join along (negative counts from the end); None flattens every
            input first.

    Returns:
        A new tensor whose ``axis`` is the sum of the inputs' lengths.

    Raises:
        ValueError: no inputs, a 0-d input, a bad axis, or shapes that differ off ``axis``
            (both shapes are named).

    Example:
        >>> import fieldgrad as fg
        >>> fg.concatenate([fg.tensor([[1, 2]]), fg.tensor([[3, 4]])], axis=0).tolist()
        [[1, 2], [3, 4]]
    """
    xs = promote(*_as_sequence(arrays, "concatenate"))
    if axis is None:
        xs = [reshape(x, (-1,)) for x in xs]
        axis = 0
    for i, x in enumerate(xs):
        if x.ndim == 0:
            raise ValueError(f"concatenate: tensor {i} is 0-d; 0-d tensors cannot be joined")
    axis = _norm_axis(axis, xs[0].ndim)
    _concat_shape([tuple(x.shape) for x in xs], axis)
    xs = [_strong(x) for x in xs]
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, axis=axis)


def _strong(x):
    if getattr(x, "weak_type", False) and isinstance(x, Tensor):
        return Tensor._new(x._buf, x.shape, x.dtype)
    return x


def stack(arrays, axis=0) -> Tensor:
    """Join tensors of one shape along a new axis, as ``numpy.stack``.

    Args:
        arrays: a sequence of tensors of identical shape (dtypes are promoted).
        axis: where the new axis goes in the result (``-1``: last).

    Returns:
        A tensor with one more dimension, of length ``len(arrays)`` at ``axis``.

    Raises:
        ValueError: the shapes differ (the first mismatching pair is named) or bad axis.

    Example:
        >>> import fieldgrad as fg
        >>> fg.stack([fg.tensor([1, 2]), fg.tensor([3, 4])], axis=1).tolist()
        [[1, 3], [2, 4]]
    """
    xs = [as_operand(a) for a in _as_sequence(arrays, "stack")]
    for i, x in enumerate(xs[1:], 1):
        if tuple(x.shape) != tuple(xs[0].shape):
            raise ValueError(
                f"stack: all tensors need the same shape, but tensor 0 has shape "
                f"{tuple(xs[0].shape)} and tensor {i} has shape {tuple(x.shape)}"
            )
    axis = _norm_axis(axis, xs[0].ndim + 1)
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def _slice_axis(x, axis: int, lo: int, hi: int):
    n = x.shape[axis]
    m = max(0, hi - lo)
    if lo == 0 and m == n:
        return x
    start = [0] * x.ndim
    start[axis] = lo if m else 0
    shape = list(x.shape)
    shape[axis] = m
    return slice_p.bind(x, start=tuple(start), stride=(1,) * x.ndim, shape=tuple(shape))


def _split_at(x, bounds: list, axis: int) -> list:
    n = x.shape[axis]
    out = []
    prev = 0
    for b in bounds + [n]:
        lo, hi = min(max(prev, 0), n), min(max(b, 0), n)
        out.append(_slice_axis(x, axis, lo, max(lo, hi)))
        prev = b
    return out


def _split_indices(indices, n: int) -> list:
    res = []
    for b in indices:
        b = operator.index(b)
        res.append(b + n if b < 0 else b)
    return res


def split(x, indices_or_sections, axis=0) -> list:
    """Split ``x`` into a list of tensors along ``axis``, as ``numpy.split``.

    Args:
        x: the tensor to split.
        indices_or_sections: an int ``N`` (``N`` equal pieces; the axis length must divide
            evenly), or a sorted sequence of split points (``[2, 5]`` gives ``x[:2]``,
            ``x[2:5]``, ``x[5:]`` along ``axis``; points past the end give empty pieces).
        axis: the axis to split along.

    Returns:
        A list of new tensors.

    Raises:
        ValueError: ``N`` does not divide the axis length, ``N < 1``, or a bad axis.

    Example:
        >>> import fieldgrad as fg
        >>> [p.tolist() for p in fg.split(fg.tensor([1, 2, 3, 4]), [1, 3])]
        [[1], [2, 3], [4]]
    """
    x = as_operand(x)
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor cannot be split")
    axis = _norm_axis(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections < 1:
            raise ValueError(f"split: the number of sections must be >= 1, got {sections}")
        if n % sections:
            raise ValueError(
                f"split does not result in an equal division: axis {axis} of length {n} into "
                f"{sections} sections (use array_split for unequal pieces)"
            )
        return array_split(x, sections, axis)
    return _split_at(x, _split_indices(indices_or_sections, n), axis)


def array_split(x, indices_or_sections, axis=0) -> list:
    """Like :func:`split`, but ``N`` sections need not divide the axis length
    (the first ``n % N`` pieces get one element more), as ``numpy.array_split``.

    Example:
        >>> import fieldgrad as fg
        >>> [p.shape for p in fg.array_split(fg.zeros(5), 2)]
        [(3,), (2,)]
    """
    x = as_operand(x)
    if x.ndim == 0:
        raise ValueError("array_split: a 0-d tensor cannot be split")
    axis = _norm_axis(axis, x.ndim)
    n = x.shape[axis]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return _split_at(x, _split_indices(indices_or_sections, n), axis)
    sections = int(indices_or_sections)
    if sections < 1:
        raise ValueError(f"array_split: the number of sections must be >= 1, got {sections}")
    each, extra = divmod(n, sections)
    bounds, pos = [], 0
    for i in range(sections - 1):
        pos += each + (1 if i < extra else 0)
        bounds.append(pos)
    return _split_at(x, bounds, axis)
