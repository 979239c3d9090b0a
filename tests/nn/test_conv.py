"""Conv1d, Conv2d, ConvTranspose2d: numpy loop references, init, gradients, jit and errors."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

RNG = np.random.default_rng(0)
F64 = "float64"


def _rand(*shape):
    return RNG.standard_normal(shape)


def _key(i=0):
    return fg.random.key(i)


def conv2d_ref(x, w, b, stride, pad, dil):
    """Direct loop cross-correlation, x (N, C, H, W), w (O, C, KH, KW)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dil
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for c in range(kw):
                    patch = xp[:, :, i * sh + a * dh, j * sw + c * dw]
                    y[:, :, i, j] += patch @ w[:, :, a, c].T
    return y if b is None else y + b[None, :, None, None]


def conv_transpose2d_ref(x, w, b, stride, pad, out_pad, dil):
    """Scatter loop: every input pixel adds x[n, c, i, j] * w[c, :, a, b] to the output."""
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dil
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + out_pad[0] + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + out_pad[1] + 1
    y = np.zeros((n, w.shape[1], oh, ow))
    for i in range(h):
        for j in range(wd):
            for a in range(kh):
                for c in range(kw):
                    oi, oj = i * sh - ph + a * dh, j * sw - pw + c * dw
                    if 0 <= oi < oh and 0 <= oj < ow:
                        y[:, :, oi, oj] += x[:, :, i, j] @ w[:, :, a, c]
    return y if b is None else y + b[None, :, None, None]


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=2, padding=1),
        dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
    ],
)
def test_conv2d_matches_numpy_loop(kw):
    conv = nn.Conv2d(3, 4, (3, 2), key=_key(1), dtype=F64, **kw)
    x = _rand(2, 3, 7, 6)
    y = conv(fg.tensor(x))
    stride = conv.stride
    want = conv2d_ref(
        x, conv.weight.numpy(), conv.bias.numpy(), stride, conv.padding, conv.dilation
    )
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)


def test_conv1d_matches_numpy_loop_and_same_padding():
    conv = nn.Conv1d(2, 3, 4, key=_key(2), stride=2, padding=1, dilation=1, dtype=F64)
    x = _rand(3, 2, 11)
    want = conv2d_ref(
        x[:, :, None, :],
        conv.weight.numpy()[:, :, None, :],
        conv.bias.numpy(),
        (1, 2),
        (0, 1),
        (1, 1),
    )[:, :, 0]
    np.testing.assert_allclose(conv(fg.tensor(x)).numpy(), want, rtol=1e-12, atol=1e-12)
    same = nn.Conv1d(2, 5, 3, key=_key(3), padding="same", dilation=2, bias=False)
    assert same.bias is None
    assert same(fg.ones((1, 2, 9))).shape == (1, 5, 9)


def test_unbatched_input_equals_batched():
    conv = nn.Conv2d(2, 3, 3, key=_key(4), padding=1, dtype=F64)
    x = _rand(2, 5, 5)
    np.testing.assert_allclose(
        conv(fg.tensor(x)).numpy(), conv(fg.tensor(x[None])).numpy()[0], rtol=1e-12
    )


def test_default_init_is_pytorch_like():
    conv = nn.Conv2d(16, 32, 3, key=_key(5))
    bound = 1.0 / math.sqrt(16 * 9)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == (32, 16, 3, 3) and b.shape == (32,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    again = nn.Conv2d(16, 32, 3, key=_key(5))
    np.testing.assert_array_equal(again.weight.numpy(), w)
    up = nn.ConvTranspose2d(8, 4, 3, key=_key(6))
    assert up.weight.shape == (8, 4, 3, 3) and up.bias.shape == (4,)
    tbound = 1.0 / math.sqrt(4 * 9)  # PyTorch's fan_in of a transposed kernel: C_out * k * k
    assert np.abs(up.weight.numpy()).max() <= tbound
    assert np.abs(up.weight.numpy()).max() > 0.8 * tbound
    assert np.abs(up.bias.numpy()).max() <= tbound
    assert nn.count_parameters(conv) == 32 * 16 * 9 + 32


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=2),
        dict(stride=2, padding=1, output_padding=1),
        dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 0)),
        dict(stride=2, padding=3, dilation=2, output_padding=1),
        dict(padding=(2, 1)),
        dict(stride=2, padding=(3, 4)),  # padding beyond dilation*(k-1): the input is cropped
    ],
)
def test_conv_transpose2d_matches_numpy_loop(kw):
    up = nn.ConvTranspose2d(3, 2, (3, 4), key=_key(7), dtype=F64, **kw)
    x = _rand(2, 3, 4, 5)
    y = up(fg.tensor(x))
    want = conv_transpose2d_ref(
        x,
        up.weight.numpy(),
        up.bias.numpy(),
        up.stride,
        up.padding,
        up.output_padding,
        up.dilation,
    )
    assert y.shape == want.shape == (2, 2, *up.output_shape(4, 5))
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_is_adjoint_of_conv2d():
    # <convT(x), y> == <x, conv(y)> for the same kernel, stride, padding and dilation
    up = nn.ConvTranspose2d(3, 2, 3, key=_key(8), stride=2, padding=1, dilation=2, bias=False)
    up = up.replace(weight=fg.tensor(_rand(3, 2, 3, 3)))
    x = _rand(1, 3, 4, 4)
    y_shape = (1, 2, *up.output_shape(4, 4))
    y = _rand(*y_shape)
    lhs = float(np.sum(up(fg.tensor(x)).numpy() * y))
    cy = fg.conv2d(fg.tensor(y), up.weight, stride=2, padding=1, dilation=2).numpy()
    assert cy.shape == x.shape
    assert abs(lhs - float(np.sum(x * cy))) < 1e-10 * max(1.0, abs(lhs))


