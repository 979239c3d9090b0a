"""SIMD fast path for large elementwise work on the CPU (the recipe of the CPU performance notes).

A plain Taichi loop over ndarrays is never vectorised and ``ti.exp``/``ti.tanh``/``ti.sin`` are
one C-library call per element. For float32 (16 lanes, one AVX-512 register) and float64
(8 lanes) this module instead launches kernels whose ndarray element is a whole lane group,
``ti.types.vector(lanes, ft)`` over ``buf.reshape(-1, lanes)`` views of the flat buffers, compiled
with ``real_matrix_scalarize=False`` (real LLVM vectors), ``fast_math=False`` and float literals of
the kernel's own type. Those settings are scoped to these kernels only (:func:`_launch.kernel`'s
``config``): other kernels, ``ti.Vector.field`` ones especially, keep Taichi's defaults.

:data:`SIMD` says which primitives have a vector body. A vector body may use only ``+ - * /``,
``ti.min``/``ti.max`` and ``ti.floor`` on whole vectors; anything else (unary minus, ``abs``,
``sqrt``, comparisons, selects, casts, ``ti.exp``...) aborts the process on real vectors, so it
is written lane by lane with ``ti.static(range(lanes))``, which LLVM re-vectorises. float64 gets
vector bodies for exact arithmetic and for exp, tanh and the logistic function, with the double
precision approximations of :mod:`_simd_math64` (a few ulp); its other transcendentals stay on
the scalar C library (the approximations of :mod:`_simd_math` are float32-accurate only).

Buffers are 64-byte aligned and padded to whole 16-element groups (:mod:`_buffer`), so the last
lane group is always readable and writable; the tail past ``size`` holds garbage that is never
read as data. A 64-byte aligned load of an unaligned buffer is a segfault, not an exception, so
every launch checks alignment and length first and raises otherwise.
"""

from typing import Callable, NamedTuple, Optional

import numpy as np

from . import _buffer, _launch, _runtime, _simd_math, _simd_math64

__all__: list = []

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
LANES = {F32: 16, F64: 8}
_BOTH = frozenset((F32, F64))
_F32_ONLY = frozenset((F32,))

# Elementwise work of at least this many elements takes the SIMD path. Measured crossover (one
# pinned core): below it a launch-bound vector kernel is no faster than the scalar one, whose
# launch is about 3 microseconds cheaper; transcendentals (scalar C-library calls of 5-20 ns per
# element otherwise) pay from about a thousand elements, arithmetic from about four thousand.
MIN_SIZE_MATH = 1024
MIN_SIZE_CHEAP = 4096
MIN_SIZE = min(MIN_SIZE_MATH, MIN_SIZE_CHEAP)  # the callers' first, cheapest test
# A parallel loop (when Taichi has 2+ threads) pays its thread hand-off, 5 microseconds pinned
# and about 50 unpinned, only on far more vector work than scalar work. Measured unpinned with
# two threads (bench/ops.py): a vector exp/tanh/sin breaks even near 1e6 elements and runs about
# 1.8x faster at 1e7; memory-bound arithmetic (about 0.2 ns per element) gains little even at
# 1e7. A second thread often finds its core busy on these shared 2-core machines.
PARALLEL_SIZE_MATH = 1 << 20
PARALLEL_SIZE_CHEAP = 1 << 22

enabled = True

_CONFIG = {"real_matrix_scalarize": False, "fast_math": False}


class SimdOp(NamedTuple):
    """A vector body for one primitive.

    Attributes:
        arity: number of operands.
        body: ``body(ti, lanes)`` returns a ``@ti.func`` taking and returning lane vectors.
        dtypes: the numpy dtypes it serves.
        min_size: elements from which the vector kernel beats the scalar one.
        parallel_size: elements from which a parallel loop pays (when Taichi has 2+ threads).
    """

    arity: int
    body: Callable
    dtypes: frozenset
    min_size: int
    parallel_size: int


def _binop(op: str):
    def factory(ti, lanes):
        if op == "add":

            @ti.func
            def f(a, b):
                return a + b

        elif op == "sub":

            @ti.func
            def f(a, b):
                return a - b

        elif op == "mul":

            @ti.func
            def f(a, b):
                return a * b

        else:

            @ti.func
            def f(a, b):
                return a / b

        return f

    return factory


def _neg(ti, lanes):
    @ti.func
    def f(x):
        return -1.0 * x

    return f


def _abs(ti, lanes):
    @ti.func
    def f(x):
        return ti.Vector([ti.abs(x[j]) for j in ti.static(range(lanes))])

    return f


def _sqrt(ti, lanes):
    @ti.func
    def f(x):
        return ti.Vector([ti.sqrt(x[j]) for j in ti.static(range(lanes))])

    return f


