"""Shape primitives: reshape, transpose, broadcast_to and the composites built on them.

Reshape is free (a new shape over the same immutable buffer); transpose and broadcast_to
materialise a strided view with the layout kernels of :mod:`fieldgrad.fields._layout`.
"""

from __future__ import annotations

import operator

from . import _layout
from ._convert import as_operand
from ._core import Primitive, ShapedArray
from ._tensor import Tensor

__all__ = [
    "reshape",
    "transpose",
    "permute",
    "broadcast_to",
    "expand_dims",
    "squeeze",
    "moveaxis",
]


def _norm_axis(axis: int, ndim: int, what: str = "axis") -> int:
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {type(axis).__name__}") from None
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"{what} {axis} is out of range for a tensor of {ndim} dimensions")
    return axis % ndim if ndim else 0


def _resolve_shape(shape, size: int, old_shape: tuple) -> tuple:
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(operator.index(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension can be -1, got {shape}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise ValueError(f"reshape: negative dimension in {shape}")
            known *= s
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape a tensor of shape {old_shape} into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise ValueError(
            f"cannot reshape a tensor of shape {old_shape} ({size} elements) into shape {shape} "
            f"({known} elements)"
        )
    return shape


# --- primitives ---------------------------------------------------------------------------------


def _reshape_impl(x: Tensor, *, new_shape: tuple) -> Tensor:
    return Tensor._new(x._buf, new_shape, x.dtype, x.weak_type)


def _reshape_abstract(x: ShapedArray, *, new_shape: tuple) -> ShapedArray:
    return ShapedArray(new_shape, x.dtype, x.weak_type)


reshape_p = Primitive("reshape", _reshape_impl, _reshape_abstract)


def _transpose_impl(x: Tensor, *, perm: tuple) -> Tensor:
    strides = _layout.contiguous_strides(x.shape)
    return _layout.gather(x, tuple(x.shape[p] for p in perm), tuple(strides[p] for p in perm))


def _transpose_abstract(x: ShapedArray, *, perm: tuple) -> ShapedArray:
    return ShapedArray(tuple(x.shape[p] for p in perm), x.dtype, x.weak_type)


transpose_p = Primitive("transpose", _transpose_impl, _transpose_abstract)


def _broadcast_impl(x: Tensor, *, shape: tuple) -> Tensor:
    return _layout.broadcast_to(x, shape)


def _broadcast_abstract(x: ShapedArray, *, shape: tuple) -> ShapedArray:
    return ShapedArray(shape, x.dtype, x.weak_type)


broadcast_to_p = Primitive("broadcast_to", _broadcast_impl, _broadcast_abstract)


# --- public functions ---------------------------------------------------------------------------


def reshape(x, shape) -> Tensor:
    """``x`` with a new shape of the same size (one entry may be -1). Costs no copy.

    Raises:
        ValueError: the sizes differ (both shapes are named).

    Example:
        >>> import fieldgrad as fg
        >>> fg.reshape(fg.arange(6), (2, -1)).shape
        (2, 3)
    """
    x = as_operand(x)
    new_shape = _resolve_shape(shape, x.size, x.shape)
    if new_shape == x.shape:
        return x
    return reshape_p.bind(x, new_shape=new_shape)


def transpose(x, axes=None) -> Tensor:
    """Permute the axes of ``x`` (reverse them when ``axes`` is None), as ``numpy.transpose``.

    Raises:
        ValueError: ``axes`` is not a permutation of the axes of ``x``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.transpose(fg.zeros((2, 3, 4)), (1, 2, 0)).shape
        (3, 4, 2)
    """
    x = as_operand(x)
    nd = x.ndim
    if axes is None:
        perm = tuple(range(nd - 1, -1, -1))
    else:
        perm = tuple(_norm_axis(a, nd) for a in axes)
        if sorted(perm) != list(range(nd)):
            raise ValueError(
                f"transpose: axes {tuple(axes)} are not a permutation of the {nd} axes of a "
                f"tensor of shape {x.shape}"
            )
    if perm == tuple(range(nd)):
        return x
    return transpose_p.bind(x, perm=perm)


def permute(x, *axes) -> Tensor:
    """PyTorch-style alias of :func:`transpose` with explicit axes: ``permute(x, 2, 0, 1)``."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return transpose(x, axes)


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape`` by numpy's rules (materialised).

    Raises:
        ValueError: the shapes are not compatible (both are named).

    Example:
        >>> import fieldgrad as fg
        >>> fg.broadcast_to(fg.ones(3), (2, 3)).shape
        (2, 3)
    """
    x = as_operand(x)
    shape = (shape,) if isinstance(shape, int) else tuple(operator.index(s) for s in shape)
    if len(shape) < x.ndim or _layout.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"cannot broadcast a tensor of shape {x.shape} to shape {shape}")
    if shape == x.shape:
        return x
    return broadcast_to_p.bind(x, shape=shape)


def expand_dims(x, axis) -> Tensor:
    """Insert axes of length one at ``axis`` (an int or a tuple of ints)."""
    x = as_operand(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = x.ndim + len(axes)
    axes = sorted(_norm_axis(a, nd) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"expand_dims: repeated axis in {axis}")
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None) -> Tensor:
    """Remove axes of length one (all of them, or those in ``axis``).

    Raises:
        ValueError: an axis in ``axis`` does not have length one.
    """
    x = as_operand(x)
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = {_norm_axis(a, x.ndim) for a in axes}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(s for k, s in enumerate(x.shape) if k not in axes))


def moveaxis(x, source, destination) -> Tensor:
    """Move axes of ``x`` to new positions, keeping the others in order (``numpy.moveaxis``).

    Args:
        x: the tensor.
        source: an axis or a sequence of axes to move.
        destination: their new positions (as many as ``source``).

    Raises:
        ValueError: ``source`` and ``destination`` differ in length, repeat an axis, or name an
            axis ``x`` does not have.

    Example:
        >>> import fieldgrad as fg
        >>> fg.moveaxis(fg.zeros((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    x = as_operand(x)
    nd = x.ndim
    src = (source,) if not isinstance(source, (tuple, list)) else tuple(source)
    dst = (destination,) if not isinstance(destination, (tuple, list)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: source {src} and destination {dst} need the same number of elements"
        )
    src = tuple(_norm_axis(a, nd, "source axis") for a in src)
    dst = tuple(_norm_axis(a, nd, "destination axis") for a in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {src} or destination {dst}")
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))
