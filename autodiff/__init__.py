"""fieldgrad.autodiff: derivative transforms on fieldgrad's primitives.

Forward mode (``jvp``), reverse mode (``vjp``, ``grad``), Jacobians and Hessians, composable
to any order; the rule tables live in ``rules/``.
"""

from . import extend, rules  # noqa: F401  (the extension API; registers every rule)
from ._api import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from ._check import check_grads
from ._checkpoint import checkpoint, remat
from ._control import fori_loop, scan
from ._custom import custom_jvp, custom_vjp
from ._jet import jet
from ._jvp import jvp
from ._pde import (
    biharmonic,
    derivative,
    divergence,
    gradient,
    laplacian,
    laplacian_hutchinson,
    partial_derivative,
)
from ._vmap import vmap

__all__ = [
    "jvp",
    "vjp",
    "grad",
    "value_and_grad",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "linearize",
    "stop_gradient",
    "check_grads",
    "vmap",
    "jet",
    "derivative",
    "partial_derivative",
    "gradient",
    "divergence",
    "laplacian",
    "biharmonic",
    "laplacian_hutchinson",
    "custom_jvp",
    "custom_vjp",
    "fori_loop",
    "scan",
    "checkpoint",
    "remat",
]
