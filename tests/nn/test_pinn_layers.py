"""PINN layers: Fourier features, periodic embedding, SIREN, modified MLP, weight factorisation."""

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


def _check_param_grads(model, x, order=2):
    params, rest = nn.partition(model)
    fg.check_grads(lambda p: nn.combine(p, rest)(x), (params,), order=order)


# ----------------------------------------------------------------------------- FourierFeatures


def test_fourier_features_values():
    ff = nn.FourierFeatures(3, 5, sigma=2.0, key=fg.random.key(0), dtype=F64)
    x = _x((4, 3))
    z = 2 * np.pi * _np(x) @ _np(ff.B)
    np.testing.assert_allclose(ff(x).numpy(), np.concatenate([np.cos(z), np.sin(z)], -1))
    assert ff(_x((3,))).shape == (10,)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        ff(_x((4, 2)))


def test_fourier_features_distribution_and_reproducibility():
    ff = nn.FourierFeatures(64, 256, sigma=3.0, key=fg.random.key(1), dtype=F64)
    b = _np(ff.B)
    assert b.shape == (64, 256)
    assert abs(b.mean()) < 0.1 and abs(b.std() - 3.0) < 0.1
    again = nn.FourierFeatures(64, 256, sigma=3.0, key=fg.random.key(1), dtype=F64)
    np.testing.assert_array_equal(b, _np(again.B))


def test_fourier_features_fixed_vs_trainable():
    x = _x((4, 2))
    fixed = nn.FourierFeatures(2, 3, sigma=1.0, key=fg.random.key(0), dtype=F64)
    assert nn.named_parameters(fixed) == {} and sorted(nn.named_buffers(fixed)) == ["B"]
    g = fg.grad(lambda m: fg.sum(m(x) ** 2 + m(x)))(fixed)
    np.testing.assert_array_equal(g.B.numpy(), 0.0)  # not differentiated
    train = nn.FourierFeatures(2, 3, sigma=1.0, key=fg.random.key(0), trainable=True, dtype=F64)
    assert isinstance(train, nn.FourierFeatures) and train.trainable
    assert sorted(nn.named_parameters(train)) == ["B"] and nn.named_buffers(train) == {}
    np.testing.assert_array_equal(train.B.numpy(), fixed.B.numpy())
    np.testing.assert_allclose(train(x).numpy(), fixed(x).numpy())
    _check_param_grads(train, x)
    assert isinstance(train.replace(B=train.B * 2), nn.FourierFeatures)


def test_fourier_features_input_gradients_and_jit():
    ff = nn.FourierFeatures(2, 3, sigma=0.5, key=fg.random.key(0), dtype=F64)
    x = _x((3, 2))
    fg.check_grads(ff, (x,), order=2)
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(ff, x).numpy(), ff(x).numpy())


# --------------------------------------------------------------------------- PeriodicEmbedding


def test_periodic_embedding_values_and_layout():
    emb = nn.PeriodicEmbedding(3, periods=[2.0, 0.5], axes=[0, 2], num_harmonics=2)
    assert emb.out_features == 1 + 2 * 2 * 2
    x = _x((5, 3))
    a = _np(x)
    ang = np.stack(
        [2 * np.pi * k * a[:, i] / p for i, p in ((0, 2.0), (2, 0.5)) for k in (1, 2)], -1
    )
    ref = np.concatenate([a[:, 1:2], np.cos(ang), np.sin(ang)], -1)
    np.testing.assert_allclose(emb(x).numpy(), ref, rtol=1e-12, atol=1e-12)
    assert emb(_x((3,))).shape == (emb.out_features,)


def test_periodic_embedding_makes_networks_periodic():
    emb = nn.PeriodicEmbedding(2, periods=2.0, axes=[0], num_harmonics=3)
    mlp = nn.MLP([emb.out_features, 8, 1], key=fg.random.key(0), dtype=F64)
    x = _x((6, 2))
    shifted = fg.tensor(_np(x) + np.array([2.0 * 3, 0.0]))
    np.testing.assert_allclose(mlp(emb(shifted)).numpy(), mlp(emb(x)).numpy(), atol=1e-12)
    # ... and its derivative along x_0 is periodic too, and matches the analytic form.
    emb1 = nn.PeriodicEmbedding(1, periods=4.0)
    x1 = fg.tensor(np.array([[0.3], [1.7]]))
    d = fg.vmap(fg.grad(lambda xi: fg.sum(emb1(xi))))(x1).numpy()[:, 0]
    w = 2 * np.pi / 4.0
    ref = -w * np.sin(w * x1.numpy()[:, 0]) + w * np.cos(w * x1.numpy()[:, 0])
    np.testing.assert_allclose(d, ref, rtol=1e-12)


