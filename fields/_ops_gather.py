"""Data-movement primitives behind indexing: strided slices, and indexed gather and scatter.

Primitives (each one Taichi kernel; see :mod:`fieldgrad.fields._layout` and
:mod:`fieldgrad.fields._index_kernels`):

* ``slice``: ``y = x[start_0 : : stride_0, ...]`` with ``shape`` elements per axis (strides may
  be negative). Params ``start``, ``stride``, ``shape`` (one entry per axis). Linear; its
  transpose writes the cotangent into the same strided view of zeros (``slice_update``).
* ``slice_update``: ``x`` with the strided view ``(start, stride, shape)`` replaced by ``v``.
  Linear in ``(x, v)``: the cotangent of ``x`` is ``g`` with the view zeroed, that of ``v`` is
  the ``slice`` of ``g``.
* ``gather``: ``y[o] = x[...]`` through integer indices (params ``axes``, ``x_dims``,
  ``idx_dims``, see :func:`gather_geometry`). Linear in ``x``; its transpose is ``scatter_add``
  into zeros with the same params.
* ``scatter_add``: ``operand`` plus ``updates`` added at the gathered positions (duplicates
  accumulate, with atomic adds). Linear in ``(operand, updates)``: the cotangent of
  ``operand`` is ``g``, that of ``updates`` is ``gather(g)``.
* ``scatter``: ``operand`` with the gathered positions set to ``updates`` (with duplicate
  indices, which update wins is unspecified).

Out-of-range indices: the kernels clamp every index into range, so memory outside a tensor is
never touched, and the public functions validate concrete indices before launching (host
indices with numpy, tensor indices with a min/max kernel); indices that are being traced cannot
be checked and are clamped.
"""

from __future__ import annotations

import numpy as np

from . import _dtypes, _index_kernels, _layout
from ._core import Primitive, ShapedArray, Tracer
from ._tensor import Tensor, tensor

__all__ = ["gather", "scatter_add"]


# --- geometry -----------------------------------------------------------------------------------


def slice_view(xshape: tuple, start: tuple, stride: tuple, shape: tuple) -> tuple:
    """(shape, strides, offset) in elements of the strided view of a contiguous tensor."""
    cs = _layout.contiguous_strides(xshape)
    if any(s == 0 for s in shape):
        return shape, (1,) * len(shape), 0
    offset = sum(b * c for b, c in zip(start, cs))
    return shape, tuple(s * c for s, c in zip(stride, cs)), offset


def _check_slice(xshape, start, stride, shape) -> None:
    if not len(start) == len(stride) == len(shape) == len(xshape):
        raise ValueError(
            f"slice: start {start}, stride {stride} and shape {shape} need one entry per axis of "
            f"a tensor of shape {xshape}"
        )
    for ax, (n, b, st, m) in enumerate(zip(xshape, start, stride, shape)):
        if m == 0:
            continue
        if st == 0 or not (0 <= b < n and 0 <= b + (m - 1) * st < n):
            raise ValueError(
                f"slice: start {b}, stride {st}, {m} elements fall outside axis {ax} of size {n}"
            )


