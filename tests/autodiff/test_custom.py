"""custom_jvp and custom_vjp: the rules are used, compose with every transform, and misuse
raises clear errors."""

import numpy as np
import pytest

import fieldgrad as fg


def f64(x):
    return fg.tensor(np.asarray(x, dtype=np.float64))


# --- custom_jvp -------------------------------------------------------------------------------


def _softplus_custom():
    """softplus(x) = log(1 + exp(x)) with the stable derivative logistic(x)."""

    @fg.custom_jvp
    def softplus(x):
        return fg.log(1.0 + fg.exp(x))

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + fg.exp(-x))

    return softplus


def test_custom_jvp_rule_is_used_in_forward_and_reverse_mode():
    @fg.custom_jvp
    def f(x):
        return fg.sin(x)

    @f.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 3.0 * t  # deliberately not cos(x): the rule must win

    x = f64([0.2, 0.7])
    assert np.allclose(f(x).numpy(), np.sin([0.2, 0.7]))
    _, t = fg.jvp(f, (x,), (f64([1.0, 2.0]),))
    assert np.allclose(t.numpy(), [3.0, 6.0])
    g = fg.grad(lambda v: fg.sum(f(v)))(x)
    assert np.allclose(g.numpy(), [3.0, 3.0])


def test_custom_jvp_every_order_against_finite_differences():
    softplus = _softplus_custom()
    fg.check_grads(softplus, (f64([-1.5, 0.3, 2.0]),), order=3, modes=("fwd", "rev"))


def test_custom_jvp_higher_derivatives_match_closed_form():
    softplus = _softplus_custom()
    x = 0.4
    s = 1.0 / (1.0 + np.exp(-x))
    d2 = fg.grad(fg.grad(softplus))(f64(x))
    assert np.isclose(float(d2), s * (1 - s))
    # forward over reverse and reverse over forward agree
    _, d2_fwd = fg.jvp(fg.grad(softplus), (f64(x),), (f64(1.0),))
    d2_rev = fg.grad(lambda v: fg.jvp(softplus, (v,), (f64(1.0),))[1])(f64(x))
    assert np.isclose(float(d2_fwd), s * (1 - s)) and np.isclose(float(d2_rev), s * (1 - s))


def test_custom_jvp_stable_where_the_plain_derivative_is_nan():
    @fg.custom_jvp
    def safe_norm(v):
        return fg.sqrt(fg.sum(v * v))

    @safe_norm.defjvp
    def _(primals, tangents):
        (v,), (t,) = primals, tangents
        n = safe_norm(v)
        scale = fg.where(n == 0.0, 0.0, 1.0 / fg.where(n == 0.0, 1.0, n))
        return n, fg.sum(v * t) * scale

    g = fg.grad(safe_norm)(f64([0.0, 0.0]))
    assert np.all(np.isfinite(g.numpy())) and np.allclose(g.numpy(), 0.0)
    g = fg.grad(safe_norm)(f64([3.0, 4.0]))
    assert np.allclose(g.numpy(), [0.6, 0.8])


def test_custom_jvp_pytrees_integer_inputs_and_nondiff_argnums():
    def f(scale, xs, n):
        a, b = xs["a"], xs["b"]
        return {"s": scale * a * b, "n": n * 2}

    cf = fg.custom_jvp(f, nondiff_argnums=(0,))
    seen = {}

    @cf.defjvp
    def _(scale, primals, tangents):
        xs, n = primals
        txs, tn = tangents
        seen["tn"] = tn
        out = cf(scale, xs, n)
        ta = scale * (txs["a"] * xs["b"] + xs["a"] * txs["b"])
        return out, {"s": ta, "n": None}

    xs = {"a": f64([1.0, 2.0]), "b": f64([3.0, 4.0])}
    n = fg.tensor([1, 2], dtype="int32")
    out = cf(5.0, xs, n)
    assert out["n"].tolist() == [2, 4]
    g = fg.grad(lambda xs: fg.sum(cf(5.0, xs, n)["s"]))(xs)
    assert np.allclose(g["a"].numpy(), [15.0, 20.0]) and np.allclose(g["b"].numpy(), [5.0, 10.0])
    assert seen["tn"] is None  # integer inputs get no tangent
    fg.check_grads(lambda xs: cf(5.0, xs, n)["s"], (xs,), order=2)


