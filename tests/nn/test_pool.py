"""max_pool2d, avg_pool2d, MaxPool2d, AvgPool2d, flatten, Flatten: numpy references and grads."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

RNG = np.random.default_rng(1)


def pool_ref(x, k, s, p, kind, count_include_pad=True):
    """Direct loop pooling over the last two axes of x (N, C, H, W)."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    real = np.pad(np.ones(x.shape[2:]), ((ph, ph), (pw, pw)))
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    y = np.zeros((*x.shape[:2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                n = (
                    kh * kw
                    if count_include_pad
                    else real[i * sh : i * sh + kh, j * sw : j * sw + kw].sum()
                )
                y[:, :, i, j] = win.sum(axis=(2, 3)) / n
    return y


CASES = [
    dict(kernel_size=2),  # fast path: non-overlapping, divisible
    dict(kernel_size=2, stride=2, padding=1),  # fast path with padding and a crop
    dict(kernel_size=3),  # fast path, H and W not divisible: crop
    dict(kernel_size=3, stride=1, padding=1),  # general path
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=(2, 3), stride=(1, 3)),
]


def _norm(kw):
    k = kw["kernel_size"]
    k = (k, k) if isinstance(k, int) else k
    s = kw.get("stride", k)
    s = (s, s) if isinstance(s, int) else s
    p = kw.get("padding", 0)
    p = (p, p) if isinstance(p, int) else p
    return k, s, p


@pytest.mark.parametrize("kw", CASES)
def test_max_pool_matches_numpy_loop(kw):
    x = RNG.standard_normal((2, 3, 7, 8))
    y = nn.max_pool2d(fg.tensor(x), **kw)
    want = pool_ref(x, *_norm(kw), "max")
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=0, atol=0)
    np.testing.assert_array_equal(nn.MaxPool2d(**kw)(fg.tensor(x)).numpy(), y.numpy())


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize("kw", CASES)
def test_avg_pool_matches_numpy_loop(kw, include):
    x = RNG.standard_normal((2, 3, 7, 8))
    y = nn.avg_pool2d(fg.tensor(x), count_include_pad=include, **kw)
    want = pool_ref(x, *_norm(kw), "avg", include)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-14)
    layer = nn.AvgPool2d(count_include_pad=include, **kw)
    np.testing.assert_allclose(layer(fg.tensor(x)).numpy(), y.numpy(), rtol=1e-12)


def test_unbatched_and_integer_inputs():
    x = RNG.standard_normal((3, 6, 6))
    np.testing.assert_array_equal(
        nn.max_pool2d(fg.tensor(x), 3, 1, 1).numpy(),
        nn.max_pool2d(fg.tensor(x[None]), 3, 1, 1).numpy()[0],
    )
    xi = fg.tensor(np.array([[[[-5, -7], [-9, -6]]]], dtype=np.int32))
    y = nn.max_pool2d(xi, 2, stride=1, padding=1)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y.numpy()[0, 0], [[-5, -5, -7], [-5, -5, -6], [-9, -6, -6]])
    with pytest.raises(TypeError, match="floating"):
        nn.avg_pool2d(xi, 2)


@pytest.mark.parametrize("kw", [CASES[0], CASES[3], CASES[4]])
def test_pool_gradients(kw):
    # distinct values: every window has a unique maximum, so max pooling is smooth here
    x = fg.tensor(RNG.permutation(2 * 5 * 6).reshape(1, 2, 5, 6) * 0.1)
    fg.check_grads(lambda x: nn.max_pool2d(x, **kw), (x,), order=1)
    fg.check_grads(lambda x: nn.avg_pool2d(x, count_include_pad=False, **kw), (x,), order=1)
    fg.check_grads(lambda x: nn.avg_pool2d(x, **kw), (x,), order=1)


def test_max_pool_gradient_goes_to_the_maximum_and_ties_share():
    x = fg.tensor([[[[1.0, 5.0], [2.0, 3.0]]]])
    g = fg.grad(lambda x: fg.sum(nn.max_pool2d(x, 2)))(x)
    np.testing.assert_array_equal(g.numpy()[0, 0], [[0.0, 1.0], [0.0, 0.0]])
    g = fg.grad(lambda x: fg.sum(nn.max_pool2d(x, 2)))(fg.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(g.numpy()[0, 0], np.full((2, 2), 0.25))


def test_pool_jit_equals_eager():
    x = fg.tensor(RNG.standard_normal((2, 2, 6, 6)).astype("float32"))

    def f(x):
        return nn.max_pool2d(x, 3, 2, 1) + nn.avg_pool2d(x, 3, 2, 1, count_include_pad=False)

    np.testing.assert_allclose(fg.jit(f)(x).numpy(), f(x).numpy(), rtol=1e-6, atol=1e-6)


def test_pool_errors():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(4, 4\)"):
        nn.max_pool2d(fg.ones((4, 4)), 2)
    with pytest.raises(ValueError, match="at most half"):
        nn.avg_pool2d(fg.ones((1, 1, 4, 4)), 2, padding=2)
    with pytest.raises(ValueError, match=r"larger than the padded input.*\(1, 1, 2, 2\)"):
        nn.MaxPool2d(3)(fg.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="stride"):
        nn.MaxPool2d(2, stride=0)


def test_flatten():
    x = fg.tensor(np.arange(120.0).reshape(2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.flatten(x).shape == (120,)
    assert nn.flatten(x, 1, 2).shape == (2, 12, 5)
    assert nn.flatten(x, -2).shape == (2, 3, 20)
    assert nn.flatten(fg.tensor(3.0)).shape == (1,)
    np.testing.assert_array_equal(nn.flatten(x, 1).numpy(), np.arange(120.0).reshape(2, 60))
    with pytest.raises(ValueError, match=r"start_dim=2 comes after end_dim=1.*\(2, 3, 4, 5\)"):
        nn.flatten(x, 2, 1)
    with pytest.raises(ValueError, match=r"end_dim=4 is out of range.*\(2, 3, 4, 5\)"):
        nn.flatten(x, 0, 4)


def test_cnn_stack_gradient():
    # conv -> pool -> flatten: a shape pipeline differentiated end to end
    conv = nn.Conv2d(1, 2, 3, key=fg.random.key(0), padding=1, dtype="float64")
    x = fg.tensor(RNG.standard_normal((2, 1, 4, 4)))

    def f(conv, x):
        return nn.Flatten()(nn.avg_pool2d(fg.tanh(conv(x)), 2))

    assert f(conv, x).shape == (2, 8)
    fg.check_grads(f, (conv, x), order=1)