def test_periodic_embedding_gradients_jit_and_static_fields():
    emb = nn.PeriodicEmbedding(2, periods=(1.5, 3.0), num_harmonics=2)
    assert fg.tree_leaves(emb) == []  # periods and axes are static
    x = _x((3, 2))
    fg.check_grads(emb, (x,), order=2)
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(emb, x).numpy(), emb(x).numpy())


def test_periodic_embedding_errors():
    with pytest.raises(ValueError, match="axes"):
        nn.PeriodicEmbedding(2, periods=1.0, axes=[2])
    with pytest.raises(ValueError, match="axes"):
        nn.PeriodicEmbedding(2, periods=1.0, axes=[0, 0])
    with pytest.raises(ValueError, match="period"):
        nn.PeriodicEmbedding(2, periods=[1.0], axes=[0, 1])
    with pytest.raises(ValueError, match="period"):
        nn.PeriodicEmbedding(2, periods=-1.0)
    with pytest.raises(ValueError, match="num_harmonics"):
        nn.PeriodicEmbedding(2, periods=1.0, num_harmonics=0)
    assert nn.PeriodicEmbedding(3, periods=1.0, axes=[-1]).axes == (2,)


# ------------------------------------------------------------------------------------ SIREN


def test_siren_layer_values_and_init():
    first = nn.SirenLayer(4, 300, key=fg.random.key(0), is_first=True, dtype=F64)
    w = _np(first.weight)
    assert np.abs(w).max() <= 1 / 4 and np.abs(w).max() > 0.95 / 4
    hidden = nn.SirenLayer(24, 300, key=fg.random.key(1), w0=30.0, dtype=F64)
    bound = math.sqrt(6 / 24) / 30
    w = _np(hidden.weight)
    assert np.abs(w).max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(_np(hidden.bias)).max() <= 1 / math.sqrt(24)
    x = _x((5, 24))
    ref = np.sin(30.0 * (_np(x) @ _np(hidden.weight) + _np(hidden.bias)))
    np.testing.assert_allclose(hidden(x).numpy(), ref, rtol=1e-10, atol=1e-12)


def test_siren_network():
    net = nn.Siren([2, 8, 8, 1], key=fg.random.key(0), dtype=F64)
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [nn.SirenLayer, nn.SirenLayer, nn.Linear]
    assert net.layers[0].is_first and not net.layers[1].is_first
    assert np.abs(_np(net.layers[2].weight)).max() <= math.sqrt(6 / 8) / 30
    x = _x((4, 2)) * 0.1
    h = _np(x)
    for layer in net.layers[:2]:
        h = np.sin(30.0 * (h @ _np(layer.weight) + _np(layer.bias)))
    ref = h @ _np(net.layers[2].weight) + _np(net.layers[2].bias)
    np.testing.assert_allclose(net(x).numpy(), ref, rtol=1e-10, atol=1e-12)
    sine_out = nn.Siren([2, 4, 1], key=fg.random.key(0), outermost_linear=False, w0=5.0)
    assert type(sine_out.layers[-1]) is nn.SirenLayer and sine_out.layers[-1].w0 == 5.0


def test_siren_second_order_gradients():
    net = nn.Siren([2, 4, 1], key=fg.random.key(0), w0=2.0, w0_first=2.0, dtype=F64)
    x = _x((3, 2)) * 0.3
    fg.check_grads(net, (x,), order=2)
    _check_param_grads(net, x)
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(net, x).numpy(), net(x).numpy())


# ------------------------------------------------------------------------------ ModifiedMLP


def test_modified_mlp_matches_the_paper_equations():
    net = nn.ModifiedMLP([2, 6, 6, 6, 1], key=fg.random.key(0), dtype=F64)
    assert len(net.layers) == 4
    x = _np(_x((5, 2)))

    def dense(layer, h):
        return h @ _np(layer.weight) + _np(layer.bias)

    u, v = np.tanh(dense(net.encoder_u, x)), np.tanh(dense(net.encoder_v, x))
    h = np.tanh(dense(net.layers[0], x))
    for layer in net.layers[1:3]:
        z = np.tanh(dense(layer, h))
        h = (1 - z) * u + z * v
    ref = dense(net.layers[3], h)
    np.testing.assert_allclose(net(fg.tensor(x)).numpy(), ref, rtol=1e-12)
    assert net(fg.tensor(x[0])).shape == (1,)
    # Paper defaults: Xavier normal weights, zero biases.
    assert np.all(_np(net.layers[1].bias) == 0)


