"""conv1d / conv2d: numpy and scipy references, options, transposes and errors."""

import numpy as np
import pytest
import scipy.signal

import fieldgrad as fg
import tests.opspec  # noqa: F401  (loads every spec module before one is imported here)
from fieldgrad.fields import _ops_conv
from tests.specs.spec_conv import np_conv

RNG = np.random.default_rng(0)


def _rand(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def test_reference_matches_scipy_correlate():
    x, w = _rand(1, 1, 7, 6), _rand(1, 1, 3, 2)
    want = scipy.signal.correlate(x[0, 0], w[0, 0], mode="valid")
    np.testing.assert_allclose(np_conv(x, w)[0, 0], want, rtol=1e-12)
    np.testing.assert_allclose(fg.conv2d(x, w).numpy()[0, 0], want, rtol=1e-12)
    x1, w1 = _rand(1, 1, 9), _rand(1, 1, 4)
    full = scipy.signal.correlate(x1[0, 0], w1[0, 0], mode="full")
    np.testing.assert_allclose(fg.conv1d(x1, w1, padding=3).numpy()[0, 0], full, rtol=1e-12)


def test_multichannel_sum_matches_scipy():
    x, w = _rand(2, 3, 6, 5), _rand(4, 3, 2, 3)
    y = fg.conv2d(x, w).numpy()
    for n in range(2):
        for o in range(4):
            want = sum(scipy.signal.correlate(x[n, c], w[o, c], mode="valid") for c in range(3))
            np.testing.assert_allclose(y[n, o], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": 2},
        {"stride": (1, 3), "padding": (2, 0)},
        {"dilation": 2, "padding": 2},
        {"dilation": (1, 2), "stride": (2, 1), "padding": 1},
        {"padding": "same"},
        {"padding": "same", "dilation": (2, 1)},
        {"padding": "valid", "stride": 3},
    ],
)
def test_conv2d_options(kw, dtype):
    x, w, b = _rand(2, 3, 8, 9, dtype=dtype), _rand(4, 3, 3, 4, dtype=dtype), _rand(4, dtype=dtype)
    want = np_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), **kw)
    got = fg.conv2d(x, w, b, **kw)
    assert got.dtype.name == dtype and got.shape == want.shape
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.numpy(), want, **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kw",
    [{}, {"stride": 3}, {"padding": 2, "dilation": 3}, {"padding": "same"}, {"stride": (2,)}],
)
def test_conv1d_options(kw, dtype):
    x, w, b = _rand(3, 2, 13, dtype=dtype), _rand(5, 2, 4, dtype=dtype), _rand(5, dtype=dtype)
    want = np_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), **kw)
    got = fg.conv1d(x, w, bias=b, **kw)
    assert got.dtype.name == dtype and got.shape == want.shape
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.numpy(), want, **tol)


def test_same_padding_keeps_size_and_puts_extra_zero_at_end():
    x = np.arange(6.0).reshape(1, 1, 6)
    w = np.ones((1, 1, 2))
    y = fg.conv1d(x, w, padding="same").numpy()
    assert y.shape == (1, 1, 6)
    np.testing.assert_allclose(y[0, 0], [1, 3, 5, 7, 9, 5])  # pads (0, 1), as PyTorch


def test_output_shapes():
    x = fg.zeros((2, 3, 10, 11))
    w = fg.zeros((5, 3, 3, 3))
    assert fg.conv2d(x, w).shape == (2, 5, 8, 9)
    assert fg.conv2d(x, w, stride=2).shape == (2, 5, 4, 5)
    assert fg.conv2d(x, w, padding=1).shape == (2, 5, 10, 11)
    assert fg.conv2d(x, w, dilation=2).shape == (2, 5, 6, 7)
    assert fg.conv2d(x, w, padding="same").shape == (2, 5, 10, 11)
    assert fg.conv1d(fg.zeros((2, 3, 10)), fg.zeros((4, 3, 3)), stride=3).shape == (2, 4, 3)


