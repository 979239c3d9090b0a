"""The kernel cache and launch path (fields/_launch.py): the prepared launch must give exactly
what Taichi's normal call path gives, fall back to it for anything unusual, and never be used
where binding by pointer is unsafe (GPU ndarrays, debug mode, another Taichi version)."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _launch, _runtime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
on_cpu = pytest.mark.skipif(
    os.environ.get("FIELDGRAD_ARCH", "cpu").lower() != "cpu", reason="CPU launch path"
)


def _require_prepared():
    """Prepared launches need the CPU runtime outside debug mode (another test may have
    re-initialised the runtime differently)."""
    if not _launch._prepared_possible():
        pytest.skip("prepared launches are off in this runtime (debug mode or not the CPU)")


def _mixed_kernel():
    """A kernel with every argument kind the prepared launch binds."""
    ti = _runtime.taichi()

    @ti.kernel
    def mixed_k(
        x: ti.types.ndarray(ndim=1),
        y: ti.types.ndarray(ndim=1),
        n: ti.i32,
        a: ti.f32,
        v: ti.types.vector(8, ti.i32),
        u: ti.u32,
        big: ti.u64,
    ):
        ti.loop_config(serialize=True)
        for i in range(n):
            y[i] = a * x[i] + v[i % 8] + ti.cast(u % 7, ti.f32) + ti.cast(big % 5, ti.f32)

    return mixed_k


def _vector_kernel():
    ti = _runtime.taichi()
    V = ti.types.vector(4, ti.f32)

    @ti.kernel
    def vec_k(x: ti.types.ndarray(dtype=V, ndim=1), y: ti.types.ndarray(dtype=V, ndim=1)):
        for i in range(x.shape[0]):
            y[i] = x[i] * 2.0 + 1.0

    return vec_k


def _want_mixed(x, a=1.5, v=(1, 2, 3, 4, 5, 6, 7, 8), u=10, big=2**40 + 3):
    return a * x.astype(np.float64) + np.resize(np.asarray(v), x.size) + u % 7 + big % 5


def _run_mixed(k, x, n=None, a=1.5, v=(1, 2, 3, 4, 5, 6, 7, 8), u=10, big=2**40 + 3):
    y = np.zeros_like(x)
    _launch.launch(k, x, y, x.size if n is None else n, a, v, u, big)
    return y


@pytest.fixture
def counted(monkeypatch):
    """Counts launches that went through Taichi's normal call path."""
    calls = []
    slow = _launch._launch_slow

    def spy(k, args, p):
        calls.append(k)
        return slow(k, args, p)

    monkeypatch.setattr(_launch, "_launch_slow", spy)
    return calls


@on_cpu
def test_prepared_and_normal_paths_agree(counted, monkeypatch):
    _require_prepared()
    k = _launch.kernel(("test_launch_mixed",), _mixed_kernel)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s) for s in (1, 17, 300)]
    fast = [_run_mixed(k, x.astype(dt)) for x in xs for dt in (np.float32, np.float64)]
    assert len(counted) == 2  # one compiling call per dtype, then prepared launches
    assert len(k._fg_prep.instances) == 2
    monkeypatch.setattr(_launch, "prepared_enabled", False)
    slow = [_run_mixed(k, x.astype(dt)) for x in xs for dt in (np.float32, np.float64)]
    assert len(counted) == 8
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype
        np.testing.assert_array_equal(f, s)
    np.testing.assert_allclose(slow[-1], _want_mixed(xs[2]), rtol=1e-12)


@on_cpu
def test_prepared_launch_rebinds_every_buffer():
    k = _launch.kernel(("test_launch_mixed",), _mixed_kernel)
    for n in (5, 1000, 3, 64):
        x = np.arange(n, dtype=np.float32)
        y = _run_mixed(k, x, a=2.0, v=(0,) * 8, u=0, big=0)
        np.testing.assert_array_equal(y, 2 * x)


