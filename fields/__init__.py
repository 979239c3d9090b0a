"""fieldgrad.fields: tensors on Taichi, the primitive mechanism and the primitive ops."""

from ._convert import astype
from ._core import (
    EvalTrace,
    MainTrace,
    Primitive,
    ShapedArray,
    Trace,
    Tracer,
    find_top_trace,
    full_lower,
    full_raise,
    new_dynamic,
    new_main,
)
from ._dtypes import bool_, dtype, float32, float64, int32, int64, result_type
from ._ops_elementwise import *  # noqa: F401,F403
from ._ops_elementwise import __all__ as _elementwise_all
from ._runtime import device_info, init, is_initialized
from ._tensor import Tensor, asarray, is_tensor, tensor

__all__ = [
    "EvalTrace",
    "MainTrace",
    "Primitive",
    "ShapedArray",
    "Trace",
    "Tracer",
    "find_top_trace",
    "full_lower",
    "full_raise",
    "new_dynamic",
    "new_main",
    "astype",
    "bool_",
    "dtype",
    "float32",
    "float64",
    "int32",
    "int64",
    "result_type",
    "device_info",
    "init",
    "is_initialized",
    "Tensor",
    "asarray",
    "is_tensor",
    "tensor",
    *_elementwise_all,
]
