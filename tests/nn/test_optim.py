"""Optimisers: torch-exact updates (numpy references, and torch itself when importable),
convergence on a convex quadratic, pytrees with None holes, dtypes, jit without retrace,
clipping and chaining."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn
from fieldgrad.nn import optim

# --- numpy references, written from torch.optim's single-tensor algorithms -----------------


def ref_sgd(p, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
    p, buf = p.copy(), None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_adam(
    p, grads, lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False
):
    p = p.copy()
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
        vh = vmax if amsgrad else v
        denom = np.sqrt(vh) / np.sqrt(1 - b2**t) + eps
        p = p - lr / (1 - b1**t) * m / denom
    return p


def ref_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0):
    p = p.copy()
    s, a, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            avg = np.sqrt(s - a * a) + eps
        else:
            avg = np.sqrt(s) + eps
        if momentum:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    return p


def ref_adagrad(
    p, grads, lr, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0, weight_decay=0.0
):
    p = p.copy()
    s = np.full_like(p, initial_accumulator_value)
    for step, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        clr = lr / (1 + (step - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


CASES = [
    ("sgd", dict(lr=0.1), ref_sgd),
    ("sgd", dict(lr=0.05, momentum=0.9), ref_sgd),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1), ref_sgd),
    ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01), ref_sgd),
    ("adam", dict(lr=0.01), ref_adam),
    ("adam", dict(lr=0.02, b1=0.8, b2=0.99, eps=1e-6, weight_decay=0.1), ref_adam),
    ("adam", dict(lr=0.01, amsgrad=True), ref_adam),
    (
        "adamw",
        dict(lr=0.01, weight_decay=0.1),
        lambda p, g, **k: ref_adam(p, g, decoupled=True, **k),
    ),
    (
        "adamw",
        dict(lr=0.01, weight_decay=0.05, amsgrad=True),
        lambda p, g, **k: ref_adam(p, g, decoupled=True, **k),
    ),
    ("rmsprop", dict(lr=0.01), ref_rmsprop),
    (
        "rmsprop",
        dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
        ref_rmsprop,
    ),
    ("rmsprop", dict(lr=0.01, momentum=0.9), ref_rmsprop),
    ("adagrad", dict(lr=0.1), ref_adagrad),
    (
        "adagrad",
        dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1),
        ref_adagrad,
    ),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw, _ in CASES]


def _grad_sequence(n=5, size=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=size), [rng.normal(size=size) for _ in range(n)]


def _run_fg(name, kw, p0, grads, dtype=np.float64):
    opt = getattr(optim, name)(**kw)
    p = fg.tensor(p0.astype(dtype))
    state = opt.init(p)
    for g in grads:
        p, state = opt.update(fg.tensor(g.astype(dtype)), state, p)
    return p, state


@pytest.mark.parametrize("name,kw,ref", CASES, ids=IDS)
def test_matches_numpy_reference(name, kw, ref):
    p0, grads = _grad_sequence()
    p, state = _run_fg(name, kw, p0, grads)
    np.testing.assert_allclose(p.numpy(), ref(p0, grads, **kw), rtol=1e-10, atol=1e-12)
    assert state.count.dtype == fg.int32 and int(state.count.numpy()) == len(grads)


_TORCH = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
}


def _torch_kwargs(name, kw):
    kw = dict(kw)
    if "b1" in kw or "b2" in kw:
        kw["betas"] = (kw.pop("b1", 0.9), kw.pop("b2", 0.999))
    if name in ("adam", "adamw"):
        kw.setdefault("weight_decay", 0.0 if name == "adam" else 1e-2)
    return kw


@pytest.mark.parametrize("name,kw,ref", CASES, ids=IDS)
def test_matches_torch(name, kw, ref):
    torch = pytest.importorskip("torch")
    p0, grads = _grad_sequence()
    p, _ = _run_fg(name, kw, p0, grads)
    tp = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    topt = getattr(torch.optim, _TORCH[name])([tp], **_torch_kwargs(name, kw))
    for g in grads:
        tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-12)


# --- convergence on 0.5 x^T A x - b^T x -----------------------------------------------------


def _quadratic(n=10, seed=1):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = q @ np.diag(np.linspace(1.0, 5.0, n)) @ q.T
    b = rng.normal(size=n)
    return a, b, np.linalg.solve(a, b)


CONVERGE = [
    ("sgd", optim.sgd(0.2), 150),
    ("sgd-nesterov", optim.sgd(0.1, momentum=0.5, nesterov=True), 150),
    ("adam", optim.adam(optim.schedules.exponential(0.1, 0.1, 100)), 400),
    ("adamw", optim.adamw(optim.schedules.cosine(0.1, 400), weight_decay=0.0), 400),
    ("rmsprop", optim.rmsprop(optim.schedules.exponential(0.03, 0.1, 100), centered=True), 400),
    ("adagrad", optim.adagrad(0.5), 400),
]


@pytest.mark.parametrize("label,opt,steps", CONVERGE, ids=[c[0] for c in CONVERGE])
def test_converges_on_convex_quadratic(label, opt, steps):
    a_np, b_np, x_star = _quadratic()
    a, b = fg.tensor(a_np), fg.tensor(b_np)

    def loss(x):
        return 0.5 * fg.sum(x * fg.matmul(a, x)) - fg.sum(b * x)

    @fg.jit
    def step(x, state):
        return opt.update(fg.grad(loss)(x), state, x)

    x = fg.zeros(10, dtype=fg.float64)
    state = opt.init(x)
    for _ in range(steps):
        x, state = step(x, state)
    err = np.abs(x.numpy() - x_star).max()
    assert err < 1e-4, f"{label}: |x - A^-1 b|_inf = {err:.3g} after {steps} steps"
    assert step.cache_info()["misses"] == 1


# --- pytrees, None holes, dtypes ------------------------------------------------------------


def test_nested_tree_with_none_holes_matches_flat_reference():
    rng = np.random.default_rng(3)
    a0, c0 = rng.normal(size=(2, 3)), rng.normal(size=4)
    params = {"a": [fg.tensor(a0), None, {"c": fg.tensor(c0)}], "z": None}
    ga, gc = rng.normal(size=(2, 3)), rng.normal(size=4)
    grads = {"a": [fg.tensor(ga), None, {"c": fg.tensor(gc)}], "z": None}
    opt = optim.adam(0.1, weight_decay=0.01)
    state = opt.init(params)
    new, state = opt.update(grads, state, params)
    assert new["z"] is None and new["a"][1] is None
    np.testing.assert_allclose(new["a"][0].numpy(), ref_adam(a0, [ga], 0.1, weight_decay=0.01))
    np.testing.assert_allclose(new["a"][2]["c"].numpy(), ref_adam(c0, [gc], 0.1, weight_decay=0.01))
    assert fg.tree_structure(state.mu) == fg.tree_structure(params)


def test_none_gradient_leaves_parameter_and_state_unchanged():
    params = {"w": fg.tensor(np.ones(3)), "b": fg.tensor(np.ones(2))}
    opt = optim.sgd(0.1, momentum=0.9)
    state = opt.init(params)
    grads = {"w": fg.tensor(np.full(3, 2.0)), "b": None}
    new, state2 = opt.update(grads, state, params)
    assert new["b"] is params["b"]
    np.testing.assert_allclose(new["w"].numpy(), 1 - 0.1 * 2.0)
    np.testing.assert_allclose(state2.momentum["b"].numpy(), 0.0)
    np.testing.assert_allclose(state2.momentum["w"].numpy(), 2.0)


class _Tiny(nn.Module):
    w: fg.Tensor
    b: fg.Tensor
    running: fg.Tensor = nn.buffer()


def test_partitioned_module_updates_trainable_only():
    m = _Tiny(fg.tensor(np.ones(3)), fg.tensor(np.zeros(1)), fg.tensor(np.full(2, 7.0)))
    train, frozen = nn.partition(m)

    def loss(train, frozen):
        model = nn.combine(train, frozen)
        return fg.sum(model.w**2) + fg.sum(model.b - 1.0) ** 2

    opt = optim.sgd(0.25)
    state = opt.init(train)
    grads = fg.grad(loss)(train, frozen)
    train, state = opt.update(grads, state, train)
    model = nn.combine(train, frozen)
    np.testing.assert_allclose(model.w.numpy(), 0.5)  # 1 - 0.25 * 2
    np.testing.assert_allclose(model.b.numpy(), 0.5)  # 0 - 0.25 * 2 * (0 - 1)
    np.testing.assert_allclose(model.running.numpy(), 7.0)


def test_module_params_with_none_field_in_grads():
    m = _Tiny(fg.tensor(np.ones(2)), fg.tensor(np.ones(3)), fg.tensor(np.zeros(1)))
    grads = m.replace(b=None, running=fg.tensor(np.zeros(1)))
    opt = optim.adam(0.1)
    state = opt.init(m)
    new, state = opt.update(grads, state, m)
    assert isinstance(new, _Tiny) and new.b is m.b
    np.testing.assert_allclose(new.w.numpy(), 0.9)  # Adam's first step moves w by lr
    np.testing.assert_allclose(state.mu.b.numpy(), 0.0)
    with pytest.raises(ValueError, match="leaf 1 has shape"):
        opt.update(m.replace(b=fg.tensor(np.ones(4))), state, m)


@pytest.mark.parametrize("name,kw,ref", CASES[::2], ids=IDS[::2])
def test_float32_leaves_stay_float32(name, kw, ref):
    kw = dict(kw, lr=optim.schedules.constant(kw["lr"]))  # a float64 schedule value too
    p0, grads = _grad_sequence(n=3)
    opt = getattr(optim, name)(**kw)
    params = {"f32": fg.tensor(p0.astype(np.float32)), "f64": fg.tensor(p0)}
    state = opt.init(params)
    for g in grads:
        gt = {"f32": fg.tensor(g.astype(np.float32)), "f64": fg.tensor(g)}
        params, state = opt.update(gt, state, params)
    assert params["f32"].dtype == fg.float32 and params["f64"].dtype == fg.float64
    for leaf in fg.tree_leaves(state)[1:]:
        assert leaf.dtype in (fg.float32, fg.float64)
    np.testing.assert_allclose(params["f32"].numpy(), params["f64"].numpy(), rtol=1e-4, atol=1e-5)


# --- jit --------------------------------------------------------------------------------------

JIT_OPTS = [
    optim.sgd(optim.schedules.warmup_cosine(0.1, 2, 10), momentum=0.9, dampening=0.1),
    optim.adam(optim.schedules.step(0.01, 2, 0.5), amsgrad=True, weight_decay=0.1),
    optim.adamw(0.01),
    optim.rmsprop(0.01, momentum=0.9, centered=True),
    optim.adagrad(optim.schedules.piecewise_constant([2], [0.1, 0.01]), lr_decay=0.1),
    optim.chain(optim.clip_by_global_norm(0.5), optim.adam(0.01)),
    optim.chain(optim.clip(0.1), optim.sgd(0.1)),
]


@pytest.mark.parametrize("opt", JIT_OPTS, ids=lambda o: repr(o)[:40])
def test_jit_update_traces_once_and_matches_eager(opt):
    p0, grads = _grad_sequence(n=5)
    params = {"w": fg.tensor(p0), "v": [fg.tensor(p0[:3].astype(np.float32))]}
    jstep = fg.jit(lambda g, s, p: opt.update(g, s, p))
    pj, sj = params, opt.init(params)
    pe, se = params, opt.init(params)
    for g in grads:
        gt = {"w": fg.tensor(g), "v": [fg.tensor(g[:3].astype(np.float32))]}
        pj, sj = jstep(gt, sj, pj)
        pe, se = opt.update(gt, se, pe)
    assert jstep.cache_info()["misses"] == 1, jstep.cache_info()
    np.testing.assert_allclose(pj["w"].numpy(), pe["w"].numpy(), rtol=1e-12)
    np.testing.assert_allclose(pj["v"][0].numpy(), pe["v"][0].numpy(), rtol=1e-6)
    assert pj["v"][0].dtype == fg.float32


def test_schedule_lr_matches_reference_across_boundary():
    p0, grads = _grad_sequence(n=4)
    sched = optim.schedules.piecewise_constant([2], [0.1, 0.01])
    p, _ = _run_fg("sgd", dict(lr=sched), p0, grads)
    want = p0 - 0.1 * (grads[0] + grads[1]) - 0.01 * (grads[2] + grads[3])
    np.testing.assert_allclose(p.numpy(), want, rtol=1e-12)


# --- clipping, chain, apply_updates ---------------------------------------------------------


def test_global_norm_matches_numpy():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=5).astype(np.float32)
    n = optim.global_norm({"a": fg.tensor(a), "b": [fg.tensor(b), None]})
    want = np.sqrt(np.sum(a**2) + np.sum(b.astype(np.float64) ** 2))
    assert n.shape == () and n.dtype == fg.float64
    np.testing.assert_allclose(float(n.numpy()), want, rtol=1e-7)
    assert optim.global_norm([fg.tensor(b)]).dtype == fg.float32


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_by_global_norm(max_norm):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=4), rng.normal(size=(2, 2))
    t = optim.clip_by_global_norm(max_norm)
    (ua, ub), _ = t.update((fg.tensor(a), fg.tensor(b)), t.init(None))
    norm = np.sqrt(np.sum(a**2) + np.sum(b**2))
    scale = min(1.0, max_norm / norm)
    np.testing.assert_allclose(ua.numpy(), a * scale, rtol=1e-12)
    np.testing.assert_allclose(ub.numpy(), b * scale, rtol=1e-12)
    got = np.sqrt(np.sum(ua.numpy() ** 2) + np.sum(ub.numpy() ** 2))
    np.testing.assert_allclose(got, min(norm, max_norm), rtol=1e-12)


def test_clip_by_value_and_clip():
    x = np.array([-3.0, -0.2, 0.0, 0.7, 5.0])
    u, _ = optim.clip_by_value(-0.5, 1.0).update([fg.tensor(x)], optim.EmptyState())
    np.testing.assert_array_equal(u[0].numpy(), np.clip(x, -0.5, 1.0))
    u, _ = optim.clip(0.3).update([fg.tensor(x)], optim.EmptyState())
    np.testing.assert_array_equal(u[0].numpy(), np.clip(x, -0.3, 0.3))


def test_chain_clip_then_adam_matches_reference():
    p0, grads = _grad_sequence(n=3)
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.05))
    p = fg.tensor(p0)
    state = opt.init(p)
    assert isinstance(state, tuple) and len(state) == 2
    clipped = [g * min(1.0, 1.0 / np.linalg.norm(g)) for g in grads]
    for g in grads:
        p, state = opt.update(fg.tensor(g), state, p)
    np.testing.assert_allclose(p.numpy(), ref_adam(p0, clipped, 0.05), rtol=1e-10)


def test_transform_then_apply_updates_equals_update():
    p0, grads = _grad_sequence(n=1)
    opt = optim.rmsprop(0.1, momentum=0.5)
    p = {"x": fg.tensor(p0)}
    s = opt.init(p)
    updates, _ = opt.transform({"x": fg.tensor(grads[0])}, s, p)
    via_apply = optim.apply_updates(p, updates)
    via_update, _ = opt.update({"x": fg.tensor(grads[0])}, s, p)
    np.testing.assert_array_equal(via_apply["x"].numpy(), via_update["x"].numpy())
    np.testing.assert_allclose(updates["x"].numpy(), via_apply["x"].numpy() - p0, rtol=1e-12)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: optim.sgd(-1.0), "lr"),
        (lambda: optim.sgd(0.1, momentum=1.5), "momentum"),
        (lambda: optim.sgd(0.1, nesterov=True), "nesterov"),
        (lambda: optim.adam(0.1, b1=1.0), "b1"),
        (lambda: optim.adamw(0.1, weight_decay=-1.0), "weight_decay"),
        (lambda: optim.rmsprop(0.1, alpha=-0.1), "alpha"),
        (lambda: optim.adagrad(0.1, lr_decay=-1.0), "lr_decay"),
        (lambda: optim.clip_by_global_norm(0.0), "max_norm"),
        (lambda: optim.clip_by_value(1.0, -1.0), "min_value"),
    ],
)
def test_bad_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_trees_and_shapes_raise():
    opt = optim.adam(0.1)
    params = {"w": fg.tensor(np.ones(3))}
    state = opt.init(params)
    with pytest.raises(ValueError, match="does not match"):
        opt.update({"v": fg.tensor(np.ones(3))}, state, params)
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        opt.update({"w": fg.tensor(np.ones(2))}, state, params)
    with pytest.raises(ValueError, match="leaves"):
        opt.update({"w": fg.tensor(np.ones(3))}, opt.init([params["w"]] * 2), params)
    with pytest.raises(TypeError, match="float tensor"):
        opt.init({"i": fg.tensor(np.ones(2, np.int32))})
    with pytest.raises(TypeError, match="chain"):
        optim.chain(optim.sgd(0.1), "adam")
