"""Linear algebra: matmul shapes and errors, the Taichi matmul kernel, einsum, diagonal."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _kernels_reduce_matmul


def _r(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@pytest.mark.parametrize(
    "sa,sb,out",
    [
        ((2, 1, 3, 4), (5, 4, 2), (2, 5, 3, 2)),
        ((4,), (4,), ()),
        ((4,), (4, 3), (3,)),
        ((3, 4), (4,), (3,)),
        ((4,), (2, 4, 3), (2, 3)),
        ((2, 3, 4), (4,), (2, 3)),
        ((1, 3, 4), (6, 4, 2), (6, 3, 2)),
        ((3, 0), (0, 2), (3, 2)),
    ],
)
def test_matmul_shapes_match_numpy(sa, sb, out):
    a, b = _r(*sa, seed=1), _r(*sb, seed=2)
    got = fg.matmul(fg.tensor(a), fg.tensor(b))
    assert got.shape == out == np.matmul(a, b).shape
    np.testing.assert_allclose(got.numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((fg.tensor(a) @ fg.tensor(b)).numpy(), a @ b, rtol=1e-12)


def test_matmul_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 6\)"):
        fg.matmul(fg.tensor(np.ones((3, 4))), fg.tensor(np.ones((5, 6))))
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        fg.matmul(fg.tensor(np.ones(3)), fg.tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"batch dimensions of shapes \(2, 3, 4\) and \(3, 4, 2\)"):
        fg.matmul(fg.tensor(np.ones((2, 3, 4))), fg.tensor(np.ones((3, 4, 2))))
    with pytest.raises(ValueError, match="at least one dimension"):
        fg.matmul(fg.tensor(2.0), fg.tensor(np.ones(3)))


def test_matmul_dtypes():
    ai = np.arange(12, dtype=np.int32).reshape(3, 4)
    bi = np.arange(8, dtype=np.int32).reshape(4, 2) - 3
    got = fg.matmul(ai, bi)
    assert got.dtype == fg.int32
    np.testing.assert_array_equal(got.numpy(), ai @ bi)
    mixed = fg.matmul(fg.tensor(ai), fg.tensor(bi.astype(np.float64)))
    assert mixed.dtype == fg.float64
    np.testing.assert_allclose(mixed.numpy(), ai @ bi)
    ab, bb = ai % 3 == 0, bi > 0
    got_b = fg.matmul(ab, bb)
    assert got_b.dtype == fg.bool_
    np.testing.assert_array_equal(got_b.numpy(), ab @ bb)
    a32 = _r(5, 6, dtype=np.float32)
    assert fg.matmul(a32, a32.T).dtype == fg.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 4), (4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((1, 4), (3, 4, 1)),
        ((3, 0), (0, 2)),
        ((9, 7), (7, 11)),  # edge tiles in both directions (tiles of 4 x 4)
        ((2, 5, 8), (8, 4)),
        ((1, 1), (1, 1)),
    ],
)
def test_taichi_matmul_kernel(dtype, sa, sb):
    # The kernel a GPU arch runs, exercised here on the CPU arch.
    rng = np.random.default_rng(3)
    a = rng.integers(-3, 4, size=sa).astype(dtype)
    b = rng.integers(-3, 4, size=sb).astype(dtype)
    got = _kernels_reduce_matmul.matmul_taichi(fg.tensor(a), fg.tensor(b))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got.numpy(), np.matmul(a, b))


def test_taichi_matmul_kernel_large_float32():
    a, b = _r(70, 130, seed=4, dtype=np.float32), _r(130, 90, seed=5, dtype=np.float32)
    got = _kernels_reduce_matmul.matmul_taichi(fg.tensor(a), fg.tensor(b)).numpy()
    np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


def test_taichi_matmul_kernel_sums_in_order():
    # Each output element is the sum over k in increasing order: equal to a sequential loop.
    a, b = _r(6, 37, seed=6), _r(37, 5, seed=7)
    want = np.zeros((6, 5))
    for p in range(37):
        want += a[:, p : p + 1] * b[p : p + 1, :]
    got = _kernels_reduce_matmul.matmul_taichi(fg.tensor(a), fg.tensor(b)).numpy()
    np.testing.assert_array_equal(got, want)


def test_matmul_does_not_mutate_inputs():
    a, b = _r(3, 4), _r(4, 2)
    ta, tb = fg.tensor(a), fg.tensor(b)
    fg.matmul(ta, tb)
    np.testing.assert_array_equal(ta.numpy(), a)
    np.testing.assert_array_equal(tb.numpy(), b)


def test_dot_vdot_inner_outer_tensordot():
    a, b, v = _r(2, 3), _r(3, 4), _r(3)
    np.testing.assert_allclose(fg.dot(a, b).numpy(), np.dot(a, b))
    np.testing.assert_allclose(fg.dot(v, v).item(), np.dot(v, v))
    np.testing.assert_allclose(fg.dot(2.0, v).numpy(), 2.0 * v)
    np.testing.assert_allclose(fg.vdot(a, a).item(), np.vdot(a, a))
    np.testing.assert_allclose(fg.inner(a, v).numpy(), np.inner(a, v))
    np.testing.assert_allclose(fg.outer(a, v).numpy(), np.outer(a, v))
    c = _r(3, 4, 5, seed=6)
    d = _r(4, 5, 2, seed=7)
    np.testing.assert_allclose(fg.tensordot(c, d).numpy(), np.tensordot(c, d), rtol=1e-12)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3,\)"):
        fg.vdot(a, v)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3, 4\)"):
        fg.inner(a, b)
    with pytest.raises(ValueError, match="contracted axes"):
        fg.tensordot(c, d, axes=([0], [0]))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        fg.tensordot(c, d, axes=([3], [0]))


def test_diagonal_and_trace():
    x = _r(3, 4, 5)
    for offset, a1, a2 in [(0, 0, 1), (2, 0, 1), (-1, 1, 2), (1, 2, 0), (9, 0, 1), (0, -1, -2)]:
        np.testing.assert_array_equal(
            fg.diagonal(x, offset, a1, a2).numpy(), np.diagonal(x, offset, a1, a2)
        )
        np.testing.assert_allclose(fg.trace(x, offset, a1, a2).numpy(), np.trace(x, offset, a1, a2))
    i = np.arange(9, dtype=np.int32).reshape(3, 3)
    assert fg.trace(i).dtype == fg.int32 and fg.trace(i).item() == 12
    with pytest.raises(ValueError, match="at least two dimensions"):
        fg.diagonal(np.ones(3))
    with pytest.raises(ValueError, match="same axis"):
        fg.diagonal(x, 0, 1, -2)


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii->", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bi,bi->b", [(6, 3), (6, 3)]),
    ("ijk,k->ij", [(2, 3, 4), (4,)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("i...->...", [(2, 3, 4)]),
    ("...i,...i", [(3, 4), (4,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
    ("iij->ij", [(3, 3, 2)]),
    ("bA,a", [(2, 3), (3,)]),
    ("ii", [(3, 3)]),
    ("ij,jk", [(2, 1), (3, 4)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
    (",i->i", [(), (3,)]),
    ("ij,jk->ik", [(0, 4), (4, 5)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy(subscripts, shapes):
    ops = [_r(*s, seed=k) for k, s in enumerate(shapes)]
    got = fg.einsum(subscripts, *[fg.tensor(o) for o in ops])
    want = np.asarray(np.einsum(subscripts, *ops))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_einsum_dtypes():
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    got = fg.einsum("ij,kj->ik", i, i)
    assert got.dtype == fg.int32
    np.testing.assert_array_equal(got.numpy(), np.einsum("ij,kj->ik", i, i))
    b = i % 2 == 0
    got_b = fg.einsum("ij,kj->ik", b, b)
    assert got_b.dtype == fg.bool_
    np.testing.assert_array_equal(got_b.numpy(), np.einsum("ij,kj->ik", b, b))


@pytest.mark.parametrize(
    "subscripts,shapes,match",
    [
        ("ij,jk->ik", [(3, 4), (5, 6)], "label 'j'.*sizes 4 and 5"),
        ("ij->k", [(2, 2)], "output subscript 'k'"),
        ("ij->ii", [(2, 2)], "repeated"),
        ("i$", [(2,)], "invalid subscript '\\$'"),
        ("ij", [(2, 2, 2)], "names 2 axes but operand 0 has 3 dimensions"),
        ("ij,jk", [(2, 2)], "2 input terms but 1 operands"),
        ("...i->i", [(2, 3)], "no '...'"),
        ("i..j", [(2, 3)], "ellipsis"),
        ("i->j->k", [(2,)], "more than one '->'"),
        ("ii->i", [(2, 3)], "label 'i'"),
    ],
)
def test_einsum_errors(subscripts, shapes, match):
    with pytest.raises(ValueError, match=match):
        fg.einsum(subscripts, *[fg.tensor(np.ones(s)) for s in shapes])


def test_einsum_argument_types():
    with pytest.raises(TypeError, match="subscripts must be a string"):
        fg.einsum(3, fg.tensor(np.ones(2)))
    with pytest.raises(ValueError, match="no operands"):
        fg.einsum("i")
