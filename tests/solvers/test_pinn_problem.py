"""Problem: terms and weights, exact solutions give zero loss, gradients of the loss against
finite differences (network parameters and PDE coefficients), jit, points and errors."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.solvers.pinn import IC, DirichletBC, PointSetBC, Problem, causal_loss, geometry

LINE = geometry.Interval(0.0, 1.0)
SPACE_TIME = geometry.GeometryXTime(geometry.Interval(-1.0, 1.0), geometry.TimeDomain(0.0, 1.0))


def poisson():
    # u'' = -2 on [0, 1], u(0) = u(1) = 0: u = x (1 - x)
    return Problem(
        LINE,
        lambda x, u: u.d("xx") + 2.0,
        [DirichletBC(value=0.0)],
        num_domain=20,
        num_boundary=2,
        variables=("x",),
    )


def exact_poisson(z):
    return z[:, 0] * (1.0 - z[:, 0])


def params(width=5, d_in=2, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "w1": fg.tensor(rng.normal(0, 0.7, (d_in, width))),
        "b1": fg.tensor(rng.normal(0, 0.2, (width,))),
        "w2": fg.tensor(rng.normal(0, 0.7, (width, 1))),
    }


def mlp(p):
    return lambda z: fg.matmul(fg.tanh(fg.matmul(z, p["w1"]) + p["b1"]), p["w2"])


def diffusion_problem(**kw):
    def pde(x, u):
        s = fg.sin(math.pi * x["x"])
        return u.d("t") - u.d("xx") + fg.exp(-x["t"]) * (s - math.pi**2 * s)

    return Problem(
        SPACE_TIME,
        pde,
        [IC(lambda x: np.sin(np.pi * x[:, 0])), DirichletBC()],
        num_domain=24,
        num_boundary=8,
        num_initial=8,
        **kw,
    )


def test_exact_solution_has_zero_loss_and_wrong_one_does_not():
    prob = poisson()
    total, terms = prob.loss(exact_poisson, {}, prob.points("float64"))
    assert set(terms) == {"pde", "dirichlet"} and float(total) < 1e-20
    total, terms = prob.loss(lambda z: z[:, 0] ** 2, {}, prob.points("float64"))
    assert float(terms["pde"]) == pytest.approx(16.0) and float(terms["dirichlet"]) > 0.1


def test_weights_fixed_and_given():
    prob = diffusion_problem(loss_weights={"ic": 10.0})
    assert prob.term_names == ["pde", "ic", "dirichlet"]
    assert prob.loss_weights() == {"pde": 1.0, "ic": 10.0, "dirichlet": 1.0}
    p = params()
    total, terms = prob.loss(mlp(p), {}, prob.points("float64"))
    want = float(terms["pde"]) + 10 * float(terms["ic"]) + float(terms["dirichlet"])
    assert float(total) == pytest.approx(want, rel=1e-12)
    total2, _ = prob.loss(
        mlp(p), {}, prob.points("float64"), {"pde": 0.0, "ic": 1.0, "dirichlet": 2.0}
    )
    assert float(total2) == pytest.approx(float(terms["ic"]) + 2 * float(terms["dirichlet"]))
    assert diffusion_problem(loss_weights=[1, 2, 3]).loss_weights()["dirichlet"] == 3.0


def test_system_terms_and_unique_condition_names():
    prob = Problem(
        LINE,
        lambda x, out: [out["u"].d("x") - out["v"].value, out["v"].d("x")],
        [DirichletBC(value=0.0), DirichletBC(value=1.0, component="v")],
        num_domain=8,
        num_boundary=2,
        variables=("x",),
        outputs=("u", "v"),
    )
    assert prob.term_names == ["pde0", "pde1", "dirichlet_0", "dirichlet_1"]
    net = lambda z: fg.stack([z[:, 0], fg.ones_like(z[:, 0])], axis=1)  # noqa: E731
    total, terms = prob.loss(net, {}, prob.points("float64"))
    assert float(terms["pde0"]) < 1e-20 and float(terms["pde1"]) < 1e-20
    assert float(terms["dirichlet_1"]) < 1e-20 and float(terms["dirichlet_0"]) == 0.5


def test_loss_gradient_matches_finite_differences_and_jit():
    prob = diffusion_problem()
    pts = prob.points("float64")

    def loss(p):
        return prob.loss(mlp(p), {}, pts)[0]

    fg.check_grads(loss, (params(width=4),), order=1, modes=("rev",))
    g_eager = fg.grad(loss)(params())
    g_jit = fg.jit(fg.grad(loss))(params())
    for k in g_eager:
        np.testing.assert_allclose(g_jit[k].numpy(), g_eager[k].numpy(), rtol=1e-10, atol=1e-13)
    jl = fg.jit(lambda p, pts: prob.loss(mlp(p), {}, pts))
    t1, terms1 = jl(params(), pts)
    t0, terms0 = prob.loss(mlp(params()), {}, pts)
    assert float(t1) == pytest.approx(float(t0), rel=1e-12)


def test_inverse_coefficients_as_keywords_or_params_dict():
    def pde_kw(x, u, lam):  # u'' + lam pi^2 u = 0, solved by sin(pi x) with lam = 1
        return u.d("xx") + u.value * lam * math.pi**2

    def pde_dict(x, u, params):
        return u.d("xx") + u * params["lam"] * math.pi**2

    xs = np.linspace(0, 1, 9)[:, None]

    def sol(z):
        return fg.sin(math.pi * z[:, 0])

    data = PointSetBC(xs, np.sin(np.pi * xs[:, 0]))
    for pde in (pde_kw, pde_dict):
        prob = Problem(LINE, pde, [data], num_domain=16, variables=("x",), parameters={"lam": 1.0})
        pts = prob.points("float64")
        coeffs = prob.coefficients("float64")
        assert float(prob.loss(sol, coeffs, pts)[0]) < 1e-20
        lam = fg.tensor(1.3, dtype="float64")
        f = lambda lam, prob=prob, pts=pts: prob.loss(sol, {"lam": lam}, pts)[0]  # noqa: E731
        fg.check_grads(f, (lam,), order=1)
        assert float(fg.grad(f)(lam)) > 0


def test_causal_loss_term_matches_formula():
    prob = diffusion_problem()
    pts = prob.points("float64")
    net = mlp(params())
    eps = 0.7
    _, terms = prob.loss(net, {}, pts, causal=(4, eps))
    r = prob.pde_residuals(net, pts["pde"]["x"])[0].numpy()
    t = pts["pde"]["x"].numpy()[:, 1]
    idx = np.minimum((t * 4).astype(int), 3)
    L = np.array([np.mean(r[idx == i] ** 2) for i in range(4)])
    w = np.exp(-eps * np.concatenate([[0.0], np.cumsum(L)[:-1]]))
    assert float(terms["pde"]) == pytest.approx(np.mean(w * L), rel=1e-10)
    val, weights = causal_loss(fg.tensor(r**2), fg.tensor(t), 4, eps, 0.0, 1.0)
    np.testing.assert_allclose(weights.numpy(), w, rtol=1e-10)


def test_resample_anchors_and_residual_at_points():
    prob = poisson()
    a = prob.data["pde"]["x"].copy()
    assert a.shape == (20, 1) and prob.seed == 0
    prob.resample(7)
    b = prob.data["pde"]["x"].copy()
    assert not np.array_equal(a, b)
    prob.resample(0)
    np.testing.assert_array_equal(prob.data["pde"]["x"], a)
    prob.add_anchors(np.array([[0.25], [0.75]]))
    assert prob.data["pde"]["x"].shape == (22, 1)
    prob.resample()
    assert prob.seed == 1 and prob.data["pde"]["x"].shape == (22, 1)
    np.testing.assert_array_equal(prob.data["pde"]["x"][-2:], [[0.25], [0.75]])
    (r,) = prob.pde_residuals(lambda z: z[:, 0] ** 3, fg.tensor([[0.5], [1.0]], dtype="float64"))
    np.testing.assert_allclose(r.numpy(), [5.0, 8.0])


def test_output_transform_makes_boundary_term_vanish():
    prob = Problem(
        LINE,
        lambda x, u: u.d("xx") + 2.0,
        [DirichletBC(value=0.0)],
        num_domain=8,
        num_boundary=2,
        variables=("x",),
        output_transform=lambda x, y: x["x"] * (1.0 - x["x"]) * y,
    )
    p = params(d_in=1)
    _, terms = prob.loss(mlp(p), {}, prob.points("float64"))
    assert float(terms["dirichlet"]) < 1e-25 and float(terms["pde"]) > 1e-6


def test_problem_errors():
    pde = lambda x, u: u.d("xx")  # noqa: E731
    with pytest.raises(ValueError, match="dimension 1"):
        Problem(LINE, pde, num_domain=4)
    with pytest.raises(ValueError, match="num_domain"):
        Problem(LINE, pde, num_domain=0, variables=("x",))
    with pytest.raises(TypeError, match="Conditions"):
        Problem(LINE, pde, [lambda x: x], num_domain=4, variables=("x",))
    with pytest.raises(TypeError, match="pde must be"):
        Problem(LINE, None, num_domain=4, variables=("x",))
    with pytest.raises(ValueError, match="unknown terms"):
        Problem(LINE, pde, num_domain=4, variables=("x",), loss_weights={"bc": 1}).loss_weights()
    with pytest.raises(ValueError, match="2 weights for 1 terms"):
        Problem(LINE, pde, num_domain=4, variables=("x",), loss_weights=[1, 2]).loss_weights()
    with pytest.raises(ValueError, match="num_boundary"):
        Problem(LINE, pde, [DirichletBC()], num_domain=4, variables=("x",))
