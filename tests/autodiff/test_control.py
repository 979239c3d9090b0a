"""fori_loop, scan and checkpoint: values, derivatives through long rollouts, checkpointing."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _reverse


def f64(x):
    return fg.tensor(np.asarray(x, dtype=np.float64))


def tape_size(f, *args) -> int:
    """Number of tape nodes behind the (single) output of ``f`` under reverse mode."""
    count = {}

    def probe(*xs):
        out = f(*xs)
        count["n"] = len(_reverse._toposort([out.ref[0]]))
        return out

    fg.vjp(probe, *args)
    return count["n"]


# --- fori_loop --------------------------------------------------------------------------------


def test_fori_loop_values_and_bounds():
    assert float(fg.fori_loop(0, 5, lambda i, x: x + float(i), f64(1.0))) == 11.0
    assert float(fg.fori_loop(3, 3, lambda i, x: x * 0.0, f64(2.0))) == 2.0
    assert float(fg.fori_loop(fg.tensor(1), fg.tensor(3), lambda i, x: x * 2.0, f64(1.0))) == 4.0
    c, x = fg.fori_loop(0, 4, lambda i, s: (s[0] + 1, s[1] * 3.0), (0, f64(1.0)))
    assert int(c) == 4 and float(x) == 81.0


def test_fori_loop_10000_steps_gradient_matches_closed_form():
    # x_n = a^n x0: d/da = n a^(n-1) x0, d/dx0 = a^n; 10,000 tape nodes, walked iteratively.
    n, a, x0 = 10_000, 1.0001, 0.5

    def final(a, x0):
        return fg.fori_loop(0, n, lambda i, x: x * a, x0)

    ga, gx = fg.grad(final, argnums=(0, 1))(f64(a), f64(x0))
    assert np.isclose(float(ga), n * a ** (n - 1) * x0, rtol=1e-9)
    assert np.isclose(float(gx), a**n, rtol=1e-9)
    _, t = fg.jvp(final, (f64(a), f64(x0)), (f64(1.0), f64(0.0)))
    assert np.isclose(float(t), n * a ** (n - 1) * x0, rtol=1e-9)


def damped_oscillator(params, n_steps, step_wrapper=lambda f: f):
    """Semi-implicit Euler for x'' = -k x - c x', x(0) = x0, v(0) = 0; returns x(T)^2 + v(T)."""
    k, c, x0 = params[0], params[1], params[2]
    dt = 0.01

    def step(i, state):
        x, v = state
        v = v + dt * (-k * x - c * v)
        return x + dt * v, v

    x, v = fg.fori_loop(0, n_steps, step_wrapper(step), (x0, x0 * 0.0))
    return x * x + v


def test_damped_oscillator_2000_steps_gradient_matches_finite_differences():
    params = f64([2.0, 0.1, 1.0])
    fg.check_grads(lambda p: damped_oscillator(p, 2000), (params,), order=1, rtol=1e-6)


def test_fori_loop_errors():
    with pytest.raises(TypeError, match="structure"):
        fg.fori_loop(0, 2, lambda i, s: s[0], (f64(1.0), f64(2.0)))
    with pytest.raises(TypeError, match=r"shape of carry leaf 0 at step 0: \(2,\), expected \(\)"):
        fg.fori_loop(0, 2, lambda i, x: fg.stack([x, x]), f64(1.0))
    with pytest.raises(TypeError, match="dtype of carry leaf 0 .* float32, expected float64"):
        fg.fori_loop(0, 2, lambda i, x: x.astype("float32"), f64(1.0))
    with pytest.raises(TypeError, match="concrete integer"):
        fg.grad(lambda u: fg.fori_loop(0, u, lambda i, x: x, u))(f64(2.0))
    with pytest.raises(TypeError, match="must be an integer"):
        fg.fori_loop(0, 2.5, lambda i, x: x, f64(1.0))


def test_fori_loop_weakly_typed_initial_value_takes_the_body_dtype():
    out = fg.fori_loop(0, 3, lambda i, acc: acc + f64(1.0), 0.0)
    assert out.dtype == np.float64 and float(out) == 3.0


