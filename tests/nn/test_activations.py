"""Activation functions: values against numpy, second-order gradients, Module forms, lookup."""

import math

import numpy as np
import pytest
from scipy.special import erf

import fieldgrad as fg
from fieldgrad import nn

X = np.array([-3.0, -1.2, -0.3, 0.4, 1.1, 2.5])


def _np_softplus(x, beta=1.0, threshold=20.0):
    out = np.log1p(np.exp(beta * x)) / beta
    return np.where(beta * x > threshold, x, out)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# (function, numpy reference, Module instance with the same behaviour)
CASES = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0), nn.ReLU()),
    "leaky_relu": (
        lambda x: nn.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        nn.LeakyReLU(0.2),
    ),
    "elu": (
        lambda x: nn.elu(x, 1.5),
        lambda x: np.where(x > 0, x, 1.5 * np.expm1(x)),
        nn.ELU(alpha=1.5),
    ),
    "gelu": (nn.gelu, lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))), nn.GELU()),
    "gelu_tanh": (
        lambda x: nn.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        nn.GELU(approximate="tanh"),
    ),
    "silu": (nn.silu, lambda x: x * _sigmoid(x), nn.SiLU()),
    "tanh": (nn.tanh, np.tanh, nn.Tanh()),
    "sigmoid": (nn.sigmoid, _sigmoid, nn.Sigmoid()),
    "softplus": (
        lambda x: nn.softplus(x, beta=2.0, threshold=3.0),
        lambda x: _np_softplus(x, 2.0, 3.0),
        nn.Softplus(beta=2.0, threshold=3.0),
    ),
    "sin": (nn.sin, np.sin, nn.Sin()),
    "sin_w0": (lambda x: nn.sin(3.0 * x), lambda x: np.sin(3.0 * x), nn.Sin(w0=3.0)),
    "identity": (nn.identity, lambda x: x, nn.Identity()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_numpy(name):
    fn, ref, mod = CASES[name]
    x = fg.tensor(X)
    np.testing.assert_allclose(fn(x).numpy(), ref(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mod(x).numpy(), ref(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mod(x, key=fg.random.key(0)).numpy(), ref(X), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_gradients(name):
    fn = CASES[name][0]
    # Points away from the kinks of relu-like functions and the softplus threshold.
    x = fg.tensor(np.array([-1.3, -0.4, 0.7, 1.9]))
    fg.check_grads(fn, (x,), order=2)


def test_float32_keeps_dtype():
    x = fg.tensor(X.astype(np.float32))
    for name, (fn, _, mod) in CASES.items():
        assert fn(x).dtype == fg.float32, name
        assert mod(x).dtype == fg.float32, name


def test_softplus_is_stable_and_switches_at_threshold():
    x = fg.tensor(np.array([-1000.0, 0.0, 15.0, 25.0, 1000.0]))
    y = nn.softplus(x).numpy()
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [0.0, math.log(2.0), math.log1p(math.exp(15.0)), 25.0, 1000.0])
    # threshold=None: the smooth formula everywhere (differs from x at 25 by exp(-25)).
    assert nn.softplus(fg.tensor([25.0], dtype="float64"), threshold=None).item() > 25.0
    with pytest.raises(ValueError, match="beta"):
        nn.softplus(x, beta=0.0)


def test_elu_does_not_overflow_for_large_inputs():
    g = fg.grad(lambda x: nn.elu(x).sum())(fg.tensor(np.array([1000.0, -1000.0])))
    np.testing.assert_allclose(g.numpy(), [1.0, 0.0], atol=1e-300)


def test_softmax_and_log_softmax_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 5)) * 10
    for axis in (-1, 0):
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        p = e / e.sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(nn.softmax(fg.tensor(a), axis=axis).numpy(), p, rtol=1e-12)
        np.testing.assert_allclose(
            nn.log_softmax(fg.tensor(a), axis=axis).numpy(), np.log(p), rtol=1e-10, atol=1e-12
        )


def test_softmax_is_stable_for_large_logits():
    p = nn.softmax(fg.tensor([1000.0, 1000.0, -1000.0])).numpy()
    np.testing.assert_allclose(p, [0.5, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(nn.log_softmax(fg.tensor([1e4, 0.0])).numpy(), [0.0, -1e4])
    # Masked logits: -inf gets probability 0.
    np.testing.assert_allclose(nn.softmax(fg.tensor([-np.inf, 0.0])).numpy(), [0.0, 1.0])


@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax])
def test_softmax_second_order_gradients(fn):
    x = fg.tensor(np.array([[0.3, -1.0, 2.0], [0.5, 0.1, -0.7]]))
    fg.check_grads(lambda x: fn(x, axis=-1), (x,), order=2)
    fg.check_grads(lambda x: fn(x, axis=0), (x,), order=2)


def test_taylor_mode_through_activations():
    # d^2/dx^2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2), evaluated by jets (Taylor mode).
    x = fg.tensor(np.array([0.3, -0.8]))
    d2 = fg.derivative(nn.Tanh(), x, fg.ones_like(x), order=2).numpy()
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(d2, -2 * t * (1 - t**2), rtol=1e-10)


def test_get_activation():
    assert nn.get_activation("relu") is nn.relu
    assert nn.get_activation("TANH") is nn.tanh
    assert nn.get_activation("swish") is nn.silu
    assert nn.get_activation(None) is nn.identity
    assert nn.get_activation(fg.cos) is fg.cos
    mod = nn.Sin(w0=2.0)
    assert nn.get_activation(mod) is mod
    x = fg.tensor(np.array([0.5]))
    np.testing.assert_allclose(
        nn.get_activation("gelu_tanh")(x).numpy(), nn.gelu(x, approximate=True).numpy()
    )


def test_get_activation_errors_list_valid_names():
    with pytest.raises(ValueError, match="'relu'.*'tanh'|valid names"):
        nn.get_activation("rleu")
    with pytest.raises(ValueError) as info:
        nn.get_activation("nope")
    assert "sigmoid" in str(info.value) and "nope" in str(info.value)
    with pytest.raises(TypeError, match="int"):
        nn.get_activation(3)


def test_activation_modules_are_immutable_and_static():
    m = nn.LeakyReLU(0.3)
    with pytest.raises(Exception, match="immutable"):
        m.negative_slope = 0.1
    assert fg.tree_leaves(m) == []
    assert m.replace(negative_slope=0.1).negative_slope == 0.1
