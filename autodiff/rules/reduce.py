"""Rules of the reduction primitives."""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import _ops_reduce as R

from .._rules import register


def _keep(shape, axes):
    return tuple(1 if k in axes else s for k, s in enumerate(shape))


register(
    R.reduce_sum_p,
    jvp=lambda p, t, *, axes: (F.sum(p[0], axis=axes), F.sum(t[0], axis=axes)),
    vjp=lambda g, ans, x, *, axes: (F.broadcast_to(F.reshape(g, _keep(x.shape, axes)), x.shape),),
)
