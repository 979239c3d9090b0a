"""Tensor creation: constant fills, ranges, grids and identity matrices.

Every creation function runs one Taichi kernel (a fill, an iota or an eye kernel) through a
primitive with no tensor inputs and static parameters (shape, dtype, values), so a staging
trace can record it as a constant-producing node. Shapes are an int or a tuple of ints; a
negative size raises ``ValueError``. The default dtype of a floating result is fieldgrad's
default float dtype (float32 unless ``fg.init(default_dtype="float64")``).
"""

import math
import numbers
import operator
from typing import Optional

import numpy as np

from . import _buffer, _dtypes, _launch, _runtime
from ._core import Primitive, ShapedArray, Tracer
from ._tensor import _MAX_SIZE, Tensor

__all__ = [
    "zeros",
    "ones",
    "full",
    "empty",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
    "arange",
    "linspace",
    "meshgrid",
    "eye",
]


# --- argument helpers (also used by the random module) ------------------------------------------


def normalize_shape(shape, what: str = "shape") -> tuple:
    """``shape`` (an int or a sequence of ints) as a tuple of non-negative ints.

    Raises:
        TypeError: an entry is not an integer.
        ValueError: an entry is negative, or the size exceeds the 32-bit index range.
    """
    if isinstance(shape, (bool, np.bool_)):
        raise TypeError(f"{what} must be an int or a tuple of ints, got a bool")
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(
            f"{what} must be an int or a tuple of ints, got {type(shape).__name__}"
        ) from None
    out = []
    for s in dims:
        if isinstance(s, (bool, np.bool_)):
            raise TypeError(f"{what} {dims} contains a bool; sizes must be ints")
        try:
            s = operator.index(s)
        except TypeError:
            raise TypeError(
                f"{what} {dims} contains {type(s).__name__}; sizes must be ints"
            ) from None
        if s < 0:
            raise ValueError(f"{what} {dims} has a negative size {s}; sizes must be >= 0")
        out.append(int(s))
    size = 1
    for s in out:
        size *= s
    if size > _MAX_SIZE:
        raise ValueError(
            f"{what} {tuple(out)} has {size} elements; tensors hold at most {_MAX_SIZE}"
        )
    return tuple(out)


