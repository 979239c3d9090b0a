"""Taichi kernels for indexed data movement: gather, scatter, scatter-add and index checks.

Every kernel works on flat 1-D buffers. An *indexed view* of a source tensor ``x`` is described
per output dimension ``d`` (at most 8) by the output extent ``shape[d]``, the stride into ``x``
``xstr[d]`` and the stride into the index buffer ``istr[d]`` (0 where a dimension is broadcast),
plus ``k`` indexed axes of ``x`` with extents ``kdim[m]`` and strides ``kstr[m]``: output
element ``o`` with coordinates ``c`` reads

    x[sum_d c[d] * xstr[d] + sum_m j_m * kstr[m]],   j_m = idx[sum_d c[d] * istr[d] + m]

where a negative ``j_m`` counts from the end (``j_m + kdim[m]``) and ``j_m`` is then clamped
to ``[0, kdim[m] - 1]``: an out-of-range index never touches memory outside the tensor. The
public functions validate indices before launching (see :func:`index_range`), so the clamp is
only the behaviour under tracing, where values are not known.

Scatter and scatter-add write (add, with atomics, so duplicate indices accumulate) the elements
of a contiguous ``updates`` buffer to the same addresses of a destination buffer.
All kernels compile once per dtype pair, never per shape: sizes, shapes and strides are
runtime arguments.
"""

from typing import Sequence

import numpy as np

from . import _buffer, _launch, _runtime
from ._tensor import Tensor

MAXDIM = 8


def _lead8(v: Sequence[int], fill: int) -> tuple:
    v = tuple(int(x) for x in v)
    return (fill,) * (MAXDIM - len(v)) + v


def _trail8(v: Sequence[int], fill: int) -> tuple:
    v = tuple(int(x) for x in v)
    return v + (fill,) * (MAXDIM - len(v))


def _address_func(ti):
    @ti.func
    def address(idx: ti.template(), i, shape, xstr, istr, k, kdim, kstr):
        r = i
        xo = 0
        io = 0
        for t in ti.static(range(MAXDIM)):
            d = MAXDIM - 1 - t
            c = r % shape[d]
            xo += c * xstr[d]
            io += c * istr[d]
            r = r // shape[d]
        for m in ti.static(range(MAXDIM)):
            if m < k:
                j = ti.cast(idx[io + m], ti.i32)
                if j < 0:
                    j += kdim[m]
                j = ti.min(ti.max(j, 0), kdim[m] - 1)
                xo += j * kstr[m]
        return xo

    return address


def _build(kind: str, serial: bool):
    ti = _runtime.taichi()
    V = ti.types.vector(MAXDIM, ti.i32)
    address = _address_func(ti)
    nd = ti.types.ndarray(ndim=1)

    if kind == "gather":

        @ti.kernel
        def index_gather_k(
            src: nd,
            idx: nd,
            dst: nd,
            n: ti.i32,
            shape: V,
            xstr: V,
            istr: V,
            k: ti.i32,
            kdim: V,
            kstr: V,
        ):
            ti.loop_config(serialize=serial)
            for i in range(n):
                dst[i] = src[address(idx, i, shape, xstr, istr, k, kdim, kstr)]

        return index_gather_k

    if kind == "scatter":

        @ti.kernel
        def index_scatter_k(
            upd: nd,
            idx: nd,
            dst: nd,
            n: ti.i32,
            shape: V,
            xstr: V,
            istr: V,
            k: ti.i32,
            kdim: V,
            kstr: V,
        ):
            ti.loop_config(serialize=serial)
            for i in range(n):
                dst[address(idx, i, shape, xstr, istr, k, kdim, kstr)] = upd[i]

        return index_scatter_k

    @ti.kernel
    def index_scatter_add_k(
        upd: nd,
        idx: nd,
        dst: nd,
        n: ti.i32,
        shape: V,
        xstr: V,
        istr: V,
        k: ti.i32,
        kdim: V,
        kstr: V,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            ti.atomic_add(dst[address(idx, i, shape, xstr, istr, k, kdim, kstr)], upd[i])

    return index_scatter_add_k


def _build_range(serial: bool):
    ti = _runtime.taichi()

    @ti.kernel
    def index_range_k(idx: ti.types.ndarray(ndim=1), res: ti.types.ndarray(ndim=1), n: ti.i32):
        ti.loop_config(serialize=serial)
        for i in range(n):
            ti.atomic_min(res[0], idx[i])
            ti.atomic_max(res[1], idx[i])

    return index_range_k


def _launch_indexed(kind, src, idx, dst, n, geom) -> None:
    shape, xstr, istr, kdim, kstr = geom
    ser = _launch.serial(n)
    k = _launch.kernel(("index_" + kind, ser), lambda: _build(kind, ser))
    _launch.launch(
        k,
        _buffer.kernel_view(src._buf),
        _buffer.kernel_view(idx._buf),
        _buffer.kernel_view(dst._buf),
        n,
        _lead8(shape, 1),
        _lead8(xstr, 0),
        _lead8(istr, 0),
        len(kdim),
        _trail8(kdim, 1),
        _trail8(kstr, 0),
    )


def gather(x: Tensor, idx: Tensor, geom) -> Tensor:
    """A new tensor of shape ``geom[0]`` read from ``x`` through the indexed view ``geom``.

    ``geom`` is ``(shape, xstr, istr, kdim, kstr)`` as in the module docstring.
    """
    shape = tuple(geom[0])
    n = 1
    for s in shape:
        n *= s
    out = Tensor._new(_buffer.empty(n, x.dtype), shape, x.dtype)
    if n:
        _launch_indexed("gather", x, idx, out, n, geom)
    return out


def scatter(base: Tensor, idx: Tensor, updates: Tensor, geom, accumulate: bool) -> Tensor:
    """A copy of ``base`` with ``updates`` written (``accumulate``: added) through ``geom``."""
    from ._layout import copy

    out = copy(base)
    if updates.size:
        kind = "scatter_add" if accumulate else "scatter"
        _launch_indexed(kind, updates, idx, out, updates.size, geom)
    return out


def index_range(idx: Tensor) -> tuple:
    """``(min, max)`` of an integer tensor (one kernel and a two-element read back)."""
    info = np.iinfo(idx.dtype)
    res = _buffer.from_numpy(np.array([info.max, info.min], dtype=idx.dtype), idx.dtype)
    ser = _launch.serial(idx.size)
    k = _launch.kernel(("index_range", ser), lambda: _build_range(ser))
    _launch.launch(k, _buffer.kernel_view(idx._buf), res, idx.size)
    lo, hi = _buffer.to_numpy(res, 2, idx.dtype)
    return int(lo), int(hi)
