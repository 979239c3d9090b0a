"""Creation functions: values and dtypes against numpy, dtype inference, errors."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _creation, _runtime


@pytest.fixture
def float64_default(monkeypatch):
    monkeypatch.setitem(_runtime._state, "default_dtype", np.dtype("float64"))


@pytest.mark.parametrize("fn,value", [(fg.zeros, 0), (fg.ones, 1), (fg.empty, 0)])
@pytest.mark.parametrize("shape", [(), 4, (2, 3), (2, 0, 3), [3, 1]])
def test_constant_fills(fn, value, shape):
    t = fn(shape)
    want = np.full(shape, value, dtype=np.float32)
    assert t.shape == want.shape and t.dtype == fg.float32
    np.testing.assert_array_equal(t.numpy(), want)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float32", "float64"])
def test_dtype_argument(dtype):
    for fn in (fg.zeros, fg.ones):
        t = fn((3, 2), dtype=dtype)
        assert t.dtype.name == dtype
    np.testing.assert_array_equal(fg.ones(3, dtype=dtype).numpy(), np.ones(3, dtype=dtype))
    np.testing.assert_array_equal(fg.eye(3, dtype=dtype).numpy(), np.eye(3, dtype=dtype))


def test_full_dtype_inference():
    assert fg.full(2, 7).dtype == fg.int32
    assert fg.full(2, 2**40).dtype == fg.int64
    assert fg.full(2, 1.5).dtype == fg.float32
    assert fg.full(2, True).dtype == fg.bool_
    assert fg.full(2, np.float64(1.5)).dtype == fg.float32  # a scalar takes the default float
    np.testing.assert_array_equal(fg.full((2, 2), 2**40).numpy(), np.full((2, 2), 2**40))
    np.testing.assert_array_equal(fg.full(3, -2.5, dtype="float64").numpy(), [-2.5] * 3)
    np.testing.assert_array_equal(fg.full(2, 2.9, dtype="int32").numpy(), [2, 2])


def test_full_special_values():
    np.testing.assert_array_equal(fg.full(3, np.inf).numpy(), [np.inf] * 3)
    assert np.isnan(fg.full(2, np.nan, dtype="float64").numpy()).all()


def test_full_default_float64(float64_default):
    assert fg.zeros(2).dtype == fg.float64
    assert fg.full(2, 0.1).numpy()[0] == 0.1
    assert fg.arange(0.0, 1.0, 0.25).dtype == fg.float64
    assert fg.linspace(0, 1, 3).dtype == fg.float64


def test_full_with_tensor_fill_broadcasts():
    t = fg.full((2, 3), fg.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [1, 2, 3]])
    assert fg.full((2,), fg.tensor(4, dtype="int32"), dtype="float64").dtype == fg.float64


def test_full_errors():
    with pytest.raises(ValueError, match="does not fit in int32"):
        fg.full(2, 2**40, dtype="int32")
    with pytest.raises(ValueError, match="cannot store nan"):
        fg.full(2, float("nan"), dtype="int32")
    with pytest.raises(TypeError, match="unsupported dtype"):
        fg.zeros(2, dtype="complex64")


def test_large_fill_runs_parallel():
    n = 300_001
    np.testing.assert_array_equal(fg.ones(n).numpy(), np.ones(n, np.float32))
    np.testing.assert_array_equal(fg.arange(n).numpy(), np.arange(n))


def test_like_functions():
    x = fg.tensor([[1, 2], [3, 4]], dtype="int32")
    assert fg.zeros_like(x).dtype == fg.int32 and fg.zeros_like(x).shape == (2, 2)
    assert fg.ones_like(x, dtype="float64").dtype == fg.float64
    np.testing.assert_array_equal(fg.full_like(x, 2.5).numpy(), np.full((2, 2), 2))
    np.testing.assert_array_equal(
        fg.full_like(x, 2.5, dtype="float32").numpy(), np.full((2, 2), 2.5, np.float32)
    )
    np.testing.assert_array_equal(fg.ones_like(np.zeros((3,), np.float64)).numpy(), [1.0] * 3)
    assert fg.ones_like(np.zeros(3)).dtype == fg.float64
    assert fg.zeros_like([[1.0, 2.0]]).shape == (1, 2)
    assert fg.empty_like(x).dtype == fg.int32


@pytest.mark.parametrize(
    "args",
    [(5,), (0,), (-3,), (2, 9), (9, 2), (10, 0, -3), (1, 11, 4), (-5, 5, 2)],
)
def test_arange_int(args):
    t = fg.arange(*args)
    want = np.arange(*args)
    assert t.dtype == fg.int32
    np.testing.assert_array_equal(t.numpy(), want)


@pytest.mark.parametrize(
    "args", [(0.0, 1.0, 0.1), (2.5,), (1, 2, 0.25), (3.0, -1.0, -0.5), (0, 1, 0.3), (-1.5, 1.5)]
)
def test_arange_float(args):
    t = fg.arange(*args)
    want = np.arange(*args)
    assert t.dtype == fg.float32 and t.shape == want.shape
    np.testing.assert_allclose(t.numpy(), want, rtol=1e-6, atol=1e-7)
    t64 = fg.arange(*args, dtype="float64")
    np.testing.assert_allclose(t64.numpy(), want, rtol=1e-15, atol=1e-15)


def test_arange_dtypes_and_errors():
    assert fg.arange(5, dtype="float64").dtype == fg.float64
    assert fg.arange(2**31 - 1, 2**31 + 2).dtype == fg.int64
    np.testing.assert_array_equal(fg.arange(2**33, 2**33 + 3).numpy(), np.arange(2**33, 2**33 + 3))
    with pytest.raises(ValueError, match="step must not be zero"):
        fg.arange(0, 5, 0)
    with pytest.raises(ValueError, match="finite"):
        fg.arange(0.0, float("inf"))
    with pytest.raises(TypeError, match="real number"):
        fg.arange("3")


@pytest.mark.parametrize("num", [0, 1, 2, 5, 50])
@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace(num, endpoint):
    want = np.linspace(-1.3, 2.7, num, endpoint=endpoint)
    t = fg.linspace(-1.3, 2.7, num, endpoint=endpoint, dtype="float64")
    np.testing.assert_allclose(t.numpy(), want, rtol=1e-15, atol=1e-15)
    t32 = fg.linspace(-1.3, 2.7, num, endpoint=endpoint)
    assert t32.dtype == fg.float32
    np.testing.assert_allclose(t32.numpy(), want.astype(np.float32), rtol=1e-6)
    if endpoint and num > 1:
        assert t.numpy()[-1] == 2.7


def test_linspace_int_and_errors():
    np.testing.assert_array_equal(
        fg.linspace(-3.7, 5, 4, dtype="int32").numpy(), np.linspace(-3.7, 5, 4, dtype=np.int32)
    )
    with pytest.raises(ValueError, match="num must be >= 0"):
        fg.linspace(0, 1, -1)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    a, b, c = np.arange(3), np.linspace(0, 1, 4), np.array([5.0, 6.0])
    for xs in [(a,), (a, b), (a, b, c)]:
        got = fg.meshgrid(*[fg.tensor(v) for v in xs], indexing=indexing)
        want = np.meshgrid(*xs, indexing=indexing)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)
    assert fg.meshgrid(fg.arange(3), fg.arange(2))[0].dtype == fg.int32


def test_meshgrid_bad_indexing():
    with pytest.raises(ValueError, match="'xy' or 'ij'"):
        fg.meshgrid(fg.arange(2), indexing="xyz")


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 4, 1), (4, 2, -1), (3, 3, 5), (0, 2, 0)])
def test_eye(n, m, k):
    np.testing.assert_array_equal(fg.eye(n, m, k).numpy(), np.eye(n, m, k, dtype=np.float32))
    assert fg.eye(n, m, k, dtype="int32").dtype == fg.int32


@pytest.mark.parametrize(
    "fn", [fg.zeros, fg.ones, fg.empty, lambda s: fg.full(s, 2.0), lambda s: fg.eye(*s)]
)
def test_negative_sizes_raise(fn):
    with pytest.raises(ValueError, match="negative size"):
        fn((2, -1))


def test_bad_shapes_raise_typeerror():
    with pytest.raises(TypeError, match="sizes must be ints"):
        fg.zeros((2, 1.5))
    with pytest.raises(TypeError, match="int or a tuple of ints"):
        fg.zeros(2.0)
    with pytest.raises(ValueError, match="at most"):
        fg.zeros((2**20, 2**20))


def test_creation_primitives_have_no_inputs_and_static_params():
    params = dict(shape=(2, 3), dtype=fg.float32, fill_value=1.0)
    hash(tuple(params.items()))
    aval = _creation.full_p.abstract_eval(**params)
    assert aval.shape == (2, 3) and aval.dtype == fg.float32
    out = _creation.full_p.bind(**params)
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 3)))
