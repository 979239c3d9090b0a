"""The residual API: derivatives by name against closed forms, fg.hessian and finite
differences; multi-output fields; vector operators; jit; gradients of a loss."""

import doctest
import importlib

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.solvers.pinn import (
    Field,
    Points,
    Solution,
    divergence,
    gradient,
    laplacian,
    multi_index,
    partial_derivatives,
)
from fieldgrad.solvers.pinn._field import _plan

RNG = np.random.default_rng(0)


def pts(n=6, d=2, dtype="float64"):
    return fg.tensor(RNG.uniform(-1.0, 1.0, (n, d)), dtype=dtype)


def tiny_params(d_in=2, width=8, d_out=1, seed=1):
    rng = np.random.default_rng(seed)
    return [
        fg.tensor(rng.normal(0, 0.8, (d_in, width))),
        fg.tensor(rng.normal(0, 0.3, (width,))),
        fg.tensor(rng.normal(0, 0.8, (width, d_out))),
    ]


def tiny_net(params, z):
    w1, b1, w2 = params
    return fg.matmul(fg.tanh(fg.matmul(z, w1) + b1), w2)


def test_sin_exp_closed_form_all_orders():
    x = pts()
    sol = Solution(lambda z: fg.sin(z[:, 0]) * fg.exp(z[:, 1]), variables=("x", "t"))
    specs = ["x", "xx", "t", "tt", "xt", "tx", "xxt", "xtt", ("x", 3), ("x", 4)]
    got = sol.apply(
        lambda x, u: [u.value] + [u.d(*s) if isinstance(s, tuple) else u.d(s) for s in specs], x
    )
    a = x.numpy()
    s, c, e = np.sin(a[:, 0]), np.cos(a[:, 0]), np.exp(a[:, 1])
    want = [s * e, c * e, -s * e, s * e, s * e, c * e, c * e, -s * e, c * e, -c * e, s * e]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-11, atol=1e-12)


def test_polynomial_mixed_partials_three_variables():
    # u = x^3 y^2 t + x y^3 t^2: mixed partials of orders 2, 3 and 4 by polarisation.
    x = pts(5, 3)
    sol = Solution(
        lambda z: z[:, 0] ** 3 * z[:, 1] ** 2 * z[:, 2] + z[:, 0] * z[:, 1] ** 3 * z[:, 2] ** 2,
        variables=("x", "y", "t"),
    )
    got = sol.apply(lambda x, u: [u.d("xy"), u.d("xxy"), u.d("xyt"), u.d("xxyy"), u.d("yt")], x)
    X, Y, T = x.numpy().T
    want = [
        6 * X**2 * Y * T + 3 * Y**2 * T**2,
        12 * X * Y * T,
        6 * X**2 * Y + 6 * Y**2 * T,
        12 * X * T,
        2 * X**3 * Y + 6 * X * Y**2 * T,
    ]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-10)


def test_tiny_net_second_derivatives_match_hessian():
    params = tiny_params()
    x = pts(4)
    sol = Solution(lambda z: tiny_net(params, z), variables=("x", "t"))
    got = sol.apply(lambda x, u: [u.d("xx"), u.d("xt"), u.d("tt"), u.d("x"), u.d("t")], x)
    for i in range(4):
        p = x[i]
        h = fg.hessian(lambda q: tiny_net(params, fg.reshape(q, (1, 2)))[0, 0])(p).numpy()
        g = fg.grad(lambda q: tiny_net(params, fg.reshape(q, (1, 2)))[0, 0])(p).numpy()
        np.testing.assert_allclose(
            [got[0][i], got[1][i], got[2][i]], [h[0, 0], h[0, 1], h[1, 1]], rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose([got[3][i], got[4][i]], g, rtol=1e-10, atol=1e-12)


def test_float32_mixed_partial_is_accurate():
    p64 = tiny_params()
    p32 = [fg.astype(w, "float32") for w in p64]
    x = pts(16)
    want = Solution(lambda z: tiny_net(p64, z)).apply(lambda x, u: u.d("xt"), x).numpy()
    got = (
        Solution(lambda z: tiny_net(p32, z))
        .apply(lambda x, u: u.d("xt"), fg.astype(x, "float32"))
        .numpy()
    )
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=2e-5 * np.abs(want).max())


def test_plan_uses_one_jet_per_axis_and_polarisation():
    orders, recipes = _plan(frozenset({(1, 0), (2, 0), (0, 1), (0, 0)}))
    assert orders == {(1, 0): 2, (0, 1): 1}  # Burgers: one order-2 jet in x, one jvp in t
    orders, recipes = _plan(frozenset({(1, 1)}))
    assert orders == {(1, 0): 2, (0, 1): 2, (1, 1): 2}
    assert sorted(recipes[(1, 1)]) == [((0, 1), -0.5, 2), ((1, 0), -0.5, 2), ((1, 1), 0.5, 2)]
    orders, _ = _plan(frozenset({(2, 1), (1, 0)}))  # 2 e_x shares the e_x direction
    assert orders == {(1, 0): 3, (0, 1): 3, (1, 1): 3, (2, 1): 3}


