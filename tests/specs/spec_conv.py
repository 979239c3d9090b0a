"""Op-spec entries for conv1d and conv2d, with a numpy reference (a sum over kernel taps of
strided window slices contracted with einsum)."""

import numpy as np

import fieldgrad as fg
from tests.opspec import OpSpec


def _tuple(v, nd):
    return (int(v),) * nd if np.isscalar(v) else tuple(int(e) for e in v)


def np_conv(x, w, bias=None, stride=1, padding=0, dilation=1):
    """PyTorch-semantics cross-correlation for any number of spatial dims, in numpy."""
    nd = w.ndim - 2
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    ks = w.shape[2:]
    if padding == "valid":
        pads = [(0, 0)] * nd
    elif padding == "same":
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(ks, dilation)]
    else:
        pads = [(p, p) for p in _tuple(padding, nd)]
    xp = np.pad(x, [(0, 0), (0, 0), *pads])
    outs = [(xp.shape[2 + a] - dilation[a] * (ks[a] - 1) - 1) // stride[a] + 1 for a in range(nd)]
    y = np.zeros((x.shape[0], w.shape[0], *outs), dtype=np.result_type(x, w))
    for tap in np.ndindex(*ks):
        sl = tuple(
            slice(
                tap[a] * dilation[a],
                tap[a] * dilation[a] + stride[a] * (outs[a] - 1) + 1,
                stride[a],
            )
            for a in range(nd)
        )
        patch = xp[(slice(None), slice(None), *sl)]
        y = y + np.einsum("nc...,oc->no...", patch, w[(slice(None), slice(None), *tap)])
    if bias is not None:
        y = y + bias.reshape((-1,) + (1,) * nd)
    return y


SPECS = [
    OpSpec(
        "conv1d", fg.conv1d, np_conv, [((2, 3, 9), (4, 3, 3)), ((1, 1, 5), (2, 1, 5))], atol=1e-5
    ),
    OpSpec(
        "conv1d-bias-stride-pad",
        fg.conv1d,
        np_conv,
        [((2, 3, 10), (4, 3, 3), (4,))],
        kwargs={"stride": 2, "padding": 2},
        atol=1e-5,
    ),
    OpSpec(
        "conv1d-dilation-same",
        fg.conv1d,
        np_conv,
        [((2, 2, 9), (3, 2, 4))],
        kwargs={"padding": "same", "dilation": 2},
        atol=1e-5,
    ),
    OpSpec(
        "conv2d",
        fg.conv2d,
        np_conv,
        [((2, 3, 6, 7), (4, 3, 3, 2)), ((1, 1, 4, 4), (1, 1, 1, 1))],
        atol=1e-5,
    ),
    OpSpec(
        "conv2d-bias-stride-pad",
        fg.conv2d,
        np_conv,
        [((2, 2, 7, 8), (3, 2, 3, 3), (3,))],
        kwargs={"stride": (2, 3), "padding": (1, 2)},
        atol=1e-5,
    ),
    OpSpec(
        "conv2d-dilation",
        fg.conv2d,
        np_conv,
        [((1, 2, 9, 8), (2, 2, 3, 2))],
        kwargs={"dilation": (2, 3), "padding": 1, "stride": (1, 2)},
        atol=1e-5,
    ),
    OpSpec(
        "conv2d-same",
        fg.conv2d,
        np_conv,
        [((2, 2, 6, 5), (3, 2, 4, 3), (3,))],
        kwargs={"padding": "same"},
        atol=1e-5,
    ),
    OpSpec(
        "conv2d-valid",
        fg.conv2d,
        np_conv,
        [((1, 3, 5, 5), (2, 3, 5, 5))],
        kwargs={"padding": "valid"},
        atol=1e-5,
    ),
]