def test_unbatched_input():
    x, w, b = _rand(3, 6, 5), _rand(2, 3, 2, 2), _rand(2)
    got = fg.conv2d(x, w, b)
    np.testing.assert_allclose(got.numpy(), np_conv(x[None], w, b)[0], rtol=1e-12)
    x1 = _rand(3, 7)
    got1 = fg.conv1d(x1, _rand(2, 3, 3))
    assert got1.shape == (2, 5)


def test_integer_inputs_give_float():
    x = np.arange(12, dtype=np.int32).reshape(1, 1, 3, 4)
    y = fg.conv2d(x, np.ones((1, 1, 2, 2), dtype=np.int32))
    assert y.dtype == fg.float32
    np.testing.assert_allclose(y.numpy(), np_conv(x.astype(float), np.ones((1, 1, 2, 2))))


def test_mixed_precision_promotes():
    y = fg.conv1d(_rand(1, 1, 5, dtype="float32"), _rand(1, 1, 2, dtype="float64"))
    assert y.dtype == fg.float64


def _params(stride, padding, dilation):
    return dict(stride=stride, padding=padding, dilation=dilation)


@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((2, 3, 7, 8), (4, 3, 3, 2), _params((1, 1), ((0, 0), (0, 0)), (1, 1))),
        ((1, 2, 9, 8), (3, 2, 2, 3), _params((2, 3), ((1, 1), (2, 2)), (1, 1))),
        ((2, 2, 8, 9), (2, 2, 3, 2), _params((2, 1), ((1, 2), (0, 1)), (2, 3))),
    ],
)
def test_transpose_primitives_adjoint_identity(xs, ws, kw):
    x, w = _rand(*xs), _rand(*ws)
    y = _ops_conv.conv2d_p.bind(fg.tensor(x), fg.tensor(w), **kw)
    g = _rand(*y.shape)
    gx = _ops_conv.conv2d_input_p.bind(fg.tensor(g), fg.tensor(w), x_shape=xs, **kw)
    gw = _ops_conv.conv2d_weight_p.bind(fg.tensor(x), fg.tensor(g), w_shape=ws, **kw)
    assert gx.shape == xs and gw.shape == ws
    lhs = np.sum(y.numpy() * g)
    np.testing.assert_allclose(np.sum(x * gx.numpy()), lhs, rtol=1e-12)
    np.testing.assert_allclose(np.sum(w * gw.numpy()), lhs, rtol=1e-12)
    # and against finite differences of the forward map in one input direction
    e = _rand(*xs)
    y2 = _ops_conv.conv2d_p.bind(fg.tensor(x + e), fg.tensor(w), **kw).numpy()
    np.testing.assert_allclose(np.sum((y2 - y.numpy()) * g), np.sum(e * gx.numpy()), rtol=1e-10)


def test_channel_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"x of shape \(1, 3, 5, 5\).*w of shape \(2, 4, 3, 3\)"):
        fg.conv2d(fg.zeros((1, 3, 5, 5)), fg.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"\(1, 2, 5\).*\(2, 3, 3\)"):
        fg.conv1d(fg.zeros((1, 2, 5)), fg.zeros((2, 3, 3)))


def test_rank_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C_in, H, W\)"):
        fg.conv2d(fg.zeros((5, 5)), fg.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"w must have shape \(C_out, C_in, K\)"):
        fg.conv1d(fg.zeros((1, 1, 5)), fg.zeros((1, 1, 3, 3)))


def test_kernel_larger_than_input():
    with pytest.raises(ValueError, match="larger than the padded input"):
        fg.conv2d(fg.zeros((1, 1, 3, 3)), fg.zeros((1, 1, 4, 2)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        fg.conv1d(fg.zeros((1, 1, 5)), fg.zeros((1, 1, 3)), dilation=3)


def test_option_errors():
    x, w = fg.zeros((1, 1, 6, 6)), fg.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        fg.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding must be"):
        fg.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="padding must be >= 0"):
        fg.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        fg.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="dilation must be an int or a tuple of 2 ints"):
        fg.conv2d(x, w, dilation=(1, 1, 1))
    with pytest.raises(ValueError, match=r"bias must have shape \(C_out,\) = \(1,\), got \(2,\)"):
        fg.conv2d(x, w, bias=fg.zeros(2))
