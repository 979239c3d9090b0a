"""vmap: every op of the op-spec table against a Python loop, axes options, composition with
the derivative transforms, pytrees, errors, and that the batching rules (not the per-element
loop) run for the common primitives."""

import zlib

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _vmap
from fieldgrad.fields import _core
from tests.opspec import ALL_SPECS

B = 3


def f64(a):
    return fg.tensor(np.asarray(a, dtype=np.float64))


def _dtype(spec) -> str:
    return "float64" if "float64" in spec.dtypes else spec.dtypes[0]


def _batched_samples(spec, dt, rng):
    """For every shape set of the spec: B independent draws, stacked per argument."""
    draws = [spec.sample(rng, dt) for _ in range(B)]
    return [
        [np.stack([d[s][k] for d in draws]) for k in range(len(draws[0][s]))]
        for s in range(len(draws[0]))
    ]


def _loop(fn, args, axes):
    """Stack ``fn`` over the batch by a Python loop: the reference."""
    outs = []
    for i in range(B):
        xs = [
            fg.tensor(np.asarray(np.take(a, i, axis=ax)) if ax is not None else a)
            for a, ax in zip(args, axes)
        ]
        outs.append(fn(*xs))
    if isinstance(outs[0], (list, tuple)):
        return [np.stack([o[k].numpy() for o in outs]) for k in range(len(outs[0]))]
    return np.stack([o.numpy() for o in outs])


def _compare(got, want, name):
    if isinstance(want, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), name
        for g, w in zip(got, want):
            _compare(g, w, name)
        return
    g = got.numpy()
    assert g.shape == want.shape, f"{name}: shape {g.shape} != loop's {want.shape}"
    assert g.dtype == want.dtype, f"{name}: dtype {g.dtype} != loop's {want.dtype}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12, err_msg=name)
    else:
        np.testing.assert_array_equal(g, want, err_msg=name)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[s.name for s in ALL_SPECS])
def test_vmap_of_every_op_equals_a_loop(spec):
    dt = _dtype(spec)
    rng = np.random.default_rng(zlib.crc32(f"vmap-{spec.name}".encode()))

    def fn(*xs):
        return spec.op(*xs, **spec.kwargs)

    for args in _batched_samples(spec, dt, rng):
        nargs = len(args)
        variants = [(0,) * nargs]
        if nargs > 1:  # each argument in turn left unmapped (the first draw, shared)
            variants += [tuple(None if k == u else 0 for k in range(nargs)) for u in range(nargs)]
        for axes in variants:
            vals = [a if ax is not None else a[0] for a, ax in zip(args, axes)]
            want = _loop(fn, vals, axes)
            got = fg.vmap(fn, in_axes=axes)(*[fg.tensor(v) for v in vals])
            _compare(got, want, f"{spec.name} in_axes={axes} shapes={[v.shape for v in vals]}")


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[s.name for s in ALL_SPECS])
def test_vmap_of_every_op_along_the_last_axis(spec):
    # The batch axis last in every argument and in the result: the rules that keep the batch
    # axis in place (elementwise, reductions, slices, diagonal, gather, ...) see a bdim != 0.
    dt = _dtype(spec)
    rng = np.random.default_rng(zlib.crc32(f"vmap-last-{spec.name}".encode()))

    def fn(*xs):
        return spec.op(*xs, **spec.kwargs)

    for args in _batched_samples(spec, dt, rng):
        vals = [np.ascontiguousarray(np.moveaxis(a, 0, -1)) for a in args]
        axes = [a.ndim - 1 for a in vals]
        want = _loop(fn, vals, axes)
        want = (
            [np.moveaxis(w, 0, -1) for w in want]
            if isinstance(want, list)
            else (np.moveaxis(want, 0, -1))
        )
        got = fg.vmap(fn, in_axes=-1, out_axes=-1)(*[fg.tensor(v) for v in vals])
        _compare(got, want, f"{spec.name} shapes={[v.shape for v in vals]}")


# --- axes options -------------------------------------------------------------------------------


def _rng(seed):
    return np.random.default_rng(seed)