def test_network_called_once_per_direction_and_shared_by_outputs():
    calls = []

    def net(z):
        calls.append(1)
        return fg.stack([fg.sin(z[:, 0]) * z[:, 1], z[:, 0] * z[:, 1] ** 2], axis=1)

    sol = Solution(net, variables=("x", "t"), outputs=("u", "v"))

    def burgers_like(x, out):
        u, v = out
        return [u.d("t") + u * u.d("x") - u.d("xx"), v.d("t") - v.d("xx")]

    x = pts(5)
    sol.apply(burgers_like, x)
    assert len(calls) == 2  # one jvp along t and one order-2 jet along x, for both outputs
    r_u, r_v = sol.apply(burgers_like, x)
    X, T = x.numpy().T
    np.testing.assert_allclose(
        r_u.numpy(), np.sin(X) + np.sin(X) * T * np.cos(X) * T + np.sin(X) * T, rtol=1e-12
    )
    np.testing.assert_allclose(r_v.numpy(), 2 * X * T, rtol=1e-12)


def test_multi_output_fields_by_name_and_vector_operators():
    x = pts(4, 3)

    def net(z):  # (u, v, p) = (x^2 y, x y^2, sin x cos y) with a time variable
        X, Y = z[:, 0], z[:, 1]
        return fg.stack([X**2 * Y * z[:, 2], X * Y**2, fg.sin(X) * fg.cos(Y)], axis=1)

    sol = Solution(net, variables=("x", "y", "t"), outputs=("u", "v", "p"))

    def fn(x, out):
        u, v, p = out
        assert out["p"] is p and out.names == ("u", "v", "p") and isinstance(u, Field)
        return [divergence([u, v]), gradient(p), laplacian(p), laplacian(u), u.d("t")]

    div, grad, lap, lap_u, u_t = sol.apply(fn, x)
    X, Y, T = x.numpy().T
    np.testing.assert_allclose(div.numpy(), 2 * X * Y * T + 2 * X * Y, rtol=1e-12)
    assert grad.shape == (4, 2)  # spatial coordinates only
    np.testing.assert_allclose(
        grad.numpy(), np.stack([np.cos(X) * np.cos(Y), -np.sin(X) * np.sin(Y)], 1), rtol=1e-12
    )
    np.testing.assert_allclose(lap.numpy(), -2 * np.sin(X) * np.cos(Y), rtol=1e-12)
    np.testing.assert_allclose(lap_u.numpy(), 2 * Y * T, rtol=1e-12)
    np.testing.assert_allclose(u_t.numpy(), X**2 * Y, rtol=1e-12)


def test_field_arithmetic_and_points():
    x = pts(3)
    sol = Solution(lambda z: z[:, 0] + 2.0 * z[:, 1])

    def fn(x, u):
        assert isinstance(x, Points) and x.names == ("x", "t")
        return [
            u + 1.0,
            1.0 - u,
            2.0 * u,
            u / 2.0,
            u**2,
            -u,
            abs(u),
            u * x["t"],
            np.float64(2) * u,
            x.t,
        ]

    out = sol.apply(fn, x)
    v = x.numpy()[:, 0] + 2 * x.numpy()[:, 1]
    want = [
        v + 1,
        1 - v,
        2 * v,
        v / 2,
        v**2,
        -v,
        abs(v),
        v * x.numpy()[:, 1],
        2 * v,
        x.numpy()[:, 1],
    ]
    for g, w in zip(out, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-12)


def test_field_mixes_with_tensors_on_either_side_and_in_functions():
    sol = Solution(lambda z: z[:, 0])
    p = pts(2)
    got = sol.apply(lambda x, u: [fg.sin(u), x["x"] * u, fg.sin(u.value) + u * x["x"]], p)
    xs = p.numpy()[:, 0]
    for g, w in zip(got, [np.sin(xs), xs * xs, np.sin(xs) + xs * xs]):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-12)
    with pytest.raises(TypeError, match=r"u.value"):
        sol.apply(lambda x, u: np.asarray(u), p)


def test_multi_index_parsing_and_errors():
    assert multi_index("x") == (1, 0)
    assert multi_index("txx") == (2, 1)
    assert multi_index("xt", 2) == (2, 2)
    assert multi_index(("x", "t")) == (1, 1)
    assert multi_index((0, 3)) == (0, 3)
    v = ("x1", "x2", "t")
    assert multi_index("x1x1", variables=v) == (2, 0, 0)
    assert multi_index("x1 x2", variables=v) == (1, 1, 0)
    assert multi_index("x2,t", variables=v) == (0, 1, 1)
    with pytest.raises(ValueError, match="coordinates are"):
        multi_index("xy")
    with pytest.raises(ValueError, match="empty"):
        multi_index("")
    with pytest.raises(ValueError, match="order"):
        multi_index("x", 0)
    with pytest.raises(ValueError, match="non-negative"):
        multi_index((1, 2, 3))
    with pytest.raises(TypeError, match="derivative spec"):
        multi_index(3.5)


