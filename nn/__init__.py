"""fieldgrad.nn: modules, layers, initialisers, losses, optimisers and training.

A :class:`Module` is an immutable dataclass and a pytree: ``fg.grad(loss)(model, x, y)`` returns
a model-shaped tree of gradients, and optimisers update any pytree functionally.
"""

from . import init
from ._module import (
    Module,
    buffer,
    combine,
    count_parameters,
    eval_mode,
    field,
    get,
    named_buffers,
    named_parameters,
    parameters,
    partition,
    replace,
    static,
    train_mode,
)
from ._state import apply, record

__all__ = [
    "init",
    "Module",
    "buffer",
    "combine",
    "count_parameters",
    "eval_mode",
    "field",
    "get",
    "named_buffers",
    "named_parameters",
    "parameters",
    "partition",
    "replace",
    "static",
    "train_mode",
    "apply",
    "record",
]

# --- activations and dense layers (each section: imports, then `__all__ += [...]`) ---

# --- convolution, pooling, normalisation, dropout ---

# --- optimisers (subpackage fieldgrad.nn.optim) ---

# --- losses, metrics, data, training, serialisation ---
