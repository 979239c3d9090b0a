"""Taylor-mode (jet) rules of the smooth elementwise functions: ODE recurrences.

Notation (see ``rules/jet.py`` for the rule signature and symbolic zeros): ``x = [x0, ..., xK]``
is the full input series, ``xt_j = j x_j`` the coefficients of ``t x'(t)``. A function with
``y' = u(t) x'`` has ``y_k = (1/k) sum_{j=1..k} xt_j u_{k-j}`` (:func:`ode_step`); the series
``u`` comes from the ODE the function satisfies:

==============  ====================================  ======================================
function        ODE                                   ``u``
==============  ====================================  ======================================
exp / expm1     ``y' = e^x x'``                       ``y`` (``y0 + 1`` at order 0 for expm1)
tanh            ``y' = (1 - y^2) x'``                 ``1 - y*y`` (Cauchy square of ``y``)
logistic        ``y' = y (1 - y) x'``                 ``y - y*y``
tan             ``y' = (1 + y^2) x'``                 ``1 + y*y``
sin / cos       ``s' = c x'``, ``c' = -s x'``         paired series
sinh / cosh     ``s' = c x'``, ``c' = s x'``          paired series
erf / erfc      ``y' = +-2/sqrt(pi) e^{-x^2} x'``     the exp series of ``-x*x``
softplus        ``y' = logistic(x) x'``               the logistic series
==============  ====================================  ======================================

Functions defined by an implicit relation solve it for the new coefficient: ``log`` and
``log1p`` from ``x y' = x'``, ``sqrt`` from ``y*y = x``, ``div`` from ``z y = x``, ``asin`` /
``acos`` from ``r y' = +-x'`` with ``r = sqrt(1 - x^2)``, ``atan2(y, x)`` from
``r theta' = x y' - y x'`` with ``r = x^2 + y^2``, ``pow`` with a constant exponent ``a`` from
``x y' = a y x'`` and otherwise as ``exp(y log x)``, ``integer_pow`` by repeated Cauchy
products (exact at every ``x``). Each costs O(K^2) elementwise products for K coefficients.
Where the primal sits on a singularity of the recurrence (``log`` at 0, ``pow`` at ``x0 = 0``,
``asin`` at +-1) the coefficients are inf/NaN, as the derivatives are.
"""

from __future__ import annotations

import math

from fieldgrad import fields as F
from fieldgrad.fields import _ops_elementwise as E
from fieldgrad.fields import _ops_math as M

from .jet import add, cauchy, cauchy_sq, full, mul, order_of, register_jet, scale, sub, total

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def tilde(x):
    """``[None, 1 x1, 2 x2, ..., K xK]``: the coefficients of ``t x'(t)``."""
    return [None] + [scale(c, float(j)) for j, c in enumerate(x[1:], start=1)]


def ode_step(xt, u, k: int, c: float = 1.0):
    """``y_k = (c/k) sum_{j=1..k} xt_j u_{k-j}`` for ``y' = c u x'``."""
    return scale(total(mul(xt[j], u[k - j]) for j in range(1, k + 1)), c / k)


def ode_series(y0, u0, u_next, x, K: int):
    """The full series of ``y`` with ``y' = u x'`` to order K from the full input series ``x``;
    ``u0(y0)`` and ``u_next(y, m)`` (m >= 1) give the series of ``u`` from ``y``'s so far."""
    xt = tilde(x)
    y = [y0]
    u = [u0(y0)]
    for k in range(1, K + 1):
        if k > 1:
            u.append(u_next(y, k - 1))
        y.append(ode_step(xt, u, k))
    return y


def _unary_ode(fn, u0, u_next):
    """Rule of ``y = fn(x)`` with ``y' = u x'`` (see :func:`ode_series`)."""

    def rule(primals, series):
        K = order_of(series)
        y = ode_series(fn(primals[0]), u0, u_next, full(primals[0], series[0], K), K)
        return y[0], y[1:]

    return rule


def _logistic_u0(y0):
    return y0 * (1.0 - y0)


def _logistic_u(y, m):
    return add(y[m], cauchy_sq(y, m, -1.0))


register_jet(M.exp_p, _unary_ode(F.exp, lambda y0: y0, lambda y, m: y[m]))
register_jet(M.expm1_p, _unary_ode(F.expm1, lambda y0: y0 + 1.0, lambda y, m: y[m]))
register_jet(
    M.tanh_p,
    _unary_ode(F.tanh, lambda y0: (1.0 - y0) * (1.0 + y0), lambda y, m: cauchy_sq(y, m, -1.0)),
)
register_jet(M.logistic_p, _unary_ode(F.sigmoid, _logistic_u0, _logistic_u))
register_jet(M.tan_p, _unary_ode(F.tan, lambda y0: 1.0 + y0 * y0, cauchy_sq))