def gather_geometry(xshape: tuple, ishape: tuple, axes: tuple, x_dims: tuple, idx_dims: tuple):
    """Output shape and the strides of a gather, checked.

    ``x`` has shape ``xshape``; the index tensor has shape ``batch + (k,)``: its last axis holds
    one index per indexed axis in ``axes``. Output dimension ``d`` runs along axis
    ``x_dims[d]`` of ``x`` (-1: none) and axis ``idx_dims[d]`` of the index batch (-1: none);
    where it runs along both, their extents broadcast. Every non-indexed axis of ``x`` and
    every batch axis appears exactly once.

    Returns:
        ``(shape, xstr, istr, kdim, kstr)`` for :mod:`fieldgrad.fields._index_kernels`.
    """
    nx = len(xshape)
    k = len(axes)
    if not ishape or ishape[-1] != k:
        raise ValueError(
            f"gather: indices of shape {ishape} need a last axis of length {k} (one index per "
            f"indexed axis {axes})"
        )
    batch = ishape[:-1]
    if len(x_dims) != len(idx_dims) or len(x_dims) > _layout.MAXDIM:
        raise ValueError(f"gather: bad output dims {x_dims} / {idx_dims}")
    free = [a for a in range(nx) if a not in axes]
    if len(set(axes)) != k or any(not 0 <= a < nx for a in axes):
        raise ValueError(f"gather: axes {axes} are not distinct axes of a {nx}-d tensor")
    if sorted(d for d in x_dims if d >= 0) != free:
        raise ValueError(f"gather: x_dims {x_dims} must name each of the axes {free} once")
    if sorted(d for d in idx_dims if d >= 0) != list(range(len(batch))):
        raise ValueError(f"gather: idx_dims {idx_dims} must name each index batch axis once")
    cx = _layout.contiguous_strides(xshape)
    ci = _layout.contiguous_strides(ishape)
    shape, xstr, istr = [], [], []
    for xd, idd in zip(x_dims, idx_dims):
        if xd < 0 and idd < 0:
            raise ValueError(f"gather: output dim with neither an x nor an index axis: {x_dims}")
        sx = xshape[xd] if xd >= 0 else 1
        si = batch[idd] if idd >= 0 else 1
        if sx != si and sx != 1 and si != 1:
            raise ValueError(
                f"gather: x axis {xd} of size {sx} and index axis {idd} of size {si} do not "
                f"broadcast (x shape {xshape}, indices shape {ishape})"
            )
        shape.append(si if sx == 1 else sx)
        xstr.append(cx[xd] if xd >= 0 and sx != 1 else 0)
        istr.append(ci[idd] if idd >= 0 and si != 1 else 0)
    n = int(np.prod(shape, dtype=np.int64))
    for a in axes:
        if xshape[a] == 0 and n:
            raise IndexError(f"cannot index into axis {a} of size 0 (tensor shape {xshape})")
    kdim = tuple(xshape[a] for a in axes)
    kstr = tuple(cx[a] for a in axes)
    return tuple(shape), tuple(xstr), tuple(istr), kdim, kstr


def _check_index_dtype(idx) -> None:
    if not _dtypes.is_int(idx.dtype):
        raise TypeError(f"indices must be int32 or int64, got {idx.dtype.name}")


# --- primitives ---------------------------------------------------------------------------------


def _slice_impl(x: Tensor, *, start: tuple, stride: tuple, shape: tuple) -> Tensor:
    return _layout.gather(x, *slice_view(x.shape, start, stride, shape))


def _slice_abstract(x: ShapedArray, *, start: tuple, stride: tuple, shape: tuple) -> ShapedArray:
    _check_slice(x.shape, start, stride, shape)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


slice_p = Primitive("slice", _slice_impl, _slice_abstract)


def _slice_update_impl(x: Tensor, v: Tensor, *, start: tuple, stride: tuple, shape: tuple):
    return _layout.scatter(x, v, *slice_view(x.shape, start, stride, shape))


def _slice_update_abstract(x, v, *, start: tuple, stride: tuple, shape: tuple) -> ShapedArray:
    _check_slice(x.shape, start, stride, shape)
    if tuple(v.shape) != tuple(shape) or v.dtype != x.dtype:
        raise ValueError(
            f"slice_update: the update must have shape {tuple(shape)} and dtype {x.dtype.name}, "
            f"got {v.dtype.name}{tuple(v.shape)}"
        )
    return ShapedArray(x.shape, x.dtype)


slice_update_p = Primitive("slice_update", _slice_update_impl, _slice_update_abstract)


def _gather_impl(x: Tensor, idx: Tensor, *, axes: tuple, x_dims: tuple, idx_dims: tuple):
    geom = gather_geometry(x.shape, idx.shape, axes, x_dims, idx_dims)
    return _index_kernels.gather(x, idx, geom)


def _gather_abstract(x, idx, *, axes: tuple, x_dims: tuple, idx_dims: tuple) -> ShapedArray:
    _check_index_dtype(idx)
    shape = gather_geometry(x.shape, idx.shape, axes, x_dims, idx_dims)[0]
    return ShapedArray(shape, x.dtype)


gather_p = Primitive("gather", _gather_impl, _gather_abstract)


def _scatter_geometry(name, operand, idx, updates, axes, x_dims, idx_dims):
    _check_index_dtype(idx)
    geom = gather_geometry(operand.shape, idx.shape, axes, x_dims, idx_dims)
    if tuple(updates.shape) != geom[0] or updates.dtype != operand.dtype:
        raise ValueError(
            f"{name}: updates must have shape {geom[0]} and dtype {operand.dtype.name}, got "
            f"{updates.dtype.name}{tuple(updates.shape)}"
        )
    return geom


