"""Periodic PINN benchmarks solved with Fourier ETDRK4: Allen-Cahn, KdV and nonlinear Schrodinger.

Each function returns ``(x, t, u)`` with ``u`` indexed ``[t, x]`` on the benchmark's usual grid:
``x`` is the periodic grid ``a + (b - a) j / n``, ``j = 0 .. n - 1`` (the right end, equal to
the left one, is left out) and ``t = linspace(0, t_final, num_times)``. The equation is solved
on a grid ``oversample`` times finer and returned on every ``oversample``-th point.
"""

from __future__ import annotations

import math

import numpy as np

from ._etdrk4 import etdrk4, fourier_wavenumbers

__all__ = ["allen_cahn", "kdv", "nls"]


def _grid(name, n, oversample, num_times, t_final, lo, hi):
    for label, v, least in (
        ("n", n, 2),
        ("oversample", oversample, 1),
        ("num_times", num_times, 1),
    ):
        if int(v) != v or v < least:
            raise ValueError(f"{name}: {label} must be an integer >= {least}, got {v}")
    if not t_final > 0:
        raise ValueError(f"{name}: t_final must be > 0, got {t_final}")
    m = int(n) * int(oversample)
    x = lo + (hi - lo) * np.arange(m) / m
    return m, x, np.linspace(0.0, t_final, int(num_times))


