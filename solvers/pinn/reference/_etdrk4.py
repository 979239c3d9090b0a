"""Fourier pseudo-spectral ETDRK4 (Kassam & Trefethen 2005) for stiff periodic PDEs.

An equation ``u_t = L u + N(u, t)`` with a linear operator that is diagonal in Fourier space
(``L`` is its symbol, e.g. ``-k^2`` for ``u_xx``) is integrated exactly in its linear part and
to fourth order in its nonlinear part (Cox & Matthews' exponential time differencing RK4). The
coefficients ``phi(h L)`` suffer cancellation for small ``|h L|``; following Kassam & Trefethen
they are evaluated as means over a circle of radius 1 around each ``h L`` in the complex plane
(the Cauchy integral formula, trapezoid rule on the full circle), which is accurate for every
``h L`` including zero.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import numpy as np

__all__ = ["ETDRK4Coefficients", "etdrk4_coefficients", "fourier_wavenumbers", "etdrk4"]


class ETDRK4Coefficients(NamedTuple):
    """The diagonal ETDRK4 coefficients of one step ``h`` (arrays of the shape of ``L``).

    ``E = exp(h L)``, ``E2 = exp(h L / 2)``, ``Q = h phi_1(h L / 2) / 2`` and the three
    fourth-order weights ``f1, f2, f3`` of Kassam & Trefethen's eq. (2.5).
    """

    E: np.ndarray
    E2: np.ndarray
    Q: np.ndarray
    f1: np.ndarray
    f2: np.ndarray
    f3: np.ndarray


def etdrk4_coefficients(
    linear: np.ndarray, dt: float, contour_points: int = 64
) -> ETDRK4Coefficients:
    """ETDRK4 coefficients for the diagonal linear symbol ``linear`` and step ``dt``.

    With ``z = dt L``: ``Q = dt (e^{z/2} - 1) / z``,
    ``f1 = dt (-4 - z + e^z (4 - 3z + z^2)) / z^3``, ``f2 = dt (2 + z + e^z (z - 2)) / z^3`` and
    ``f3 = dt (-4 - 3z - z^2 + e^z (4 - z)) / z^3``, each evaluated as the mean of the formula
    over ``contour_points`` points ``z + exp(2 pi i (j + 1/2) / M)`` on the full unit circle
    around ``z``. The functions are entire, so the mean converges geometrically in ``M``; 64
    points give close to machine precision. For a real ``linear`` the real part is kept.

    Args:
        linear: the symbol ``L`` (real or complex array, any shape).
        dt: the time step ``> 0``.
        contour_points: number of points ``M`` on the circle (``>= 8``).

    Returns:
        An :class:`ETDRK4Coefficients` of arrays shaped like ``linear``.

    Raises:
        ValueError: ``dt <= 0``, ``contour_points < 8`` or a non-finite symbol.

    Example:
        >>> import numpy as np
        >>> c = etdrk4_coefficients(np.array([0.0, -1.0]), 0.5)
        >>> np.allclose(c.Q, [0.25, 1 - np.exp(-0.25)])
        True
        >>> bool(abs(c.f1[0] - 0.5 / 6) < 1e-14)  # phi-limit dt/6 at z = 0
        True
    """
    if not dt > 0:
        raise ValueError(f"etdrk4_coefficients: dt must be > 0, got {dt}")
    if int(contour_points) != contour_points or contour_points < 8:
        raise ValueError(
            f"etdrk4_coefficients: contour_points must be an integer >= 8, got {contour_points}"
        )
    linear = np.asarray(linear)
    if not np.all(np.isfinite(linear)):
        raise ValueError("etdrk4_coefficients: the linear symbol has non-finite entries")
    z = dt * linear.astype(np.complex128)
    roots = np.exp(2j * math.pi * (np.arange(contour_points) + 0.5) / contour_points)
    r = z[..., None] + roots
    er = np.exp(r)
    q = dt * np.mean((np.exp(r / 2) - 1) / r, axis=-1)
    f1 = dt * np.mean((-4 - r + er * (4 - 3 * r + r**2)) / r**3, axis=-1)
    f2 = dt * np.mean((2 + r + er * (r - 2)) / r**3, axis=-1)
    f3 = dt * np.mean((-4 - 3 * r - r**2 + er * (4 - r)) / r**3, axis=-1)
    e, e2 = np.exp(z), np.exp(z / 2)
    if np.isrealobj(linear):
        return ETDRK4Coefficients(*(a.real for a in (e, e2, q, f1, f2, f3)))
    return ETDRK4Coefficients(e, e2, q, f1, f2, f3)


def fourier_wavenumbers(n: int, length: float, real: bool = True) -> np.ndarray:
    """Angular wavenumbers ``k`` of an ``n``-point periodic grid of period ``length``.

    In numpy's ordering: ``rfft`` (``n // 2 + 1`` values, ``0 .. n/2``) for ``real=True``, else
    ``fft`` (``0, 1, .., -1``). ``d/dx`` is multiplication by ``1j * k``.

    Args:
        n: number of grid points (``>= 2``).
        length: the period ``> 0``.
        real: ``rfft`` ordering if true, else full ``fft`` ordering.

    Returns:
        float64 array of shape ``(n // 2 + 1,)`` or ``(n,)``.

    Example:
        >>> fourier_wavenumbers(4, 2 * np.pi).tolist()
        [0.0, 1.0, 2.0]
    """
    if int(n) != n or n < 2:
        raise ValueError(f"fourier_wavenumbers: n must be an integer >= 2, got {n}")
    if not length > 0:
        raise ValueError(f"fourier_wavenumbers: length must be > 0, got {length}")
    d = length / n
    freq = np.fft.rfftfreq(n, d) if real else np.fft.fftfreq(n, d)
    return 2.0 * math.pi * freq


def _dealias_mask(n: int, real: bool) -> np.ndarray:
    m = np.fft.rfftfreq(n, 1.0 / n) if real else np.fft.fftfreq(n, 1.0 / n)
    return np.abs(m) < n / 3.0


def etdrk4(
    u0: np.ndarray,
    linear: np.ndarray,
    nonlinear: Callable[[np.ndarray, float], np.ndarray],
    times: Sequence[float],
    dt: float,
    *,
    t0: float = 0.0,
    contour_points: int = 64,
    dealias: bool = False,
) -> np.ndarray:
    """Integrate ``u_t = L u + N(u, t)`` on a periodic grid with ETDRK4; snapshots at ``times``.

    The state is kept in Fourier space: ``rfft`` of ``u0`` if ``u0`` is real, else ``fft``.
    ``linear`` is the symbol of ``L`` in that ordering (see :func:`fourier_wavenumbers`) and
    ``nonlinear(u_hat, t)`` returns the transform of ``N`` in the same ordering (it transforms
    back with ``irfft(u_hat, n)`` or ``ifft``, forms the nonlinearity, and transforms forward).
    Each interval between snapshot times is split into equal steps of at most ``dt``; the
    coefficients are cached per step size. ``dealias=True`` zeroes the modes ``|m| >= n/3`` of
    every nonlinear evaluation (the 2/3 rule, exact for quadratic nonlinearities). The scheme
    is fourth order in ``dt`` and exact when ``N`` is zero or constant.

    Args:
        u0: initial values on the ``n``-point grid, real or complex.
        linear: the Fourier symbol of ``L``, shape ``(n // 2 + 1,)`` (real ``u0``) or ``(n,)``.
        nonlinear: ``N`` in Fourier space, ``(u_hat, t) -> N_hat`` of the same shape.
        times: nondecreasing snapshot times ``>= t0``.
        dt: largest step ``> 0``.
        t0: the time of ``u0``.
        contour_points: points on the circle for :func:`etdrk4_coefficients`.
        dealias: apply the 2/3 rule to the nonlinear term.

    Returns:
        The solution at ``times`` in physical space, shape ``(len(times), n)``, float64 for a
        real ``u0`` and complex128 otherwise.

    Raises:
        ValueError: ``u0`` not 1-D, a ``linear`` or ``nonlinear`` output of the wrong shape,
            ``dt <= 0``, or ``times`` decreasing or before ``t0``.
        FloatingPointError: the solution overflowed (too large a step for the nonlinearity).

    Example:
        Heat equation ``u_t = u_xx`` with ``u0 = sin x``: exact decay ``exp(-t)``.

        >>> x = 2 * np.pi * np.arange(16) / 16
        >>> k = fourier_wavenumbers(16, 2 * np.pi)
        >>> u = etdrk4(np.sin(x), -k**2, lambda v, t: 0 * v, [0.0, 1.0], dt=0.1)
        >>> bool(np.abs(u[1] - np.exp(-1.0) * np.sin(x)).max() < 1e-14)
        True
    """
    u0 = np.asarray(u0)
    if u0.ndim != 1 or u0.shape[0] < 2:
        raise ValueError(f"etdrk4: u0 must be 1-D with >= 2 points, got shape {u0.shape}")
    n, real = u0.shape[0], bool(np.isrealobj(u0))
    forward, inverse = (np.fft.rfft, np.fft.irfft) if real else (np.fft.fft, np.fft.ifft)
    spec_shape = (n // 2 + 1,) if real else (n,)
    linear = np.asarray(linear)
    if linear.shape != spec_shape:
        raise ValueError(
            f"etdrk4: linear must have shape {spec_shape} for a {'real' if real else 'complex'}"
            f" u0 of {n} points, got {linear.shape}"
        )
    if not dt > 0:
        raise ValueError(f"etdrk4: dt must be > 0, got {dt}")
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if np.any(np.diff(times) < 0) or (times.size and times[0] < t0):
        raise ValueError(f"etdrk4: times must be nondecreasing and >= t0={t0}")
    mask = _dealias_mask(n, real) if dealias else None

    def nl(v, t):
        out = np.asarray(nonlinear(v, t))
        if out.shape != v.shape:
            raise ValueError(
                f"etdrk4: nonlinear must return an array of shape {v.shape}, got {out.shape}"
            )
        return out * mask if mask is not None else out

    cache: dict = {}
    v, t = forward(u0.astype(np.float64 if real else np.complex128)), float(t0)
    out = np.empty((times.size, n), dtype=np.float64 if real else np.complex128)
    for i, t_next in enumerate(times):
        steps = max(1, math.ceil((t_next - t) / dt - 1e-9)) if t_next > t else 0
        if steps:
            h = (t_next - t) / steps
            key = float(f"{h:.12e}")
            if key not in cache:
                cache[key] = etdrk4_coefficients(linear, h, contour_points)
            c = cache[key]
            for s in range(steps):
                v = _step(v, t + s * h, h, c, nl)
        t = float(t_next)
        out[i] = inverse(v, n) if real else inverse(v)
        if not np.all(np.isfinite(out[i])):
            raise FloatingPointError(f"etdrk4: the solution became non-finite by t={t}; reduce dt")
    return out


def _step(v, t, h, c: ETDRK4Coefficients, nl):
    """One ETDRK4 step (Kassam & Trefethen, eq. 2.5)."""
    nv = nl(v, t)
    a = c.E2 * v + c.Q * nv
    na = nl(a, t + h / 2)
    b = c.E2 * v + c.Q * na
    nb = nl(b, t + h / 2)
    cc = c.E2 * a + c.Q * (2 * nb - nv)
    nc = nl(cc, t + h)
    return c.E * v + nv * c.f1 + 2 * (na + nb) * c.f2 + nc * c.f3
