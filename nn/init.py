"""Initialisers: ``init(key, shape, dtype=None) -> Tensor``, seeded and reproducible.

Fan-in and fan-out follow the layouts of fieldgrad's layers: a 2-D weight is ``(in, out)``
(``y = x @ W``), so ``fan_in = shape[0]`` and ``fan_out = shape[1]``; a convolution kernel is
``(C_out, C_in, *kernel)``, so ``fan_in = C_in * prod(kernel)`` and
``fan_out = C_out * prod(kernel)``; a 1-D shape has ``fan_in = fan_out = shape[0]``.

The factories (``xavier_normal(gain=...)``) return initialisers; the plain functions take the
key first. Every initialiser gives the same numbers for the same key on every run.

Example:
    >>> import fieldgrad as fg
    >>> from fieldgrad import nn
    >>> w = nn.init.xavier_normal()(fg.random.key(0), (256, 256))
    >>> abs(float(w.numpy().std()) - (2 / 512) ** 0.5) < 3e-3
    True
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

import fieldgrad.fields as F
from fieldgrad.fields import Tensor
from fieldgrad.fields import random as frandom

__all__ = [
    "Initializer",
    "fans",
    "calculate_gain",
    "zeros",
    "ones",
    "constant",
    "normal",
    "uniform",
    "truncated_normal",
    "xavier_normal",
    "xavier_uniform",
    "glorot_normal",
    "glorot_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
]

Initializer = Callable[..., Tensor]


def _shape(shape) -> tuple:
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"init: negative dimension in shape {shape}")
    return shape


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` (see the module docstring)."""
    shape = _shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    Raises:
        ValueError: unknown nonlinearity (the known ones are listed).
    """
    table = {
        "linear": 1.0,
        "identity": 1.0,
        "sigmoid": 1.0,
        "conv1d": 1.0,
        "conv2d": 1.0,
        "tanh": 5.0 / 3.0,
        "relu": math.sqrt(2.0),
        "selu": 0.75,
    }
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity not in table:
        raise ValueError(
            f"calculate_gain: unknown nonlinearity {nonlinearity!r}; "
            f"known: {sorted([*table, 'leaky_relu'])}"
        )
    return table[nonlinearity]


def zeros(key=None, shape=(), dtype=None) -> Tensor:
    """All zeros (the key is ignored)."""
    return F.zeros(_shape(shape), dtype=dtype)


def ones(key=None, shape=(), dtype=None) -> Tensor:
    """All ones (the key is ignored)."""
    return F.ones(_shape(shape), dtype=dtype)


def constant(value: float) -> Initializer:
    """An initialiser filling with ``value``."""

    def init(key=None, shape=(), dtype=None) -> Tensor:
        return F.full(_shape(shape), value, dtype=dtype)

    return init


def normal(std: float = 1.0, mean: float = 0.0) -> Initializer:
    """An initialiser drawing from N(mean, std^2)."""

    def init(key, shape, dtype=None) -> Tensor:
        return frandom.normal(key, _shape(shape), dtype=dtype, mean=mean, std=std)

    return init


def uniform(low: float = 0.0, high: float = 1.0) -> Initializer:
    """An initialiser drawing from U(low, high)."""
    if not high > low:
        raise ValueError(f"init.uniform: need high > low, got low={low}, high={high}")

    def init(key, shape, dtype=None) -> Tensor:
        return frandom.uniform(key, _shape(shape), dtype=dtype, minval=low, maxval=high)

    return init


def truncated_normal(std: float = 1.0, mean: float = 0.0, bound: float = 2.0) -> Initializer:
    """N(mean, std^2) redrawn until within ``mean +- bound*std`` (by inverse-CDF sampling)."""
    from scipy.special import ndtr, ndtri

    lo, hi = float(ndtr(-bound)), float(ndtr(bound))

    def init(key, shape, dtype=None) -> Tensor:
        u = frandom.uniform(key, _shape(shape), dtype="float64", minval=lo, maxval=hi).numpy()
        z = ndtri(u) * std + mean
        return F.tensor(z, dtype=dtype if dtype is not None else _default_float())

    return init


def _default_float():
    return F.zeros(()).dtype


def _scaled(kind: str, scale: float, mode: str, distribution: str) -> Initializer:
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"init.{kind}: mode must be fan_in, fan_out or fan_avg, got {mode!r}")

    def init(key, shape, dtype=None) -> Tensor:
        shape_ = _shape(shape)
        fi, fo = fans(shape_)
        fan = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2.0}[mode]
        if fan <= 0:
            raise ValueError(f"init.{kind}: shape {shape_} has a zero fan")
        var = scale / fan
        if distribution == "normal":
            return frandom.normal(key, shape_, dtype=dtype, std=math.sqrt(var))
        a = math.sqrt(3.0 * var)
        return frandom.uniform(key, shape_, dtype=dtype, minval=-a, maxval=a)

    init.__name__ = kind
    return init


def xavier_normal(gain: float = 1.0) -> Initializer:
    """Glorot/Xavier normal: std = gain * sqrt(2 / (fan_in + fan_out))."""
    return _scaled("xavier_normal", gain**2, "fan_avg", "normal")


def xavier_uniform(gain: float = 1.0) -> Initializer:
    """Glorot/Xavier uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    return _scaled("xavier_uniform", gain**2, "fan_avg", "uniform")


glorot_normal = xavier_normal
glorot_uniform = xavier_uniform


def kaiming_normal(
    a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Initializer:
    """He/Kaiming normal: std = gain / sqrt(fan) (gain of ``nonlinearity`` with slope ``a``)."""
    gain = calculate_gain(nonlinearity, a)
    return _scaled("kaiming_normal", gain**2, mode, "normal")


def kaiming_uniform(
    a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Initializer:
    """He/Kaiming uniform: U(-b, b), b = gain * sqrt(3 / fan)."""
    gain = calculate_gain(nonlinearity, a)
    return _scaled("kaiming_uniform", gain**2, mode, "uniform")


def he_normal() -> Initializer:
    """Kaiming normal for ReLU: std = sqrt(2 / fan_in)."""
    return kaiming_normal(nonlinearity="relu")


def he_uniform() -> Initializer:
    """Kaiming uniform for ReLU: U(-b, b), b = sqrt(6 / fan_in)."""
    return kaiming_uniform(nonlinearity="relu")


def lecun_normal() -> Initializer:
    """LeCun normal: std = sqrt(1 / fan_in)."""
    return _scaled("lecun_normal", 1.0, "fan_in", "normal")


def lecun_uniform() -> Initializer:
    """LeCun uniform: U(-b, b), b = sqrt(3 / fan_in)."""
    return _scaled("lecun_uniform", 1.0, "fan_in", "uniform")


def orthogonal(gain: float = 1.0) -> Initializer:
    """A (semi-)orthogonal matrix times ``gain``: QR of a Gaussian matrix, signs fixed.

    For more than two dimensions the trailing dimensions are flattened into columns.
    """

    def init(key, shape, dtype=None) -> Tensor:
        shape_ = _shape(shape)
        if len(shape_) < 2:
            raise ValueError(f"init.orthogonal: needs at least 2 dimensions, got shape {shape_}")
        rows, cols = shape_[0], int(np.prod(shape_[1:]))
        a = frandom.normal(key, (max(rows, cols), min(rows, cols)), dtype="float64").numpy()
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.where(np.diag(r) == 0, 1.0, np.diag(r)))
        if rows < cols:
            q = q.T
        out = gain * q.reshape(shape_)
        return F.tensor(out, dtype=dtype if dtype is not None else _default_float())

    return init