def _scatter_add_abstract(operand, idx, updates, *, axes, x_dims, idx_dims) -> ShapedArray:
    _scatter_geometry("scatter_add", operand, idx, updates, axes, x_dims, idx_dims)
    if operand.dtype == _dtypes.bool_:
        raise TypeError("scatter_add: bool tensors cannot be added; convert to int32 first")
    return ShapedArray(operand.shape, operand.dtype)


def _scatter_add_impl(operand, idx, updates, *, axes, x_dims, idx_dims) -> Tensor:
    geom = _scatter_geometry("scatter_add", operand, idx, updates, axes, x_dims, idx_dims)
    if operand.dtype == _dtypes.bool_:
        raise TypeError("scatter_add: bool tensors cannot be added; convert to int32 first")
    return _index_kernels.scatter(operand, idx, updates, geom, accumulate=True)


scatter_add_p = Primitive("scatter_add", _scatter_add_impl, _scatter_add_abstract)


def _scatter_abstract(operand, idx, updates, *, axes, x_dims, idx_dims) -> ShapedArray:
    _scatter_geometry("scatter", operand, idx, updates, axes, x_dims, idx_dims)
    return ShapedArray(operand.shape, operand.dtype)


def _scatter_impl(operand, idx, updates, *, axes, x_dims, idx_dims) -> Tensor:
    geom = _scatter_geometry("scatter", operand, idx, updates, axes, x_dims, idx_dims)
    return _index_kernels.scatter(operand, idx, updates, geom, accumulate=False)


scatter_p = Primitive("scatter", _scatter_impl, _scatter_abstract)


# --- index operands -----------------------------------------------------------------------------


def _bool_index_error() -> TypeError:
    return TypeError(
        "boolean mask indices are not supported: the output shape would depend on the data. "
        "Use fg.where(mask, x, fill) to select elementwise, or integer indices"
    )


def host_index(obj) -> np.ndarray:
    """A host integer index array from a list, tuple or numpy array (bools rejected)."""
    a = np.asarray(obj)
    if a.dtype == np.bool_:
        raise _bool_index_error()
    if a.size == 0 and a.dtype.kind not in "iu":
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise IndexError(
            f"arrays used as indices must be of integer type, got {a.dtype.name} ({obj!r})"
        )
    return a.astype(np.int64)


def index_tensor(a: np.ndarray) -> Tensor:
    """A host index array as an int32 (int64 when needed) tensor."""
    small = a.size == 0 or (a.min() >= -(2**31) and a.max() < 2**31)
    return tensor(a, dtype=_dtypes.int32 if small else _dtypes.int64)


def check_bounds(idx, size: int, axis: int) -> None:
    """Raise IndexError when a concrete index is outside ``[-size, size)``; tracers pass."""
    if isinstance(idx, Tracer):
        return
    if isinstance(idx, np.ndarray):
        if idx.size == 0:
            return
        lo, hi = int(idx.min()), int(idx.max())
    else:
        _check_index_dtype(idx)
        if idx.size == 0:
            return
        lo, hi = _index_kernels.index_range(idx)
    bad = lo if lo < -size else hi if hi >= size else None
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")


def as_index(obj):
    """An integer tensor or tracer as it is, or host data as an int64 numpy array (checked)."""
    if isinstance(obj, (Tensor, Tracer)):
        if obj.dtype == _dtypes.bool_:
            raise _bool_index_error()
        if not _dtypes.is_int(obj.dtype):
            raise IndexError(
                f"tensors used as indices must be of integer type, got {obj.dtype.name}"
            )
        return obj
    return host_index(obj)


# --- public functions ---------------------------------------------------------------------------


def _norm_axes(axes, nd: int, k: int) -> tuple:
    from ._ops_shape import _norm_axis

    if axes is None:
        axes = tuple(range(k))
    elif isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    axes = tuple(_norm_axis(a, nd) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axes}")
    if len(axes) != k:
        raise ValueError(
            f"indices with a last axis of length {k} index {k} axes, but axes={axes} names "
            f"{len(axes)}"
        )
    return axes


