"""Closed-form tests of the reduction rules: products with zeros, extrema with ties, reductions
whose gradient keeps the input's shape, and the graph properties (diamond, unused input)."""

import numpy as np
import pytest

import fieldgrad as fg


def _t(a):
    return fg.tensor(np.asarray(a, dtype=np.float64))


def _others(x: np.ndarray) -> np.ndarray:
    """Product of the other elements, by brute force."""
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


def _hess_prod(x: np.ndarray) -> np.ndarray:
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                h[i, j] = np.prod(np.delete(x, [i, j]))
    return h


@pytest.mark.parametrize(
    "x",
    [[2.0, 0.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [1.5, -2.0, 0.5], [0.0]],
    ids=["one-zero", "two-zeros", "all-zeros", "no-zero", "single-zero"],
)
def test_prod_gradient_with_zeros(x):
    x = np.asarray(x)
    g = fg.grad(fg.prod)(_t(x))
    np.testing.assert_allclose(g.numpy(), _others(x), rtol=1e-13, atol=0)
    assert np.all(np.isfinite(g.numpy()))
    _, tan = fg.jvp(fg.prod, (_t(x),), (_t(np.ones_like(x)),))
    np.testing.assert_allclose(float(tan), _others(x).sum(), rtol=1e-13, atol=0)


def test_prod_gradient_one_zero_analytic():
    g = fg.grad(fg.prod)(_t([2.0, 0.0, 3.0, 4.0]))
    assert g.tolist() == [0.0, 24.0, 0.0, 0.0]
    g2 = fg.grad(fg.prod)(_t([2.0, 0.0, 3.0, 0.0]))
    assert g2.tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0], [1.0, 2.0, 3.0]])
def test_prod_hessian_with_zeros(x):
    # The derivative of prod is the product of the others (no division), so the second
    # derivative at zeros is exact too: H[i, j] = prod of the elements other than i and j.
    x = np.asarray(x)
    h = fg.hessian(fg.prod)(_t(x))
    np.testing.assert_allclose(h.numpy(), _hess_prod(x), rtol=1e-13, atol=0)


def test_prod_axes_with_zeros_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(3, 5, 4))
    x[0, 1, :] = 0.0
    x[1, 2, 3] = 0.0
    x[2, [0, 4], 1] = 0.0
    w = rng.standard_normal((5,))
    g = fg.grad(lambda v: fg.sum(fg.prod(v, axis=(0, 2)) * _t(w)))(_t(x))
    want = np.empty_like(x)
    for j in range(5):
        block = x[:, j, :]
        want[:, j, :] = w[j] * _others(block.ravel()).reshape(block.shape)
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-12, atol=1e-14)


def test_prod_third_order_with_zeros():
    fg.check_grads(
        lambda v: fg.prod(v, axis=-1), (_t([[2.0, 0.0, 3.0], [0.0, 0.5, 0.0]]),), order=3
    )


def test_max_ties_split_equally():
    x = _t([1.0, 3.0, 3.0, 2.0])
    assert fg.grad(fg.max)(x).tolist() == [0.0, 0.5, 0.5, 0.0]
    _, tan = fg.jvp(fg.max, (x,), (_t([0.0, 1.0, 0.0, 0.0]),))
    assert float(tan) == 0.5
    assert fg.grad(fg.max)(_t([2.0, 2.0, 2.0, 2.0])).tolist() == [0.25] * 4


def test_min_ties_along_axis():
    x = _t([[1.0, 1.0, 2.0], [0.0, 5.0, 0.0], [4.0, 3.0, 6.0]])
    g = fg.grad(lambda v: fg.sum(fg.min(v, axis=1)))(x)
    assert g.tolist() == [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]


def test_max_keepdims_gradient_has_input_shape():
    x = _t(np.arange(24.0).reshape(2, 3, 4))
    g = fg.grad(lambda v: fg.sum(fg.max(v, axis=(0, 2), keepdims=True) * 2.0))(x)
    want = np.zeros((2, 3, 4))
    want[1, :, 3] = 2.0
    assert g.shape == (2, 3, 4)
    np.testing.assert_array_equal(g.numpy(), want)


def test_sum_broadcast_gradient_shape():
    x = _t(np.ones((3, 1)))
    g = fg.grad(lambda v: fg.sum(fg.sum(v + _t(np.ones((2, 3, 4))), axis=0)))(x)
    assert g.shape == (3, 1)
    np.testing.assert_array_equal(g.numpy(), np.full((3, 1), 8.0))


def test_argmax_has_no_gradient_path():
    x = _t([1.0, 5.0, 2.0])
    # argmax's integer output carries no derivative; the gradient flows only through x.
    g = fg.grad(lambda v: fg.sum(v * fg.astype(fg.argmax(v), "float64")))(x)
    assert g.tolist() == [1.0, 1.0, 1.0]


def test_diamond_input_used_twice():
    # f(x) = prod(x) * sum(x): x reaches the output along two paths.
    x = np.array([1.5, -0.5, 2.0])
    g = fg.grad(lambda v: fg.prod(v) * fg.sum(v))(_t(x))
    want = _others(x) * x.sum() + np.prod(x)
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-13)


def test_unused_input_gets_zero_gradient_of_its_shape():
    gx, gy = fg.grad(lambda x, y: fg.max(x), argnums=(0, 1))(_t([1.0, 2.0]), _t(np.ones((2, 3))))
    assert gx.tolist() == [0.0, 1.0]
    assert gy.shape == (2, 3)
    np.testing.assert_array_equal(gy.numpy(), np.zeros((2, 3)))
