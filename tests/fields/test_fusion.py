"""jit's fusion pass and kernel generator (fields/_fusion.py, fields/_codegen.py).

Scalar fused kernels call the eager kernels' own bodies, so on every op-spec entry fused jit,
unfused jit and eager agree bit for bit. Vector (SIMD) fused kernels can abort the process
instead of raising if they are wrong, so they first run in a subprocess (:func:`_simd_probe`),
twice: the second time under ``default_dtype="float64"`` with Taichi's offline cache warm.
"""

import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _codegen, _core, _fusion, _launch, _simd
from fieldgrad.fields._fusion import fused_p
from tests.opspec import ALL_SPECS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ON_CPU = fg.device_info()["arch"] == "cpu"


def _leaves(r):
    return [np.asarray(x) for x in (r if isinstance(r, (list, tuple)) else [r])]


def _same(got, want, msg=""):
    """Bit for bit on the CPU; on a GPU, within a few ulp (NVPTX code generation may contract
    across fused operations, and atomic adds run in any order)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, msg)
    if ON_CPU or got.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=msg)
    else:
        rtol = 1e-6 if got.dtype == np.float32 else 1e-14
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3, err_msg=msg)


def _fused(graph) -> list:
    return [e.params["cluster"] for e in graph.eqns if e.prim is fused_p]


def _launches(monkeypatch) -> list:
    """Record every kernel launch (the kernel objects) from now on."""
    calls = []
    real = _launch.launch

    def counting(k, *args):
        calls.append(k)
        return real(k, *args)

    monkeypatch.setattr(_launch, "launch", counting)
    return calls


# --- equality with unfused jit and eager on the op-spec table -----------------------------------


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[s.name for s in ALL_SPECS])
def test_fused_equals_unfused_and_eager_on_every_op(spec):
    for dt in spec.dtypes:
        rng = np.random.default_rng(zlib.crc32(f"fusion-{spec.name}".encode()))
        for args in spec.sample(rng, dt):
            ts = [fg.tensor(a) for a in args]

            def f(*xs):
                return spec.op(*xs, **spec.kwargs)

            eager = _leaves(f(*ts))
            fused = _leaves(fg.jit(f)(*ts))
            plain = _leaves(fg.jit(f, fuse=False)(*ts))
            for e, a, b in zip(eager, fused, plain):
                assert a.dtype == e.dtype and a.shape == e.shape, (dt, a.dtype, e.dtype)
                _same(b, e, f"{spec.name} {dt} unfused")
                _same(a, e, f"{spec.name} {dt} fused")


def test_every_elementwise_primitive_has_the_eager_body():
    """Each primitive built by the elementwise constructors is fusible, with the very body
    factory its eager kernel uses (compared by name: the factories are closures)."""
    table = _codegen.scalar_bodies()
    seen = set()
    for name, prim in _core.primitives().items():
        qual = getattr(prim.impl, "__qualname__", "")
        arity = {"unary_primitive": 1, "binary_primitive": 2, "ternary_primitive": 3}.get(
            qual.split(".")[0]
        )
        if arity is None:
            continue
        seen.add(name)
        assert name in table and table[name][0] == arity, name
        cells = dict(zip(prim.impl.__code__.co_freevars, prim.impl.__closure__))
        assert table[name][1].__name__ == cells["fn_factory"].cell_contents.__name__, name
    assert {"add", "tanh", "select", "eq", "isnan"} <= seen
    assert set(table) == seen


# --- what gets fused ---------------------------------------------------------------------------


def _chain(x, w, b):
    return fg.tanh(x * w + b) ** 2 + fg.sin(x)


def _chain_np(x, w, b):
    return np.tanh(x * w + b) ** 2 + np.sin(x)


def test_a_chain_fuses_into_one_kernel_launch(monkeypatch):
    rng = np.random.default_rng(0)
    x = fg.tensor(rng.standard_normal((6, 5)))
    w = fg.tensor(rng.standard_normal((1, 5)))
    b = fg.tensor(0.25, dtype="float64")
    jf = fg.jit(_chain)
    g = jf.graph(x, w, b)
    assert len(g.eqns) == 1 and g.eqns[0].prim is fused_p
    counts = g.primitive_counts()
    assert counts["fused"] == 1 and counts["tanh"] == 1 and counts["integer_pow"] == 1
    assert "fused[cluster={mul add tanh integer_pow sin add" in str(g)
    want = _chain(x, w, b).numpy()
    calls = _launches(monkeypatch)
    got = jf(x, w, b).numpy()
    assert len(calls) == 1
    _same(got, want)
    calls.clear()
    fg.jit(_chain, fuse=False)(x, w, b)
    assert len(calls) == 6


def test_values_used_outside_are_written_and_internal_ones_are_not():
    def f(x, y):
        a = fg.exp(x) * y  # used outside: returned
        b = fg.sin(a) + 1.0  # internal only
        return a, b * b

    x, y = fg.tensor([0.5, -1.0, 2.0]), fg.tensor([1.0, 2.0, 3.0])
    (c,) = _fused(fg.jit(f).graph(x, y))
    assert len(c.out_avals) == 2 and len(c.ops) == 5
    for got, want in zip(fg.jit(f)(x, y), f(x, y)):
        _same(got.numpy(), want.numpy())


def test_siblings_merge_through_a_common_consumer():
    f = fg.jit(lambda x, y: fg.sin(x) * fg.cos(y) + fg.exp(y))
    x, y = fg.tensor([0.1, 0.2]), fg.tensor([0.3, 0.4])
    g = f.graph(x, y)
    assert len(g.eqns) == 1 and len(_fused(g)[0].ops) == 5
    _same(f(x, y).numpy(), (fg.sin(x) * fg.cos(y) + fg.exp(y)).numpy())


def test_no_cycles_through_unfusible_ops():
    """A cluster value feeding a matmul whose result comes back into the chain must not merge
    the two elementwise parts into one kernel around the matmul."""
    w = fg.tensor(np.random.default_rng(1).standard_normal((4, 4)))

    def f(x):
        a = fg.exp(x) + 1.0
        m = a @ w
        s = fg.sum(a)  # a row sum of a cluster value
        return fg.tanh(a + m) * s, a * s

    x = fg.tensor(np.random.default_rng(2).standard_normal((3, 4)))
    g = fg.jit(f).graph(x)
    names = [e.prim.name for e in g.eqns]
    assert names.index("matmul") < max(k for k, n in enumerate(names) if n == "fused")
    for got, want in zip(fg.jit(f)(x), f(x)):
        _same(got.numpy(), want.numpy())


def test_single_ops_stay_unfused_and_fuse_false_fuses_nothing():
    x = fg.tensor([1.0, 2.0])
    assert [e.prim.name for e in fg.jit(fg.exp).graph(x).eqns] == ["exp"]
    g = fg.jit(lambda x: fg.exp(x) * 2.0, fuse=False).graph(x)
    assert not _fused(g) and g.primitive_counts() == {"exp": 1, "mul": 1}
    assert not _fused(fg.make_graph(lambda x: fg.exp(x) * 2.0, optimize=True)(x))


def test_many_inputs_split_into_kernels_within_taichis_argument_limit():
    xs = [fg.tensor(np.full(5, float(k))) for k in range(90)]

    def f(*xs):
        acc = xs[0]
        for x in xs[1:]:
            acc = acc + x * 0.5
        return acc

    g = fg.jit(f).graph(*xs)
    clusters = _fused(g)
    assert len(clusters) >= 2 and sum(len(c.ops) for c in clusters) == 178
    _same(fg.jit(f)(*xs).numpy(), f(*xs).numpy())


# --- broadcasting, dtypes, reductions ----------------------------------------------------------


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("shape_w", [(7, 1), (1, 5), (), (5,), (7, 5)])
def test_broadcast_inputs_inside_a_cluster(dt, shape_w):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 5)).astype(dt)
    w = np.asarray(rng.standard_normal(shape_w)).astype(dt)
    b = np.asarray(rng.standard_normal((1, 5))).astype(dt)
    f = fg.jit(_chain)
    args = (fg.tensor(x), fg.tensor(w), fg.tensor(b))
    assert len(f.graph(*args).eqns) == 1
    _same(f(*args).numpy(), _chain(*args).numpy())
    np.testing.assert_allclose(f(*args).numpy(), _chain_np(x, w, b), rtol=1e-6, atol=1e-6)


def test_ints_bools_and_conversions_in_one_cluster():
    def f(i, x):
        m = (i % 3 == 1) | (x > 0.5)  # bool values in registers
        k = fg.astype(m, "int32") * i + 2
        return fg.where(m, x * 2.0, fg.astype(k, "float32")), fg.astype(x, "int64") + k

    i = fg.tensor(np.arange(-6, 6, dtype=np.int32))
    x = fg.tensor(np.linspace(-2, 2, 12).astype(np.float32))
    assert len(_fused(fg.jit(f).graph(i, x))) == 1
    for got, want in zip(fg.jit(f)(i, x), f(i, x)):
        assert got.dtype == want.dtype
        _same(got.numpy(), want.numpy())


@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "bool"])
@pytest.mark.parametrize("shape,axis", [((9, 6), -1), ((9, 6), None), ((3, 9000), -1),
                                        ((20000,), None), ((4, 1, 6), (1, 2))])  # fmt: skip
def test_row_sums_fuse_and_equal_the_eager_reduction(dt, shape, axis):
    rng = np.random.default_rng(4)
    if dt == "bool":
        x = rng.uniform(size=shape) < 0.5
    else:
        x = (rng.standard_normal(shape) * 3).astype(dt)

    def f(x):
        y = fg.abs(x) if dt == "bool" else x * x + 1
        return fg.sum(y, axis=axis), y

    t = fg.tensor(x)
    g = fg.jit(f).graph(t)
    if dt != "bool" and t.size < 4096:
        (c,) = _fused(g)
        assert c.reductions and c.variant == "reduce"
    for got, want in zip(fg.jit(f)(t), f(t)):
        assert got.dtype == want.dtype and got.shape == want.shape
        _same(got.numpy(), want.numpy())


def test_row_sums_of_different_lengths_stay_in_separate_kernels():
    def f(x, y):
        a, b = x * 2.0, fg.exp(y)
        return fg.sum(a, axis=-1), fg.sum(b), fg.sum(a * b, axis=-1), a + b

    x, y = fg.tensor(np.arange(20.0).reshape(4, 5)), fg.tensor(np.ones((4, 5)) / 7)
    clusters = _fused(fg.jit(f).graph(x, y))
    assert sorted(c.red_m for c in clusters) == [5, 20]
    for got, want in zip(fg.jit(f)(x, y), f(x, y)):
        _same(got.numpy(), want.numpy())


def test_a_sum_over_leading_axes_is_not_fused():
    x = fg.tensor(np.ones((4, 3)))
    g = fg.jit(lambda x: fg.sum(fg.exp(x) * 2.0, axis=0)).graph(x)
    assert [e.prim.name for e in g.eqns] == ["fused", "reduce_sum"]


# --- inspection and caching ---------------------------------------------------------------------


def test_generated_source_is_dumpable(capsys):
    seen = []
    x, w, b = fg.ones((3, 4)), fg.ones((1, 4)), fg.tensor(0.5)
    fg.jit(_chain, dump_source=seen.append)(x, w, b)
    (src,) = seen
    assert "@ti.kernel" in src and "f_tanh(" in src and "for i in range(n):" in src
    assert src == _fusion.sources(fg.jit(_chain).graph(x, w, b))[0]
    with open(_codegen.module_path(src), encoding="utf-8") as fh:
        assert fh.read() == src
    fg.jit(_chain, dump_source=True)(x, w, b)
    out = capsys.readouterr().out
    assert "def build(F, serial):" in out and _codegen.module_path(src) in out


def test_kernel_modules_live_in_a_per_user_cache_directory(monkeypatch):
    monkeypatch.setenv("FIELDGRAD_CACHE_DIR", os.path.join("somewhere", "fg"))
    assert _codegen.cache_dir() == os.path.join("somewhere", "fg", "kernels")
    monkeypatch.delenv("FIELDGRAD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "xdg")
    assert _codegen.cache_dir() == os.path.join("xdg", "fieldgrad", "kernels")
    monkeypatch.delenv("XDG_CACHE_HOME")
    home = os.path.expanduser("~")
    assert _codegen.cache_dir() == os.path.join(home, ".cache", "fieldgrad", "kernels")


@pytest.mark.parametrize("sizes", [(10, 37), (5000, 7000)])
def test_kernels_compile_once_per_structure_not_per_shape(sizes):
    f = fg.jit(_chain)
    rng = np.random.default_rng(5)
    results = []
    before = None
    for n in sizes:
        x = fg.tensor(rng.standard_normal((n, 16)).astype(np.float32))
        w = fg.tensor(rng.standard_normal((1, 16)).astype(np.float32))
        results.append((f(x, w, 0.5).numpy(), _chain(x, w, 0.5).numpy()))
        if before is None:
            before = (_launch.cache_size(), len(_codegen._modules))
    assert f.cache_info()["misses"] == 2
    assert (_launch.cache_size(), len(_codegen._modules)) == before
    for got, want in results:
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


def test_fused_primitive_is_internal_to_plans():
    x = fg.tensor([0.5, 1.0])
    g = fg.jit(lambda x: fg.exp(x) * x + 1.0).graph(x)
    (eqn,) = g.eqns
    c = eqn.params["cluster"]
    assert fused_p.abstract_eval(x.aval, cluster=c) == list(c.out_avals)

    def f(v):
        return fused_p.bind(v, *[v for _ in eqn.ins[1:]], cluster=c)[0]

    (out,) = fused_p.bind(x, *g.consts, cluster=c)
    np.testing.assert_allclose(out.numpy(), np.exp([0.5, 1.0]) * [0.5, 1.0] + 1.0, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="'fused' has no jvp rule: it is internal"):
        fg.jvp(f, (x,), (x,))
    with pytest.raises(NotImplementedError, match="'fused' has no vjp rule"):
        fg.grad(lambda v: fg.sum(f(v)))(x)
    with pytest.raises(NotImplementedError, match="'fused' has no batch rule"):
        fg.vmap(f)(fg.ones((2, 2)))


def test_jit_of_transforms_fuses_and_matches():
    def loss(w, x):
        return fg.mean(fg.tanh(x @ w) ** 2 + fg.sin(x @ w))

    rng = np.random.default_rng(6)
    w = fg.tensor(rng.standard_normal((3, 2)))
    x = fg.tensor(rng.standard_normal((5, 3)))
    jg = fg.jit(fg.grad(loss))
    assert _fused(jg.graph(w, x))
    _same(jg(w, x).numpy(), fg.grad(loss)(w, x).numpy())
    _same(fg.grad(fg.jit(loss))(w, x).numpy(), jg(w, x).numpy())


# --- the vector (SIMD) kernels, first in a subprocess --------------------------------------------

N_SIMD = 5003  # an odd tail: the last lane group is partly padding


def _simd_cases(np_, fg_):
    """(name, fieldgrad function, numpy reference, inputs) of the vector-kernel checks."""
    rng = np_.random.default_rng(11)
    n, m = N_SIMD, 32

    def u(*shape, lo=-3.0, hi=3.0, dt="float32"):
        return rng.uniform(lo, hi, shape).astype(dt)

    def taylor(z, z1, z2):
        t = fg_.tanh(z)
        d = 1.0 - t * t
        t1 = d * z1
        return t, t1, d * z2 - 2.0 * t * t1 * z1

    def taylor_np(z, z1, z2):
        t = np_.tanh(z)
        d = 1.0 - t * t
        t1 = d * z1
        return t, t1, d * z2 - 2.0 * t * t1 * z1

    def mix(x, y):
        return fg_.sqrt(fg_.abs(x)) * fg_.exp(y * 0.5) - fg_.log(x * x + 1.0) / fg_.cos(y) ** 3

    def mix_np(x, y):
        return np_.sqrt(np_.abs(x)) * np_.exp(y * 0.5) - np_.log(x * x + 1.0) / np_.cos(y) ** 3

    def act(x, y):
        return fg_.maximum(fg_.sigmoid(x) - fg_.floor(y), fg_.minimum(-x, fg_.ceil(y))) ** -2

    def act_np(x, y):
        s = 1 / (1 + np_.exp(-x))
        return np_.maximum(s - np_.floor(y), np_.minimum(-x, np_.ceil(y))) ** -2.0

    edges = np_.array([np_.nan, np_.inf, -np_.inf, 0.0, -0.0, 1e30, -1e30, 89.0, -104.0, 8192.5])
    special = u(n)
    special[: len(edges)] = edges
    rows = (n // m + 1, m)
    return [
        ("taylor", taylor, taylor_np, [u(n), u(n), u(n)]),
        ("taylor-f64-arith", lambda x, y: (x * y - 2.0 * y) / (x * x + 1.0) - y ** 3,
         lambda x, y: (x * y - 2.0 * y) / (x * x + 1.0) - y ** 3,
         [u(n, dt="float64"), u(n, dt="float64")]),
        ("mix", mix, mix_np, [u(n), u(n)]),
        ("act", act, act_np, [u(n), u(n)]),
        ("special", mix, mix_np, [special, special[::-1].copy()]),
        ("row-col-scalar", lambda x, b, c, s: fg_.tanh(x * c + b) * s + fg_.sin(b),
         lambda x, b, c, s: np_.tanh(x * c + b) * s + np_.sin(b),
         [u(*rows), u(1, m), u(rows[0], 1), np_.array(1.5, np_.float32)]),
        ("gather", lambda x, b, c: fg_.exp(x - b) * c, lambda x, b, c: np_.exp(x - b) * c,
         [u(401, 13), u(13), u(401, 1)]),
        ("sum-after-simd", lambda x: (fg_.sum(fg_.tanh(x) * 2.0 + x, axis=-1), fg_.tanh(x)),
         lambda x: (np_.sum(np_.tanh(x) * 2.0 + x, axis=-1), np_.tanh(x)), [u(*rows)]),
        # Comparisons, select and bool->float conversions as per-lane masks (NaN, +-0, ties).
        ("masks", lambda x, y: (fg_.where(x < y, x * 2.0, y - 1.0)
                                + fg_.astype(fg_.equal(x, y), "float32") * 3.0
                                - fg_.astype(x <= y, "float32") + fg_.astype(x != y, "float32")
                                + fg_.where(fg_.isfinite(x), 0.5, x)
                                + fg_.where(fg_.isnan(y), 2.0, y)),
         lambda x, y: (np_.where(x < y, x * 2.0, y - 1.0) + (x == y) * 3.0 - (x <= y)
                       + (x != y) + np_.where(np_.isfinite(x), 0.5, x)
                       + np_.where(np_.isnan(y), 2.0, y)).astype(np_.float32),
         [special, np_.where(np_.arange(n) % 3 == 0, special, special[::-1]).copy()]),
        ("relu-grad-f64", lambda x, g: fg_.grad(lambda z: (fg_.relu(z) * g).sum())(x),
         lambda x, g: np_.where(x > 0, g, np_.where(x == 0, 0.5 * g, 0.0)),
         [np_.where(np_.arange(n) % 7 == 0, 0.0, u(n, dt="float64")), u(n, dt="float64")]),
        # Small clusters take the scalar kernels (compiled here too, to check they print nothing).
        ("small-scalar", lambda x, i: fg_.where(i > 0, fg_.tanh(x), fg_.astype(i, "float32")),
         lambda x, i: np_.where(i > 0, np_.tanh(x), i.astype(np_.float32)),
         [u(50), rng.integers(-3, 3, 50).astype(np_.int32)]),
        ("small-reduce", lambda x: fg_.sum(fg_.exp(x) * x, axis=-1),
         lambda x: np_.sum(np_.exp(x) * x, axis=-1), [u(7, 9)]),
    ]  # fmt: skip


# Lanes of the fused kernels each probe case must get.
_SIMD_LANES = {
    "taylor-f64-arith": [8],
    "relu-grad-f64": [8],
    "small-scalar": [0],
    "small-reduce": [0],
}


def _simd_probe(default_dtype: str) -> None:
    """Run every vector-kernel case (in a subprocess); print one JSON line of findings."""
    fg.init(arch="cpu", default_dtype=default_dtype)
    found = {}
    for name, f, ref, args in _simd_cases(np, fg):
        ts = [fg.tensor(a) for a in args]
        jf = fg.jit(f)
        clusters = _fused(jf.graph(*ts))
        jf(*ts)  # the first call records; the second replays (fields/_replay.py)
        got, eager = _leaves(jf(*ts)), _leaves(f(*ts))
        with np.errstate(all="ignore"):
            want = _leaves(ref(*args))
        err, same_nan, same_eager = 0.0, True, True
        for g, e, w in zip(got, eager, want):
            if not np.issubdtype(w.dtype, np.floating) or w.dtype.itemsize < 4:
                w = w.astype(np.float64)
            w = w.astype(g.dtype)
            same_nan &= bool(np.array_equal(np.isnan(g), np.isnan(w)))
            same_nan &= bool(np.array_equal(g[np.isinf(w)], w[np.isinf(w)]))
            same_eager &= bool(np.array_equal(g, e, equal_nan=True))
            fin = np.isfinite(w)
            scale = np.maximum(np.abs(w[fin]), 1.0)
            err = max(err, float(np.max(np.abs(g[fin] - w[fin]) / scale, initial=0.0)))
        found[name] = {
            "lanes": [c.lanes for c in clusters],
            "err": err,
            "same_nan_inf": same_nan,
            "same_as_eager": same_eager,
        }
    print(json.dumps(found))


def _run_probe(default_dtype: str) -> dict:
    code = (
        f"import sys; sys.path.insert(0, {ROOT!r}); "
        f"from tests.fields.test_fusion import _simd_probe; _simd_probe({default_dtype!r})"
    )
    # (SyntaxWarnings: Taichi 1.7.4's own sources under Python 3.12, printed at first import.)
    cmd = [sys.executable, "-W", "ignore::SyntaxWarning", "-c", code]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, f"SIMD probe crashed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and not proc.stderr.strip(), (proc.stdout[-2000:], proc.stderr[-2000:])
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def simd_results():
    return [_run_probe("float32"), _run_probe("float64")]


def test_simd_clusters_match_numpy_and_eager(simd_results):
    for found in simd_results:
        assert len(found) == 12
        for name, r in found.items():
            assert r["lanes"] == _SIMD_LANES.get(name, [16]), (name, r)
            assert r["err"] < 2e-5, (name, r)
            assert r["same_nan_inf"], (name, r)
            assert r["same_as_eager"], (name, r)


cpu_only = pytest.mark.skipif(not ON_CPU, reason="vector kernels are for the CPU")


@cpu_only
def test_simd_kinds_of_broadcast_in_the_generated_source():
    x = fg.ones((N_SIMD // 32 + 1, 32))
    f = fg.jit(lambda x, b, c, g: fg.tanh(x * c + b) * g * 1.5)
    (c,) = _fused(f.graph(x, fg.ones((1, 32)), fg.ones((x.shape[0], 1)), fg.ones((1, 1))))
    src = _codegen.source(c)
    assert c.lanes == 16 and "V = ti.types.vector(16, ti.f32)" in src
    assert "x1[(i * 16 // d1) % m1]" in src and "x2[i % m2]" in src and "c3 = x3[0]" in src
    assert "f_ipow" not in src and "range(g)" in src


def test_simd_switch_off_gives_scalar_fused_kernels(monkeypatch):
    monkeypatch.setattr(_simd, "enabled", False)
    x = fg.tensor(np.linspace(-3, 3, N_SIMD).astype(np.float32))
    f = fg.jit(lambda x: fg.tanh(x) * x + 1.0)
    (c,) = _fused(f.graph(x))
    assert c.lanes == 0 and c.variant == "scalar"
    _same(f(x).numpy(), (fg.tanh(x) * x + 1.0).numpy())


def test_large_vector_clusters_with_two_threads_do_not_crash():
    """Regression: a parallel real-vector launch of a fused tanh chain at 2**21 elements with
    two threads crashed the process; vector clusters now run serially."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import numpy as np, fieldgrad as fg
        fg.init(cpu_max_num_threads=2)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((65536, 32)).astype(np.float32)
        b = rng.standard_normal((32,)).astype(np.float32)
        x, w = fg.tensor(a), fg.tensor(b)
        got = fg.jit(lambda x, w: fg.tanh(x * w + 1.0) * x)(x, w).numpy()
        want = np.tanh(a * b + 1.0) * a
        assert np.allclose(got, want, rtol=2e-5, atol=1e-6)
        print("ok")
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