# --- scan -------------------------------------------------------------------------------------


def test_scan_linear_recurrence_matches_closed_form():
    # h_{t+1} = a h_t + x_t, y_t = h_{t+1}; h_T = a^T h0 + sum_t a^(T-1-t) x_t
    rng = np.random.default_rng(0)
    T, a, h0 = 50, 0.93, 1.5
    xs = rng.standard_normal(T)

    def run(a, h0, xs):
        return fg.scan(lambda h, x: (a * h + x, a * h + x), h0, xs)

    hT, ys = run(f64(a), f64(h0), f64(xs))
    want = [h0]
    for x in xs:
        want.append(a * want[-1] + x)
    assert np.allclose(ys.numpy(), want[1:]) and np.isclose(float(hT), want[-1])
    ga, gh0, gxs = fg.grad(lambda a, h0, xs: run(a, h0, xs)[0], argnums=(0, 1, 2))(
        f64(a), f64(h0), f64(xs)
    )
    powers = a ** np.arange(T - 1, -1, -1)
    assert np.allclose(gxs.numpy(), powers)
    assert np.isclose(float(gh0), a**T)
    dda = T * a ** (T - 1) * h0 + sum((T - 1 - t) * a ** (T - 2 - t) * xs[t] for t in range(T - 1))
    assert np.isclose(float(ga), dda)
    fg.check_grads(lambda a, xs: run(a, f64(h0), xs)[1], (f64(a), f64(xs[:6])), order=2)


def test_scan_reverse_pytrees_and_no_ys():
    xs = {"u": f64([1.0, 2.0, 3.0]), "w": f64([[1.0], [10.0], [100.0]])}

    def f(carry, x):
        s, n = carry
        s = s * 2.0 + x["u"] + x["w"][0]
        return (s, n + 1), None

    (s, n), ys = fg.scan(f, (f64(0.0), fg.tensor(0)), xs, reverse=True)
    assert ys is None and int(n) == 3
    assert float(s) == ((0 * 2 + 103) * 2 + 12) * 2 + 2  # visits the last element first
    c, ys = fg.scan(lambda c, x: (c + x, c), f64(0.0), f64([1.0, 2.0, 3.0]), reverse=True)
    assert ys.tolist() == [5.0, 3.0, 0.0] and float(c) == 6.0  # ys[i] belongs to xs[i]
    c, ys = fg.scan(lambda c, _: (c * 2.0, {"c": c}), f64(1.0), None, length=4)
    assert ys["c"].tolist() == [1.0, 2.0, 4.0, 8.0] and float(c) == 16.0


def test_scan_of_zero_steps():
    c, ys = fg.scan(lambda c, x: (c + x[0], fg.stack([c, c])), f64(1.0), fg.zeros((0, 3)))
    assert float(c) == 1.0 and ys.shape == (0, 2)


def test_scan_xs_gradient_takes_one_tape_node_for_the_slices():
    n = 40
    step = lambda c, x: (c + x, c)  # noqa: E731
    size = tape_size(lambda xs: fg.scan(step, f64(0.0), xs)[0], f64(np.ones(n)))
    assert size <= n + 3  # n adds, one unstack node (and the input leaf)


def test_scan_errors():
    with pytest.raises(ValueError, match=r"leading axes .* \[\(3,\), \(4,\)\]"):
        fg.scan(lambda c, x: (c, None), f64(0.0), (f64(np.ones(3)), f64(np.ones(4))))
    with pytest.raises(ValueError, match="length"):
        fg.scan(lambda c, x: (c, None), f64(0.0), None)
    with pytest.raises(ValueError, match="disagree"):
        fg.scan(lambda c, x: (c, None), f64(0.0), f64(np.ones(3)), length=2)
    with pytest.raises(TypeError, match="pair"):
        fg.scan(lambda c, x: c, f64(0.0), f64(np.ones(3)))
    sizes = iter([1, 2])
    with pytest.raises(TypeError, match="same structure, shapes and dtypes"):
        fg.scan(lambda c, x: (c, fg.ones((next(sizes),))), f64(0.0), None, length=2)
    with pytest.raises(ValueError, match="leading axis"):
        fg.scan(lambda c, x: (c, None), f64(0.0), f64(1.0))


