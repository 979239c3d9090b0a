"""The SIMD fast path for large elementwise work on the CPU (fields/_simd.py, _simd_math.py).

A faulty vector kernel can abort the process instead of raising, so every vector body is first
run in a subprocess (:func:`_probe`): a crash there fails these tests instead of killing pytest.
The subprocess runs twice, the second time under ``default_dtype="float64"`` with Taichi's
offline cache warm: the float32 kernels must keep float32 literals and print nothing, and kernels
loaded from the cache (compiled with the per-kernel real-vector settings) must still be right.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _buffer, _launch, _simd
from fieldgrad.fields._core import primitives
from fieldgrad.fields._tensor import Tensor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = (1 << 15) + 5  # an odd tail: the last lane group is partly padding
RTOL, ATOL = 2e-5, 1e-6

# Edge values every probe input contains (placed in the first lane groups).
EDGES = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-30, -1e-30,
         1e-7, 3e38, -3e38, 88.72, 88.73, -87.3, -103.9, 7.9053, -7.9053, 8192.0, -8192.0,
         8192.5, 1e4, -3e5, 1e6, 1e20, 3.0e-38]  # fmt: skip


def _domain(name: str, rng, n: int, dtype) -> np.ndarray:
    """Wide random inputs for one op (edge values first)."""
    u = rng.uniform
    parts = {
        "exp": [u(-110, 100, n // 2), u(-5, 5, n // 2)],
        "logistic": [u(-120, 120, n // 2), u(-8, 8, n // 2)],
        "tanh": [u(-20, 20, n // 2), u(-1e-2, 1e-2, n // 4), u(-1, 1, n // 4)],
        "sin": [u(-8192, 8192, n // 2), u(-10, 10, n // 4), u(-1e6, 1e6, n // 8)],
        "log": [10.0 ** u(-37, 38, n // 2), u(0, 5, n // 2)],
        "sqrt": [10.0 ** u(-30, 30, n // 2), u(-1, 4, n // 2)],
    }
    parts["cos"] = parts["sin"]
    chunks = parts.get(name, [u(-1e3, 1e3, n // 2), u(-2, 2, n // 2)])
    x = np.concatenate([np.asarray(EDGES, np.float64)] + chunks)
    x = np.resize(x, n)
    if name == "log":
        x[len(EDGES) :] = np.abs(x[len(EDGES) :])
    return x.astype(dtype)


def _probe(out_path: str, default_dtype: str) -> None:
    """Run every SIMD body (and scalar-operand variant) on wide inputs; save inputs, outputs.

    Runs in a subprocess. Subnormal inputs (lanes 40-43 of float32 probes) are written as bit
    patterns: a float conversion under the flush-to-zero mode Taichi sets would zero them.
    """
    fg.init(arch="cpu", default_dtype=default_dtype)
    cfg = __import__("taichi").lang.impl.current_cfg()
    flags_before = [cfg.real_matrix_scalarize, cfg.fast_math]
    rng = np.random.default_rng(1234)
    subnormal_bits = np.array([1, 0x00400000, 0x007FFFFF, -2147483647], np.int32)
    saved = {}
    for name, op in sorted(_simd.SIMD.items()):
        for dt in sorted(op.dtypes, key=str):
            args = [_domain(name, rng, N, dt) for _ in range(op.arity)]
            if op.arity == 2:  # mix the second operand's order so edge pairs differ
                args[1] = args[1][::-1].copy()
            if dt == np.float32:
                for a in args:
                    a[40:44] = subnormal_bits.view(np.float32)
            ts = [fg.tensor(a) for a in args]
            out = Tensor._new(_buffer.empty(N, dt), (N,), dt)
            fn = _simd.unary if op.arity == 1 else _simd.binary
            assert fn(name, *ts, out), f"{name} {dt} did not take the SIMD path"
            key = f"{name}|{np.dtype(dt).name}"
            saved[key + "|out"] = np.array(out.numpy())
            for k, a in enumerate(args):
                saved[f"{key}|in{k}"] = a
            if op.arity == 2:  # scalar operand, left and right, of shape () and (1, 1)
                scalars = (("L", np.asarray(1.75, dt)), ("R", args[0][8:9].reshape(1, 1)))
                for side, value in scalars:
                    s = fg.tensor(value)
                    o2 = Tensor._new(_buffer.empty(N, dt), (N,), dt)
                    pair = (s, ts[1]) if side == "L" else (ts[1], s)
                    assert _simd.binary(name, *pair, o2)
                    saved[f"{key}|{side}"] = np.array(o2.numpy())
                    saved[f"{key}|{side}s"] = np.array(s.numpy()).reshape(())
    saved["cfg"] = np.array([flags_before, [cfg.real_matrix_scalarize, cfg.fast_math]])
    np.savez(out_path, **saved)
    print(json.dumps({"kernels": _launch.cache_size()}))


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """Outputs of the SIMD kernels, computed in subprocesses (float32 and float64 defaults)."""
    results = {}
    for default in ("float32", "float64"):
        path = str(tmp_path_factory.mktemp("simd") / f"probe_{default}.npz")
        code = f"from tests.fields.test_simd import _probe; _probe({path!r}, {default!r})"
        env = dict(os.environ, FIELDGRAD_ARCH="cpu")
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, (
            f"SIMD probe ({default}) exited with {proc.returncode} (a negative code is a signal: "
            f"the process crashed)\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
        noise = [ln for ln in (proc.stdout + proc.stderr).splitlines() if not ln.startswith("{")]
        assert not noise, f"Taichi printed while compiling SIMD kernels ({default}): {noise[:5]}"
        with np.load(path) as z:
            results[default] = dict(z)
    return results


def _reference(name: str, args: list, dt) -> np.ndarray:
    """numpy's result, computed in float64 and rounded for float32 inputs."""
    a64 = [a.astype(np.float64) for a in args]
    with np.errstate(all="ignore"):
        fn = {
            "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
            "neg": np.negative, "abs": np.abs, "sqrt": np.sqrt, "max": np.maximum,
            "min": np.minimum, "floor": np.floor, "ceil": np.ceil, "exp": np.exp, "log": np.log,
            "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
            "logistic": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),
        }[name]  # fmt: skip
        return fn(*a64).astype(dt)