def test_modified_mlp_gradients_jit_vmap():
    net = nn.ModifiedMLP([2, 3, 3, 1], "sin", key=fg.random.key(1), dtype=F64)
    x = _x((3, 2))
    fg.check_grads(net, (x,), order=2)
    _check_param_grads(net, x)
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(net, x).numpy(), net(x).numpy())
    np.testing.assert_allclose(fg.vmap(net)(x).numpy(), net(x).numpy(), rtol=1e-12)


def test_modified_mlp_width_errors():
    with pytest.raises(ValueError, match="equal"):
        nn.ModifiedMLP([2, 4, 5, 1], key=fg.random.key(0))
    with pytest.raises(ValueError, match="at least two"):
        nn.ModifiedMLP([2, 4, 1], key=fg.random.key(0))


# ------------------------------------------------------------------- random weight factorisation


def test_rwf_linear_initial_weight_is_glorot():
    key = fg.random.key(3)
    layer = nn.RWFLinear(128, 128, key=key, dtype=F64)
    s = _np(layer.s)
    assert abs(s.mean() - 1.0) < 0.03 and abs(s.std() - 0.1) < 0.03
    w = _np(layer.weight)
    np.testing.assert_allclose(w, _np(layer.V) * np.exp(s)[None, :], rtol=1e-14)
    assert abs(w.std() - math.sqrt(2 / 256)) < 0.05 * math.sqrt(2 / 256)
    # W equals the weight of a plain Linear with the same key and initialiser.
    lin = nn.Linear(128, 128, key=key, weight_init=nn.init.xavier_normal(), dtype=F64)
    np.testing.assert_allclose(w, _np(lin.weight), rtol=1e-12, atol=1e-15)
    assert sorted(nn.named_parameters(layer)) == ["V", "bias", "s"]
    assert np.all(_np(layer.bias) == 0)


def test_rwf_linear_values_and_gradients():
    layer = nn.RWFLinear(3, 2, key=fg.random.key(0), mu=0.5, sigma=0.2, dtype=F64)
    x = _x((4, 3))
    ref = _np(x) @ (_np(layer.V) * np.exp(_np(layer.s))) + _np(layer.bias)
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-12)
    fg.check_grads(layer, (x,), order=2)
    _check_param_grads(layer, x)
    no_bias = nn.RWFLinear(3, 2, key=fg.random.key(0), bias=False)
    assert no_bias.bias is None and no_bias(fg.ones((3,))).shape == (2,)


def test_rwf_mlp():
    net = nn.RWFMLP([2, 5, 1], key=fg.random.key(0), dtype=F64)
    assert [type(layer) for layer in net.layers] == [nn.RWFLinear, nn.RWFLinear]
    x = _x((4, 2))
    h = np.tanh(_np(x) @ _np(net.layers[0].weight) + _np(net.layers[0].bias))
    ref = h @ _np(net.layers[1].weight) + _np(net.layers[1].bias)
    np.testing.assert_allclose(net(x).numpy(), ref, rtol=1e-12)
    _check_param_grads(net, x)
    fg.check_grads(net, (x,), order=2)
    train, _ = nn.partition(net, exclude="*.s")
    assert sorted(nn.named_parameters(train)) == [
        "layers.0.V", "layers.0.bias", "layers.1.V", "layers.1.bias"
    ]  # fmt: skip
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(net, x).numpy(), net(x).numpy())


def test_laplacian_of_pinn_networks():
    # The PDE operators (Taylor mode) run through these layers: compare with finite differences.
    for net in (
        nn.Siren([2, 6, 1], key=fg.random.key(0), w0=1.0, w0_first=1.0, dtype=F64),
        nn.ModifiedMLP([2, 4, 4, 1], key=fg.random.key(1), dtype=F64),
        nn.Sequential([nn.FourierFeatures(2, 3, 0.3, key=fg.random.key(2), dtype=F64),
                       nn.RWFMLP([6, 4, 1], key=fg.random.key(3), dtype=F64)]),
    ):  # fmt: skip

        def u(p, net=net):
            return net(p)[:, 0]

        p = np.array([[0.3, -0.2], [0.1, 0.5]])
        lap = fg.laplacian(u, fg.tensor(p)).numpy()
        h = 1e-4
        fd = sum(
            (_np(u(fg.tensor(p + h * e))) - 2 * _np(u(fg.tensor(p))) + _np(u(fg.tensor(p - h * e))))
            / h**2
            for e in np.eye(2)
        )
        np.testing.assert_allclose(lap, fd, rtol=1e-5, atol=1e-5)
