"""Losses against numpy closed forms (and torch.nn.functional when installed), gradients by
finite differences in float64, reductions, stability and shape errors."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn
from fieldgrad.nn import losses as L

RNG = np.random.default_rng(0)
Z = RNG.standard_normal((6, 5))
T = np.array([0, 4, 2, 2, 1, 3])
Q = RNG.dirichlet(np.ones(5), 6)
P = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))


def _np_log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def _np_ce(z, t, eps=0.0):
    c = z.shape[-1]
    q = np.eye(c)[t] if t.dtype.kind in "iu" else t
    q = (1 - eps) * q + eps / c
    return -(q * _np_log_softmax(z)).sum(-1)


def _np_huber(d, delta):
    a = np.abs(d)
    return np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _np_bce(x, y, w=1.0):
    p = 1 / (1 + np.exp(-x))
    return -(w * y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize(
    "loss, ref",
    [
        (L.mse, lambda p, y: (p - y) ** 2),
        (L.mae, lambda p, y: np.abs(p - y)),
        (L.l1, lambda p, y: np.abs(p - y)),
        (lambda p, y, **kw: L.huber(p, y, delta=0.7, **kw), lambda p, y: _np_huber(p - y, 0.7)),
    ],
)
def test_regression_losses_match_numpy_for_every_reduction(loss, ref):
    want = ref(P, Y)
    got = loss(fg.tensor(P), fg.tensor(Y), reduction="none")
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(float(loss(fg.tensor(P), Y)), want.mean(), rtol=1e-12)
    np.testing.assert_allclose(
        float(loss(fg.tensor(P), Y, reduction="sum")), want.sum(), rtol=1e-12
    )


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_matches_numpy(eps):
    for targets in (T, T.astype(np.int32), T.astype(np.uint8), Q, np.eye(5)[T]):
        want = _np_ce(Z, targets, eps)
        got = L.cross_entropy(fg.tensor(Z), targets, label_smoothing=eps, reduction="none")
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
        total = L.cross_entropy(fg.tensor(Z), targets, label_smoothing=eps, reduction="sum")
        np.testing.assert_allclose(float(total), want.sum(), rtol=1e-12)
        mean = L.cross_entropy(fg.tensor(Z), fg.tensor(targets), label_smoothing=eps)
        np.testing.assert_allclose(float(mean), want.mean(), rtol=1e-12)


def test_cross_entropy_with_leading_axes_and_nll():
    z = RNG.standard_normal((2, 3, 4))
    t = RNG.integers(0, 4, (2, 3))
    want = _np_ce(z.reshape(6, 4), t.reshape(6)).reshape(2, 3)
    got = L.cross_entropy(fg.tensor(z), t, reduction="none")
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    lp = nn.log_softmax(fg.tensor(Z))
    np.testing.assert_allclose(float(L.nll_loss(lp, T)), _np_ce(Z, T).mean(), rtol=1e-12)
    np.testing.assert_allclose(
        L.nll_loss(fg.tensor(Z), T, reduction="none").numpy(), -Z[np.arange(6), T], rtol=1e-15
    )


def test_cross_entropy_is_stable_for_huge_logits():
    z = fg.tensor([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 0.0]], dtype="float32")
    got = L.cross_entropy(z, [0, 0], reduction="none").numpy()
    np.testing.assert_allclose(got, [0.0, 1e5], rtol=1e-6)
    g = fg.grad(lambda z: L.cross_entropy(z, [0, 0]))(z).numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g[1], [-0.5, 0.5, 0.0], atol=1e-6)


def test_binary_cross_entropy_with_logits():
    x = RNG.standard_normal(8) * 3
    y = RNG.uniform(size=8)
    np.testing.assert_allclose(
        L.binary_cross_entropy_with_logits(fg.tensor(x), y, reduction="none").numpy(),
        _np_bce(x, y),
        rtol=1e-12,
    )
    got = L.binary_cross_entropy_with_logits(fg.tensor(x), y, pos_weight=2.5)
    np.testing.assert_allclose(float(got), _np_bce(x, y, 2.5).mean(), rtol=1e-12)
    big = L.binary_cross_entropy_with_logits(
        fg.tensor([500.0, -500.0]), [0.0, 1.0], reduction="none"
    )
    np.testing.assert_allclose(big.numpy(), [500.0, 500.0], rtol=1e-12)
    ints = L.binary_cross_entropy_with_logits(fg.tensor(x), (y > 0.5).astype(np.int64))
    np.testing.assert_allclose(float(ints), _np_bce(x, (y > 0.5) * 1.0).mean(), rtol=1e-12)


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda z: L.cross_entropy(z, T, label_smoothing=0.1), (Z,)),
        (lambda z: L.cross_entropy(z, Q), (Z,)),
        (lambda p: L.huber(p, Y, delta=0.5), (P,)),
        (lambda p: L.mse(p, Y), (P,)),
        (lambda x: L.binary_cross_entropy_with_logits(x, np.abs(Y) / 3, pos_weight=1.7), (P,)),
    ],
)
def test_gradients_match_finite_differences(f, args):
    fg.check_grads(f, tuple(fg.tensor(a) for a in args), order=2, modes=("fwd", "rev"))


def test_float32_predictions_keep_their_dtype():
    p = fg.tensor(P, dtype="float32")
    assert L.mse(p, Y).dtype == fg.float32  # float64 targets are cast, not promoted
    assert L.cross_entropy(fg.tensor(Z, dtype="float32"), Q).dtype == fg.float32


def test_losses_inside_jit_match_eager():
    f = fg.jit(lambda z, t: L.cross_entropy(z, t, label_smoothing=0.1))
    z, t = fg.tensor(Z), fg.tensor(T)
    np.testing.assert_allclose(float(f(z, t)), _np_ce(Z, T, 0.1).mean(), rtol=1e-12)


def test_shape_and_value_errors():
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        L.mse(fg.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        L.mae(fg.zeros(3), np.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match=r"shape \(6,\).*got \(5,\)"):
        L.cross_entropy(fg.tensor(Z), T[:5])
    with pytest.raises(ValueError, match="cast them to int"):
        L.cross_entropy(fg.tensor(Z), T.astype(np.float64))
    with pytest.raises(ValueError, match=r"\[0, 5\).*\[0, 7\]"):
        L.cross_entropy(fg.tensor(Z), np.array([0, 1, 2, 3, 4, 7]))
    with pytest.raises(ValueError, match="label_smoothing"):
        L.cross_entropy(fg.tensor(Z), T, label_smoothing=1.5)
    with pytest.raises(ValueError, match="integer class indices"):
        L.nll_loss(fg.tensor(Z), Q)
    with pytest.raises(ValueError, match="delta"):
        L.huber(fg.zeros(2), np.zeros(2), delta=0.0)
    with pytest.raises(TypeError, match="float32/float64"):
        L.mse(fg.tensor([1, 2]), [1, 2])


def test_against_torch_when_installed():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    z, t, q = torch.tensor(Z), torch.tensor(T), torch.tensor(Q)
    for eps in (0.0, 0.3):
        want = tf.cross_entropy(z, t, label_smoothing=eps).item()
        assert float(L.cross_entropy(fg.tensor(Z), T, label_smoothing=eps)) == pytest.approx(want)
        want = tf.cross_entropy(z, q, label_smoothing=eps).item()
        assert float(L.cross_entropy(fg.tensor(Z), Q, label_smoothing=eps)) == pytest.approx(want)
    x, y = torch.tensor(P), torch.tensor(np.abs(Y) / 3)
    want = tf.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor(2.0)).item()
    got = L.binary_cross_entropy_with_logits(fg.tensor(P), np.abs(Y) / 3, pos_weight=2.0)
    assert float(got) == pytest.approx(want)
    want = tf.huber_loss(torch.tensor(P), torch.tensor(Y), delta=0.4).item()
    assert float(L.huber(fg.tensor(P), Y, delta=0.4)) == pytest.approx(want)
