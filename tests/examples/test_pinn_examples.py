"""The PINN examples (examples/pinn_*.py): each trains at a tiny size and its loss falls; the
full recipes (marked slow) reach their stated targets."""

import importlib.util
import math
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEYS = {
    "rel_l2",
    "wall_time_s",
    "adam_steps",
    "lbfgs_steps",
    "initial_loss",
    "final_loss",
    "adam_steps_per_s",
    "lbfgs_steps_per_s",
    "figure",
}


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", ROOT / "examples" / f"{name}.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _check_tiny(m, quick, factor):
    assert set(m) >= KEYS
    assert m["adam_steps"] == quick["adam_steps"]
    assert m["lbfgs_steps"] <= quick["lbfgs_steps"]
    assert math.isfinite(m["rel_l2"]) and m["rel_l2"] > 0
    assert m["final_loss"] < m["initial_loss"] / factor, m


def _check_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


# --- tiny runs ----------------------------------------------------------------------------------


def test_burgers_tiny(tmp_path):
    ex = _load("pinn_burgers")
    m = ex.main(**ex.QUICK, verbose=False, out=str(tmp_path / "burgers.png"))
    _check_tiny(m, ex.QUICK, factor=5)
    assert m["lbfgs_steps"] > 0 and m["lbfgs_evaluations"] >= m["lbfgs_steps"]
    assert m["rel_l2"] < 0.5  # the hard constraints alone give the initial state exactly
    _check_png(m["figure"])


def test_burgers_ansatz_holds_conditions_and_symmetry_exactly():
    import numpy as np

    import fieldgrad as fg

    ex = _load("pinn_burgers")
    problem, net = ex.build(
        width=8, depth=2, num_domain=16, sampler="sobol", seed=0, dtype="float64", odd=True
    )
    x = np.array([[-1.0, 0.3], [1.0, 0.7], [0.25, 0.0], [-0.6, 0.0]])
    u = problem.solution(net)(fg.tensor(x)).numpy()[:, 0]
    np.testing.assert_allclose(
        u, [0.0, 0.0, -np.sin(0.25 * np.pi), np.sin(0.6 * np.pi)], atol=1e-14
    )
    y = np.array([[0.3, 0.4], [0.01, 0.9], [0.0, 0.5]])
    u_pos = problem.solution(net)(fg.tensor(y)).numpy()[:, 0]
    u_neg = problem.solution(net)(fg.tensor(y * [-1.0, 1.0])).numpy()[:, 0]
    np.testing.assert_allclose(u_neg, -u_pos, atol=1e-14)  # odd in x, like the solution
    assert abs(u_pos[2]) < 1e-14


def test_burgers_inverse_tiny(tmp_path):
    ex = _load("pinn_burgers_inverse")
    m = ex.main(**ex.QUICK, verbose=False, out=str(tmp_path / "inverse.png"))
    _check_tiny(m, ex.QUICK, factor=2)
    assert {"lambda1", "lambda2", "lambda1_error", "lambda2_error"} <= set(m)
    assert m["lambda1"] > 0.0  # moved from its start at 0 towards 1
    _check_png(m["figure"])


def test_burgers_inverse_observations_are_the_reference():
    import numpy as np

    from fieldgrad.solvers.pinn import reference

    ex = _load("pinn_burgers_inverse")
    pts, values, _ = ex.observations(50, seed=1)
    assert pts.shape == (50, 2) and len(np.unique(pts, axis=0)) == 50
    np.testing.assert_allclose(
        values, reference.burgers_cole_hopf(pts[:, 0], pts[:, 1]), atol=1e-12
    )


def test_poisson_disks_tiny(tmp_path):
    ex = _load("pinn_poisson_disks")
    m = ex.main(**ex.QUICK, verbose=False, out=str(tmp_path / "poisson.png"))
    _check_tiny(m, ex.QUICK, factor=10)
    _check_png(m["figure"])


def test_poisson_disks_manufactured_pair():
    ex = _load("pinn_poisson_disks")
    x, y, h = 0.3, -0.7, 1e-3
    lap = (
        ex.exact(x + h, y)
        + ex.exact(x - h, y)
        + ex.exact(x, y + h)
        + ex.exact(x, y - h)
        - 4 * ex.exact(x, y)
    ) / h**2
    assert ex.SOLUTION.f(x, y) == pytest.approx(-lap, rel=1e-5)
    geom = ex.domain()
    assert geom.inside([[0.0, 0.0], [-0.4, -0.3], [0.45, 0.4]]).tolist() == [True, False, False]
    assert abs(ex.exact(-0.1, -0.3)) > 0.01  # nonzero on the first hole's boundary


