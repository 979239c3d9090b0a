"""Machinery for elementwise primitives: kernels built from one ``@ti.func`` body.

:func:`unary_primitive`, :func:`binary_primitive` and :func:`ternary_primitive` make a
:class:`Primitive` whose implementation launches a generated kernel. Inputs of a binary or
ternary primitive already share one dtype (the public functions promote first); broadcasting
happens inside the kernel when each operand's index is ``(i // div) % mod`` of the output index
(same shape, a scalar, a trailing or leading block: bias adds, column scalings), and by
materialising the broadcast otherwise. On the CPU, large float32/float64 work whose operands
share one shape (or where one operand is a single element) goes to the 16-lane vector kernels of
:mod:`fieldgrad.fields._simd` when the primitive has a vector body there.
"""

from typing import Callable, Optional

import numpy as np

from . import _buffer, _launch, _layout, _runtime, _simd
from ._core import Primitive, ShapedArray
from ._tensor import Tensor


def _affine_index(in_shape: tuple, out_shape: tuple):
    """(div, mod) with input index = (i // div) % mod, or None when not expressible."""
    nd = len(out_shape)
    s = (1,) * (nd - len(in_shape)) + tuple(in_shape)
    # The kept (non-broadcast) axes must form one contiguous run of full axes.
    real = [k for k in range(nd) if s[k] != 1]
    if not real:
        return 1, 1
    lo, hi = real[0], real[-1]
    for k in range(lo, hi + 1):
        if s[k] != out_shape[k]:
            return None
    mod = 1
    for k in range(lo, hi + 1):
        mod *= out_shape[k]
    div = 1
    for k in range(hi + 1, nd):
        div *= out_shape[k]
    return div, mod


def _new_out(n: int, shape: tuple, dtype: np.dtype) -> Tensor:
    return Tensor._new(_buffer.empty(n, dtype), shape, dtype)


# --- kernel factories -------------------------------------------------------------------------


def _unary_kernel(fn_factory: Callable, serial: bool):
    ti = _runtime.taichi()
    fn = fn_factory(ti)

    @ti.kernel
    def unary_k(x: ti.types.ndarray(ndim=1), y: ti.types.ndarray(ndim=1), n: ti.i32):
        ti.loop_config(serialize=serial)
        for i in range(n):
            y[i] = fn(x[i])

    return unary_k


