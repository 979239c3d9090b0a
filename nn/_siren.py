"""Sine networks (SIREN, Sitzmann et al. 2020): sine layers and their initialisation."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init as _init
from ._linear import Linear, _check_features, _check_widths, _dense_params
from ._module import Module

__all__ = ["SirenLayer", "Siren"]


class SirenLayer(Module):
    """Sine layer ``sin(w0 * (x @ weight + bias))`` (Sitzmann et al. 2020, SIREN).

    Initialisation: ``weight ~ U(-1/in, 1/in)`` for the first layer and
    ``U(-sqrt(6/in)/w0, sqrt(6/in)/w0)`` otherwise, which keeps the pre-activations of a deep
    sine network distributed alike; ``bias ~ U(-1/sqrt(in), 1/sqrt(in))`` (PyTorch's default,
    as in the reference code).

    Args:
        in_features, out_features: widths.
        key: random key.
        w0: the frequency factor (30 in the paper).
        is_first: whether this is the first layer (its initialisation differs).
        bias: whether to add a bias.
        dtype: float32 or float64.

    Shape:
        ``(..., in) -> (..., out)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> layer = nn.SirenLayer(2, 4, key=fg.random.key(0), is_first=True)
        >>> float(abs(layer.weight.numpy()).max()) <= 0.5
        True
    """

    weight: Tensor
    bias: Optional[Tensor]
    in_features: int
    out_features: int
    w0: float
    is_first: bool

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        key,
        w0: float = 30.0,
        is_first: bool = False,
        bias: bool = True,
        dtype=None,
    ):
        bound = 1.0 / in_features if is_first else math.sqrt(6.0 / in_features) / w0
        self.weight, self.bias = _dense_params(
            key,
            in_features,
            out_features,
            bias,
            _init.uniform(-bound, bound),
            None,
            dtype,
            "SirenLayer",
        )
        self.in_features = in_features
        self.out_features = out_features
        self.w0 = float(w0)
        self.is_first = bool(is_first)

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        _check_features(x, self.in_features, "SirenLayer")
        z = x @ self.weight
        return fg.sin(self.w0 * (z if self.bias is None else z + self.bias))


class Siren(Module):
    """Sine network: :class:`SirenLayer` s, then a linear output layer.

    Args:
        widths: ``[in, hidden..., out]``.
        key: random key.
        w0: frequency of the hidden layers; ``w0_first``: of the first layer.
        outermost_linear: the output layer is linear (weight ``U(-sqrt(6/in)/w0, ...)``);
            False makes it a sine layer too.
        dtype: float32 or float64.

    Shape:
        ``(..., in) -> (..., out)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> net = nn.Siren([2, 16, 16, 1], key=fg.random.key(0))
        >>> net(fg.zeros((3, 2))).shape, [type(l).__name__ for l in net.layers][-1]
        ((3, 1), 'Linear')
    """

    layers: list

    def __init__(
        self,
        widths: Sequence[int],
        *,
        key,
        w0: float = 30.0,
        w0_first: float = 30.0,
        outermost_linear: bool = True,
        dtype=None,
    ):
        widths = _check_widths(widths, "Siren")
        keys = fg.random.split(key, len(widths) - 1)
        pairs = list(zip(widths[:-1], widths[1:], keys))
        layers = [
            SirenLayer(a, b, key=k, w0=w0_first if i == 0 else w0, is_first=i == 0, dtype=dtype)
            for i, (a, b, k) in enumerate(pairs[:-1])
        ]
        a, b, k = pairs[-1]
        if outermost_linear:
            bound = math.sqrt(6.0 / a) / w0
            layers.append(
                Linear(a, b, key=k, weight_init=_init.uniform(-bound, bound), dtype=dtype)
            )
        else:
            layers.append(SirenLayer(a, b, key=k, w0=w0, is_first=len(pairs) == 1, dtype=dtype))
        self.layers = layers

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
