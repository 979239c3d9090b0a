"""Reference solutions: quadrature and time-step convergence, conservation, closed forms, PDEs."""

import doctest
import importlib
import math

import numpy as np
import pytest

from fieldgrad.solvers.pinn import reference as ref

NU = 0.01 / math.pi


# --- Burgers (Cole-Hopf) -------------------------------------------------------------------


def _burgers_trapezoid(x, t, points=8001, half_width=14.0):
    """The Cole-Hopf integrals by the trapezoid rule in z (independent of Gauss-Hermite)."""
    z = np.linspace(-half_width, half_width, points)
    y = x[:, None] - math.sqrt(4 * NU * t) * z
    log_terms = -(z**2) - np.cos(np.pi * y) / (2 * np.pi * NU)
    w = np.exp(log_terms - log_terms.max(axis=1, keepdims=True))
    return -(w * np.sin(np.pi * y)).sum(axis=1) / w.sum(axis=1)


def test_burgers_initial_condition_is_exact():
    x = np.linspace(-1, 1, 101)
    np.testing.assert_array_equal(ref.burgers_cole_hopf(x, 0.0), -np.sin(np.pi * x))
    u = ref.burgers_cole_hopf(x[None, :], np.array([[0.0], [0.5]]))
    assert u.shape == (2, 101)
    np.testing.assert_array_equal(u[0], -np.sin(np.pi * x))
    assert np.abs(u[1] + np.sin(np.pi * x)).max() > 0.1  # it did evolve


def test_burgers_boundary_values_vanish_and_solution_is_odd():
    t = np.linspace(0.01, 0.99, 50)
    assert np.abs(ref.burgers_cole_hopf(-1.0, t)).max() < 1e-13
    assert np.abs(ref.burgers_cole_hopf(1.0, t)).max() < 1e-13
    x = np.linspace(0.0, 1.0, 33)
    u_plus, u_minus = ref.burgers_cole_hopf(x, 0.7), ref.burgers_cole_hopf(-x, 0.7)
    np.testing.assert_allclose(u_plus, -u_minus, atol=1e-13)


def test_burgers_quadrature_converged_including_the_shock():
    x = np.concatenate([np.linspace(-1, 1, 256), np.linspace(-0.02, 0.02, 81)])
    t = np.array([0.05, 0.3, 0.6, 0.99])[:, None]
    u100 = ref.burgers_cole_hopf(x, t, quad_points=100)
    for q in (150, 200):
        np.testing.assert_allclose(ref.burgers_cole_hopf(x, t, quad_points=q), u100, atol=1e-12)
    coarse = ref.burgers_cole_hopf(x, t, quad_points=30)
    assert np.abs(coarse - u100).max() > 1e-6  # too few nodes is visibly off near the shock


def test_burgers_matches_an_independent_trapezoid_evaluation():
    x = np.concatenate([np.linspace(-1, 1, 65), np.linspace(-0.01, 0.01, 41)])
    for t in (0.1, 0.4, 0.99):
        u = ref.burgers_cole_hopf(x, t)
        np.testing.assert_allclose(u, _burgers_trapezoid(x, t), atol=1e-12)


def test_burgers_shock_is_steep_at_late_times():
    u = ref.burgers_cole_hopf(np.array([-0.01, 0.01]), 0.99)
    assert u[0] > 0.5 and u[1] < -0.5  # the jump across x = 0 is resolved by the formula


def _d1(f, h):
    """Fourth-order central first derivative of ``s -> f(s)`` at 0."""
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


def _d2c(f, h):
    """Fourth-order central second derivative of ``s -> f(s)`` at 0."""
    return (-f(2 * h) + 16 * f(h) - 30 * f(0) + 16 * f(-h) - f(-2 * h)) / (12 * h * h)


@pytest.mark.parametrize(
    ("x", "h"), [(np.linspace(-0.9, 0.9, 19), 3e-3), (np.linspace(-0.02, 0.02, 21), 1e-4)]
)
def test_burgers_satisfies_the_pde(x, h):
    for t in (0.2, 0.6, 0.99):
        u = ref.burgers_cole_hopf(x, t)
        u_t = _d1(lambda s, t=t: ref.burgers_cole_hopf(x, t + s), 1e-3)
        u_x = _d1(lambda s, t=t: ref.burgers_cole_hopf(x + s, t), h)
        viscous = NU * _d2c(lambda s, t=t: ref.burgers_cole_hopf(x + s, t), h)
        residual = np.abs(u_t + u * u_x - viscous).max()
        assert residual < 1e-2 * np.abs(viscous).max()  # far below the smallest term
        assert residual < 1e-6 * np.abs(u * u_x).max()


