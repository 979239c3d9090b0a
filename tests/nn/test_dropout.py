"""Dropout: statistics, modes, keys, gradients, jit and errors."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_statistics_mean_preserved_and_fraction_zeroed(p):
    n = 200_000
    y = nn.Dropout(p)(fg.ones(n, dtype="float64"), key=fg.random.key(3)).numpy()
    zero = y == 0.0
    # survivors are scaled by exactly 1 / (1 - p)
    np.testing.assert_allclose(y[~zero], 1.0 / (1.0 - p), rtol=1e-12)
    sd_frac = np.sqrt(p * (1 - p) / n)
    assert abs(zero.mean() - p) < 5 * sd_frac
    assert abs(y.mean() - 1.0) < 5 * sd_frac / (1 - p)


def test_eval_mode_and_p_zero_are_identity_without_key():
    x = fg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(nn.Dropout(0.3).eval()(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.3, training=False)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.eval_mode([nn.Dropout(0.9)])[0](x).numpy(), x.numpy())


def test_p_one_gives_zeros():
    x = fg.tensor(np.arange(1.0, 7.0))
    y = nn.Dropout(1.0)(x, key=fg.random.key(0))
    np.testing.assert_array_equal(y.numpy(), np.zeros(6))
    assert y.dtype == x.dtype


def test_keys_reproducible_and_key_data_accepted():
    drop, x = nn.Dropout(0.5), fg.ones((64,))
    k = fg.random.key(7)
    a = drop(x, key=k).numpy()
    np.testing.assert_array_equal(drop(x, key=k).numpy(), a)
    np.testing.assert_array_equal(drop(x, key=fg.random.key_data(k)).numpy(), a)
    assert not np.array_equal(drop(x, key=fg.random.key(8)).numpy(), a)


def test_gradient_is_the_scaled_mask():
    drop = nn.Dropout(0.25)
    x = fg.tensor(np.linspace(-1.0, 1.0, 50))
    k = fg.random.key(1)
    y = drop(x, key=k).numpy()
    g = fg.grad(lambda x: fg.sum(drop(x, key=k) * 3.0))(x).numpy()
    np.testing.assert_allclose(g, np.where(y != 0.0, 3.0 / 0.75, 0.0), rtol=1e-12)
    fg.check_grads(lambda x: drop(x, key=k), (x,), order=1)


def test_jit_with_traced_key_data_no_retrace():
    drop = nn.Dropout(0.5)
    x = fg.ones((32,))
    f = fg.jit(lambda x, kd: drop(x, key=kd))
    k1, k2 = fg.random.split(fg.random.key(0))
    for k in (k1, k2):
        kd = fg.random.key_data(k)
        np.testing.assert_array_equal(f(x, kd).numpy(), drop(x, key=k).numpy())
    assert f.cache_info()["misses"] == 1


def test_errors():
    with pytest.raises(ValueError, match=r"needs a random key.*key=k"):
        nn.Dropout(0.5)(fg.ones(3))
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
            nn.Dropout(bad)
