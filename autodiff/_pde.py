"""PDE derivative operators, built on Taylor mode (jet) and forward mode, never on nested
reverse mode.

The PINN case: ``f`` maps a batch of points ``x`` of shape ``(N, d)`` to ``(N,)`` or
``(N, m)``, each point independently. A derivative along the coordinate direction ``e_i`` for
every point at once is one jet whose input series is the ``(N, d)`` tensor with ones in column
``i``. A k-th order pure derivative costs one jet of order k (O(k^2) work per primitive);
mixed partials nest jets (Taylor over Taylor). Every result is built from fieldgrad ops, so it
stays differentiable with respect to anything ``f`` closes over (a PINN loss needs
``d/dtheta`` of ``u_xx``).
"""

from __future__ import annotations

import math
import operator

from fieldgrad import fields as F
from fieldgrad.fields._core import get_aval

from ._jet import jet_normalised
from ._jvp import jvp
from ._util import zeros_like_aval

__all__ = [
    "derivative",
    "partial_derivative",
    "gradient",
    "divergence",
    "laplacian",
    "biharmonic",
    "laplacian_hutchinson",
]


def _check_points(x, where: str):
    x = F.asarray(x)
    if x.ndim != 2:
        raise ValueError(
            f"{where}: x must have shape (N, d) (N points, d coordinates), got {x.shape}"
        )
    if x.dtype not in (F.float32, F.float64):
        raise TypeError(f"{where}: x must be float32 or float64, got {x.dtype.name}")
    return x


def _unit(x, i: int):
    """The (N, d) direction with ones in column ``i``."""
    d = x.shape[1]
    return F.broadcast_to(F.eye(d, dtype=x.dtype)[i], x.shape)


def derivative(f, x, direction, order: int = 1):
    """The ``order``-th derivative of ``f`` along ``direction``: ``d^k/dt^k f(x + t v)`` at 0.

    One jet of order k along the straight line ``x + t v``: O(k^2) elementwise operations per
    nonlinear primitive and k + 1 products per matmul (the zero higher terms of the line are
    symbolic, so they cost nothing), never nested reverse mode, whose cost grows exponentially
    with k.

    Args:
        f: function of one tensor returning one tensor.
        x: the point (any shape, float32 or float64).
        direction: tensor of x's shape.
        order: k >= 1.

    Returns:
        A tensor of the output's shape and dtype.

    Raises:
        ValueError: ``order < 1`` or the direction's shape differs from x's.
        TypeError: x is not float, or f does not return a tensor.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([0.5], dtype="float64")
        >>> round(float(fg.derivative(fg.sin, x, fg.ones_like(x), 3)), 6)  # -cos(0.5)
        -0.877583
    """
    order = operator.index(order)
    if order < 1:
        raise ValueError(f"derivative: order must be >= 1, got {order}")
    x = F.asarray(x)
    if x.dtype not in (F.float32, F.float64):
        raise TypeError(f"derivative: x must be float32 or float64, got {x.dtype.name}")
    v = F.asarray(direction)
    if tuple(v.shape) != tuple(x.shape):
        raise ValueError(
            f"derivative: direction shape {tuple(v.shape)} differs from x shape {tuple(x.shape)}"
        )
    if v.dtype != x.dtype:
        v = F.astype(v, x.dtype)

    def f_flat(p):
        out = f(p)
        if not hasattr(out, "shape") or not hasattr(out, "dtype"):
            raise TypeError(
                f"derivative: f must return one tensor, got {type(out).__name__}; apply "
                "derivative to each output separately"
            )
        return [out]

    (out,), (terms,) = jet_normalised(f_flat, [x], [[v] + [None] * (order - 1)], order)
    c = None if terms is None else terms[order - 1]
    if c is None:  # f does not depend on x to this order
        return zeros_like_aval(get_aval(out))
    return c * float(math.factorial(order))


def partial_derivative(f, x, index):
    """A partial derivative by multi-index at every point: ``d^|a| f / dx_0^a0 ... dx_d^ad``.

    Args:
        f: maps points ``(N, d)`` to ``(N,)`` or ``(N, m)``, each point independently.
        x: points, shape ``(N, d)``.
        index: multi-index, a tuple of d non-negative ints (e.g. ``(0, 2)`` is u_yy for
            d = 2; ``(1, 1)`` the mixed u_xy).

    Returns:
        The derivative at every point, of f's output shape.

    Raises:
        ValueError: x is not ``(N, d)``, or the multi-index has the wrong length or negative
            entries.
        TypeError: x is not float, or the multi-index is not a tuple of ints.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1.0, 2.0]], dtype="float64")
        >>> fg.partial_derivative(lambda p: p[:, 0] ** 2 * p[:, 1] ** 3, x, (1, 2)).tolist()
        [24.0]
    """
    x = _check_points(x, "partial_derivative")
    try:
        index = tuple(operator.index(a) for a in index)
    except TypeError:
        raise TypeError(
            f"partial_derivative: index must be a tuple of {x.shape[1]} non-negative ints "
            f"(one order per coordinate), got {index!r}"
        ) from None
    if len(index) != x.shape[1] or any(a < 0 for a in index):
        raise ValueError(
            f"partial_derivative: index {index} must hold {x.shape[1]} non-negative orders, "
            f"one per coordinate of x (shape {x.shape})"
        )
    g = f
    for i, a in enumerate(index):
        if a == 0:
            continue
        g = _along(g, i, a)
    return g(x)


def _along(h, i: int, order: int):
    """The function ``p -> d^order h / dx_i^order (p)``."""
    return lambda p: derivative(h, p, _unit(p, i), order)