def test_burgers_reference_grid():
    x, t, u = ref.burgers_reference()
    assert x.shape == (256,) and t.shape == (100,) and u.shape == (100, 256)
    np.testing.assert_allclose(x, np.linspace(-1, 1, 256))
    np.testing.assert_allclose(t, np.arange(100) / 100, atol=1e-15)
    np.testing.assert_allclose(u[37], ref.burgers_cole_hopf(x, t[37]), atol=0)


def test_burgers_rejects_bad_input():
    with pytest.raises(ValueError, match="nu"):
        ref.burgers_cole_hopf(0.0, 0.1, nu=0.0)
    with pytest.raises(ValueError, match="quad_points"):
        ref.burgers_cole_hopf(0.0, 0.1, quad_points=1)
    with pytest.raises(ValueError, match="too many"):
        ref.burgers_cole_hopf(0.0, 0.1, quad_points=500)
    with pytest.raises(ValueError, match=">= 0"):
        ref.burgers_cole_hopf(0.0, -0.1)
    with pytest.raises(ValueError, match="broadcast"):
        ref.burgers_cole_hopf(np.zeros(3), np.zeros(4))


# --- ETDRK4 ----------------------------------------------------------------------------------


def _direct(z):
    e = np.exp(z)
    return (
        (np.exp(z / 2) - 1) / z,
        (-4 - z + e * (4 - 3 * z + z**2)) / z**3,
        (2 + z + e * (z - 2)) / z**3,
        (-4 - 3 * z - z**2 + e * (4 - z)) / z**3,
    )


def _phi(k, z, terms=40):
    """phi_k(z) = sum_j z^j / (j + k)! (converges fast for |z| <= 2)."""
    return sum(z**j / math.factorial(j + k) for j in range(terms))


def test_coefficients_match_the_direct_formulas_at_moderate_z():
    z_real = np.concatenate([np.linspace(-30, -0.5, 25), np.linspace(0.5, 4, 8)])
    z_complex = np.concatenate([1j * np.linspace(-40, -0.7, 9), (1 + 1j) * np.linspace(0.5, 3, 6)])
    for z in (z_real, z_complex):
        c = ref.etdrk4_coefficients(z, 1.0)
        assert np.isrealobj(c.f1) == np.isrealobj(z)
        for got, want in zip((c.Q, c.f1, c.f2, c.f3), _direct(z)):
            np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(c.E, np.exp(z), rtol=1e-15)


