"""Taylor-mode (jet) rules on normalised coefficients ``x(t) = x0 + x1 t + x2 t^2 + ...``.

Rule signature: ``rule(primals, series, **params) -> (primal_out, series_out)`` where
``series[i]`` is the list ``[x1, ..., xK]`` of input ``i`` (``None`` for integer inputs).

* Linear primitives map every coefficient.
* Bilinear primitives (mul, matmul, conv2d) use the Cauchy product
  ``z_k = sum_{i+j=k} op(x_i, y_j)``.
* Elementwise functions use the recurrence of the ODE they satisfy, e.g. ``y = exp(x)`` gives
  ``y' = y x'`` and so ``y_k = (1/k) sum_{j=1..k} j x_j y_{k-j}``.

Primitives not listed here use the nested-forward-mode fallback of ``_jet.jet_fallback``.
"""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import _core

from .._rules import register


def _p(name):
    return _core.primitives()[name]


def _full(x0, xs):
    return [x0, *xs]


# --- linear and bilinear -------------------------------------------------------------------------


def linear_jet(prim):
    """Jet rule of a primitive linear in its float inputs jointly (integer inputs fixed)."""

    def rule(primals, series, **params):
        out = prim.bind(*primals, **params)
        K = len(next(s for s in series if s is not None))
        terms = [
            prim.bind(*[p if s is None else s[k] for p, s in zip(primals, series)], **params)
            for k in range(K)
        ]
        return out, terms

    return rule


def bilinear_jet(prim):
    """Jet rule of a primitive bilinear in its two inputs (Cauchy product)."""

    def rule(primals, series, **params):
        x, y = _full(primals[0], series[0]), _full(primals[1], series[1])
        K = len(series[0])
        out = prim.bind(x[0], y[0], **params)
        terms = []
        for k in range(1, K + 1):
            acc = None
            for i in range(k + 1):
                term = prim.bind(x[i], y[k - i], **params)
                acc = term if acc is None else F.add(acc, term)
            terms.append(acc)
        return out, terms

    return rule


_LINEAR = (
    "add sub neg reshape transpose broadcast_to reduce_sum slice slice_update gather scatter_add "
    "concatenate diagonal fd_grad fd_div fd_laplacian select convert_element_type"
).split()
for _name in _LINEAR:
    if _name in _core.primitives():
        register(_p(_name), jet=linear_jet(_p(_name)))
for _name in ("mul", "matmul", "conv2d", "conv2d_input", "conv2d_weight"):
    if _name in _core.primitives():
        register(_p(_name), jet=bilinear_jet(_p(_name)))


# --- recurrences ----------------------------------------------------------------------------------


def _cauchy(a, b, k):
    """Coefficient k of the product of full series a, b (lists starting at order 0)."""
    acc = a[0] * b[k]
    for i in range(1, k + 1):
        acc = acc + a[i] * b[k - i]
    return acc


def _ode_jet(fn, dfn_series):
    """y = fn(x) with y' = u x', where ``dfn_series(y_full, x_full, k)`` gives u_k."""

    def rule(primals, series):
        x = _full(primals[0], series[0])
        y = [fn(x[0])]
        u = []
        for k in range(1, len(series[0]) + 1):
            u.append(dfn_series(y, x, k - 1, u))
            acc = None
            for j in range(1, k + 1):
                term = x[j] * u[k - j] * (j / k)
                acc = term if acc is None else acc + term
            y.append(acc)
        return y[0], y[1:]

    return rule


# exp: u = y
register(_p("exp"), jet=_ode_jet(F.exp, lambda y, x, m, u: y[m]))
# tanh: u = 1 - y^2
register(
    _p("tanh"),
    jet=_ode_jet(F.tanh, lambda y, x, m, u: (1.0 - y[0] * y[0]) if m == 0 else -_cauchy(y, y, m)),
)
# logistic: u = y - y^2
register(
    _p("logistic"),
    jet=_ode_jet(
        F.sigmoid, lambda y, x, m, u: (y[0] - y[0] * y[0]) if m == 0 else y[m] - _cauchy(y, y, m)
    ),
)


def _sincos_jet(primals, series, want_sin: bool):
    x = _full(primals[0], series[0])
    s, c = [F.sin(x[0])], [F.cos(x[0])]
    for k in range(1, len(series[0]) + 1):
        sk = ck = None
        for j in range(1, k + 1):
            ts = x[j] * c[k - j] * (j / k)
            tc = x[j] * s[k - j] * (-j / k)
            sk = ts if sk is None else sk + ts
            ck = tc if ck is None else ck + tc
        s.append(sk)
        c.append(ck)
    y = s if want_sin else c
    return y[0], y[1:]


register(_p("sin"), jet=lambda p, s: _sincos_jet(p, s, True))
register(_p("cos"), jet=lambda p, s: _sincos_jet(p, s, False))


def _log_jet(primals, series):
    # x y' = x'  ->  y_k = (x_k - (1/k) sum_{j=1..k-1} j y_j x_{k-j}) / x_0
    x = _full(primals[0], series[0])
    y = [F.log(x[0])]
    for k in range(1, len(series[0]) + 1):
        acc = x[k]
        for j in range(1, k):
            acc = acc - y[j] * x[k - j] * (j / k)
        y.append(acc / x[0])
    return y[0], y[1:]


register(_p("log"), jet=_log_jet)


def _div_jet(primals, series):
    # z y = x  ->  z_k = (x_k - sum_{j=1..k} y_j z_{k-j}) / y_0
    x, y = _full(primals[0], series[0]), _full(primals[1], series[1])
    z = [F.divide(x[0], y[0])]
    for k in range(1, len(series[0]) + 1):
        acc = x[k]
        for j in range(1, k + 1):
            acc = acc - y[j] * z[k - j]
        z.append(acc / y[0])
    return z[0], z[1:]


register(_p("div"), jet=_div_jet)


def _sqrt_jet(primals, series):
    # y^2 = x  ->  y_k = (x_k - sum_{j=1..k-1} y_j y_{k-j}) / (2 y_0)
    x = _full(primals[0], series[0])
    y = [F.sqrt(x[0])]
    for k in range(1, len(series[0]) + 1):
        acc = x[k]
        for j in range(1, k):
            acc = acc - y[j] * y[k - j]
        y.append(acc / (2.0 * y[0]))
    return y[0], y[1:]


register(_p("sqrt"), jet=_sqrt_jet)


def _integer_pow_jet(primals, series, *, y):
    # Exact for any x (including 0): repeated Cauchy products by binary exponentiation.
    n = int(y)
    x = _full(primals[0], series[0])
    K = len(series[0])
    if n < 0:
        inv_p, inv_s = _div_jet([F.ones_like(x[0]), x[0]], [[F.zeros_like(x[0])] * K, x[1:]])
        x, n = [inv_p, *inv_s], -n
    result = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else [_cauchy(result, base, k) for k in range(K + 1)]
        n >>= 1
        if n:
            base = [_cauchy(base, base, k) for k in range(K + 1)]
    if result is None:  # x**0
        one = F.ones_like(x[0])
        return one, [F.zeros_like(x[0])] * K
    return result[0], result[1:]


register(_p("integer_pow"), jet=_integer_pow_jet)
