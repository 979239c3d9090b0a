"""Rules of the shape primitives: reshape, transpose, broadcast_to."""

from __future__ import annotations

import numpy as np

from fieldgrad import fields as F
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