def test_diffusion_tiny(tmp_path):
    ex = _load("pinn_diffusion")
    m = ex.main(**ex.QUICK, verbose=False, out=str(tmp_path / "diffusion.png"))
    _check_tiny(m, ex.QUICK, factor=10)
    _check_png(m["figure"])


def test_allen_cahn_tiny(tmp_path):
    ex = _load("pinn_allen_cahn")
    m = ex.main(**ex.QUICK, verbose=False, out=str(tmp_path / "allen_cahn.png"))
    windows = ex.QUICK["windows"]
    assert set(m) >= KEYS
    assert m["adam_steps"] == windows * ex.QUICK["adam_steps"]
    assert 0 < m["lbfgs_steps"] <= windows * ex.QUICK["lbfgs_steps"]
    assert len(m["window_rel_l2"]) == len(m["weights"]) == len(m["window_loss"]) == windows
    for start, end in m["window_loss"]:
        assert end < start / 5, m["window_loss"]
    assert "ic" not in m["weights"][0]  # the first window's ansatz holds u(0, x) exactly
    assert m["weights"][1]["ic"] != 1.0  # the gradient-norm balancing moved the weights
    assert m["rel_l2"] < 0.5
    _check_png(m["figure"])


def test_allen_cahn_first_window_is_exact_at_t0():
    import numpy as np

    import fieldgrad as fg

    ex = _load("pinn_allen_cahn")
    problem = ex.window_problem(0.0, 0.2, None, num_domain=16, num_initial=8, seed=0)
    net = ex.make_net(width=8, depth=2, harmonics=2, seed=1, dtype="float64")
    x = np.array([[-1.0, 0.0], [-0.3, 0.0], [0.7, 0.0], [0.2, 0.1]])
    u = problem.solution(net)(fg.tensor(x)).numpy()[:, 0]
    np.testing.assert_allclose(u[:3], ex.initial_state(x[:3]), atol=1e-15)
    assert abs(u[3] - ex.initial_state(x[3:])[0]) > 1e-6  # the network acts for t > 0
    soft = ex.window_problem(0.0, 0.2, ex.initial_state, num_domain=16, num_initial=8, seed=0)
    assert soft.term_names == ["pde", "ic"]


def test_allen_cahn_network_is_exactly_periodic():
    import numpy as np

    import fieldgrad as fg

    ex = _load("pinn_allen_cahn")
    net = ex.make_net(width=8, depth=2, harmonics=2, seed=1, dtype="float64")
    t = np.linspace(0.0, 1.0, 5)
    left = net(fg.tensor(np.stack([-np.ones(5), t], 1))).numpy()
    right = net(fg.tensor(np.stack([np.ones(5), t], 1))).numpy()
    np.testing.assert_allclose(left, right, rtol=0, atol=1e-13)
    x = np.array([[-1.0, 0.0], [0.5, 0.0]])
    np.testing.assert_allclose(ex.initial_state(x), [-1.0, 0.0], atol=1e-15)


# --- full recipes -------------------------------------------------------------------------------


@pytest.mark.slow
def test_burgers_recipe_reaches_target_in_five_minutes():
    m = _load("pinn_burgers").main(verbose=False)
    assert m["rel_l2"] <= 2e-3, m
    assert m["wall_time_s"] <= 300, m


@pytest.mark.slow
def test_burgers_inverse_recipe_recovers_coefficients():
    m = _load("pinn_burgers_inverse").main(verbose=False)
    assert m["lambda1_error"] <= 5e-3, m
    assert m["lambda2_error"] <= 1e-2, m


@pytest.mark.slow
def test_poisson_disks_recipe_reaches_one_percent():
    m = _load("pinn_poisson_disks").main(verbose=False)
    assert m["rel_l2"] <= 1e-2, m


@pytest.mark.slow
def test_diffusion_recipe_reaches_one_percent():
    m = _load("pinn_diffusion").main(verbose=False)
    assert m["rel_l2"] <= 1e-2, m


@pytest.mark.slow
def test_allen_cahn_recipe_reaches_one_percent():
    m = _load("pinn_allen_cahn").main(verbose=False)
    assert m["rel_l2"] <= 1e-2, m
