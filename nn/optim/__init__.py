"""fieldgrad.nn.optim: functional optimisers, learning-rate schedules, clipping and L-BFGS.

Optimisers follow optax's design on any pytree of tensors::

    opt = nn.optim.adam(1e-3)
    state = opt.init(params)
    params, state = opt.update(grads, state, params)

``opt.transform(grads, state, params)`` returns the updates instead (to add with
:func:`apply_updates`), and :func:`chain` composes transformations, e.g.
``chain(clip_by_global_norm(1.0), adam(1e-3))``. Every learning rate may be a float or a
schedule from :mod:`schedules` (``nn.optim.schedules.cosine(1e-3, 10_000)``). States hold their
step count as an int32 0-d tensor, so a jitted training step traces once.

:func:`lbfgs` minimises a deterministic loss (a PINN, a fit) with L-BFGS and a strong-Wolfe line
search.
"""

from . import _schedules as schedules
from ._adagrad import AdagradState, adagrad
from ._adam import AdamState, adam, adamw
from ._base import EmptyState, GradientTransformation, Optimizer, apply_updates, chain
from ._clip import clip, clip_by_global_norm, clip_by_value, global_norm
from ._lbfgs import LBFGSResult, lbfgs
from ._rmsprop import RMSpropState, rmsprop
from ._scale import ScaledState, get_lr_scale, scale_learning_rate, set_lr_scale
from ._schedules import Schedule
from ._sgd import SGDState, sgd

__all__ = [
    "GradientTransformation",
    "Optimizer",
    "EmptyState",
    "chain",
    "apply_updates",
    "sgd",
    "SGDState",
    "adam",
    "adamw",
    "AdamState",
    "rmsprop",
    "RMSpropState",
    "adagrad",
    "AdagradState",
    "global_norm",
    "clip_by_global_norm",
    "clip_by_value",
    "clip",
    "schedules",
    "Schedule",
    "lbfgs",
    "LBFGSResult",
    "scale_learning_rate",
    "set_lr_scale",
    "get_lr_scale",
    "ScaledState",
]
