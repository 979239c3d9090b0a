"""L-BFGS and its strong-Wolfe line search: Rosenbrock against scipy, every way of stopping,
NaN safeguards, determinism, pytrees and dtypes, and one compilation of the loss."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.nn import optim
from fieldgrad.nn.optim._line_search import cubic_minimizer, strong_wolfe


def rosen(p):
    x = p["x"]
    return fg.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _start(n):
    return np.array([-1.2, 1.0] * (n // 2))


@pytest.mark.parametrize("n", [2, 10])
def test_rosenbrock_to_1e8_within_2x_of_scipy_iterations(n):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    x0 = _start(n)
    res = optim.lbfgs(
        rosen, {"x": fg.tensor(x0)}, max_iter=1000, tolerance_grad=1e-10, tolerance_change=0.0
    )
    ref = scipy_optimize.minimize(
        scipy_optimize.rosen,
        x0,
        jac=scipy_optimize.rosen_der,
        method="L-BFGS-B",
        options=dict(gtol=1e-10, ftol=0.0, maxiter=1000, maxcor=10),
    )
    err = np.abs(res.params["x"].numpy() - 1.0).max()
    info = (
        f"n={n}: ours {res.iterations} iterations / {res.evaluations} evaluations "
        f"({res.reason}), scipy L-BFGS-B {ref.nit} / {ref.nfev} ({ref.message})"
    )
    assert res.converged and err < 1e-8, f"|x - 1|_inf = {err:.3g}; {info}"
    assert res.iterations <= 2 * ref.nit, info
    assert res.evaluations <= res.iterations * 2 + 10, info
    assert res.grad_norm <= 1e-10 and res.loss < 1e-18
    assert len(res.history) == res.iterations + 1
    assert res.history[-1] == res.loss and res.history[0] == pytest.approx(scipy_optimize.rosen(x0))


def test_quadratic_pytree_float32_and_float64_leaves():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    a_np = q @ np.diag(np.linspace(1, 20, 6)) @ q.T
    b_np = rng.normal(size=6)
    a, b = fg.tensor(a_np), fg.tensor(b_np)

    def f(p):
        x = fg.concatenate([p["u"].astype(fg.float64), p["rest"][0]])
        return 0.5 * fg.sum(x * fg.matmul(a, x)) - fg.sum(b * x)

    params = {"u": fg.tensor(np.zeros(2, np.float32)), "rest": [fg.tensor(np.zeros(4)), None]}
    res = optim.lbfgs(f, params, tolerance_grad=1e-5)
    assert res.params["u"].dtype == fg.float32 and res.params["rest"][0].dtype == fg.float64
    assert res.params["rest"][1] is None
    x = np.concatenate([res.params["u"].numpy(), res.params["rest"][0].numpy()])
    np.testing.assert_allclose(x, np.linalg.solve(a_np, b_np), atol=1e-4)
    assert res.converged, res.reason


def _count_calls(fun):
    calls = []

    def wrapped(p):
        calls.append(1)
        return fun(p)

    return wrapped, calls


def test_value_and_grad_compiled_once_with_jit():
    f, calls = _count_calls(rosen)
    res = optim.lbfgs(f, {"x": fg.tensor(_start(2))}, max_iter=20)
    assert res.evaluations > 5 and len(calls) == 1  # traced once, replayed afterwards
    g, calls = _count_calls(rosen)
    res2 = optim.lbfgs(g, {"x": fg.tensor(_start(2))}, max_iter=20, jit=False)
    assert len(calls) == res2.evaluations
    np.testing.assert_allclose(res.params["x"].numpy(), res2.params["x"].numpy(), rtol=1e-10)


def test_max_iter_stops():
    res = optim.lbfgs(rosen, {"x": fg.tensor(_start(10))}, max_iter=5)
    assert res.iterations == 5 and res.reason == "max_iter reached" and not res.converged
    assert len(res.history) == 6 and res.history[-1] < res.history[0]


@pytest.mark.parametrize("max_eval", [1, 2, 7, 30])
def test_max_eval_is_never_exceeded(max_eval):
    f, calls = _count_calls(rosen)
    res = optim.lbfgs(f, {"x": fg.tensor(_start(10))}, max_eval=max_eval, jit=False)
    assert res.evaluations == len(calls) <= max_eval
    assert res.reason == "max_eval reached" and not res.converged
    assert all(b <= a for a, b in zip(res.history, res.history[1:]))


def test_default_max_eval_is_1_25_max_iter():
    f, calls = _count_calls(rosen)
    res = optim.lbfgs(f, {"x": fg.tensor(_start(10))}, max_iter=8, jit=False)
    assert len(calls) <= 10 and res.evaluations == len(calls)


def test_nan_everywhere_stops_at_once():
    res = optim.lbfgs(lambda p: fg.sum(p["x"]) * math.nan, {"x": fg.tensor(np.ones(3))})
    assert not res.converged and "non-finite" in res.reason
    assert res.iterations == 0 and res.evaluations == 1
    np.testing.assert_array_equal(res.params["x"].numpy(), 1.0)


def test_nan_region_is_never_accepted():
    # (x - 3)^2 with NaN for x > 2: the search shortens steps and stays in the finite region.
    def f(p):
        x = p["x"]
        return fg.sum(fg.where(x > 2.0, math.nan, (x - 3.0) ** 2))

    res = optim.lbfgs(f, {"x": fg.tensor(np.zeros(1))}, max_iter=50)
    x = float(res.params["x"].numpy()[0])
    assert math.isfinite(res.loss) and all(math.isfinite(h) for h in res.history)
    assert 1.9 < x <= 2.0, (x, res.reason)
    assert res.evaluations <= int(1.25 * 50)


def test_nan_after_progress_stops_with_reason():
    # Finite only on a bounded interval the minimiser lies outside of: the search must stop
    # on its own, at the last finite point, whatever the budget.
    def f(p):
        x = p["x"]
        return fg.sum(fg.where(fg.abs(x) < 1.0, -x + 0.0 * fg.sqrt(1.0 - x * x), math.nan))

    res = optim.lbfgs(f, {"x": fg.tensor(np.zeros(1))}, max_iter=200, max_eval=500)
    assert math.isfinite(res.loss) and res.loss < -0.9
    assert res.evaluations <= 500 and res.reason, res.reason


def test_flat_function_converges_at_once():
    res = optim.lbfgs(lambda p: 0.0 * fg.sum(p["x"]) + 1.5, {"x": fg.tensor(np.ones(4))})
    assert res.converged and res.iterations == 0 and res.evaluations == 1
    assert res.loss == 1.5 and res.grad_norm == 0.0


def test_linear_unbounded_function_terminates():
    res = optim.lbfgs(lambda p: fg.sum(p["x"]), {"x": fg.tensor(np.zeros(2))}, max_iter=30)
    assert not res.converged and res.evaluations <= int(1.25 * 30)
    assert res.loss < -1e3


def test_runs_are_deterministic():
    runs = [optim.lbfgs(rosen, {"x": fg.tensor(_start(10))}, max_iter=40) for _ in range(2)]
    a, b = runs
    np.testing.assert_array_equal(a.params["x"].numpy(), b.params["x"].numpy())
    assert a.history == b.history and a.evaluations == b.evaluations and a.reason == b.reason


def test_callback_sees_each_iteration_and_can_stop():
    seen = []

    def cb(it, params, loss):
        seen.append((it, float(rosen(params).numpy()), loss))
        return it == 3

    res = optim.lbfgs(rosen, {"x": fg.tensor(_start(2))}, callback=cb)
    assert res.reason == "callback" and not res.converged and res.iterations == 3
    assert [s[0] for s in seen] == [1, 2, 3]
    for _, recomputed, loss in seen:
        assert recomputed == pytest.approx(loss, rel=1e-12)


def test_tolerance_change_stops_and_counts_as_converged():
    res = optim.lbfgs(rosen, {"x": fg.tensor(_start(2))}, tolerance_change=1e-3, tolerance_grad=0.0)
    assert res.converged and "tolerance_change" in res.reason


def test_fixed_step_line_search_option():
    def f(p):
        return 0.5 * fg.sum(p["x"] ** 2)

    res = optim.lbfgs(f, {"x": fg.tensor(np.array([1.0, -2.0]))}, line_search=None)
    assert res.converged and np.abs(res.params["x"].numpy()).max() < 1e-6


@pytest.mark.parametrize(
    "kw,err,match",
    [
        (dict(max_iter=-1), ValueError, "max_iter"),
        (dict(max_eval=0), ValueError, "max_eval"),
        (dict(history_size=0), ValueError, "history_size"),
        (dict(line_search="armijo"), ValueError, "line_search"),
        (dict(tolerance_grad=-1.0), ValueError, "tolerance_grad"),
    ],
)
def test_bad_options_raise(kw, err, match):
    with pytest.raises(err, match=match):
        optim.lbfgs(rosen, {"x": fg.tensor(_start(2))}, **kw)


def test_bad_params_and_outputs_raise():
    with pytest.raises(TypeError, match="float tensor"):
        optim.lbfgs(rosen, {"x": fg.tensor(np.ones(2, np.int32))})
    with pytest.raises(ValueError, match="no tensor leaves"):
        optim.lbfgs(rosen, {"x": None})


# --- line search pieces ----------------------------------------------------------------------


def test_cubic_minimizer_exact_on_a_cubic():
    # f(t) = t^3 - 3 t: minimiser at t = 1.
    f = lambda t: t**3 - 3 * t  # noqa: E731
    df = lambda t: 3 * t**2 - 3  # noqa: E731
    t = cubic_minimizer(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0), 0.0, 2.0)
    assert t == pytest.approx(1.0, rel=1e-12)
    # No minimiser (NaN values): the midpoint of the bounds.
    assert cubic_minimizer(0.0, math.nan, -1.0, 1.0, 0.0, 1.0, 0.2, 0.6) == pytest.approx(0.4)


@pytest.mark.parametrize("step", [1e-3, 1.0, 50.0])
def test_strong_wolfe_conditions_hold(step):
    # phi(t) = f(x + t d) for f(x) = x^4 - 2 x^2 + x from x = 2 along d = -1.
    def phi(t):
        x = 2.0 - t
        return x**4 - 2 * x**2 + x, np.array([4 * x**3 - 4 * x + 1]), -(4 * x**3 - 4 * x + 1), t

    f0, _, gtd0, _ = phi(0.0)
    r = strong_wolfe(phi, f0, gtd0, step, d_scale=1.0, tolerance_change=1e-12)
    assert r.status == "wolfe" and r.evaluations <= 25
    f, _, gtd, _ = phi(r.step)
    assert f <= f0 + 1e-4 * r.step * gtd0
    assert abs(gtd) <= 0.9 * abs(gtd0)


def test_strong_wolfe_caps_evaluations_on_nan():
    calls = []

    def phi(t):
        calls.append(t)
        return math.nan, None, math.nan, None

    r = strong_wolfe(phi, 1.0, -1.0, 1.0, d_scale=1.0, max_evals=7)
    assert r.status == "failed" and r.step == 0.0 and len(calls) == r.evaluations <= 7
