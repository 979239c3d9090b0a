"""Linear, Sequential, MLP, ResidualBlock: values against numpy, gradients, jit, vmap, init."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

F64 = "float64"


def _np(t):
    return np.asarray(t.numpy(), dtype=np.float64)


def _x(shape, seed=0):
    return fg.tensor(np.random.default_rng(seed).normal(size=shape))


def _mlp_ref(mlp, x, act=np.tanh):
    h = x
    for i, layer in enumerate(mlp.layers):
        h = h @ _np(layer.weight) + _np(layer.bias)
        if i < len(mlp.layers) - 1:
            h = act(h)
    return h


def test_linear_values_and_shapes():
    lin = nn.Linear(3, 4, key=fg.random.key(0), dtype=F64)
    x = _x((2, 5, 3))
    ref = _np(x) @ _np(lin.weight) + _np(lin.bias)
    np.testing.assert_allclose(lin(x).numpy(), ref, rtol=1e-12)
    assert lin(x).shape == (2, 5, 4)
    v = _x((3,))  # a 1-D input
    np.testing.assert_allclose(lin(v).numpy(), _np(v) @ _np(lin.weight) + _np(lin.bias))
    assert lin(v).shape == (4,)


def test_linear_without_bias_and_custom_init():
    lin = nn.Linear(3, 2, key=fg.random.key(1), bias=False, weight_init=nn.init.ones)
    assert lin.bias is None
    assert sorted(nn.named_parameters(lin)) == ["weight"]
    np.testing.assert_allclose(lin(fg.tensor([1.0, 2.0, 3.0])).numpy(), [6.0, 6.0])
    lin2 = nn.Linear(2, 2, key=fg.random.key(1), bias_init=nn.init.constant(0.5))
    np.testing.assert_allclose(lin2.bias.numpy(), [0.5, 0.5])


def test_linear_default_init_is_pytorch_like():
    n_in, n_out = 64, 256
    lin = nn.Linear(n_in, n_out, key=fg.random.key(3), dtype=F64)
    w, b = _np(lin.weight), _np(lin.bias)
    bound = 1 / math.sqrt(n_in)
    assert w.shape == (n_in, n_out) and b.shape == (n_out,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has std a / sqrt(3); 16384 draws give about 1% relative error.
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(w).max() > 0.95 * bound
    assert lin.weight.dtype == fg.float64


def test_linear_init_is_reproducible():
    a = nn.Linear(4, 3, key=fg.random.key(7))
    b = nn.Linear(4, 3, key=fg.random.key(7))
    c = nn.Linear(4, 3, key=fg.random.key(8))
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())
    assert not np.allclose(a.weight.numpy()[:, :1].ravel(), a.bias.numpy()[:1])


def test_linear_errors():
    lin = nn.Linear(3, 2, key=fg.random.key(0))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\).*\(4, 5\)"):
        lin(fg.ones((4, 5)))
    with pytest.raises(ValueError, match="positive"):
        nn.Linear(0, 2, key=fg.random.key(0))
    with pytest.raises(ValueError, match="positive ints"):
        nn.Linear(2.5, 2, key=fg.random.key(0))
    with pytest.raises(TypeError, match="key"):
        nn.Linear(2, 2, key=None)
    assert nn.Linear(np.int64(3), 2, key=fg.random.key(0)).in_features == 3


def test_linear_second_order_gradients_inputs_and_parameters():
    lin = nn.Linear(3, 2, key=fg.random.key(0), dtype=F64)
    x = _x((4, 3))
    fg.check_grads(lambda x: fg.tanh(lin(x)), (x,), order=2)
    fg.check_grads(lambda w, b: fg.tanh(lin.replace(weight=w, bias=b)(x)),
                   (lin.weight, lin.bias), order=2)  # fmt: skip


def test_grad_of_model_is_model_shaped():
    lin = nn.Linear(3, 2, key=fg.random.key(0), dtype=F64)
    x = _x((5, 3))
    g = fg.grad(lambda m: fg.sum(m(x)))(lin)
    assert isinstance(g, nn.Linear)
    np.testing.assert_allclose(g.weight.numpy(), np.repeat(_np(x).sum(0)[:, None], 2, 1))
    np.testing.assert_allclose(g.bias.numpy(), [5.0, 5.0])


def test_mlp_structure_and_values():
    mlp = nn.MLP([2, 5, 4, 1], key=fg.random.key(0), dtype=F64)
    assert [type(layer) for layer in mlp.layers] == [nn.Linear] * 3
    assert [(layer.in_features, layer.out_features) for layer in mlp.layers] == [
        (2, 5), (5, 4), (4, 1)
    ]  # fmt: skip
    assert nn.count_parameters(mlp) == 2 * 5 + 5 + 5 * 4 + 4 + 4 + 1
    assert sorted(nn.named_parameters(mlp))[:2] == ["layers.0.bias", "layers.0.weight"]
    x = _x((7, 2))
    np.testing.assert_allclose(mlp(x).numpy(), _mlp_ref(mlp, _np(x)), rtol=1e-12)
    v = _x((2,))
    assert mlp(v).shape == (1,)
    np.testing.assert_allclose(mlp(v).numpy(), _mlp_ref(mlp, _np(v)), rtol=1e-12)


def test_mlp_activation_options():
    key = fg.random.key(2)
    x = _x((6, 3))
    relu = nn.MLP([3, 8, 2], "relu", key=key, dtype=F64)
    np.testing.assert_allclose(relu(x).numpy(), _mlp_ref(relu, _np(x), lambda h: np.maximum(h, 0)))
    sin = nn.MLP([3, 8, 2], fg.sin, output_activation="sigmoid", key=key, dtype=F64)
    ref = 1 / (1 + np.exp(-_mlp_ref(sin, _np(x), np.sin)))
    np.testing.assert_allclose(sin(x).numpy(), ref, rtol=1e-12)
    # Same key, same weights regardless of the activation.
    np.testing.assert_array_equal(relu.layers[0].weight.numpy(), sin.layers[0].weight.numpy())
    with pytest.raises(ValueError, match="valid names"):
        nn.MLP([3, 2], "tahn", key=key)
    with pytest.raises(ValueError, match="widths"):
        nn.MLP([3], key=key)


def test_mlp_weight_init_option():
    mlp = nn.MLP([256, 256, 1], key=fg.random.key(0), weight_init=nn.init.xavier_normal(),
                 bias_init=nn.init.zeros)  # fmt: skip
    w = mlp.layers[0].weight.numpy()
    assert abs(w.std() - math.sqrt(2 / 512)) < 3e-3
    assert np.all(mlp.layers[0].bias.numpy() == 0)


def test_mlp_second_order_gradients():
    mlp = nn.MLP([2, 4, 3, 1], key=fg.random.key(0), dtype=F64)
    x = _x((3, 2))
    fg.check_grads(lambda x: mlp(x), (x,), order=2)
    params, rest = nn.partition(mlp)
    fg.check_grads(lambda p: nn.combine(p, rest)(x), (params,), order=2)


def test_mlp_jit_equals_eager():
    mlp = nn.MLP([2, 8, 8, 1], key=fg.random.key(0))
    x = _x((16, 2)).astype(fg.float32)
    f = fg.jit(lambda m, x: m(x))
    np.testing.assert_allclose(f(mlp, x).numpy(), mlp(x).numpy(), rtol=1e-5, atol=1e-6)
    mlp2 = nn.MLP([2, 8, 8, 1], key=fg.random.key(1))  # same structure: a new model, no retrace
    np.testing.assert_allclose(f(mlp2, x).numpy(), mlp2(x).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.jit(mlp)(x).numpy(), mlp(x).numpy(), rtol=1e-5, atol=1e-6)


def test_mlp_vmap_equals_batched_call():
    mlp = nn.MLP([3, 6, 2], key=fg.random.key(4), dtype=F64)
    x = _x((5, 3))
    np.testing.assert_allclose(fg.vmap(mlp)(x).numpy(), mlp(x).numpy(), rtol=1e-12)
    per_example = fg.vmap(lambda xi: fg.grad(lambda m: fg.sum(m(xi)))(mlp).layers[0].weight)(x)
    assert per_example.shape == (5, 3, 6)
    total = fg.grad(lambda m: fg.sum(m(x)))(mlp).layers[0].weight
    np.testing.assert_allclose(per_example.numpy().sum(0), total.numpy(), rtol=1e-10)


def test_partition_exclude_first_layer_freezes_it():
    mlp = nn.MLP([2, 8, 8, 1], key=fg.random.key(0))
    train, frozen = nn.partition(mlp, exclude="layers.0")
    assert sorted(nn.named_parameters(train)) == [
        "layers.1.bias", "layers.1.weight", "layers.2.bias", "layers.2.weight"
    ]  # fmt: skip
    assert nn.combine(train, frozen).layers[0].weight is mlp.layers[0].weight


class _Noisy(nn.Module):
    """Adds noise drawn with its key (nothing without one)."""

    scale: float = 1.0

    def __call__(self, x, *, key=None):
        if key is None:
            return x
        return x + self.scale * fg.random.normal(key, x.shape, dtype=x.dtype)


def test_sequential_runs_layers_in_order_and_wraps_functions():
    k1, k2 = fg.random.split(fg.random.key(0))
    l1 = nn.Linear(2, 3, key=k1, dtype=F64)
    l2 = nn.Linear(3, 1, key=k2, dtype=F64)
    seq = nn.Sequential([l1, fg.tanh, "sigmoid", l2])
    x = _x((4, 2))
    ref = l2(fg.sigmoid(fg.tanh(l1(x))))
    np.testing.assert_allclose(seq(x).numpy(), ref.numpy(), rtol=1e-12)
    assert all(isinstance(layer, nn.Module) for layer in seq.layers)
    assert len(seq) == 4 and seq[0] is l1 and [*seq][-1] is l2
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    # A function inside the layer list is static: grad and jit see only the tensors.
    g = fg.grad(lambda s: fg.sum(s(x)))(seq)
    assert g.layers[0].weight.shape == (2, 3)
    np.testing.assert_allclose(fg.jit(lambda s, x: s(x))(seq, x).numpy(), ref.numpy())
    with pytest.raises(TypeError, match="layer 1"):
        nn.Sequential([l1, 3])


def test_sequential_splits_the_key():
    x = fg.zeros((3,), dtype=F64)
    seq = nn.Sequential([_Noisy(), nn.Tanh(), _Noisy()])
    np.testing.assert_array_equal(seq(x).numpy(), np.zeros(3))  # no key: no noise
    key = fg.random.key(5)
    a, b = seq(x, key=key).numpy(), seq(x, key=key).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, seq(x, key=fg.random.key(6)).numpy())
    # All three layers take a key (Tanh too), so the key splits in three; the noise layers
    # use the first and the third subkey.
    k_first, _, k_last = fg.random.split(key, 3)
    ref = np.tanh(fg.random.normal(k_first, (3,), dtype=F64).numpy())
    ref = ref + fg.random.normal(k_last, (3,), dtype=F64).numpy()
    np.testing.assert_allclose(a, ref, rtol=1e-12)
    # A traced key tensor works as well (no retrace under jit).
    kd = fg.random.key_data(key)
    np.testing.assert_allclose(seq(x, key=kd).numpy(), a, rtol=1e-12)


def test_residual_block():
    blk = nn.ResidualBlock(3, key=fg.random.key(0), dtype=F64)
    assert blk.projection is None
    x = _x((4, 3))
    h = np.tanh(_np(x) @ _np(blk.linear1.weight) + _np(blk.linear1.bias))
    ref = _np(x) + h @ _np(blk.linear2.weight) + _np(blk.linear2.bias)
    np.testing.assert_allclose(blk(x).numpy(), ref, rtol=1e-12)
    proj = nn.ResidualBlock(3, 5, hidden_features=7, activation="relu", key=fg.random.key(1),
                            output_activation="tanh", dtype=F64)  # fmt: skip
    assert proj.linear1.weight.shape == (3, 7) and proj.projection.bias is None
    h = np.maximum(_np(x) @ _np(proj.linear1.weight) + _np(proj.linear1.bias), 0)
    ref = np.tanh(
        _np(x) @ _np(proj.projection.weight) + h @ _np(proj.linear2.weight) + _np(proj.linear2.bias)
    )
    np.testing.assert_allclose(proj(x).numpy(), ref, rtol=1e-12)
    assert proj(_x((3,))).shape == (5,)


def test_residual_block_second_order_gradients():
    blk = nn.ResidualBlock(2, 3, key=fg.random.key(0), dtype=F64)
    x = _x((3, 2))
    fg.check_grads(blk, (x,), order=2)
    params, rest = nn.partition(blk)
    fg.check_grads(lambda p: nn.combine(p, rest)(x), (params,), order=2)