def allen_cahn(
    n: int = 512,
    num_times: int = 201,
    *,
    t_final: float = 1.0,
    dt: float = 1e-3,
    oversample: int = 8,
    epsilon: float = 1e-4,
    gamma: float = 5.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allen-Cahn ``u_t = epsilon u_xx + gamma (u - u^3)``, ``x in [-1, 1)`` periodic.

    ``u(0, x) = x^2 cos(pi x)``, ``t in [0, 1]``, ``epsilon = 1e-4``, ``gamma = 5`` (the PINN
    benchmark; its grid is 512 points by 201 times). ``epsilon u_xx + gamma u`` is the linear
    part, ``-gamma u^3`` the nonlinear one.

    Accuracy: the periodic extension of ``u0`` has a kink at ``x = +-1``, so the spatial error
    decays only like ``1 / n^2`` while diffusion smooths it. With the defaults (a 4096-point
    solve; estimated from 8192-point solves) the error is about ``3e-5`` near ``x = +-1`` at
    ``t = 0.005``, ``6e-6`` at ``t = 0.05``, ``2e-8`` at ``t = 0.5`` and ``1e-10`` at ``t = 1``;
    a plain 512-point solve is off by ``1e-3`` early on. The time error at ``dt = 1e-3`` is
    below ``1e-9``.

    Args:
        n: output grid points.
        num_times: snapshots from 0 to ``t_final``.
        t_final: final time.
        dt: largest ETDRK4 step.
        oversample: the solve uses ``n * oversample`` points.
        epsilon: diffusion coefficient.
        gamma: reaction coefficient.

    Returns:
        ``(x, t, u)``: shapes ``(n,)``, ``(num_times,)``, ``(num_times, n)``, float64.

    Raises:
        ValueError: a non-positive or non-integer size, or a non-positive time.

    Example:
        >>> x, t, u = allen_cahn(n=64, num_times=3, t_final=0.1, dt=0.01, oversample=1)
        >>> u.shape, bool(np.allclose(u[0], x**2 * np.cos(np.pi * x)))
        ((3, 64), True)
    """
    m, xs, t = _grid("allen_cahn", n, oversample, num_times, t_final, -1.0, 1.0)
    k = fourier_wavenumbers(m, 2.0)

    def nonlinear(v, _t):
        return -gamma * np.fft.rfft(np.fft.irfft(v, m) ** 3)

    u = etdrk4(xs**2 * np.cos(math.pi * xs), -epsilon * k**2 + gamma, nonlinear, t, dt)
    return xs[::oversample], t, u[:, ::oversample]


def kdv(
    n: int = 512,
    num_times: int = 201,
    *,
    t_final: float = 1.0,
    dt: float = 2.5e-4,
    oversample: int = 1,
    lambda1: float = 1.0,
    lambda2: float = 0.0025,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Korteweg-de Vries ``u_t + lambda1 u u_x + lambda2 u_xxx = 0``, ``x in [-1, 1)`` periodic.

    ``u(0, x) = cos(pi x)``, ``t in [0, 1]``, ``lambda1 = 1``, ``lambda2 = 0.0025`` (the PINN
    benchmark: 512 points by 201 times). The linear part ``-lambda2 u_xxx`` has the symbol
    ``i lambda2 k^3``; the nonlinearity is ``-lambda1 (u^2 / 2)_x``; the Nyquist mode of odd
    derivatives is zeroed. ``int u dx`` is conserved exactly and ``int u^2 dx`` to the time error.

    Accuracy: the solution stays smooth for ``t <= 1``; 256 and 512 points agree to ``1e-14``.
    The ETDRK4 error is fourth order: about ``3e-10`` at ``dt = 2.5e-4``.

    Args:
        n: output grid points.
        num_times: snapshots from 0 to ``t_final``.
        t_final: final time.
        dt: largest ETDRK4 step.
        oversample: the solve uses ``n * oversample`` points.
        lambda1: coefficient of ``u u_x``.
        lambda2: coefficient of ``u_xxx``.

    Returns:
        ``(x, t, u)``: shapes ``(n,)``, ``(num_times,)``, ``(num_times, n)``, float64.

    Raises:
        ValueError: a non-positive or non-integer size, or a non-positive time.

    Example:
        >>> x, t, u = kdv(n=64, num_times=3, t_final=0.1, dt=1e-3)
        >>> bool(abs(u.mean(axis=1)).max() < 1e-14)  # the mean of cos(pi x) stays 0
        True
    """
    m, xs, t = _grid("kdv", n, oversample, num_times, t_final, -1.0, 1.0)
    k = fourier_wavenumbers(m, 2.0)
    if m % 2 == 0:
        k[-1] = 0.0  # odd derivatives of the Nyquist mode are not real
    derivative_half = -0.5j * lambda1 * k

    def nonlinear(v, _t):
        return derivative_half * np.fft.rfft(np.fft.irfft(v, m) ** 2)

    u = etdrk4(np.cos(math.pi * xs), 1j * lambda2 * k**3, nonlinear, t, dt)
    return xs[::oversample], t, u[:, ::oversample]


def nls(
    n: int = 256,
    num_times: int = 201,
    *,
    t_final: float = math.pi / 2,
    dt: float = 2.5e-4,
    oversample: int = 8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nonlinear Schrodinger ``i h_t + h_xx / 2 + |h|^2 h = 0``, ``x in [-5, 5)`` periodic.

    ``h(0, x) = 2 sech(x)``, ``t in [0, pi/2]`` (the PINN benchmark: 256 points by 201 times);
    ``h`` is complex. Written as ``h_t = (i/2) h_xx + i |h|^2 h``. The mass ``int |h|^2 dx`` is
    conserved. On the whole line ``2 sech(x)`` is the two-soliton breather of period ``pi/2``
    (:func:`nls_two_soliton`); the periodic solution differs from it by up to about ``0.03``
    because ``2 sech(5)`` is not negligible.

    Accuracy: the periodic extension of ``h0`` has a kink at ``x = +-5`` that disperses without
    decaying, so convergence is algebraic in ``n`` and ``dt``. The defaults (a 2048-point
    solve) agree with an 8192-point solve to ``3e-6`` (median ``6e-7``); the error is at most
    about ``1e-5``. A plain 256-point solve is off by about ``6e-5``.

    Args:
        n: output grid points.
        num_times: snapshots from 0 to ``t_final``.
        t_final: final time.
        dt: largest ETDRK4 step.
        oversample: the solve uses ``n * oversample`` points.

    Returns:
        ``(x, t, h)``: shapes ``(n,)``, ``(num_times,)``, ``(num_times, n)``; ``h`` complex128.

    Raises:
        ValueError: a non-positive or non-integer size, or a non-positive time.

    Example:
        >>> x, t, h = nls(n=64, num_times=3, t_final=0.1, dt=1e-3, oversample=1)
        >>> h.dtype, bool(np.allclose(abs(h[0]), 2 / np.cosh(x)))
        (dtype('complex128'), True)
    """
    m, xs, t = _grid("nls", n, oversample, num_times, t_final, -5.0, 5.0)
    k = fourier_wavenumbers(m, 10.0, real=False)

    def nonlinear(v, _t):
        h = np.fft.ifft(v)
        return 1j * np.fft.fft(np.abs(h) ** 2 * h)

    h = etdrk4((2.0 / np.cosh(xs)).astype(np.complex128), -0.5j * k**2, nonlinear, t, dt)
    return xs[::oversample], t, h[:, ::oversample]
