"""Reduction kernels: rows of a flat buffer reduced to one value each, in one or two passes.

Every reduction is phrased on a buffer read as ``(outer, m, inner)`` in C order: the ``m``
axis is reduced, so ``out[o, k] = reduce_j x[(o * m + j) * inner + k]``. Reducing trailing axes
is ``inner == 1``, leading axes ``outer == 1``; reduced axes that do not form one contiguous
block are first moved to the end by the caller (a strided gather).

A row longer than :data:`CHUNK` elements is cut into chunks: the first pass writes one partial
result per chunk (in the accumulator dtype), the second reduces the partials. So a full
reduction of a large tensor runs in parallel, and a float64 sum adds at most ``CHUNK`` terms in
sequence before the partial sums are added (float32 data is summed in float64 throughout).

When the reduced axis is not the last one (``inner >= LANES``), one task computes ``LANES``
neighbouring outputs, so it reads each row of the reduced axis contiguously.

``max``/``min`` propagate NaN like numpy; the NaN test compares the bit pattern, because
Taichi's default ``fast_math`` folds ``v != v`` to false. ``argmax``/``argmin`` keep the first
occurrence of the extreme value (the first NaN, if any).
"""

import math

import numpy as np

from . import _buffer, _launch, _runtime

CHUNK = 4096  # elements one task reduces in sequence
LANES = 16  # neighbouring outputs one task computes when the reduced axis is not the last

# accumulator dtype by (op, input dtype name)
_SUM_ACC = {
    "bool": np.dtype(np.int32),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "float32": np.dtype(np.float64),
    "float64": np.dtype(np.float64),
}


def acc_dtype(op: str, dtype: np.dtype) -> np.dtype:
    """The dtype partial results of ``op`` over ``dtype`` data are kept in."""
    if op in ("sum", "prod"):
        return _SUM_ACC[np.dtype(dtype).name]
    return np.dtype(dtype)


def _nan_bits(ti, dt):
    """(unsigned type, magnitude mask, bits of inf) for float type ``dt``: a value is NaN
    exactly when ``bit_cast(v, ut) & mask > inf``."""
    if dt == ti.f64:
        return ti.u64, 0x7FFFFFFFFFFFFFFF, 0x7FF0000000000000
    return ti.u32, 0x7FFFFFFF, 0x7F800000


def _isnan_func(ti, dt):
    """A ``@ti.func`` NaN test by bit pattern (immune to fast-math folding)."""
    ut, mask, inf = _nan_bits(ti, dt)

    @ti.func
    def isnan(v):
        return (ti.bit_cast(v, ut) & ut(mask)) > ut(inf)

    return isnan


def _identity(ti, op: str, dt):
    """The identity element of ``op`` in Taichi dtype ``dt``, as a Python number of the
    matching kind (a float for float types: Taichi rejects ``ti.f32(0)``)."""
    is_float = dt in (ti.f32, ti.f64)
    if op in ("sum", "prod"):
        value = 0 if op == "sum" else 1
        return float(value) if is_float else value
    if is_float:
        return -math.inf if op == "max" else math.inf
    if dt == ti.u8:
        return 0 if op == "max" else 1
    bits = 31 if dt == ti.i32 else 63
    return -(2**bits) if op == "max" else 2**bits - 1