def _nd_operands(x, indices, axes):
    from ._convert import as_operand

    x = as_operand(x)
    idx = as_index(indices)
    if idx.ndim == 0:
        raise ValueError("gather/scatter_add: indices need a last axis (shape batch + (k,))")
    k = idx.shape[-1]
    axes = _norm_axes(axes, x.ndim, k)
    if isinstance(idx, np.ndarray):
        for m, a in enumerate(axes):
            check_bounds(idx[..., m], x.shape[a], a)
        idx = index_tensor(idx)
    elif not isinstance(idx, Tracer):
        for m, a in enumerate(axes):
            check_bounds(idx if k == 1 else _column(idx, m), x.shape[a], a)
    nb = idx.ndim - 1
    free = [a for a in range(x.ndim) if a not in axes]
    x_dims = (-1,) * nb + tuple(free)
    idx_dims = tuple(range(nb)) + (-1,) * len(free)
    return x, idx, dict(axes=axes, x_dims=x_dims, idx_dims=idx_dims)


def _column(idx: Tensor, m: int) -> Tensor:
    nd = idx.ndim
    start = (0,) * (nd - 1) + (m,)
    shape = idx.shape[:-1] + (1,)
    return slice_p.bind(idx, start=start, stride=(1,) * nd, shape=shape)


def gather(x, indices, axes=None) -> Tensor:
    """Gather elements or slices of ``x`` at integer coordinates (the ``gather`` primitive).

    ``indices`` has shape ``batch + (k,)``: each row of its last axis holds one coordinate per
    axis in ``axes``. ``out[b, r] = x[r with axes[m] set to indices[b, m]]``, where ``r`` runs
    over the remaining axes of ``x`` in order (TensorFlow's ``gather_nd`` generalised to any
    axes). Negative indices count from the end.

    Args:
        x: the source tensor.
        indices: integer tensor, numpy array or nested list of shape ``batch + (k,)``.
        axes: the ``k`` axes of ``x`` that are indexed (default: the first ``k``).

    Returns:
        A tensor of shape ``batch + (x.shape without axes)`` and ``x``'s dtype.

    Raises:
        IndexError: an index is out of range (checked when the indices are concrete).
        TypeError: the indices are not integers.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1, 2], [3, 4]])
        >>> fg.gather(x, [[1, 0], [0, 1]]).tolist()
        [3, 2]
    """
    x, idx, params = _nd_operands(x, indices, axes)
    return gather_p.bind(x, idx, **params)


def scatter_add(x, indices, updates, axes=None) -> Tensor:
    """``x`` plus ``updates`` added at integer coordinates (the transpose of :func:`gather`).

    With ``out = scatter_add(x, indices, updates, axes)``,
    ``out[r with axes set to indices[b]] += updates[b, r]`` for every ``b``; duplicate
    coordinates accumulate (like ``numpy.add.at``). ``x`` is not modified.

    Args:
        x: the tensor added to.
        indices: integer indices of shape ``batch + (k,)`` (see :func:`gather`).
        updates: values broadcastable to ``batch + (x.shape without axes)``; converted to
            ``x``'s dtype.
        axes: the ``k`` axes of ``x`` that are indexed (default: the first ``k``).

    Returns:
        A new tensor of ``x``'s shape and dtype.

    Raises:
        IndexError: an index is out of range (checked when the indices are concrete).

    Example:
        >>> import fieldgrad as fg
        >>> fg.scatter_add(fg.tensor([0.0, 0.0, 0.0]), [[0], [2], [0]], 1.0).tolist()
        [2.0, 0.0, 1.0]
    """
    x, idx, params = _nd_operands(x, indices, axes)
    geom_shape = gather_geometry(x.shape, idx.shape, **params)[0]
    return scatter_add_with(x, idx, updates, geom_shape, params)


def scatter_add_with(x, idx, updates, shape: tuple, params: dict):
    """Bind ``scatter_add`` with ``updates`` cast to ``x``'s dtype and broadcast to ``shape``
    (bool tensors are added as int32 and converted back, which is a logical or)."""
    from ._convert import as_operand, astype
    from ._ops_shape import broadcast_to

    u = broadcast_to(astype(as_operand(updates), x.dtype), shape)
    if x.dtype == _dtypes.bool_:
        xi, ui = astype(x, _dtypes.int32), astype(u, _dtypes.int32)
        return astype(scatter_add_p.bind(xi, idx, ui, **params), _dtypes.bool_)
    return scatter_add_p.bind(x, idx, u, **params)