@on_cpu
def test_prepared_vector_element_arrays(counted):
    _require_prepared()
    k = _launch.kernel(("test_launch_vec",), _vector_kernel)
    for n in (3, 10):
        x = np.arange(4 * n, dtype=np.float32).reshape(n, 4)
        y = np.zeros_like(x)
        _launch.launch(k, x, y)
        np.testing.assert_array_equal(y, 2 * x + 1)
    assert len(counted) == 1
    # a wrong element shape falls back to Taichi, which raises its own error
    with pytest.raises(ValueError, match="element"):
        _launch.launch(k, np.zeros((3, 5), np.float32), np.zeros((3, 5), np.float32))


def _error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - comparing the two paths' errors
        return type(e), str(e)
    return None


@on_cpu
@pytest.mark.parametrize(
    "bad",
    [
        lambda k, x: _launch.launch(k, x[::2], np.zeros(50, x.dtype), 50, 1.0, (0,) * 8, 1, 1),
        lambda k, x: _launch.launch(k, x, np.zeros_like(x), 2.5, 1.0, (0,) * 8, 1, 1),
        lambda k, x: _launch.launch(k, x, np.zeros_like(x), 100, "a", (0,) * 8, 1, 1),
        lambda k, x: _launch.launch(k, x, np.zeros_like(x), 100, 1.0, (0,) * 3, 1, 1),
        lambda k, x: _launch.launch(k, x, np.zeros_like(x), 100, 1.0, (0,) * 8, 1),
        lambda k, x: _launch.launch(k, x.reshape(10, 10), np.zeros_like(x), 1, 1.0, (0,) * 8, 1, 1),
    ],
    ids=["non-contiguous", "float-size", "str-scalar", "short-vector", "missing-arg", "2-d"],
)
def test_bad_arguments_raise_as_taichi_does(bad, monkeypatch):
    k = _launch.kernel(("test_launch_mixed",), _mixed_kernel)
    x = np.ones(100, np.float32)
    _run_mixed(k, x)  # compiled and prepared
    fast = _error_of(lambda: bad(k, x))
    monkeypatch.setattr(_launch, "prepared_enabled", False)
    slow = _error_of(lambda: bad(k, x))
    assert slow is not None
    assert fast == slow


@on_cpu
def test_public_ops_identical_with_and_without_prepared_launch(monkeypatch):
    rng = np.random.default_rng(3)
    a = fg.tensor(rng.standard_normal((7, 9)).astype(np.float32))
    b = fg.tensor(rng.standard_normal((9,)).astype(np.float32))

    def work():
        return [
            fg.add(a, b).numpy(),
            fg.multiply(a, 2.5).numpy(),
            fg.exp(a).numpy(),
            fg.transpose(a).numpy(),
            fg.broadcast_to(b, (4, 9)).numpy(),
        ]

    fast = work()
    monkeypatch.setattr(_launch, "prepared_enabled", False)
    slow = work()
    for f, s in zip(fast, slow):
        np.testing.assert_array_equal(f, s)


@on_cpu
def test_no_prepared_launch_for_other_taichi_versions(monkeypatch):
    monkeypatch.setattr(_launch, "PREPARED_TAICHI_VERSION", (0, 0, 0))
    k = _launch.kernel(("test_launch_mixed", "other-version"), _mixed_kernel)
    y = _run_mixed(k, np.ones(10, np.float32))
    assert k._fg_prep is False
    np.testing.assert_allclose(y, _want_mixed(np.ones(10)), rtol=1e-6)


