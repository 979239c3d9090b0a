"""Rules of the elementwise primitives: arithmetic, extrema, selection, conversion, math.

Every derivative is written with public fieldgrad ops, so it is differentiable again (every
order works in every mode). Variables: ``x, y`` primal inputs, ``ans`` primal output, ``t``
tangent, ``g`` cotangent. Most entries give the partial derivatives ``d(x, ans)`` (unary) or
``(d/dx, d/dy)(x, y, ans)`` (binary) and let :func:`_unary` / :func:`_binary` build the JVP
(``t * d``) and the VJP (``g * d``, reduced to each input's shape by ``unbroadcast``).

Conventions at kinks and singular points (JAX's):

* ``abs'(0) = 0`` (the derivative is ``sign(x)``).
* ``max``/``min``: the derivative goes to the operand equal to the result; at a tie
  (``x == y``) it is split 1/2 : 1/2; where the result is NaN both operands get 0.
* ``x ** y``: ``d/dx = 0`` where ``y == 0`` (also at ``x == 0``), ``d/dy = 0`` where
  ``x == 0`` (``log(x)`` is replaced by ``log(1)``).
* ``select`` (``where``): the derivative flows only into the chosen branch; the condition
  gets none.
* ``convert_element_type``: float to float converts the tangent/cotangent; a conversion to or
  from an integer or bool dtype has no derivative.
* Comparisons, ``isnan``/``isfinite``, ``sign``, ``floor``, ``ceil``, ``round`` and
  ``floordiv`` are piecewise constant: registered as non-differentiable (derivative 0).
"""

from __future__ import annotations

import math

from fieldgrad import fields as F
from fieldgrad.fields import _convert as V
from fieldgrad.fields import _ops_compare as C
from fieldgrad.fields import _ops_elementwise as E
from fieldgrad.fields import _ops_math as M
from fieldgrad.fields._dtypes import FLOATS

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


def _unary(fn, d):
    """JVP and VJP of ``ans = fn(x)`` whose derivative is ``d(x, ans)``."""

    def jvp(p, t):
        ans = fn(p[0])
        return ans, t[0] * d(p[0], ans)

    return {"jvp": jvp, "vjp": lambda g, ans, x: (g * d(x, ans),)}


def _binary(fn, d):
    """JVP and VJP of ``ans = fn(x, y)`` (broadcasting) whose partials are ``d(x, y, ans)``."""

    def jvp(p, t):
        ans = fn(*p)
        dx, dy = d(*p, ans)
        return ans, t[0] * dx + t[1] * dy

    def vjp(g, ans, x, y):
        dx, dy = d(x, y, ans)
        return unbroadcast(g * dx, x.shape), unbroadcast(g * dy, y.shape)

    return {"jvp": jvp, "vjp": vjp}


def _extremum_partials(x, y, ans):
    """Partials of ``max``/``min``: 1 for the operand equal to the result, 1/2 each at a tie,
    0 for both where the result is NaN."""
    ex = F.astype(F.equal(x, ans), ans.dtype)
    ey = F.astype(F.equal(y, ans), ans.dtype)
    return ex * (1 - 0.5 * ey), ey * (1 - 0.5 * ex)


def _pow_partials(x, y, ans):
    """Partials of ``x ** y``: ``y x**(y-1)`` (0 where ``y == 0``) and ``log(x) x**y`` (0 where
    ``x == 0``)."""
    y_zero = F.equal(y, 0)
    dx = F.where(y_zero, 0, F.where(y_zero, 1, y) * F.power(x, y - 1))
    dy = F.log(F.where(F.equal(x, 0), 1, x)) * ans
    return dx, dy