def test_in_axes_nonzero_negative_and_none():
    rng = _rng(0)
    x = rng.standard_normal((4, B, 5))
    w = rng.standard_normal((5, 2))
    f = lambda v, m: fg.tanh(v @ m) * 2.0  # noqa: E731
    want = np.stack([np.tanh(x[:, i] @ w) * 2.0 for i in range(B)])
    for ax in (1, -2):
        got = fg.vmap(f, in_axes=(ax, None))(f64(x), f64(w))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    # both mapped, on different axes
    ws = rng.standard_normal((5, 2, B))
    got = fg.vmap(f, in_axes=[1, 2])(f64(x), f64(ws))
    want = np.stack([np.tanh(x[:, i] @ ws[..., i]) * 2.0 for i in range(B)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_out_axes_int_negative_tuple_and_none():
    rng = _rng(1)
    x = rng.standard_normal((B, 4, 2))
    f = lambda v: fg.exp(v)  # noqa: E731
    want = np.exp(x)
    np.testing.assert_allclose(fg.vmap(f, out_axes=1)(f64(x)).numpy(), np.moveaxis(want, 0, 1))
    np.testing.assert_allclose(fg.vmap(f, out_axes=-1)(f64(x)).numpy(), np.moveaxis(want, 0, -1))
    c = f64([1.0, 2.0])
    g = lambda v: (fg.sum(v, axis=0), c * 2.0)  # noqa: E731
    a, b = fg.vmap(g, out_axes=(1, None))(f64(x))
    np.testing.assert_allclose(a.numpy(), x.sum(axis=1).T, rtol=1e-12)
    assert b.shape == (2,) and b.tolist() == [2.0, 4.0]  # unbatched output, not broadcast
    a, b = fg.vmap(g)(f64(x))  # out_axes 0: the unbatched output is broadcast
    assert b.shape == (B, 2) and b.numpy().tolist() == [[2.0, 4.0]] * B


def test_in_axes_for_pytree_arguments_and_host_data():
    rng = _rng(2)
    p = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    xs = rng.standard_normal((B, 3))

    def f(params, x):
        return fg.sum(fg.tanh(x @ params["w"] + params["b"]))

    want = [np.sum(np.tanh(xs[i] @ p["w"] + p["b"])) for i in range(B)]
    ptree = {k: f64(v) for k, v in p.items()}
    got = fg.vmap(f, in_axes=(None, 0))(ptree, f64(xs))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    # a dict prefix: only "b" mapped (along axis 1 of a (2, B) array)
    bs = rng.standard_normal((2, B))
    got = fg.vmap(f, in_axes=({"w": None, "b": 1}, None))(
        {"w": f64(p["w"]), "b": f64(bs)}, f64(xs[0])
    )
    want = [np.sum(np.tanh(xs[0] @ p["w"] + bs[:, i])) for i in range(B)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    # numpy arrays and lists are accepted as arguments
    got = fg.vmap(lambda v: v * 2.0, in_axes=np.int64(0))(np.arange(3.0))
    assert got.tolist() == [0.0, 2.0, 4.0]


def test_vmap_of_a_function_returning_a_pytree():
    rng = _rng(3)
    x = rng.standard_normal((B, 4))

    def f(v):
        return {"sum": fg.sum(v), "parts": (v[:2], fg.sin(v)), "none": None}

    out = fg.vmap(f)(f64(x))
    assert set(out) == {"sum", "parts", "none"} and out["none"] is None
    np.testing.assert_allclose(out["sum"].numpy(), x.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(out["parts"][0].numpy(), x[:, :2])
    np.testing.assert_allclose(out["parts"][1].numpy(), np.sin(x), rtol=1e-12)
    out = fg.vmap(f, out_axes={"sum": 0, "parts": (1, -1), "none": 0})(f64(x))
    np.testing.assert_allclose(out["parts"][0].numpy(), x[:, :2].T)
    np.testing.assert_allclose(out["parts"][1].numpy(), np.sin(x).T, rtol=1e-12)


def test_nested_vmap():
    rng = _rng(4)
    x, y = rng.standard_normal((B, 2)), rng.standard_normal((4, 2))
    dist = lambda a, b: fg.sum((a - b) ** 2)  # noqa: E731
    d = fg.vmap(fg.vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(f64(x), f64(y))
    want = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(d.numpy(), want, rtol=1e-12)
    # inner and outer batch axes elsewhere, a matmul and a reduction in between
    z = rng.standard_normal((2, 4, B, 3))
    m = rng.standard_normal((3, 5))
    f = lambda v: fg.sum(fg.cos(v @ m), axis=0)  # noqa: E731  v: (2, 3) -> (5,)
    got = fg.vmap(fg.vmap(f, in_axes=1), in_axes=2, out_axes=-1)(f64(z))  # (4, 5, B)
    want = np.cos(np.einsum("aibk,kn->biAn".replace("A", ""), z, m)).sum(axis=2)
    want = np.stack([[np.cos(z[:, i, b] @ m).sum(0) for i in range(4)] for b in range(B)])
    np.testing.assert_allclose(got.numpy(), np.moveaxis(want, 0, -1), rtol=1e-12)


# --- composition with the derivative transforms -------------------------------------------------


def _mlp(params, x):
    h = fg.tanh(x @ params["w1"] + params["b1"])
    return fg.sum(fg.sin(h @ params["w2"])) + 0.1 * fg.sum(x[1:] ** 2)


def _params(rng):
    return {
        "w1": f64(rng.standard_normal((3, 4))),
        "b1": f64(rng.standard_normal(4)),
        "w2": f64(rng.standard_normal((4, 2))),
    }


def test_vmap_of_grad_equals_per_example_grads():
    rng = _rng(5)
    p, xs = _params(rng), rng.standard_normal((B, 3))
    g = fg.vmap(fg.grad(_mlp), in_axes=(None, 0))(p, f64(xs))
    gx = fg.vmap(fg.grad(_mlp, argnums=1), in_axes=(None, 0))(p, f64(xs))
    for i in range(B):
        want = fg.grad(_mlp)(p, f64(xs[i]))
        for k in p:
            np.testing.assert_allclose(g[k].numpy()[i], want[k].numpy(), rtol=1e-12)
        np.testing.assert_allclose(
            gx.numpy()[i], fg.grad(_mlp, argnums=1)(p, f64(xs[i])).numpy(), rtol=1e-12
        )


def test_vmap_of_hessian_and_jacobians():
    rng = _rng(6)
    xs = rng.standard_normal((B, 3))
    f = lambda v: fg.sum(fg.exp(v) * v[0]) + fg.prod(v)  # noqa: E731
    H = fg.vmap(fg.hessian(f))(f64(xs))
    J = fg.vmap(fg.jacrev(fg.sin))(f64(xs))
    assert H.shape == (B, 3, 3) and J.shape == (B, 3, 3)
    for i in range(B):
        np.testing.assert_allclose(H.numpy()[i], fg.hessian(f)(f64(xs[i])).numpy(), rtol=1e-12)
        np.testing.assert_allclose(J.numpy()[i], np.diag(np.cos(xs[i])), rtol=1e-12)


def test_jacfwd_and_jacrev_of_a_vmapped_function():
    rng = _rng(7)
    xs = rng.standard_normal((B, 3))
    W = f64(rng.standard_normal((3, 2)))
    f = lambda v: fg.tanh(v @ W)  # noqa: E731  (3,) -> (2,)
    for jac in (fg.jacfwd, fg.jacrev):
        J = jac(fg.vmap(f))(f64(xs))
        assert J.shape == (B, 2, B, 3)
        for i in range(B):
            for j in range(B):
                want = jac(f)(f64(xs[i])).numpy() if i == j else np.zeros((2, 3))
                np.testing.assert_allclose(J.numpy()[i, :, j, :], want, rtol=1e-12, atol=1e-15)


def test_hessian_of_a_vmapped_function():
    rng = _rng(8)
    xs = rng.standard_normal((B, 2))
    f = lambda v: fg.sum(fg.sin(v) * v[::-1]) ** 2  # noqa: E731
    H = fg.hessian(lambda x: fg.sum(fg.vmap(f)(x)))(f64(xs))
    assert H.shape == (B, 2, B, 2)
    for i in range(B):
        np.testing.assert_allclose(
            H.numpy()[i, :, i, :], fg.hessian(f)(f64(xs[i])).numpy(), rtol=1e-10
        )
    assert np.all(H.numpy()[0, :, 1, :] == 0.0)


def test_grad_through_every_batched_data_movement_rule():
    # vmap(grad) runs the batched primal and the batched transposes: gather/scatter_add,
    # slice/slice_update, concatenate, diagonal, conv2d/conv2d_input/conv2d_weight.
    rng = _rng(9)
    idx = fg.tensor([2, 0, 0, 1])
    w = f64(rng.standard_normal((2, 2, 2, 2)))

    def f(x):  # x: (3, 3)
        a = fg.take(x, idx, axis=1)  # gather
        b = x.at[1:, ::2].set(fg.sum(a))  # slice_update
        c = fg.concatenate([fg.diagonal(b), x[0]])  # diagonal, slice, concatenate
        img = fg.reshape(fg.concatenate([x, x[:1]]), (1, 1, 4, 3))
        y = fg.conv2d(fg.concatenate([img, img * 2.0], axis=1), w)
        return fg.sum(c * c) + fg.sum(fg.sin(y))

    xs = rng.standard_normal((B, 3, 3))
    got = fg.vmap(fg.grad(f))(f64(xs))
    for i in range(B):
        np.testing.assert_allclose(got.numpy()[i], fg.grad(f)(f64(xs[i])).numpy(), rtol=1e-11)


def test_jacfwd_and_jacrev_argnums_pytrees_and_empty_inputs():
    rng = _rng(10)
    x, y = f64(rng.standard_normal(3)), f64(rng.standard_normal((2, 2)))

    def f(a, b):
        return {"u": fg.sin(a) * fg.sum(b), "v": fg.sum(b @ b) * a[0]}

    jf = fg.jacfwd(f, argnums=(0, 1))(x, y)
    jr = fg.jacrev(f, argnums=(0, 1))(x, y)
    assert jf["u"][0].shape == (3, 3) and jf["u"][1].shape == (3, 2, 2)
    assert jf["v"][0].shape == (3,) and jf["v"][1].shape == (2, 2)
    for key in ("u", "v"):
        for k in (0, 1):
            np.testing.assert_allclose(jf[key][k].numpy(), jr[key][k].numpy(), rtol=1e-12)
    a, b = x.numpy(), y.numpy()
    np.testing.assert_allclose(jf["u"][0].numpy(), np.diag(np.cos(a)) * b.sum(), rtol=1e-12)
    np.testing.assert_allclose(
        jf["u"][1].numpy(), np.broadcast_to(np.sin(a)[:, None, None], (3, 2, 2))
    )
    # a pytree argument: the Jacobian has the argument's structure
    jp = fg.jacrev(lambda p: p["a"] * p["b"][0])({"a": x, "b": [f64(2.0)]})
    assert jp["a"].shape == (3, 3) and jp["b"][0].shape == (3,)
    np.testing.assert_allclose(jp["b"][0].numpy(), a)
    # empty input or output: an empty Jacobian of the right shape
    assert fg.jacfwd(lambda v: fg.sum(v) + 1.0)(fg.zeros((0, 2))).shape == (0, 2)
    assert fg.jacrev(lambda v: v[:0])(x).shape == (0, 3)
    assert fg.jacfwd(lambda v: v[:0])(x).shape == (0, 3)
    # float32 stays float32; hessian with argnums tuple nests per argument pair
    assert fg.jacfwd(fg.sin)(fg.tensor([1.0, 2.0])).dtype == fg.float32
    h = fg.hessian(lambda a, b: fg.sum(a * a * b), argnums=(0, 1))(x, f64(2.0))
    assert h[0][0].shape == (3, 3) and h[0][1].shape == (3,) and h[1][1].shape == ()
    np.testing.assert_allclose(h[0][0].numpy(), 4.0 * np.eye(3))
    np.testing.assert_allclose(h[0][1].numpy(), 2.0 * a)


def test_jacobians_run_one_batched_pass(monkeypatch):
    # The Python loop over basis vectors is gone: each primitive runs once per Jacobian.
    prims = _core.primitives()
    calls = {"sin": 0, "cos": 0}
    for name in calls:
        impl = prims[name].impl

        def counted(*a, _impl=impl, _name=name, **k):
            calls[_name] += 1
            return _impl(*a, **k)

        monkeypatch.setattr(prims[name], "impl", counted)
    x = f64(np.linspace(0.1, 0.9, 6))
    fg.jacfwd(fg.sin)(x)
    assert calls == {"sin": 1, "cos": 1}
    calls.update(sin=0, cos=0)
    fg.jacrev(fg.sin)(x)
    assert calls == {"sin": 1, "cos": 1}


# --- the batching rules run, not the loop -------------------------------------------------------


def _no_loop(monkeypatch):
    def fail(prim, vals, dims, params):
        raise AssertionError(f"the loop fallback ran for {prim.name!r}")

    monkeypatch.setattr(_vmap, "loop_rule", fail)


def test_common_primitives_use_their_batching_rules(monkeypatch):
    _no_loop(monkeypatch)
    rng = _rng(11)
    W = f64(rng.standard_normal((4, 3)))
    k = f64(rng.standard_normal((2, 1, 2, 2)))

    def f(x, i):  # x: (4,), i: int index vector of shape (2,)
        h = fg.tanh(fg.reshape(x, (1, 4)) @ W)  # reshape, matmul, elementwise
        h = fg.transpose(fg.broadcast_to(h, (2, 3)))  # broadcast_to, transpose
        s = fg.sum(h, axis=0) + fg.max(h) * fg.argmax(x).astype(float)  # reductions
        g = fg.take(x, i) + x[1:3] + fg.diagonal(fg.outer(x, x))[:2]  # gather, slice, diagonal
        u = x.at[i].add(1.0) + x.at[1:].set(0.0)  # scatter_add, slice_update
        v = x.at[i].set(2.0)  # scatter
        c = fg.concatenate([s, g, u, v, fg.where(x > 0, x, -x)])  # concatenate, select
        img = fg.reshape(fg.concatenate([x, x]), (1, 1, 2, 4))
        y = fg.conv2d(img, k)  # conv2d with only the image batched
        return fg.sum(c) + fg.sum(y) + fg.stop_gradient(fg.sum(x)).astype("float64")

    xs = f64(rng.standard_normal((B, 4)))
    ii = fg.tensor(rng.integers(0, 4, size=(B, 2)).astype(np.int32))
    got = fg.vmap(f)(xs, ii)
    got_x = fg.vmap(f, in_axes=(0, None))(xs, ii[0])
    got_i = fg.vmap(f, in_axes=(None, 0))(xs[0], ii)
    monkeypatch.undo()
    for i in range(B):
        np.testing.assert_allclose(float(got[i]), float(f(xs[i], ii[i])), rtol=1e-12)
        np.testing.assert_allclose(float(got_x[i]), float(f(xs[i], ii[0])), rtol=1e-12)
        np.testing.assert_allclose(float(got_i[i]), float(f(xs[0], ii[i])), rtol=1e-12)


def test_batched_backward_passes_use_their_rules(monkeypatch):
    # vmap(grad) and the batched jacobians: the transposes (scatter_add for gather,
    # slice_update for slice, conv2d_input/conv2d_weight) are batched, not looped. The
    # exception: the weight cotangent conv2d_weight(x, g) of a batch of images has both
    # operands batched, which has no single-call form (the convolutions take no groups), and
    # loops.
    looped = []
    loop = _vmap.loop_rule
    monkeypatch.setattr(_vmap, "loop_rule", lambda p, *a: looped.append(p.name) or loop(p, *a))
    rng = _rng(12)
    k = f64(rng.standard_normal((2, 1, 2, 2)))

    def f(x):
        img = fg.reshape(x, (1, 1, 3, 4))
        return fg.sum(fg.conv2d(img, k) ** 2) + fg.sum(x[::4] * fg.take(x, [0, 0, 5]))

    xs = f64(rng.standard_normal((B, 12)))
    g = fg.vmap(fg.grad(f))(xs)
    assert set(looped) == {"conv2d_weight"}
    looped.clear()
    gk = fg.vmap(fg.grad(lambda w, x: fg.sum(fg.conv2d(x, w) ** 2)), in_axes=(None, 0))(
        k, fg.reshape(xs, (B, 1, 1, 3, 4))
    )
    assert set(looped) == {"conv2d_weight"}
    looped.clear()
    J = fg.jacrev(lambda w: fg.conv2d(fg.ones((1, 1, 3, 3), dtype="float64"), w))(k)
    assert not looped
    monkeypatch.undo()
    for i in range(B):
        np.testing.assert_allclose(g.numpy()[i], fg.grad(f)(xs[i]).numpy(), rtol=1e-12)
        img = fg.reshape(xs[i], (1, 1, 3, 4))
        want = fg.grad(lambda w, img=img: fg.sum(fg.conv2d(img, w) ** 2))(k)
        np.testing.assert_allclose(gk.numpy()[i], want.numpy(), rtol=1e-12)
    assert J.shape == (1, 2, 2, 2, 2, 1, 2, 2)


def test_rules_keep_the_batch_axis_in_place(monkeypatch):
    # A function mapped along its last axis runs without a single transpose.
    prim = _core.primitives()["transpose"]
    seen = []
    impl = prim.impl
    monkeypatch.setattr(prim, "impl", lambda x, **p: seen.append(p) or impl(x, **p))
    x = f64(_rng(13).standard_normal((4, 5, B)))
    f = lambda v: fg.sum(fg.exp(v) * v, axis=1) + fg.max(v[1:3], axis=(0, 1))  # noqa: E731
    y = fg.vmap(f, in_axes=-1, out_axes=-1)(x)
    assert not seen
    want = np.stack([f(x[..., i]).numpy() for i in range(B)], axis=-1)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)


def test_custom_jvp_and_custom_vjp_are_batched_with_their_rules(monkeypatch):
    _no_loop(monkeypatch)

    @fg.custom_jvp
    def f(x, y):
        return fg.sin(x) * y

    @f.defjvp
    def f_jvp(primals, tangents):  # a deliberately scaled derivative: the rule must be used
        (x, y), (tx, ty) = primals, tangents
        return f(x, y), 10.0 * fg.cos(x) * y * tx + fg.sin(x) * ty

    @fg.custom_vjp
    def h(x, scale):
        return fg.exp(x) * scale

    def h_fwd(x, scale):
        return h(x, scale), (fg.exp(x), 3.0, None)  # residuals: tensor, number, None

    def h_bwd(res, g):
        ex, three, _ = res
        return (three * ex * g, fg.sum(g) * 0.0)

    h.defvjp(h_fwd, h_bwd)

    rng = _rng(16)
    xs, y = f64(rng.standard_normal((B, 2))), f64([0.5, -1.5])
    s = f64(2.0)
    out = fg.vmap(f, in_axes=(0, None))(xs, y)
    np.testing.assert_allclose(out.numpy(), np.sin(xs.numpy()) * y.numpy(), rtol=1e-12)
    # grad outside vmap: the batched call keeps the custom rules (10x, 3x)
    gx, gy = fg.grad(lambda a, b: fg.sum(fg.vmap(f, in_axes=(0, None))(a, b)), (0, 1))(xs, y)
    np.testing.assert_allclose(gx.numpy(), 10.0 * np.cos(xs.numpy()) * y.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), np.sin(xs.numpy()).sum(0), rtol=1e-12)
    t = fg.jvp(lambda a: fg.vmap(f, in_axes=(0, None))(a, y), (xs,), (fg.ones_like(xs),))[1]
    np.testing.assert_allclose(t.numpy(), 10.0 * np.cos(xs.numpy()) * y.numpy(), rtol=1e-12)
    gh = fg.grad(lambda a: fg.sum(fg.vmap(h, in_axes=(0, None))(a, s)))(xs)
    np.testing.assert_allclose(gh.numpy(), 3.0 * np.exp(xs.numpy()), rtol=1e-12)
    gs = fg.grad(lambda c: fg.sum(fg.vmap(h, in_axes=(0, None))(xs, c)))(s)
    assert gs.shape == () and float(gs) == 0.0
    # vmap outside grad
    gv = fg.vmap(fg.grad(lambda a: fg.sum(h(a, s))))(xs)
    np.testing.assert_allclose(gv.numpy(), 3.0 * np.exp(xs.numpy()), rtol=1e-12)


def test_checkpointed_step_under_vmap_and_grad(monkeypatch):
    _no_loop(monkeypatch)
    step = fg.checkpoint(lambda u, k: u + 0.1 * fg.tanh(k * u))
    u0 = f64(_rng(17).standard_normal((B, 4)))
    k = f64(1.5)

    def rollout(u, kk):
        for _ in range(3):
            u = step(u, kk)
        return fg.sum(u * u)

    got = fg.grad(lambda kk: fg.sum(fg.vmap(rollout, in_axes=(0, None))(u0, kk)))(k)
    monkeypatch.undo()
    want = sum(float(fg.grad(rollout, argnums=1)(u0[i], k)) for i in range(B))
    np.testing.assert_allclose(float(got), want, rtol=1e-12)


# --- the loop fallback --------------------------------------------------------------------------


def test_loop_fallback_for_a_primitive_without_a_rule():
    from fieldgrad.autodiff import _rules
    from fieldgrad.fields import Primitive, ShapedArray

    p = Primitive(
        "test_vmap_norule",
        lambda x, y, *, scale: [x * scale + y, x - y],
        lambda x, y, *, scale: [ShapedArray(x.shape, x.dtype)] * 2,
        multiple_results=True,
    )
    try:
        assert not _rules.has_rule("batch", p)
        x = f64(_rng(14).standard_normal((B, 2)))
        y = f64([1.0, 2.0])
        a, b = fg.vmap(lambda u, v: p.bind(u, v, scale=3.0), in_axes=(0, None))(x, y)
        np.testing.assert_allclose(a.numpy(), x.numpy() * 3.0 + y.numpy())
        np.testing.assert_allclose(b.numpy(), x.numpy() - y.numpy())
        a, b = fg.vmap(lambda u: p.bind(u, u, scale=1.0), in_axes=1)(x)
        np.testing.assert_allclose(a.numpy(), 2.0 * x.numpy().T)
        # an empty batch: shapes from the abstract evaluation
        a, b = fg.vmap(lambda u: p.bind(u, u, scale=1.0))(fg.zeros((0, 2), dtype="float64"))
        assert a.shape == (0, 2) and b.shape == (0, 2)
    finally:
        del _core._registry["test_vmap_norule"]


def test_grid_stencils_and_doubly_batched_conv_under_vmap():
    rng = _rng(15)
    f = rng.standard_normal((B, 5, 4))
    got = fg.vmap(lambda u: fg.fd_laplacian(u, 0.5, boundary="edge"))(f64(f))
    want = np.stack([fg.fd_laplacian(f64(f[i]), 0.5, boundary="edge").numpy() for i in range(B)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    x = rng.standard_normal((B, 1, 2, 5, 5))
    w = rng.standard_normal((B, 3, 2, 3, 3))
    got = fg.vmap(fg.conv2d)(f64(x), f64(w))
    want = np.stack([fg.conv2d(f64(x[i]), f64(w[i])).numpy() for i in range(B)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


# --- errors -------------------------------------------------------------------------------------


def test_errors():
    x3, x4 = fg.zeros((3, 2)), fg.zeros((4, 2))
    add = lambda a, b: a + b  # noqa: E731
    with pytest.raises(ValueError, match=r"size 3 along axis 0.*size 4 along axis 0"):
        fg.vmap(add)(x3, x4)
    with pytest.raises(ValueError, match=r"in_axes 2 out of range.*\(3, 2\)"):
        fg.vmap(fg.sin, in_axes=2)(x3)
    with pytest.raises(ValueError, match=r"in_axes -3 out of range"):
        fg.vmap(fg.sin, in_axes=-3)(x3)
    with pytest.raises(ValueError, match="maps no argument"):
        fg.vmap(add, in_axes=None)(x3, x3)
    with pytest.raises(ValueError, match="in_axes has 3 entries for 2 arguments"):
        fg.vmap(add, in_axes=(0, 0, 0))(x3, x3)
    with pytest.raises(TypeError, match="in_axes must be an int, None, or a tuple"):
        fg.vmap(fg.sin, in_axes=1.5)(x3)
    with pytest.raises(TypeError, match="in_axes must be an int"):
        fg.vmap(add, in_axes=(0, True))(x3, x3)
    with pytest.raises(ValueError, match="out_axes None"):
        fg.vmap(fg.sin, out_axes=None)(x3)
    with pytest.raises(ValueError, match="out_axes 3 out of range"):
        fg.vmap(fg.sin, out_axes=3)(x3)
    with pytest.raises(ValueError, match="out_axes has 1 entries for 2 outputs"):
        fg.vmap(lambda v: (v, v), out_axes=(0,))(x3)
    with pytest.raises(TypeError, match="callable"):
        fg.vmap(3)
    # an error inside the mapped function names the per-example shapes
    with pytest.raises(ValueError, match=r"\(2,\).*\(5,\)"):
        fg.vmap(lambda v: v + fg.zeros(5))(x3)
