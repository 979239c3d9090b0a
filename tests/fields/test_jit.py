"""fg.jit: equal to eager on every op, cache behaviour, graph passes, compositions, errors."""

import zlib

import numpy as np
import pytest

import fieldgrad as fg
from tests.opspec import ALL_SPECS

CASES = list(ALL_SPECS)


def _np(r):
    if isinstance(r, (list, tuple)):
        return [_np(x) for x in r]
    return np.asarray(r)


@pytest.mark.parametrize("spec", CASES, ids=[s.name for s in CASES])
def test_jit_equals_eager_on_every_op(spec):
    dt = spec.dtypes[0]
    rng = np.random.default_rng(zlib.crc32(f"jit-{spec.name}".encode()))
    for args in spec.sample(rng, dt)[:3]:
        tensors = [fg.tensor(a) for a in args]
        eager = spec.op(*tensors, **spec.kwargs)
        jitted = fg.jit(lambda *xs: spec.op(*xs, **spec.kwargs))
        got = jitted(*tensors)
        ge, gj = _np(eager), _np(got)
        if isinstance(ge, list):
            for a, b in zip(ge, gj):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(gj, ge)


@pytest.mark.parametrize("spec", CASES, ids=[s.name for s in CASES])
def test_replayed_calls_equal_eager_and_keep_earlier_outputs(spec):
    """The second and later calls of a plan replay its recorded launches (fields/_replay.py)."""
    dt = spec.dtypes[0]
    rng = np.random.default_rng(zlib.crc32(f"replay-{spec.name}".encode()))
    a1 = spec.sample(rng, dt)[0]
    a2 = [rng.permutation(np.asarray(a).reshape(-1)).reshape(np.shape(a)) for a in a1]
    t1, t2 = [fg.tensor(a) for a in a1], [fg.tensor(a) for a in a2]
    jitted = fg.jit(lambda *xs: spec.op(*xs, **spec.kwargs))
    want1, want2 = _np(spec.op(*t1, **spec.kwargs)), _np(spec.op(*t2, **spec.kwargs))
    first = jitted(*t1)
    second = jitted(*t2)
    third = jitted(*t1)
    for got, want in ((first, want1), (second, want2), (third, want1)):
        for a, b in zip(_leaves_np(got), _leaves_np(want)):
            np.testing.assert_array_equal(a, b)


def _leaves_np(x):
    x = _np(x)
    return x if isinstance(x, list) else [x]


@pytest.mark.parametrize(
    "spec",
    [s for s in CASES if s.grad_order > 0 and "float64" in s.dtypes][:60],
    ids=lambda s: s.name,
)
def test_jit_of_grad_equals_grad(spec):
    rng = np.random.default_rng(zlib.crc32(f"jitgrad-{spec.name}".encode()))
    args = next(a for a in spec.sample(rng, "float64") if all(np.size(x) for x in a))
    tensors = [fg.tensor(a) for a in args]
    diff = [k for k, a in enumerate(args) if k not in spec.nondiff_argnums and a.dtype.kind == "f"]

    def loss(*d):
        full = list(tensors)
        for k, v in zip(diff, d):
            full[k] = v
        out = spec.op(*full, **spec.kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return sum(fg.sum(fg.sin(o)) for o in outs)

    argnums = tuple(range(len(diff)))
    want = fg.grad(loss, argnums=argnums)(*[tensors[k] for k in diff])
    got = fg.jit(fg.grad(loss, argnums=argnums))(*[tensors[k] for k in diff])
    for w, g in zip(want, got):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-14)


def test_cache_hits_misses_and_retrace_on_new_shapes():
    f = fg.jit(lambda x, y: x * y + 1.0)
    x = fg.ones(3)
    f(x, x)
    f(x, x)
    assert f.cache_info() == {"hits": 1, "misses": 1, "entries": 1}
    f(fg.ones(4), fg.ones(4))  # new shape
    f(fg.ones(3, dtype="float64"), fg.ones(3, dtype="float64"))  # new dtype
    assert f.cache_info()["misses"] == 3
    f({"a": x}["a"], x)
    assert f.cache_info()["hits"] == 2


def test_static_argnums_and_pytrees():
    def f(params, x, n):
        out = x
        for _ in range(n):
            out = out * params["w"] + params["b"]
        return {"y": out, "n": fg.sum(out)}

    jf = fg.jit(f, static_argnums=2)
    p = {"w": fg.tensor(2.0), "b": fg.tensor(1.0)}
    r = jf(p, fg.ones(2), 3)
    assert r["y"].tolist() == [15.0, 15.0] and float(r["n"]) == 30.0
    jf(p, fg.ones(2), 4)
    assert jf.cache_info()["misses"] == 2
    with pytest.raises(TypeError, match="hashable"):
        jf(p, fg.ones(2), [1])


