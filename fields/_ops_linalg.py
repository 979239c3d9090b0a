"""Linear algebra: the matmul and diagonal primitives, and the products built on them
(matmul/``@``, dot, vdot, inner, outer, tensordot, trace, einsum).

``matmul`` follows numpy: 1-D operands are promoted to a matrix and the added axis is removed
from the result, batch axes broadcast. On the CPU it runs in the platform BLAS through numpy on
zero-copy views of the buffers; on a GPU arch it is a Taichi kernel over the flat buffers with
batch strides (broadcast batch axes have stride 0, so they are never materialised).

``einsum`` is a composite: repeated labels of one operand become a :func:`diagonal`, labels
of one operand only are summed, and each pair of operands is transposed and reshaped into one
(batched) matmul, or a multiply and a sum when no free label is left on either side.
"""

import math

from . import _buffer, _dtypes, _kernels_reduce_matmul, _layout, _runtime
from ._convert import as_operand, astype, promote
from ._core import Primitive, ShapedArray
from ._ops_reduce import _norm_axes, sum
from ._ops_shape import broadcast_to, reshape, transpose
from ._tensor import Tensor


def _F():
    from fieldgrad import fields

    return fields


__all__ = [
    "matmul",
    "dot",
    "vdot",
    "inner",
    "outer",
    "tensordot",
    "diagonal",
    "trace",
    "einsum",
]


# --- matmul primitive ---------------------------------------------------------------------------
#
# matmul(a, b)  c = a @ b for a (..., m, k), b (..., k, n) of one dtype, batch axes broadcast.
#               Bilinear: JVP ta @ b + a @ tb; VJP g @ b^T for a and a^T @ g for b, each summed
#               over the batch axes its operand was broadcast along.


def _matmul_shape(a_shape: tuple, b_shape: tuple) -> tuple:
    """Result shape of ``(..., m, k) @ (..., k, n)``; ValueError naming both shapes."""
    if a_shape[-1] != b_shape[-2]:
        raise ValueError(
            f"matmul: inner dimensions differ: a has shape {a_shape} (k={a_shape[-1]}) and b "
            f"has shape {b_shape} (k={b_shape[-2]})"
        )
    try:
        batch = _layout.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} cannot be "
            "broadcast together"
        ) from None
    return batch + (a_shape[-2], b_shape[-1])


def _matmul_abstract(a: ShapedArray, b: ShapedArray) -> ShapedArray:
    return ShapedArray(_matmul_shape(a.shape, b.shape), a.dtype)


def _matmul_impl(a: Tensor, b: Tensor) -> Tensor:
    if _runtime._state["arch"] != "cpu":
        return _kernels_reduce_matmul.matmul_taichi(a, b)
    shape = _matmul_shape(a.shape, b.shape)
    total = math.prod(shape)
    out = Tensor._new(_buffer.empty(total, a.dtype), shape, a.dtype)
    if total:
        av = a._buf[: a.size].reshape(a.shape)  # zero-copy views of the buffers
        bv = b._buf[: b.size].reshape(b.shape)
        _buffer.host_matmul(av, bv, out._buf[:total].reshape(shape))
    return out


matmul_p = Primitive("matmul", _matmul_impl, _matmul_abstract)


# --- diagonal primitive -------------------------------------------------------------------------
#
# diagonal(x, offset, axis1, axis2)  y[..., i] = x[..., i, i + offset] (axis1, axis2 removed, the
#               diagonal last), as numpy.diagonal.  Linear: JVP diagonal(t); VJP g written onto the
#               diagonal of zeros of x's shape (a scatter).


def _diag_len(n1: int, n2: int, offset: int) -> int:
    if offset >= 0:
        return max(0, min(n1, n2 - offset))
    return max(0, min(n1 + offset, n2))


def _diagonal_abstract(x: ShapedArray, *, offset: int, axis1: int, axis2: int) -> ShapedArray:
    rest = tuple(s for d, s in enumerate(x.shape) if d not in (axis1, axis2))
    length = _diag_len(x.shape[axis1], x.shape[axis2], offset)
    return ShapedArray(rest + (length,), x.dtype)


