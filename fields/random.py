"""Random numbers with explicit keys: reproducible on every run, thread count and arch.

There is no global random state. A :class:`Key` (made by :func:`key` from an integer seed)
determines a sample completely; derive independent keys with :func:`split` or
:func:`fold_in` instead of reusing one key for two samples.

Bits come from the counter-based Threefry-2x32 generator (20 rounds, the generator JAX uses)
computed in a Taichi kernel: element ``i`` of a sample is a function of the key and ``i`` only,
so the same key gives the same numbers whatever the thread count or arch, and the first ``m``
values of a sample of shape ``(n,)`` equal a sample of shape ``(m,)``. Uniform floats, integers,
Bernoulli draws and permutations are bit-identical across archs; normal samples (Box-Muller,
which calls ``log`` and ``cos``) may differ in the last bit between archs whose math libraries
round differently.

Each sampler is one primitive with no tensor inputs whose parameters (the key's two words, the
shape, the dtype, the distribution and its constants) are static and hashable, so a staging
trace can record it.

Example:
    >>> import fieldgrad as fg
    >>> k = fg.random.key(0)
    >>> k1, k2 = fg.random.split(k)
    >>> x = fg.random.normal(k1, (1000,))
    >>> u = fg.random.uniform(k2, (2, 3), minval=-1.0, maxval=1.0)
    >>> bool((fg.random.normal(k1, (1000,)).numpy() == x.numpy()).all())
    True
    >>> sorted(fg.random.permutation(fg.random.fold_in(k, 7), 5).tolist())
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from . import _buffer, _dtypes, _launch, _prng, _runtime
from . import _random_dynamic as _rd
from . import _tensor as _tensor_mod
from ._core import Primitive, ShapedArray, Tracer
from ._creation import normalize_shape
from ._tensor import Tensor

__all__ = [
    "Key",
    "key",
    "key_data",
    "split",
    "fold_in",
    "uniform",
    "normal",
    "integers",
    "bernoulli",
    "permutation",
]


class Key:
    """An immutable random key: two 32-bit words. Make one with :func:`key`.

    Keys are hashable and compare by value. ``key.words`` gives the two words.
    """

    __slots__ = ("_words",)

    def __init__(self, k0: int, k1: int):
        for w in (k0, k1):
            if not isinstance(w, int) or not 0 <= w <= _prng.MASK32:
                raise ValueError(f"Key words must be ints in [0, 2**32), got {w!r}")
        object.__setattr__(self, "_words", (k0, k1))

    @property
    def words(self) -> tuple:
        """The two 32-bit words (k0, k1)."""
        return self._words

    def __setattr__(self, name, value):
        raise AttributeError("fieldgrad.random.Key is immutable")

    def __eq__(self, other) -> bool:
        return isinstance(other, Key) and other._words == self._words

    def __hash__(self) -> int:
        return hash(("fieldgrad.random.Key", self._words))

    def __repr__(self) -> str:
        return f"Key(0x{self._words[0]:08x}, 0x{self._words[1]:08x})"

    def __reduce__(self):
        return (Key, self._words)


def _check_key(k, fn: str):
    """The key's two words (a static Key) or the key tensor itself (see :func:`key_data`)."""
    if isinstance(k, Key):
        return k._words
    if isinstance(k, (Tensor, Tracer)):
        if tuple(k.shape) != (2,) or k.dtype not in (_dtypes.int64, _dtypes.int32):
            raise TypeError(
                f"fieldgrad.random.{fn}: a key tensor must be int64 of shape (2,) (from "
                f"fieldgrad.random.key_data), got {k.dtype.name}{list(k.shape)}"
            )
        return k
    raise TypeError(
        f"fieldgrad.random.{fn}: expected a Key (make one with fieldgrad.random.key(seed)) or a "
        f"key tensor from fieldgrad.random.key_data, got {type(k).__name__}"
    )


def _bind(words, **params):
    if isinstance(words, tuple):
        return random_p.bind(key=words, **params)
    return _rd.random_dynamic_p.bind(words, **params)