def test_python_control_flow_on_traced_values_is_a_clear_error():
    def f(x):
        if fg.sum(x) > 0:
            return x
        return -x

    with pytest.raises(TypeError, match="Python control flow"):
        fg.jit(f)(fg.ones(2))
    assert fg.jit(lambda x: fg.where(fg.sum(x) > 0, x, -x))(fg.ones(2)).tolist() == [1.0, 1.0]


def test_graph_passes():
    def f(x):
        a = fg.exp(x)
        b = fg.exp(x)  # CSE
        unused = fg.sin(x) * 3.0  # noqa: F841 - dead code
        c = fg.ones(3) * 2.0 + 1.0  # constant folding
        return (a + b) * 1.0 + c * 0.0 + 0.0

    g = fg.jit(f).graph(fg.ones(3))
    counts = g.primitive_counts()
    assert counts.get("exp") == 1 and "sin" not in counts and "full" not in counts
    raw = fg.make_graph(f)(fg.ones(3))
    assert raw.primitive_counts()["exp"] == 2 and "sin" in raw.primitive_counts()
    x = fg.tensor([0.1, 0.2, 0.3])
    np.testing.assert_allclose(fg.jit(f)(x).numpy(), f(x).numpy(), rtol=1e-7)
    assert "exp" in str(g) and "lambda" in str(g)


def test_compositions_with_transforms():
    W = fg.tensor(np.random.default_rng(0).standard_normal((3, 2)))

    def loss(w, x):
        return fg.mean(fg.tanh(x @ w) ** 2)

    x = fg.tensor(np.random.default_rng(1).standard_normal((5, 3)))
    want = fg.grad(loss)(W, x).numpy()
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(W, x).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(fg.grad(fg.jit(loss))(W, x).numpy(), want, rtol=1e-12)
    per = fg.vmap(fg.jit(lambda r: fg.sum(r * r)))(x)
    np.testing.assert_allclose(per.numpy(), (x.numpy() ** 2).sum(1), rtol=1e-12)
    j = fg.jit(lambda w: fg.jvp(lambda v: loss(v, x), (w,), (fg.ones_like(w),))[1])
    np.testing.assert_allclose(float(j(W)), float(np.sum(want)), rtol=1e-10)
    lap = fg.jit(lambda p: fg.laplacian(lambda q: fg.sum(fg.sin(q), axis=1), p))
    pts = fg.tensor(np.random.default_rng(2).standard_normal((4, 2)))
    np.testing.assert_allclose(lap(pts).numpy(), -np.sin(pts.numpy()).sum(1), rtol=1e-10)


def test_jit_does_not_retrace_constants_captured_in_closure():
    c = fg.tensor([1.0, 2.0])
    f = fg.jit(lambda x: x + c)
    assert f(fg.zeros(2)).tolist() == [1.0, 2.0]
    assert f.graph(fg.zeros(2)).consts[0] is c


def test_transposes_fold_into_matmul_and_zero_tangents_vanish():
    rng = np.random.default_rng(3)
    W = fg.tensor(rng.standard_normal((3, 4)))
    x = fg.tensor(rng.standard_normal((6, 3)))

    def loss(w, x):
        # forward mode inside reverse mode: the tangent of w is a zero constant
        t = fg.jvp(lambda v: fg.tanh(v @ w), (x,), (fg.ones_like(x),))[1]
        return fg.sum(t**2)

    g = fg.jit(fg.grad(loss)).graph(W, x)
    counts = g.primitive_counts()
    assert counts.get("matmul_t", 0) >= 1 and "transpose" not in counts
    np.testing.assert_allclose(
        fg.jit(fg.grad(loss))(W, x).numpy(), fg.grad(loss)(W, x).numpy(), rtol=1e-12
    )
    raw = fg.make_graph(fg.grad(loss))(W, x)
    assert sum(raw.primitive_counts().values()) > sum(counts.values())
    fg.check_grads(
        lambda a, b: fg.fields._ops_matmul_t.matmul_t(a, b, True, False),
        (x, fg.tensor(rng.standard_normal((6, 2)))),
        order=2,
    )


def test_replayed_plan_called_from_two_threads_gives_each_its_own_result():
    import threading

    f = fg.jit(lambda x, w: fg.tanh(x @ w) * 2.0 + x.sum())
    w = fg.tensor(np.eye(8, dtype=np.float32))
    xs = [fg.tensor(np.full((4, 8), k, dtype=np.float32)) for k in range(6)]
    want = [np.tanh(x.numpy() @ w.numpy()) * 2.0 + x.numpy().sum() for x in xs]
    f(xs[0], w)
    errors = []

    def work(k):
        for _ in range(50):
            got = f(xs[k], w).numpy()
            if not np.allclose(got, want[k], rtol=1e-6):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
