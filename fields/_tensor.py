"""The concrete tensor: a flat buffer on the current arch plus shape and dtype metadata.

Tensors have value semantics: no public operation changes a tensor in place, and
``Tensor.numpy()`` on the CPU returns a read-only view, so a value an autodiff trace saved can
never be mutated under it. Functional updates (``x.at[i].set(v)``) return new tensors.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _buffer, _dtypes, _runtime
from ._arraylike import ArrayLike
from ._core import ShapedArray

__all__ = ["Tensor", "tensor", "asarray", "is_tensor"]

_MAX_SIZE = 2**31 - 1  # kernels index with 32-bit integers


class Tensor(ArrayLike):
    """An n-dimensional array stored in a Taichi-accessible buffer.

    Create tensors with :func:`fieldgrad.tensor`, :func:`fieldgrad.asarray` or the creation
    functions (``zeros``, ``arange``, ...); do not call the constructor directly.

    Attributes:
        shape: tuple of ints.
        dtype: numpy dtype: bool, int32, int64, float32 or float64.
        ndim, size: number of axes and of elements.
        arch: the Taichi arch holding the data ("cpu", "cuda", ...).
    """

    __slots__ = ("_buf", "shape", "dtype", "weak_type", "_size", "_arch", "_gen")
    __array_priority__ = 1000

    def __init__(self, *args, **kwargs):
        raise TypeError("use fieldgrad.tensor(data) or fieldgrad.asarray(data) to make a tensor")

    @classmethod
    def _new(cls, buf, shape: tuple, dtype: np.dtype, weak_type: bool = False) -> Tensor:
        t = object.__new__(cls)
        t._buf = buf
        t.shape = shape
        t.dtype = dtype
        t.weak_type = weak_type
        size = 1
        for s in shape:
            size *= s
        t._size = size
        t._arch = _runtime._state["arch"]
        t._gen = _runtime._state["generation"]
        return t

    # metadata
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return self._size

    @property
    def arch(self) -> str:
        return self._arch

    @property
    def aval(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype, self.weak_type)

    @property
    def nbytes(self) -> int:
        return self._size * self.dtype.itemsize

    # conversion
    def numpy(self) -> np.ndarray:
        """The values as a numpy array: a read-only zero-copy view on the CPU, a copy on a GPU.

        Use ``np.array(t)`` for a writable copy.
        """
        _check_alive(self)
        a = _buffer.to_numpy(self._buf, self._size, self.dtype).reshape(self.shape)
        if a.base is not None or isinstance(self._buf, np.ndarray):
            a = a.view()
            a.flags.writeable = False
        return a

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if copy:
            a = a.copy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            a = a.astype(dtype)
        return a

    def item(self):
        """The single element as a Python number."""
        if self._size != 1:
            raise ValueError(
                f"only a tensor of one element converts to a Python scalar; got shape {self.shape}"
            )
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use fg.any(x) or fg.all(x)"
            )
        return bool(self.item())

    def __index__(self):
        if not _dtypes.is_int(self.dtype):
            raise TypeError(f"only an integer tensor can be used as an index, got {self.dtype}")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __repr__(self) -> str:
        body = np.array2string(
            self.numpy(), separator=", ", prefix="tensor(", threshold=200, edgeitems=3
        )
        return f"tensor({body}, dtype={self.dtype.name})"

    def __str__(self) -> str:
        return str(self.numpy())

    def __reduce__(self):
        return (tensor, (np.array(self.numpy()), self.dtype))

    def __copy__(self):
        return self  # immutable

    def __deepcopy__(self, memo):
        return self


def _check_alive(t: Tensor) -> None:
    if t._arch != "cpu" and t._gen != _runtime._state["generation"]:
        raise RuntimeError(
            f"this tensor lived on {t._arch} before fieldgrad.init was called again; "
            "its device memory is gone. Convert tensors to numpy before re-initialising."
        )


def is_tensor(x) -> bool:
    """Whether ``x`` is a concrete fieldgrad tensor."""
    return isinstance(x, Tensor)


def _infer_numpy(data, dtype) -> np.ndarray:
    """Turn Python/numpy data into a numpy array of a supported dtype (no copy promised)."""
    if dtype is not None:
        dt = _dtypes.dtype(dtype)
        if isinstance(data, Tensor):
            data = data.numpy()
        try:
            return np.asarray(data, dtype=dt)
        except (TypeError, ValueError) as e:
            msg = f"cannot make a {dt.name} tensor from {type(data).__name__}: {e}"
            raise TypeError(msg) from e
    if isinstance(data, np.ndarray):
        return np.asarray(data, dtype=_dtypes.canonical_from_numpy(data.dtype))
    if isinstance(data, (bool, np.bool_)):
        return np.asarray(data, dtype=np.bool_)
    if isinstance(data, numbers.Integral):
        return np.asarray(data, dtype=np.int32 if -(2**31) <= data < 2**31 else np.int64)
    if isinstance(data, numbers.Real):
        return np.asarray(data, dtype=_runtime.default_float_dtype())
    if isinstance(data, (list, tuple)):
        items = [x.numpy() if isinstance(x, Tensor) else x for x in data]
        try:
            a = np.asarray(items)
        except ValueError as e:
            raise ValueError(f"cannot make a tensor from a ragged nested sequence: {e}") from e
        if a.dtype == np.float64 and not any(
            isinstance(x, np.ndarray) and x.dtype == np.float64 for x in items
        ):
            a = a.astype(_runtime.default_float_dtype())
        elif a.dtype == np.int64 and a.size and np.abs(a).max() < 2**31:
            a = a.astype(np.int32)
        if a.dtype == object or a.dtype.kind in "USc":
            raise TypeError(
                f"cannot make a tensor from a sequence of {a.dtype}; expected numbers or bools"
            )
        return np.asarray(a, dtype=_dtypes.canonical_from_numpy(a.dtype))
    if hasattr(data, "__array__"):
        a = np.asarray(data)
        return np.asarray(a, dtype=_dtypes.canonical_from_numpy(a.dtype))
    raise TypeError(
        f"cannot make a tensor from {type(data).__name__}; expected a Tensor, numpy array, "
        "nested list/tuple of numbers, or a Python scalar"
    )


def tensor(data, dtype=None) -> Tensor:
    """Make a new tensor holding a copy of ``data``.

    Args:
        data: a numpy array (any layout; non-contiguous arrays are copied), a nested list or
            tuple, a Python scalar, or a tensor.
        dtype: the dtype; by default numpy arrays keep their dtype (float64 stays float64),
            Python floats take the default float dtype, Python ints int32 (int64 if they do not
            fit), bools bool.

    Returns:
        A new Tensor on the current arch.

    Raises:
        TypeError: unsupported data or dtype.

    Example:
        >>> import fieldgrad as fg
        >>> fg.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
        (2, 2)
    """
    _runtime.ensure_init()
    a = _infer_numpy(data, dtype)
    if a.size > _MAX_SIZE:
        raise ValueError(f"tensors hold at most {_MAX_SIZE} elements, got {a.size}")
    return Tensor._new(_buffer.from_numpy(a, a.dtype), tuple(int(s) for s in a.shape), a.dtype)


def asarray(data, dtype=None) -> Tensor:
    """Like :func:`tensor`, but returns ``data`` itself when it is already a tensor of ``dtype``.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([1.0, 2.0])
        >>> fg.asarray(x) is x
        True
    """
    from ._core import Tracer

    conv = getattr(type(data), "__fieldgrad_tensor__", None)
    if conv is not None:
        data = conv(data)
    if isinstance(data, (Tensor, Tracer)):
        if dtype is None or _dtypes.dtype(dtype) == data.dtype:
            return data
        from fieldgrad import fields

        return fields.astype(data, dtype)
    return tensor(data, dtype)


def scalar(value, dtype: np.dtype, weak_type: bool = True) -> Tensor:
    """A 0-d tensor holding a Python scalar (weakly typed by default), for binary ops."""
    _runtime.ensure_init()
    if _runtime._state["arch"] == "cpu":
        buf = _buffer.aligned_empty(1, dtype)
        buf[0] = value
    else:
        buf = _buffer.from_numpy(np.asarray(value, dtype=dtype), dtype)
    return Tensor._new(buf, (), dtype, weak_type)


def wrap_numpy_result(a: np.ndarray, dtype: np.dtype | None = None) -> Tensor:
    """Copy a host numpy result into a new tensor (used by host-side implementations)."""
    dt = dtype or _dtypes.canonical_from_numpy(a.dtype)
    return Tensor._new(_buffer.from_numpy(a, dt), tuple(a.shape), dt)
