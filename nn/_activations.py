"""Activation functions, as plain functions and as parameter-free Modules.

Every function composes public fieldgrad ops, so it is differentiable to any order in every mode
(forward, reverse, Taylor). The Module classes (``ReLU``, ``Tanh``, ...) hold only
hyperparameters and follow the layer call convention ``layer(x, *, key=None)``, so they fit
into :class:`~fieldgrad.nn.Sequential`.
"""

from __future__ import annotations

from typing import Callable, Union

import fieldgrad as fg
from fieldgrad.fields import Tensor

from ._module import Module

__all__ = [
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
]


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``; its derivative at 0 is taken as 0."""
    return fg.relu(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (as ``torch.nn.LeakyReLU``)."""
    return fg.where(x > 0, x, x * negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (no overflow for large ``x``)."""
    return fg.where(x > 0, x, alpha * fg.expm1(fg.minimum(x, 0.0)))


def gelu(x: Tensor, approximate: Union[bool, str] = False) -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate=True`` (or ``"tanh"``): tanh form.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> round(nn.gelu(fg.tensor([1.0])).item(), 5)
        0.84134
    """
    return fg.gelu(x, approximate=approximate)


def silu(x: Tensor) -> Tensor:
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``."""
    return x * fg.sigmoid(x)


swish = silu


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return fg.tanh(x)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, stable for every ``x``."""
    return fg.sigmoid(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    As ``torch.nn.functional.softplus``; ``threshold=None`` never switches to the identity.

    Raises:
        ValueError: ``beta`` is not positive.
    """
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    bx = x * beta if beta != 1 else x
    out = fg.softplus(bx) / beta if beta != 1 else fg.softplus(bx)
    if threshold is None:
        return out
    return fg.where(bx > threshold, x, out)


def sin(x: Tensor) -> Tensor:
    """Sine (the SIREN activation)."""
    return fg.sin(x)


def identity(x: Tensor) -> Tensor:
    """``x`` unchanged."""
    return x


def _shifted(x: Tensor, axis: int) -> Tensor:
    # x - max(x): softmax is shift-invariant, so the shift carries no gradient. A row without
    # a finite maximum (all -inf) is not shifted.
    m = fg.stop_gradient(fg.max(x, axis=axis, keepdims=True))
    return x - fg.where(fg.isfinite(m), m, 0.0)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``x - logsumexp(x, axis)``: log-probabilities, stable for large ``|x|``.

    Computed as ``s - log(sum(exp(s)))`` with ``s = x - max(x)``, so large logits lose no
    precision.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> [round(v, 4) for v in nn.log_softmax(fg.tensor([1000.0, 1001.0])).tolist()]
        [-1.3133, -0.3133]
    """
    s = _shifted(x, axis)
    return s - fg.log(fg.sum(fg.exp(s), axis=axis, keepdims=True))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x), axis)``, computed with ``x - max(x)`` so nothing overflows.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> nn.softmax(fg.tensor([1000.0, 1000.0])).tolist()
        [0.5, 0.5]
    """
    e = fg.exp(_shifted(x, axis))
    return e / fg.sum(e, axis=axis, keepdims=True)


_BY_NAME: dict[str, Callable] = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "gelu_tanh": lambda x: gelu(x, approximate=True),
    "silu": silu,
    "swish": silu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "sin": sin,
    "identity": identity,
    "linear": identity,
    "softmax": softmax,
    "log_softmax": log_softmax,
}
_BY_NAME["gelu_tanh"].__name__ = "gelu_tanh"


def get_activation(activation: Union[str, Callable, None]) -> Callable:
    """The activation function for a name, or ``activation`` itself if it is callable.

    Args:
        activation: a name (``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``,
            ``"gelu_tanh"``, ``"silu"``/``"swish"``, ``"tanh"``, ``"sigmoid"``, ``"softplus"``,
            ``"sin"``, ``"identity"``/``"linear"``, ``"softmax"``, ``"log_softmax"``; case
            does not matter), a callable (a function or a Module), or None (identity).

    Returns:
        A callable ``f(x) -> Tensor``.

    Raises:
        ValueError: an unknown name (the valid names are listed).
        TypeError: neither a string, a callable nor None.

    Example:
        >>> from fieldgrad import nn
        >>> nn.get_activation("tanh") is nn.tanh
        True
    """
    if activation is None:
        return identity
    if isinstance(activation, str):
        fn = _BY_NAME.get(activation.lower())
        if fn is None:
            raise ValueError(
                f"unknown activation {activation!r}; valid names are {sorted(_BY_NAME)} "
                "(or pass a callable)"
            )
        return fn
    if callable(activation):
        return activation
    raise TypeError(
        f"activation must be a name, a callable or None, got {type(activation).__name__}"
    )


class ReLU(Module):
    """Module form of :func:`relu`."""

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return relu(x)


class LeakyReLU(Module):
    """Module form of :func:`leaky_relu`."""

    negative_slope: float = 0.01

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return leaky_relu(x, self.negative_slope)


class ELU(Module):
    """Module form of :func:`elu`."""

    alpha: float = 1.0

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return elu(x, self.alpha)


class GELU(Module):
    """Module form of :func:`gelu` (``approximate=True`` or ``"tanh"``: the tanh form)."""

    approximate: Union[bool, str] = False

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return gelu(x, self.approximate)


class SiLU(Module):
    """Module form of :func:`silu` (swish)."""

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return silu(x)


class Tanh(Module):
    """Module form of :func:`tanh`."""

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return tanh(x)


class Sigmoid(Module):
    """Module form of :func:`sigmoid`."""

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return sigmoid(x)


class Softplus(Module):
    """Module form of :func:`softplus`."""

    beta: float = 1.0
    threshold: float = 20.0

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return softplus(x, self.beta, self.threshold)


class Sin(Module):
    """``sin(w0 * x)``; ``w0`` is a fixed frequency (SIREN uses 30).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> round(nn.Sin(w0=2.0)(fg.tensor([0.25])).item(), 4)
        0.4794
    """

    w0: float = 1.0

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return sin(x * self.w0 if self.w0 != 1 else x)


class Identity(Module):
    """Returns its input unchanged."""

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return x