def _assert_close(name, got, want, exact):
    assert got.shape == want.shape
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    np.testing.assert_array_equal(nan_got, nan_want, err_msg=f"{name}: NaN positions differ")
    g, w = got[~nan_want], want[~nan_want]
    if exact:
        np.testing.assert_array_equal(g, w, err_msg=name)
    else:
        inf = np.isinf(w)
        np.testing.assert_array_equal(g[inf], w[inf], err_msg=f"{name}: infinities differ")
        np.testing.assert_allclose(g[~inf], w[~inf], rtol=RTOL, atol=ATOL, err_msg=name)


# float32 arithmetic is exact IEEE in both paths; only transcendentals are approximations.
_EXACT = {"add", "sub", "mul", "div", "neg", "abs", "sqrt", "max", "min", "floor", "ceil"}
CASES = [(n, str(np.dtype(d))) for n, op in sorted(_simd.SIMD.items()) for d in op.dtypes]


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("name,dt", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_simd_body_matches_numpy(probe, name, dt, default):
    saved = probe[default]
    key = f"{name}|{dt}"
    arity = _simd.SIMD[name].arity
    args = [saved[f"{key}|in{k}"] for k in range(arity)]
    want = _reference(name, args, dt)
    # Subnormal inputs (lanes 40-43 of float32 probes) are compared separately below.
    keep = np.ones(N, bool)
    if dt == "float32":
        keep[40:44] = False
    _assert_close(name, saved[f"{key}|out"][keep], want[keep], name in _EXACT)
    if arity == 2:
        for side in ("L", "R"):
            s = saved[f"{key}|{side}s"]
            pair = (np.full(N, s), args[1]) if side == "L" else (args[1], np.full(N, s))
            w2 = _reference(name, list(pair), dt)
            _assert_close(f"{name} scalar {side}", saved[f"{key}|{side}"][keep], w2[keep], True)


def test_simd_log_subnormals_and_specials(probe):
    out = probe["float32"]["log|float32|out"]
    ln2 = np.log(2.0)
    want = np.array([-149 * ln2, -127 * ln2, np.log(2.0**-126 * (1 - 2.0**-23)), np.nan])
    _assert_close("log of subnormals", out[40:44].astype(np.float64), want, False)
    x = probe["float32"]["log|float32|in0"]
    assert np.isnan(out[x < 0]).all()
    assert (out[x == 0] == -np.inf).all() and (out[x == np.inf] == np.inf).all()


def test_simd_special_values(probe):
    s = probe["float32"]
    x, y = s["exp|float32|in0"], s["exp|float32|out"]
    assert np.isnan(y[np.isnan(x)]).all() and (y[x == np.inf] == np.inf).all()
    assert (y[x == -np.inf] == 0).all() and (y[x > 89] == np.inf).all()
    for name in ("tanh", "logistic", "sin", "cos"):
        x, y = s[f"{name}|float32|in0"], s[f"{name}|float32|out"]
        assert np.isnan(y[np.isnan(x)]).all(), f"{name} does not propagate NaN"
    x, y = s["tanh|float32|in0"], s["tanh|float32|out"]
    assert (y[x == np.inf] == 1).all() and (y[x == -np.inf] == -1).all()
    for name in ("sin", "cos"):
        x, y = s[f"{name}|float32|in0"], s[f"{name}|float32|out"]
        assert np.isnan(y[np.isinf(x)]).all()


def test_simd_flags_restored_in_subprocess(probe):
    for default in ("float32", "float64"):
        before, after = probe[default]["cfg"].tolist()
        assert before == after
        assert after[0], "real_matrix_scalarize must stay on outside the SIMD kernels"


def test_every_simd_key_is_a_primitive():
    missing = sorted(set(_simd.SIMD) - set(primitives()))
    assert not missing, f"SIMD bodies for unknown primitives: {missing}"
    for name, op in _simd.SIMD.items():
        assert op.arity in (1, 2), name
        assert op.dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}, name


