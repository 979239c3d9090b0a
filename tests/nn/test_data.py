"""DataLoader batching and deterministic per-epoch shuffling; splits; standardisation."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

X = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
Y = np.arange(23, dtype=np.int64)


def _epoch(loader):
    return [tuple(b.numpy().copy() for b in batch) for batch in loader]


def test_batches_in_order_without_shuffle():
    loader = nn.DataLoader((X, Y), batch_size=5)
    assert len(loader) == 5 and loader.num_examples == 23
    batches = _epoch(loader)
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), Y)
    batch = next(iter(loader))
    assert all(isinstance(t, fg.Tensor) for t in batch)
    assert batch[0].dtype == fg.float32 and batch[1].dtype == fg.int64


def test_drop_last_and_tensor_inputs():
    loader = nn.DataLoader((fg.tensor(X), Y), batch_size=5, drop_last=True)
    assert len(loader) == 4
    batches = _epoch(loader)
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5]
    np.testing.assert_array_equal(batches[1][0], X[5:10])
    single = nn.DataLoader(X, batch_size=30)
    (only,) = _epoch(single)
    np.testing.assert_array_equal(only[0], X)


def test_shuffle_is_a_permutation_new_each_epoch_and_deterministic():
    loader = nn.DataLoader((X, Y), batch_size=4, shuffle=True, seed=7)
    e0, e1 = _epoch(loader), _epoch(loader)
    y0 = np.concatenate([b[1] for b in e0])
    y1 = np.concatenate([b[1] for b in e1])
    assert sorted(y0) == list(range(23)) and sorted(y1) == list(range(23))
    assert not np.array_equal(y0, y1)  # reshuffled
    x0 = np.concatenate([b[0] for b in e0])
    np.testing.assert_array_equal(x0, X[y0])  # rows stay paired
    again = nn.DataLoader((X, Y), batch_size=4, shuffle=True, seed=7)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in _epoch(again)]), y0)
    again.set_epoch(1)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in _epoch(again)]), y1)
    np.testing.assert_array_equal(y1, np.random.default_rng([7, 1]).permutation(23))
    other = nn.DataLoader((X, Y), batch_size=4, shuffle=True, seed=8)
    assert not np.array_equal(np.concatenate([b[1] for b in _epoch(other)]), y0)


def test_loader_errors():
    with pytest.raises(ValueError, match=r"\(23, 3\), \(22,\)"):
        nn.DataLoader((X, Y[:22]), batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        nn.DataLoader((X,), batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        nn.DataLoader((X,), batch_size=2.5)
    with pytest.raises(TypeError, match="tuple of arrays"):
        nn.DataLoader([], batch_size=2)
    with pytest.raises(ValueError, match="scalar"):
        nn.DataLoader((X, 3.0), batch_size=2)


def test_train_test_split():
    (xtr, ytr), (xte, yte) = nn.train_test_split((X, Y), test_fraction=0.2, seed=0)
    assert len(yte) == round(0.2 * 23) and len(ytr) == 23 - len(yte)
    assert sorted(np.concatenate([ytr, yte])) == list(range(23))
    np.testing.assert_array_equal(xtr, X[ytr])
    (_, ytr2), (_, yte2) = nn.train_test_split((X, Y), test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(yte, yte2)
    (_, y3), _ = nn.train_test_split((X, Y), seed=1)
    assert not np.array_equal(ytr, y3)
    (xt,), (xs,) = nn.train_test_split((fg.tensor(X),), 0.5)
    assert isinstance(xt, fg.Tensor) and xt.shape[0] + xs.shape[0] == 23
    with pytest.raises(ValueError, match="test_fraction"):
        nn.train_test_split((X,), test_fraction=1.0)


def test_random_split():
    parts = nn.random_split((X, Y), [0.6, 0.3, 0.1], seed=3)
    sizes = [len(p[1]) for p in parts]
    assert sizes == [13, 6, 4] and sum(sizes) == 23
    assert sorted(np.concatenate([p[1] for p in parts])) == list(range(23))
    with pytest.raises(ValueError, match="sum to 1"):
        nn.random_split((X,), [0.5, 0.4])


def test_standardize_fits_train_and_reuses_its_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (200, 4))
    x[:, 2] = 5.0  # a constant feature
    z, mean, std = nn.standardize(x)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(0)[[0, 1, 3]], 1.0, rtol=1e-12)
    assert std[2] == 1.0 and not np.isnan(z).any()
    x2 = rng.normal(3.0, 2.0, (10, 4))
    z2, _, _ = nn.standardize(x2, mean, std)
    np.testing.assert_allclose(z2, (x2 - mean) / std, rtol=1e-12)
    zt, _, _ = nn.standardize(fg.tensor(x2, dtype="float32"), mean, std)
    assert isinstance(zt, fg.Tensor) and zt.dtype == fg.float32
    np.testing.assert_allclose(zt.numpy(), z2, rtol=1e-5, atol=1e-6)
    zi, _, _ = nn.standardize(np.arange(6).reshape(3, 2))
    assert zi.dtype == np.float64
    with pytest.raises(ValueError, match="both"):
        nn.standardize(x, mean=mean)
    with pytest.raises(ValueError, match=r"\(4,\).*\(10, 3\)"):
        nn.standardize(x2[:, :3], mean, std)
