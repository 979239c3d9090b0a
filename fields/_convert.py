"""Dtype conversion (the ``convert_element_type`` primitive) and operand promotion.

Public binary functions call :func:`promote` to turn their operands (tensors, tracers, Python
scalars, numpy arrays, lists) into tensors of one dtype following the rules of
:mod:`fieldgrad.fields._dtypes`.
"""

import numbers
from typing import Optional

import numpy as np

from . import _buffer, _dtypes, _launch, _runtime
from ._core import Primitive, ShapedArray, Tracer
from ._tensor import Tensor, scalar, tensor

__all__ = ["astype", "promote", "as_operand"]


def _cast_kernel(to_bool: bool, serial: bool):
    ti = _runtime.taichi()

    @ti.kernel
    def cast_k(x: ti.types.ndarray(ndim=1), y: ti.types.ndarray(ndim=1), n: ti.i32):
        ti.loop_config(serialize=serial)
        for i in range(n):
            if ti.static(to_bool):
                y[i] = ti.cast(1 - ti.cast(x[i] == 0, ti.i32), ti.u8)  # NaN -> True
            else:
                y[i] = x[i]

    return cast_k


def _convert_impl(x: Tensor, *, new_dtype: np.dtype) -> Tensor:
    out = Tensor._new(_buffer.empty(x.size, new_dtype), x.shape, new_dtype)
    if x.size:
        to_bool = new_dtype == _dtypes.bool_
        ser = _launch.serial(x.size)
        k = _launch.kernel(("cast", to_bool, ser), lambda: _cast_kernel(to_bool, ser))
        _launch.launch(k, _buffer.kernel_view(x._buf), _buffer.kernel_view(out._buf), x.size)
    return out


def _convert_abstract(x: ShapedArray, *, new_dtype: np.dtype) -> ShapedArray:
    return ShapedArray(x.shape, new_dtype)


convert_element_type_p = Primitive("convert_element_type", _convert_impl, _convert_abstract)


def astype(x, dtype) -> Tensor:
    """``x`` converted to ``dtype`` (floats to ints truncate toward zero; to bool: ``x != 0``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.astype(fg.tensor([1.7, -1.7]), "int32").tolist()
        [1, -1]
    """
    dt = _dtypes.dtype(dtype)
    x = as_operand(x)
    if x.dtype == dt and not x.weak_type:
        return x
    if x.dtype == dt:
        # Same dtype, only the weak flag differs: a strong copy is not needed for values.
        return x if isinstance(x, Tracer) else Tensor._new(x._buf, x.shape, x.dtype)
    return convert_element_type_p.bind(x, new_dtype=dt)


def as_operand(x):
    """A tensor or tracer for ``x``; Python scalars become weakly typed 0-d tensors.

    An object whose type defines ``__fieldgrad_tensor__()`` (a PINN field, say) is converted by
    it, so it mixes with tensors in every op.
    """
    if isinstance(x, (Tensor, Tracer)):
        return x
    conv = getattr(type(x), "__fieldgrad_tensor__", None)
    if conv is not None:
        return as_operand(conv(x))
    if isinstance(x, (bool, np.bool_)):
        return scalar(bool(x), _dtypes.bool_)
    if isinstance(x, numbers.Integral):
        return scalar(int(x), _dtypes.int32 if -(2**31) <= x < 2**31 else _dtypes.int64)
    if isinstance(x, numbers.Real):
        return scalar(float(x), _runtime.default_float_dtype())
    return tensor(x)


def promote(*args, dtype: Optional[np.dtype] = None) -> list:
    """Operands as tensors of one dtype: ``dtype`` if given, else :func:`result_type`."""
    _runtime.ensure_init()
    ops = []
    for a in args:
        if isinstance(a, (Tensor, Tracer, bool, numbers.Number, np.bool_)):
            ops.append(a)
        else:
            ops.append(tensor(a))
    dt = dtype or _dtypes.result_type(*ops)
    out = []
    for a in ops:
        if isinstance(a, (Tensor, Tracer)):
            out.append(a if a.dtype == dt else convert_element_type_p.bind(a, new_dtype=dt))
        else:
            out.append(scalar(a, dt))
    return out
