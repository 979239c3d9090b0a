"""Rules of the shape primitives: reshape, transpose, broadcast_to, concatenate.

All are linear: the JVP applies the primitive to the tangents; the VJP of ``concatenate``
slices the cotangent back into the pieces (``slice``, whose rules are in ``indexing.py``).
"""

from __future__ import annotations

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields import _ops_gather as G
from fieldgrad.fields import _ops_join as J
from fieldgrad.fields import _ops_shape as S

from .._rules import register
from .._util import unbroadcast

register(
    S.reshape_p,
    jvp=lambda p, t, *, new_shape: (F.reshape(p[0], new_shape), F.reshape(t[0], new_shape)),
    vjp=lambda g, ans, x, *, new_shape: (F.reshape(g, x.shape),),
)
register(
    S.transpose_p,
    jvp=lambda p, t, *, perm: (F.transpose(p[0], perm), F.transpose(t[0], perm)),
    vjp=lambda g, ans, x, *, perm: (F.transpose(g, tuple(np.argsort(perm).tolist())),),
)
register(
    S.broadcast_to_p,
    jvp=lambda p, t, *, shape: (F.broadcast_to(p[0], shape), F.broadcast_to(t[0], shape)),
    vjp=lambda g, ans, x, *, shape: (unbroadcast(g, x.shape),),
)


def _concatenate_vjp(g, ans, *xs, axis):
    """The cotangent sliced back into the inputs' pieces along ``axis``."""
    out, pos = [], 0
    for x in xs:
        n = x.shape[axis]
        start = tuple(pos if (k == axis and n) else 0 for k in range(g.ndim))
        out.append(G.slice_p.bind(g, start=start, stride=(1,) * g.ndim, shape=tuple(x.shape)))
        pos += n
    return tuple(out)


register(
    J.concatenate_p,
    jvp=lambda p, t, *, axis: (
        J.concatenate_p.bind(*p, axis=axis),
        J.concatenate_p.bind(*t, axis=axis),
    ),
    vjp=_concatenate_vjp,
)
