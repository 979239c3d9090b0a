"""Dense layers: Linear, Sequential, MLP and ResidualBlock.

A dense weight is stored as ``(in_features, out_features)`` and a layer computes ``x @ W + b``
over the last axis of ``x``, so inputs of shape ``(in,)`` and ``(..., in)`` both work.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from typing import Any, Callable, Optional, Sequence, Union

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init as _init
from ._activations import get_activation
from ._module import Module

__all__ = ["Linear", "Lambda", "Sequential", "MLP", "ResidualBlock"]

Activation = Union[str, Callable, None]


def _check_features(x, n: int, owner: str) -> None:
    shape = tuple(x.shape)
    if len(shape) == 0 or shape[-1] != n:
        raise ValueError(
            f"{owner}: expected an input of shape (..., {n}) (last axis = in_features), "
            f"got shape {shape}"
        )


def _check_widths(widths, owner: str) -> list:
    widths = list(widths)
    if len(widths) < 2 or any(not _is_size(w) for w in widths):
        raise ValueError(
            f"{owner}: widths must be a list of at least two positive ints "
            f"[in, hidden..., out], got {widths}"
        )
    return [int(w) for w in widths]


def _is_size(n) -> bool:
    return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1


def _dense_params(key, n_in, n_out, bias, weight_init, bias_init, dtype, owner):
    """``(W, b)`` of a dense layer: PyTorch's default init unless initialisers are given."""
    if not (_is_size(n_in) and _is_size(n_out)):
        raise ValueError(
            f"{owner}: in_features and out_features must be positive ints, got {n_in}, {n_out}"
        )
    if key is None:
        raise TypeError(f"{owner}: a random key is required: key=fg.random.key(0)")
    kw, kb = fg.random.split(key)
    bound = 1.0 / math.sqrt(n_in)
    w_init = weight_init or _init.kaiming_uniform(a=math.sqrt(5.0))
    b_init = bias_init or _init.uniform(-bound, bound)
    w = w_init(kw, (int(n_in), int(n_out)), dtype=dtype)
    return w, (b_init(kb, (n_out,), dtype=dtype) if bias else None)


class Linear(Module):
    """Dense layer ``y = x @ weight + bias``.

    The default initialisation is PyTorch's: ``weight`` from ``kaiming_uniform(a=sqrt(5))``
    and ``bias`` from the same range, i.e. both ``U(-1/sqrt(in), 1/sqrt(in))``.

    Args:
        in_features: size of the last input axis.
        out_features: size of the last output axis.
        key: random key for the initialisation.
        bias: whether to add a bias (``bias`` is None otherwise).
        weight_init: an initialiser ``init(key, (in, out), dtype)`` (see ``nn.init``).
        bias_init: an initialiser for the bias, called with shape ``(out,)``.
        dtype: float32 or float64 (default: the default float dtype).

    Shape:
        ``(..., in_features) -> (..., out_features)``; ``weight`` is ``(in, out)``.

    Raises:
        ValueError: a non-positive size, or an input whose last axis is not ``in_features``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> lin = nn.Linear(3, 2, key=fg.random.key(0))
        >>> lin(fg.ones((5, 3))).shape
        (5, 2)
        >>> lin.weight.shape, lin.bias.shape
        ((3, 2), (2,))
    """

    weight: Tensor
    bias: Optional[Tensor]
    in_features: int
    out_features: int

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        key,
        bias: bool = True,
        weight_init: Optional[Callable] = None,
        bias_init: Optional[Callable] = None,
        dtype=None,
    ):
        self.weight, self.bias = _dense_params(
            key, in_features, out_features, bias, weight_init, bias_init, dtype, "Linear"
        )
        self.in_features = int(in_features)
        self.out_features = int(out_features)

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        _check_features(x, self.in_features, "Linear")
        y = x @ self.weight
        return y if self.bias is None else y + self.bias


class Lambda(Module):
    """Wraps a plain function ``fn(x)`` as a parameter-free layer (Sequential does it for you).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> nn.Lambda(fg.square)(fg.tensor([3.0])).tolist()
        [9.0]
    """

    fn: Callable

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        return self.fn(x)


