"""``matmul_t``: matmul with transposed operands, an internal primitive of compiled graphs.

The jit's simplification pass folds ``transpose`` equations that swap the last two axes into
the matmul that consumes them (the backward pass of ``x @ W`` computes ``x^T g`` and
``g W^T``). On the CPU the transposed operand is a zero-copy strided view handed to BLAS, so
the transpose costs nothing; elsewhere the operand is transposed with the layout kernel first.

``matmul_t(a, b, transpose_a=ta, transpose_b=tb) = op(a) @ op(b)`` with ``op`` swapping the
last two axes where the flag is set. Bilinear: JVP ``matmul_t(da, b) + matmul_t(a, db)``.
"""

from __future__ import annotations

import math

from . import _buffer, _runtime
from ._core import Primitive, ShapedArray
from ._ops_linalg import _matmul_shape, matmul_p
from ._ops_shape import transpose
from ._tensor import Tensor


def _swap_shape(shape: tuple) -> tuple:
    return tuple(shape[:-2]) + (shape[-1], shape[-2])


def _swap(x):
    nd = x.ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _abstract(a: ShapedArray, b: ShapedArray, *, transpose_a: bool, transpose_b: bool):
    sa = _swap_shape(a.shape) if transpose_a else a.shape
    sb = _swap_shape(b.shape) if transpose_b else b.shape
    return ShapedArray(_matmul_shape(sa, sb), a.dtype)


def _impl(a: Tensor, b: Tensor, *, transpose_a: bool, transpose_b: bool) -> Tensor:
    if _runtime._state["arch"] != "cpu":
        return matmul_p.impl(_swap(a) if transpose_a else a, _swap(b) if transpose_b else b)
    av = a._buf[: a.size].reshape(a.shape)
    bv = b._buf[: b.size].reshape(b.shape)
    av = av.swapaxes(-1, -2) if transpose_a else av
    bv = bv.swapaxes(-1, -2) if transpose_b else bv
    shape = _matmul_shape(av.shape, bv.shape)
    total = math.prod(shape)
    out = Tensor._new(_buffer.empty(total, a.dtype), shape, a.dtype)
    if total:
        _buffer.host_matmul(av, bv, out._buf[:total].reshape(shape))
    return out


matmul_t_p = Primitive("matmul_t", _impl, _abstract)


def matmul_t(a, b, transpose_a: bool = False, transpose_b: bool = False):
    """``op(a) @ op(b)`` for operands of at least two dimensions (internal; used by jit)."""
    return matmul_t_p.bind(a, b, transpose_a=bool(transpose_a), transpose_b=bool(transpose_b))
