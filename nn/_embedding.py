"""Embedding: a lookup table of learned vectors indexed by integers."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

import fieldgrad as fg
from fieldgrad.fields import Tensor

from . import init as _init
from ._module import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; ``emb(i) = weight[i]``.

    The default initialisation is ``N(0, 1)``, as in PyTorch.

    Args:
        num_embeddings: number of rows (valid indices are ``0 .. num_embeddings - 1``).
        embedding_dim: size of each vector.
        key: random key.
        weight_init: an initialiser ``init(key, (num, dim), dtype)`` (default ``N(0, 1)``).
        dtype: float32 or float64.

    Call:
        ``emb(indices)``: ``indices`` an integer tensor (or list / numpy array) of any shape.
        Out-of-range or negative indices raise ``IndexError`` when ``indices`` is a concrete
        tensor; traced indices (under ``jit`` or ``vmap``) cannot be checked and are clamped
        to the valid range, as ``fg.take`` does.

    Shape:
        ``indices.shape -> indices.shape + (embedding_dim,)``.

    Raises:
        TypeError: non-integer indices.
        IndexError: an index outside ``[0, num_embeddings)`` (checked eagerly).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> emb = nn.Embedding(10, 3, key=fg.random.key(0))
        >>> emb(fg.tensor([[1, 2], [3, 4]])).shape
        (2, 2, 3)
    """

    weight: Tensor
    num_embeddings: int
    embedding_dim: int

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        key,
        weight_init: Optional[Callable] = None,
        dtype=None,
    ):
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(
                "Embedding: num_embeddings and embedding_dim must be positive, got "
                f"{num_embeddings}, {embedding_dim}"
            )
        w_init = weight_init or _init.normal(1.0)
        self.weight = w_init(key, (num_embeddings, embedding_dim), dtype=dtype)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim

    def __call__(self, indices, *, key=None) -> Tensor:
        if not isinstance(indices, (Tensor, fg.Tracer)):
            indices = fg.tensor(np.asarray(indices))
        if indices.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {indices.dtype}")
        if isinstance(indices, Tensor) and indices.size:
            idx = indices.numpy()
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= self.num_embeddings:
                bad = lo if lo < 0 else hi
                raise IndexError(
                    f"Embedding: index {bad} is out of range for {self.num_embeddings} "
                    f"embeddings (valid: 0..{self.num_embeddings - 1})"
                )
        return fg.take(self.weight, indices, axis=0)
