"""Host-side data handling: mini-batch loading, train/test splits and standardisation.

Data sets are tuples of arrays with one example per row (``(x, y)``). They stay in host memory
as numpy arrays; :class:`DataLoader` cuts them into batches and hands each one over as a tuple
of tensors. Shuffling is deterministic: epoch ``e`` of a loader with seed ``s`` uses the
permutation drawn by ``numpy.random.default_rng([s, e])``, so a run is reproducible and
resumable without any global random state.

Example:
    >>> import numpy as np
    >>> from fieldgrad import nn
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> loader = nn.DataLoader((x, y), batch_size=2)
    >>> len(loader), [tuple(b[0].shape) for b in loader]
    (3, [(2, 2), (2, 2), (1, 2)])
"""

from __future__ import annotations

import math
import operator
from typing import Iterator, Sequence

import numpy as np

import fieldgrad.fields as F
from fieldgrad.fields import Tensor, Tracer

__all__ = ["DataLoader", "train_test_split", "random_split", "standardize"]


def _host(a, fn: str, k: int) -> np.ndarray:
    if isinstance(a, Tracer):
        raise TypeError(f"{fn}: array {k} is a traced value; data handling runs outside jit/grad")
    arr = a.numpy() if isinstance(a, Tensor) else np.asarray(a)
    if arr.ndim == 0:
        raise ValueError(f"{fn}: array {k} is a scalar; every array needs a first (example) axis")
    return arr


def _arrays(arrays, fn: str) -> tuple:
    """A tuple of host arrays with one shared first dimension."""
    if isinstance(arrays, (Tensor, np.ndarray)):
        arrays = (arrays,)
    if not isinstance(arrays, (tuple, list)) or not arrays:
        raise TypeError(
            f"{fn}: expected a non-empty tuple of arrays (x, y, ...), got {type(arrays).__name__}"
        )
    out = tuple(_host(a, fn, k) for k, a in enumerate(arrays))
    lengths = [len(a) for a in out]
    if len(set(lengths)) > 1:
        shapes = ", ".join(str(a.shape) for a in out)
        raise ValueError(
            f"{fn}: the arrays must have the same first dimension (number of examples); got "
            f"shapes {shapes}"
        )
    return out


