"""Viscous Burgers equation: the exact Cole-Hopf solution, evaluated by Gauss-Hermite quadrature.

The PINN benchmark problem is

    u_t + u u_x = nu u_xx,   x in [-1, 1],   t >= 0,
    u(0, x) = -sin(pi x),    u(t, -1) = u(t, 1) = 0,

with ``nu = 0.01 / pi``. The Cole-Hopf transform ``u = -2 nu phi_x / phi`` turns it into the heat
equation, whose solution is a Gaussian convolution; with ``f(y) = exp(-cos(pi y) / (2 pi nu))``,

    u(t, x) = - int sin(pi (x - eta)) f(x - eta) exp(-eta^2 / (4 nu t)) d eta
              / int f(x - eta) exp(-eta^2 / (4 nu t)) d eta.

The initial data are odd about ``x = 0`` and about ``x = +-1``, so the whole-line solution vanishes
at ``x = +-1`` for all ``t`` and solves the boundary-value problem. Substituting
``eta = sqrt(4 nu t) z`` leaves the weight ``exp(-z^2)``, integrated with Gauss-Hermite nodes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.hermite import hermgauss

__all__ = ["burgers_cole_hopf", "burgers_reference"]

BURGERS_NU = 0.01 / math.pi


def burgers_cole_hopf(
    x: np.ndarray, t: np.ndarray, nu: float = BURGERS_NU, quad_points: int = 100
) -> np.ndarray:
    """Exact solution of the viscous Burgers benchmark, by Cole-Hopf and Gauss-Hermite quadrature.

    Solves ``u_t + u u_x = nu u_xx`` on ``x in [-1, 1]`` with ``u(0, x) = -sin(pi x)`` and
    ``u(t, +-1) = 0`` (see the module docstring for the formula). Both integrals are weighted
    sums over the same ``quad_points`` Hermite nodes; ``exp(-cos(pi y) / (2 pi nu))`` is
    handled in logarithms with its maximum factored out, so small ``nu`` cannot overflow.
    ``t = 0`` returns the initial condition exactly; ``x = +-1`` gives zero up to rounding.

    Accuracy (``nu = 0.01 / pi``): for ``t <= 1`` the 100-node rule agrees with a fine
    trapezoid-rule evaluation of the same integrals to about ``1e-14`` everywhere, including the
    steep shock at ``x = 0`` (width about ``2 nu``) that forms for ``t >~ 0.3``; 150 or 200
    nodes change nothing beyond rounding. The error grows with ``nu t`` as the Gaussian widens
    over many periods of the integrand: with 100 nodes about ``1e-10`` at ``t = 2`` and
    ``1e-5`` at ``t = 5``, and 50 nodes already give ``2e-7`` near the shock at ``t <= 1``. Use
    more nodes (at most about 370, where numpy's Hermite weights underflow) for longer times.

    Args:
        x: positions in ``[-1, 1]`` (any shape; broadcast against ``t``).
        t: times ``>= 0`` (any shape; broadcast against ``x``).
        nu: viscosity ``> 0``.
        quad_points: number of Gauss-Hermite nodes (``>= 2``).

    Returns:
        ``u`` as a float64 array of the broadcast shape of ``x`` and ``t``.

    Raises:
        ValueError: ``nu <= 0``, ``quad_points < 2``, a negative or non-finite time, or ``x``
            and ``t`` that do not broadcast.

    Shape:
        ``x``: ``S1``, ``t``: ``S2`` -> ``u``: ``broadcast(S1, S2)``; pass ``x[None, :]`` and
        ``t[:, None]`` for a ``[t, x]`` grid.

    Example:
        >>> import numpy as np
        >>> u = burgers_cole_hopf(np.array([-0.5, 0.0, 0.5]), 0.0)
        >>> np.allclose(u, [1.0, 0.0, -1.0])
        True
        >>> float(abs(burgers_cole_hopf(1.0, 0.5))) < 1e-12
        True
    """
    if not nu > 0:
        raise ValueError(f"burgers_cole_hopf: nu must be > 0, got {nu}")
    if int(quad_points) != quad_points or quad_points < 2:
        raise ValueError(
            f"burgers_cole_hopf: quad_points must be an integer >= 2, got {quad_points}"
        )
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    try:
        x, t = np.broadcast_arrays(x, t)
    except ValueError as e:
        raise ValueError(
            f"burgers_cole_hopf: x of shape {x.shape} and t of shape {t.shape} do not broadcast"
        ) from e
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("burgers_cole_hopf: times must be finite and >= 0")
    with np.errstate(all="ignore"):
        z, w = hermgauss(int(quad_points))
    if not np.all(w > 0):  # also false for nan: the weights underflow beyond ~370 nodes
        raise ValueError(
            f"burgers_cole_hopf: quad_points={quad_points} is too many, numpy's Gauss-Hermite "
            "weights underflow; use at most 370"
        )
    shape, x, t = x.shape, x.reshape(-1), t.reshape(-1)
    u = -np.sin(np.pi * x)  # the initial condition, kept where t == 0
    live = t > 0
    if np.any(live):
        xs, ts = x[live][:, None], t[live][:, None]
        y = xs - np.sqrt(4.0 * nu * ts) * z  # (n, quad_points)
        log_terms = np.log(w) - np.cos(np.pi * y) / (2.0 * np.pi * nu)
        weights = np.exp(log_terms - log_terms.max(axis=1, keepdims=True))
        u[live] = -(weights * np.sin(np.pi * y)).sum(axis=1) / weights.sum(axis=1)
    return u.reshape(shape)


def burgers_reference(quad_points: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Burgers benchmark on the standard grid: 256 positions by 100 times.

    ``x = linspace(-1, 1, 256)`` and ``t = 0, 0.01, ..., 0.99``, with ``nu = 0.01 / pi``; this is
    the grid and the method (100 Hermite nodes) of the widely used published data set. The
    values are accurate to about ``1e-14`` (see :func:`burgers_cole_hopf`).

    Args:
        quad_points: number of Gauss-Hermite nodes.

    Returns:
        ``(x, t, u)``: ``x`` of shape ``(256,)``, ``t`` of shape ``(100,)`` and ``u`` of shape
        ``(100, 256)`` indexed ``[t, x]``, all float64.

    Example:
        >>> x, t, u = burgers_reference()
        >>> x.shape, t.shape, u.shape
        ((256,), (100,), (100, 256))
        >>> bool(abs(u[0] + np.sin(np.pi * x)).max() < 1e-15)
        True
    """
    x = np.linspace(-1.0, 1.0, 256)
    t = np.arange(100) * 0.01
    u = burgers_cole_hopf(x[None, :], t[:, None], BURGERS_NU, quad_points)
    return x, t, u
