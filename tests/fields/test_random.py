"""fieldgrad.random: known answers, reproducibility, key derivation, distributions, errors."""

import numpy as np
import pytest
import scipy.stats

import fieldgrad as fg
from fieldgrad.fields import _launch, _prng
from fieldgrad.fields import random as fr

KNOWN = [  # Threefry-2x32-20 known answers (Random123; also JAX's tests): key, counter, output
    ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("key,ctr,want", KNOWN)
def test_threefry_known_answers(key, ctr, want):
    assert _prng.threefry2x32(key, ctr) == want
    # the Taichi kernel computes block (i, c1) for i < n: put the counter at i = ctr[0]
    n = ctr[0] + 1 if ctr[0] < 16 else 1
    out = np.zeros(2 * n, np.int64)
    kern = _launch.kernel(("test_threefry_bits",), _prng.bits_kernel)
    if ctr[0] < 16:
        kern(out, n, key[0], key[1], ctr[1])
        assert (int(out[2 * ctr[0]]), int(out[2 * ctr[0] + 1])) == want
    # the Python and Taichi versions agree on many counters
    out = np.zeros(64, np.int64)
    kern(out, 32, key[0], key[1], ctr[1])
    for i in range(32):
        assert (int(out[2 * i]), int(out[2 * i + 1])) == _prng.threefry2x32(key, (i, ctr[1]))


def test_key_basics():
    k = fr.key(42)
    assert k.words == (0, 42)
    assert fr.key(-1).words == (0xFFFFFFFF, 0xFFFFFFFF)
    assert fr.key(2**40 + 3).words == (2**8, 3)
    assert fr.key(np.int64(5)) == fr.key(5) and hash(fr.key(5)) == hash(fr.key(5))
    assert fr.key(5) != fr.key(6)
    assert "Key(" in repr(k)
    with pytest.raises(AttributeError, match="immutable"):
        k.words = (1, 2)
    with pytest.raises(AttributeError, match="immutable"):
        k._words = (1, 2)
    with pytest.raises(TypeError, match="seed must be an int"):
        fr.key(1.5)
    with pytest.raises(ValueError, match="seed must be in"):
        fr.key(2**64)
    assert fg.random is fr


def test_split_and_fold_in():
    k = fr.key(0)
    ks = fr.split(k, 4)
    assert len(ks) == 4 and len(set(ks)) == 4 and k not in ks
    assert fr.split(k, 4) == ks  # deterministic
    assert fr.split(k) == ks[:2]  # the i-th split key does not depend on num
    assert fr.split(k, 0) == []
    f1, f2 = fr.fold_in(k, 1), fr.fold_in(k, 2)
    assert f1 != f2 and f1 == fr.fold_in(k, 1) and f1 not in ks
    assert fr.fold_in(k, -1) == fr.fold_in(k, 2**32 - 1)
    with pytest.raises(ValueError, match="num must be"):
        fr.split(k, -1)
    with pytest.raises(ValueError, match="data must be"):
        fr.fold_in(k, 2**32)
    with pytest.raises(TypeError, match="expected a Key"):
        fr.split(0)


SAMPLERS = {
    "uniform32": lambda k, s: fr.uniform(k, s),
    "uniform64": lambda k, s: fr.uniform(k, s, dtype="float64"),
    "normal32": lambda k, s: fr.normal(k, s),
    "normal64": lambda k, s: fr.normal(k, s, dtype="float64"),
    "integers": lambda k, s: fr.integers(k, s, -5, 100),
    "integers64": lambda k, s: fr.integers(k, s, -(2**40), 2**50, dtype="int64"),
    "bernoulli": lambda k, s: fr.bernoulli(k, 0.3, s),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_reproducible_and_key_dependent(name):
    sample = SAMPLERS[name]
    k = fr.key(123)
    a = sample(k, (50, 40)).numpy()
    b = sample(fr.key(123), (50, 40)).numpy()
    np.testing.assert_array_equal(a, b)
    k1, k2 = fr.split(k)
    c, d = sample(k1, (50, 40)).numpy(), sample(k2, (50, 40)).numpy()
    assert not np.array_equal(a, c) and not np.array_equal(c, d)
    assert not np.array_equal(a, sample(fr.key(124), (50, 40)).numpy())


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_independent_of_thread_count_and_shape(name):
    # 300000 elements run in a parallel loop, 1000 in a serial one: element i is the same.
    sample = SAMPLERS[name]
    k = fr.key(7)
    big = sample(k, (300_000,)).numpy()
    small = sample(k, (1000,)).numpy()
    np.testing.assert_array_equal(big[:1000], small)
    np.testing.assert_array_equal(sample(k, (10, 100)).numpy().ravel(), small)


def test_known_values_are_stable():
    # Pin a few values: a change to the generator or its counters must be deliberate.
    u = fr.uniform(fr.key(0), (3,), dtype="float64").numpy()
    w0, w1 = _prng.threefry2x32((0, 0), (0, 0))
    assert u[0] == ((w0 >> 11) * 2**32 + w1) * 2.0**-53
    i = fr.integers(fr.key(0), (1,), 0, 2**32, dtype="int64").numpy()
    assert int(i[0]) == ((w0 << 32) | w1) % 2**32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_moments_and_ks(dtype):
    n = 100_000
    z = fr.normal(fr.key(11), (n,), dtype=dtype).numpy().astype(np.float64)
    assert fr.normal(fr.key(11), (2,), dtype=dtype).dtype.name == dtype
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.std() - 1) < 4 / np.sqrt(2 * n)
    assert np.isfinite(z).all()
    assert scipy.stats.kstest(z, "norm").pvalue > 1e-3
    y = fr.normal(fr.key(12), (n,), dtype=dtype, mean=3.0, std=0.5).numpy()
    assert abs(y.mean() - 3.0) < 4 * 0.5 / np.sqrt(n)
    assert abs(y.std() - 0.5) < 4 * 0.5 / np.sqrt(2 * n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_range_and_ks(dtype):
    n = 100_000
    u = fr.uniform(fr.key(3), (n,), dtype=dtype).numpy()
    assert u.dtype == np.dtype(dtype)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert scipy.stats.kstest(u, "uniform").pvalue > 1e-3
    v = fr.uniform(fr.key(4), (n,), dtype=dtype, minval=-2.0, maxval=3.0).numpy()
    assert v.min() >= -2.0 and v.max() < 3.0
    assert scipy.stats.kstest(v, "uniform", args=(-2.0, 5.0)).pvalue > 1e-3
    assert abs(v.mean() - 0.5) < 4 * 5 / np.sqrt(12 * n)


def test_uniform_never_returns_maxval_float32():
    # A range of one float32 ulp: rounding would give maxval for about half of the samples.
    hi = float(np.nextafter(np.float32(1.0), np.float32(2.0)))
    u = fr.uniform(fr.key(0), (10_000,), minval=1.0, maxval=hi).numpy()
    assert (u == np.float32(1.0)).all()
    u = fr.uniform(fr.key(1), (100_000,), minval=1.0, maxval=2.0).numpy()
    assert u.max() < 2.0 and u.min() >= 1.0


def test_normal_with_tensor_parameters_is_a_composite():
    k = fr.key(5)
    mean = fg.tensor([0.0, 10.0, -3.0])
    std = fg.tensor([1.0, 2.0, 0.5])
    z = fr.normal(k, (3,)).numpy()
    got = fr.normal(k, (3,), mean=mean, std=std).numpy()
    np.testing.assert_allclose(got, mean.numpy() + std.numpy() * z, rtol=1e-6)


def test_integers_range_and_coverage():
    d = fr.integers(fr.key(0), (60_000,), 1, 7).numpy()
    assert d.dtype == np.int32
    assert d.min() == 1 and d.max() == 6
    counts = np.bincount(d, minlength=7)[1:]
    assert (np.abs(counts - 10_000) < 5 * np.sqrt(10_000)).all(), counts
    e = fr.integers(fr.key(1), (1000,), 10).numpy()
    assert set(e.tolist()) == set(range(10))
    f = fr.integers(fr.key(2), (100,), -(2**31), 2**31).numpy()
    assert f.min() < 0 < f.max()
    g = fr.integers(fr.key(3), (100,), -(2**63), 2**63, dtype="int64").numpy()
    assert g.dtype == np.int64 and g.min() < -(2**60) and g.max() > 2**60
    h = fr.integers(fr.key(4), (1000,), 5, 6).numpy()
    assert (h == 5).all()


def test_integers_errors():
    k = fr.key(0)
    with pytest.raises(ValueError, match="low must be < high"):
        fr.integers(k, (3,), 5, 5)
    with pytest.raises(ValueError, match="does not fit int32"):
        fr.integers(k, (3,), 0, 2**31 + 1)
    with pytest.raises(TypeError, match="dtype must be int32 or int64"):
        fr.integers(k, (3,), 0, 3, dtype="float32")
    with pytest.raises(TypeError, match="high must be an int"):
        fr.integers(k, (3,), 0, 2.5)


def test_bernoulli():
    k = fr.key(9)
    n = 100_000
    b = fr.bernoulli(k, 0.3, (n,)).numpy()
    assert b.dtype == np.bool_
    assert abs(b.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)
    assert not fr.bernoulli(k, 0.0, (1000,)).numpy().any()
    assert fr.bernoulli(k, 1.0, (1000,)).numpy().all()
    assert fr.bernoulli(k).shape == ()
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        fr.bernoulli(k, 1.5, (3,))


@pytest.mark.skipif(not hasattr(fg, "less"), reason="needs fg.less")
def test_bernoulli_tensor_p():
    k = fr.key(9)
    p = fg.tensor([0.0, 1.0, 0.5])
    b = fr.bernoulli(k, p).numpy()
    assert b.shape == (3,) and not b[0] and b[1]


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_permutation_is_a_permutation(n):
    p = fr.permutation(fr.key(n), n).numpy()
    assert p.dtype == np.int32 and p.shape == (n,)
    np.testing.assert_array_equal(np.sort(p), np.arange(n))


def test_permutation_reproducible_and_uniform():
    k = fr.key(0)
    np.testing.assert_array_equal(fr.permutation(k, 50).numpy(), fr.permutation(k, 50).numpy())
    assert not np.array_equal(fr.permutation(k, 50).numpy(), fr.permutation(fr.key(1), 50).numpy())
    counts = {}
    trials = 1200
    for i in range(trials):
        p = tuple(fr.permutation(fr.fold_in(k, i), 3).tolist())
        counts[p] = counts.get(p, 0) + 1
    assert len(counts) == 6
    for c in counts.values():
        assert abs(c - trials / 6) < 5 * np.sqrt(trials / 6), counts


def test_permutation_of_tensor_shuffles_rows():
    k = fr.key(2)
    x = fg.tensor(np.arange(12.0).reshape(6, 2))
    got = fr.permutation(k, x).numpy()
    idx = fr.permutation(k, 6).numpy()
    np.testing.assert_array_equal(got, x.numpy()[idx])
    with pytest.raises(ValueError, match="at least one axis"):
        fr.permutation(k, fg.tensor(1.0))


def test_default_dtypes():
    k = fr.key(0)
    assert fr.uniform(k, 3).dtype == fg.float32
    assert fr.normal(k, 3).dtype == fg.float32
    assert fr.integers(k, 3, 0, 4).dtype == fg.int32
    assert fr.uniform(k).shape == ()


def test_bad_arguments():
    k = fr.key(0)
    with pytest.raises(ValueError, match="negative size"):
        fr.uniform(k, (2, -1))
    with pytest.raises(ValueError, match="negative size"):
        fr.normal(k, -3)
    with pytest.raises(ValueError, match="negative size"):
        fr.integers(k, (-1,), 0, 3)
    with pytest.raises(ValueError, match="negative size"):
        fr.permutation(k, -2)
    with pytest.raises(ValueError, match="minval must be < maxval"):
        fr.uniform(k, 3, minval=1.0, maxval=1.0)
    with pytest.raises(ValueError, match="overflows"):
        fr.uniform(k, 3, minval=-3e38, maxval=3e38)
    with pytest.raises(ValueError, match="std must be >= 0"):
        fr.normal(k, 3, std=-1.0)
    with pytest.raises(ValueError, match="finite"):
        fr.normal(k, 3, mean=float("nan"))
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        fr.uniform(k, 3, dtype="int32")
    with pytest.raises(TypeError, match="expected a Key"):
        fr.normal(1, 3)


def test_sampling_primitive_has_static_params():
    params = dict(key=(0, 1), shape=(4,), dtype=fg.float32, dist="uniform", args=(0.0, 1.0))
    hash(tuple(params.items()))
    assert fr.random_p.abstract_eval(**params) == fg.ShapedArray((4,), fg.float32)
    np.testing.assert_array_equal(
        fr.random_p.bind(**params).numpy(), fr.uniform(fr.Key(0, 1), (4,)).numpy()
    )


# --- keys as tensors ---------------------------------------------------------------------------


def test_key_data_samples_equal_static_key():
    k = fg.random.key(11)
    kt = fg.random.key_data(k)
    assert kt.dtype == fg.int64 and kt.shape == (2,)
    for fn in (
        lambda k: fg.random.uniform(k, (33,), minval=-2.0, maxval=3.0),
        lambda k: fg.random.normal(k, (5, 7), dtype="float64"),
        lambda k: fg.random.integers(k, (9,), 0, 17),
        lambda k: fg.random.bernoulli(k, 0.3, (40,)),
        lambda k: fg.random.permutation(k, 12),
    ):
        np.testing.assert_array_equal(fn(kt).numpy(), fn(k).numpy())


def test_key_tensor_split_and_fold_in_match_static():
    k = fg.random.key(5)
    kt = fg.random.key_data(k)
    for a, b in zip(fg.random.split(kt, 3), fg.random.split(k, 3)):
        assert tuple(a.numpy().tolist()) == b.words
    assert tuple(fg.random.fold_in(kt, 9).numpy().tolist()) == fg.random.fold_in(k, 9).words


def test_key_tensor_under_jit_does_not_retrace():
    def sample(kt, step):
        return fg.random.normal(fg.random.split(kt)[0], (8,)) + step

    f = fg.jit(sample)
    outs = []
    for s in range(4):
        kt = fg.random.key_data(fg.random.key(s))
        outs.append(f(kt, fg.tensor(0.0)).numpy().copy())
        np.testing.assert_array_equal(outs[-1], sample(kt, fg.tensor(0.0)).numpy())
    assert f.cache_info()["misses"] == 1
    assert not np.array_equal(outs[0], outs[1])


def test_key_tensor_bad_shape_or_dtype():
    with pytest.raises(TypeError, match="int64 of shape"):
        fg.random.normal(fg.tensor([1.0, 2.0]), (3,))
    with pytest.raises(TypeError, match="int64 of shape"):
        fg.random.uniform(fg.tensor([1, 2, 3], dtype="int64"), (3,))


def test_samples_from_key_tensor_are_constants_under_grad():
    kt = fg.random.key_data(fg.random.key(0))

    def f(x):
        return (x * fg.random.normal(kt, (3,), dtype="float64")).sum()

    x = fg.ones((3,), dtype="float64")
    np.testing.assert_allclose(fg.grad(f)(x).numpy(), fg.random.normal(kt, (3,), "float64").numpy())