def _paired(fs, fc, sign: float, want_first: bool):
    """sin/cos (``sign = -1``) and sinh/cosh (``sign = 1``): ``s' = c x'``, ``c' = sign s x'``.
    Only the partner's coefficients below K are needed."""

    def rule(primals, series):
        K = order_of(series)
        x = full(primals[0], series[0], K)
        xt = tilde(x)
        s, c = [fs(x[0])], [fc(x[0])]
        for k in range(1, K + 1):
            if want_first or k < K:
                s.append(ode_step(xt, c, k))
            if not want_first or k < K:
                c.append(ode_step(xt, s, k, sign))
        y = s if want_first else c
        return y[0], y[1:]

    return rule


register_jet(M.sin_p, _paired(F.sin, F.cos, -1.0, True))
register_jet(M.cos_p, _paired(F.sin, F.cos, -1.0, False))
register_jet(M.sinh_p, _paired(F.sinh, F.cosh, 1.0, True))
register_jet(M.cosh_p, _paired(F.sinh, F.cosh, 1.0, False))


def _exp_series(q, K: int):
    """``e = exp(q)`` to order K from the full series ``q``."""
    qt = tilde(q)
    e = [F.exp(q[0])]
    for k in range(1, K + 1):
        e.append(ode_step(qt, e, k))
    return e


def _erf(fn, c: float):
    def rule(primals, series):
        K = order_of(series)
        x = full(primals[0], series[0], K)
        # e = exp(-x^2) to order K - 1; y' = c e x'.
        q = [-(x[0] * x[0])] + [cauchy_sq(x, m, -1.0) for m in range(1, K)]
        e = _exp_series(q, K - 1)
        xt = tilde(x)
        return fn(x[0]), [ode_step(xt, e, k, c) for k in range(1, K + 1)]

    return rule


register_jet(M.erf_p, _erf(F.erf, _TWO_OVER_SQRT_PI))
register_jet(M.erfc_p, _erf(F.erfc, -_TWO_OVER_SQRT_PI))


def _softplus(primals, series):
    # y' = logistic(x) x': the logistic series to order K - 1 first.
    K = order_of(series)
    x = full(primals[0], series[0], K)
    sg = ode_series(F.sigmoid(x[0]), _logistic_u0, _logistic_u, x[:K], K - 1)
    xt = tilde(x)
    return F.softplus(x[0]), [ode_step(xt, sg, k) for k in range(1, K + 1)]


register_jet(M.softplus_p, _softplus)


# --- implicit relations ---------------------------------------------------------------------------


def _solve_linear_ode(r, rhs, K: int):
    """``[y_1, ..., y_K]`` with ``r y' = rhs'`` (``r``, ``rhs`` full series): ``y_k = (rhs_k -
    (1/k) sum_{j=1..k-1} j y_j r_{k-j}) / r0``."""
    y, yt = [None], [None]
    for k in range(1, K + 1):
        acc = scale(total(mul(yt[j], r[k - j]) for j in range(1, k)), 1.0 / k)
        num = sub(rhs[k], acc)
        y.append(None if num is None else num / r[0])
        yt.append(scale(y[k], float(k)) if k < K else None)
    return y[1:]


def _log(primals, series):
    K = order_of(series)
    x = full(primals[0], series[0], K)
    return F.log(x[0]), _solve_linear_ode(x, x, K)


def _log1p(primals, series):
    K = order_of(series)
    x = full(primals[0], series[0], K)
    r = [1.0 + x[0], *x[1:]]
    return F.log1p(x[0]), _solve_linear_ode(r, x, K)


register_jet(M.log_p, _log)
register_jet(M.log1p_p, _log1p)


def _div(primals, series):
    # z y = x  ->  z_k = (x_k - sum_{j=1..k} y_j z_{k-j}) / y_0
    K = order_of(series)
    x, y = full(primals[0], series[0], K), full(primals[1], series[1], K)
    z = [F.divide(x[0], y[0])]
    for k in range(1, K + 1):
        num = sub(x[k], total(mul(y[j], z[k - j]) for j in range(1, k + 1)))
        z.append(None if num is None else num / y[0])
    return z[0], z[1:]


register_jet(E.div_p, _div)


def _sqrt_series(q, K: int, r0):
    """``r = sqrt(q)`` to order K, ``r0`` its primal: ``r_k = (q_k - sum_{0<j<k} r_j r_{k-j})
    / (2 r0)``."""
    r = [r0]
    two_r0 = None
    for k in range(1, K + 1):
        num = sub(q[k], _cauchy_inner(r, k))
        if num is not None and two_r0 is None:
            two_r0 = 2.0 * r0
        r.append(None if num is None else num / two_r0)
    return r


