"""Reductions: axes and keepdims, dtypes, ties, NaN, empty axes, accuracy, errors."""

import numpy as np
import pytest

import fieldgrad as fg


def _x(shape=(2, 3, 4), dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@pytest.mark.parametrize("axis", [None, 0, -1, -2, (0, 2), (-1, 0), (1, 2), (0, 1, 2), ()])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(
    "name", ["sum", "prod", "max", "min", "mean", "var", "std", "logsumexp", "any", "all"]
)
def test_axes_and_keepdims_match_numpy(name, axis, keepdims):
    from scipy.special import logsumexp

    x = _x()
    ref = logsumexp if name == "logsumexp" else getattr(np, name)
    got = getattr(fg, name)(fg.tensor(x), axis=axis, keepdims=keepdims).numpy()
    want = np.asarray(ref(x, axis=axis, keepdims=keepdims))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "shape,axis",
    [
        ((5, 16), 0),  # one full block of 16 neighbouring outputs per task
        ((3, 7, 17), 1),  # a partial block
        ((5000, 20), 0),  # a chunked reduced axis, blocks of outputs
        ((2, 4500, 3), 1),  # a chunked reduced axis, fewer outputs than a block
        ((9000,), 0),  # one long row: chunks, then the partials
        ((3, 1, 4, 1), (1, 3)),  # only axes of length one
        ((2, 3, 4, 5), (0, 2)),  # separate blocks: transposed first
        ((4, 1, 3, 5), (0, 2)),  # separate only through an axis of length one
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.bool_])
def test_reduction_layouts(shape, axis, dtype):
    x = np.random.default_rng(8).integers(-3, 4, size=shape).astype(dtype)
    t = fg.tensor(x)
    wide = x.astype(np.int64) if dtype != np.float32 else x.astype(np.float64)
    np.testing.assert_array_equal(fg.sum(t, axis=axis).numpy(), wide.sum(axis=axis))
    np.testing.assert_array_equal(fg.max(t, axis=axis).numpy(), x.max(axis=axis))
    np.testing.assert_array_equal(
        fg.min(t, axis=axis, keepdims=True).numpy(), x.min(axis, None, True)
    )
    if isinstance(axis, int):
        np.testing.assert_array_equal(fg.argmax(t, axis=axis).numpy(), x.argmax(axis=axis))
        np.testing.assert_array_equal(fg.argmin(t, axis=axis).numpy(), x.argmin(axis=axis))


def test_method_forms():
    x = _x((3, 4))
    t = fg.tensor(x)
    np.testing.assert_allclose(t.sum(axis=0).numpy(), x.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(t.max(axis=1, keepdims=True).numpy(), x.max(1, keepdims=True))
    assert t.argmin(axis=1).tolist() == x.argmin(axis=1).tolist()
    np.testing.assert_allclose(t.std(ddof=1).item(), x.std(ddof=1), rtol=1e-12)


def test_axis_errors():
    t = fg.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        fg.sum(t, axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        fg.mean(t, axis=-3)
    with pytest.raises(ValueError, match="repeated axis"):
        fg.sum(t, axis=(0, -2))
    with pytest.raises(TypeError, match="axis must be"):
        fg.sum(t, axis=1.5)
    with pytest.raises(TypeError, match="single int"):
        fg.argmax(t, axis=(0, 1))


def test_integer_and_bool_dtypes():
    i = fg.tensor(np.arange(12, dtype=np.int32).reshape(3, 4))
    assert fg.sum(i).dtype == fg.int32 and fg.sum(i).item() == 66
    assert fg.prod(i, axis=1).dtype == fg.int32
    assert fg.sum(fg.tensor(np.arange(4, dtype=np.int64))).dtype == fg.int64
    b = fg.tensor(np.array([[True, False, True], [True, True, True]]))
    s = fg.sum(b, axis=1)
    assert s.dtype == fg.int32 and s.tolist() == [2, 3]
    assert fg.max(b).dtype == fg.bool_
    assert fg.mean(i).dtype == fg.float32 and fg.mean(i).item() == 5.5
    assert fg.argmax(i).dtype == fg.int32
    assert fg.any(i).dtype == fg.bool_ and fg.all(i).item() is False
    assert fg.sum(i, dtype="int64").dtype == fg.int64


def test_int32_sum_wraps_like_numpy_int32():
    x = np.full(4, 2**30, dtype=np.int32)
    assert fg.sum(fg.tensor(x)).item() == int(x.sum(dtype=np.int32))


def test_argmax_argmin_ties_take_first_occurrence():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [0.0, -1.0, 5.0, -1.0]])
    t = fg.tensor(x)
    assert fg.argmax(t, axis=1).tolist() == [1, 0, 2]
    assert fg.argmin(t, axis=1).tolist() == [3, 0, 1]
    assert fg.argmax(t, axis=0).tolist() == np.argmax(x, axis=0).tolist()
    assert fg.argmax(t).item() == np.argmax(x) == 10
    assert fg.argmin(t, axis=1, keepdims=True).shape == (3, 1)
    assert fg.argmax(t, keepdims=True).shape == (1, 1)


