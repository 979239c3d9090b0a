"""PDE derivative operators: partial derivatives by multi-index, gradient, divergence,
Laplacian, biharmonic and the Hutchinson estimator against closed forms and Hessians; their
derivatives with respect to parameters; multi-output fields; errors; no nested reverse mode."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _api, _reverse


def _t(a, dtype="float64"):
    return fg.tensor(np.asarray(a, dtype=dtype))


def _close(got, want, rtol=1e-10, atol=1e-10):
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=atol)


RNG = np.random.default_rng(0)
P2 = RNG.uniform(-1.0, 1.0, size=(7, 2))


def u2(p):
    """``u(x, y) = sin(x) exp(2 y) + x^3 y^2``."""
    x, y = p[:, 0], p[:, 1]
    return fg.sin(x) * fg.exp(2.0 * y) + x**3 * y**2


def _dpow(n: int, a: int, v):
    """``d^a/dv^a v^n`` for a non-negative integer power n."""
    if a > n:
        return np.zeros_like(v)
    return math.factorial(n) / math.factorial(n - a) * v ** (n - a)


def u2_partial(a: int, b: int, p=P2):
    x, y = p[:, 0], p[:, 1]
    return np.sin(x + a * np.pi / 2) * 2.0**b * np.exp(2 * y) + _dpow(3, a, x) * _dpow(2, b, y)


@pytest.mark.parametrize("index", [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (2, 1), (0, 3), (3, 2)])
def test_partial_derivative_mixed(index):
    _close(fg.partial_derivative(u2, _t(P2), index), u2_partial(*index))


def test_partial_derivative_float32():
    got = fg.partial_derivative(u2, _t(P2, "float32"), (2, 1))
    assert got.dtype == fg.float32
    _close(got, u2_partial(2, 1), rtol=1e-4, atol=1e-4)


def test_gradient_divergence_laplacian_biharmonic_2d():
    x = _t(P2)
    _close(fg.gradient(u2, x), np.stack([u2_partial(1, 0), u2_partial(0, 1)], axis=-1))
    _close(fg.laplacian(u2, x), u2_partial(2, 0) + u2_partial(0, 2))
    _close(
        fg.biharmonic(u2, x),
        u2_partial(4, 0) + 2 * u2_partial(2, 2) + u2_partial(0, 4),
        rtol=1e-9,
        atol=1e-9,
    )


def test_divergence_3d():
    p = RNG.uniform(-1, 1, size=(6, 3))

    def field(q):
        x, y, z = q[:, 0], q[:, 1], q[:, 2]
        return fg.stack([x * x * y, fg.sin(y) * z, fg.exp(x * z)], axis=1)

    x, y, z = p.T
    _close(fg.divergence(field, _t(p)), 2 * x * y + np.cos(y) * z + x * np.exp(x * z))


def test_biharmonic_of_r4_in_3d():
    """``r^4`` in 3-D: Laplacian ``20 r^2``, biharmonic 120 (every pair e_i +- e_j used)."""
    p = RNG.uniform(-1, 1, size=(5, 3))

    def f(q):
        return fg.sum(q * q, axis=1) ** 2

    _close(fg.laplacian(f, _t(p)), 20 * np.sum(p * p, axis=1))
    _close(fg.biharmonic(f, _t(p)), np.full(5, 120.0), rtol=1e-9, atol=1e-9)


def _mlp(seed, sizes, dtype="float64"):
    rng = np.random.default_rng(seed)
    params = [
        (
            _t(rng.standard_normal((m, n)) / np.sqrt(m), dtype),
            _t(0.1 * rng.standard_normal(n), dtype),
        )
        for m, n in zip(sizes[:-1], sizes[1:])
    ]

    def f(p):
        h = p
        for k, (w, b) in enumerate(params):
            h = h @ w + b
            if k < len(params) - 1:
                h = fg.tanh(h)
        return h[:, 0]

    return f


def test_laplacian_of_mlp_is_trace_of_hessian():
    f = _mlp(1, [3, 16, 16, 1])
    pts = RNG.uniform(-1, 1, size=(4, 3))
    lap = np.asarray(fg.laplacian(f, _t(pts)))
    for i, p in enumerate(pts):
        hess = fg.hessian(lambda q: fg.sum(f(fg.reshape(q, (1, 3)))))(_t(p))
        assert np.asarray(hess).shape == (3, 3)
        np.testing.assert_allclose(lap[i], np.trace(np.asarray(hess)), rtol=1e-10, atol=1e-10)
    # the same through forward-over-reverse Hessians of the batch (a second route)
    hess_fr = fg.jacfwd(fg.jacrev(lambda q: fg.sum(f(fg.reshape(q, (1, 3))))))(_t(pts[0]))
    np.testing.assert_allclose(lap[0], np.trace(np.asarray(hess_fr)), rtol=1e-10)


def test_hutchinson_unbiased_on_a_quadratic():
    """One Rademacher sample per point at 4000 copies of the points: the mean is the trace
    within 4 standard errors, the variance is ``2 sum_{i != j} H_ij^2``."""
    d = 5
    a = RNG.standard_normal((d, d))
    h = a + a.T
    tr, var = np.trace(h), 2 * (np.sum(h * h) - np.sum(np.diag(h) ** 2))
    aa = _t(a)

    def f(q):
        return fg.sum((q @ aa) * q, axis=1)

    x = _t(RNG.uniform(-1, 1, size=(4000, d)))
    est = np.asarray(fg.laplacian_hutchinson(f, x, fg.random.key(3), num_samples=1))
    se = est.std() / np.sqrt(est.size)
    assert abs(est.mean() - tr) < 4 * se
    assert 0.85 < est.var() / var < 1.15
    np.testing.assert_allclose(np.asarray(fg.laplacian(f, x[:3])), np.full(3, tr), rtol=1e-10)


def test_hutchinson_unbiased_and_converges_on_an_mlp():
    f = _mlp(2, [4, 12, 1])
    point = RNG.uniform(-1, 1, size=(1, 4))
    exact = float(np.asarray(fg.laplacian(f, _t(point)))[0])
    x = _t(np.repeat(point, 3000, axis=0))
    one = np.asarray(fg.laplacian_hutchinson(f, x, fg.random.key(5), num_samples=1))
    assert abs(one.mean() - exact) < 4 * one.std() / np.sqrt(one.size)
    many = np.asarray(fg.laplacian_hutchinson(f, x[:400], fg.random.key(6), num_samples=16))
    # the error shrinks like 1 / sqrt(num_samples): about 4x from 1 to 16 samples
    ratio = np.sqrt(np.mean((one - exact) ** 2) / np.mean((many - exact) ** 2))
    assert 3.0 < ratio < 5.3
    assert abs(many.mean() - exact) < 4 * many.std() / np.sqrt(many.size)


def test_pde_results_differentiable_in_parameters():
    rng = np.random.default_rng(7)
    x = _t(rng.uniform(-1, 1, size=(6, 2)))

    def loss(w1, w2):
        def u(p):
            return fg.tanh(p @ w1) @ w2

        return fg.mean(fg.laplacian(u, x) ** 2)

    w1, w2 = _t(rng.standard_normal((2, 5))), _t(rng.standard_normal(5))
    fg.check_grads(loss, (w1, w2), order=1, modes=("fwd", "rev"))

    def loss_mixed(w1, w2):
        return fg.sum(fg.partial_derivative(lambda p: fg.tanh(p @ w1) @ w2, x, (2, 1)))

    fg.check_grads(loss_mixed, (w1, w2), order=1, modes=("fwd", "rev"))


def test_multi_output_field():
    x = _t(P2)

    def v(p):
        return fg.stack([u2(p), fg.cos(p[:, 0] * p[:, 1])], axis=1)

    def second(p):
        return fg.cos(p[:, 0] * p[:, 1])

    g = fg.gradient(v, x)
    assert g.shape == (7, 2, 2)
    _close(g[:, 0, :], np.asarray(fg.gradient(u2, x)))
    _close(g[:, 1, :], np.asarray(fg.gradient(second, x)))
    lap = fg.laplacian(v, x)
    assert lap.shape == (7, 2)
    _close(lap[:, 0], np.asarray(fg.laplacian(u2, x)))
    _close(lap[:, 1], np.asarray(fg.laplacian(second, x)))
    mixed = fg.partial_derivative(v, x, (1, 1))
    assert mixed.shape == (7, 2)
    _close(mixed[:, 0], u2_partial(1, 1))


def test_pde_ops_never_use_reverse_mode(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a PDE operator used reverse mode")

    monkeypatch.setattr(_api, "vjp_flat", refuse)
    monkeypatch.setattr(_reverse.VJPTrace, "process_primitive", refuse)
    x = _t(P2)
    fg.partial_derivative(u2, x, (2, 1))
    fg.gradient(u2, x)
    fg.laplacian(u2, x)
    fg.biharmonic(u2, x)
    fg.divergence(lambda p: p * p, x)
    fg.laplacian_hutchinson(u2, x, fg.random.key(0), 2)
    fg.derivative(fg.tanh, x, fg.ones_like(x), 6)


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["partial", "gradient", "divergence", "laplacian", "biharmonic"])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 2)])
def test_error_points_shape(op, shape):
    fn = {
        "partial": lambda f, x: fg.partial_derivative(f, x, (1, 0)),
        "gradient": fg.gradient,
        "divergence": fg.divergence,
        "laplacian": fg.laplacian,
        "biharmonic": fg.biharmonic,
    }[op]
    with pytest.raises(ValueError, match=r"x must have shape \(N, d\).*got \(" + str(shape[0])):
        fn(u2, fg.zeros(shape, dtype="float64"))


def test_error_points_dtype():
    with pytest.raises(TypeError, match="must be float32 or float64, got int32"):
        fg.laplacian(u2, fg.tensor([[1, 2]]))
    with pytest.raises(TypeError, match="must be float32 or float64, got int32"):
        fg.derivative(fg.sin, fg.tensor([1, 2]), fg.tensor([1, 1]), 2)


@pytest.mark.parametrize("index", [(1,), (1, 0, 0), (-1, 2)])
def test_error_bad_multi_index(index):
    with pytest.raises(ValueError, match=r"must hold 2 non-negative orders.*\(7, 2\)"):
        fg.partial_derivative(u2, _t(P2), index)


@pytest.mark.parametrize("index", [(1.5, 0), 2, ("a", 1)])
def test_error_multi_index_not_ints(index):
    with pytest.raises(TypeError, match="index must be a tuple of 2 non-negative ints"):
        fg.partial_derivative(u2, _t(P2), index)


def test_error_derivative_arguments():
    x = _t([0.1, 0.2])
    with pytest.raises(ValueError, match="order must be >= 1, got 0"):
        fg.derivative(fg.sin, x, fg.ones_like(x), 0)
    with pytest.raises(ValueError, match=r"direction shape \(3,\) differs from x shape \(2,\)"):
        fg.derivative(fg.sin, x, fg.ones(3), 1)
    with pytest.raises(TypeError, match="f must return one tensor, got tuple"):
        fg.derivative(lambda v: (v, v), x, fg.ones_like(x), 1)


def test_error_divergence_output_shape():
    with pytest.raises(ValueError, match=r"x has shape \(7, 2\) but f's output has shape \(7,\)"):
        fg.divergence(u2, _t(P2))


def test_error_hutchinson_samples():
    with pytest.raises(ValueError, match="num_samples must be >= 1, got 0"):
        fg.laplacian_hutchinson(u2, _t(P2), fg.random.key(0), 0)


def test_derivative_of_constant_is_zero():
    x = _t([0.1, 0.2])
    got = fg.derivative(lambda v: fg.ones(3), x, fg.ones_like(x), 2)
    assert np.asarray(got).tolist() == [0.0, 0.0, 0.0]