def test_conv_transpose2d_matches_torch():
    torch = pytest.importorskip("torch")
    up = nn.ConvTranspose2d(3, 2, 3, key=_key(9), stride=2, padding=1, output_padding=1, dtype=F64)
    t = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(up.weight.numpy().copy()))
        t.bias.copy_(torch.from_numpy(up.bias.numpy().copy()))
    x = _rand(2, 3, 5, 4)
    want = t(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(up(fg.tensor(x)).numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Conv1d(2, 2, 3, key=_key(10), stride=2, padding=1, dtype=F64),
        lambda: nn.Conv2d(2, 2, 2, key=_key(11), padding=1, dilation=(1, 2), dtype=F64),
        lambda: nn.ConvTranspose2d(
            2, 2, 3, key=_key(12), stride=2, padding=1, output_padding=1, dtype=F64
        ),
    ],
)
def test_gradients_wrt_input_and_parameters(make):
    layer = make()
    x = fg.tensor(_rand(1, 2, *((5,) if isinstance(layer, nn.Conv1d) else (3, 4))))
    fg.check_grads(lambda m, x: m(x), (layer, x), order=1)
    g = fg.grad(lambda m: fg.sum(m(x)))(layer)
    assert g.weight.shape == layer.weight.shape and g.bias.shape == layer.bias.shape
    # d sum(y) / d bias[o] is the number of output positions
    n_out = int(np.prod(layer(x).shape)) // layer.out_channels
    np.testing.assert_allclose(g.bias.numpy(), np.full(layer.out_channels, n_out), rtol=1e-12)


def test_jit_equals_eager():
    conv = nn.Conv2d(2, 3, 3, key=_key(13), stride=2, padding=1)
    up = nn.ConvTranspose2d(3, 2, 3, key=_key(14), stride=2, padding=1, output_padding=1)

    def f(conv, up, x):
        return up(fg.tanh(conv(x)))

    x = fg.tensor(_rand(2, 2, 6, 6).astype("float32"))
    eager = f(conv, up, x).numpy()
    jitted = fg.jit(f)
    np.testing.assert_allclose(jitted(conv, up, x).numpy(), eager, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jitted(conv, up, x).numpy(), eager, rtol=1e-5, atol=1e-6)
    assert jitted.cache_info()["misses"] == 1


def test_errors_name_the_shapes():
    conv = nn.Conv2d(3, 4, 3, key=_key(15))
    with pytest.raises(ValueError, match=r"\(2, 5, 8, 8\).*5 channels.*expected 3"):
        conv(fg.ones((2, 5, 8, 8)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(8, 8\)"):
        conv(fg.ones((8, 8)))
    with pytest.raises(ValueError, match=r"\(N, C, L\).*\(1, 2, 3, 4\)"):
        nn.Conv1d(2, 2, 1, key=_key(0))(fg.ones((1, 2, 3, 4)))
    up = nn.ConvTranspose2d(2, 2, 3, key=_key(16))
    with pytest.raises(ValueError, match=r"\(1, 3, 4, 4\).*3 channels.*expected 2"):
        up(fg.ones((1, 3, 4, 4)))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, key=_key(0), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="empty output"):
        nn.ConvTranspose2d(2, 2, 1, key=_key(0), padding=1)(fg.ones((1, 2, 1, 1)))
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(2, 2, 3, key=_key(0), stride=2, padding="same")
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(2, 2, 3, key=_key(0), padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(2, 2, 0, key=_key(0))
    with pytest.raises(TypeError, match="stride"):
        nn.Conv2d(2, 2, 3, key=_key(0), stride=(1, 2, 3))


def test_layers_are_immutable_pytrees():
    conv = nn.Conv1d(2, 3, 3, key=_key(17))
    assert sorted(nn.named_parameters(conv)) == ["bias", "weight"]
    leaves = fg.tree_leaves(conv)
    assert len(leaves) == 2
    with pytest.raises(Exception, match="immutable"):
        conv.stride = (2,)