# --- checkpoint -------------------------------------------------------------------------------


def test_checkpointed_rollout_has_the_same_gradient_and_fewer_tape_nodes():
    params = f64([2.0, 0.1, 1.0])
    plain = lambda p: damped_oscillator(p, 300)  # noqa: E731
    ckpt = lambda p: damped_oscillator(p, 300, fg.checkpoint)  # noqa: E731
    assert np.allclose(fg.grad(plain)(params).numpy(), fg.grad(ckpt)(params).numpy(), rtol=1e-12)
    n_plain, n_ckpt = tape_size(plain, params), tape_size(ckpt, params)
    assert n_ckpt < n_plain / 3, (n_plain, n_ckpt)
    assert n_ckpt <= 300 + 10  # one node per step


def test_checkpoint_with_closures_every_mode_and_order():
    w = f64([0.5, -1.2])

    def body(x):
        return fg.sin(x * w) * fg.exp(x)

    fg.check_grads(fg.checkpoint(body), (f64([0.3, 0.8]),), order=2)
    # a closed-over traced value (w under grad) gets its gradient through the checkpoint
    gw = fg.grad(lambda w: fg.sum(fg.checkpoint(lambda x: fg.sin(x * w))(f64([0.3, 0.8]))))(w)
    assert np.allclose(gw.numpy(), np.cos(np.array([0.3, 0.8]) * w.numpy()) * [0.3, 0.8])
    _, hv = fg.hvp(lambda x: fg.sum(fg.checkpoint(body)(x)), (f64([0.3, 0.8]),), (f64([1, 0]),))
    _, hv_plain = fg.hvp(lambda x: fg.sum(body(x)), (f64([0.3, 0.8]),), (f64([1, 0]),))
    assert np.allclose(hv.numpy(), hv_plain.numpy())


def test_nested_checkpoints_in_a_scan():
    inner = fg.checkpoint(lambda h: fg.tanh(h) * 0.9)
    step = fg.checkpoint(lambda h, x: (inner(h) + x, h * h))

    def loss(h0, xs, f):
        h, ys = fg.scan(f, h0, xs)
        return fg.sum(h) + fg.sum(ys)

    plain = lambda h, x: (fg.tanh(h) * 0.9 + x, h * h)  # noqa: E731
    args = (f64([0.1, -0.4]), f64(np.linspace(-1, 1, 12).reshape(6, 2)))
    g1 = fg.grad(lambda h, x: loss(h, x, step), argnums=(0, 1))(*args)
    g2 = fg.grad(lambda h, x: loss(h, x, plain), argnums=(0, 1))(*args)
    for a, b in zip(g1, g2):
        assert np.allclose(a.numpy(), b.numpy(), rtol=1e-12)
    fg.check_grads(lambda h: loss(h, args[1], step), (args[0],), order=2)


def test_checkpoint_passes_non_tensor_arguments_and_rejects_non_functions():
    f = fg.checkpoint(lambda x, n, mode: x * float(n) if mode == "scale" else x)
    assert float(fg.grad(lambda x: f(x, 3, "scale"))(f64(1.0))) == 3.0
    assert fg.remat is fg.checkpoint
    with pytest.raises(TypeError, match="expects a function"):
        fg.checkpoint(3)


def test_heat_equation_rollout_gradient_with_checkpoint():
    # u_t = kappa u_xx on a periodic grid; d(sum u(T)^2)/d u0 against finite differences.
    n, steps, dx, dt = 16, 60, 1.0 / 16, 2e-4
    u0 = f64(np.sin(2 * np.pi * np.arange(n) / n) + 0.3 * np.cos(6 * np.pi * np.arange(n) / n))

    def energy(u0, kappa):
        def step(i, u):
            return u + (dt * kappa) * fg.fd_laplacian(u, spacing=dx, boundary="periodic")

        return fg.sum(fg.fori_loop(0, steps, fg.checkpoint(step), u0) ** 2)

    fg.check_grads(energy, (u0, f64(0.7)), order=1)


