"""Rules of the elementwise primitives (arithmetic, comparisons, math)."""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import _ops_compare as C
from fieldgrad.fields import _ops_elementwise as E
from fieldgrad.fields import _ops_math as M

from .._rules import register, register_nondiff
from .._util import unbroadcast

# Outputs with no derivative: comparisons, logic, rounding, sign, integer-valued results.
register_nondiff(
    C.eq_p,
    C.ne_p,
    C.lt_p,
    C.le_p,
    C.isnan_p,
    C.isfinite_p,
    E.sign_p,
    E.floor_p,
    E.ceil_p,
    E.round_p,
    E.floordiv_p,
)


register(
    E.add_p,
    jvp=lambda p, t: (F.add(*p), F.add(*t)),
    vjp=lambda g, ans, x, y: (unbroadcast(g, x.shape), unbroadcast(g, y.shape)),
)
register(
    E.sub_p,
    jvp=lambda p, t: (F.subtract(*p), F.subtract(*t)),
    vjp=lambda g, ans, x, y: (unbroadcast(g, x.shape), unbroadcast(-g, y.shape)),
)
register(
    E.mul_p,
    jvp=lambda p, t: (F.multiply(*p), t[0] * p[1] + p[0] * t[1]),
    vjp=lambda g, ans, x, y: (unbroadcast(g * y, x.shape), unbroadcast(g * x, y.shape)),
)
register(
    M.exp_p,
    jvp=lambda p, t: (lambda y: (y, y * t[0]))(F.exp(p[0])),
    vjp=lambda g, ans, x: (g * ans,),
)
register(
    M.sin_p,
    jvp=lambda p, t: (F.sin(p[0]), F.cos(p[0]) * t[0]),
    vjp=lambda g, ans, x: (g * F.cos(x),),
)
register(
    M.cos_p,
    jvp=lambda p, t: (F.cos(p[0]), -F.sin(p[0]) * t[0]),
    vjp=lambda g, ans, x: (-g * F.sin(x),),
)
