"""Input encodings for neural fields: random Fourier features and exactly periodic embeddings.

Each maps ``(..., in) -> (..., out)`` and accepts a 1-D input ``(in,)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence, Union

import numpy as np

import fieldgrad as fg
from fieldgrad.fields import Tensor

from ._linear import _check_features
from ._module import Module, buffer, field

__all__ = ["FourierFeatures", "PeriodicEmbedding"]


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