def test_large_argmax_is_chunked_and_keeps_first():
    x = np.zeros(300_000, dtype=np.float32)
    x[[123_456, 200_001, 299_999]] = 7.0
    assert fg.argmax(fg.tensor(x)).item() == 123_456
    x2 = np.zeros((3, 20_000), dtype=np.float64)
    x2[:, 9000] = -1.0
    x2[1, 15_000] = -1.0
    assert fg.argmin(fg.tensor(x2), axis=1).tolist() == [9000, 9000, 9000]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_min_argmax_propagate_nan(dtype):
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, np.nan], [-1.0, 0.0, 2.0]], dtype=dtype)
    t = fg.tensor(x)
    for axis in (None, 0, 1):
        np.testing.assert_array_equal(fg.max(t, axis=axis).numpy(), np.max(x, axis=axis))
        np.testing.assert_array_equal(fg.min(t, axis=axis).numpy(), np.min(x, axis=axis))
        np.testing.assert_array_equal(fg.argmax(t, axis=axis).numpy(), np.argmax(x, axis=axis))
        np.testing.assert_array_equal(fg.argmin(t, axis=axis).numpy(), np.argmin(x, axis=axis))
    big = np.ones(50_000, dtype=dtype)
    big[40_000] = np.nan
    assert np.isnan(fg.max(fg.tensor(big)).item())
    assert fg.argmin(fg.tensor(big)).item() == 40_000


def test_sum_of_nan_and_inf():
    x = np.array([1.0, np.inf, 2.0])
    assert fg.sum(fg.tensor(x)).item() == np.inf
    assert np.isnan(fg.sum(fg.tensor(np.array([np.inf, -np.inf]))).item())


def test_large_float32_sum_is_accurate():
    x = np.random.default_rng(3).uniform(0.0, 1.0, size=1_000_000).astype(np.float32)
    want = x.astype(np.float64).sum()
    got = fg.sum(fg.tensor(x)).item()
    assert abs(got - want) / want < 1e-6
    rows = fg.sum(fg.tensor(x.reshape(10, -1)), axis=1).numpy()
    np.testing.assert_allclose(rows, x.reshape(10, -1).astype(np.float64).sum(1), rtol=1e-6)
    cols = fg.mean(fg.tensor(x.reshape(-1, 8)), axis=0).numpy()
    np.testing.assert_allclose(cols, x.reshape(-1, 8).astype(np.float64).mean(0), rtol=1e-6)


def test_large_float64_sum_is_accurate():
    x = np.random.default_rng(4).normal(size=2_000_000) + 10.0
    assert abs(fg.sum(fg.tensor(x)).item() - np.sum(x)) / np.sum(x) < 1e-13


def test_empty_reductions():
    e = fg.tensor(np.zeros((0, 3)))
    assert fg.sum(e).item() == 0.0
    assert fg.prod(e).item() == 1.0
    assert fg.sum(e, axis=0).tolist() == [0.0, 0.0, 0.0]
    assert fg.prod(e, axis=0).tolist() == [1.0, 1.0, 1.0]
    assert fg.sum(e, axis=1).shape == (0,)
    assert fg.max(e, axis=1).shape == (0,) and fg.argmax(e, axis=1).shape == (0,)
    assert fg.any(e, axis=0).tolist() == [False] * 3
    assert fg.all(e, axis=0).tolist() == [True] * 3
    assert fg.logsumexp(e, axis=0).tolist() == [-np.inf] * 3
    with pytest.warns(RuntimeWarning):
        want = np.mean(np.zeros((0, 3)), axis=0)
    np.testing.assert_array_equal(fg.mean(e, axis=0).numpy(), want)
    for fn in (fg.max, fg.min):
        with pytest.raises(ValueError, match="zero-size reduction"):
            fn(e)
        with pytest.raises(ValueError, match=r"shape \(0, 3\)"):
            fn(e, axis=0)
    for fn in (fg.argmax, fg.argmin):
        with pytest.raises(ValueError, match="empty"):
            fn(e)
        with pytest.raises(ValueError, match="empty axis"):
            fn(e, axis=0)