def _bind_permutation(words, n: int):
    if isinstance(words, tuple):
        return random_permutation_p.bind(key=words, n=n)
    return _rd.random_permutation_dynamic_p.bind(words, n=n)


def key_data(k: Key) -> Tensor:
    """The key as an int64 tensor of shape (2,) (its two words), usable wherever a Key is.

    Under :func:`fieldgrad.jit` a Key is static (a new key retraces) but a key tensor is an
    ordinary traced argument: pass ``key_data(k)`` into a jitted step that samples (dropout,
    resampling) and derive per-step keys with ``split``/``fold_in`` on the tensor. Samples
    equal those of the Key.

    Example:
        >>> import fieldgrad as fg
        >>> k = fg.random.key(3)
        >>> kt = fg.random.key_data(k)
        >>> bool((fg.random.normal(kt, (4,)).numpy() == fg.random.normal(k, (4,)).numpy()).all())
        True
        >>> step = fg.jit(lambda kt: fg.random.uniform(fg.random.split(kt)[1], (2,)))
        >>> a = step(kt); b = step(fg.random.key_data(fg.random.key(4)))
        >>> step.cache_info()["misses"]
        1
    """
    words = _check_key(k, "key_data")
    if not isinstance(words, tuple):
        return words
    return _tensor_mod.tensor(np.array(words, dtype=np.int64), dtype=_dtypes.int64)


def key(seed: int) -> Key:
    """A key from an integer seed.

    Args:
        seed: an int in ``[-2**63, 2**64)``; its 64 bits (two's complement for a negative seed)
            become the key's two words, high word first.

    Returns:
        A :class:`Key`.

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is outside ``[-2**63, 2**64)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.random.key(1).words
        (0, 1)
    """
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError("fieldgrad.random.key: seed must be an int, got a bool")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(
            f"fieldgrad.random.key: seed must be an int, got {type(seed).__name__}"
        ) from None
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"fieldgrad.random.key: seed must be in [-2**63, 2**64), got {seed}")
    s = seed % 2**64
    return Key(s >> 32, s & _prng.MASK32)


def split(k: Key, num: int = 2) -> list:
    """``num`` new keys derived from ``k``, independent of each other and of samples of ``k``.

    Raises:
        ValueError: ``num`` is negative.

    Example:
        >>> import fieldgrad as fg
        >>> a, b = fg.random.split(fg.random.key(0))
        >>> a != b
        True
    """
    words = _check_key(k, "split")
    try:
        num = operator.index(num)
    except TypeError:
        raise TypeError(f"fieldgrad.random.split: num must be an int, got {num!r}") from None
    if not 0 <= num <= _prng.MASK32:
        raise ValueError(f"fieldgrad.random.split: num must be in [0, 2**32), got {num}")
    if not isinstance(words, tuple):
        ks = _rd.random_derive_p.bind(
            words, counters=tuple((i, _prng.SPLIT_STREAM) for i in range(num))
        )
        return [ks[i] for i in range(num)]
    return [Key(*_prng.threefry2x32(words, (i, _prng.SPLIT_STREAM))) for i in range(num)]


def fold_in(k: Key, data: int) -> Key:
    """A new key derived from ``k`` and the integer ``data`` (a step number, a rank, ...).

    Args:
        k: the key.
        data: an int in ``[-2**31, 2**32)``, taken modulo 2**32.

    Example:
        >>> import fieldgrad as fg
        >>> k = fg.random.key(0)
        >>> fg.random.fold_in(k, 1) == fg.random.fold_in(k, 1) != fg.random.fold_in(k, 2)
        True
    """
    words = _check_key(k, "fold_in")
    try:
        data = operator.index(data)
    except TypeError:
        raise TypeError(
            f"fieldgrad.random.fold_in: data must be an int, got {type(data).__name__}"
        ) from None
    if not -(2**31) <= data < 2**32:
        raise ValueError(f"fieldgrad.random.fold_in: data must be in [-2**31, 2**32), got {data}")
    if not isinstance(words, tuple):
        return _rd.random_derive_p.bind(words, counters=((data % 2**32, _prng.FOLD_STREAM),))[0]
    return Key(*_prng.threefry2x32(words, (data % 2**32, _prng.FOLD_STREAM)))


