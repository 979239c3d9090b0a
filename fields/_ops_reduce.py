"""Reductions: the primitives reduce_sum, reduce_prod, reduce_max, reduce_min, argmax, argmin,
and the public functions built on them (sum, mean, var, std, logsumexp, norm, any, all, ...).

The primitives take a sorted tuple of non-negative ``axes`` and drop them from the shape;
``keepdims`` is a reshape done by the public functions, so it costs nothing and the primitives
stay few. Everything else is a composite of public ops (``mean`` is a sum times ``1/count``,
``var`` the mean of squared deviations, ``logsumexp`` a max-shifted log of a sum of exps), so
every derivative rule of the primitives serves them too.

Dtypes (numpy's, with fieldgrad's 32-bit integers): ``sum`` and ``prod`` of bool or int32 give
int32, of int64 int64; float32 data is summed in float64 and rounded once. ``mean``, ``var``,
``std``, ``logsumexp`` and ``norm`` of integer or bool data give the default float dtype.
``argmax``/``argmin`` give int32 indices.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from . import _dtypes, _kernels_reduce, _layout
from ._convert import as_operand, astype
from ._core import Primitive, ShapedArray
from ._ops_shape import reshape
from ._tensor import Tensor

__all__ = [
    "sum",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "mean",
    "var",
    "std",
    "logsumexp",
    "norm",
    "any",
    "all",
]


def _F():
    from fieldgrad import fields

    return fields


# --- axes ---------------------------------------------------------------------------------------


def _norm_axes(axis, ndim: int, fname: str) -> tuple:
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        items = list(axis)
    else:
        items = [axis]
    out = []
    for a in items:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(
                f"{fname}: axis must be None, an int or a tuple of ints, got {axis!r}"
            ) from None
        if ndim == 0 and a in (0, -1):
            continue  # numpy accepts axis 0 of a 0-d tensor: nothing is reduced
        if not -ndim <= a < ndim:
            raise ValueError(f"{fname}: axis {a} is out of range for a tensor of {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _reduced_shape(shape: tuple, axes: tuple, keepdims: bool) -> tuple:
    if keepdims:
        return tuple(1 if k in axes else s for k, s in enumerate(shape))
    return tuple(s for k, s in enumerate(shape) if k not in axes)


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _layout_of(x: Tensor, axes: tuple):
    """``(buf, outer, m, inner)`` reading ``x`` so that ``axes`` form the middle block."""
    shape = x.shape
    m = _count(shape, axes)
    n = x.size
    if n == 0:  # m == 0: every output is the identity; else there is no output
        return x._buf, math.prod(_reduced_shape(shape, axes, False)), m, 1
    # Merge runs of kept / reduced axes, ignoring axes of length one.
    groups = []  # [is_reduced, size]
    for k, s in enumerate(shape):
        if s == 1:
            continue
        red = k in axes
        if groups and groups[-1][0] == red:
            groups[-1][1] *= s
        else:
            groups.append([red, s])
    reduced = [g for g in groups if g[0]]
    if len(reduced) <= 1:
        outer = inner = 1
        seen = False
        for red, s in groups:
            if red:
                seen = True
            elif seen:
                inner *= s
            else:
                outer *= s
        return x._buf, outer, m, inner
    # Several separate blocks: move the reduced axes to the end with one strided gather.
    kept = [k for k in range(len(shape)) if k not in axes]
    perm = kept + list(axes)
    strides = _layout.contiguous_strides(shape)
    moved = _layout.gather(x, tuple(shape[p] for p in perm), tuple(strides[p] for p in perm))
    return moved._buf, n // m, m, 1


# --- primitives ---------------------------------------------------------------------------------
#
# reduce_sum(x, axes)   y = sum over axes of x.  Linear: JVP reduce_sum(t); VJP g broadcast back
#                       over the reduced axes.
# reduce_prod(x, axes)  y = product over axes.  JVP sum(t * prod of the other elements) (= sum(t *
#                       y / x) where x has no zero).
# reduce_max(x, axes),  y = max (min) over axes, NaN if any element is NaN.  JVP sum(t * mask) /
# reduce_min(x, axes)   sum(mask) with mask = (x == y broadcast): ties share the derivative.
# argmax(x, axis),      int32 index of the first extreme element along one axis; no derivative
# argmin(x, axis)       (its tangent is zero: the output is an integer).
#
# ``axes`` is a sorted tuple of non-negative ints; the reduced axes are dropped (keepdims is a
# reshape in the public functions).


def _sum_dtype(d: np.dtype) -> np.dtype:
    return _dtypes.int32 if d == _dtypes.bool_ else d


def _reduce_primitive(name: str, op: str, out_dtype) -> Primitive:
    def abstract_eval(x: ShapedArray, *, axes: tuple) -> ShapedArray:
        return ShapedArray(_reduced_shape(x.shape, axes, False), out_dtype(x.dtype))

    def impl(x: Tensor, *, axes: tuple) -> Tensor:
        shape = _reduced_shape(x.shape, axes, False)
        dt = out_dtype(x.dtype)
        if dt == x.dtype and _count(x.shape, axes) == 1:
            return Tensor._new(x._buf, shape, dt)  # only axes of length one: a reshape
        buf, outer, m, inner = _layout_of(x, axes)
        res = _kernels_reduce.reduce(buf, x.dtype, op, outer, m, inner, dt)
        return Tensor._new(res, shape, dt)

    return Primitive(name, impl, abstract_eval)


reduce_sum_p = _reduce_primitive("reduce_sum", "sum", _sum_dtype)
reduce_prod_p = _reduce_primitive("reduce_prod", "prod", _sum_dtype)
reduce_max_p = _reduce_primitive("reduce_max", "max", lambda d: d)
reduce_min_p = _reduce_primitive("reduce_min", "min", lambda d: d)


def _arg_primitive(name: str) -> Primitive:
    def abstract_eval(x: ShapedArray, *, axis: int) -> ShapedArray:
        return ShapedArray(_reduced_shape(x.shape, (axis,), False), _dtypes.int32)

    def impl(x: Tensor, *, axis: int) -> Tensor:
        shape = _reduced_shape(x.shape, (axis,), False)
        m = x.shape[axis]
        if m == 0:
            raise ValueError(f"{name}: attempt to take the {name} of an empty axis {axis}")
        outer = math.prod(x.shape[:axis])
        inner = math.prod(x.shape[axis + 1 :])
        res = _kernels_reduce.argreduce(x._buf, x.dtype, name, outer, m, inner)
        return Tensor._new(res, shape, _dtypes.int32)

    return Primitive(name, impl, abstract_eval)


argmax_p = _arg_primitive("argmax")
argmin_p = _arg_primitive("argmin")


# --- public functions ---------------------------------------------------------------------------


def _finish(y, x_shape: tuple, axes: tuple, keepdims: bool):
    return reshape(y, _reduced_shape(x_shape, axes, True)) if keepdims else y


def _reduce(prim: Primitive, x, axis, keepdims: bool, fname: str, dtype=None):
    x = as_operand(x)
    if dtype is not None:
        x = astype(x, dtype)
    axes = _norm_axes(axis, x.ndim, fname)
    if not axes:
        out_dt = prim.abstract_eval(x.aval, axes=()).dtype
        return astype(x, out_dt)
    y = prim.bind(x, axes=axes)
    return _finish(y, x.shape, axes, keepdims)


def sum(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Sum of the elements over ``axis``.

    Args:
        x: tensor or array-like.
        axis: None (all axes), an int or a tuple of ints; negative axes count from the end.
        keepdims: keep the reduced axes with length one.
        dtype: convert ``x`` to this dtype first (e.g. to sum int32 data in int64).

    Returns:
        The sums. bool and int32 data give int32 (wrapping on overflow), int64 gives int64,
        floats keep their dtype (float32 is accumulated in float64). The sum over an empty
        axis is 0.

    Raises:
        ValueError: an axis is out of range or repeated.

    Example:
        >>> import fieldgrad as fg
        >>> fg.sum(fg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
        [4.0, 6.0]
    """
    return _reduce(reduce_sum_p, x, axis, keepdims, "sum", dtype)


