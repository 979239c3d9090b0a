"""Random keys as tensors: sampling whose key is a traced value, so ``jit`` does not retrace.

A :class:`~fieldgrad.fields.random.Key` is a static Python value: under ``fg.jit`` every new
key is a new signature and a retrace. ``fg.random.key_data(k)`` gives the key as an int64
tensor of shape (2,) (its two 32-bit words); every sampler, ``split`` and ``fold_in`` also
accept such a tensor, and under ``jit`` it is an ordinary argument. The samples are identical
to those of the static key.

Each primitive takes the key tensor as its one input and reads its two words when it runs (a
copy of 16 bytes); the sample itself is computed by the static-key kernels.
"""

from __future__ import annotations

import numpy as np

from . import _dtypes, _prng
from ._core import Primitive, ShapedArray
from ._tensor import Tensor


def key_words(key_t) -> tuple:
    """The two words of a concrete key tensor."""
    w = np.asarray(key_t.numpy()).reshape(-1)
    return int(w[0]) & _prng.MASK32, int(w[1]) & _prng.MASK32


def _sample_impl(key_t, *, shape, dtype, dist, args) -> Tensor:
    from .random import random_p

    return random_p.impl(key=key_words(key_t), shape=shape, dtype=dtype, dist=dist, args=args)


def _sample_abstract(key_t, *, shape, dtype, dist, args) -> ShapedArray:
    return ShapedArray(shape, dtype)


# random_dynamic: random_p with the key read from an int64 (2,) tensor input.
random_dynamic_p = Primitive("random_dynamic", _sample_impl, _sample_abstract)


def _perm_impl(key_t, *, n) -> Tensor:
    from .random import random_permutation_p

    return random_permutation_p.impl(key=key_words(key_t), n=n)


def _perm_abstract(key_t, *, n) -> ShapedArray:
    return ShapedArray((n,), _dtypes.int32)


# random_permutation_dynamic: random_permutation_p with a tensor key.
random_permutation_dynamic_p = Primitive("random_permutation_dynamic", _perm_impl, _perm_abstract)


def _derive_impl(key_t, *, counters) -> Tensor:
    from ._tensor import tensor

    words = key_words(key_t)
    out = np.array([_prng.threefry2x32(words, c) for c in counters], dtype=np.int64)
    return tensor(out.reshape(len(counters), 2), dtype=_dtypes.int64)


def _derive_abstract(key_t, *, counters) -> ShapedArray:
    return ShapedArray((len(counters), 2), _dtypes.int64)


# random_derive: new key words threefry(key, c) for each counter pair c (split and fold_in).
random_derive_p = Primitive("random_derive", _derive_impl, _derive_abstract)
