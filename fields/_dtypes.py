"""Dtypes and the promotion rules of binary operations.

fieldgrad's dtypes are numpy dtype objects, so ``fg.float32 == np.float32`` holds.

Promotion (documented in docs/design.md):

* The lattice is ``bool < int32 < int64 < float32 < float64``; two tensors promote to the
  larger of the two (int64 with float32 gives float32: a float result keeps the float operand's
  precision, as in JAX, not float64 as in numpy).
* A Python scalar is *weak*: it never widens a tensor. ``x_f32 * 2.5`` stays float32,
  ``i32 + 1`` stays int32; a Python float with an integer tensor gives the default float dtype.
* True division ``/`` and floating functions (exp, sin, ...) of integer or bool tensors
  give the default float dtype (float32 unless ``fg.init(default_dtype="float64")``).
"""

from __future__ import annotations

import numpy as np

from . import _runtime

__all__ = ["bool_", "int32", "int64", "float32", "float64", "dtype", "result_type"]

bool_ = np.dtype(np.bool_)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)

SUPPORTED = (bool_, int32, int64, float32, float64)
_RANK = {bool_: 0, int32: 1, int64: 2, float32: 3, float64: 4}
FLOATS = (float32, float64)
INTS = (int32, int64)

# numpy dtypes accepted on input and the supported dtype they become.
_CANON = {
    np.dtype(np.bool_): bool_,
    np.dtype(np.int8): int32,
    np.dtype(np.int16): int32,
    np.dtype(np.int32): int32,
    np.dtype(np.int64): int64,
    np.dtype(np.uint8): int32,
    np.dtype(np.uint16): int32,
    np.dtype(np.uint32): int64,
    np.dtype(np.float16): float32,
    np.dtype(np.float32): float32,
    np.dtype(np.float64): float64,
}


def dtype(d) -> np.dtype:
    """Normalise a dtype spec ("float32", np.float64, fg.int32, bool, ...) to a supported dtype.

    Raises:
        TypeError: the dtype is not one of bool, int32, int64, float32, float64.
    """
    if d is None:
        return _runtime.default_float_dtype()
    if d is float:
        return _runtime.default_float_dtype()
    if d is int:
        return int32
    if d is bool:
        return bool_
    try:
        nd = np.dtype(d)
    except TypeError as e:
        raise TypeError(
            f"unsupported dtype {d!r}; expected one of bool, int32, int64, float32, float64"
        ) from e
    if nd in _RANK:
        return nd
    raise TypeError(
        f"unsupported dtype {nd.name}; expected one of bool, int32, int64, float32, float64"
    )


def canonical_from_numpy(nd: np.dtype) -> np.dtype:
    """The supported dtype a numpy array of dtype ``nd`` is stored as."""
    try:
        return _CANON[np.dtype(nd)]
    except KeyError:
        raise TypeError(
            f"cannot make a tensor from numpy dtype {np.dtype(nd).name}; expected bool, "
            "integer or float data (complex, object and string arrays are not supported)"
        ) from None


def is_float(d: np.dtype) -> bool:
    return d in FLOATS


def is_int(d: np.dtype) -> bool:
    return d in INTS


def result_type(*args) -> np.dtype:
    """The promoted dtype of tensors and Python scalars (see the module docstring).

    Args:
        *args: tensors (anything with ``dtype`` and ``weak_type``), dtypes or Python scalars.

    Example:
        >>> import fieldgrad as fg
        >>> fg.result_type(fg.zeros(2, dtype="int32"), 1.5).name
        'float32'
    """
    strong = None
    weak = None  # the widest weak kind: bool < int < float
    for a in args:
        if isinstance(a, (bool, np.bool_)):
            w = bool_
        elif isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)):
            w = int32
        elif isinstance(a, (float, np.floating)):
            w = _runtime.default_float_dtype()
        elif hasattr(a, "dtype") and getattr(a, "weak_type", False):
            w = a.dtype
        else:
            d = dtype(a.dtype if hasattr(a, "dtype") else a)
            strong = d if strong is None or _RANK[d] > _RANK[strong] else strong
            continue
        weak = w if weak is None or _RANK[w] > _RANK[weak] else weak
    if strong is None:
        return weak if weak is not None else _runtime.default_float_dtype()
    if weak is None:
        return strong
    # A weak scalar only changes the kind: bool -> int -> float.
    if is_float(weak) and not is_float(strong):
        return _runtime.default_float_dtype()
    if is_int(weak) and strong == bool_:
        return int32
    return strong


def float_result(d: np.dtype) -> np.dtype:
    """The dtype of a floating function of a tensor of dtype ``d``."""
    return d if d in FLOATS else _runtime.default_float_dtype()