class DataLoader:
    """Iterate over a data set in mini-batches of tensors.

    Args:
        arrays: a tuple of numpy arrays or tensors sharing their first dimension (a single
            array is taken as a 1-tuple).
        batch_size: examples per batch.
        shuffle: draw a new permutation every epoch (every ``iter()``).
        drop_last: skip the last batch when it is smaller than ``batch_size``.
        seed: seed of the shuffling; epoch ``e`` uses ``default_rng([seed, e])``.

    Raises:
        ValueError: the arrays' lengths differ (all shapes are named), or a bad batch size.

    Each ``for batch in loader`` is one epoch and yields tuples of tensors with the arrays'
    dtypes. ``loader.epoch`` counts the epochs begun; :meth:`set_epoch` sets it (to resume).

    Example:
        >>> import numpy as np
        >>> from fieldgrad import nn
        >>> loader = nn.DataLoader((np.arange(6),), batch_size=4, shuffle=True, seed=1)
        >>> first = [b[0].tolist() for b in loader]
        >>> sorted(sum(first, []))
        [0, 1, 2, 3, 4, 5]
    """

    def __init__(
        self,
        arrays,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
    ):
        self.arrays = _arrays(arrays, "DataLoader")
        try:
            batch_size = operator.index(batch_size)
        except TypeError:
            raise TypeError(
                f"DataLoader: batch_size must be an int, got {type(batch_size).__name__}"
            ) from None
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self.epoch = 0

    @property
    def num_examples(self) -> int:
        """The number of examples in the data set."""
        return len(self.arrays[0])

    def __len__(self) -> int:
        n, b = self.num_examples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (its shuffle order)."""
        self.epoch = int(epoch)

    def order(self, epoch: int) -> np.ndarray:
        """The example order of ``epoch``: a permutation when shuffling, else ``arange``."""
        n = self.num_examples
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def __iter__(self) -> Iterator[tuple]:
        idx = self.order(self.epoch)
        self.epoch += 1
        b = self.batch_size
        for k in range(len(self)):
            sel = idx[k * b : (k + 1) * b]
            if self.shuffle:
                yield tuple(F.tensor(a[sel]) for a in self.arrays)
            else:
                yield tuple(F.tensor(a[k * b : (k + 1) * b]) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return (
            f"DataLoader(arrays=[{shapes}], batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})"
        )


def _take(orig, arr: np.ndarray, idx: np.ndarray):
    """``arr[idx]`` as the kind ``orig`` was: a tensor for a tensor, else a numpy array."""
    part = arr[idx]
    return F.tensor(part) if isinstance(orig, Tensor) else part


def random_split(arrays, fractions: Sequence[float], seed: int = 0) -> list:
    """Split a data set into random disjoint parts of the given fractions.

    Args:
        arrays: a tuple of arrays (or tensors) sharing their first dimension.
        fractions: positive numbers summing to 1; part sizes are rounded down, and the last
            part takes the remainder.
        seed: seed of the permutation (``numpy.random.default_rng(seed)``).

    Returns:
        A list with one tuple of arrays per part (tensors stay tensors).

    Raises:
        ValueError: fractions not positive or not summing to 1, or mismatched array lengths.

    Example:
        >>> import numpy as np
        >>> from fieldgrad import nn
        >>> parts = nn.random_split((np.arange(10),), [0.5, 0.3, 0.2])
        >>> [len(p[0]) for p in parts]
        [5, 3, 2]
    """
    fn = "random_split"
    host = _arrays(arrays, fn)
    orig = (arrays,) if isinstance(arrays, (Tensor, np.ndarray)) else tuple(arrays)
    fr = [float(f) for f in fractions]
    if not fr or any(f <= 0 for f in fr) or abs(sum(fr) - 1.0) > 1e-6:
        raise ValueError(f"{fn}: fractions must be positive and sum to 1, got {list(fractions)}")
    n = len(host[0])
    perm = np.random.default_rng(seed).permutation(n)
    sizes = [int(math.floor(f * n + 1e-9)) for f in fr[:-1]]
    bounds = np.cumsum([0, *sizes, n - sum(sizes)])
    return [
        tuple(_take(o, a, perm[lo:hi]) for o, a in zip(orig, host))
        for lo, hi in zip(bounds[:-1], bounds[1:])
    ]


def train_test_split(arrays, test_fraction: float = 0.2, seed: int = 0) -> tuple:
    """Split a data set into a shuffled training part and a test part.

    The test part has ``round(test_fraction * N)`` examples (at least one, and at least one
    example is left for training).

    Args:
        arrays: a tuple of arrays (or tensors) sharing their first dimension.
        test_fraction: the test share, in ``(0, 1)``.
        seed: seed of the permutation.

    Returns:
        ``(train, test)``, each a tuple of arrays (tensors stay tensors).

    Example:
        >>> import numpy as np
        >>> from fieldgrad import nn
        >>> (x_tr, y_tr), (x_te, y_te) = nn.train_test_split((np.zeros((10, 3)), np.arange(10)))
        >>> x_tr.shape, x_te.shape, sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(10))
        ((8, 3), (2, 3), True)
    """
    fn = "train_test_split"
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"{fn}: test_fraction must be in (0, 1), got {test_fraction}")
    host = _arrays(arrays, fn)
    orig = (arrays,) if isinstance(arrays, (Tensor, np.ndarray)) else tuple(arrays)
    n = len(host[0])
    if n < 2:
        raise ValueError(f"{fn}: need at least 2 examples to split, got {n}")
    n_test = min(max(int(round(test_fraction * n)), 1), n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    test, train = perm[:n_test], perm[n_test:]
    return (
        tuple(_take(o, a, train) for o, a in zip(orig, host)),
        tuple(_take(o, a, test) for o, a in zip(orig, host)),
    )


def standardize(x, mean=None, std=None, *, axis=0, eps: float = 0.0) -> tuple:
    """Standardise features: ``(x - mean) / std`` with statistics over ``axis``.

    Fit on the training data, then reuse its statistics for the test data::

        x_train, mean, std = standardize(x_train)
        x_test, _, _ = standardize(x_test, mean, std)

    A feature with zero spread (a constant pixel) gets ``std = 1``, so it maps to 0 instead of
    NaN (as scikit-learn's ``StandardScaler``).

    Args:
        x: a numpy array or tensor.
        mean, std: statistics to use; both None computes them from ``x``.
        axis: the example axis (or axes) the statistics are taken over.
        eps: added to ``std`` when it is computed.

    Returns:
        ``(x_standardised, mean, std)`` (numpy arrays; a tensor ``x`` gives a tensor result).

    Example:
        >>> import numpy as np
        >>> from fieldgrad import nn
        >>> z, m, s = nn.standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
        >>> z.tolist(), m.tolist(), s.tolist()
        ([[-1.0, 0.0], [1.0, 0.0]], [2.0, 5.0], [1.0, 1.0])
    """
    is_tensor = isinstance(x, Tensor)
    arr = _host(x, "standardize", 0)
    if (mean is None) != (std is None):
        raise ValueError("standardize: give both mean and std, or neither")
    if mean is None:
        work = arr if np.dtype(arr.dtype).kind == "f" else arr.astype(np.float64)
        mean = work.mean(axis=axis, keepdims=True)
        std = work.std(axis=axis, keepdims=True) + eps
        std = np.where(std > 0, std, 1.0).astype(work.dtype)
        mean, std = np.squeeze(mean, axis=axis), np.squeeze(std, axis=axis)
    mean = mean.numpy() if isinstance(mean, Tensor) else np.asarray(mean)
    std = std.numpy() if isinstance(std, Tensor) else np.asarray(std)
    shape = list(arr.shape)
    for a in (axis,) if isinstance(axis, int) else axis:
        shape[a] = 1
    try:
        z = (arr - mean.reshape(shape)) / std.reshape(shape)
    except ValueError:
        raise ValueError(
            f"standardize: statistics of shape {mean.shape} do not fit data of shape {arr.shape} "
            f"(axis={axis})"
        ) from None
    z = z.astype(np.result_type(arr.dtype, np.float32) if arr.dtype.kind != "f" else arr.dtype)
    return (F.tensor(z) if is_tensor else z), mean, std
