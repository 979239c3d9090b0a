"""ConvTranspose2d: the adjoint of a 2-D convolution, as ``torch.nn.ConvTranspose2d``."""

from __future__ import annotations

from typing import Optional

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init
from ._conv import _check_input, _init_params, _ints
from ._module import Module

__all__ = ["ConvTranspose2d"]


def _pad_or_crop(x, widths) -> Tensor:
    """Pad (positive) or crop (negative) each axis of ``x`` by ``(before, after)``."""
    pads = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
    if any(lo or hi for lo, hi in pads):
        x = fg.pad(x, pads)
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        index = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))
        x = x[index]
    return x


def _conv_transpose2d(x, w, bias, stride, padding, output_padding, dilation) -> Tensor:
    """Transposed convolution of a batched (N, C_in, H, W) input, kernel (C_in, C_out, KH, KW)."""
    n, c, h, wd = x.shape
    sh, sw = stride
    if sh > 1 or sw > 1:
        # insert stride-1 zeros after every pixel: (N, C, H*sh, W*sw)
        x = fg.reshape(x, (n, c, h, 1, wd, 1))
        x = fg.pad(x, ((0, 0), (0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1)))
        x = fg.reshape(x, (n, c, h * sh, wd * sw))
    widths = [(0, 0), (0, 0)]
    for k, s, p, op, d in zip(w.shape[2:], stride, padding, output_padding, dilation):
        e = d * (k - 1)
        # the last s-1 inserted zeros already count towards the trailing pad
        widths.append((e - p, e - p + op - (s - 1)))
    x = _pad_or_crop(x, widths)
    wt = fg.flip(fg.transpose(w, (1, 0, 2, 3)), axis=(2, 3))
    return fg.conv2d(x, wt, bias, stride=1, padding=0, dilation=dilation)


class ConvTranspose2d(Module):
    """Transposed 2-D convolution (the adjoint of ``Conv2d``), as ``torch.nn.ConvTranspose2d``.

    Every input pixel scatters ``x[n, c, i, j] * weight[c, o, :, :]`` into the output at rows
    ``i*sh - ph + a*dh`` and columns ``j*sw - pw + b*dw``; ``output_padding`` adds rows and
    columns at the end (it resolves the ambiguity of a strided convolution's input size).

    Args:
        in_channels: input channels C_in.
        out_channels: output channels C_out.
        kernel_size: an int or a pair (KH, KW).
        key: random key for the initialisation.
        stride: an int or a pair.
        padding: an int or a pair: ``dilation*(k-1) - padding`` zeros are added on each side.
        output_padding: an int or a pair, smaller than ``max(stride, dilation)`` per axis.
        bias: add a learnable bias per output channel.
        dilation: an int or a pair.
        dtype: parameter dtype (default: the default float dtype).

    Shape:
        Input (N, C_in, H, W) or (C_in, H, W); output (N, C_out, H_out, W_out) with
        ``H_out = (H-1)*sh - 2*ph + dh*(KH-1) + output_padding + 1``. ``weight`` is
        (C_in, C_out, KH, KW) (PyTorch's layout), ``bias`` (C_out,).

    Raises:
        ValueError: bad hyperparameters, an input of the wrong rank or channel count, or an
            empty output.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> up = nn.ConvTranspose2d(4, 2, 3, key=fg.random.key(0), stride=2, padding=1,
        ...                         output_padding=1)
        >>> up(fg.ones((1, 4, 5, 5))).shape
        (1, 2, 10, 10)
    """

    weight: Tensor
    bias: Optional[Tensor]
    in_channels: int
    out_channels: int
    kernel_size: tuple
    stride: tuple
    padding: tuple
    output_padding: tuple
    dilation: tuple

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        *,
        key,
        stride=1,
        padding=0,
        output_padding=0,
        bias: bool = True,
        dilation=1,
        dtype=None,
    ):
        owner = "ConvTranspose2d"
        self.in_channels = _ints(in_channels, 1, "in_channels", owner, 1)[0]
        self.out_channels = _ints(out_channels, 1, "out_channels", owner, 1)[0]
        self.kernel_size = _ints(kernel_size, 2, "kernel_size", owner, 1)
        self.stride = _ints(stride, 2, "stride", owner, 1)
        self.padding = _ints(padding, 2, "padding", owner, 0)
        self.output_padding = _ints(output_padding, 2, "output_padding", owner, 0)
        self.dilation = _ints(dilation, 2, "dilation", owner, 1)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(
                    f"{owner}: output_padding {self.output_padding} must be smaller than "
                    f"max(stride, dilation) per axis (stride {self.stride}, dilation "
                    f"{self.dilation})"
                )
        w_shape = (self.in_channels, self.out_channels, *self.kernel_size)
        fan_in = init.fans(w_shape)[0]  # C_out * KH * KW, as PyTorch computes it here
        self.weight, self.bias = _init_params(key, w_shape, fan_in, self.out_channels, bias, dtype)

    def output_shape(self, h: int, w: int) -> tuple:
        """The spatial output size ``(H_out, W_out)`` for an ``h x w`` input."""
        return tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            for n, s, p, d, k, op in zip(
                (h, w),
                self.stride,
                self.padding,
                self.dilation,
                self.kernel_size,
                self.output_padding,
            )
        )

    def __call__(self, x, *, key=None) -> Tensor:
        owner = f"ConvTranspose2d(in_channels={self.in_channels})"
        x = _check_input(x, 2, self.in_channels, owner)
        out_hw = self.output_shape(*x.shape[-2:])
        if min(out_hw) < 1:
            raise ValueError(
                f"{owner}: input of shape {tuple(x.shape)} gives an empty output {out_hw}; "
                f"reduce padding {self.padding}"
            )
        unbatched = x.ndim == 3
        if unbatched:
            x = fg.reshape(x, (1, *x.shape))
        y = _conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.dilation
        )
        return fg.reshape(y, y.shape[1:]) if unbatched else y