def _size(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _scalar_dtype(value) -> np.dtype:
    """The dtype numpy-style inference gives a Python scalar (ints are 32-bit when they fit)."""
    if isinstance(value, (bool, np.bool_)):
        return _dtypes.bool_
    if isinstance(value, numbers.Integral):
        return _dtypes.int32 if -(2**31) <= int(value) < 2**31 else _dtypes.int64
    if isinstance(value, numbers.Real):
        return _runtime.default_float_dtype()
    raise TypeError(f"expected a real number, got {type(value).__name__}")


def _coerce(value, dt: np.dtype):
    """A Python scalar of the kind ``dt`` stores (hashable, for primitive params)."""
    if dt == _dtypes.bool_:
        return int(bool(value))
    if _dtypes.is_int(dt):
        if isinstance(value, numbers.Integral):
            v = int(value)
        else:
            f = float(value)
            if not math.isfinite(f):
                raise ValueError(f"cannot store {f} in an {dt.name} tensor")
            v = int(f)  # truncate toward zero, as numpy's cast does
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            raise ValueError(f"fill value {value} does not fit in {dt.name}")
        return v
    return float(value)


def _compute_float(ti):
    """The widest float the current arch computes in (f64 except on the 32-bit-only backends)."""
    return ti.f32 if _runtime._state["arch"] in ("vulkan", "metal", "opengl") else ti.f64


# --- kernels ------------------------------------------------------------------------------------


def _fill_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    is_bool = dt == _dtypes.bool_
    vt = ti.i32 if is_bool else _buffer._ti_dtype(ti, dt)

    @ti.kernel
    def fill_k(y: ti.types.ndarray(ndim=1), n: ti.i32, v: vt):
        ti.loop_config(serialize=serial)
        for i in range(n):
            if ti.static(is_bool):
                y[i] = ti.cast(v, ti.u8)
            else:
                y[i] = v

    return fill_k


def _iota_kernel(dt: np.dtype, integer: bool, serial: bool):
    """y[i] = start + i*step (with y[n-1] = last when has_last), computed in i64 or the widest
    float and cast to the output dtype (floored first for an integer output of a float range)."""
    ti = _runtime.taichi()
    ct = ti.i64 if integer else _compute_float(ti)
    out_t = _buffer._ti_dtype(ti, dt)
    floor_first = (not integer) and _dtypes.is_int(dt)

    @ti.kernel
    def iota_k(
        y: ti.types.ndarray(ndim=1), n: ti.i32, start: ct, step: ct, has_last: ti.i32, last: ct
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            v = start + ti.cast(i, ct) * step
            if has_last != 0 and i == n - 1:
                v = last
            if ti.static(floor_first):
                v = ti.floor(v)
            y[i] = ti.cast(v, out_t)

    return iota_k


def _eye_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    out_t = _buffer._ti_dtype(ti, dt)

    @ti.kernel
    def eye_k(y: ti.types.ndarray(ndim=1), n: ti.i32, m: ti.i32, k: ti.i32):
        ti.loop_config(serialize=serial)
        for i in range(n):
            y[i] = ti.cast(ti.cast((i % m) - (i // m) == k, ti.i32), out_t)

    return eye_k


# --- primitives ---------------------------------------------------------------------------------


def _new(shape: tuple, dt: np.dtype) -> Tensor:
    return Tensor._new(_buffer.empty(_size(shape), dt), shape, dt)


def _full_impl(*, shape: tuple, dtype: np.dtype, fill_value) -> Tensor:
    out = _new(shape, dtype)
    n = out.size
    if n:
        ser = _launch.serial(n)
        k = _launch.kernel(("fill", dtype, ser), lambda: _fill_kernel(dtype, ser))
        _launch.launch(k, _buffer.kernel_view(out._buf), n, fill_value)
    return out


def _full_abstract(*, shape: tuple, dtype: np.dtype, fill_value) -> ShapedArray:
    return ShapedArray(shape, dtype)


# full: a tensor of ``shape`` with every element ``fill_value``; no inputs, so no derivative.
full_p = Primitive("full", _full_impl, _full_abstract)


def _iota_impl(*, n: int, dtype: np.dtype, start, step, last, integer: bool) -> Tensor:
    out = _new((n,), dtype)
    if n:
        ser = _launch.serial(n)
        k = _launch.kernel(("iota", dtype, integer, ser), lambda: _iota_kernel(dtype, integer, ser))
        cast = int if integer else float
        has_last = last is not None
        _launch.launch(
            k,
            _buffer.kernel_view(out._buf),
            n,
            cast(start),
            cast(step),
            int(has_last),
            cast(last if has_last else 0),
        )
    return out


def _iota_abstract(*, n: int, dtype: np.dtype, start, step, last, integer: bool) -> ShapedArray:
    return ShapedArray((n,), dtype)


# iota: y[i] = start + i*step (the last element set to ``last`` when given); no inputs.
iota_p = Primitive("iota", _iota_impl, _iota_abstract)


def _eye_impl(*, n: int, m: int, k: int, dtype: np.dtype) -> Tensor:
    out = _new((n, m), dtype)
    if out.size:
        ser = _launch.serial(out.size)
        kern = _launch.kernel(("eye", dtype, ser), lambda: _eye_kernel(dtype, ser))
        _launch.launch(kern, _buffer.kernel_view(out._buf), out.size, m, k)
    return out


def _eye_abstract(*, n: int, m: int, k: int, dtype: np.dtype) -> ShapedArray:
    return ShapedArray((n, m), dtype)


# eye: ones where column - row == k; no inputs.
eye_p = Primitive("eye", _eye_impl, _eye_abstract)


# --- public functions ---------------------------------------------------------------------------


def full(shape, fill_value, dtype=None) -> Tensor:
    """A new tensor of ``shape`` filled with ``fill_value``.

    Args:
        shape: an int or a tuple of ints.
        fill_value: a Python or numpy scalar, or a tensor broadcastable to ``shape`` (then the
            result is ``broadcast_to(fill_value, shape)``, differentiable in ``fill_value``).
        dtype: the dtype; by default inferred from ``fill_value``: bool -> bool, int -> int32
            (int64 when it does not fit), float -> the default float dtype.

    Returns:
        Tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: a negative size, or a fill value that does not fit an integer dtype.
        TypeError: a non-integer size or an unsupported dtype.

    Example:
        >>> import fieldgrad as fg
        >>> fg.full((2, 2), 7).tolist()
        [[7, 7], [7, 7]]
    """
    shape = normalize_shape(shape)
    if isinstance(fill_value, (Tensor, Tracer, np.ndarray, list, tuple)):
        from . import _ops_shape
        from ._convert import as_operand, astype

        v = as_operand(fill_value)
        if dtype is not None:
            v = astype(v, dtype)
        return _ops_shape.broadcast_to(v, shape)
    _runtime.ensure_init()
    dt = _dtypes.dtype(dtype) if dtype is not None else _scalar_dtype(fill_value)
    return full_p.bind(shape=shape, dtype=dt, fill_value=_coerce(fill_value, dt))


def zeros(shape, dtype=None) -> Tensor:
    """A new tensor of ``shape`` filled with zeros (default float dtype unless ``dtype``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.zeros((2, 3)).shape
        (2, 3)
    """
    return full(shape, 0, _dtypes.dtype(dtype))


def ones(shape, dtype=None) -> Tensor:
    """A new tensor of ``shape`` filled with ones (default float dtype unless ``dtype``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.ones(3, dtype="int32").tolist()
        [1, 1, 1]
    """
    return full(shape, 1, _dtypes.dtype(dtype))


def empty(shape, dtype=None) -> Tensor:
    """A new tensor of ``shape``; its values are zeros (fieldgrad never hands out garbage).

    Example:
        >>> import fieldgrad as fg
        >>> fg.empty(2).shape
        (2,)
    """
    return zeros(shape, dtype)


def _like(x):
    """(shape, dtype) of a tensor, tracer, numpy array or nested list."""
    if isinstance(x, (Tensor, Tracer)):
        return x.shape, x.dtype
    if isinstance(x, np.ndarray):
        return tuple(x.shape), _dtypes.canonical_from_numpy(x.dtype)
    from ._tensor import _infer_numpy

    a = _infer_numpy(x, None)
    return tuple(a.shape), a.dtype


def full_like(x, fill_value, dtype=None) -> Tensor:
    """A new tensor with the shape of ``x`` and ``dtype`` (default: the dtype of ``x``), filled
    with ``fill_value`` (cast to that dtype: ``full_like(int_tensor, 2.5)`` holds 2).

    Example:
        >>> import fieldgrad as fg
        >>> fg.full_like(fg.zeros(2), 3.5, dtype="float64").tolist()
        [3.5, 3.5]
    """
    shape, dt = _like(x)
    return full(shape, fill_value, _dtypes.dtype(dtype) if dtype is not None else dt)


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros with the shape and (unless ``dtype`` is given) the dtype of ``x``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.zeros_like(fg.ones((2, 2), dtype="int32")).dtype.name
        'int32'
    """
    return full_like(x, 0, dtype)


def ones_like(x, dtype=None) -> Tensor:
    """Ones with the shape and (unless ``dtype`` is given) the dtype of ``x``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.ones_like([[1.0, 2.0]]).tolist()
        [[1.0, 1.0]]
    """
    return full_like(x, 1, dtype)


def empty_like(x, dtype=None) -> Tensor:
    """Like :func:`zeros_like` (fieldgrad's empty tensors are zero-filled)."""
    return zeros_like(x, dtype)


def _real(v, what: str):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        if isinstance(v, (Tensor, np.ndarray)) and v.size == 1 and v.ndim == 0:
            v = v.item()
        else:
            raise TypeError(f"{what} must be a real number, got {type(v).__name__}")
    if isinstance(v, numbers.Integral):
        return int(v)
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{what} must be finite, got {f}")
    return f


def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, like ``numpy.arange``.

    ``arange(stop)``, ``arange(start, stop)`` and ``arange(start, stop, step)`` are accepted.

    Args:
        start, stop, step: real numbers (``step`` defaults to 1 and must not be 0).
        dtype: the dtype; by default int32 when every argument is an int (int64 when the
            values do not fit), else the default float dtype.

    Returns:
        1-D tensor of ``ceil((stop - start) / step)`` elements (none when that is negative).

    Raises:
        ValueError: ``step`` is 0 or an argument is not finite.
        TypeError: an argument is not a real number.

    Example:
        >>> import fieldgrad as fg
        >>> fg.arange(1, 7, 2).tolist()
        [1, 3, 5]
    """
    if stop is None:
        start, stop = 0, start
    start = _real(start, "arange: start")
    stop = _real(stop, "arange: stop")
    step = 1 if step is None else _real(step, "arange: step")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    integer = all(isinstance(v, int) for v in (start, stop, step))
    if integer:
        n = len(range(start, stop, step))
    else:
        n = max(int(math.ceil((stop - start) / step)), 0)
    if dtype is None:
        if integer:
            last = start + step * max(n - 1, 0)
            fits = all(-(2**31) <= v < 2**31 for v in (start, last))
            dt = _dtypes.int32 if fits else _dtypes.int64
        else:
            dt = _runtime.default_float_dtype()
    else:
        dt = _dtypes.dtype(dtype)
    if dt == _dtypes.bool_:
        raise TypeError("arange: dtype bool is not supported; use an integer or float dtype")
    normalize_shape((n,))
    _runtime.ensure_init()
    return iota_p.bind(n=n, dtype=dt, start=start, step=step, last=None, integer=integer)


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``, like ``numpy.linspace``.

    Args:
        start, stop: real numbers.
        num: number of values (>= 0).
        endpoint: include ``stop`` as the last value (spacing ``(stop-start)/(num-1)``);
            otherwise the spacing is ``(stop-start)/num``.
        dtype: the dtype (default: the default float dtype). Integer dtypes take the floor of
            the values, as numpy does.

    Returns:
        1-D tensor of ``num`` elements; with ``endpoint`` its last element is exactly ``stop``.

    Raises:
        ValueError: a negative ``num`` or a non-finite bound.

    Example:
        >>> import fieldgrad as fg
        >>> fg.linspace(0.0, 1.0, 5).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    start = float(_real(start, "linspace: start"))
    stop = float(_real(stop, "linspace: stop"))
    try:
        num = operator.index(num)
    except TypeError:
        raise TypeError(f"linspace: num must be an int, got {type(num).__name__}") from None
    if num < 0:
        raise ValueError(f"linspace: num must be >= 0, got {num}")
    normalize_shape((num,))
    dt = _dtypes.dtype(dtype)
    if dt == _dtypes.bool_:
        raise TypeError("linspace: dtype bool is not supported; use an integer or float dtype")
    div = num - 1 if endpoint else num
    step = (stop - start) / div if div > 0 else 0.0
    last = stop if endpoint and num > 1 else None
    _runtime.ensure_init()
    return iota_p.bind(n=num, dtype=dt, start=start, step=step, last=last, integer=False)


def meshgrid(*xs, indexing: str = "xy") -> list:
    """Coordinate grids from 1-D coordinate vectors, like ``numpy.meshgrid``.

    Args:
        *xs: 1-D tensors (or arrays, lists; other shapes are flattened) of lengths n1, n2, ...
        indexing: "xy" (Cartesian: the first two output axes are swapped, outputs have shape
            (n2, n1, n3, ...)) or "ij" (matrix: shape (n1, n2, n3, ...)).

    Returns:
        A list of ``len(xs)`` tensors of the grid shape; each keeps its input's dtype. They are
        composites of reshape and broadcast_to, hence differentiable in the coordinates.

    Raises:
        ValueError: an unknown ``indexing``.

    Example:
        >>> import fieldgrad as fg
        >>> X, Y = fg.meshgrid(fg.arange(3), fg.arange(2))
        >>> X.shape, Y.tolist()
        ((2, 3), [[0, 0, 0], [1, 1, 1]])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    from . import _ops_shape
    from ._convert import as_operand

    vecs = [_ops_shape.reshape(as_operand(x), (-1,)) for x in xs]
    shape = [v.shape[0] for v in vecs]
    if indexing == "xy" and len(vecs) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for k, v in enumerate(vecs):
        axis = k
        if indexing == "xy" and len(vecs) >= 2 and k < 2:
            axis = 1 - k
        s = [1] * len(vecs)
        s[axis] = v.shape[0]
        out.append(_ops_shape.broadcast_to(_ops_shape.reshape(v, tuple(s)), tuple(shape)))
    return out


def eye(N: int, M: Optional[int] = None, k: int = 0, dtype=None) -> Tensor:
    """An ``N x M`` matrix with ones on the ``k``-th diagonal and zeros elsewhere.

    Args:
        N: number of rows.
        M: number of columns (default ``N``).
        k: the diagonal: 0 the main one, positive above it, negative below it.
        dtype: the dtype (default: the default float dtype).

    Raises:
        ValueError: a negative ``N`` or ``M``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.eye(2, 3, k=1, dtype="int32").tolist()
        [[0, 1, 0], [0, 0, 1]]
    """
    M = N if M is None else M
    shape = normalize_shape((N, M), "eye: shape")
    try:
        k = operator.index(k)
    except TypeError:
        raise TypeError(f"eye: k must be an int, got {type(k).__name__}") from None
    k = max(min(k, 2**31 - 1), -(2**31) + 1)
    _runtime.ensure_init()
    return eye_p.bind(n=shape[0], m=shape[1], k=k, dtype=_dtypes.dtype(dtype))
