"""bench/pinn_step.py: the problem as the issue defines it, and fieldgrad's step computing the same
loss, derivatives, gradient and Adam update as a float64 numpy reference (no torch/jax here)."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import fieldgrad as fg

_PATH = Path(__file__).resolve().parents[1] / "bench" / "pinn_step.py"


@pytest.fixture(scope="module")
def bench():
    if str(_PATH.parent) not in sys.path:
        sys.path.insert(0, str(_PATH.parent))  # the script imports its sibling _harness
    spec = importlib.util.spec_from_file_location("bench_pinn_step", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small(bench):
    # Tiny sizes: 64 collocation points, 32 initial and 32 boundary points.
    return bench.make_problem(64, seed=3, n_ic=32, n_bc=32)


# --- float64 numpy reference ---------------------------------------------------------------------


def _np_fields(params, x):
    """u, u_t, u_x, u_xx of the tanh MLP at points x (columns t, x): hand-written forward mode."""
    h = x
    ht = np.broadcast_to([1.0, 0.0], x.shape)
    hx = np.broadcast_to([0.0, 1.0], x.shape)
    hxx = np.zeros_like(x)
    for w, b in params[:-1]:
        z, zt, zx, zxx = h @ w + b, ht @ w, hx @ w, hxx @ w
        a = np.tanh(z)
        d1 = 1.0 - a * a
        d2 = -2.0 * a * d1
        h, ht, hx, hxx = a, d1 * zt, d1 * zx, d2 * zx * zx + d1 * zxx
    w, b = params[-1]
    return h @ w + b, ht @ w, hx @ w, hxx @ w


def _np_loss(params, prob, nu):
    u, u_t, u_x, u_xx = _np_fields(params, prob["x_f"].astype(np.float64))
    r = u_t + u * u_x - nu * u_xx

    def forward(x):
        return _np_fields(params, x.astype(np.float64))[0]

    e_ic = forward(prob["x_ic"]) - prob["u_ic"]
    e_bc = forward(prob["x_bc"]) - prob["u_bc"]
    return np.mean(r * r) + np.mean(e_ic * e_ic) + np.mean(e_bc * e_bc)


def _np_params(prob):
    return [(w.astype(np.float64), b.astype(np.float64)) for w, b in prob["params"]]


def _flat(params):
    return np.concatenate([a.ravel() for wb in params for a in wb])


def _unflat(vec, like):
    out, k = [], 0
    for w, b in like:
        w2 = vec[k : k + w.size].reshape(w.shape)
        k += w.size
        b2 = vec[k : k + b.size].reshape(b.shape)
        k += b.size
        out.append((w2, b2))
    return out


def _fd(prob, nu, directions, h=1e-6):
    """Central differences of the float64 loss along each row of ``directions``."""
    like = _np_params(prob)
    p0 = _flat(like)
    out = []
    for d in directions:
        up = _np_loss(_unflat(p0 + h * d, like), prob, nu)
        dn = _np_loss(_unflat(p0 - h * d, like), prob, nu)
        out.append((up - dn) / (2 * h))
    return np.array(out)


# --- tests ---------------------------------------------------------------------------------------


def test_problem_matches_the_issue_definitions(bench):
    prob = bench.make_problem(1024, seed=0)
    assert [w.shape for w, _ in prob["params"]] == [(2, 32), (32, 32), (32, 32), (32, 32), (32, 1)]
    assert all(w.dtype == np.float32 and not b.any() for w, b in prob["params"])
    w = prob["params"][1][0]
    assert abs(w.std() - math.sqrt(2.0 / 64)) < 0.02  # Xavier normal, fan_in = fan_out = 32
    x_f, x_ic, x_bc = prob["x_f"], prob["x_ic"], prob["x_bc"]
    assert x_f.shape == (1024, 2) and x_ic.shape == (256, 2) and x_bc.shape == (256, 2)
    assert 0 <= x_f[:, 0].min() and x_f[:, 0].max() <= 1
    assert -1 <= x_f[:, 1].min() and x_f[:, 1].max() <= 1
    assert not x_ic[:, 0].any()
    np.testing.assert_allclose(prob["u_ic"][:, 0], -np.sin(np.pi * x_ic[:, 1]), atol=1e-6)
    np.testing.assert_array_equal(x_bc[:, 1], np.tile([-1.0, 1.0], 128))
    assert not prob["u_bc"].any()
    assert all(v.dtype == np.float32 for k, v in prob.items() if k != "params")
    # Same weights and initial/boundary points for every N_f; the collocation points differ.
    other = bench.make_problem(64, seed=0)
    np.testing.assert_array_equal(other["params"][2][0], prob["params"][2][0])
    np.testing.assert_array_equal(other["x_bc"], x_bc)


def test_derivatives_and_loss_match_numpy(bench, small):
    params64 = _np_params(small)
    want = _np_fields(params64, small["x_f"].astype(np.float64))
    for dtype, rtol in (("float64", 1e-12), ("float32", 2e-5)):
        impl = bench.FieldgradPINN(small, dtype=dtype)
        got = bench.fg_derivatives(impl.params, impl.data["x_f"])
        for g, w in zip(got, want):
            scale = np.abs(w).max()
            np.testing.assert_allclose(g.numpy(), w, rtol=rtol, atol=rtol * scale)
        want_loss = _np_loss(params64, small, bench.NU)
        assert abs(impl.loss() - want_loss) <= rtol * 4 * want_loss


def test_gradient_matches_finite_differences(bench, small):
    # 120 single coordinates (some in every layer) and 4 random directions over all parameters.
    n = _flat(_np_params(small)).size
    rng = np.random.default_rng(5)
    idx = np.unique(np.concatenate([rng.choice(n, 110, replace=False), np.arange(n - 10, n)]))
    dirs = np.concatenate([np.eye(n)[idx], rng.standard_normal((4, n))])
    want = _fd(small, bench.NU, dirs)
    for dtype, tol in (("float64", 1e-7), ("float32", 1e-4)):
        g = np.concatenate([x.ravel() for x in bench.FieldgradPINN(small, dtype=dtype).grads()])
        got = dirs @ g.astype(np.float64)
        scale = np.abs(g).max()
        np.testing.assert_allclose(got[: idx.size], want[: idx.size], rtol=0, atol=tol * scale)
        norm = np.linalg.norm(g)
        np.testing.assert_allclose(got[idx.size :], want[idx.size :], rtol=0, atol=tol * norm)


def test_jitted_step_is_adam_on_the_gradient(bench, small):
    impl = bench.FieldgradPINN(small, dtype="float64")
    p = _flat(_np_params(small))
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t in (1, 2, 3):
        g = np.concatenate([x.ravel() for x in impl.grads()])
        loss_before = impl.loss()
        impl.step()
        assert float(impl.last) == pytest.approx(loss_before, rel=1e-12)
        m = bench.BETA1 * m + (1 - bench.BETA1) * g
        v = bench.BETA2 * v + (1 - bench.BETA2) * g * g
        denom = np.sqrt(v) / math.sqrt(1 - bench.BETA2**t) + bench.EPS
        p = p - bench.LR / (1 - bench.BETA1**t) * m / denom
        got = np.concatenate([x.numpy().ravel() for wb in impl.params for x in wb])
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-12)
    assert impl.step_fn.cache_info()["misses"] == 1  # the step count does not retrace


def test_float32_training_decreases_the_loss(bench, small):
    impl = bench.FieldgradPINN(small)
    assert impl.params[0][0].dtype == fg.float32
    start = impl.loss()
    losses = []
    for _ in range(10):
        impl.step()
        losses.append(float(impl.last))
    assert losses[0] == pytest.approx(start, rel=1e-6)
    assert impl.loss() < 0.99 * start
    assert losses[-1] < losses[0]


def test_profile_reports_graph_and_launches(bench, small):
    impl = bench.FieldgradPINN(small)
    impl.step()
    jp = bench._sibling("jit_profile")
    prof = jp.profile_jitted(bench.fg_train_step, impl.step_args(), 64, reps=1)
    assert prof["eqns"] > 0 and prof["launches_per_step"] > 0
    assert sum(p["eqns"] for p in prof["primitives"].values()) == prof["eqns"]
    assert prof["primitives"]["matmul"]["category"] == "matmul"
    assert prof["matmul_calls_per_step"] > 0  # the compiled plan's BLAS calls were metered
    text = "\n".join(jp.format_profiles({64: prof}))
    assert "matmul" in text and f"{prof['eqns']:>4d}" in text
