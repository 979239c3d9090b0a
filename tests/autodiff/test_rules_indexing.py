"""Closed-form tests of the indexing and joining rules: gathers with duplicate indices,
functional updates, slices, concatenation, higher orders, and a 10,000-op chain."""

import numpy as np
import pytest

import fieldgrad as fg


def _t(a):
    return fg.tensor(np.asarray(a, dtype=np.float64))


def test_gather_duplicate_indices_accumulate():
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    g = fg.grad(lambda v: fg.sum(fg.gather(v, [[0], [2], [0], [0]]) * _t(w)))(_t([5.0, 6.0, 7.0]))
    assert g.tolist() == [1101.0, 0.0, 10.0]


def test_getitem_and_take_duplicates_accumulate():
    x = _t(np.arange(6.0).reshape(2, 3))
    g = fg.grad(lambda v: fg.sum(v[:, [2, 0, 2, 2]]))(x)
    assert g.tolist() == [[1.0, 0.0, 3.0], [1.0, 0.0, 3.0]]
    g = fg.grad(lambda v: fg.sum(fg.take(v, fg.tensor([1, 1, 0]), axis=0)))(x)
    assert g.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]


def test_take_along_axis_broadcast_gradient():
    # x has length one on axis 1, broadcast against 5 index rows: all of them land on it.
    x = _t(np.ones((2, 1, 3)))
    idx = np.zeros((2, 5, 1), dtype=np.int32)
    g = fg.grad(lambda v: fg.sum(fg.take_along_axis(v, idx, axis=2)))(x)
    assert g.shape == (2, 1, 3)
    np.testing.assert_array_equal(g.numpy(), [[[5.0, 0.0, 0.0]], [[5.0, 0.0, 0.0]]])


def test_scatter_add_gradients():
    x, u = _t([1.0, 2.0, 3.0]), _t([10.0, 20.0, 30.0])
    w = _t([1.0, 2.0, 3.0])
    gx, gu = fg.grad(
        lambda a, b: fg.sum(fg.scatter_add(a, [[2], [0], [2]], b) * w), argnums=(0, 1)
    )(x, u)
    assert gx.tolist() == [1.0, 2.0, 3.0]
    assert gu.tolist() == [3.0, 1.0, 3.0]


def test_at_set_gradients_zero_written_positions():
    x, v = _t(np.arange(1.0, 7.0).reshape(2, 3)), _t([[10.0, 20.0], [30.0, 40.0]])
    w = _t(np.arange(1.0, 7.0).reshape(2, 3) * 10)
    gx, gv = fg.grad(lambda a, b: fg.sum(a.at[:, [2, 0]].set(b) * w), argnums=(0, 1))(x, v)
    assert gx.tolist() == [[0.0, 20.0, 0.0], [0.0, 50.0, 0.0]]
    assert gv.tolist() == [[30.0, 10.0], [60.0, 40.0]]


def test_slice_update_gradients():
    x, v = _t(np.arange(8.0)), _t([1.0, 2.0, 3.0])
    gx, gv = fg.grad(
        lambda a, b: fg.sum(a.at[1::3].set(b) * fg.arange(8.0, dtype="float64")), argnums=(0, 1)
    )(x, v)
    assert gx.tolist() == [0.0, 0.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0]
    assert gv.tolist() == [1.0, 4.0, 7.0]


def test_slice_gradient_negative_stride():
    g = fg.grad(lambda v: fg.sum(v[::-2] * _t([1.0, 2.0, 3.0])))(_t(np.zeros(6)))
    assert g.tolist() == [0.0, 3.0, 0.0, 2.0, 0.0, 1.0]


def test_concatenate_gradient_splits_the_cotangent():
    a, b, c = _t(np.zeros((2, 1))), _t(np.zeros((2, 0))), _t(np.zeros((2, 2)))
    w = _t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    ga, gb, gc = fg.grad(
        lambda p, q, r: fg.sum(fg.concatenate([p, q, r], axis=1) * w), argnums=(0, 1, 2)
    )(a, b, c)
    assert ga.tolist() == [[1.0], [4.0]]
    assert gb.shape == (2, 0)
    assert gc.tolist() == [[2.0, 3.0], [5.0, 6.0]]


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, v: fg.sin(x.at[1:, ::-2].set(v * v)),
        lambda x, v: fg.sin(x.at[[0, 2, 0]].add(fg.sum(v * v)) * x[1:2]),
        lambda x, v: fg.sin(fg.concatenate([x[::2], v * x[:2, :2]], axis=1)),
        lambda x, v: fg.gather(fg.sin(x), [[0, 1], [2, 2], [0, 1]]) * fg.sum(v),
    ],
    ids=["set", "add", "concat", "gather"],
)
def test_third_order(fn):
    rng = np.random.default_rng(5)
    args = (_t(rng.standard_normal((3, 4))), _t(rng.standard_normal((2, 2))))
    fg.check_grads(fn, args, order=3)


def test_diamond_shifted_products():
    # x feeds two slices that meet again: grad_i = x[i-1] + x[i+1].
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    g = fg.grad(lambda v: fg.sum(v[1:] * v[:-1]))(_t(x))
    want = np.concatenate([[0.0], x[:-1]]) + np.concatenate([x[1:], [0.0]])
    np.testing.assert_array_equal(g.numpy(), want)


def test_unused_input_zero_gradient():
    gx, gy = fg.grad(lambda x, y: fg.sum(x[1:]), argnums=(0, 1))(_t([1.0, 2.0]), _t(np.ones(4)))
    assert gx.tolist() == [0.0, 1.0]
    assert gy.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_ten_thousand_op_chain():
    # 2,500 steps of a roll written with slice, multiply and concatenate: 10,000 primitives in
    # a graph far deeper than Python's recursion limit. After 2,500 steps of a length-5 roll,
    # every element is back in place and was multiplied 500 times.
    def f(x):
        for _ in range(2500):
            x = fg.concatenate([x[1:], x[:1] * 1.0001])
        return fg.sum(x)

    g = fg.grad(f)(_t(np.ones(5)))
    np.testing.assert_allclose(g.numpy(), np.full(5, 1.0001**500), rtol=1e-12)
