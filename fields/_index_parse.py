"""Turning a Python index (``x[1, ::-2, None, idx]``) into a plan of primitives.

A plan is at most three steps: one strided ``slice`` for the basic part (ints, slices), one
``gather`` for the integer-array part, and a free ``reshape`` that drops integer axes and
inserts ``None`` axes. Reading (``x[idx]``) runs the plan forward; functional updates
(``x.at[idx].set(v)``) run it backwards with ``scatter`` and ``slice_update``.

numpy's rules are followed: when an integer array appears, integers count as 0-d arrays; all
index arrays broadcast together to a batch shape ``B``; the ``B`` axes replace the indexed axes
where those are adjacent in the index, and go first otherwise.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _layout
from ._core import Tracer
from ._ops_gather import _bool_index_error, as_index, check_bounds, host_index, index_tensor
from ._tensor import Tensor


@dataclasses.dataclass
class Plan:
    """The primitives one index applies to a tensor of a given shape.

    Attributes:
        slice: params of the ``slice`` primitive (start, stride, shape), or None when the basic
            part selects everything.
        idx: the ``gather`` index tensor (shape ``B + (k,)``), or None without array indices.
        gather: params of the ``gather`` primitive (axes, x_dims, idx_dims), or None.
        core_shape: the shape after the slice and gather.
        out_shape: the shape of ``x[index]``, a reshape of ``core_shape``.
    """

    slice: dict | None
    idx: object | None
    gather: dict | None
    core_shape: tuple
    out_shape: tuple


def _classify(item):
    if item is None:
        return ("none", None)
    if item is Ellipsis:
        return ("ellipsis", None)
    if isinstance(item, slice):
        return ("slice", item)
    if isinstance(item, (bool, np.bool_)):
        raise _bool_index_error()
    if isinstance(item, (int, np.integer)):
        return ("int", int(item))
    if isinstance(item, (Tensor, Tracer)):
        return ("array", as_index(item))
    if isinstance(item, (list, tuple, np.ndarray)):
        a = host_index(item)
        return ("int", int(a)) if a.ndim == 0 else ("array", a)
    raise TypeError(
        f"invalid index of type {type(item).__name__}: only integers, slices, ..., None "
        "(fg.newaxis) and integer arrays (tensors, numpy arrays, lists) are valid indices"
    )


def _expand(shape: tuple, index) -> list:
    items = index if isinstance(index, tuple) else (index,)
    entries = [_classify(it) for it in items]
    n_ell = sum(1 for kind, _ in entries if kind == "ellipsis")
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for kind, _ in entries if kind in ("int", "slice", "array"))
    nd = len(shape)
    if used > nd:
        raise IndexError(
            f"too many indices for tensor: tensor is {nd}-dimensional, but {used} were indexed"
        )
    fill = [("slice", slice(None))] * (nd - used)
    if n_ell:
        # The ellipsis stays as a marker: numpy counts it as separating array indices even
        # when it stands for no axis.
        k = next(i for i, (kind, _) in enumerate(entries) if kind == "ellipsis")
        return entries[: k + 1] + fill + entries[k + 1 :]
    return entries + fill


def _index_array(ix, size: int, axis: int, batch: tuple, any_tensor: bool):
    check_bounds(ix, size, axis)
    if not any_tensor:
        return np.broadcast_to(ix, batch)
    from ._ops_shape import broadcast_to

    t = index_tensor(ix) if isinstance(ix, np.ndarray) else ix
    return broadcast_to(t, batch)


def _stack_indices(arrays: list, batch: tuple, any_tensor: bool):
    if not any_tensor:
        return index_tensor(np.stack(arrays, axis=-1) if arrays else np.zeros(batch + (0,)))
    from ._ops_join import concatenate
    from ._ops_shape import reshape

    cols = [reshape(a, batch + (1,)) for a in arrays]
    return cols[0] if len(cols) == 1 else concatenate(cols, axis=-1)


def make_plan(shape: tuple, index) -> Plan:
    """The :class:`Plan` for ``x[index]`` on a tensor of ``shape``.

    Raises:
        IndexError: out-of-range integers or index arrays, too many indices, two ellipses,
            index arrays that do not broadcast together.
        TypeError: boolean masks and other unsupported index types.
    """
    entries = _expand(tuple(shape), index)
    advanced = any(kind == "array" for kind, _ in entries)
    start, stride, sl_shape = [], [], []
    arrays, adv_axes, adv_pos = [], [], []
    ax = 0
    for pos, (kind, val) in enumerate(entries):
        if kind in ("none", "ellipsis"):
            continue
        n = shape[ax]
        if kind == "slice":
            b, e, s = val.indices(n)
            m = len(range(b, e, s))
            start.append(b if m else 0)
            stride.append(s)
            sl_shape.append(m)
        elif kind == "int" and not advanced:
            if not -n <= val < n:
                raise IndexError(f"index {val} is out of bounds for axis {ax} with size {n}")
            start.append(val % n)
            stride.append(1)
            sl_shape.append(1)
        else:
            start.append(0)
            stride.append(1)
            sl_shape.append(n)
            arrays.append(np.asarray(val) if kind == "int" else val)
            adv_axes.append(ax)
            adv_pos.append(pos)
        ax += 1
    identity = all(b == 0 for b in start) and all(s == 1 for s in stride)
    identity = identity and tuple(sl_shape) == tuple(shape)
    sl = None if identity else dict(start=tuple(start), stride=tuple(stride), shape=tuple(sl_shape))
    if not advanced:
        out = []
        ax = 0
        for kind, _ in entries:
            if kind == "none":
                out.append(1)
            elif kind == "slice":
                out.append(sl_shape[ax])
            if kind not in ("none", "ellipsis"):
                ax += 1
        return Plan(sl, None, None, tuple(sl_shape), tuple(out))
    return _advanced_plan(entries, sl, tuple(sl_shape), arrays, adv_axes, adv_pos)


def _advanced_plan(entries, sl, sl_shape, arrays, adv_axes, adv_pos) -> Plan:
    try:
        batch = _layout.broadcast_shapes(*(tuple(a.shape) for a in arrays))
    except ValueError:
        shapes = " ".join(str(tuple(a.shape)) for a in arrays)
        raise IndexError(
            f"shape mismatch: indexing arrays could not be broadcast together with shapes {shapes}"
        ) from None
    any_tensor = any(not isinstance(a, np.ndarray) for a in arrays)
    cols = [_index_array(a, sl_shape[ax], ax, batch, any_tensor) for a, ax in zip(arrays, adv_axes)]
    idx = _stack_indices(cols, batch, any_tensor)
    adjacent = adv_pos[-1] - adv_pos[0] + 1 == len(adv_pos)
    bdims = [(-1, j, batch[j]) for j in range(len(batch))]
    core, out = [], []
    if not adjacent:
        core += bdims
        out += list(batch)
    placed = False
    ax = 0
    for kind, _ in entries:
        if kind == "ellipsis":
            continue
        if kind == "none":
            out.append(1)
            continue
        if kind == "slice":
            core.append((ax, -1, sl_shape[ax]))
            out.append(sl_shape[ax])
        elif adjacent and not placed:
            core += bdims
            out += list(batch)
            placed = True
        ax += 1
    gather = dict(
        axes=tuple(adv_axes),
        x_dims=tuple(c[0] for c in core),
        idx_dims=tuple(c[1] for c in core),
    )
    return Plan(sl, idx, gather, tuple(c[2] for c in core), tuple(out))
