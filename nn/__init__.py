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
from ._activations import (  # noqa: E402
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Sin,
    Softplus,
    Tanh,
    elu,
    gelu,
    get_activation,
    identity,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    sin,
    softmax,
    softplus,
    swish,
    tanh,
)
from ._embedding import Embedding  # noqa: E402
from ._encodings import FourierFeatures, PeriodicEmbedding  # noqa: E402
from ._linear import MLP, Lambda, Linear, ResidualBlock, Sequential  # noqa: E402
from ._pinn_mlp import RWFMLP, ModifiedMLP, RWFLinear  # noqa: E402
from ._siren import Siren, SirenLayer  # noqa: E402

__all__ += [
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "swish",
    "tanh",
    "sigmoid",
    "softplus",
    "sin",
    "identity",
    "softmax",
    "log_softmax",
    "get_activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "Softplus",
    "Sin",
    "Identity",
    "Linear",
    "Lambda",
    "Sequential",
    "MLP",
    "ResidualBlock",
    "FourierFeatures",
    "PeriodicEmbedding",
    "SirenLayer",
    "Siren",
    "ModifiedMLP",
    "RWFLinear",
    "RWFMLP",
    "Embedding",
]

# --- convolution, pooling, normalisation, dropout ---
from ._conv import Conv1d, Conv2d  # noqa: E402
from ._conv_transpose import ConvTranspose2d  # noqa: E402
from ._dropout import Dropout  # noqa: E402
from ._norm import BatchNorm, BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm  # noqa: E402
from ._pool import AvgPool2d, Flatten, MaxPool2d, avg_pool2d, flatten, max_pool2d  # noqa: E402

__all__ += [
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool2d",
    "AvgPool2d",
    "max_pool2d",
    "avg_pool2d",
    "Flatten",
    "flatten",
    "LayerNorm",
    "BatchNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "Dropout",
]

# --- optimisers (subpackage fieldgrad.nn.optim) ---
from . import optim  # noqa: E402

__all__ += ["optim"]

# --- losses, metrics, data, training, serialisation ---
from . import losses, metrics, train  # noqa: E402
from ._serialization import load, load_checkpoint, save, save_checkpoint  # noqa: E402
from .data import DataLoader, random_split, standardize, train_test_split  # noqa: E402
from .train import (  # noqa: E402
    Callback,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    fit,
)

__all__ += [
    "losses",
    "metrics",
    "train",
    "DataLoader",
    "random_split",
    "train_test_split",
    "standardize",
    "Trainer",
    "fit",
    "History",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "LambdaCallback",
    "TerminateOnNaN",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "save",
    "load",
    "save_checkpoint",
    "load_checkpoint",
]