@on_cpu
def test_prepared_launch_is_thread_safe():
    _require_prepared()
    k = _launch.kernel(("test_launch_mixed",), _mixed_kernel)
    _run_mixed(k, np.ones(4, np.float32))
    errors = []

    def worker(seed):
        x = np.random.default_rng(seed).standard_normal(257).astype(np.float32)
        for _ in range(200):
            y = _run_mixed(k, x, a=3.0, v=(0,) * 8, u=0, big=0)
            if not np.array_equal(y, np.float32(3.0) * x):
                errors.append(seed)
                return

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_data_ptr_matches_numpy():
    base = np.arange(100, dtype=np.float64)
    for a in (base, base[7:], base[::3], base.reshape(10, 10), np.empty(0, np.float32)):
        assert _launch.data_ptr(a) == a.ctypes.data


def test_compile_config_restores_on_error():
    import taichi as ti

    cfg = ti.lang.impl.current_cfg()
    before = (cfg.fast_math, cfg.real_matrix_scalarize, ti.lang.impl.get_runtime().default_fp)
    with pytest.raises(KeyError):
        with _launch.compile_config(
            (("fast_math", False), ("real_matrix_scalarize", False), ("default_fp", ti.f64))
        ):
            assert not cfg.fast_math and not cfg.real_matrix_scalarize
            assert ti.lang.impl.get_runtime().default_fp == ti.f64
            raise KeyError("boom")
    after = (cfg.fast_math, cfg.real_matrix_scalarize, ti.lang.impl.get_runtime().default_fp)
    assert before == after


def test_serial_rule(monkeypatch):
    monkeypatch.setitem(_runtime._state, "arch", "cpu")
    monkeypatch.setitem(_runtime._state, "threads", 2)
    assert _launch.serial(100)
    assert not _launch.serial(_launch.PARALLEL_THRESHOLD)
    monkeypatch.setitem(_runtime._state, "threads", 1)
    assert _launch.serial(10**8)  # one thread: a parallel loop only adds hand-off cost
    monkeypatch.setitem(_runtime._state, "arch", "cuda")
    assert not _launch.serial(100)


def test_cache_builds_once_per_key():
    built = []

    def factory():
        built.append(1)
        return _mixed_kernel()

    k1 = _launch.kernel(("test_launch_once",), factory)
    k2 = _launch.kernel(("test_launch_once",), factory)
    assert k1 is k2 and len(built) == 1


@pytest.mark.gpu
def test_no_prepared_launch_on_gpu():
    k = _launch.kernel(("test_launch_gpu",), _mixed_kernel)
    x = fg.tensor(np.ones(10, np.float32))._buf
    y = fg.tensor(np.zeros(10, np.float32))._buf
    _launch.launch(k, x, y, 10, 1.0, (0,) * 8, 0, 0)
    _launch.launch(k, x, y, 10, 1.0, (0,) * 8, 0, 0)
    assert k._fg_prep is False
    np.testing.assert_array_equal(y.to_numpy()[:10], np.ones(10))


_REINIT_SCRIPT = """
import numpy as np, taichi as ti, fieldgrad as fg
fg.init(arch="cpu")
x = fg.tensor(np.arange(5000, dtype=np.float32))
for _ in range(3):
    assert np.array_equal(fg.add(x, x).numpy(), 2 * np.arange(5000, dtype=np.float32))
    small = fg.tensor([1.0, 2.0])
    assert fg.multiply(small, small).tolist() == [1.0, 4.0]
fg.init(arch="cpu", default_dtype="float64")  # fieldgrad re-init: kernels rebuilt
assert np.array_equal(fg.add(x, x).numpy(), 2 * np.arange(5000, dtype=np.float32))
ti.init(arch=ti.cpu)  # Taichi re-initialised behind fieldgrad's back: stale launches refused
for _ in range(3):
    assert np.array_equal(fg.add(x, x).numpy(), 2 * np.arange(5000, dtype=np.float32))
    assert fg.multiply(small, small).tolist() == [1.0, 4.0]
print("ok")
"""


@on_cpu
def test_reinitialised_taichi_never_reuses_stale_launches():
    proc = subprocess.run(
        [sys.executable, "-c", _REINIT_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")