def test_coefficients_match_phi_series_at_small_z():
    h = 0.3
    z = np.array([0.0, 1e-10, -1e-5, 1e-3, -0.4, 0.7j, -1.5 + 0.5j])
    c = ref.etdrk4_coefficients(z / h, h)
    p1, p2, p3 = (_phi(k, z) for k in (1, 2, 3))
    np.testing.assert_allclose(c.Q, h * _phi(1, z / 2) / 2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c.f1, h * (p1 - 3 * p2 + 4 * p3), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(c.f2, h * (p2 - 2 * p3), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(c.f3, h * (-p2 + 4 * p3), rtol=1e-12, atol=1e-15)


def test_heat_equation_decay_is_exact():
    n = 32
    x = 2 * np.pi * np.arange(n) / n
    u0 = np.sin(x) + 0.5 * np.cos(3 * x) + 0.25 * np.sin(7 * x)
    times = [0.0, 0.05, 0.05, 0.33, 1.0]
    for real in (True, False):
        k = ref.fourier_wavenumbers(n, 2 * np.pi, real=real)
        start = u0 if real else u0 + 1j * np.cos(2 * x)
        u = ref.etdrk4(start, -(k**2), lambda v, t: 0 * v, times, dt=0.07)
        for ti, ui in zip(times, u):
            exact = np.sin(x) * np.exp(-ti) + 0.5 * np.cos(3 * x) * np.exp(-9 * ti)
            exact = exact + 0.25 * np.sin(7 * x) * np.exp(-49 * ti)
            if not real:
                exact = exact + 1j * np.cos(2 * x) * np.exp(-4 * ti)
            assert np.abs(ui - exact).max() < 1e-12


def test_constant_forcing_is_exact_and_dealiasing_masks_high_modes():
    n = 24
    x = 2 * np.pi * np.arange(n) / n
    k = ref.fourier_wavenumbers(n, 2 * np.pi)
    g = np.cos(2 * x) + np.cos(11 * x)  # mode 11 is above n / 3 = 8
    g_hat = np.fft.rfft(g)
    u = ref.etdrk4(np.zeros(n), -(k**2), lambda v, t: g_hat, [0.4], dt=0.1)[0]
    exact = (1 - np.exp(-4 * 0.4)) / 4 * np.cos(2 * x) + (1 - np.exp(-121 * 0.4)) / 121 * np.cos(
        11 * x
    )
    assert np.abs(u - exact).max() < 1e-14
    u = ref.etdrk4(np.zeros(n), -(k**2), lambda v, t: g_hat, [0.4], dt=0.1, dealias=True)[0]
    assert np.abs(u - (1 - np.exp(-1.6)) / 4 * np.cos(2 * x)).max() < 1e-14


def test_time_dependent_forcing_and_start_time():
    # u_t = -u + cos(t) (one mode): u = (cos t + sin t) / 2 + (u0 - 1/2) e^{-(t - t0)} for t0 = 0.
    n = 4
    lin = np.zeros(n // 2 + 1)
    lin[0] = -1.0
    mean_mode = n * (np.arange(n // 2 + 1) == 0)  # rfft of the constant 1
    u = ref.etdrk4(np.ones(n), lin, lambda v, t: np.cos(t) * mean_mode, [2.0], 0.05)
    exact = 0.5 * (np.cos(2.0) + np.sin(2.0)) + 0.5 * np.exp(-2.0)
    assert abs(u[0, 0] - exact) < 1e-8
    u_late = ref.etdrk4(np.ones(n), lin, lambda v, t: 0 * v, [3.0], 0.1, t0=1.0)
    assert abs(u_late[0, 0] - np.exp(-2.0)) < 1e-14


@pytest.mark.parametrize("problem", ["kdv", "allen_cahn"])
def test_fourth_order_in_time(problem):
    if problem == "kdv":
        dts = [1e-2, 5e-3, 2.5e-3, 1.25e-3]
        run = lambda dt: ref.kdv(n=128, num_times=3, t_final=0.5, dt=dt)[2]  # noqa: E731
    else:
        dts = [4e-2, 2e-2, 1e-2, 5e-3]
        run = lambda dt: ref.allen_cahn(  # noqa: E731
            n=64, num_times=3, t_final=0.5, dt=dt, oversample=1, epsilon=1e-2
        )[2]
    fine = run(dts[-1] / 8)
    errors = [np.abs(run(dt) - fine).max() for dt in dts]
    ratios = [a / b for a, b in zip(errors, errors[1:])]
    assert all(12 < r < 20 for r in ratios), ratios
    assert errors[-1] < 1e-7


def test_kdv_spatially_converged_and_conservative():
    x, t, u = ref.kdv(n=128, num_times=6, t_final=1.0, dt=5e-4)
    _, _, u2 = ref.kdv(n=128, num_times=6, t_final=1.0, dt=5e-4, oversample=2)
    assert np.abs(u - u2).max() < 1e-10
    np.testing.assert_allclose(x, -1 + 2 * np.arange(128) / 128)
    np.testing.assert_allclose(u[0], np.cos(np.pi * x), atol=1e-15)
    assert np.abs(u.mean(axis=1)).max() < 1e-14  # int u dx = 0 exactly
    energy = (u**2).mean(axis=1)
    assert np.abs(energy - 0.5).max() < 1e-8
    assert np.abs(u[-1] - u[0]).max() > 0.5  # solitons have formed


def test_allen_cahn_symmetry_bounds_and_spatial_convergence():
    runs = {
        s: ref.allen_cahn(n=128, num_times=3, t_final=0.25, dt=5e-3, oversample=s)
        for s in (2, 4, 8, 32)
    }
    x, t, u = runs[32]
    np.testing.assert_allclose(u[0], x**2 * np.cos(np.pi * x), atol=1e-15)
    mirror = np.concatenate([u[:, :1], u[:, :0:-1]], axis=1)  # x -> -x on the periodic grid
    assert np.abs(u - mirror).max() < 1e-12
    assert np.abs(u).max() <= 1 + 1e-9
    d = [np.abs(runs[s][2] - u).max() for s in (2, 4, 8)]
    # second-order (algebraic) convergence: the periodic u0 has a kink at x = +-1
    assert d[0] > 3 * d[1] > 9 * d[2] and d[2] < 5e-5, d


def test_nls_solver_matches_the_exact_breather_on_a_wide_domain():
    a, n = 20.0, 1024
    x = -a + 2 * a * np.arange(n) / n
    k = ref.fourier_wavenumbers(n, 2 * a, real=False)

    def nonlinear(v, t):
        h = np.fft.ifft(v)
        return 1j * np.fft.fft(np.abs(h) ** 2 * h)

    times = np.linspace(0, np.pi / 2, 5)
    h = ref.etdrk4((2 / np.cosh(x)).astype(complex), -0.5j * k**2, nonlinear, times, 1e-3)
    assert np.abs(h - ref.nls_two_soliton(x[None], times[:, None])).max() < 5e-8


def test_nls_periodic_benchmark_conserves_mass_and_converges():
    x, t, h = ref.nls(n=128, num_times=5, t_final=np.pi / 4, dt=1e-3, oversample=1)
    assert h.shape == (5, 128) and h.dtype == np.complex128
    np.testing.assert_allclose(x, -5 + 10 * np.arange(128) / 128)
    mass = (np.abs(h) ** 2).sum(axis=1) * 10 / 128  # exact quadrature on the solve grid
    assert np.abs(mass - mass[0]).max() < 1e-8  # the drift is the O(dt^4) time error
    _, _, fine = ref.nls(n=128, num_times=5, t_final=np.pi / 4, dt=1e-3, oversample=8)
    assert 1e-6 < np.abs(h - fine).max() < 1e-3  # algebraic convergence (kink at x = +-5)
    assert np.abs(fine[-1]).max() > 3.5  # the breather has compressed


def test_etdrk4_rejects_bad_input():
    k = ref.fourier_wavenumbers(8, 1.0)
    zero = lambda v, t: 0 * v  # noqa: E731
    with pytest.raises(ValueError, match="shape"):
        ref.etdrk4(np.zeros(8), np.zeros(8), zero, [1.0], 0.1)
    with pytest.raises(ValueError, match="dt"):
        ref.etdrk4(np.zeros(8), k, zero, [1.0], 0.0)
    with pytest.raises(ValueError, match="nondecreasing"):
        ref.etdrk4(np.zeros(8), k, zero, [1.0, 0.5], 0.1)
    with pytest.raises(ValueError, match="1-D"):
        ref.etdrk4(np.zeros((2, 8)), k, zero, [1.0], 0.1)
    with pytest.raises(ValueError, match="nonlinear must return"):
        ref.etdrk4(np.zeros(8), k, lambda v, t: np.zeros(3), [1.0], 0.1)
    with pytest.raises(FloatingPointError, match="non-finite"), np.errstate(all="ignore"):
        ref.etdrk4(np.ones(8), 0 * k, lambda v, t: np.fft.rfft(np.fft.irfft(v, 8) ** 3), [9.0], 0.5)
    with pytest.raises(ValueError, match="contour_points"):
        ref.etdrk4_coefficients(k, 0.1, contour_points=4)
    with pytest.raises(ValueError, match="oversample"):
        ref.allen_cahn(n=8, oversample=0)
    with pytest.raises(ValueError, match="t_final"):
        ref.kdv(n=8, t_final=-1.0)


@pytest.mark.slow
def test_default_benchmarks_full_grids():
    x, t, u = ref.allen_cahn()
    assert u.shape == (201, 512) and t[-1] == 1.0 and x[0] == -1.0
    _, _, coarse = ref.allen_cahn(oversample=4)
    assert np.abs(u - coarse).max() < 2e-4
    assert np.abs(u[-1]).max() > 0.9
    x, t, h = ref.nls()
    assert h.shape == (201, 256)
    mass = (np.abs(h) ** 2).sum(axis=1) * 10 / 256
    assert np.abs(mass - mass[0]).max() < 1e-4


# --- closed forms --------------------------------------------------------------------------


def _d2(f, h, *coords, axis):
    step = [np.zeros_like(c) for c in coords]
    step[axis] = step[axis] + h
    plus = f(*(c + s for c, s in zip(coords, step)))
    minus = f(*(c - s for c, s in zip(coords, step)))
    return (plus - 2 * f(*coords) + minus) / h**2


def test_diffusion_solution_satisfies_its_pde():
    x, t = np.meshgrid(np.linspace(-1, 1, 21), np.linspace(0, 1, 11))
    k, h = 1e-5, 1e-4
    u_t = (ref.diffusion_exact(x, t + k) - ref.diffusion_exact(x, t - k)) / (2 * k)
    u_xx = _d2(ref.diffusion_exact, h, x, t, axis=0)
    residual = u_t - u_xx - ref.diffusion_source(x, t)
    assert np.abs(residual).max() < 1e-5
    assert np.abs(u_t - u_xx).max() > 1  # the source matters
    np.testing.assert_allclose(
        ref.diffusion_exact(np.linspace(-1, 1, 5), 0.0), np.sin(np.pi * np.linspace(-1, 1, 5))
    )
    assert np.abs(ref.diffusion_exact(np.array([-1.0, 1.0]), 0.7)).max() < 1e-15


@pytest.mark.parametrize("c", [1.0, 2.0])
def test_wave_solution_satisfies_its_pde(c):
    x, t = np.meshgrid(np.linspace(0, 1, 17), np.linspace(0, 1, 9))
    h = 1e-4
    u = lambda x, t: ref.wave_exact(x, t, c=c)  # noqa: E731
    residual = _d2(u, h, x, t, axis=1) - c**2 * _d2(u, h, x, t, axis=0)
    assert np.abs(residual).max() < 1e-3 * c**2 * 16 * np.pi**2
    assert np.abs(u(np.array([0.0, 1.0]), 0.3)).max() < 1e-14
    assert abs((u(0.3, 1e-6) - u(0.3, -1e-6)) / 2e-6) < 1e-6  # starts at rest


@pytest.mark.parametrize("k", [(1, 1), (2, 1), (1, 2, 3)])
def test_poisson_pairs_satisfy_minus_laplace_u_equals_f(k):
    u, f = ref.poisson_sine(k)
    rng = np.random.default_rng(0)
    coords = list(rng.uniform(0, 1, (len(k), 20)))
    lap = sum(_d2(u, 1e-4, *coords, axis=i) for i in range(len(k)))
    np.testing.assert_allclose(-lap, f(*coords), atol=1e-5 * float(np.sum(np.square(k))) * 10)
    edge = [np.array([0.0, 1.0])] + [np.array([0.3, 0.6])] * (len(k) - 1)
    assert np.abs(u(*edge)).max() < 1e-14
    _, f_fd = ref.poisson_manufactured(u)
    np.testing.assert_allclose(f_fd(*coords), f(*coords), atol=1e-8 * np.abs(f(*coords)).max())
    with pytest.raises(ValueError, match="coordinates"):
        u(*coords[:-1]) if len(k) > 1 else u(coords[0], coords[0])


def test_poisson_manufactured_with_an_exact_laplacian():
    def u(x, y):
        return np.exp(x) * np.sin(y)

    pair = ref.poisson_manufactured(u, laplacian=lambda x, y: 0 * x)  # harmonic
    np.testing.assert_array_equal(pair.f(np.ones(3), np.ones(3)), np.zeros(3))
    _, f_fd = ref.poisson_manufactured(u)
    assert np.abs(f_fd(np.linspace(0, 1, 5), np.linspace(0, 2, 5))).max() < 1e-8
    with pytest.raises(ValueError, match="step"):
        ref.poisson_manufactured(u, step=0.0)
    with pytest.raises(ValueError, match="callable"):
        ref.poisson_manufactured(3.0)


def test_nls_two_soliton_satisfies_nls_and_is_periodic():
    x, t = np.meshgrid(np.linspace(-4, 4, 33), np.linspace(0, np.pi / 2, 9))
    k, h = 1e-5, 1e-4
    q = ref.nls_two_soliton
    q_t = (q(x, t + k) - q(x, t - k)) / (2 * k)
    residual = 1j * q_t + 0.5 * _d2(q, h, x, t, axis=0) + np.abs(q(x, t)) ** 2 * q(x, t)
    assert np.abs(residual).max() < 1e-4
    np.testing.assert_allclose(q(x, t + np.pi / 2), np.exp(1j * np.pi / 4) * q(x, t), atol=1e-13)
    far = q(np.array([-800.0, 800.0]), 0.3)
    assert np.all(np.isfinite(far)) and np.abs(far).max() < 1e-300


@pytest.mark.parametrize("module", ["_analytic", "_burgers", "_etdrk4", "_spectral_benchmarks"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"fieldgrad.solvers.pinn.reference.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