def gradient(f, x):
    """The gradient of a scalar field at every point: shape ``(N, d)`` for ``f: (N, d) -> (N,)``,
    ``(N, m, d)`` for ``(N, m)`` outputs. One forward-mode pass per coordinate.

    Raises:
        ValueError: x is not a 2-D ``(N, d)`` tensor.
        TypeError: x is not float32 or float64.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1.0, 2.0]])
        >>> fg.gradient(lambda p: fg.sum(p * p, axis=1), x).tolist()
        [[2.0, 4.0]]
    """
    x = _check_points(x, "gradient")
    cols = [jvp(f, (x,), (_unit(x, i),))[1] for i in range(x.shape[1])]
    return F.stack(cols, axis=-1)


def divergence(f, x):
    """The divergence of a vector field ``f: (N, d) -> (N, d)`` at every point, shape ``(N,)``.

    One forward-mode pass per coordinate.

    Raises:
        ValueError: x is not a 2-D ``(N, d)`` tensor, or f's output is not ``(N, d)``.
        TypeError: x is not float32 or float64.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1.0, 2.0]])
        >>> fg.divergence(lambda p: p * p, x).tolist()
        [6.0]
    """
    x = _check_points(x, "divergence")
    total = None
    for i in range(x.shape[1]):
        col = jvp(f, (x,), (_unit(x, i),))[1]
        if tuple(col.shape) != tuple(x.shape):
            raise ValueError(
                f"divergence: f must map (N, d) points to (N, d) vectors: x has shape "
                f"{tuple(x.shape)} but f's output has shape {tuple(col.shape)}"
            )
        term = col[:, i]
        total = term if total is None else total + term
    return total


def laplacian(f, x):
    """The Laplacian ``sum_i d^2 f / dx_i^2`` at every point: d jets of order 2.

    Args:
        f: maps points ``(N, d)`` to ``(N,)`` or ``(N, m)`` (then the Laplacian of each
            component), each point independently.
        x: points, shape ``(N, d)``.

    Returns:
        The Laplacian at every point, of f's output shape.

    Raises:
        ValueError: x is not a 2-D ``(N, d)`` tensor.
        TypeError: x is not float32 or float64.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1.0, 2.0]], dtype="float64")
        >>> fg.laplacian(lambda p: fg.sum(p ** 3, axis=1), x).tolist()
        [18.0]
    """
    x = _check_points(x, "laplacian")
    total = None
    for i in range(x.shape[1]):
        term = derivative(f, x, _unit(x, i), 2)
        total = term if total is None else total + term
    return total


def biharmonic(f, x):
    """The biharmonic operator ``sum_ij d^4 f / dx_i^2 dx_j^2`` at every point.

    Uses order-4 jets along ``e_i`` and ``e_i +- e_j`` and the polarisation identity
    ``f_iijj = (D4[e_i+e_j] + D4[e_i-e_j] - 2 D4[e_i] - 2 D4[e_j]) / 12``: ``d^2`` jets of
    order 4 in all.

    Raises:
        ValueError: x is not a 2-D ``(N, d)`` tensor.
        TypeError: x is not float32 or float64.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[0.5, 0.25]], dtype="float64")
        >>> fg.biharmonic(lambda p: p[:, 0] ** 2 * p[:, 1] ** 2, x).tolist()
        [8.0]
    """
    x = _check_points(x, "biharmonic")
    d = x.shape[1]
    pure = [derivative(f, x, _unit(x, i), 4) for i in range(d)]
    total = None
    for i in range(d):
        total = pure[i] if total is None else total + pure[i]
        for j in range(i + 1, d):
            ei, ej = _unit(x, i), _unit(x, j)
            plus = derivative(f, x, ei + ej, 4)
            minus = derivative(f, x, ei - ej, 4)
            mixed = (plus + minus - 2.0 * pure[i] - 2.0 * pure[j]) * (1.0 / 12.0)
            total = total + 2.0 * mixed
    return total


def laplacian_hutchinson(f, x, key, num_samples: int = 16):
    """A stochastic-Taylor (Hutchinson) estimate of the Laplacian for high dimension.

    ``E[v^T H v] = trace(H)`` for Rademacher directions ``v``; each sample is one order-2 jet
    along a random direction per point, so the cost does not grow with d.

    Args:
        f: maps ``(N, d)`` points to ``(N,)`` values.
        x: points ``(N, d)``.
        key: a ``fg.random`` key.
        num_samples: number of random directions averaged.

    Returns:
        The estimate at every point; unbiased, with variance falling as ``1/num_samples``
        (for one sample it is ``2 sum_{i != j} H_ij^2``).

    Raises:
        ValueError: x is not ``(N, d)``, or ``num_samples < 1``.
        TypeError: x is not float32 or float64.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[1.0, 2.0]], dtype="float64")
        >>> est = fg.laplacian_hutchinson(lambda p: fg.sum(p**2, axis=1), x, fg.random.key(0), 4)
        >>> est.tolist()  # exact here: the Hessian 2 I has no off-diagonal part
        [4.0]
    """
    x = _check_points(x, "laplacian_hutchinson")
    num_samples = operator.index(num_samples)
    if num_samples < 1:
        raise ValueError(f"laplacian_hutchinson: num_samples must be >= 1, got {num_samples}")
    from fieldgrad.fields import random as R

    total = None
    for k in R.split(key, num_samples):
        v = F.astype(R.bernoulli(k, 0.5, x.shape), x.dtype) * 2.0 - 1.0
        term = derivative(f, x, v, 2)
        total = term if total is None else total + term
    return total * (1.0 / num_samples)