# --- primitives ---------------------------------------------------------------------------------


def _size(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _random_impl(*, key: tuple, shape: tuple, dtype: np.dtype, dist: str, args: tuple) -> Tensor:
    n = _size(shape)
    out = Tensor._new(_buffer.empty(n, dtype), shape, dtype)
    if n == 0:
        return out
    ser = _launch.serial(n)
    y = _buffer.kernel_view(out._buf)
    k0, k1 = key
    if dist in ("uniform", "normal"):
        kern = _launch.kernel(
            ("random", dist, dtype, ser), lambda: _prng.float_kernel(dist, dtype, ser)
        )
        a, b = args
        below = float(np.nextafter(dtype.type(b), dtype.type(-np.inf))) if dist == "uniform" else b
        _launch.launch(kern, y, n, k0, k1, float(a), float(b), below)
    elif dist == "integers":
        low, high = args
        r = high - low
        thresh = (2**64 - r) % r if r < 2**64 else 0
        kern = _launch.kernel(("random_int", dtype, ser), lambda: _prng.integer_kernel(dtype, ser))
        _launch.launch(kern, y, n, k0, k1, low % 2**64, r % 2**64, thresh)
    elif dist == "bernoulli":
        (p,) = args
        thresh = min(int(round(p * 2**32)), 2**32)
        kern = _launch.kernel(("random_bernoulli", ser), lambda: _prng.bernoulli_kernel(ser))
        _launch.launch(kern, y, n, k0, k1, thresh)
    else:
        raise ValueError(f"random primitive: unknown distribution {dist!r}")
    return out


def _random_abstract(*, key, shape, dtype, dist, args) -> ShapedArray:
    return ShapedArray(shape, dtype)


# random: a sample of ``dist`` ("uniform", "normal", "integers", "bernoulli") with constants
# ``args`` drawn from threefry(key, (i, stream)); no tensor inputs, so no derivative.
random_p = Primitive("random", _random_impl, _random_abstract)


def _permutation_impl(*, key: tuple, n: int) -> Tensor:
    out = Tensor._new(_buffer.empty(n, _dtypes.int32), (n,), _dtypes.int32)
    if n:
        ser = _launch.serial(n)
        kern = _launch.kernel(("random_permutation", ser), lambda: _prng.permutation_kernel(ser))
        _launch.launch(kern, _buffer.kernel_view(out._buf), n, key[0], key[1])
    return out


def _permutation_abstract(*, key, n) -> ShapedArray:
    return ShapedArray((n,), _dtypes.int32)


# random_permutation: a uniformly random permutation of 0..n-1 (int32); no tensor inputs.
random_permutation_p = Primitive("random_permutation", _permutation_impl, _permutation_abstract)


# --- public samplers ----------------------------------------------------------------------------


def _float_dtype(dtype, fn: str) -> np.dtype:
    dt = _dtypes.dtype(dtype)
    if not _dtypes.is_float(dt):
        raise TypeError(f"fieldgrad.random.{fn}: dtype must be float32 or float64, got {dt.name}")
    return dt


def _number(v, what: str, fn: str) -> float:
    if isinstance(v, (Tensor, np.ndarray)) and v.ndim == 0:
        v = v.item()
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(
            f"fieldgrad.random.{fn}: {what} must be a real number, got {type(v).__name__}"
        )
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"fieldgrad.random.{fn}: {what} must be finite, got {f}")
    return f


