"""MLP variants of modern PINNs: the gated modified MLP (Wang, Teng and Perdikaris 2021) and
random weight factorisation (Wang et al. 2022)."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init as _init
from ._activations import get_activation
from ._linear import MLP, Activation, Linear, _check_features, _check_widths, _dense_params
from ._module import Module

__all__ = ["ModifiedMLP", "RWFLinear", "RWFMLP"]


class ModifiedMLP(Module):
    """Gated MLP of Wang, Teng and Perdikaris (2021), "Understanding and mitigating gradient
    pathologies in physics-informed neural networks".

    ``U = act(x W_u + b_u)``, ``V = act(x W_v + b_v)``, ``H = act(x W_1 + b_1)``; for every
    further hidden layer ``Z = act(H W_k + b_k)`` and ``H = (1 - Z) * U + Z * V``; the output
    is ``H W + b``. Default initialisation as in the paper: Xavier normal weights, zero biases.

    Args:
        widths: ``[in, h, h, ..., h, out]``: equal hidden widths, at least two of them (the
            first hidden layer is ungated; each further one is a gated layer).
        activation: the activation (name or callable).
        key: random key.
        weight_init, bias_init, dtype: as for :class:`~fieldgrad.nn.Linear`.

    Shape:
        ``(..., in) -> (..., out)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> net = nn.ModifiedMLP([2, 8, 8, 1], key=fg.random.key(0))
        >>> net(fg.zeros((4, 2))).shape, nn.count_parameters(net)
        ((4, 1), 153)
    """

    encoder_u: Linear
    encoder_v: Linear
    layers: list
    activation: Activation

    def __init__(
        self,
        widths: Sequence[int],
        activation: Activation = "tanh",
        *,
        key,
        weight_init: Optional[Callable] = None,
        bias_init: Optional[Callable] = None,
        dtype=None,
    ):
        widths = _check_widths(widths, "ModifiedMLP")
        hidden = widths[1:-1]
        if len(hidden) < 2 or len(set(hidden)) != 1:
            raise ValueError(
                "ModifiedMLP: widths must be [in, h, h, ..., out] with at least two equal "
                f"hidden widths, got {widths}"
            )
        get_activation(activation)
        kw = dict(
            weight_init=weight_init or _init.xavier_normal(),
            bias_init=bias_init or _init.zeros,
            dtype=dtype,
        )
        ku, kv, *keys = fg.random.split(key, len(widths) + 1)
        self.encoder_u = Linear(widths[0], hidden[0], key=ku, **kw)
        self.encoder_v = Linear(widths[0], hidden[0], key=kv, **kw)
        self.layers = [Linear(a, b, key=k, **kw) for a, b, k in zip(widths[:-1], widths[1:], keys)]
        self.activation = activation

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        act = get_activation(self.activation)
        u, v = act(self.encoder_u(x)), act(self.encoder_v(x))
        h = act(self.layers[0](x))
        for layer in self.layers[1:-1]:
            z = act(layer(h))
            h = u + z * (v - u)
        return self.layers[-1](h)


class RWFLinear(Module):
    """Dense layer with random weight factorisation (Wang et al. 2022).

    The weight is factorised per output unit as ``W = V * exp(s)`` (``diag(exp(s)) V`` in the
    paper's ``(out, in)`` layout), with ``s ~ N(mu, sigma^2)`` and ``V = W0 / exp(s)``, so the
    initial ``W`` equals ``W0`` from ``weight_init`` (default Xavier/Glorot normal): the weight
    of ``Linear(in, out, key=key, weight_init=...)``. Bias zero by default. The parameters are
    ``s``, ``V`` and ``bias``.

    Args:
        in_features, out_features: widths.
        key: random key.
        mu, sigma: mean and standard deviation of ``s``.
        bias, weight_init, bias_init, dtype: as for :class:`~fieldgrad.nn.Linear`.

    Shape:
        ``(..., in) -> (..., out)``; ``V`` is ``(in, out)``, ``s`` is ``(out,)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> layer = nn.RWFLinear(3, 2, key=fg.random.key(0))
        >>> layer(fg.ones((4, 3))).shape, layer.s.shape, layer.V.shape
        ((4, 2), (2,), (3, 2))
    """

    s: Tensor
    V: Tensor
    bias: Optional[Tensor]
    in_features: int
    out_features: int

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        key,
        mu: float = 1.0,
        sigma: float = 0.1,
        bias: bool = True,
        weight_init: Optional[Callable] = None,
        bias_init: Optional[Callable] = None,
        dtype=None,
    ):
        w0, self.bias = _dense_params(
            key,
            in_features,
            out_features,
            bias,
            weight_init or _init.xavier_normal(),
            bias_init or _init.zeros,
            dtype,
            "RWFLinear",
        )
        ks = fg.random.fold_in(key, 1)
        self.s = fg.random.normal(ks, (out_features,), dtype=w0.dtype, mean=mu, std=sigma)
        self.V = w0 / fg.exp(self.s)
        self.in_features = in_features
        self.out_features = out_features

    @property
    def weight(self) -> Tensor:
        """The effective weight ``V * exp(s)``, of shape ``(in, out)``."""
        return self.V * fg.exp(self.s)

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        _check_features(x, self.in_features, "RWFLinear")
        y = x @ self.weight
        return y if self.bias is None else y + self.bias


class RWFMLP(MLP):
    """:class:`~fieldgrad.nn.MLP` built from :class:`RWFLinear` layers (same forward pass).

    Args:
        widths, activation, output_activation, key, weight_init, bias_init, dtype: as for
            ``MLP`` (default init Xavier normal, zero bias).
        mu, sigma: the distribution of the scale factors ``s``.

    Shape:
        ``(..., in) -> (..., out)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> net = nn.RWFMLP([2, 8, 1], key=fg.random.key(0))
        >>> net(fg.zeros((4, 2))).shape, sorted(nn.named_parameters(net))[:3]
        ((4, 1), ['layers.0.V', 'layers.0.bias', 'layers.0.s'])
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: Activation = "tanh",
        output_activation: Activation = None,
        *,
        key,
        mu: float = 1.0,
        sigma: float = 0.1,
        weight_init: Optional[Callable] = None,
        bias_init: Optional[Callable] = None,
        dtype=None,
    ):
        widths = _check_widths(widths, "RWFMLP")
        get_activation(activation)
        get_activation(output_activation)
        keys = fg.random.split(key, len(widths) - 1)
        kw = dict(mu=mu, sigma=sigma, weight_init=weight_init, bias_init=bias_init, dtype=dtype)
        self.layers = [
            RWFLinear(a, b, key=k, **kw) for a, b, k in zip(widths[:-1], widths[1:], keys)
        ]
        self.activation = activation
        self.output_activation = output_activation