def test_checkpoint_and_scan_compose_with_vmap_and_jet():
    w = f64([0.5, -1.2])
    body = lambda x: fg.sin(x * w) * fg.exp(x)  # noqa: E731
    ck = fg.checkpoint(body)
    xs = f64(np.linspace(0, 1, 6).reshape(3, 2))
    per_row = lambda f: fg.grad(lambda x: fg.sum(f(x)))  # noqa: E731
    assert np.allclose(fg.vmap(per_row(ck))(xs).numpy(), fg.vmap(per_row(body))(xs).numpy())
    g1 = fg.grad(lambda x: fg.sum(fg.vmap(ck)(x)))(xs)
    g2 = fg.grad(lambda x: fg.sum(fg.vmap(body)(x)))(xs)
    assert np.allclose(g1.numpy(), g2.numpy())
    series = ([f64([1.0, 1.0]), f64([0.0, 0.0])],)
    _, (d1, d2) = fg.jet(ck, (xs[0],), series)
    _, (e1, e2) = fg.jet(body, (xs[0],), series)
    assert np.allclose(d1.numpy(), e1.numpy()) and np.allclose(d2.numpy(), e2.numpy())
    step = lambda c, x: (c * 0.9 + x, c)  # noqa: E731
    finals = fg.vmap(lambda col: fg.scan(step, f64(0.0), col)[0])(xs.T)
    for k in range(2):
        assert np.isclose(float(finals[k]), float(fg.scan(step, f64(0.0), xs[:, k])[0]))


def test_nested_checkpoint_replayed_under_vmap():
    inner = fg.checkpoint(lambda h: fg.tanh(h) * 0.9)
    outer = fg.checkpoint(lambda h: inner(h) * h)
    plain = lambda h: fg.tanh(h) * 0.9 * h  # noqa: E731
    xs = f64(np.linspace(-1, 1, 6).reshape(3, 2))
    a = fg.vmap(fg.grad(lambda x: fg.sum(outer(x))))(xs)
    b = fg.vmap(fg.grad(lambda x: fg.sum(plain(x))))(xs)
    assert np.allclose(a.numpy(), b.numpy())
    a = fg.vmap(fg.grad(fg.grad(lambda x: fg.sum(outer(x)))))(xs[:, 0])
    b = fg.vmap(fg.grad(fg.grad(lambda x: fg.sum(plain(x)))))(xs[:, 0])
    assert np.allclose(a.numpy(), b.numpy())


# --- fori_loop under jit: one staged loop, one kernel where it can ----------------------------


def _oscillator(x, v, steps=200):
    def body(i, c):
        x, v = c
        a = -x * 4.0 - 0.1 * v
        v = v + 0.01 * a
        return (x + 0.01 * v, v)

    return fg.fori_loop(0, steps, body, (x, v))


def _loop_eqn(jitted, *args):
    (e,) = [e for e in jitted.graph(*args).eqns if e.prim.name == "fori_loop"]
    return e


def test_fori_loop_under_jit_is_one_kernel_and_equals_eager():
    from fieldgrad.fields import _loop

    x = fg.tensor(np.linspace(-1.0, 1.0, 300).astype(np.float32))
    v = fg.zeros_like(x)
    f = fg.jit(_oscillator)
    for _ in range(2):  # first call records, second replays
        got = f(x, v)
        want = _oscillator(x, v)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    e = _loop_eqn(f, x, v)
    assert _loop.loop_kernel_of(e.params["body"])
    assert len(f.graph(x, v).eqns) == 1  # not 200 unrolled bodies


def test_fori_loop_under_jit_with_matmul_index_and_captured_values():
    rng = np.random.default_rng(0)
    w = fg.tensor(rng.normal(size=(4, 4)) * 0.3)
    x0 = fg.tensor(rng.normal(size=(3, 4)))

    def f(w, x, s):  # w and s are arguments of the jitted function the body closes over
        return fg.fori_loop(
            2, 9, lambda i, h: fg.tanh(h @ w) * s + fg.astype(i, "float64") * 0.01, x
        )

    jf = fg.jit(f)
    s = fg.tensor(1.5, dtype="float64")
    for _ in range(2):
        np.testing.assert_allclose(jf(w, x0, s).numpy(), f(w, x0, s).numpy(), rtol=1e-14)
    assert len(_loop_eqn(jf, w, x0, s).ins) == 3  # the carry, then w and s captured