def _diagonal_impl(x: Tensor, *, offset: int, axis1: int, axis2: int) -> Tensor:
    st = _layout.contiguous_strides(x.shape)
    keep = [d for d in range(x.ndim) if d not in (axis1, axis2)]
    length = _diag_len(x.shape[axis1], x.shape[axis2], offset)
    shape = tuple(x.shape[d] for d in keep) + (length,)
    strides = tuple(st[d] for d in keep) + (st[axis1] + st[axis2],)
    start = offset * st[axis2] if offset >= 0 else -offset * st[axis1]
    if math.prod(shape) == 0:
        start = 0
    return _layout.gather(x, shape, strides, start)


diagonal_p = Primitive("diagonal", _diagonal_impl, _diagonal_abstract)


# --- public products ----------------------------------------------------------------------------


def _one_axis(axis, ndim: int, fname: str) -> int:
    axes = _norm_axes(axis, ndim, fname)
    if len(axes) != 1:
        raise ValueError(f"{fname}: axis {axis!r} does not name one axis of {ndim} dimensions")
    return axes[0]


def _promote_pair(a, b):
    """Operands promoted to one dtype, and the dtype to cast the result to (bool math runs in
    int32 and is cast back)."""
    a, b = promote(a, b)
    if a.dtype == _dtypes.bool_:
        return astype(a, _dtypes.int32), astype(b, _dtypes.int32), _dtypes.bool_
    return a, b, None


def matmul(a, b) -> Tensor:
    """Matrix product with numpy's rules (the ``@`` operator).

    A 1-D ``a`` is a row vector and a 1-D ``b`` a column vector, the added axis removed from
    the result; leading (batch) axes broadcast. Mixed dtypes promote; bool gives bool.

    Args:
        a: tensor of shape ``(..., m, k)`` or ``(k,)``.
        b: tensor of shape ``(..., k, n)`` or ``(k,)``.

    Returns:
        The product, of shape ``broadcast(a.batch, b.batch) + (m, n)`` less the promoted axes.

    Raises:
        ValueError: a 0-d operand, inner dimensions that differ or batch axes that do not
            broadcast (both shapes are named).

    Derivative: ``da = g @ b^T``, ``db = a^T @ g`` (summed over broadcast batch axes).

    Example:
        >>> import fieldgrad as fg
        >>> (fg.ones((2, 3)) @ fg.ones(3)).tolist()
        [3.0, 3.0]
    """
    a, b = as_operand(a), as_operand(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least one dimension, got shapes {a.shape} and "
            f"{b.shape}; use multiply for scalars"
        )
    a_shape, b_shape = a.shape, b.shape
    a, b, cast = _promote_pair(a, b)
    if a.ndim == 1:
        a = reshape(a, (1, a.shape[0]))
    if b.ndim == 1:
        b = reshape(b, (b.shape[0], 1))
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a_shape} and {b_shape} are not aligned: the last dimension of a "
            f"({a.shape[-1]}) must equal the {'only' if len(b_shape) == 1 else 'second-to-last'}"
            f" dimension of b ({b.shape[-2]})"
        )
    try:
        _layout.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} cannot be "
            "broadcast together"
        ) from None
    y = matmul_p.bind(a, b)
    if len(a_shape) == 1 or len(b_shape) == 1:
        shape = y.shape[:-2]
        shape += () if len(a_shape) == 1 else (y.shape[-2],)
        shape += () if len(b_shape) == 1 else (y.shape[-1],)
        y = reshape(y, shape)
    return y if cast is None else astype(y, cast)


def dot(a, b) -> Tensor:
    """Dot product as ``numpy.dot`` for 0-d, 1-D and 2-D operands.

    A 0-d operand multiplies; otherwise this is :func:`matmul`. For N-D operands (N > 2) it
    follows matmul's batch broadcasting, not numpy.dot's sum over the last axis of ``a`` and
    the second-to-last of ``b`` over all pairs of batches.

    Example:
        >>> import fieldgrad as fg
        >>> fg.dot(fg.tensor([1.0, 2.0]), fg.tensor([3.0, 4.0])).item()
        11.0
    """
    a, b = as_operand(a), as_operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return _F().multiply(a, b)
    return matmul(a, b)


