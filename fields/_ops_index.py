"""Indexing: ``x[idx]``, take, take_along_axis, index_add and functional updates ``x.at[idx]``.

Everything here is a composite of the primitives of :mod:`fieldgrad.fields._ops_gather`
(``slice``, ``slice_update``, ``gather``, ``scatter``, ``scatter_add``) and a free reshape, so
it works under every transformation.

Supported indices (numpy semantics): integers (negative count from the end), slices with any
step (negative too), ``...``, ``None`` (:data:`newaxis`), and integer arrays (tensors, numpy
arrays, lists) on one or more axes, combined with all of these. Boolean masks are rejected with
a TypeError: their output shape depends on the data; use ``fg.where``.

Out-of-range indices raise IndexError. Integers and host arrays are checked on the host; index
tensors are checked by a small min/max kernel before the gather, whose kernel also clamps every
index into range (so nothing outside a tensor is ever read or written). Index tensors that are
being traced (under ``jit``) cannot be checked: they are clamped.
"""

from __future__ import annotations

import numpy as np

from . import _dtypes
from ._convert import as_operand, astype
from ._index_parse import make_plan
from ._ops_gather import (
    as_index,
    check_bounds,
    gather_geometry,
    gather_p,
    index_tensor,
    scatter_add_with,
    scatter_p,
    slice_p,
    slice_update_p,
)
from ._ops_shape import _norm_axis, broadcast_to, reshape
from ._tensor import Tensor

__all__ = ["getitem", "take", "take_along_axis", "index_add", "AtIndexer", "newaxis"]

newaxis = None


def getitem(x, index) -> Tensor:
    """``x[index]`` with numpy's indexing rules (what the ``[]`` operator calls).

    Args:
        x: the tensor indexed.
        index: an int, slice, ``...``, None, integer array (tensor, numpy array, list), or a
            tuple of these.

    Returns:
        A new tensor (basic indexing is one strided copy; array indexing one gather).

    Raises:
        IndexError: an index is out of range (the index and the axis size are named), too many
            indices, index arrays that do not broadcast together.
        TypeError: a boolean mask or an unsupported index type.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x[1, ::-1].tolist(), x[:, [0, 2]].tolist()
        ([6, 5, 4], [[1, 3], [4, 6]])
    """
    x = as_operand(x)
    plan = make_plan(tuple(x.shape), index)
    y = x if plan.slice is None else slice_p.bind(x, **plan.slice)
    if plan.gather is not None:
        y = gather_p.bind(y, plan.idx, **plan.gather)
    return reshape(y, plan.out_shape)


def _apply(y, v, how: str):
    from ._ops_elementwise import add, multiply

    if how == "set":
        return v
    return add(y, v) if how == "add" else multiply(y, v)


def _update(x, index, v, how: str):
    x = as_operand(x)
    if x.dtype == _dtypes.bool_ and how != "set":
        xi = astype(x, _dtypes.int32)
        return astype(_update(xi, index, astype(as_operand(v), _dtypes.int32), how), _dtypes.bool_)
    plan = make_plan(tuple(x.shape), index)
    v = astype(as_operand(v), x.dtype)
    if tuple(v.shape) != plan.out_shape:
        try:
            v = broadcast_to(v, plan.out_shape)
        except ValueError:
            raise ValueError(
                f"x.at[...].{how}: a value of shape {tuple(v.shape)} cannot be broadcast to the "
                f"indexed shape {plan.out_shape}"
            ) from None
    v = reshape(v, plan.core_shape)
    y = x if plan.slice is None else slice_p.bind(x, **plan.slice)
    if plan.gather is None:
        new = _apply(y, v, how)
    elif how == "add":
        new = scatter_add_with(y, plan.idx, v, plan.core_shape, plan.gather)
    else:
        if how == "multiply":
            v = _apply(gather_p.bind(y, plan.idx, **plan.gather), v, how)
        new = scatter_p.bind(y, plan.idx, v, **plan.gather)
    if plan.slice is None:
        return reshape(new, tuple(x.shape))
    return slice_update_p.bind(x, new, **plan.slice)