def test_fori_loop_unrolls_where_it_must_and_still_agrees():
    x = fg.tensor([0.5, -1.0, 2.0], dtype="float64")

    def branchy(x):  # Python control flow on the index: cannot be staged once
        return fg.fori_loop(0, 5, lambda i, c: c * 2.0 if i % 2 == 0 else c + 1.0, x)

    jb = fg.jit(branchy)
    np.testing.assert_array_equal(jb(x).numpy(), branchy(x).numpy())
    assert not [e for e in jb.graph(x).eqns if e.prim.name == "fori_loop"]

    def weak(x):  # a weakly typed carry may be promoted at the first step
        return fg.fori_loop(0, 3, lambda i, c: c + x[1], 0.0)

    np.testing.assert_array_equal(fg.jit(weak)(x).numpy(), weak(x).numpy())

    def loss(x):
        return fg.sum(_oscillator(x, fg.zeros_like(x), steps=20)[0] ** 2)

    np.testing.assert_allclose(
        fg.jit(fg.grad(loss))(x).numpy(), fg.grad(loss)(x).numpy(), rtol=1e-13
    )
    np.testing.assert_allclose(
        fg.grad(fg.jit(loss))(x).numpy(), fg.grad(loss)(x).numpy(), rtol=1e-13
    )


@pytest.mark.parametrize("n", [5003, 20011])  # steps outside / lane groups outside
def test_fori_loop_kernel_takes_vector_lanes_on_large_float32_carries(n):
    from fieldgrad.fields import _loop

    x = fg.tensor(np.linspace(-1.0, 1.0, n).astype(np.float32))  # an odd tail
    v = fg.zeros_like(x)
    f = fg.jit(_oscillator)
    for _ in range(2):
        for a, b in zip(f(x, v), _oscillator(x, v)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    body = _loop_eqn(f, x, v).params["body"]
    assert _loop.loop_kernel_of(body) and body._kernel[1].lanes in (0, 16)


def test_fori_loop_under_jit_with_no_steps_returns_the_carry():
    x = fg.tensor([1.0, 2.0])
    np.testing.assert_array_equal(
        fg.jit(lambda x: fg.fori_loop(3, 3, lambda i, c: c * 5.0, x))(x).numpy(), x.numpy()
    )


def test_scan_under_jit_is_one_staged_loop_and_equals_eager():
    rng = np.random.default_rng(1)
    w = fg.tensor(rng.normal(size=(3, 3)) * 0.5)
    xs = {"a": fg.tensor(rng.normal(size=(6, 3))), "b": fg.tensor(rng.normal(size=(6,)))}

    def f(c0, xs, w, reverse):
        def step(c, x):
            c = fg.tanh(c @ w + x["a"]) * x["b"]
            return c, {"c": c, "s": fg.sum(c)}

        return fg.scan(step, c0, xs, reverse=reverse)

    c0 = fg.zeros(3, dtype="float64")
    for reverse in (False, True):
        jf = fg.jit(f, static_argnums=3)
        for _ in range(2):  # the first call records, the second replays
            got, want = jf(c0, xs, w, reverse), f(c0, xs, w, reverse)
            for a, b in zip(fg.tree_leaves(got), fg.tree_leaves(want)):
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)
        names = [e.prim.name for e in jf.graph(c0, xs, w, reverse).eqns]
        assert names.count("scan") == 1 and len(names) == 1


def test_scan_unrolls_under_transformations_and_still_agrees():
    xs = fg.tensor(np.linspace(0.1, 1.0, 5))

    def loss(c0):
        c, ys = fg.scan(lambda c, x: (c * x + fg.sin(c), c * c), c0, xs)
        return c + fg.sum(ys)

    c0 = fg.tensor(0.3, dtype="float64")
    want = fg.grad(loss)(c0).numpy()
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(c0).numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(fg.grad(fg.jit(loss))(c0).numpy(), want, rtol=1e-13)