def _build_reduce(op: str, acc_name: str, out_name: str, block: bool, serial: bool):
    ti = _runtime.taichi()
    acc_t = _buffer._ti_dtype(ti, np.dtype(acc_name))
    out_t = _buffer._ti_dtype(ti, np.dtype(out_name))
    is_float = acc_t in (ti.f32, ti.f64)
    ident = _identity(ti, op, acc_t)
    isnan = _isnan_func(ti, acc_t) if is_float else None

    @ti.func
    def combine(acc, v):
        r = acc
        if ti.static(op == "sum"):
            r = acc + v
        elif ti.static(op == "prod"):
            r = acc * v
        elif ti.static(op == "max"):
            if ti.static(is_float):
                if isnan(v) or v > acc:
                    r = v
            elif v > acc:
                r = v
        else:
            if ti.static(is_float):
                if isnan(v) or v < acc:
                    r = v
            elif v < acc:
                r = v
        return r

    @ti.kernel
    def reduce_k(
        x: ti.types.ndarray(ndim=1),
        y: ti.types.ndarray(ndim=1),
        ntask: ti.i32,
        m: ti.i32,
        inner: ti.i32,
        nch: ti.i32,
        chunk: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for t in range(ntask):
            r = t // nch
            c = t - r * nch
            j0 = c * chunk
            j1 = ti.min(m, j0 + chunk)
            if ti.static(not block):
                o = r // inner
                base = o * m * inner + (r - o * inner)
                acc = acc_t(ident)
                for j in range(j0, j1):
                    acc = combine(acc, ti.cast(x[base + j * inner], acc_t))
                y[t] = ti.cast(acc, out_t)
            else:
                # LANES neighbouring outputs per task: each row of x is read contiguously.
                nblk = (inner + LANES - 1) // LANES
                o = r // nblk
                k0 = (r - o * nblk) * LANES
                base = o * m * inner + k0
                acc = ti.Vector([acc_t(ident)] * LANES, dt=acc_t)
                if k0 + LANES <= inner:
                    for j in range(j0, j1):
                        for lane in ti.static(range(LANES)):
                            v = ti.cast(x[base + j * inner + lane], acc_t)
                            acc[lane] = combine(acc[lane], v)
                else:
                    for j in range(j0, j1):
                        for lane in ti.static(range(LANES)):
                            if k0 + lane < inner:
                                v = ti.cast(x[base + j * inner + lane], acc_t)
                                acc[lane] = combine(acc[lane], v)
                for lane in ti.static(range(LANES)):
                    if k0 + lane < inner:
                        y[(o * inner + k0 + lane) * nch + c] = ti.cast(acc[lane], out_t)

    return reduce_k


def _build_argreduce(op: str, dtype_name: str, with_index: bool, serial: bool):
    ti = _runtime.taichi()
    dt = _buffer._ti_dtype(ti, np.dtype(dtype_name))
    is_float = dt in (ti.f32, ti.f64)
    ut, mask, inf_bits = _nan_bits(ti, dt)

    @ti.func
    def magnitude_bits(v):  # > inf_bits exactly for NaN
        return ti.bit_cast(v, ut) & ut(mask)

    @ti.func
    def better(v, best):
        b = v < best
        if ti.static(op == "argmax"):
            b = v > best
        return b

    @ti.kernel
    def argreduce_k(
        x: ti.types.ndarray(ndim=1),
        xi: ti.types.ndarray(ndim=1),
        pv: ti.types.ndarray(ndim=1),
        pi: ti.types.ndarray(ndim=1),
        ntask: ti.i32,
        m: ti.i32,
        inner: ti.i32,
        nch: ti.i32,
        chunk: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for t in range(ntask):
            r = t // nch
            c = t - r * nch
            o = r // inner
            base = o * m * inner + (r - o * inner)
            j0 = c * chunk
            j1 = ti.min(m, j0 + chunk)
            best = x[base + j0 * inner]
            bi = j0
            if ti.static(with_index):
                bi = xi[base + j0 * inner]
            # The plain comparison loop; NaN is only tracked (branch-free), then searched for.
            nan_bits = ti.cast(0, ut)
            if ti.static(is_float):
                nan_bits = magnitude_bits(best)
            for j in range(j0 + 1, j1):
                v = x[base + j * inner]
                if ti.static(is_float):
                    nan_bits = ti.max(nan_bits, magnitude_bits(v))
                if better(v, best):
                    best = v
                    bi = j
                    if ti.static(with_index):
                        bi = xi[base + j * inner]
            if ti.static(is_float):
                if nan_bits > ut(inf_bits):
                    for j in range(j0, j1):
                        v = x[base + j * inner]
                        if magnitude_bits(v) > ut(inf_bits):
                            best = v
                            bi = j
                            if ti.static(with_index):
                                bi = xi[base + j * inner]
                            break
            pv[t] = best
            pi[t] = bi

    return argreduce_k


def _reduce_kernel(op: str, acc_name: str, out_name: str, block: bool, ser: bool):
    key = ("reduce", op, acc_name, out_name, block, ser)
    return _launch.kernel(key, lambda: _build_reduce(op, acc_name, out_name, block, ser))


def _argreduce_kernel(op: str, name: str, with_index: bool, ser: bool):
    key = ("argreduce", op, name, with_index, ser)
    return _launch.kernel(key, lambda: _build_argreduce(op, name, with_index, ser))


def _chunks(m: int) -> int:
    return max(1, -(-m // CHUNK))


def reduce(buf, dtype: np.dtype, op: str, outer: int, m: int, inner: int, out_dtype: np.dtype):
    """Reduce the ``m`` axis of a buffer read as ``(outer, m, inner)``.

    Args:
        buf: the input buffer.
        dtype: its element dtype.
        op: "sum", "prod", "max" or "min".
        outer, m, inner: the layout; ``m == 0`` gives the identity of ``op`` (``-inf`` for a
            float max, ``False`` for a bool max, ...).
        out_dtype: dtype of the result buffer.

    Returns:
        A new buffer of ``outer * inner`` elements of ``out_dtype``.
    """
    acc = acc_dtype(op, dtype)
    rows = outer * inner
    while True:
        nch = _chunks(m)
        res_dtype = out_dtype if nch == 1 else acc
        res = _buffer.empty(rows * nch, res_dtype)
        block = inner >= LANES
        ntask = outer * -(-inner // LANES) * nch if block else rows * nch
        if ntask:
            ser = _launch.serial(max(rows * m, ntask))
            k = _reduce_kernel(op, acc.name, res_dtype.name, block, ser)
            args = (ntask, m, inner, nch, CHUNK)
            _launch.launch(k, _buffer.kernel_view(buf), _buffer.kernel_view(res), *args)
        if nch == 1:
            return res
        buf, outer, m, inner = res, rows, nch, 1  # the partials: rows of nch values


def argreduce(buf, dtype: np.dtype, op: str, outer: int, m: int, inner: int):
    """The index (int32) of the first extreme value along the ``m`` axis of ``(outer, m, inner)``.

    Args:
        buf: the input buffer; dtype: its element dtype; op: "argmax" or "argmin".
        outer, m, inner: the layout; ``m`` must be positive.

    Returns:
        A new int32 buffer of ``outer * inner`` elements.
    """
    rows = outer * inner
    name = np.dtype(dtype).name
    idx = None  # after the first pass: the index of each partial
    while True:
        nch = _chunks(m)
        ntask = rows * nch
        pv = _buffer.empty(ntask, dtype)
        pi = _buffer.empty(ntask, np.dtype(np.int32))
        if ntask:
            ser = _launch.serial(max(rows * m, ntask))
            with_index = idx is not None
            k = _argreduce_kernel(op, name, with_index, ser)
            xi = idx if with_index else pi  # not read without an index input
            args = (ntask, m, inner, nch, CHUNK)
            _launch.launch(k, _buffer.kernel_view(buf), xi, _buffer.kernel_view(pv), pi, *args)
        if nch == 1:
            return pi
        buf, idx, m, inner = pv, pi, nch, 1