def _extremum(larger: bool):
    """numpy's maximum/minimum lane by lane: ties keep ``a`` (so -0.0 vs 0.0 keeps ``a``), and
    a NaN operand wins (``a``'s NaN first), as the scalar kernel does."""

    def factory(ti, lanes):
        @ti.func
        def pick(a, b):
            r = a
            if ti.static(larger):
                r = ti.select(a >= b, a, b)
            else:
                r = ti.select(a <= b, a, b)
            r = ti.select(b == b, r, b)
            return ti.select(a == a, r, a)

        @ti.func
        def f(a, b):
            return ti.Vector([pick(a[j], b[j]) for j in ti.static(range(lanes))])

        return f

    return factory


def _floor(ti, lanes):
    @ti.func
    def f(x):
        return ti.floor(x)

    return f


def _ceil(ti, lanes):
    @ti.func
    def f(x):
        return ti.Vector([ti.ceil(x[j]) for j in ti.static(range(lanes))])

    return f


def _math(fn32, fn64=None):
    """A transcendental: the float32 body, and the float64 one where there is one (the lane
    count tells the two apart: 16 for float32, 8 for float64)."""
    if fn64 is None:
        return SimdOp(1, fn32, _F32_ONLY, MIN_SIZE_MATH, PARALLEL_SIZE_MATH)

    def body(ti, lanes):
        return (fn32 if lanes == LANES[F32] else fn64)(ti, lanes)

    return SimdOp(1, body, _BOTH, MIN_SIZE_MATH, PARALLEL_SIZE_MATH)


