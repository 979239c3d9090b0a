"""Conditions: each residual vanishes on a function that satisfies it (and not on one that does
not), points come from the right part of the geometry, seeds and resampling, errors."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.solvers.pinn import (
    IC,
    DirichletBC,
    NeumannBC,
    OperatorBC,
    PeriodicBC,
    PointSetBC,
    RobinBC,
    Solution,
    geometry,
)
from fieldgrad.solvers.pinn._conditions import coefficient_kwargs

SPACE_TIME = geometry.GeometryXTime(geometry.Interval(-1.0, 1.0), geometry.TimeDomain(0.0, 1.0))


def tensors(data):
    return {k: fg.tensor(v, dtype="float64") for k, v in data.items()}


def sin_exp(z):  # u = sin(pi x) e^{-t}
    return fg.sin(math.pi * z[:, 0]) * fg.exp(-z[:, 1])


def max_abs(r):
    return float(np.abs(r.numpy()).max())


def test_dirichlet_whole_boundary_and_predicate():
    bc = DirichletBC(value=0.0)
    data = bc.resample(SPACE_TIME, 40, seed=3)
    assert data["x"].shape == (40, 2) and np.allclose(np.abs(data["x"][:, 0]), 1.0)
    assert max_abs(bc.residual(Solution(sin_exp), tensors(data))) < 1e-12
    right = DirichletBC(lambda x: x[:, 0] > 0, value=lambda x: np.exp(-x[:, 1]), name="right")
    data = right.resample(SPACE_TIME, 25, seed=1)
    assert np.allclose(data["x"][:, 0], 1.0) and len(data["x"]) == 25
    sol = Solution(lambda z: fg.exp(-z[:, 1]) * z[:, 0])
    assert max_abs(right.residual(sol, tensors(data))) < 1e-12
    assert max_abs(right.residual(Solution(sin_exp), tensors(data))) > 0.1


def test_dirichlet_on_a_given_geometry_and_component():
    square = geometry.Rectangle([0.0, 0.0], [1.0, 1.0])
    bc = DirichletBC(square, value=lambda x: x[:, 0] * x[:, 1], component="v")
    data = tensors(bc.resample(square, 30, seed=0))
    sol = Solution(
        lambda z: fg.stack([z[:, 0], z[:, 0] * z[:, 1]], axis=1),
        variables=("x", "y"),
        outputs=("u", "v"),
    )
    assert max_abs(bc.residual(sol, data)) < 1e-12


def test_neumann_on_disk_uses_outward_normals():
    disk = geometry.Disk([0.0, 0.0], 1.0)
    bc = NeumannBC(value=2.0)  # u = x^2 + y^2: du/dn = 2 r = 2 on the unit circle
    data = bc.resample(disk, 32, seed=0)
    np.testing.assert_allclose(data["normal"], data["x"], atol=1e-9)
    sol = Solution(lambda z: z[:, 0] ** 2 + z[:, 1] ** 2, variables=("x", "y"))
    assert max_abs(bc.residual(sol, tensors(data))) < 1e-9
    wrong = Solution(lambda z: z[:, 0] ** 2, variables=("x", "y"))
    assert max_abs(bc.residual(wrong, tensors(data))) > 0.5


def test_robin_with_coefficient():
    line = geometry.Interval(0.0, 1.0)
    # u = e^{k x}: du/dn = k u at x = 1 and -k u at x = 0, i.e. du/dn = k n u.
    bc = RobinBC(g=lambda x, u, k: k * (2.0 * x["x"] - 1.0) * u)
    data = tensors(bc.resample(line, 2, seed=0))
    sol = Solution(lambda z: fg.exp(1.5 * z[:, 0]), variables=("x",))
    k = fg.tensor(1.5, dtype="float64")
    assert max_abs(bc.residual(sol, data, {"k": k})) < 1e-12
    assert max_abs(bc.residual(sol, data, {"k": k * 2.0})) > 0.5


def test_periodic_pairs_and_derivatives():
    square = geometry.Rectangle([0.0, -1.0], [2.0, 1.0])
    bc = PeriodicBC(0, "x", derivative_order=1)
    bc.variables = ("x", "y")
    data = bc.resample(square, 20, seed=2)
    lo, hi = data["x_lo"], data["x_hi"]
    assert np.allclose(lo[:, 0], 0.0) and np.allclose(hi[:, 0], 2.0)
    np.testing.assert_array_equal(lo[:, 1], hi[:, 1])
    assert len(np.unique(lo[:, 1])) == 20
    periodic = Solution(lambda z: fg.sin(math.pi * z[:, 0]) * z[:, 1], variables=("x", "y"))
    r = bc.residual(periodic, tensors(data))
    assert r.shape == (40,) and max_abs(r) < 1e-12
    # values match but derivatives do not: cos(pi x / 2) ... use a kink-free non-periodic slope
    value_only = Solution(lambda z: z[:, 0] * (z[:, 0] - 2.0) * z[:, 1], variables=("x", "y"))
    r = bc.residual(value_only, tensors(data)).numpy()
    assert np.abs(r[:20]).max() < 1e-12 and np.abs(r[20:]).max() > 1e-3
    bc0 = PeriodicBC(0, 0)
    assert bc0.residual(value_only, tensors(data)).shape == (20,)


def test_initial_conditions_value_and_time_derivative():
    ic = IC(lambda x: np.sin(np.pi * x[:, 0]))
    data = ic.resample(SPACE_TIME, 16, seed=0)
    assert np.allclose(data["x"][:, 1], 0.0)
    assert max_abs(ic.residual(Solution(sin_exp), tensors(data))) < 1e-12
    ic_t = IC(lambda x: -np.sin(np.pi * x[:, 0]), derivative=1)
    data = tensors(ic_t.resample(SPACE_TIME, 16, seed=0))
    assert max_abs(ic_t.residual(Solution(sin_exp), data)) < 1e-12
    wrong = IC(lambda x: np.sin(np.pi * x[:, 0]), derivative=1)
    data = tensors(wrong.resample(SPACE_TIME, 16, seed=0))
    assert max_abs(wrong.residual(Solution(sin_exp), data)) > 0.1


def test_point_set_batches_and_components():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(50, 2))
    vals = np.stack([x[:, 0] + x[:, 1], x[:, 0] * x[:, 1]], axis=1)
    bc = PointSetBC(x, vals, component=["u", "v"], batch_size=10)
    a, b = bc.resample(None, 0, seed=1), bc.resample(None, 0, seed=2)
    assert a["x"].shape == (10, 2) and not np.array_equal(a["x"], b["x"])
    assert np.array_equal(bc.resample(None, 0, seed=1)["x"], a["x"])
    sol = Solution(
        lambda z: fg.stack([z[:, 0] + z[:, 1], z[:, 0] * z[:, 1]], axis=1), outputs=("u", "v")
    )
    r = bc.residual(sol, tensors(a))
    assert r.shape == (10, 2) and max_abs(r) < 1e-12
    one = PointSetBC(x, vals[:, 1:], component=1)  # (n, 1) values for one component
    assert max_abs(one.residual(sol, tensors(one.resample(None, 0)))) < 1e-12


def test_operator_bc_with_derivatives_on_boundary():
    bc = OperatorBC(lambda x, u: u.d("x") - fg.cos(x["x"]) * fg.exp(x["t"]))
    data = tensors(bc.resample(SPACE_TIME, 12, seed=0))
    sol = Solution(lambda z: fg.sin(z[:, 0]) * fg.exp(z[:, 1]))
    assert max_abs(bc.residual(sol, data)) < 1e-12
    with_param = OperatorBC(lambda x, u, params: u.d("xx") + params["a"] * u.value)
    r = with_param.residual(sol, data, {"a": fg.tensor(1.0, dtype="float64")})
    assert max_abs(r) < 1e-12


def test_same_seed_same_points_new_seed_new_points():
    bc = DirichletBC(value=0.0)
    a = bc.resample(SPACE_TIME, 10, seed=5)["x"]
    assert np.array_equal(a, bc.resample(SPACE_TIME, 10, seed=5)["x"])
    assert not np.array_equal(a, bc.resample(SPACE_TIME, 10, seed=6)["x"])
    assert DirichletBC(num_points=7).resample(SPACE_TIME, 10)["x"].shape == (7, 2)


def test_coefficient_kwargs():
    c = {"a": 1, "b": 2}
    assert coefficient_kwargs(lambda x, u: 0, c) == {}
    assert coefficient_kwargs(lambda x, u, a: 0, c) == {"a": 1}
    assert coefficient_kwargs(lambda x, u, **kw: 0, c) == c
    assert coefficient_kwargs(lambda x, u, params: 0, c) == {"params": c}
    assert coefficient_kwargs(lambda x, u: 0, {}) == {}


def test_condition_errors():
    with pytest.raises(TypeError, match="where must be"):
        DirichletBC(where=3)
    with pytest.raises(TypeError, match="g must be"):
        RobinBC()
    with pytest.raises(TypeError, match="sample_initial"):
        IC(0.0).resample(geometry.Interval(0, 1), 4)
    with pytest.raises(ValueError, match="derivative must be"):
        IC(0.0, derivative=2)
    with pytest.raises(ValueError, match="coordinate names"):
        PeriodicBC(0, "x").resample(SPACE_TIME, 4)
    with pytest.raises(ValueError, match="value gave shape"):
        DirichletBC(value=lambda x: np.zeros(3)).resample(SPACE_TIME, 5)
    with pytest.raises(RuntimeError, match="predicate kept 0"):
        DirichletBC(lambda x: x[:, 0] > 5.0).resample(SPACE_TIME, 5)
    with pytest.raises(ValueError, match="positive number of points"):
        DirichletBC().resample(SPACE_TIME, 0)
    with pytest.raises(ValueError, match="derivative_order"):
        PeriodicBC(0, 0, derivative_order=-1)
