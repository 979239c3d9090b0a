"""Strided layout kernels: the one mechanism behind broadcast, transpose, slicing and copies.

A *strided view* of a flat buffer is (shape, strides, offset) with strides in elements, where a
stride of 0 repeats (broadcasts) an axis and a negative stride walks it backwards.
:func:`gather` materialises such a view into a new contiguous tensor, :func:`scatter` writes a
contiguous tensor into a strided view of a copy of another (functional update).
"""

from typing import Optional

import numpy as np

from . import _buffer, _launch, _runtime
from ._tensor import Tensor

MAXDIM = 8


def contiguous_strides(shape: tuple) -> tuple:
    strides = []
    acc = 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return tuple(reversed(strides))


def _pad8(v) -> tuple:
    v = tuple(int(x) for x in v)
    return (1,) * (MAXDIM - len(v)) + v  # leading dummy axes of extent 1


def _build_gather(serial: bool):
    ti = _runtime.taichi()
    V = ti.types.vector(MAXDIM, ti.i32)

    @ti.kernel
    def gather_k(
        src: ti.types.ndarray(ndim=1),
        dst: ti.types.ndarray(ndim=1),
        n: ti.i32,
        shape: V,
        strides: V,
        offset: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            r = i
            o = offset
            for k in ti.static(range(MAXDIM)):
                d = MAXDIM - 1 - k
                o += (r % shape[d]) * strides[d]
                r = r // shape[d]
            dst[i] = src[o]

    return gather_k


def _build_gather_rows(nd: int, serial: bool):
    """Gather by rows: ``nd`` outer axes (index arithmetic once per row), then a strided inner
    loop with one multiply-add per element."""
    ti = _runtime.taichi()
    V = ti.types.vector(MAXDIM, ti.i32)

    @ti.kernel
    def gather_rows_k(
        src: ti.types.ndarray(ndim=1),
        dst: ti.types.ndarray(ndim=1),
        nrows: ti.i32,
        inner: ti.i32,
        shape: V,
        strides: V,
        inner_stride: ti.i32,
        offset: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for row in range(nrows):
            r = row
            o = offset
            for k in ti.static(range(nd)):
                d = MAXDIM - 1 - k  # the nd real axes are the last ones of the padded vectors
                o += (r % shape[d]) * strides[d]
                r = r // shape[d]
            base = row * inner
            for j in range(inner):
                dst[base + j] = src[o + j * inner_stride]

    return gather_rows_k


def collapse(shape: tuple, strides: tuple) -> tuple:
    """Drop unit axes and merge adjacent axes that are contiguous in the source view."""
    dims = [(s, st) for s, st in zip(shape, strides) if s != 1]
    merged: list = []
    for s, st in dims:
        if merged and merged[-1][1] == st * s:
            ps, _ = merged[-1]
            merged[-1] = (ps * s, st)
        else:
            merged.append((s, st))
    return tuple(m[0] for m in merged), tuple(m[1] for m in merged)


def _build_scatter(serial: bool):
    ti = _runtime.taichi()
    V = ti.types.vector(MAXDIM, ti.i32)

    @ti.kernel
    def scatter_k(
        src: ti.types.ndarray(ndim=1),
        dst: ti.types.ndarray(ndim=1),
        n: ti.i32,
        shape: V,
        strides: V,
        offset: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            r = i
            o = offset
            for k in ti.static(range(MAXDIM)):
                d = MAXDIM - 1 - k
                o += (r % shape[d]) * strides[d]
                r = r // shape[d]
            dst[o] = src[i]

    return scatter_k


def _build_copy(serial: bool):
    ti = _runtime.taichi()

    @ti.kernel
    def copy_k(src: ti.types.ndarray(ndim=1), dst: ti.types.ndarray(ndim=1), n: ti.i32):
        ti.loop_config(serialize=serial)
        for i in range(n):
            dst[i] = src[i]

    return copy_k


def _check_ndim(shape) -> None:
    if len(shape) > MAXDIM:
        raise ValueError(f"tensors have at most {MAXDIM} dimensions, got shape {tuple(shape)}")


def gather(x: Tensor, shape: tuple, strides: tuple, offset: int = 0) -> Tensor:
    """A new contiguous tensor holding the strided view (shape, strides, offset) of ``x``."""
    _check_ndim(shape)
    n = 1
    for s in shape:
        n *= s
    out = Tensor._new(_buffer.empty(n, x.dtype), tuple(shape), x.dtype)
    if n == 0:
        return out
    ser = _launch.serial(n)
    cshape, cstrides = collapse(tuple(shape), tuple(strides))
    if not cshape:
        cshape, cstrides = (1,), (0,)
    inner, inner_stride = cshape[-1], cstrides[-1]
    nd = len(cshape) - 1
    k = _launch.kernel(("gather_rows", nd, ser), lambda: _build_gather_rows(nd, ser))
    _launch.launch(
        k,
        _buffer.kernel_view(x._buf),
        _buffer.kernel_view(out._buf),
        n // inner,
        inner,
        _pad8(cshape[:-1]) if nd else (1,) * MAXDIM,
        _pad8(cstrides[:-1]) if nd else (0,) * MAXDIM,
        inner_stride,
        int(offset),
    )
    return out


def scatter(base: Tensor, src: Tensor, shape: tuple, strides: tuple, offset: int = 0) -> Tensor:
    """A copy of ``base`` with ``src`` (contiguous, of ``shape``) written into the strided view.

    The view must not address an element twice (use scatter-add for that).
    """
    _check_ndim(shape)
    out = copy(base)
    n = src.size
    if n == 0:
        return out
    ser = _launch.serial(n)
    k = _launch.kernel(("scatter", ser), lambda: _build_scatter(ser))
    _launch.launch(
        k,
        _buffer.kernel_view(src._buf),
        _buffer.kernel_view(out._buf),
        n,
        _pad8(shape),
        _pad8(strides),
        int(offset),
    )
    return out


def copy(x: Tensor, dtype: Optional[np.dtype] = None) -> Tensor:
    """A new contiguous copy of ``x`` (converted to ``dtype`` if given: a cast kernel)."""
    dt = x.dtype if dtype is None else dtype
    out = Tensor._new(_buffer.empty(x.size, dt), x.shape, dt)
    if x.size == 0:
        return out
    ser = _launch.serial(x.size)
    k = _launch.kernel(("copy", ser), lambda: _build_copy(ser))
    _launch.launch(k, _buffer.kernel_view(x._buf), _buffer.kernel_view(out._buf), x.size)
    return out


def broadcast_strides(in_shape: tuple, out_shape: tuple) -> tuple:
    """Strides that read a contiguous ``in_shape`` tensor as ``out_shape`` (numpy rules)."""
    strides = contiguous_strides(in_shape)
    lead = len(out_shape) - len(in_shape)
    res = [0] * lead
    for s_in, st, s_out in zip(in_shape, strides, out_shape[lead:]):
        res.append(0 if s_in == 1 and s_out != 1 else st)
    return tuple(res)


def broadcast_shapes(*shapes) -> tuple:
    """numpy's broadcast of shapes, with an error that names every shape."""
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        dim = 1
        for s in shapes:
            j = i - (nd - len(s))
            if j < 0:
                continue
            d = s[j]
            if d == 1:
                continue
            if dim != 1 and d != dim:
                raise ValueError(
                    "shapes " + ", ".join(str(tuple(s)) for s in shapes) + " cannot be broadcast "
                    f"together (axis {i - nd} has sizes {dim} and {d})"
                )
            dim = d
        out.append(dim)
    return tuple(out)


def broadcast_to(x: Tensor, shape: tuple) -> Tensor:
    """Materialise ``x`` broadcast to ``shape`` (returns ``x`` when the shape already matches)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return gather(x, shape, broadcast_strides(x.shape, shape))