class _IndexUpdateRef:
    """``x.at[index]``: the functional update methods for one index."""

    __slots__ = ("_x", "_index")

    def __init__(self, x, index):
        self._x = x
        self._index = index

    def get(self) -> Tensor:
        """``x[index]``."""
        return getitem(self._x, self._index)

    def set(self, values) -> Tensor:
        """A copy of ``x`` with ``x[index]`` replaced by ``values`` (broadcast, cast to
        ``x.dtype``). With duplicate array indices, which value lands is unspecified."""
        return _update(self._x, self._index, values, "set")

    def add(self, values) -> Tensor:
        """A copy of ``x`` with ``values`` added at ``index``; duplicate array indices
        accumulate, like ``numpy.add.at``."""
        return _update(self._x, self._index, values, "add")

    def multiply(self, values) -> Tensor:
        """A copy of ``x`` with ``x[index]`` multiplied by ``values``. With duplicate array
        indices only one of the products is applied (no accumulation)."""
        return _update(self._x, self._index, values, "multiply")

    def __repr__(self) -> str:
        return f"_IndexUpdateRef({self._index!r})"


class AtIndexer:
    """Functional updates, as JAX's ``x.at``: ``x.at[idx].set(v)``, ``.add(v)``,
    ``.multiply(v)`` and ``.get()`` return new tensors and leave ``x`` unchanged.

    ``idx`` is any index :func:`getitem` accepts; ``v`` is broadcast to the shape of
    ``x[idx]`` and converted to ``x``'s dtype.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([1.0, 2.0, 3.0])
        >>> x.at[1].set(9.0).tolist(), x.at[[0, 0]].add(1.0).tolist(), x.tolist()
        ([1.0, 9.0, 3.0], [3.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    """

    __slots__ = ("_x",)

    def __init__(self, x):
        self._x = x

    def __getitem__(self, index) -> _IndexUpdateRef:
        return _IndexUpdateRef(self._x, index)


def _prepare_index(indices, size: int, axis: int):
    """An index tensor (or tracer) from any index data, bounds-checked when concrete."""
    idx = as_index(indices)
    check_bounds(idx, size, axis)
    if isinstance(idx, np.ndarray):
        idx = index_tensor(idx)
    return idx


def _take_params(nd: int, axis: int, nb: int) -> dict:
    return dict(
        axes=(axis,),
        x_dims=tuple(range(axis)) + (-1,) * nb + tuple(range(axis + 1, nd)),
        idx_dims=(-1,) * axis + tuple(range(nb)) + (-1,) * (nd - axis - 1),
    )


def take(x, indices, axis=None, mode="raise") -> Tensor:
    """Elements (``axis=None``: of the flattened ``x``) or slices along ``axis`` at
    ``indices``, as ``numpy.take``.

    Args:
        x: the source tensor.
        indices: integers of any shape (tensor, numpy array, list or int); negative ones count
            from the end.
        axis: the axis to take along; None takes from ``x`` flattened.
        mode: only ``"raise"``: out-of-range indices raise IndexError (index tensors are
            checked by a min/max kernel; traced indices are clamped, see the module notes).

    Returns:
        A tensor of shape ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.

    Raises:
        IndexError: an index is out of range (index and axis size named).
        ValueError: a bad axis or mode.

    Example:
        >>> import fieldgrad as fg
        >>> fg.take(fg.tensor([[1, 2], [3, 4]]), [1, 1, 0], axis=1).tolist()
        [[2, 2, 1], [4, 4, 3]]
    """
    if mode != "raise":
        raise ValueError(f"take: mode {mode!r} is not supported; only 'raise'")
    x = as_operand(x)
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    if x.ndim == 0:
        raise ValueError("take: a 0-d tensor has no axis to take along; use axis=None")
    axis = _norm_axis(axis, x.ndim)
    idx = _prepare_index(indices, x.shape[axis], axis)
    nb = idx.ndim
    idx = reshape(idx, tuple(idx.shape) + (1,))
    return gather_p.bind(x, idx, **_take_params(x.ndim, axis, nb))