def prod(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Product of the elements over ``axis`` (1 over an empty axis); dtypes as :func:`sum`.

    Example:
        >>> import fieldgrad as fg
        >>> fg.prod(fg.tensor([1.0, 2.0, 3.0])).item()
        6.0
    """
    return _reduce(reduce_prod_p, x, axis, keepdims, "prod", dtype)


def _check_nonempty(x, axis, fname: str) -> None:
    axes = _norm_axes(axis, x.ndim, fname)
    if _count(x.shape, axes) == 0:
        raise ValueError(
            f"{fname}: zero-size reduction over axis {axis!r} of a tensor of shape {x.shape}; "
            f"{fname} of no elements has no identity"
        )


def max(x, axis=None, keepdims: bool = False) -> Tensor:
    """Largest element over ``axis``; NaN if any element reduced is NaN (as numpy).

    Args:
        x: tensor or array-like.
        axis: None, an int or a tuple of ints.
        keepdims: keep the reduced axes with length one.

    Returns:
        A tensor of the dtype of ``x``.

    Raises:
        ValueError: the reduction is over no elements.

    Example:
        >>> import fieldgrad as fg
        >>> fg.max(fg.tensor([[1, 5], [7, 2]]), axis=1).tolist()
        [5, 7]
    """
    x = as_operand(x)
    _check_nonempty(x, axis, "max")
    return _reduce(reduce_max_p, x, axis, keepdims, "max")


def min(x, axis=None, keepdims: bool = False) -> Tensor:
    """Smallest element over ``axis``; NaN propagates. See :func:`max`.

    Example:
        >>> import fieldgrad as fg
        >>> fg.min(fg.tensor([3.0, -1.0, 2.0])).item()
        -1.0
    """
    x = as_operand(x)
    _check_nonempty(x, axis, "min")
    return _reduce(reduce_min_p, x, axis, keepdims, "min")


amax = max
amin = min


def _arg(prim: Primitive, x, axis, keepdims: bool, fname: str):
    x = as_operand(x)
    if axis is None:
        if x.size == 0:
            raise ValueError(f"{fname}: attempt to get the {fname} of an empty tensor")
        y = prim.bind(reshape(x, (x.size,)), axis=0)
        return reshape(y, (1,) * x.ndim) if keepdims else y
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{fname}: axis must be None or a single int, got {axis!r}")
    if x.ndim == 0:
        _norm_axes(axis, 0, fname)
        return reshape(prim.bind(reshape(x, (1,)), axis=0), ())
    (ax,) = _norm_axes(axis, x.ndim, fname)
    if x.shape[ax] == 0:
        raise ValueError(
            f"{fname}: attempt to get the {fname} of an empty axis {axis} of a tensor of "
            f"shape {x.shape}"
        )
    return _finish(prim.bind(x, axis=ax), x.shape, (ax,), keepdims)


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the largest element along ``axis`` (of the flattened tensor when None).

    Ties give the first occurrence; a NaN counts as the largest (the first NaN is returned),
    as in numpy. Not differentiable.

    Args:
        x: tensor or array-like.
        axis: None or a single int.
        keepdims: keep the reduced axis (all axes when ``axis`` is None) with length one.

    Returns:
        An int32 tensor of indices (numpy returns int64).

    Raises:
        ValueError: the axis is empty. TypeError: ``axis`` is a tuple.

    Example:
        >>> import fieldgrad as fg
        >>> fg.argmax(fg.tensor([1.0, 3.0, 3.0])).item()
        1
    """
    return _arg(argmax_p, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the smallest element along ``axis``; see :func:`argmax` (int32, first tie).

    Example:
        >>> import fieldgrad as fg
        >>> fg.argmin(fg.tensor([[2, 1], [0, 5]]), axis=1).tolist()
        [1, 0]
    """
    return _arg(argmin_p, x, axis, keepdims, "argmin")


def _as_float(x, fname: str):
    x = as_operand(x)
    return astype(x, _dtypes.float_result(x.dtype))


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (NaN over an empty axis, as numpy).

    Returns:
        A float tensor (integer and bool data give the default float dtype).

    Example:
        >>> import fieldgrad as fg
        >>> fg.mean(fg.tensor([[1, 2], [3, 4]]), axis=0).tolist()
        [2.0, 3.0]
    """
    x = _as_float(x, "mean")
    axes = _norm_axes(axis, x.ndim, "mean")
    n = _count(x.shape, axes)
    return _F().multiply(sum(x, axes, keepdims), 1.0 / n if n else math.nan)


def var(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: ``sum((x - mean(x))**2) / (N - ddof)``.

    Args:
        x: tensor or array-like.
        axis: None, an int or a tuple of ints.
        keepdims: keep the reduced axes with length one.
        ddof: delta degrees of freedom (1 for the unbiased sample variance). ``N - ddof <= 0``
            gives inf or NaN, as numpy.

    Returns:
        A float tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.var(fg.tensor([1.0, 2.0, 3.0, 4.0])).item()
        1.25
    """
    x = _as_float(x, "var")
    axes = _norm_axes(axis, x.ndim, "var")
    n = _count(x.shape, axes) - ddof
    F = _F()
    d = F.subtract(x, mean(x, axes, keepdims=True))
    ss = sum(F.multiply(d, d), axes, keepdims)
    return F.multiply(ss, 1.0 / n if n > 0 else math.inf)


def std(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, ddof=ddof))``.

    Example:
        >>> import fieldgrad as fg
        >>> round(fg.std(fg.tensor([1.0, 3.0])).item(), 6)
        1.0
    """
    return _F().sqrt(var(x, axis, keepdims, ddof))


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably as ``m + log(sum(exp(x - m)))``
    with ``m = max(x)`` (taken as 0 where it is not finite, as scipy does).

    Returns:
        A float tensor; ``-inf`` over an empty axis, NaN where a NaN is reduced.

    Example:
        >>> import fieldgrad as fg
        >>> round(fg.logsumexp(fg.tensor([1000.0, 1000.0])).item(), 3)
        1000.693
    """
    F = _F()
    x = _as_float(x, "logsumexp")
    axes = _norm_axes(axis, x.ndim, "logsumexp")
    if not axes:
        return x
    m = reshape(reduce_max_p.bind(x, axes=axes), _reduced_shape(x.shape, axes, True))
    m = F.where(F.isfinite(m), m, 0.0)
    s = sum(F.exp(F.subtract(x, m)), axes, keepdims=True)
    out = F.add(F.log(s), m)
    return out if keepdims else reshape(out, _reduced_shape(x.shape, axes, False))


def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:
    """Vector norm of the elements over ``axis`` (Frobenius norm over two axes).

    Over one axis (or a 1-D tensor with ``axis=None``) ``ord`` may be any number: 2 (the
    default) ``sqrt(sum(x**2))``, 1 ``sum(|x|)``, ``inf`` ``max(|x|)``, ``-inf`` ``min(|x|)``,
    0 the count of nonzeros, else ``sum(|x|**p)**(1/p)``. Over two or more axes only the
    Frobenius norm (``ord=None`` or ``"fro"``) is provided: numpy's other matrix norms
    (``ord=1, 2, inf, "nuc"`` of a matrix) are not; reshape to a vector for an entrywise p-norm.

    Args:
        x: tensor or array-like.
        ord: the order, see above.
        axis: None (all axes), an int or a tuple of ints.
        keepdims: keep the reduced axes with length one.

    Returns:
        A float tensor.

    Raises:
        ValueError: an unsupported ``ord`` for the number of axes.

    Example:
        >>> import fieldgrad as fg
        >>> fg.norm(fg.tensor([3.0, 4.0])).item()
        5.0
    """
    F = _F()
    x = _as_float(x, "norm")
    axes = _norm_axes(axis, x.ndim, "norm")
    if ord in (None, "fro", "f") or (ord == 2 and len(axes) <= 1):
        if ord in ("fro", "f") and len(axes) != 2:
            raise ValueError(f"norm: ord={ord!r} needs two axes, got axis={axis!r}")
        return F.sqrt(sum(F.multiply(x, x), axes, keepdims))
    if isinstance(ord, str) or len(axes) > 1:
        raise ValueError(
            f"norm: ord={ord!r} over axes {axes} of a tensor of shape {x.shape} is not "
            "supported; over one axis any numeric ord works, over two or more axes only "
            "ord=None or 'fro' (Frobenius)"
        )
    p = float(ord)
    if p in (math.inf, -math.inf):
        if _count(x.shape, axes) == 0:
            raise ValueError(f"norm: ord={ord} over an empty axis of a tensor of shape {x.shape}")
        return (max if p > 0 else min)(F.abs(x), axes, keepdims)
    if p == 0:
        return astype(sum(F.not_equal(x, 0), axes, keepdims), x.dtype)
    if p == 1:
        return sum(F.abs(x), axes, keepdims)
    return F.power(sum(F.power(F.abs(x), p), axes, keepdims), 1.0 / p)


def any(x, axis=None, keepdims: bool = False) -> Tensor:
    """Whether any element over ``axis`` is nonzero (True for NaN; False over no elements).

    Returns:
        A bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.any(fg.tensor([[0, 1], [0, 0]]), axis=1).tolist()
        [True, False]
    """
    return _reduce(reduce_max_p, _nonzero(x), axis, keepdims, "any")


def all(x, axis=None, keepdims: bool = False) -> Tensor:
    """Whether every element over ``axis`` is nonzero (True over no elements).

    Returns:
        A bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.all(fg.tensor([[1, 1], [0, 1]]), axis=0).tolist()
        [False, True]
    """
    return _reduce(reduce_min_p, _nonzero(x), axis, keepdims, "all")


def _nonzero(x):
    """``x != 0`` as bool (NaN counts as nonzero)."""
    x = as_operand(x)
    return x if x.dtype == _dtypes.bool_ else _F().not_equal(x, 0)
