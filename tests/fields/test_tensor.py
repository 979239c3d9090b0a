"""Tensor storage, conversion, value semantics and creation from Python/numpy data."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _buffer

DTYPES = ["bool", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 3, 17), (0,), (4, 0, 2)])
def test_round_trip(dt, shape):
    rng = np.random.default_rng(0)
    a = (rng.uniform(-50, 50, size=shape)).astype(dt)
    t = fg.tensor(a)
    assert t.shape == shape and t.dtype == np.dtype(dt)
    assert t.ndim == len(shape) and t.size == a.size
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal(np.asarray(t), a)


@pytest.mark.parametrize("n", [1, 3, 15, 16, 17, 1000, 100_003])
def test_buffers_are_aligned_and_padded(n):
    t = fg.tensor(np.ones(n, np.float32))
    assert t._buf.ctypes.data % 64 == 0
    assert len(t._buf) % 16 == 0 and len(t._buf) >= n
    t2 = fg.exp(t)
    assert t2._buf.ctypes.data % 64 == 0 and len(t2._buf) % 16 == 0


def test_numpy_is_zero_copy_and_read_only():
    t = fg.tensor(np.arange(10, dtype=np.float32))
    v = t.numpy()
    assert np.shares_memory(v, t._buf)
    assert not v.flags.writeable
    with pytest.raises(ValueError):
        v[0] = 5.0
    w = np.array(t)  # an explicit copy is writable
    w[0] = 5.0
    assert t.numpy()[0] == 0.0


def test_tensor_copies_its_input():
    a = np.arange(6, dtype=np.float64)
    t = fg.tensor(a)
    a[0] = 100.0
    assert t.numpy()[0] == 0.0


def test_non_contiguous_numpy_input_is_copied():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    for view in (a[:, ::2], a.T, a[::-1], np.asfortranarray(a)):
        t = fg.tensor(view)
        assert t.shape == view.shape
        np.testing.assert_array_equal(t.numpy(), view)


def test_dtype_inference():
    assert fg.tensor(1.5).dtype == np.float32
    assert fg.tensor(3).dtype == np.int32
    assert fg.tensor(2**40).dtype == np.int64
    assert fg.tensor(True).dtype == np.bool_
    assert fg.tensor([1.0, 2.0]).dtype == np.float32
    assert fg.tensor([1, 2]).dtype == np.int32
    assert fg.tensor([[True, False]]).dtype == np.bool_
    assert fg.tensor(np.zeros(3)).dtype == np.float64  # numpy data keeps its dtype
    assert fg.tensor(np.zeros(3, np.int16)).dtype == np.int32
    assert fg.tensor([1, 2], dtype="float64").dtype == np.float64
    assert fg.tensor(fg.tensor([1.0, 2.0])).shape == (2,)


def test_asarray_returns_the_same_tensor():
    t = fg.tensor([1.0, 2.0])
    assert fg.asarray(t) is t
    assert fg.asarray(t, dtype="float64").dtype == np.float64
    assert fg.asarray([1, 2]).dtype == np.int32


def test_scalar_conversions():
    t = fg.tensor([[2.5]])
    assert float(t) == 2.5 and int(t) == 2 and bool(t) is True
    assert fg.tensor(7).item() == 7
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        float(fg.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(fg.tensor([1.0, 2.0]))


def test_repr_shows_values_and_dtype():
    r = repr(fg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert r.startswith("tensor(") and "3." in r and "float32" in r
    assert "int32" in repr(fg.tensor([1, 2]))
    assert str(fg.tensor([1, 2])) == "[1 2]"


def test_metadata():
    t = fg.tensor(np.zeros((2, 3), np.float64))
    assert t.arch == "cpu" and t.nbytes == 48 and len(t) == 2
    assert t.aval.shape == (2, 3) and t.aval.dtype == np.float64
    with pytest.raises(TypeError, match="0-d"):
        len(fg.tensor(1.0))


def test_bad_input_errors():
    with pytest.raises(TypeError, match="complex"):
        fg.tensor(np.zeros(3, np.complex64))
    with pytest.raises(TypeError, match="unsupported dtype"):
        fg.tensor([1.0], dtype="float16")
    with pytest.raises(ValueError, match="ragged"):
        fg.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="cannot make a tensor"):
        fg.tensor(object())
    with pytest.raises(TypeError, match="fieldgrad.tensor"):
        fg.Tensor([1.0])


def test_tensors_are_immutable():
    t = fg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"\.at\["):
        t[0] = 3.0
    with pytest.raises(AttributeError):
        t.foo = 1


def test_pickle_round_trip():
    import pickle

    t = fg.tensor(np.arange(5.0))
    u = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(u.numpy(), t.numpy())
    assert u.dtype == t.dtype


def test_aligned_empty_helper():
    for n in (1, 16, 33):
        b = _buffer.aligned_empty(n, np.float64)
        assert b.ctypes.data % 64 == 0 and len(b) == _buffer.padded_length(n)
        assert np.all(b[n:] == 0)


def test_objects_with_the_conversion_hook_mix_with_tensors():
    class Wrapped:
        def __init__(self, t):
            self.t = t

        def __fieldgrad_tensor__(self):
            return self.t

    w = Wrapped(fg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal((fg.tensor([3.0, 4.0]) * w).numpy(), [3.0, 8.0])
    np.testing.assert_allclose(fg.exp(w).numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    assert fg.asarray(w) is w.t