def test_custom_jvp_keyword_arguments_and_defjvps():
    f = fg.custom_jvp(lambda x, y=2.0: x * y)
    f.defjvps(lambda tx, ans, x, y: tx * y, lambda ty, ans, x, y: x * ty)
    assert float(f(f64(3.0), y=f64(4.0))) == 12.0
    gx, gy = fg.grad(f, argnums=(0, 1))(f64(3.0), f64(4.0))
    assert float(gx) == 4.0 and float(gy) == 3.0


def test_custom_jvp_under_vmap_and_jet():
    softplus = _softplus_custom()
    xs = f64([-1.0, 0.5, 2.0])
    assert np.allclose(fg.vmap(softplus)(xs).numpy(), np.log1p(np.exp(xs.numpy())))
    g = fg.vmap(fg.grad(softplus))(xs)
    assert np.allclose(g.numpy(), 1 / (1 + np.exp(-xs.numpy())))
    x = 0.3
    s = 1.0 / (1.0 + np.exp(-x))
    _, (d1, d2) = fg.jet(softplus, (f64(x),), ([f64(1.0), f64(0.0)],))
    assert np.isclose(float(d1), s) and np.isclose(float(d2), s * (1 - s))


def test_custom_jvp_errors():
    f = fg.custom_jvp(lambda x: x * 2.0)
    with pytest.raises(AttributeError, match="defjvp"):
        f(f64(1.0))
    f.defjvp(lambda p, t: (p[0] * 2.0, fg.ones((3,), dtype="float64")))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(\)"):
        fg.jvp(f, (f64(1.0),), (f64(1.0),))
    f.defjvp(lambda p, t: p[0] * 2.0)
    with pytest.raises(TypeError, match="must return a pair"):
        fg.jvp(f, (f64(1.0),), (f64(1.0),))
    f.defjvp(lambda p, t: (p[0] * 2.0, (t[0], t[0])))
    with pytest.raises(TypeError, match="structure"):
        fg.jvp(f, (f64(1.0),), (f64(1.0),))
    h = fg.custom_jvp(lambda x, s: x)
    h.defjvp(lambda p, t: (p[0], t[0]))
    with pytest.raises(TypeError, match="nondiff_argnums"):
        h(f64(1.0), "label")


def test_custom_jvp_closure_over_a_traced_value_is_an_error():
    def outer(c):
        g = fg.custom_jvp(lambda x: x * c)
        g.defjvp(lambda p, t: (p[0] * c, t[0] * c))
        return g(f64(2.0))

    with pytest.raises(TypeError, match="closed-over tracer"):
        fg.grad(outer)(f64(3.0))


# --- custom_vjp -------------------------------------------------------------------------------


def _clip_gradient():
    calls = {"fwd": 0, "bwd": 0}

    @fg.custom_vjp
    def clip_gradient(x):
        return x

    def fwd(x):
        calls["fwd"] += 1
        return x, None

    def bwd(_, g):
        calls["bwd"] += 1
        return (fg.clip(g, -1.0, 1.0),)

    clip_gradient.defvjp(fwd, bwd)
    return clip_gradient, calls


def test_custom_vjp_rule_is_used_once_per_pass():
    clip, calls = _clip_gradient()
    x = f64([1.0, -2.0])
    assert np.allclose(clip(x).numpy(), [1.0, -2.0])
    assert calls == {"fwd": 0, "bwd": 0}  # eager calls run the function itself
    g = fg.grad(lambda v: fg.sum(5.0 * clip(v)))(x)
    assert np.allclose(g.numpy(), [1.0, 1.0])
    assert calls == {"fwd": 1, "bwd": 1}


