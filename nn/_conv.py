"""Convolution layers Conv1d and Conv2d (PyTorch semantics and layouts; ConvTranspose2d is in
``_conv_transpose.py``).

``Conv1d`` / ``Conv2d`` hold a kernel of shape ``(C_out, C_in, *kernel)`` and call
:func:`fieldgrad.conv1d` / :func:`fieldgrad.conv2d` (cross-correlation, NCL / NCHW).
``ConvTranspose2d`` holds a kernel of shape ``(C_in, C_out, KH, KW)`` as
``torch.nn.ConvTranspose2d`` does and computes the adjoint of a strided convolution from public
ops: zeros are inserted between the input's pixels (stride), the result is padded by
``dilation * (k - 1) - padding`` (plus ``output_padding`` at the end) and convolved with the
spatially flipped, channel-transposed kernel.

Default initialisation is PyTorch's: the kernel and the bias are drawn from
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``kaiming_uniform(a=sqrt(5))``).
"""

from __future__ import annotations

import math
import numbers
from typing import Optional, Union

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init
from ._module import Module

__all__ = ["Conv1d", "Conv2d"]


def _ints(v, nd: int, what: str, owner: str, minimum: int) -> tuple:
    """``v`` as a tuple of ``nd`` ints >= ``minimum`` (an int is repeated)."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        vals = (int(v),) * nd
    elif isinstance(v, (tuple, list)) and len(v) == nd:
        if not all(isinstance(e, numbers.Integral) and not isinstance(e, bool) for e in v):
            raise TypeError(f"{owner}: {what} must be an int or {nd} ints, got {v!r}")
        vals = tuple(int(e) for e in v)
    else:
        raise TypeError(f"{owner}: {what} must be an int or a tuple of {nd} ints, got {v!r}")
    if any(e < minimum for e in vals):
        raise ValueError(f"{owner}: {what} must be >= {minimum}, got {v!r}")
    return vals


def _check_input(x, nd: int, channels: int, owner: str):
    """``x`` as a tensor of rank nd+1 (unbatched) or nd+2 with ``channels`` channels."""
    x = fg.asarray(x)
    dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{owner}: input must have shape {dims} or be unbatched, got shape {tuple(x.shape)}"
        )
    c = x.shape[-nd - 1]
    if c != channels:
        raise ValueError(
            f"{owner}: input of shape {tuple(x.shape)} has {c} channels at axis "
            f"{x.ndim - nd - 1}, expected {channels}"
        )
    return x


def _init_params(key, w_shape: tuple, fan_in: int, n_bias: int, bias: bool, dtype):
    kw, kb = fg.random.split(key)
    weight = init.kaiming_uniform(a=math.sqrt(5.0))(kw, w_shape, dtype=dtype)
    b = None
    if bias:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        b = fg.random.uniform(kb, (n_bias,), dtype=dtype, minval=-bound, maxval=bound)
    return weight, b


class _ConvNd(Module):
    """Shared fields, construction and call of Conv1d and Conv2d."""

    weight: Tensor
    bias: Optional[Tensor]
    in_channels: int
    out_channels: int
    kernel_size: tuple
    stride: tuple
    padding: Union[tuple, str]
    dilation: tuple

    _nd = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        *,
        key,
        stride=1,
        padding=0,
        dilation=1,
        bias: bool = True,
        dtype=None,
    ):
        owner, nd = type(self).__name__, self._nd
        self.in_channels = _ints(in_channels, 1, "in_channels", owner, 1)[0]
        self.out_channels = _ints(out_channels, 1, "out_channels", owner, 1)[0]
        self.kernel_size = _ints(kernel_size, nd, "kernel_size", owner, 1)
        self.stride = _ints(stride, nd, "stride", owner, 1)
        self.dilation = _ints(dilation, nd, "dilation", owner, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{owner}: padding must be an int, a tuple, 'same' or 'valid'; got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{owner}: padding='same' needs stride 1, got stride {self.stride}"
                )
            self.padding = padding
        else:
            self.padding = _ints(padding, nd, "padding", owner, 0)
        w_shape = (self.out_channels, self.in_channels, *self.kernel_size)
        fan_in = init.fans(w_shape)[0]
        self.weight, self.bias = _init_params(key, w_shape, fan_in, self.out_channels, bias, dtype)

    def __call__(self, x, *, key=None) -> Tensor:
        owner = f"{type(self).__name__}(in_channels={self.in_channels})"
        x = _check_input(x, self._nd, self.in_channels, owner)
        conv = fg.conv1d if self._nd == 1 else fg.conv2d
        return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class Conv1d(_ConvNd):
    """1-D convolution layer over inputs of shape (N, C_in, L), as ``torch.nn.Conv1d``.

    ``y[n, o, i] = bias[o] + sum_{c, k} x[n, c, i*stride - pad + k*dilation] * weight[o, c, k]``.

    Args:
        in_channels: input channels C_in.
        out_channels: output channels C_out.
        kernel_size: kernel length K.
        key: random key for the initialisation.
        stride: step between output positions.
        padding: zeros on both ends (int), "valid" (none) or "same" (output length L).
        dilation: spacing between kernel taps.
        bias: add a learnable bias per output channel.
        dtype: parameter dtype (default: the default float dtype).

    Shape:
        Input (N, C_in, L) or (C_in, L); output (N, C_out, L_out) or (C_out, L_out) with
        ``L_out = (L + 2*pad - dilation*(K-1) - 1) // stride + 1``. ``weight`` is
        (C_out, C_in, K), ``bias`` (C_out,).

    Raises:
        ValueError: bad hyperparameters, or an input of the wrong rank or channel count (its
            shape is named).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> conv = nn.Conv1d(2, 4, 3, key=fg.random.key(0), padding=1)
        >>> conv(fg.ones((5, 2, 10))).shape
        (5, 4, 10)
    """

    _nd = 1
    __init__ = _ConvNd.__init__


class Conv2d(_ConvNd):
    """2-D convolution layer over inputs of shape (N, C_in, H, W), as ``torch.nn.Conv2d``.

    ``y[n, o, i, j] = bias[o] + sum_{c, p, q} x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw]
    * weight[o, c, p, q]``.

    Args:
        in_channels: input channels C_in.
        out_channels: output channels C_out.
        kernel_size: an int or a pair (KH, KW).
        key: random key for the initialisation.
        stride: an int or a pair.
        padding: an int or a pair (zeros on both sides), "valid" or "same".
        dilation: an int or a pair.
        bias: add a learnable bias per output channel.
        dtype: parameter dtype (default: the default float dtype).

    Shape:
        Input (N, C_in, H, W) or (C_in, H, W); output (N, C_out, H_out, W_out) with
        ``H_out = (H + 2*ph - dh*(KH-1) - 1) // sh + 1`` and likewise W_out. ``weight`` is
        (C_out, C_in, KH, KW), ``bias`` (C_out,).

    Raises:
        ValueError: bad hyperparameters, or an input of the wrong rank or channel count (its
            shape is named).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> conv = nn.Conv2d(3, 8, (3, 3), key=fg.random.key(0), stride=2)
        >>> conv(fg.ones((2, 3, 9, 9))).shape, conv.weight.shape
        ((2, 8, 4, 4), (8, 3, 3, 3))
    """

    _nd = 2
    __init__ = _ConvNd.__init__