def uniform(k: Key, shape=(), dtype=None, minval=0.0, maxval=1.0) -> Tensor:
    """Uniform samples in ``[minval, maxval)``.

    Args:
        k: the key.
        shape: an int or a tuple of ints.
        dtype: float32 or float64 (default: the default float dtype). float32 samples use 24
            random bits, float64 samples 53.
        minval, maxval: the bounds (finite real numbers, ``minval < maxval``). ``maxval`` is
            never returned, even where rounding would reach it.

    Returns:
        Tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: ``minval >= maxval``, a non-finite bound, or a negative size.
        TypeError: a non-float dtype or a key that is not a :class:`Key`.

    Example:
        >>> import fieldgrad as fg
        >>> u = fg.random.uniform(fg.random.key(0), (100,), minval=2.0, maxval=3.0)
        >>> bool(((u.numpy() >= 2.0) & (u.numpy() < 3.0)).all())
        True
    """
    words = _check_key(k, "uniform")
    shape = normalize_shape(shape)
    _runtime.ensure_init()
    dt = _float_dtype(dtype, "uniform")
    lo = _number(minval, "minval", "uniform")
    hi = _number(maxval, "maxval", "uniform")
    lo_c, hi_c = dt.type(lo), dt.type(hi)
    if not lo_c < hi_c:
        raise ValueError(
            f"fieldgrad.random.uniform: minval must be < maxval in {dt.name}, got minval={lo}, "
            f"maxval={hi}"
        )
    with np.errstate(over="ignore"):
        if not np.isfinite(hi_c - lo_c):
            raise ValueError(
                f"fieldgrad.random.uniform: maxval - minval overflows {dt.name} "
                f"(minval={lo}, maxval={hi})"
            )
    args = (float(lo_c), float(hi_c))
    return _bind(words, shape=shape, dtype=dt, dist="uniform", args=args)


def normal(k: Key, shape=(), dtype=None, mean=0.0, std=1.0) -> Tensor:
    """Normal (Gaussian) samples ``mean + std * z`` with ``z`` standard normal (Box-Muller).

    Args:
        k: the key.
        shape: an int or a tuple of ints.
        dtype: float32 or float64 (default: the default float dtype).
        mean, std: real numbers (``std >= 0``), or tensors broadcastable to ``shape``; tensors
            give the composite ``mean + std * normal(k, shape)``, differentiable in both
            (the reparameterisation trick).

    Returns:
        Tensor of ``shape`` and ``dtype``. Magnitudes of ``z`` are bounded by about 5.8
        (float32, 24-bit uniforms) and 8.6 (float64).

    Raises:
        ValueError: a negative ``std``, a non-finite constant or a negative size.

    Example:
        >>> import fieldgrad as fg
        >>> z = fg.random.normal(fg.random.key(3), (10000,), dtype="float64")
        >>> abs(float(z.numpy().mean())) < 0.05
        True
    """
    words = _check_key(k, "normal")
    shape = normalize_shape(shape)
    _runtime.ensure_init()
    dt = _float_dtype(dtype, "normal")
    if isinstance(mean, (Tensor, Tracer)) or isinstance(std, (Tensor, Tracer)):
        from . import _ops_elementwise

        z = _bind(words, shape=shape, dtype=dt, dist="normal", args=(0.0, 1.0))
        return _ops_elementwise.add(_ops_elementwise.multiply(z, std), mean)
    m = _number(mean, "mean", "normal")
    s = _number(std, "std", "normal")
    if s < 0:
        raise ValueError(f"fieldgrad.random.normal: std must be >= 0, got {s}")
    return _bind(words, shape=shape, dtype=dt, dist="normal", args=(m, s))