def take_along_axis(x, indices, axis) -> Tensor:
    """Pick values along ``axis`` with an index tensor of the same number of dimensions, as
    ``numpy.take_along_axis``: ``out[..., j, ...] = x[..., indices[..., j, ...], ...]``.

    Args:
        x: the source tensor.
        indices: integers with ``x.ndim`` dimensions that broadcast against ``x`` off
            ``axis`` (e.g. the result of an ``argsort`` along ``axis``).
        axis: the axis to pick along; None flattens ``x`` (``indices`` must then be 1-D).

    Returns:
        A tensor of the broadcast shape, with ``indices.shape[axis]`` along ``axis``.

    Raises:
        ValueError: ``indices`` has the wrong number of dimensions or shapes do not broadcast.
        IndexError: an index is out of range.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[10, 30, 20], [60, 40, 50]])
        >>> fg.take_along_axis(x, [[0], [1]], axis=1).tolist()
        [[10], [40]]
    """
    x = as_operand(x)
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    if x.ndim == 0:
        raise ValueError("take_along_axis: a 0-d tensor has no axis to take along")
    axis = _norm_axis(axis, x.ndim)
    idx = _prepare_index(indices, x.shape[axis], axis)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {tuple(idx.shape)} need as many dimensions as "
            f"the tensor of shape {tuple(x.shape)}"
        )
    nd = x.ndim
    params = dict(
        axes=(axis,),
        x_dims=tuple(-1 if d == axis else d for d in range(nd)),
        idx_dims=tuple(range(nd)),
    )
    idx = reshape(idx, tuple(idx.shape) + (1,))
    gather_geometry(tuple(x.shape), tuple(idx.shape), **params)  # shape check, clear errors
    return gather_p.bind(x, idx, **params)


def index_add(x, axis, index, source, alpha=1) -> Tensor:
    """``x`` with ``alpha * source`` added at ``index`` along ``axis``, as PyTorch's
    ``index_add``: ``out[..., index[j], ...] += alpha * source[..., j, ...]``; duplicate
    indices accumulate. ``x`` is not modified.

    Args:
        x: the tensor added to.
        axis: the axis ``index`` addresses.
        index: integers (1-D as in PyTorch; any shape is accepted, its axes replacing
            ``axis`` in the shape of ``source``).
        source: values broadcastable to ``x.shape[:axis] + index.shape + x.shape[axis+1:]``,
            converted to ``x``'s dtype.
        alpha: scale applied to ``source``.

    Returns:
        A new tensor of ``x``'s shape and dtype.

    Raises:
        IndexError: an index is out of range.
        ValueError: ``source`` does not broadcast to the required shape (both named).

    Example:
        >>> import fieldgrad as fg
        >>> fg.index_add(fg.zeros((3,)), 0, [0, 2, 0], fg.tensor([1.0, 2.0, 3.0])).tolist()
        [4.0, 0.0, 2.0]
    """
    x = as_operand(x)
    if x.ndim == 0:
        raise ValueError("index_add: a 0-d tensor has no axis to add along")
    axis = _norm_axis(axis, x.ndim)
    idx = _prepare_index(index, x.shape[axis], axis)
    nb = idx.ndim
    shape = tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1 :])
    src = as_operand(source)
    if not (isinstance(alpha, (int, float)) and alpha == 1):
        from ._ops_elementwise import multiply

        src = multiply(src, alpha)
    try:
        src = broadcast_to(astype(src, x.dtype), shape)
    except ValueError:
        raise ValueError(
            f"index_add: source of shape {tuple(src.shape)} does not match the shape {shape} "
            f"required by x of shape {tuple(x.shape)}, axis {axis} and index of shape "
            f"{tuple(idx.shape)}"
        ) from None
    idx = reshape(idx, tuple(idx.shape) + (1,))
    return scatter_add_with(x, idx, src, shape, _take_params(x.ndim, axis, nb))
