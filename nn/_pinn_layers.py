"""Layers for physics-informed networks and neural fields.

Input encodings (random Fourier features, exactly periodic embeddings), sine networks (SIREN),
the gated "modified MLP" of Wang, Teng and Perdikaris, and random weight factorisation. Each
layer maps ``(..., in) -> (..., out)`` and accepts a 1-D input ``(in,)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Optional, Sequence, Union

import numpy as np

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init as _init
from ._activations import get_activation
from ._linear import MLP, Activation, Linear, _check_features, _check_widths, _dense_params
from ._module import Module, buffer, field

__all__ = [
    "FourierFeatures",
    "PeriodicEmbedding",
    "SirenLayer",
    "Siren",
    "ModifiedMLP",
    "RWFLinear",
    "RWFMLP",
]


class FourierFeatures(Module):
    """Random Fourier features ``[cos(2 pi x B), sin(2 pi x B)]`` (Tancik et al. 2020).

    ``B`` has shape ``(in_features, num_features)`` with entries from ``N(0, sigma^2)``. By
    default it is a fixed buffer (left out of ``nn.parameters`` and not differentiated);
    ``trainable=True`` makes it a parameter.

    Args:
        in_features: input width.
        num_features: number of frequencies; the output width is ``2 * num_features``.
        sigma: standard deviation of the frequencies (larger: finer detail).
        key: random key.
        trainable: whether ``B`` is a trainable parameter.
        dtype: float32 or float64.

    Shape:
        ``(..., in_features) -> (..., 2 * num_features)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> ff = nn.FourierFeatures(2, 8, sigma=1.0, key=fg.random.key(0))
        >>> ff(fg.zeros((5, 2))).shape, sorted(nn.named_buffers(ff))
        ((5, 16), ['B'])
    """

    B: Tensor = buffer()
    in_features: int
    num_features: int
    sigma: float
    trainable: bool

    def __new__(cls, *args, trainable: bool = False, **kwargs):
        # A trainable B must be a parameter field, a fixed one a buffer: the field kind is a
        # class property, so the trainable variant is a subclass.
        if trainable and cls is FourierFeatures:
            cls = _TrainableFourierFeatures
        return object.__new__(cls)

    def __init__(
        self,
        in_features: int,
        num_features: int,
        sigma: float,
        *,
        key,
        trainable: bool = False,
        dtype=None,
    ):
        if in_features < 1 or num_features < 1 or not sigma > 0:
            raise ValueError(
                "FourierFeatures: need in_features >= 1, num_features >= 1 and sigma > 0, got "
                f"{in_features}, {num_features}, {sigma}"
            )
        self.B = fg.random.normal(key, (in_features, num_features), dtype=dtype, std=sigma)
        self.in_features = in_features
        self.num_features = num_features
        self.sigma = sigma
        self.trainable = trainable

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        _check_features(x, self.in_features, "FourierFeatures")
        b = self.B if self.trainable else fg.stop_gradient(self.B)
        z = (2 * math.pi) * (x @ b)
        return fg.concatenate([fg.cos(z), fg.sin(z)], axis=-1)


class _TrainableFourierFeatures(FourierFeatures):
    """FourierFeatures whose ``B`` is a trainable parameter (made by ``trainable=True``)."""

    B: Tensor = field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)


class PeriodicEmbedding(Module):
    """Exactly periodic embedding: ``x_i -> [cos(2 pi k x_i / P_i), sin(2 pi k x_i / P_i)]``.

    For each embedded axis ``i`` and ``k = 1..num_harmonics``; the other axes pass through
    unchanged. Any network applied to the output is exactly ``P_i``-periodic in ``x_i``, which
    imposes periodic boundary conditions on a PINN by construction.

    Args:
        in_features: input width.
        periods: one period for every embedded axis, or a single number for all of them.
        axes: the embedded input axes (default: all).
        num_harmonics: the number ``m`` of harmonics per axis.

    Shape:
        ``(..., in_features) -> (..., out_features)`` with ``out_features = in_features -
        len(axes) + 2 * m * len(axes)``, ordered as: the pass-through axes, then the cosines,
        then the sines (each axis by axis, harmonic by harmonic).

    Raises:
        ValueError: a bad axis, a non-positive period, or periods and axes of different lengths.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> emb = nn.PeriodicEmbedding(2, periods=2.0, axes=[0], num_harmonics=1)
        >>> emb(fg.tensor([0.0, 7.0])).tolist()
        [7.0, 1.0, 0.0]
    """

    in_features: int
    periods: tuple
    axes: tuple
    num_harmonics: int

    def __init__(
        self,
        in_features: int,
        periods: Union[float, Sequence[float]],
        axes: Optional[Sequence[int]] = None,
        num_harmonics: int = 1,
    ):
        axes = tuple(range(in_features)) if axes is None else tuple(int(a) for a in axes)
        axes = tuple(a % in_features if -in_features <= a < in_features else a for a in axes)
        if any(not 0 <= a < in_features for a in axes) or len(set(axes)) != len(axes) or not axes:
            raise ValueError(
                f"PeriodicEmbedding: axes must be distinct axes of an input of width "
                f"{in_features}, got {axes}"
            )
        if isinstance(periods, numbers.Real):
            periods = (float(periods),) * len(axes)
        periods = tuple(float(p) for p in periods)
        if len(periods) != len(axes) or any(not p > 0 for p in periods):
            raise ValueError(
                f"PeriodicEmbedding: need one positive period per embedded axis {axes}, "
                f"got {periods}"
            )
        if num_harmonics < 1:
            raise ValueError(f"PeriodicEmbedding: num_harmonics must be >= 1, got {num_harmonics}")
        self.in_features = in_features
        self.periods = periods
        self.axes = axes
        self.num_harmonics = int(num_harmonics)

    @property
    def out_features(self) -> int:
        """Width of the output."""
        n = len(self.axes)
        return self.in_features - n + 2 * self.num_harmonics * n

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        _check_features(x, self.in_features, "PeriodicEmbedding")
        n, m = len(self.axes), self.num_harmonics
        k = np.arange(1, m + 1)
        w = np.array([2 * np.pi * k / p for p in self.periods])  # (n, m)
        z = fg.expand_dims(fg.take(x, list(self.axes), axis=-1), -1) * fg.tensor(w, dtype=x.dtype)
        z = fg.reshape(z, tuple(x.shape[:-1]) + (n * m,))
        parts = [fg.cos(z), fg.sin(z)]
        rest = [a for a in range(self.in_features) if a not in self.axes]
        if rest:
            parts.insert(0, fg.take(x, rest, axis=-1))
        return fg.concatenate(parts, axis=-1)


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