def integers(k: Key, shape=(), low=0, high=None, dtype="int32") -> Tensor:
    """Uniform integers in ``[low, high)`` (``high`` exclusive), without modulo bias.

    ``integers(k, shape, high)`` with one bound draws from ``[0, high)``.

    Args:
        k: the key.
        shape: an int or a tuple of ints.
        low, high: int bounds; ``low`` and ``high - 1`` must fit ``dtype``.
        dtype: int32 (default) or int64.

    Returns:
        Tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: ``low >= high``, a bound out of the dtype's range, or a negative size.
        TypeError: a non-integer bound or dtype.

    Example:
        >>> import fieldgrad as fg
        >>> d = fg.random.integers(fg.random.key(0), (1000,), 1, 7)
        >>> sorted(set(d.tolist()))
        [1, 2, 3, 4, 5, 6]
    """
    words = _check_key(k, "integers")
    shape = normalize_shape(shape)
    if high is None:
        low, high = 0, low
    dt = _dtypes.dtype(dtype)
    if not _dtypes.is_int(dt):
        raise TypeError(f"fieldgrad.random.integers: dtype must be int32 or int64, got {dt.name}")
    bounds = []
    for what, v in (("low", low), ("high", high)):
        if isinstance(v, (Tensor, np.ndarray)) and v.ndim == 0:
            v = v.item()
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(
                f"fieldgrad.random.integers: {what} must be an int, got {type(v).__name__}"
            )
        bounds.append(int(v))
    low, high = bounds
    if low >= high:
        raise ValueError(
            f"fieldgrad.random.integers: low must be < high, got low={low}, high={high}"
        )
    info = np.iinfo(dt)
    if low < info.min or high - 1 > info.max:
        raise ValueError(
            f"fieldgrad.random.integers: the range [{low}, {high}) does not fit {dt.name} "
            f"([{info.min}, {info.max + 1}))"
        )
    _runtime.ensure_init()
    return _bind(words, shape=shape, dtype=dt, dist="integers", args=(low, high))


def bernoulli(k: Key, p=0.5, shape=()) -> Tensor:
    """Boolean samples that are True with probability ``p``.

    Args:
        k: the key.
        p: a probability in [0, 1] (resolved to a multiple of 2**-32: exactly 0 and 1 give
            all-False and all-True), or a float tensor of probabilities broadcastable to
            ``shape`` (then the result is ``uniform(k, shape) < p``).
        shape: an int or a tuple of ints (default: the shape of ``p``).

    Returns:
        A bool tensor of ``shape``.

    Raises:
        ValueError: ``p`` outside [0, 1] or a negative size.

    Example:
        >>> import fieldgrad as fg
        >>> fg.random.bernoulli(fg.random.key(0), 1.0, (3,)).tolist()
        [True, True, True]
    """
    words = _check_key(k, "bernoulli")
    if isinstance(p, (Tensor, np.ndarray)) and p.ndim == 0:
        p = p.item()
    elif isinstance(p, (Tensor, Tracer, np.ndarray, list, tuple)):
        from ._convert import as_operand

        p = as_operand(p)
        shape = p.shape if shape is None or shape == () else normalize_shape(shape)
        return uniform(k, shape, dtype=_dtypes.float_result(p.dtype)) < p
    shape = normalize_shape(() if shape is None else shape)
    pf = _number(p, "p", "bernoulli")
    if not 0.0 <= pf <= 1.0:
        raise ValueError(f"fieldgrad.random.bernoulli: p must be in [0, 1], got {pf}")
    _runtime.ensure_init()
    return _bind(words, shape=shape, dtype=_dtypes.bool_, dist="bernoulli", args=(pf,))


def permutation(k: Key, x) -> Tensor:
    """A random permutation of ``range(x)`` (an int), or ``x`` shuffled along its first axis.

    Made by a Fisher-Yates shuffle in one serial kernel loop, so every result is a true
    permutation.

    Args:
        k: the key.
        x: an int ``n >= 0`` (returns an int32 tensor holding a permutation of 0..n-1), or a
            tensor (or array) with at least one axis: its rows reordered by
            ``permutation(k, x.shape[0])`` (a gather, differentiable in ``x``).

    Returns:
        Tensor.

    Raises:
        ValueError: a negative ``n`` or a 0-d tensor.

    Example:
        >>> import fieldgrad as fg
        >>> sorted(fg.random.permutation(fg.random.key(0), 4).tolist())
        [0, 1, 2, 3]
    """
    words = _check_key(k, "permutation")
    if isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_)):
        (n,) = normalize_shape(int(x), "permutation: n")
        _runtime.ensure_init()
        return _bind_permutation(words, n)
    from fieldgrad import fields

    from ._convert import as_operand

    x = as_operand(x)
    if x.ndim == 0:
        raise ValueError(
            "fieldgrad.random.permutation: x must be an int or a tensor with at least one axis, "
            "got a 0-d tensor"
        )
    idx = _bind_permutation(words, x.shape[0])
    return fields.take(x, idx, axis=0)
