"""Embedding: lookup values, shapes, gradients (scatter-add of the cotangent), errors."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn


def test_lookup_values_and_shapes():
    emb = nn.Embedding(6, 4, key=fg.random.key(0))
    w = emb.weight.numpy()
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    out = emb(fg.tensor(idx))
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.numpy(), w[idx])
    np.testing.assert_array_equal(emb(fg.tensor(3)).numpy(), w[3])  # a scalar index
    np.testing.assert_array_equal(emb([1, 4]).numpy(), w[[1, 4]])  # a list
    np.testing.assert_array_equal(emb(np.array([4], dtype=np.int64)).numpy(), w[[4]])


def test_default_init_is_standard_normal_and_reproducible():
    emb = nn.Embedding(256, 256, key=fg.random.key(1), dtype="float64")
    w = emb.weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01
    np.testing.assert_array_equal(
        w, nn.Embedding(256, 256, key=fg.random.key(1), dtype="float64").weight.numpy()
    )
    custom = nn.Embedding(3, 2, key=fg.random.key(1), weight_init=nn.init.zeros)
    assert np.all(custom.weight.numpy() == 0)
    assert sorted(nn.named_parameters(emb)) == ["weight"]


def test_gradient_accumulates_repeated_indices():
    emb = nn.Embedding(4, 2, key=fg.random.key(0), dtype="float64")
    idx = fg.tensor([1, 3, 1, 1])
    g = fg.grad(lambda m: fg.sum(m(idx) * fg.tensor([1.0, 2.0], dtype="float64")))(emb)
    np.testing.assert_allclose(g.weight.numpy(), [[0, 0], [3, 6], [0, 0], [1, 2]])


def test_second_order_gradients_wrt_weight():
    emb = nn.Embedding(5, 3, key=fg.random.key(0), dtype="float64")
    idx = fg.tensor([[0, 4], [2, 2]])
    fg.check_grads(lambda w: fg.tanh(emb.replace(weight=w)(idx)), (emb.weight,), order=2)


def test_jit_and_vmap():
    emb = nn.Embedding(7, 3, key=fg.random.key(2))
    idx = fg.tensor([[1, 6], [0, 3]])
    np.testing.assert_array_equal(fg.jit(lambda m, i: m(i))(emb, idx).numpy(), emb(idx).numpy())
    np.testing.assert_array_equal(fg.vmap(emb)(idx).numpy(), emb(idx).numpy())


def test_errors():
    emb = nn.Embedding(4, 2, key=fg.random.key(0))
    with pytest.raises(IndexError, match="index 4 .*4 embeddings"):
        emb(fg.tensor([0, 4]))
    with pytest.raises(IndexError, match="index -1"):
        emb(fg.tensor([-1, 0]))
    with pytest.raises(TypeError, match="integers"):
        emb(fg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="positive"):
        nn.Embedding(0, 2, key=fg.random.key(0))
    assert emb(fg.zeros((0,), dtype="int32")).shape == (0, 2)