def _integer_pow_d(x, n: int):
    """``n x**(n-1)``, with ``integer_pow`` again (exact polynomial at every ``x``)."""
    return F.zeros(x.shape, dtype=x.dtype) if n == 0 else n * F.power(x, n - 1)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# --- arithmetic -----------------------------------------------------------------------------

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
register(E.div_p, **_binary(F.divide, lambda x, y, ans: (1 / y, -ans / y)))
register(
    E.mod_p,  # x - floor(x / y) * y: partials 1 and -floor_divide(x, y)
    jvp=lambda p, t: (F.mod(*p), t[0] - F.floor_divide(*p) * t[1]),
    vjp=lambda g, ans, x, y: (
        unbroadcast(g, x.shape),
        unbroadcast(-g * F.floor_divide(x, y), y.shape),
    ),
)
register(E.pow_p, **_binary(F.power, _pow_partials))
register(
    E.integer_pow_p,
    jvp=lambda p, t, *, y: (F.power(p[0], y), t[0] * _integer_pow_d(p[0], y)),
    vjp=lambda g, ans, x, *, y: (g * _integer_pow_d(x, y),),
)
register(
    E.neg_p,
    jvp=lambda p, t: (F.negative(p[0]), F.negative(t[0])),
    vjp=lambda g, ans, x: (F.negative(g),),
)
register(E.abs_p, **_unary(F.abs, lambda x, ans: F.sign(x)))

# --- extrema, selection, conversion ---------------------------------------------------------

register(C.max_p, **_binary(F.maximum, _extremum_partials))
register(C.min_p, **_binary(F.minimum, _extremum_partials))
register(
    C.select_p,  # (cond, a, b): the condition is bool and gets no derivative
    jvp=lambda p, t: (F.where(*p), F.where(p[0], t[1], t[2])),
    vjp=lambda g, ans, c, a, b: (
        None,
        unbroadcast(F.where(c, g, 0), a.shape),
        unbroadcast(F.where(c, 0, g), b.shape),
    ),
)


def _float_to_float(x_dtype, new_dtype) -> bool:
    return x_dtype in FLOATS and new_dtype in FLOATS


register(
    V.convert_element_type_p,
    jvp=lambda p, t, *, new_dtype: (
        V.convert_element_type_p.bind(p[0], new_dtype=new_dtype),
        F.astype(t[0], new_dtype) if _float_to_float(p[0].dtype, new_dtype) else None,
    ),
    vjp=lambda g, ans, x, *, new_dtype: (
        F.astype(g, x.dtype) if _float_to_float(x.dtype, new_dtype) else None,
    ),
)

# --- exponentials, logarithms, roots --------------------------------------------------------

register(M.exp_p, **_unary(F.exp, lambda x, ans: ans))
register(M.expm1_p, **_unary(F.expm1, lambda x, ans: ans + 1))
register(M.log_p, **_unary(F.log, lambda x, ans: 1 / x))
register(M.log1p_p, **_unary(F.log1p, lambda x, ans: 1 / (1 + x)))
register(M.sqrt_p, **_unary(F.sqrt, lambda x, ans: 0.5 / ans))

# --- trigonometric and hyperbolic -----------------------------------------------------------

register(M.sin_p, **_unary(F.sin, lambda x, ans: F.cos(x)))
register(M.cos_p, **_unary(F.cos, lambda x, ans: -F.sin(x)))
register(M.tan_p, **_unary(F.tan, lambda x, ans: 1 + ans * ans))
register(M.asin_p, **_unary(F.arcsin, lambda x, ans: 1 / F.sqrt((1 - x) * (1 + x))))
register(M.acos_p, **_unary(F.arccos, lambda x, ans: -1 / F.sqrt((1 - x) * (1 + x))))
register(
    M.atan2_p,  # atan2(y, x): partials x / r2 and -y / r2 with r2 = x**2 + y**2
    **_binary(F.arctan2, lambda y, x, ans: (x / (x * x + y * y), -y / (x * x + y * y))),
)
register(M.sinh_p, **_unary(F.sinh, lambda x, ans: F.cosh(x)))
register(M.cosh_p, **_unary(F.cosh, lambda x, ans: F.sinh(x)))
register(M.tanh_p, **_unary(F.tanh, lambda x, ans: (1 - ans) * (1 + ans)))

# --- activations and the error function -----------------------------------------------------

register(M.logistic_p, **_unary(F.sigmoid, lambda x, ans: ans * (1 - ans)))
register(M.softplus_p, **_unary(F.softplus, lambda x, ans: F.sigmoid(x)))
register(M.erf_p, **_unary(F.erf, lambda x, ans: _TWO_OVER_SQRT_PI * F.exp(-(x * x))))
register(M.erfc_p, **_unary(F.erfc, lambda x, ans: -_TWO_OVER_SQRT_PI * F.exp(-(x * x))))
