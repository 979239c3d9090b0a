"""Rules of the linear-algebra primitives: matmul and diagonal.

``matmul`` receives operands of at least two dimensions (the public function promotes 1-D
operands to matrices and drops the added axis afterwards, with reshapes that have their own
rules); batch axes broadcast, so each cotangent is summed back to its operand's shape with
``unbroadcast``. ``diagonal``'s transpose writes the cotangent onto the diagonal of zeros with
``slice_update`` (the diagonal is a strided slice of the two axes flattened into one), so the
pair is closed under differentiation.
"""

from __future__ import annotations

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields import _ops_gather as G
from fieldgrad.fields import _ops_linalg as L
from fieldgrad.fields import _ops_matmul_t as _MT

from .._rules import register
from .._util import unbroadcast


def _mT(x):
    """``x`` with its last two axes swapped."""
    nd = x.ndim
    return F.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


register(
    L.matmul_p,
    jvp=lambda p, t: (F.matmul(p[0], p[1]), F.matmul(t[0], p[1]) + F.matmul(p[0], t[1])),
    vjp=lambda g, ans, a, b: (
        unbroadcast(F.matmul(g, _mT(b)), a.shape),
        unbroadcast(F.matmul(_mT(a), g), b.shape),
    ),
)


def _diagonal_vjp(g, ans, x, *, offset, axis1, axis2):
    """``g`` (shape ``rest + (length,)``) written onto the diagonal of zeros of ``x``'s shape."""
    n1, n2 = x.shape[axis1], x.shape[axis2]
    keep = [d for d in range(x.ndim) if d not in (axis1, axis2)]
    rest = tuple(x.shape[d] for d in keep)
    length = g.shape[-1]
    first = (offset if offset >= 0 else -offset * n2) if length else 0
    flat = F.zeros(rest + (n1 * n2,), dtype=x.dtype)
    flat = G.slice_update_p.bind(
        flat,
        g,
        start=(0,) * len(rest) + (first,),
        stride=(1,) * len(rest) + (n2 + 1,),
        shape=tuple(g.shape),
    )
    perm = tuple(keep) + (axis1, axis2)
    moved = F.reshape(flat, rest + (n1, n2))
    return (F.transpose(moved, tuple(np.argsort(perm).tolist())),)


register(
    L.diagonal_p,
    jvp=lambda p, t, **kw: (L.diagonal_p.bind(p[0], **kw), L.diagonal_p.bind(t[0], **kw)),
    vjp=_diagonal_vjp,
)


# --- matmul_t: the jit's transposed-operand matmul (bilinear) -----------------------------------


def _matmul_t_jvp(primals, tangents, *, transpose_a, transpose_b):
    a, b = primals
    ta, tb = tangents
    kw = {"transpose_a": transpose_a, "transpose_b": transpose_b}
    out = _MT.matmul_t(a, b, **kw)
    return out, F.add(_MT.matmul_t(ta, b, **kw), _MT.matmul_t(a, tb, **kw))


def _matmul_t_vjp(g, ans, a, b, *, transpose_a, transpose_b):
    a2 = _mT(a) if transpose_a else a
    b2 = _mT(b) if transpose_b else b
    ga = unbroadcast(F.matmul(g, _mT(b2)), a2.shape)
    gb = unbroadcast(F.matmul(_mT(a2), g), b2.shape)
    return (_mT(ga) if transpose_a else ga, _mT(gb) if transpose_b else gb)


register(_MT.matmul_t_p, jvp=_matmul_t_jvp, vjp=_matmul_t_vjp)