def test_zero_dimensional_inputs():
    s = fg.tensor(2.5)
    assert fg.sum(s).item() == 2.5 and fg.sum(s).shape == ()
    assert fg.max(s, axis=0).item() == 2.5
    assert fg.argmax(s).item() == 0
    assert fg.var(s).item() == 0.0
    assert fg.sum(True).dtype == fg.int32


def test_var_std_ddof():
    x = _x((4, 5), seed=5)
    for ddof in (0, 1, 2):
        np.testing.assert_allclose(
            fg.var(fg.tensor(x), axis=0, ddof=ddof).numpy(), np.var(x, axis=0, ddof=ddof)
        )
        np.testing.assert_allclose(
            fg.std(fg.tensor(x), axis=1, ddof=ddof).numpy(), np.std(x, axis=1, ddof=ddof)
        )
    assert fg.var(fg.tensor([1.0, 2.0]), ddof=2).item() == np.inf
    # float32 var of data with a large mean stays accurate (two-pass).
    y = (np.random.default_rng(6).normal(size=10_000) + 1e4).astype(np.float32)
    np.testing.assert_allclose(fg.var(fg.tensor(y)).item(), np.var(y.astype(np.float64)), 1e-3)


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [0.0, -np.inf]])
    got = fg.logsumexp(fg.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(got, [1000.0 + np.log(2), -1000.0 + np.log(2), 0.0])
    assert fg.logsumexp(fg.tensor([-np.inf, -np.inf])).item() == -np.inf
    assert fg.logsumexp(fg.tensor([np.inf, 1.0])).item() == np.inf
    assert np.isnan(fg.logsumexp(fg.tensor([np.nan, 1.0])).item())
    x32 = np.array([100.0, 100.0], dtype=np.float32)
    assert fg.logsumexp(fg.tensor(x32)).dtype == fg.float32
    np.testing.assert_allclose(fg.logsumexp(fg.tensor(x32)).item(), 100 + np.log(2), rtol=1e-6)


def test_norm_orders_and_errors():
    x = _x((3, 4), seed=7)
    t = fg.tensor(x)
    np.testing.assert_allclose(fg.norm(t).item(), np.linalg.norm(x))
    np.testing.assert_allclose(fg.norm(t, "fro").item(), np.linalg.norm(x, "fro"))
    for ord_ in (1, 2, 3, 0.5, np.inf, -np.inf, 0, -1):
        np.testing.assert_allclose(
            fg.norm(t, ord_, axis=1).numpy(), np.linalg.norm(x, ord_, axis=1), rtol=1e-12
        )
    np.testing.assert_allclose(
        fg.norm(t, axis=0, keepdims=True).numpy(), np.linalg.norm(x, axis=0, keepdims=True)
    )
    np.testing.assert_allclose(
        fg.norm(_x((2, 3, 4)), axis=(0, 2)).numpy(), np.linalg.norm(_x((2, 3, 4)), axis=(0, 2))
    )
    with pytest.raises(ValueError, match="only ord=None or 'fro'"):
        fg.norm(t, ord=1)
    with pytest.raises(ValueError, match="'nuc'"):
        fg.norm(t, ord="nuc", axis=(0, 1))
    with pytest.raises(ValueError, match="needs two axes"):
        fg.norm(t, ord="fro", axis=0)


def test_any_all():
    x = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert fg.any(x, axis=1).tolist() == [True, False]
    assert fg.all(x + 1, axis=0).tolist() == [True, True, True]
    assert fg.any(fg.tensor(x)).item() is True
    assert fg.all(fg.tensor(x), keepdims=True).shape == (1, 1)
    nan = np.array([[np.nan, 0.0], [np.nan, 1.0]])
    assert fg.any(nan, axis=1).tolist() == [True, True]
    assert fg.all(nan, axis=0).tolist() == [True, False]


def test_accepts_numpy_and_lists():
    assert fg.sum([[1, 2], [3, 4]], axis=1).tolist() == [3, 7]
    assert fg.max(np.array([1.5, -2.0])).item() == 1.5
    assert fg.argmin([3, 1, 2]).item() == 1