def test_custom_vjp_bwd_in_fieldgrad_ops_is_differentiable_again():
    @fg.custom_vjp
    def f(x, y):
        return fg.sin(x) * y

    def fwd(x, y):  # the output in fieldgrad ops (not f itself), so jvp can trace fwd
        return fg.sin(x) * y, (x, y)

    def bwd(res, g):
        x, y = res
        return g * fg.cos(x) * y, g * fg.sin(x)

    f.defvjp(fwd, bwd)
    args = (f64([0.3, 1.1]), f64([2.0, -0.5]))
    fg.check_grads(f, args, order=2, modes=("rev",))
    # forward over reverse (Hessian-vector products) traces fwd and bwd
    _, hv = fg.hvp(lambda x: fg.sum(f(x, args[1])), (args[0],), (f64([1.0, 1.0]),))
    assert np.allclose(hv.numpy(), -np.sin([0.3, 1.1]) * np.array([2.0, -0.5]))


def test_custom_vjp_in_forward_mode_raises_or_differentiates_fun():
    clip, _ = _clip_gradient()
    with pytest.raises(TypeError, match="reverse mode .* only"):
        fg.jvp(clip, (f64(1.0),), (f64(1.0),))
    h = fg.custom_vjp(lambda x: x * x, forward_mode="differentiate_fun")
    h.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    _, t = fg.jvp(h, (f64(3.0),), (f64(1.0),))
    assert float(t) == 6.0
    fg.check_grads(h, (f64([0.5, -1.5]),), order=2)
    with pytest.raises(ValueError, match="forward_mode"):
        fg.custom_vjp(lambda x: x, forward_mode="maybe")


def test_custom_vjp_pytrees_none_cotangents_and_nondiff_argnums():
    def f(n_copies, xs):
        return [xs["a"] * n_copies, xs["b"]]

    cf = fg.custom_vjp(f, nondiff_argnums=(0,))
    cf.defvjp(
        lambda n, xs: (f(n, xs), None),
        lambda n, res, g: ({"a": g[0] * (2.0 * n), "b": None},),
    )
    xs = {"a": f64([1.0, 2.0]), "b": f64([3.0])}
    g = fg.grad(lambda xs: fg.sum(cf(3, xs)[0]) + fg.sum(cf(3, xs)[1]))(xs)
    assert np.allclose(g["a"].numpy(), [6.0, 6.0])  # the rule's deliberate factor 2
    assert np.allclose(g["b"].numpy(), [0.0])  # None: zero cotangent


def test_custom_vjp_under_vmap():
    clip, _ = _clip_gradient()
    xs = f64([[1.0, 2.0], [3.0, 4.0]])
    g = fg.vmap(fg.grad(lambda v: fg.sum(4.0 * clip(v))))(xs)
    assert np.allclose(g.numpy(), 1.0)
    g = fg.grad(lambda v: fg.sum(4.0 * fg.vmap(clip)(v)))(xs)
    assert np.allclose(g.numpy(), 1.0)


def test_custom_vjp_errors():
    f = fg.custom_vjp(lambda x, y: x * y)
    with pytest.raises(AttributeError, match="defvjp"):
        f(f64(1.0), f64(2.0))
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g * r[1],))
    with pytest.raises(TypeError, match=r"one cotangent per differentiable argument \(2\)"):
        fg.grad(f)(f64(1.0), f64(2.0))
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (fg.ones((2,), dtype="float64"), g))
    with pytest.raises(ValueError, match=r"shape \(2,\), expected \(\)"):
        fg.grad(f)(f64(1.0), f64(2.0))
    f.defvjp(lambda x, y: x * y, lambda r, g: (g, g))
    with pytest.raises(TypeError, match="pair"):
        fg.grad(f)(f64(1.0), f64(2.0))
    with pytest.raises(TypeError, match="two functions"):
        f.defvjp(None, None)


def test_custom_vjp_closure_over_a_traced_value_is_an_error():
    def outer(c):
        g = fg.custom_vjp(lambda x: x * c)
        g.defvjp(lambda x: (x * c, None), lambda r, ct: (ct * c,))
        return g(c * 1.0)

    with pytest.raises(TypeError, match="closed-over tracer"):
        fg.grad(outer)(f64(3.0))
