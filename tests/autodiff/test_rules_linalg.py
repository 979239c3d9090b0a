"""Closed-form tests of the linear-algebra rules: batch-broadcast matmul gradients, the Hessian
of a quadratic form, 1-D operands, and the diagonal's transpose."""

import numpy as np
import pytest

import fieldgrad as fg


def _t(a):
    return fg.tensor(np.asarray(a, dtype=np.float64))


def test_matmul_batch_broadcast_gradient_shapes_and_values():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 1, 3, 4))
    b = rng.standard_normal((5, 4, 2))
    w = rng.standard_normal((2, 5, 3, 2))  # the output's shape
    ga, gb = fg.grad(lambda x, y: fg.sum(fg.matmul(x, y) * _t(w)), argnums=(0, 1))(_t(a), _t(b))
    assert ga.shape == (2, 1, 3, 4)
    assert gb.shape == (5, 4, 2)
    want_a = np.sum(w @ np.swapaxes(b, -1, -2), axis=1, keepdims=True)
    want_b = np.sum(np.swapaxes(a, -1, -2) @ w, axis=0)
    np.testing.assert_allclose(ga.numpy(), want_a, rtol=1e-12)
    np.testing.assert_allclose(gb.numpy(), want_b, rtol=1e-12)


@pytest.mark.parametrize(
    "sa, sb", [((4,), (4,)), ((4,), (2, 4, 3)), ((3, 4), (4,)), ((1, 3, 4), (2, 4, 1))]
)
def test_matmul_one_dim_and_broadcast_second_order(sa, sb):
    rng = np.random.default_rng(2)
    args = (_t(rng.standard_normal(sa)), _t(rng.standard_normal(sb)))
    fg.check_grads(lambda x, y: fg.sin(fg.matmul(x, y)), args, order=2)


def test_hessian_of_quadratic_form():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))  # not symmetric
    x = _t(rng.standard_normal(4))
    h = fg.hessian(lambda v: v @ (_t(a) @ v))(x)
    np.testing.assert_allclose(h.numpy(), a + a.T, rtol=1e-13, atol=1e-14)
    g = fg.grad(lambda v: v @ (_t(a) @ v))(x)
    np.testing.assert_allclose(g.numpy(), (a + a.T) @ x.numpy(), rtol=1e-13)


def test_hessian_of_quadratic_form_reverse_over_reverse():
    a = np.array([[1.0, 2.0], [0.0, 3.0]])
    h = fg.jacrev(fg.grad(lambda v: fg.sum(v * fg.matmul(_t(a), v))))(_t([0.3, -0.7]))
    np.testing.assert_allclose(h.numpy(), a + a.T, rtol=1e-13)


@pytest.mark.parametrize(
    "shape, kw",
    [
        ((3, 5), {"offset": 1}),
        ((5, 3), {"offset": -2}),
        ((2, 3, 4), {"offset": -1, "axis1": 2, "axis2": 0}),
        ((3, 3), {"offset": 4}),  # empty diagonal
    ],
)
def test_diagonal_gradient_writes_onto_the_diagonal(shape, kw):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    d = np.diagonal(x, **kw)
    w = rng.standard_normal(d.shape)
    g = fg.grad(lambda v: fg.sum(fg.diagonal(v, **kw) * _t(w)))(_t(x))
    want = np.zeros(shape)
    # Reference: the adjoint of the diagonal, element by element.
    idx = np.arange(x.size).reshape(shape)
    for flat, wv in zip(np.diagonal(idx, **kw).ravel(), w.ravel()):
        want.flat[flat] += wv
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-14)
    assert g.shape == shape


def test_trace_gradient_is_identity():
    g = fg.grad(fg.trace)(_t(np.ones((3, 3))))
    np.testing.assert_array_equal(g.numpy(), np.eye(3))