def test_solution_errors():
    sol = Solution(lambda z: fg.stack([z[:, 0], z[:, 1]], axis=1))
    with pytest.raises(ValueError, match=r"expected \(3, 1\)"):
        sol(pts(3))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        Solution(lambda z: z[:, 0])(pts(3, 3))
    with pytest.raises(ValueError, match="distinct"):
        Solution(lambda z: z, variables=("x", "x"))
    with pytest.raises(TypeError, match="callable"):
        Solution(3.0)
    sol = Solution(lambda z: z[:, 0])
    with pytest.raises(ValueError, match="one field per spatial"):
        sol.apply(lambda x, u: divergence([u, u]), pts(2))
    with pytest.raises(ValueError, match="unknown output"):
        sol.component("v")
    with pytest.raises(KeyError, match="unknown coordinate"):
        sol.apply(lambda x, u: x["y"], pts(2))


def test_output_transform_hard_constraint():
    # u = x (1 - x) N(x, t) vanishes at x = 0 and 1 whatever N is.
    sol = Solution(
        lambda z: fg.exp(z[:, 1]) + z[:, 0],
        output_transform=lambda x, y: x["x"] * (1.0 - x["x"]) * y,
    )
    x = fg.tensor([[0.0, 0.3], [1.0, -0.2], [0.5, 0.1]], dtype="float64")
    u, u_xx = sol.apply(lambda x, u: [u.value, u.d("xx")], x)
    assert abs(u.numpy()[0]) < 1e-15 and abs(u.numpy()[1]) < 1e-15
    X, T = x.numpy().T
    # (x - x^2)(e^t + x): second derivative in x is -2 e^t + 2 - 6x
    np.testing.assert_allclose(u_xx.numpy(), -2 * np.exp(T) + 2 - 6 * X, rtol=1e-12)


def test_partial_derivatives_table():
    f = lambda z: fg.stack([z[:, 0] ** 2 * z[:, 1], z[:, 1] ** 3], axis=1)  # noqa: E731
    x = pts(3)
    d = partial_derivatives(f, x, [(1, 1), (0, 2)])
    X, T = x.numpy().T
    np.testing.assert_allclose(d[(0, 0)].numpy(), np.stack([X**2 * T, T**3], 1), rtol=1e-12)
    np.testing.assert_allclose(d[(1, 1)].numpy()[:, 0], 2 * X, rtol=1e-12)
    np.testing.assert_allclose(d[(0, 2)].numpy(), np.stack([0 * X, 6 * T], 1), atol=1e-12)


def test_residual_under_jit_matches_eager_and_traces_once():
    params = tiny_params()
    nu = 0.01 / np.pi

    def residual(params, x):
        sol = Solution(lambda z: tiny_net(params, z))
        return sol.apply(lambda x, u: u.d("t") + u * u.d("x") - nu * u.d("xx"), x)

    x = pts(32)
    eager = residual(params, x).numpy()
    jitted = fg.jit(residual)
    np.testing.assert_allclose(jitted(params, x).numpy(), eager, rtol=1e-12, atol=1e-14)
    x2 = pts(32)
    np.testing.assert_allclose(
        jitted(params, x2).numpy(), residual(params, x2).numpy(), rtol=1e-12, atol=1e-14
    )
    assert jitted.cache_info()["misses"] == 1


def test_loss_gradient_wrt_params_matches_finite_differences():
    x = pts(8)

    def loss(params):
        sol = Solution(lambda z: tiny_net(params, z))
        r = sol.apply(lambda x, u: u.d("t") + u * u.d("x") - 0.1 * u.d("xx") + u.d("xt"), x)
        return fg.mean(r * r)

    fg.check_grads(loss, (tiny_params(width=4),), order=1, modes=("rev", "fwd"))
    g = fg.jit(fg.grad(loss))(tiny_params(width=4))
    g0 = fg.grad(loss)(tiny_params(width=4))
    for a, b in zip(fg.tree_leaves(g), fg.tree_leaves(g0)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    "name",
    [
        "_field",
        "_field_types",
        "_conditions",
        "_problem",
        "_weighting",
        "_sampling",
        "_postprocess",
        "_trainer",
    ],
)
def test_docstring_examples(name):
    mod = importlib.import_module(f"fieldgrad.solvers.pinn.{name}")
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(mod, optionflags=flags)
    assert result.attempted > 0 and result.failed == 0
