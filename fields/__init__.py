"""fieldgrad.fields: tensors on Taichi, the primitive mechanism and the primitive ops."""

from . import (
    _creation,
    _ops_compare,
    _ops_conv,
    _ops_elementwise,
    _ops_gather,
    _ops_grid,
    _ops_index,
    _ops_join,
    _ops_linalg,
    _ops_math,
    _ops_pad,
    _ops_rearrange,
    _ops_reduce,
    _ops_shape,
    random,
)
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
from ._creation import *  # noqa: F401,F403
from ._dtypes import bool_, dtype, float32, float64, int32, int64, result_type
from ._jit import jit, make_graph
from ._ops_compare import *  # noqa: F401,F403
from ._ops_conv import *  # noqa: F401,F403
from ._ops_elementwise import *  # noqa: F401,F403
from ._ops_gather import *  # noqa: F401,F403
from ._ops_grid import *  # noqa: F401,F403
from ._ops_index import *  # noqa: F401,F403
from ._ops_join import *  # noqa: F401,F403
from ._ops_linalg import *  # noqa: F401,F403
from ._ops_math import *  # noqa: F401,F403
from ._ops_pad import *  # noqa: F401,F403
from ._ops_rearrange import *  # noqa: F401,F403
from ._ops_reduce import *  # noqa: F401,F403
from ._ops_shape import *  # noqa: F401,F403
from ._pytree import (
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)
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
    "jit",
    "make_graph",
    "register_pytree_node",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "device_info",
    "init",
    "is_initialized",
    "Tensor",
    "asarray",
    "is_tensor",
    "tensor",
    "random",
    *_creation.__all__,
    *_ops_compare.__all__,
    *_ops_conv.__all__,
    *_ops_elementwise.__all__,
    *_ops_gather.__all__,
    *_ops_grid.__all__,
    *_ops_index.__all__,
    *_ops_join.__all__,
    *_ops_linalg.__all__,
    *_ops_math.__all__,
    *_ops_pad.__all__,
    *_ops_rearrange.__all__,
    *_ops_reduce.__all__,
    *_ops_shape.__all__,
]