# Primitive name -> vector body. A test checks every key is a registered primitive.
SIMD = {
    "add": SimdOp(2, _binop("add"), _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "sub": SimdOp(2, _binop("sub"), _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "mul": SimdOp(2, _binop("mul"), _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "div": SimdOp(2, _binop("div"), _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "neg": SimdOp(1, _neg, _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "abs": SimdOp(1, _abs, _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "sqrt": SimdOp(1, _sqrt, _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "max": SimdOp(2, _extremum(True), _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "min": SimdOp(2, _extremum(False), _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "floor": SimdOp(1, _floor, _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "ceil": SimdOp(1, _ceil, _BOTH, MIN_SIZE_CHEAP, PARALLEL_SIZE_CHEAP),
    "exp": _math(_simd_math.exp_f32, _simd_math64.exp_f64),
    "log": _math(_simd_math.log_f32),
    "tanh": _math(_simd_math.tanh_f32, _simd_math64.tanh_f64),
    "sin": _math(_simd_math.sin_f32),
    "cos": _math(_simd_math.cos_f32),
    "logistic": _math(_simd_math.sigmoid_f32, _simd_math64.sigmoid_f64),
}


# --- kernels -------------------------------------------------------------------------------------


def _vector_type(ti, dtype: np.dtype):
    ft = ti.f32 if dtype == F32 else ti.f64
    return ft, ti.types.vector(LANES[dtype], ft)


def _unary_kernel(op: SimdOp, dtype: np.dtype, serial: bool):
    ti = _runtime.taichi()
    _, V = _vector_type(ti, dtype)
    fn = op.body(ti, LANES[dtype])

    @ti.kernel
    def simd_unary_k(
        x: ti.types.ndarray(dtype=V, ndim=1), y: ti.types.ndarray(dtype=V, ndim=1), g: ti.i32
    ):
        ti.loop_config(serialize=serial)
        for i in range(g):
            y[i] = fn(x[i])

    return simd_unary_k


def _binary_kernel(op: SimdOp, dtype: np.dtype, serial: bool):
    ti = _runtime.taichi()
    _, V = _vector_type(ti, dtype)
    fn = op.body(ti, LANES[dtype])

    @ti.kernel
    def simd_binary_k(
        a: ti.types.ndarray(dtype=V, ndim=1),
        b: ti.types.ndarray(dtype=V, ndim=1),
        y: ti.types.ndarray(dtype=V, ndim=1),
        g: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(g):
            y[i] = fn(a[i], b[i])

    return simd_binary_k


def _scalar_kernel(op: SimdOp, dtype: np.dtype, serial: bool, left: bool):
    """``y = fn(s, a)`` (``left``) or ``fn(a, s)`` for a scalar ``s`` passed by value."""
    ti = _runtime.taichi()
    ft, V = _vector_type(ti, dtype)
    lanes = LANES[dtype]
    fn = op.body(ti, lanes)

    @ti.kernel
    def simd_scalar_k(
        a: ti.types.ndarray(dtype=V, ndim=1), s: ft, y: ti.types.ndarray(dtype=V, ndim=1), g: ti.i32
    ):
        sv = ti.Vector([s for _ in ti.static(range(lanes))])
        ti.loop_config(serialize=serial)
        for i in range(g):
            if ti.static(left):
                y[i] = fn(sv, a[i])
            else:
                y[i] = fn(a[i], sv)

    return simd_scalar_k


# --- dispatch ------------------------------------------------------------------------------------


def _lookup(name: str, dtype: np.dtype, arity: int, n: int) -> Optional[SimdOp]:
    op = SIMD.get(name)
    if (
        op is None
        or n < op.min_size
        or op.arity != arity
        or dtype not in op.dtypes
        or not enabled
        or _runtime._state["arch"] != "cpu"
    ):
        return None
    return op


def _serial(op: SimdOp, n: int) -> bool:
    # Always serial: parallel launches of real-vector kernels crashed the process (SIGSEGV)
    # with two threads at 2**22 elements for some ops (e.g. maximum with a scalar; Taichi 1.7.4).
    # A serial vector loop runs at about numpy's speed; ``op.parallel_size`` records where a
    # parallel loop would pay once that is safe.
    del op, n
    return True


def lane_view(buf, n: int, lanes: int) -> np.ndarray:
    """``buf`` as ``(groups, lanes)`` covering ``n`` elements; raises unless a SIMD launch is safe.

    Raises:
        RuntimeError: the buffer is not a 64-byte aligned, padded, contiguous numpy buffer.
    """
    groups = -(-n // lanes)
    if (
        type(buf) is not np.ndarray
        or buf.ndim != 1
        or not buf.flags.c_contiguous
        or buf.shape[0] < groups * lanes
    ):
        raise RuntimeError(
            "SIMD elementwise kernel: expected a contiguous 1-D numpy buffer padded to "
            f"{groups * lanes} elements, got {type(buf).__name__} of shape "
            f"{getattr(buf, 'shape', None)}"
        )
    ptr = _launch.data_ptr(buf)
    if ptr % _buffer.ALIGN:
        raise RuntimeError(
            f"SIMD elementwise kernel: buffer data at {ptr:#x} is not {_buffer.ALIGN}-byte "
            "aligned; a vector load of it would crash the process"
        )
    return buf[: groups * lanes].reshape(groups, lanes)


def unary(name: str, x, out) -> bool:
    """Compute ``out = name(x)`` with a vector kernel; False when the op or dtype has none."""
    dtype = x.dtype
    op = _lookup(name, dtype, 1, x.size)
    if op is None or out.dtype != dtype:
        return False
    n = x.size
    lanes = LANES[dtype]
    ser = _serial(op, n)
    config = _kernel_config(dtype)
    k = _launch.kernel(
        ("simd1", name, dtype, ser), lambda: _unary_kernel(op, dtype, ser), config=config
    )
    _launch.launch(k, lane_view(x._buf, n, lanes), lane_view(out._buf, n, lanes), -(-n // lanes))
    return True


def binary(name: str, a, b, out) -> bool:
    """Compute ``out = name(a, b)`` with a vector kernel for same-shape operands or one operand of
    a single element; False when there is no vector body or the operands broadcast otherwise."""
    dtype = a.dtype
    op = _lookup(name, dtype, 2, out.size)
    if op is None or b.dtype != dtype or out.dtype != dtype:
        return False
    n = out.size
    lanes = LANES[dtype]
    groups = -(-n // lanes)
    ser = _serial(op, n)
    config = _kernel_config(dtype)
    if a.shape == b.shape:
        k = _launch.kernel(
            ("simd2", name, dtype, ser), lambda: _binary_kernel(op, dtype, ser), config=config
        )
        va, vb = lane_view(a._buf, n, lanes), lane_view(b._buf, n, lanes)
        _launch.launch(k, va, vb, lane_view(out._buf, n, lanes), groups)
        return True
    if a.size == 1 and b.size == n:
        left, s, v = True, a, b
    elif b.size == 1 and a.size == n:
        left, s, v = False, b, a
    else:
        return False
    k = _launch.kernel(
        ("simd2s", name, dtype, ser, left),
        lambda: _scalar_kernel(op, dtype, ser, left),
        config=config,
    )
    value = float(_buffer.to_numpy(s._buf, 1, dtype)[0])
    _launch.launch(k, lane_view(v._buf, n, lanes), value, lane_view(out._buf, n, lanes), groups)
    return True


_configs: dict = {}


def _kernel_config(dtype: np.dtype) -> dict:
    """Compile settings of the vector kernels of ``dtype`` (float literals of that type)."""
    cfg = _configs.get(dtype)
    if cfg is None:
        ti = _runtime.taichi()
        cfg = _configs[dtype] = dict(_CONFIG, default_fp=ti.f32 if dtype == F32 else ti.f64)
    return cfg
