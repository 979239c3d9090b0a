"""astype between every pair of dtypes, and promotion of mixed operands."""

import numpy as np
import pytest

import fieldgrad as fg

DTYPES = ["bool", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_astype_matches_numpy(src, dst):
    a = np.array([0, 1, -2, 3.7, -3.7, 100.5, -0.0][: 7 if src != "bool" else 2]).astype(src)
    got = fg.astype(fg.tensor(a), dst)
    assert got.dtype == np.dtype(dst)
    np.testing.assert_array_equal(got.numpy(), a.astype(dst))


def test_astype_special_floats_to_bool():
    a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30], np.float32)
    np.testing.assert_array_equal(fg.astype(fg.tensor(a), "bool").numpy(), a.astype(bool))


def test_astype_same_dtype_returns_the_tensor_and_rejects_bad_dtypes():
    x = fg.tensor([1.0, 2.0])
    assert fg.astype(x, "float32") is x
    assert x.astype(fg.float64).dtype == np.float64
    with pytest.raises(TypeError, match="unsupported dtype"):
        fg.astype(x, "complex64")


@pytest.mark.parametrize(
    "a,b,want",
    [
        ("int32", "float32", "float32"),
        ("int64", "float32", "float32"),
        ("int32", "int64", "int64"),
        ("bool", "int32", "int32"),
        ("float32", "float64", "float64"),
        ("bool", "bool", "bool"),
    ],
)
def test_tensor_promotion(a, b, want):
    x = fg.zeros(3, dtype=a)
    y = fg.zeros(3, dtype=b)
    assert fg.result_type(x, y) == np.dtype(want)
    assert (x + y).dtype == np.dtype(want) or want == "bool"


def test_weak_python_scalars():
    f32 = fg.zeros(2, dtype="float32")
    i32 = fg.zeros(2, dtype="int32")
    assert (f32 * 2.5).dtype == np.float32
    assert (2.5 * f32).dtype == np.float32
    assert (i32 + 1).dtype == np.int32
    assert (i32 + 1.5).dtype == np.float32
    assert (i32 / i32).dtype == np.float32
    assert fg.result_type(True, i32) == np.int32
