"""Dropout: zero random elements in training, identity in eval mode (inverted dropout).

Randomness is explicit: the layer takes ``key`` at call time (``layer(x, key=k)``). A
:class:`fieldgrad.random.Key` is a static value, so under ``fg.jit`` pass the key's data
(``fg.random.key_data(k)``, a traced tensor) to avoid a retrace per key.
"""

from __future__ import annotations

import numbers

import fieldgrad as fg
from fieldgrad.fields import Tensor

from ._module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout, as ``torch.nn.Dropout``.

    In training mode each element is zeroed with probability ``p`` and the survivors are scaled
    by ``1 / (1 - p)``, so the expectation of the output equals the input; ``p == 1`` gives
    zeros. In eval mode (``layer.eval()``, ``nn.eval_mode(model)``) or with ``p == 0`` the
    layer is the identity and needs no key.

    Args:
        p: probability of zeroing an element, in [0, 1].
        training: start in training mode.

    Shape:
        Any input shape; output the same shape.

    Raises:
        ValueError: ``p`` outside [0, 1], or a call in training mode with ``p > 0`` and no key.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> drop = nn.Dropout(0.5)
        >>> y = drop(fg.ones((4, 4)), key=fg.random.key(0))
        >>> sorted(set(y.numpy().ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
        >>> drop.eval()(fg.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    p: float
    training: bool

    def __init__(self, p: float = 0.5, training: bool = True):
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.training = bool(training)

    def __call__(self, x, *, key=None) -> Tensor:
        x = fg.asarray(x)
        if not self.training or self.p == 0.0:
            return x
        if key is None:
            raise ValueError(
                f"Dropout(p={self.p}) in training mode needs a random key: call it as "
                "layer(x, key=k), or switch to eval mode with layer.eval() / nn.eval_mode(model)"
            )
        if self.p == 1.0:
            return x * 0.0
        keep = fg.random.bernoulli(key, 1.0 - self.p, tuple(x.shape))
        return fg.where(keep, x * (1.0 / (1.0 - self.p)), 0.0)