def vdot(a, b) -> Tensor:
    """Dot product of the flattened operands (a 0-d tensor); sizes must match.

    Example:
        >>> import fieldgrad as fg
        >>> fg.vdot(fg.ones((2, 2)), fg.ones(4)).item()
        4.0
    """
    a, b = as_operand(a), as_operand(b)
    if a.size != b.size:
        raise ValueError(
            f"vdot: operands of shapes {a.shape} and {b.shape} have different sizes "
            f"({a.size} and {b.size})"
        )
    return matmul(reshape(a, (a.size,)), reshape(b, (b.size,)))


def inner(a, b) -> Tensor:
    """Inner product over the last axes, as ``numpy.inner``: shape ``a.shape[:-1] +
    b.shape[:-1]``; a 0-d operand multiplies.

    Example:
        >>> import fieldgrad as fg
        >>> fg.inner(fg.ones((2, 3)), fg.ones((4, 3))).shape
        (2, 4)
    """
    a, b = as_operand(a), as_operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return _F().multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"inner: the last dimensions of shapes {a.shape} and {b.shape} differ "
            f"({a.shape[-1]} and {b.shape[-1]})"
        )
    k = a.shape[-1]
    a2 = reshape(a, (-1, k)) if k else reshape(a, (math.prod(a.shape[:-1]), 0))
    b2 = reshape(b, (-1, k)) if k else reshape(b, (math.prod(b.shape[:-1]), 0))
    return reshape(matmul(a2, transpose(b2)), a.shape[:-1] + b.shape[:-1])


def outer(a, b) -> Tensor:
    """Outer product of the flattened operands: ``out[i, j] = a[i] * b[j]``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.outer(fg.ones(2), fg.ones(3)).shape
        (2, 3)
    """
    a, b = as_operand(a), as_operand(b)
    return _F().multiply(reshape(a, (a.size, 1)), reshape(b, (1, b.size)))


def tensordot(a, b, axes=2) -> Tensor:
    """Sum of products over the given axes, as ``numpy.tensordot``.

    Args:
        a, b: tensors.
        axes: an int ``N`` (the last ``N`` axes of ``a`` with the first ``N`` of ``b``) or a
            pair of axis sequences of equal length.

    Returns:
        The free axes of ``a`` followed by the free axes of ``b``.

    Raises:
        ValueError: contracted axes of different lengths (both shapes are named).

    Example:
        >>> import fieldgrad as fg
        >>> fg.tensordot(fg.ones((2, 3, 4)), fg.ones((3, 4, 5))).shape
        (2, 5)
    """
    a, b = as_operand(a), as_operand(b)
    if isinstance(axes, int):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={axes} is out of range for shapes {a.shape} and {b.shape}"
            )
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = (list(x) if isinstance(x, (list, tuple)) else [x] for x in axes)
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot: axes {axes} name different numbers of axes")
        ax_a = [_one_axis(d, a.ndim, "tensordot") for d in ax_a]
        ax_b = [_one_axis(d, b.ndim, "tensordot") for d in ax_b]
    for p, q in zip(ax_a, ax_b):
        if a.shape[p] != b.shape[q]:
            raise ValueError(
                f"tensordot: shapes {a.shape} and {b.shape} differ on the contracted axes "
                f"{p} of a ({a.shape[p]}) and {q} of b ({b.shape[q]})"
            )
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    ksize = math.prod(a.shape[d] for d in ax_a)
    fa = tuple(a.shape[d] for d in free_a)
    fb = tuple(b.shape[d] for d in free_b)
    a2 = reshape(transpose(a, free_a + ax_a), (math.prod(fa), ksize))
    b2 = reshape(transpose(b, ax_b + free_b), (ksize, math.prod(fb)))
    return reshape(matmul(a2, b2), fa + fb)


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of ``x`` over ``axis1`` and ``axis2``, as ``numpy.diagonal``: those axes are
    removed and the diagonal is the last axis of the result.

    Args:
        x: tensor of at least two dimensions.
        offset: diagonal above (> 0) or below (< 0) the main one.
        axis1, axis2: the two (distinct) axes.

    Raises:
        ValueError: fewer than two dimensions, or the same axis twice.

    Example:
        >>> import fieldgrad as fg
        >>> fg.diagonal(fg.tensor([[1, 2], [3, 4]])).tolist()
        [1, 4]
    """
    x = as_operand(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least two dimensions, got shape {x.shape}")
    a1 = _one_axis(axis1, x.ndim, "diagonal")
    a2 = _one_axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({axis1}, {axis2})")
    return diagonal_p.bind(x, offset=int(offset), axis1=a1, axis2=a2)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum of the diagonal (see :func:`diagonal`); integer and bool data give int32 (as sum).

    Example:
        >>> import fieldgrad as fg
        >>> fg.trace(fg.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
        5.0
    """
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