@functools.lru_cache(maxsize=1024)
def _takes_key(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "key" in params


def _accepts_key(layer) -> bool:
    return _takes_key(type(layer).__call__ if isinstance(layer, Module) else layer)


class Sequential(Module):
    """Layers applied in order; the key is split among the layers that take one.

    Args:
        layers: Modules or callables. A plain function or an activation name (``"tanh"``) is
            wrapped in :class:`Lambda`, so the list holds Modules only.

    Call:
        ``seq(x, *, key=None)``: each layer whose ``__call__`` has a ``key`` parameter gets
        its own subkey (or None when ``key`` is None).

    Raises:
        TypeError: a layer that is neither callable nor an activation name.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> k1, k2 = fg.random.split(fg.random.key(0))
        >>> seq = nn.Sequential([nn.Linear(2, 4, key=k1), "tanh", nn.Linear(4, 1, key=k2)])
        >>> seq(fg.ones((3, 2))).shape
        (3, 1)
        >>> len(seq), type(seq[1]).__name__
        (3, 'Lambda')
    """

    layers: list

    def __init__(self, layers: Sequence[Any]):
        out = []
        for i, layer in enumerate(layers):
            if isinstance(layer, str):
                layer = get_activation(layer)
            if not callable(layer):
                raise TypeError(
                    f"Sequential: layer {i} must be a Module, a callable or an activation "
                    f"name, got {type(layer).__name__}"
                )
            out.append(layer if isinstance(layer, Module) else Lambda(layer))
        self.layers = out

    def __call__(self, x: Tensor, *, key=None) -> Any:
        takes = [_accepts_key(layer) for layer in self.layers]
        n = sum(takes)
        keys = iter(fg.random.split(key, n) if key is not None and n else [None] * n)
        for layer, t in zip(self.layers, takes):
            x = layer(x, key=next(keys)) if t else layer(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return Sequential(self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __iter__(self):
        return iter(self.layers)


class MLP(Module):
    """Multilayer perceptron: Linear layers with an activation between them.

    ``y = L_n(act(... act(L_1(x))))``, then ``output_activation`` if given.

    Args:
        widths: ``[in, hidden..., out]``; ``len(widths) - 1`` Linear layers.
        activation: a name (see :func:`get_activation`) or a callable, after every hidden layer.
        output_activation: applied to the output (None: none).
        key: random key for the initialisation.
        weight_init, bias_init: initialisers passed to every :class:`Linear` (default:
            PyTorch's; ``nn.init.xavier_normal()`` with ``nn.init.zeros`` is the usual PINN
            choice).
        dtype: float32 or float64.

    Shape:
        ``(..., in) -> (..., out)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> mlp = nn.MLP([2, 16, 16, 1], key=fg.random.key(0))
        >>> mlp(fg.zeros((8, 2))).shape, len(mlp.layers)
        ((8, 1), 3)
    """

    layers: list
    activation: Activation
    output_activation: Activation

    def __init__(
        self,
        widths: Sequence[int],
        activation: Activation = "tanh",
        output_activation: Activation = None,
        *,
        key,
        weight_init: Optional[Callable] = None,
        bias_init: Optional[Callable] = None,
        dtype=None,
    ):
        widths = _check_widths(widths, "MLP")
        get_activation(activation)
        get_activation(output_activation)
        keys = fg.random.split(key, len(widths) - 1)
        self.layers = [
            Linear(a, b, key=k, weight_init=weight_init, bias_init=bias_init, dtype=dtype)
            for a, b, k in zip(widths[:-1], widths[1:], keys)
        ]
        self.activation = activation
        self.output_activation = output_activation

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        act = get_activation(self.activation)
        for layer in self.layers[:-1]:
            x = act(layer(x))
        x = self.layers[-1](x)
        return x if self.output_activation is None else get_activation(self.output_activation)(x)


class ResidualBlock(Module):
    """``shortcut(x) + linear2(act(linear1(x)))``, then ``output_activation`` if given.

    ``shortcut`` is the identity when ``in_features == out_features`` and a bias-free
    :class:`Linear` projection otherwise.

    Args:
        in_features: input width.
        out_features: output width (default: ``in_features``).
        hidden_features: width of the inner layer (default: ``out_features``).
        activation: activation inside the branch.
        output_activation: applied after the sum (None: none).
        key: random key.
        weight_init, bias_init, dtype: as for :class:`Linear`.

    Shape:
        ``(..., in) -> (..., out)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> blk = nn.ResidualBlock(3, 5, key=fg.random.key(0))
        >>> blk(fg.ones((4, 3))).shape, blk.projection.weight.shape
        ((4, 5), (3, 5))
    """

    linear1: Linear
    linear2: Linear
    projection: Optional[Linear]
    activation: Activation
    output_activation: Activation

    def __init__(
        self,
        in_features: int,
        out_features: Optional[int] = None,
        hidden_features: Optional[int] = None,
        activation: Activation = "tanh",
        output_activation: Activation = None,
        *,
        key,
        weight_init: Optional[Callable] = None,
        bias_init: Optional[Callable] = None,
        dtype=None,
    ):
        out_features = in_features if out_features is None else out_features
        hidden = out_features if hidden_features is None else hidden_features
        get_activation(activation)
        get_activation(output_activation)
        k1, k2, k3 = fg.random.split(key, 3)
        kw = dict(weight_init=weight_init, bias_init=bias_init, dtype=dtype)
        self.linear1 = Linear(in_features, hidden, key=k1, **kw)
        self.linear2 = Linear(hidden, out_features, key=k2, **kw)
        self.projection = (
            None
            if in_features == out_features
            else Linear(in_features, out_features, key=k3, bias=False, **kw)
        )
        self.activation = activation
        self.output_activation = output_activation

    def __call__(self, x: Tensor, *, key=None) -> Tensor:
        h = self.linear2(get_activation(self.activation)(self.linear1(x)))
        y = (x if self.projection is None else self.projection(x)) + h
        return y if self.output_activation is None else get_activation(self.output_activation)(y)
