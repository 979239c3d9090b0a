"""The public transforms: compositions to any order, pytrees, options and errors."""

import dataclasses

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _rules
from fieldgrad.fields import Primitive, ShapedArray


def f64(a):
    return fg.tensor(np.asarray(a, dtype=np.float64))


def test_grad_of_grad_of_grad():
    x = f64(0.7)
    d3 = fg.grad(fg.grad(fg.grad(lambda v: fg.sin(v) * v)))(x)
    # d3/dx3 of x sin x = -3 sin x - x cos x
    np.testing.assert_allclose(float(d3), -3 * np.sin(0.7) - 0.7 * np.cos(0.7), rtol=1e-12)


def test_jvp_of_grad_and_grad_of_jvp():
    x = f64([0.3, -1.2])
    v = f64([1.0, 2.0])
    f = lambda u: fg.sum(fg.tanh(u) ** 2)  # noqa: E731
    hv1 = fg.jvp(fg.grad(f), (x,), (v,))[1]
    hv2 = fg.grad(lambda u: fg.sum(fg.jvp(f, (u,), (v,))[1]))(x)
    H = fg.hessian(f)(x)
    np.testing.assert_allclose(hv1.numpy(), (H @ v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(hv2.numpy(), (H @ v).numpy(), rtol=1e-12)


def test_jacfwd_of_jacrev_equals_hessian_and_is_symmetric():
    A = f64(np.random.default_rng(0).standard_normal((3, 3)))
    f = lambda x: fg.sum(fg.exp(A @ x) * x)  # noqa: E731
    x = f64([0.1, 0.2, -0.3])
    H1 = fg.jacfwd(fg.jacrev(f))(x).numpy()
    H2 = fg.jacrev(fg.jacfwd(f))(x).numpy()
    np.testing.assert_allclose(H1, H2, rtol=1e-10)
    np.testing.assert_allclose(H1, H1.T, rtol=1e-10)


def test_vmap_of_grad_and_hessian_of_vmapped_function():
    xs = f64(np.random.default_rng(1).standard_normal((4, 3)))
    f = lambda x: fg.sum(fg.sin(x) * x)  # noqa: E731
    g = fg.vmap(fg.grad(f))(xs)
    want = np.stack([fg.grad(f)(xs[i]).numpy() for i in range(4)])
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-12)
    H = fg.hessian(lambda x: fg.sum(fg.vmap(f)(x)))(xs)
    assert H.shape == (4, 3, 4, 3)
    x = xs.numpy()
    diag = 2 * np.cos(x) - x * np.sin(x)
    np.testing.assert_allclose(np.einsum("ijij->ij", H.numpy()), diag, rtol=1e-10)


def test_jvp_is_linear_in_the_tangent_and_adjoint_identity():
    rng = np.random.default_rng(2)
    W = f64(rng.standard_normal((3, 4)))
    f = lambda x: fg.tanh(x @ W)  # noqa: E731
    x, u, v = (f64(rng.standard_normal(3)) for _ in range(3))
    ju = fg.jvp(f, (x,), (u,))[1]
    jv = fg.jvp(f, (x,), (v,))[1]
    juv = fg.jvp(f, (x,), (2.0 * u + 3.0 * v,))[1]
    np.testing.assert_allclose(juv.numpy(), (2.0 * ju + 3.0 * jv).numpy(), rtol=1e-12)
    w = f64(rng.standard_normal(4))
    (jtw,) = fg.vjp(f, x)[1](w)
    np.testing.assert_allclose(float(fg.sum(w * ju)), float(fg.sum(jtw * u)), rtol=1e-12)


@dataclasses.dataclass(frozen=True)
class Params:
    w: object
    b: object
    scale: float = 2.0


def test_pytrees_dicts_lists_and_dataclasses():
    p = Params(f64([1.0, 2.0]), f64(0.5))
    x = {"a": [f64(1.0), f64(2.0)], "c": f64(3.0)}

    def loss(p, x):
        return p.scale * fg.sum(p.w * x["a"][0] + p.w * x["a"][1] * x["c"]) + p.b

    gp, gx = fg.grad(loss, argnums=(0, 1))(p, x)
    assert isinstance(gp, Params) and gp.scale == 2.0
    np.testing.assert_allclose(gp.w.numpy(), [2 * (1 + 6)] * 2)
    assert float(gp.b) == 1.0
    assert set(gx) == {"a", "c"} and len(gx["a"]) == 2
    np.testing.assert_allclose(float(gx["c"]), 2.0 * (1 + 2) * 2.0)


def test_value_and_grad_has_aux_and_argnums():
    f = lambda x, y: (fg.sum(x * y), {"norm": fg.sum(x * x)})  # noqa: E731
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    (val, aux), g = fg.value_and_grad(f, argnums=1, has_aux=True)(x, y)
    assert float(val) == 11.0 and float(aux["norm"]) == 5.0
    np.testing.assert_allclose(g.numpy(), [1.0, 2.0])
    g2, aux2 = fg.grad(f, has_aux=True)(x, y)
    np.testing.assert_allclose(g2.numpy(), [3.0, 4.0])


def test_linearize_hvp_and_stop_gradient():
    x = f64([0.5, 1.5])
    y, lin = fg.linearize(fg.sin, x)
    np.testing.assert_allclose(lin(f64([1.0, 1.0])).numpy(), np.cos([0.5, 1.5]))
    g, hv = fg.hvp(lambda v: fg.sum(v**4), (x,), (f64([1.0, 0.0]),))
    np.testing.assert_allclose(hv.numpy(), [12 * 0.25, 0.0])
    d = fg.grad(lambda v: fg.sum(v * fg.stop_gradient(v)))(x)
    np.testing.assert_allclose(d.numpy(), x.numpy())
    assert float(fg.jvp(fg.stop_gradient, (x,), (x,))[1].sum()) == 0.0


def test_diamond_and_unused_inputs():
    def f(x, y, z):
        a = fg.sin(x)
        return fg.sum(a * a + a * x)  # x used on two paths, y and z unused

    gx, gy, gz = fg.grad(f, argnums=(0, 1, 2))(f64([0.3]), f64([1.0, 2.0]), f64(4.0))
    np.testing.assert_allclose(
        gx.numpy(), [2 * np.sin(0.3) * np.cos(0.3) + np.cos(0.3) * 0.3 + np.sin(0.3)]
    )
    assert gy.shape == (2,) and float(fg.sum(fg.abs(gy))) == 0.0 and gz.shape == ()


def test_broadcast_input_gradient_has_input_shape():
    g = fg.grad(lambda b, x: fg.sum(x + b), argnums=0)(f64([1.0, 2.0, 3.0]), f64(np.ones((4, 3))))
    np.testing.assert_allclose(g.numpy(), [4.0, 4.0, 4.0])


def test_long_chain_has_no_recursion_error():
    x = f64(1.0)

    def f(v):
        for _ in range(10_000):
            v = v * 1.0001
        return v

    np.testing.assert_allclose(float(fg.grad(f)(x)), 1.0001**10_000, rtol=1e-9)


def test_float32_stays_float32():
    x = fg.tensor([1.0, 2.0])
    assert fg.grad(lambda v: fg.sum(fg.exp(v)))(x).dtype == fg.float32
    assert fg.jvp(fg.exp, (x,), (x,))[1].dtype == fg.float32


def test_errors():
    with pytest.raises(TypeError, match="int32"):
        fg.grad(lambda v: fg.sum(v * 2.0))(fg.tensor([1, 2]))
    with pytest.raises(TypeError, match="scalar"):
        fg.grad(lambda v: v * 2.0)(f64([1.0, 2.0]))
    with pytest.raises(ValueError, match="shape"):
        fg.jvp(fg.sin, (f64([1.0, 2.0]),), (f64([1.0]),))
    with pytest.raises(TypeError, match="tuples"):
        fg.jvp(fg.sin, f64(1.0), f64(1.0))
    with pytest.raises(ValueError, match="argnums"):
        fg.grad(lambda v: fg.sum(v), argnums=3)(f64(1.0))


def test_missing_rule_names_primitive_and_transform():
    p = Primitive("test_no_rules", lambda x: x, lambda a: ShapedArray(a.shape, a.dtype))
    try:
        with pytest.raises(NotImplementedError, match="'test_no_rules' has no vjp rule"):
            fg.grad(lambda v: fg.sum(p.bind(v)))(f64([1.0]))
        with pytest.raises(NotImplementedError, match="'test_no_rules' has no jvp rule"):
            fg.jvp(lambda v: p.bind(v), (f64([1.0]),), (f64([1.0]),))
    finally:
        del fg.fields._core._registry["test_no_rules"]
    assert not _rules.has_rule("vjp", p)


def test_every_primitive_has_rules_or_is_marked_nondiff():
    from fieldgrad.fields import _core

    missing = []
    for name, prim in _core.primitives().items():
        if name.startswith("test_") or _rules.is_nondiff(prim):
            continue
        for t in ("jvp", "vjp"):
            if not _rules.has_rule(t, prim):
                missing.append(f"{name}:{t}")
    assert not missing, f"primitives without rules: {missing}"


def test_has_aux_returns_values_not_tracers_and_nests():
    x = fg.tensor([1.0, 2.0], dtype="float64")

    def f(x):
        y = fg.sin(x)
        return y.sum(), {"y": y}

    (_, aux), _ = fg.value_and_grad(f, has_aux=True)(x)
    assert isinstance(aux["y"], fg.Tensor)
    np.testing.assert_allclose(aux["y"].numpy(), np.sin([1.0, 2.0]))

    def outer(x):  # the aux of an inner gradient is still differentiable by an outer one
        (_, aux), _ = fg.value_and_grad(f, has_aux=True)(x)
        return aux["y"].sum()

    np.testing.assert_allclose(fg.grad(outer)(x).numpy(), np.cos([1.0, 2.0]))
