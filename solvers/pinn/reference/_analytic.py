"""Closed-form solutions of PINN test problems: diffusion, wave, Poisson, NLS breather.

Every function takes numpy arrays (or floats) that broadcast against each other and returns
float64 (complex128 for NLS) values of the broadcast shape, exact up to rounding.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

__all__ = [
    "diffusion_exact",
    "diffusion_source",
    "wave_exact",
    "Manufactured",
    "poisson_sine",
    "poisson_manufactured",
    "nls_two_soliton",
]


def _f64(*arrays):
    return np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))


def diffusion_exact(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``u = exp(-t) sin(pi x)``, the solution of the forced diffusion test problem.

    The problem (the diffusion example of DeepXDE) is

        u_t = u_xx - exp(-t) (sin(pi x) - pi^2 sin(pi x)),   x in [-1, 1],  t in [0, 1],
        u(x, 0) = sin(pi x),   u(-1, t) = u(1, t) = 0;

    the source term is :func:`diffusion_source`.

    Example:
        >>> bool(np.isclose(diffusion_exact(0.5, 1.0), np.exp(-1.0)))
        True
    """
    x, t = _f64(x, t)
    return np.exp(-t) * np.sin(math.pi * x)


def diffusion_source(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The source ``s = -exp(-t) (sin(pi x) - pi^2 sin(pi x))`` of ``u_t = u_xx + s``.

    Example:
        >>> bool(np.isclose(diffusion_source(0.5, 0.0), np.pi**2 - 1))
        True
    """
    x, t = _f64(x, t)
    s = np.sin(math.pi * x)
    return -np.exp(-t) * (s - math.pi**2 * s)


def wave_exact(
    x: np.ndarray, t: np.ndarray, c: float = 2.0, mode: int = 4, amplitude: float = 0.5
) -> np.ndarray:
    """Standing waves ``u = sin(pi x) cos(c pi t) + a sin(m pi x) cos(m c pi t)``.

    Solves ``u_tt = c^2 u_xx`` on ``x in [0, 1]`` with ``u(0, t) = u(1, t) = 0``,
    ``u(x, 0) = sin(pi x) + a sin(m pi x)`` and ``u_t(x, 0) = 0``. The defaults ``c = 2``,
    ``m = 4``, ``a = 0.5`` are the common PINN benchmark (``t in [0, 1]``).

    Args:
        x: positions.
        t: times.
        c: wave speed.
        mode: the integer ``m`` of the second mode.
        amplitude: the amplitude ``a`` of the second mode.

    Example:
        >>> bool(np.isclose(wave_exact(0.5, 0.0), 1.0))
        True
    """
    x, t = _f64(x, t)
    p = math.pi
    return np.sin(p * x) * np.cos(c * p * t) + amplitude * np.sin(mode * p * x) * np.cos(
        mode * c * p * t
    )


class Manufactured(NamedTuple):
    """A manufactured solution ``u`` and its source ``f``; both are called as ``u(x, y, ...)``."""

    u: Callable[..., np.ndarray]
    f: Callable[..., np.ndarray]


def poisson_sine(k: Sequence[int] = (1, 1)) -> Manufactured:
    """``u = prod_i sin(k_i pi x_i)`` and ``f = pi^2 (sum_i k_i^2) u`` with ``-laplace(u) = f``.

    ``u`` vanishes on the boundary of ``[0, 1]^d`` (and of ``[-1, 1]^d``); ``d = len(k)``.

    Raises:
        ValueError: an empty ``k``; a call with a number of coordinates other than ``len(k)``.

    Example:
        >>> u, f = poisson_sine((1, 1))
        >>> bool(np.isclose(f(0.5, 0.5), 2 * np.pi**2))
        True
    """
    k = tuple(float(ki) for ki in k)
    if not k:
        raise ValueError("poisson_sine: k needs at least one wavenumber")
    factor = math.pi**2 * sum(ki * ki for ki in k)

    def u(*coords):
        if len(coords) != len(k):
            raise ValueError(f"poisson_sine: expected {len(k)} coordinates, got {len(coords)}")
        out = np.ones(())
        for ki, xi in zip(k, _f64(*coords)):
            out = out * np.sin(ki * math.pi * xi)
        return out

    return Manufactured(u, lambda *coords: factor * u(*coords))


def poisson_manufactured(
    u: Callable[..., np.ndarray],
    laplacian: Optional[Callable[..., np.ndarray]] = None,
    *,
    step: float = 2e-3,
) -> Manufactured:
    """Make the pair ``(u, f)`` with ``-laplace(u) = f`` from a callable ``u(x, y, ...)``.

    With ``laplacian`` given, ``f = -laplacian(*coords)`` exactly. Without it, each
    ``d^2 u / d x_i^2`` is taken by the fourth-order central difference
    ``(-u(x+2h) + 16 u(x+h) - 30 u(x) + 16 u(x-h) - u(x-2h)) / (12 h^2)``, ``h = step``,
    whose error is about ``h^4 |u^(6)| / 90`` plus rounding ``5 eps |u| / h^2``: relative
    ``1e-9`` for features of unit length at the default step. ``u`` must accept float64 arrays
    and broadcast; the dimension is the number of coordinates ``f`` is called with.

    Args:
        u: the solution, ``u(x, y, ...) -> array``.
        laplacian: optional exact Laplacian of ``u``, same signature.
        step: finite-difference step ``> 0`` when ``laplacian`` is None.

    Returns:
        A :class:`Manufactured` ``(u, f)``.

    Raises:
        ValueError: ``step <= 0`` or ``u`` not callable.

    Example:
        >>> u, f = poisson_manufactured(lambda x, y: x**2 * y**3)
        >>> bool(np.isclose(f(1.0, 2.0), -(2 * 8 + 6 * 2)))
        True
    """
    if not callable(u):
        raise ValueError(f"poisson_manufactured: u must be callable, got {type(u).__name__}")
    if laplacian is not None:
        return Manufactured(u, lambda *coords: -np.asarray(laplacian(*coords), dtype=np.float64))
    if not step > 0:
        raise ValueError(f"poisson_manufactured: step must be > 0, got {step}")
    h = float(step)
    stencil = ((-2, -1.0), (-1, 16.0), (0, -30.0), (1, 16.0), (2, -1.0))

    def f(*coords):
        coords = _f64(*coords)
        total = 0.0
        for i in range(len(coords)):
            for shift, weight in stencil:
                moved = list(coords)
                moved[i] = coords[i] + shift * h
                total = total + weight * np.asarray(u(*moved), dtype=np.float64)
        return -total / (12.0 * h * h)

    return Manufactured(u, f)


def nls_two_soliton(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The whole-line breather of ``i h_t + h_xx / 2 + |h|^2 h = 0`` with ``h(0, x) = 2 sech x``.

    ``h = 4 e^{i t/2} (cosh 3x + 3 e^{4it} cosh x) / (cosh 4x + 4 cosh 2x + 3 cos 4t)``
    (Satsuma & Yajima), periodic in ``t`` with period ``pi / 2``. It is the solution on the
    real line, not on the periodic interval of :func:`nls`. Evaluated without overflow for any
    ``x`` (numerator and denominator are scaled by ``e^{-4|x|}``).

    Example:
        >>> x = np.linspace(-3, 3, 7)
        >>> bool(np.allclose(nls_two_soliton(x, 0.0), 2 / np.cosh(x)))
        True
    """
    x, t = _f64(x, t)
    a = np.abs(x)  # the formula is even in x; scale by exp(-4a) to avoid overflow
    num = 0.5 * (
        np.exp(-a) + np.exp(-7 * a) + 3 * np.exp(4j * t) * (np.exp(-3 * a) + np.exp(-5 * a))
    )
    den = (
        0.5 * (1 + np.exp(-8 * a))
        + 2 * (np.exp(-2 * a) + np.exp(-6 * a))
        + 3 * np.cos(4 * t) * np.exp(-4 * a)
    )
    return 4 * np.exp(0.5j * t) * num / den