def _cauchy_inner(r, k: int):
    """``sum_{j=1..k-1} r_j r_{k-j}`` (symmetric, from the coefficients below k)."""
    twice = scale(total(mul(r[j], r[k - j]) for j in range(1, (k + 1) // 2)), 2.0)
    return add(twice, mul(r[k // 2], r[k // 2]) if k % 2 == 0 and k > 0 else None)


def _sqrt(primals, series):
    K = order_of(series)
    x = full(primals[0], series[0], K)
    r = _sqrt_series(x, K, F.sqrt(x[0]))
    return r[0], r[1:]


register_jet(M.sqrt_p, _sqrt)


def _arcsin(fn, sign: float):
    def rule(primals, series):
        # r y' = sign x' with r = sqrt(1 - x^2) to order K - 1.
        K = order_of(series)
        x = full(primals[0], series[0], K)
        q = [(1.0 - x[0]) * (1.0 + x[0])] + [cauchy_sq(x, m, -1.0) for m in range(1, K)]
        r = _sqrt_series(q, K - 1, F.sqrt(q[0])) + [None]
        rhs = [None] + [scale(c, sign) for c in x[1:]]
        return fn(x[0]), _solve_linear_ode(r, rhs, K)

    return rule


register_jet(M.asin_p, _arcsin(F.arcsin, 1.0))
register_jet(M.acos_p, _arcsin(F.arccos, -1.0))


def _atan2(primals, series):
    # theta = atan2(y, x): r theta' = w with r = x^2 + y^2 and w = x y' - y x'.
    K = order_of(series)
    y, x = full(primals[0], series[0], K), full(primals[1], series[1], K)
    yt, xt = tilde(y), tilde(x)
    r = [x[0] * x[0] + y[0] * y[0]] + [add(cauchy_sq(x, m), cauchy_sq(y, m)) for m in range(1, K)]
    r.append(None)
    th = [F.arctan2(y[0], x[0])]
    tht = [None]  # j theta_j
    for k in range(1, K + 1):
        w = total(sub(mul(x[i], yt[k - i]), mul(y[i], xt[k - i])) for i in range(k))
        acc = total(mul(r[i], tht[k - i]) for i in range(1, k))
        num = sub(w, acc)
        tht.append(None if num is None else num / r[0])
        th.append(scale(tht[k], 1.0 / k))
    return th[0], th[1:]


register_jet(M.atan2_p, _atan2)


def _pow(primals, series):
    K = order_of(series)
    x, a = full(primals[0], series[0], K), full(primals[1], series[1], K)
    z0 = F.power(x[0], a[0])
    if series[1] is None:
        # x z' = a z x'  ->  z_k = ((a + 1) S1_k - k S0_k) / (k x0), S1 = sum j x_j z_{k-j},
        # S0 = sum x_j z_{k-j}.
        a1 = a[0] + 1.0
        z = [z0]
        for k in range(1, K + 1):
            s1 = total(mul(scale(x[j], float(j)), z[k - j]) for j in range(1, k + 1))
            s0 = total(mul(x[j], z[k - j]) for j in range(1, k + 1))
            num = sub(mul(a1, s1), scale(s0, float(k)))
            z.append(None if num is None else num / (x[0] * float(k)))
        return z0, z[1:]
    # z = exp(w), w = a log x.
    if series[0] is None:
        lg = [F.log(x[0])] + [None] * K
    else:
        lg = [F.log(x[0])] + _solve_linear_ode(x, x, K)
    w = [None] + [cauchy(a, lg, k) for k in range(1, K + 1)]
    wt = tilde(w)
    z = [z0]
    for k in range(1, K + 1):
        z.append(ode_step(wt, z, k))
    return z0, z[1:]


register_jet(E.pow_p, _pow)


def _integer_pow(primals, series, *, y):
    # Exact for any x (including 0): Cauchy products by binary exponentiation.
    n = int(y)
    K = order_of(series)
    x = full(primals[0], series[0], K)
    if n == 0:
        return F.power(x[0], 0), [None] * K
    if n < 0:
        inv, inv_s = _div([F.ones_like(x[0]), x[0]], [None, x[1:]])
        x, n = [inv, *inv_s], -n
    result = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else [cauchy(result, base, k) for k in range(K + 1)]
        n >>= 1
        if n:
            base = [cauchy_sq(base, k) for k in range(K + 1)]
    return F.power(primals[0], int(y)), result[1:]


register_jet(E.integer_pow_p, _integer_pow)