# --- einsum -------------------------------------------------------------------------------------

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _parse_term(term: str, ndim: int, k: int, subscripts: str) -> list:
    """Labels of one input term: a list of letters, with ``None`` where ``...`` stands."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise ValueError(f"einsum: bad ellipsis in term {term!r} of {subscripts!r}")
    labels = []
    for part_i, part in enumerate(term.split("...")):
        if part_i:
            labels.append(None)
        for ch in part:
            if ch not in _LETTERS:
                raise ValueError(
                    f"einsum: invalid subscript {ch!r} in {subscripts!r}; labels are letters "
                    "a-z, A-Z, with '...' for broadcast axes"
                )
            labels.append(ch)
    named = len(labels) - (None in labels)
    if named > ndim or (None not in labels and named != ndim):
        raise ValueError(
            f"einsum: term {term!r} of {subscripts!r} names {named} axes but operand {k} has "
            f"{ndim} dimensions"
        )
    return labels


def _parse(subscripts: str, ndims: list) -> tuple:
    """Input label lists (ellipsis axes get labels ``0``, ``1``, ...) and the output labels."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: more than one '->' in {subscripts!r}")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: {subscripts!r} has {len(terms)} input terms but {len(ndims)} operands "
            "were given"
        )
    parsed = [_parse_term(t, nd, k, subscripts) for k, (t, nd) in enumerate(zip(terms, ndims))]
    n_ell = 0
    for labels, nd in zip(parsed, ndims):
        if None in labels:
            n_ell = max(n_ell, nd - len(labels) + 1)
    ell = [str(i) for i in range(n_ell)]
    inputs = []
    for labels, nd in zip(parsed, ndims):
        if None in labels:
            e = nd - len(labels) + 1
            i = labels.index(None)
            labels = labels[:i] + ell[n_ell - e :] + labels[i + 1 :]
        inputs.append(labels)
    letters = [ch for labels in inputs for ch in labels if ch in _LETTERS]
    if not arrow:
        out = ell + sorted(ch for ch in set(letters) if letters.count(ch) == 1)
        return inputs, out
    if rhs.count("...") > 1 or "." in rhs.replace("...", ""):
        raise ValueError(f"einsum: bad ellipsis in the output of {subscripts!r}")
    if n_ell and "..." not in rhs:
        raise ValueError(
            f"einsum: the operands of {subscripts!r} have broadcast ('...') axes but the "
            "output has no '...'"
        )
    out = []
    for ch in rhs.replace("...", "."):
        if ch == ".":
            out += ell
        elif ch not in _LETTERS or ch not in letters:
            raise ValueError(
                f"einsum: output subscript {ch!r} of {subscripts!r} is not an input label"
            )
        elif ch in out:
            raise ValueError(f"einsum: output subscript {ch!r} repeated in {subscripts!r}")
        else:
            out.append(ch)
    return inputs, out


def _take_diagonals(x, labels: list, subscripts: str):
    """Collapse repeated labels of one operand to a diagonal (the label moves to the end)."""
    labels = list(labels)
    while len(set(labels)) != len(labels):
        ch = next(c for c in labels if labels.count(c) > 1)
        i = labels.index(ch)
        j = labels.index(ch, i + 1)
        if x.shape[i] != x.shape[j]:
            raise ValueError(
                f"einsum: label {ch!r} of {subscripts!r} is repeated on axes of sizes "
                f"{x.shape[i]} and {x.shape[j]} of an operand of shape {x.shape}"
            )
        x = diagonal_p.bind(x, offset=0, axis1=i, axis2=j)
        labels = [c for k, c in enumerate(labels) if k not in (i, j)] + [ch]
    return x, labels


