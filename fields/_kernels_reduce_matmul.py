"""The Taichi matmul kernel: batched ``(..., m, k) @ (..., k, n)`` over flat buffers.

The matmul primitive runs it on GPU archs (on the CPU, numpy's BLAS is faster); it works on
every arch, so the CPU tests exercise it directly. The kernel is register-tiled: one thread
computes a ``TILE_M x TILE_N`` block of the output, so each loaded element of ``a`` serves
``TILE_N`` products and each element of ``b`` serves ``TILE_M`` (a naive kernel loads two
values per product). Edge tiles clamp their loads and store only the elements inside the
output, so every shape works; each output element sums over ``k`` in order, as the naive
kernel and numpy's reference do. Batch axes are addressed through per-axis strides that are 0
where an operand is broadcast, so broadcast operands are never materialised. Shapes and strides
are runtime arguments: the kernel compiles once per dtype.
"""

import math

import numpy as np

from . import _buffer, _launch, _layout, _runtime
from ._tensor import Tensor

TILE_M = 4  # output rows per thread
TILE_N = 4  # output columns per thread


def _build_matmul(dtype_name: str, serial: bool):
    ti = _runtime.taichi()
    acc_t = _buffer._ti_dtype(ti, np.dtype(dtype_name))
    V = ti.types.vector(_layout.MAXDIM, ti.i32)
    TM, TN = TILE_M, TILE_N

    @ti.kernel
    def matmul_k(
        a: ti.types.ndarray(ndim=1),
        b: ti.types.ndarray(ndim=1),
        c: ti.types.ndarray(ndim=1),
        ntiles: ti.i32,
        m: ti.i32,
        n: ti.i32,
        k: ti.i32,
        tm: ti.i32,
        tn: ti.i32,
        bshape: V,
        astr: V,
        bstr: V,
    ):
        ti.loop_config(serialize=serial)
        for t in range(ntiles):
            q = t // tn
            j0 = (t - q * tn) * TN
            bi = q // tm
            i0 = (q - bi * tm) * TM
            oa = 0
            ob = 0
            r = bi
            for s in ti.static(range(_layout.MAXDIM)):
                d = _layout.MAXDIM - 1 - s
                digit = r % bshape[d]
                oa += digit * astr[d]
                ob += digit * bstr[d]
                r = r // bshape[d]
            acc = ti.Matrix.zero(acc_t, TM, TN)
            for p in range(k):
                av = ti.Vector.zero(acc_t, TM)
                bv = ti.Vector.zero(acc_t, TN)
                for u in ti.static(range(TM)):
                    av[u] = a[oa + ti.min(i0 + u, m - 1) * k + p]
                for v in ti.static(range(TN)):
                    bv[v] = b[ob + p * n + ti.min(j0 + v, n - 1)]
                for u, v in ti.static(ti.ndrange(TM, TN)):
                    acc[u, v] += av[u] * bv[v]
            base = bi * m * n
            for u, v in ti.static(ti.ndrange(TM, TN)):
                if i0 + u < m and j0 + v < n:
                    c[base + (i0 + u) * n + j0 + v] = acc[u, v]

    return matmul_k


def matmul_taichi(a: Tensor, b: Tensor) -> Tensor:
    """The Taichi implementation of the matmul primitive (used on GPU archs; any arch works).

    Args:
        a, b: tensors of one dtype (not bool), shapes ``(..., m, k)`` and ``(..., k, n)``
            whose batch axes broadcast.

    Returns:
        The product, of shape ``broadcast(batch) + (m, n)``.
    """
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2] or a.dtype != b.dtype:
        raise ValueError(
            f"matmul kernel: operands {a.dtype.name}{list(a.shape)} and "
            f"{b.dtype.name}{list(b.shape)} are not (..., m, k) and (..., k, n) of one dtype"
        )
    batch = _layout.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    shape = batch + (a.shape[-2], b.shape[-1])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    total = math.prod(shape)
    out = Tensor._new(_buffer.empty(total, a.dtype), shape, a.dtype)
    if total == 0:
        return out
    if len(batch) > _layout.MAXDIM:
        raise ValueError(f"matmul: at most {_layout.MAXDIM} batch dimensions, got {batch}")
    astr = _layout.broadcast_strides(a.shape[:-2], batch)
    bstr = _layout.broadcast_strides(b.shape[:-2], batch)
    ser = _launch.serial(total * max(k, 1))
    name = a.dtype.name
    kern = _launch.kernel(("matmul_tiled", name, ser), lambda: _build_matmul(name, ser))
    tm, tn = -(-m // TILE_M), -(-n // TILE_N)
    _launch.launch(
        kern,
        _buffer.kernel_view(a._buf),
        _buffer.kernel_view(b._buf),
        _buffer.kernel_view(out._buf),
        math.prod(batch) * tm * tn,
        m,
        n,
        k,
        tm,
        tn,
        _layout._pad8(batch),
        _layout._pad8(s * m * k for s in astr),
        _layout._pad8(s * k * n for s in bstr),
    )
    return out