def _binary_kernel(fn_factory: Callable, serial: bool, affine: bool):
    ti = _runtime.taichi()
    fn = fn_factory(ti)
    if affine:

        @ti.kernel
        def binary_affine_k(
            a: ti.types.ndarray(ndim=1),
            b: ti.types.ndarray(ndim=1),
            y: ti.types.ndarray(ndim=1),
            n: ti.i32,
            da: ti.i32,
            ma: ti.i32,
            db: ti.i32,
            mb: ti.i32,
        ):
            ti.loop_config(serialize=serial)
            for i in range(n):
                y[i] = fn(a[(i // da) % ma], b[(i // db) % mb])

        return binary_affine_k

    @ti.kernel
    def binary_k(
        a: ti.types.ndarray(ndim=1),
        b: ti.types.ndarray(ndim=1),
        y: ti.types.ndarray(ndim=1),
        n: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            y[i] = fn(a[i], b[i])

    return binary_k


# Operand kinds of the blocked binary kernel, on the output seen as (rows, L):
# 0 full (index r*L + j), 1 row (j), 2 column (r), 3 scalar (0).
_FULL, _ROW, _COL, _SCALAR = 0, 1, 2, 3


def _block_kinds(ia, ib, n: int):
    """(kind_a, kind_b, L) when both operands index the output as full, row, column or scalar
    blocks of one row length L (bias adds, column scalings); None otherwise."""
    if ia is None or ib is None:
        return None
    L = None
    for div, mod in (ia, ib):
        if div == 1 and 1 < mod < n:
            L = mod  # a row operand fixes the row length
    if L is None:
        for div, mod in (ia, ib):
            if div > 1 and div * mod == n:
                L = div  # a column operand fixes it
    if L is None or n % L:
        return None
    kinds = []
    for div, mod in (ia, ib):
        if mod == 1:
            kinds.append(_SCALAR)
        elif div == 1 and mod == n:
            kinds.append(_FULL)
        elif div == 1 and mod == L:
            kinds.append(_ROW)
        elif div == L and mod == n // L:
            kinds.append(_COL)
        else:
            return None
    return kinds[0], kinds[1], L


def _binary_rows_kernel(fn_factory: Callable, serial: bool, ka: int, kb: int):
    """``y[r, j] = fn(a[...], b[...])`` over rows, with no index division per element."""
    ti = _runtime.taichi()
    fn = fn_factory(ti)

    @ti.func
    def idx(kind: ti.template(), r, j, L):
        res = 0
        if ti.static(kind == _FULL):
            res = r * L + j
        elif ti.static(kind == _ROW):
            res = j
        elif ti.static(kind == _COL):
            res = r
        return res

    @ti.kernel
    def binary_rows_k(
        a: ti.types.ndarray(ndim=1),
        b: ti.types.ndarray(ndim=1),
        y: ti.types.ndarray(ndim=1),
        rows: ti.i32,
        L: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for r in range(rows):
            for j in range(L):
                y[r * L + j] = fn(a[idx(ka, r, j, L)], b[idx(kb, r, j, L)])

    return binary_rows_k


def _ternary_kernel(fn_factory: Callable, serial: bool):
    ti = _runtime.taichi()
    fn = fn_factory(ti)

    @ti.kernel
    def ternary_k(
        a: ti.types.ndarray(ndim=1),
        b: ti.types.ndarray(ndim=1),
        c: ti.types.ndarray(ndim=1),
        y: ti.types.ndarray(ndim=1),
        n: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            y[i] = fn(a[i], b[i], c[i])

    return ternary_k


# --- primitive constructors ---------------------------------------------------------------------


def _same_dtype(name: str, *avals) -> np.dtype:
    d = avals[0].dtype
    for a in avals[1:]:
        if a.dtype != d:
            raise TypeError(
                f"primitive {name!r} takes operands of one dtype, got "
                + ", ".join(a.dtype.name for a in avals)
                + " (the public function promotes; call it instead)"
            )
    return d


def unary_primitive(
    name: str,
    fn_factory: Callable,
    out_dtype: Optional[Callable[[np.dtype], np.dtype]] = None,
) -> Primitive:
    """A primitive ``y = fn(x)`` applied elementwise.

    Args:
        name: primitive name.
        fn_factory: ``fn_factory(ti)`` returns a ``@ti.func`` of one value.
        out_dtype: output dtype from the input dtype (default: the same).
    """
    out_dtype = out_dtype or (lambda d: d)

    def abstract_eval(x: ShapedArray) -> ShapedArray:
        return ShapedArray(x.shape, out_dtype(x.dtype), x.weak_type)

    def impl(x: Tensor) -> Tensor:
        n = x.size
        out = _new_out(n, x.shape, out_dtype(x.dtype))
        out.weak_type = x.weak_type
        if n >= _simd.MIN_SIZE and _simd.unary(name, x, out):
            return out
        if n:
            ser = _launch.serial(n)
            k = _launch.kernel((name, ser), lambda: _unary_kernel(fn_factory, ser))
            _launch.launch(k, _buffer.kernel_view(x._buf), _buffer.kernel_view(out._buf), n)
        return out

    return Primitive(name, impl, abstract_eval)


def binary_primitive(
    name: str,
    fn_factory: Callable,
    out_dtype: Optional[Callable[[np.dtype], np.dtype]] = None,
) -> Primitive:
    """A primitive ``y = fn(a, b)`` with numpy broadcasting; ``a`` and ``b`` share a dtype."""
    out_dtype = out_dtype or (lambda d: d)

    def abstract_eval(a: ShapedArray, b: ShapedArray) -> ShapedArray:
        d = _same_dtype(name, a, b)
        shape = _layout.broadcast_shapes(a.shape, b.shape)
        return ShapedArray(shape, out_dtype(d), a.weak_type and b.weak_type)

    def impl(a: Tensor, b: Tensor) -> Tensor:
        d = _same_dtype(name, a, b)
        shape = a.shape if a.shape == b.shape else _layout.broadcast_shapes(a.shape, b.shape)
        n = 1
        for s in shape:
            n *= s
        out = _new_out(n, shape, out_dtype(d))
        out.weak_type = a.weak_type and b.weak_type
        if n == 0:
            return out
        if n >= _simd.MIN_SIZE and _simd.binary(name, a, b, out):
            return out
        ser = _launch.serial(n)
        if a.shape == b.shape:
            k = _launch.kernel((name, ser, False), lambda: _binary_kernel(fn_factory, ser, False))
            _launch.launch(
                k,
                _buffer.kernel_view(a._buf),
                _buffer.kernel_view(b._buf),
                _buffer.kernel_view(out._buf),
                n,
            )
            return out
        ia = _affine_index(a.shape, shape)
        ib = _affine_index(b.shape, shape)
        blocked = _block_kinds(ia, ib, n)
        if blocked is not None:
            ka, kb, L = blocked
            key = (name, ser, "rows", ka, kb)
            k = _launch.kernel(key, lambda: _binary_rows_kernel(fn_factory, ser, ka, kb))
            _launch.launch(
                k,
                _buffer.kernel_view(a._buf),
                _buffer.kernel_view(b._buf),
                _buffer.kernel_view(out._buf),
                n // L,
                L,
            )
            return out
        if ia is None:
            a, ia = _layout.broadcast_to(a, shape), (1, n)
        if ib is None:
            b, ib = _layout.broadcast_to(b, shape), (1, n)
        k = _launch.kernel((name, ser, True), lambda: _binary_kernel(fn_factory, ser, True))
        _launch.launch(
            k,
            _buffer.kernel_view(a._buf),
            _buffer.kernel_view(b._buf),
            _buffer.kernel_view(out._buf),
            n,
            ia[0],
            ia[1],
            ib[0],
            ib[1],
        )
        return out

    return Primitive(name, impl, abstract_eval)


def ternary_primitive(
    name: str,
    fn_factory: Callable,
    out_dtype: Callable[[np.dtype, np.dtype, np.dtype], np.dtype],
) -> Primitive:
    """A primitive ``y = fn(a, b, c)`` with broadcasting (operands materialised to one shape)."""

    def abstract_eval(a, b, c) -> ShapedArray:
        shape = _layout.broadcast_shapes(a.shape, b.shape, c.shape)
        return ShapedArray(shape, out_dtype(a.dtype, b.dtype, c.dtype))

    def impl(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
        shape = _layout.broadcast_shapes(a.shape, b.shape, c.shape)
        a, b, c = (_layout.broadcast_to(t, shape) for t in (a, b, c))
        n = a.size
        out = _new_out(n, shape, out_dtype(a.dtype, b.dtype, c.dtype))
        if n:
            ser = _launch.serial(n)
            k = _launch.kernel((name, ser), lambda: _ternary_kernel(fn_factory, ser))
            _launch.launch(
                k,
                _buffer.kernel_view(a._buf),
                _buffer.kernel_view(b._buf),
                _buffer.kernel_view(c._buf),
                _buffer.kernel_view(out._buf),
                n,
            )
        return out

    return Primitive(name, impl, abstract_eval)