def _sum_labels(x, labels: list, drop: set):
    axes = tuple(k for k, c in enumerate(labels) if c in drop)
    if not axes:
        return x, labels
    return sum(x, axes), [c for c in labels if c not in drop]


def _contract(a, la: list, b, lb: list, keep: set):
    """One pairwise contraction; the shared labels not in ``keep`` are summed."""
    sizes = {c: s for c, s in zip(la, a.shape)}
    for c, s in zip(lb, b.shape):
        sizes[c] = s if sizes.get(c, 1) == 1 else sizes[c]  # length one broadcasts
    a = broadcast_to(a, tuple(sizes[c] for c in la))
    b = broadcast_to(b, tuple(sizes[c] for c in lb))
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    if not left and not right:  # elementwise product, then a sum
        y = _F().multiply(
            transpose(a, [la.index(c) for c in batch + summed]),
            transpose(b, [lb.index(c) for c in batch + summed]),
        )
        return _sum_labels(y, batch + summed, set(summed))
    nb, nl, nk, nr = (math.prod(sizes[c] for c in g) for g in (batch, left, summed, right))
    a = reshape(transpose(a, [la.index(c) for c in batch + left + summed]), (nb, nl, nk))
    b = reshape(transpose(b, [lb.index(c) for c in batch + summed + right]), (nb, nk, nr))
    if not batch:
        a, b = reshape(a, (nl, nk)), reshape(b, (nk, nr))
    out_labels = batch + left + right
    return reshape(matmul(a, b), tuple(sizes[c] for c in out_labels)), out_labels


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation, as ``numpy.einsum``.

    Supports explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``: the labels seen once, in
    alphabetical order) outputs, any number of operands (contracted left to right), repeated
    labels within an operand (``"ii->i"`` diagonal, ``"ii->"`` trace), ``...`` for broadcast
    leading axes (``"...ij,...jk->...ik"``), and axes of length one broadcasting against a
    label's size. It is a composite of diagonal, sum, transpose, reshape, multiply and
    matmul, so it is differentiable to any order.

    Args:
        subscripts: the specification; labels are letters, spaces are ignored.
        *operands: tensors, one per input term. Mixed dtypes promote; bool gives bool.

    Returns:
        The result tensor.

    Raises:
        ValueError: a malformed specification, a term whose label count differs from its
            operand's dimensions, an output label absent from the inputs, or label sizes that
            disagree (the label and sizes are named).

    Example:
        >>> import fieldgrad as fg
        >>> fg.einsum("ij,jk->ik", fg.ones((2, 3)), fg.ones((3, 4))).shape
        (2, 4)
    """
    if not operands:
        raise ValueError("einsum: no operands given")
    ops = promote(*[as_operand(o) for o in operands])
    cast = None
    if ops[0].dtype == _dtypes.bool_:
        ops, cast = [astype(o, _dtypes.int32) for o in ops], _dtypes.bool_
    inputs, out = _parse(subscripts, [o.ndim for o in ops])
    sizes: dict = {}
    for x, labels in zip(ops, inputs):
        for c, s in zip(labels, x.shape):
            if sizes.get(c, 1) != 1 and s not in (1, sizes[c]):
                raise ValueError(
                    f"einsum: label {c!r} of {subscripts!r} has sizes {sizes[c]} and {s} "
                    f"(operand shapes {[o.shape for o in ops]})"
                )
            sizes[c] = s if sizes.get(c, 1) == 1 else sizes[c]
    terms = [_take_diagonals(x, labels, subscripts) for x, labels in zip(ops, inputs)]
    # Sum labels that occur in one operand only and not in the output.
    counts: dict = {}
    for _, labels in terms:
        for c in labels:
            counts[c] = counts.get(c, 0) + 1
    lonely = {c for c, n in counts.items() if n == 1 and c not in out}
    terms = [_sum_labels(x, labels, lonely) for x, labels in terms]
    x, lx = terms[0]
    for k in range(1, len(terms)):
        later = {c for _, labels in terms[k + 1 :] for c in labels}
        y, ly = terms[k]
        x, lx = _contract(x, lx, y, ly, set(out) | later)
    x = transpose(x, [lx.index(c) for c in out])
    return x if cast is None else astype(x, cast)