# Transcendentals with a float64 vector body (fields/_simd_math64.py) and its accuracy.
_F64_BODIES = {"exp": 4e-16, "tanh": 6e-16, "logistic": 6e-16}


def test_float64_vector_bodies_are_the_expected_ones():
    for name, op in _simd.SIMD.items():
        if name not in _EXACT:
            has64 = np.dtype(np.float64) in op.dtypes
            assert has64 == (name in _F64_BODIES), f"{name}: float64 body {has64}"


@pytest.mark.parametrize("name", sorted(_F64_BODIES))
def test_float64_transcendentals_are_accurate_to_a_few_ulp(probe, name):
    saved = probe["float32"]
    x = saved[f"{name}|float64|in0"]
    got = saved[f"{name}|float64|out"]
    with np.errstate(all="ignore"):
        want = {"exp": np.exp, "tanh": np.tanh, "logistic": lambda v: 1.0 / (1.0 + np.exp(-v))}[
            name
        ](x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    fin = np.isfinite(want) & (np.abs(want) > 1e-300)  # denormal results: absolute check below
    rel = np.abs(got[fin] - want[fin]) / np.abs(want[fin])
    assert rel.max() <= _F64_BODIES[name], (name, rel.max(), x[fin][np.argmax(rel)])
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    tiny = np.isfinite(want) & ~fin
    np.testing.assert_allclose(got[tiny], want[tiny], atol=1e-300)


# --- in-process checks (the kernels have passed the subprocess probe above) ------------------


def _simd_keys():
    return {k for k in _launch._cache if isinstance(k, tuple) and str(k[0]).startswith("simd")}


def test_public_ops_take_the_simd_path(probe):
    x = np.random.default_rng(0).uniform(-3, 3, 5000).astype(np.float32)
    t = fg.tensor(x)
    got = fg.exp(t).numpy()
    assert ("simd1", "exp", np.dtype(np.float32), True) in _simd_keys() or any(
        k[:3] == ("simd1", "exp", np.dtype(np.float32)) for k in _simd_keys()
    )
    np.testing.assert_allclose(got, np.exp(x.astype(np.float64)), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(fg.add(t, t).numpy(), x + x)
    np.testing.assert_array_equal(fg.multiply(t, 3.0).numpy(), x * np.float32(3.0))
    np.testing.assert_array_equal(fg.subtract(1.5, t).numpy(), np.float32(1.5) - x)


def test_simd_and_scalar_paths_agree(probe, monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.uniform(-50, 50, (70, 90)).astype(np.float32)
    y = rng.uniform(-50, 50, (70, 90)).astype(np.float32)
    tx, ty = fg.tensor(x), fg.tensor(y)
    ops = [fg.add, fg.subtract, fg.multiply, fg.divide, fg.maximum, fg.minimum]
    fast = [op(tx, ty).numpy() for op in ops] + [fg.exp(tx * 0.1).numpy()]
    monkeypatch.setattr(_simd, "enabled", False)
    slow = [op(tx, ty).numpy() for op in ops] + [fg.exp(tx * 0.1).numpy()]
    for f, s in zip(fast[:-1], slow[:-1]):
        np.testing.assert_array_equal(f, s)
    np.testing.assert_allclose(fast[-1], slow[-1], rtol=RTOL, atol=ATOL)


def test_simd_dispatch_conditions(probe):
    f32 = np.dtype(np.float32)
    big = fg.tensor(np.ones(5000, np.float32))
    out = Tensor._new(_buffer.empty(5000, f32), (5000,), f32)
    assert not _simd.unary("exp", fg.tensor(np.ones(100, np.float32)), out)  # too small
    assert not _simd.unary("sign", big, out)  # no vector body
    i32 = fg.tensor(np.ones(5000, np.int32))
    oi = Tensor._new(_buffer.empty(5000, i32.dtype), (5000,), i32.dtype)
    assert not _simd.binary("add", i32, i32, oi)
    x64 = fg.tensor(np.ones(5000))
    o64 = Tensor._new(_buffer.empty(5000, x64.dtype), (5000,), x64.dtype)
    assert not _simd.unary("sin", x64, o64)  # float64 sin/cos/log stay scalar
    assert _simd.unary("tanh", x64, o64)  # float64 exp/tanh/logistic have vector bodies
    assert _simd.binary("add", x64, x64, o64)  # float64 arithmetic is vectorised
    # operands broadcasting other than "same shape" or "one element" take the scalar kernels
    a = fg.tensor(np.ones((100, 50), np.float32))
    b = fg.tensor(np.ones((50,), np.float32))
    o = Tensor._new(_buffer.empty(5000, f32), (100, 50), f32)
    assert not _simd.binary("add", a, b, o)
    np.testing.assert_array_equal(fg.add(a, b).numpy(), np.full((100, 50), 2, np.float32))


def test_no_recompilation_per_shape(probe):
    shapes = [(5000,), (7001,), (30, 300), (2, 3, 1000), (65537,)]
    for shape in shapes[:1]:
        fg.tanh(fg.tensor(np.ones(shape, np.float32)))
        fg.add(fg.tensor(np.ones(shape, np.float32)), 1.0)
    before = _launch.cache_size()
    for shape in shapes:
        x = np.linspace(-2, 2, int(np.prod(shape)), dtype=np.float32).reshape(shape)
        got = fg.add(fg.tanh(fg.tensor(x)), 1.0)
        np.testing.assert_allclose(got.numpy(), np.tanh(x) + 1, rtol=RTOL, atol=ATOL)
    assert _launch.cache_size() == before


def test_misaligned_or_short_buffers_raise_not_crash():
    f32 = np.dtype(np.float32)
    good = _buffer.aligned_empty(5000 + 16, f32)
    good[:] = 1
    shifted = Tensor._new(good[1 : 1 + 5008], (5000,), f32)  # 4 bytes off the alignment
    out = Tensor._new(_buffer.empty(5000, f32), (5000,), f32)
    with pytest.raises(RuntimeError, match="aligned"):
        _simd.unary("exp", shifted, out)
    short = Tensor._new(_buffer.aligned_empty(5000, f32)[:4990], (4990,), f32)
    short_big = Tensor._new(short._buf, (5000,), f32)  # claims more elements than it holds
    with pytest.raises(RuntimeError, match="padded"):
        _simd.unary("exp", short_big, out)


def test_compile_flags_restored_after_simd_launch(probe):
    import taichi as ti

    cfg = ti.lang.impl.current_cfg()
    before = (cfg.real_matrix_scalarize, cfg.fast_math, ti.lang.impl.get_runtime().default_fp)
    fg.tanh(fg.tensor(np.linspace(-3, 3, 3000, dtype=np.float32)))
    after = (cfg.real_matrix_scalarize, cfg.fast_math, ti.lang.impl.get_runtime().default_fp)
    assert before == after


def test_large_simd_ops_with_two_threads_do_not_crash():
    """Regression: parallel real-vector launches (maximum with a scalar at 2**22 elements, two
    threads) crashed the process; SIMD kernels now run serially."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import numpy as np, fieldgrad as fg
        fg.init(cpu_max_num_threads=2)
        a = np.random.default_rng(0).random(1 << 22).astype(np.float32)
        x = fg.tensor(a)
        assert np.array_equal(fg.maximum(x, 0.5).numpy(), np.maximum(a, np.float32(0.5)))
        assert np.allclose(fg.tanh(x).numpy(), np.tanh(a), rtol=2e-5, atol=1e-6)
        print("ok")
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
