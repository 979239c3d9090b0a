"""Taylor-mode (jet) rules of the structural primitives: linear, bilinear and piecewise ones.

Rule signature: ``rule(primals, series, **params) -> (primal_out, series_out)`` on normalised
coefficients ``x(t) = x0 + x1 t + x2 t^2 + ...``. ``series[i]`` is the list ``[x1, ..., xK]``
of input ``i``, or ``None`` when the input has no series (an integer input or a constant); a
coefficient may itself be ``None``, a symbolic zero. Rules skip products with zeros and may
return ``None`` coefficients; the trace broadcasts each coefficient to the output's shape.

* Linear primitives map every coefficient (zeros stand in for constant float operands).
* Bilinear primitives (mul, matmul, conv2d and its two transposes) use the Cauchy product
  ``z_k = sum_{i+j=k} op(x_i, y_j)``.
* Piecewise-linear primitives (abs, max, min, reduce_max, reduce_min, mod) map each
  coefficient with the weights of their JVP at the primal (the derivative conventions of
  ``rules/elementwise.py`` and ``rules/reduce.py``: ``abs'(0) = 0``, ties split 1/2 : 1/2 or
  ``1/count``); every coefficient above the first is what nested JVPs give away from a kink.

The recurrences of the smooth elementwise functions are in ``rules/jet_math.py``. A primitive
with no rule (reduce_prod, user primitives) uses the nested-forward-mode fallback of
``_jet.jet_fallback``.
"""

from __future__ import annotations

import functools

from fieldgrad import fields as F
from fieldgrad.fields import _core
from fieldgrad.fields import _ops_compare as C
from fieldgrad.fields import _ops_elementwise as E
from fieldgrad.fields import _ops_reduce as R

from .._rules import register
from .._util import is_float
from .elementwise import _extremum_partials
from .reduce import _share

# --- coefficient arithmetic with symbolic zeros (None) ------------------------------------------


def mul(a, b):
    """``a * b``; None (zero) if either is."""
    if a is None or b is None:
        return None
    return a * b


def add(a, b):
    """``a + b``; the other operand where one is None (zero)."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def sub(a, b):
    """``a - b`` with None as zero."""
    if b is None:
        return a
    if a is None:
        return -b
    return a - b


def scale(a, c: float):
    """``c * a`` for a Python number ``c`` (no op for ``c == 1``)."""
    if a is None:
        return None
    if c == 1.0:
        return a
    if c == -1.0:
        return -a
    return a * c


def total(terms):
    """The sum of an iterable of coefficients, None as zero."""
    return functools.reduce(add, terms, None)


def cauchy(a, b, k: int):
    """Coefficient ``k`` of the product of the full series ``a``, ``b`` (lists from order 0)."""
    return total(mul(a[i], b[k - i]) for i in range(k + 1))


def cauchy_sq(a, k: int, c: float = 1.0):
    """Coefficient ``k`` of ``c * a * a``: ``2c sum_{i < k-i} a_i a_{k-i} + c a_{k/2}^2`` (a sign
    ``c = -1`` costs no extra op)."""
    twice = scale(total(mul(a[i], a[k - i]) for i in range((k + 1) // 2)), 2.0 * c)
    sq = mul(a[k // 2], a[k // 2]) if k % 2 == 0 else None
    if c == -1.0:
        return sub(twice, sq)
    return add(twice, scale(sq, c))


def full(x0, s, K: int):
    """The full series ``[x0, x1, ..., xK]`` (zeros as None for an input without series)."""
    return [x0, *(s if s is not None else [None] * K)]


def order_of(series) -> int:
    return len(next(s for s in series if s is not None))


def zeros_for(p):
    return F.zeros(tuple(p.shape), dtype=p.dtype)


# --- linear and bilinear ------------------------------------------------------------------------


def register_jet(prim, rule) -> None:
    """Register ``rule`` as the jet rule of ``prim``, marked as understanding symbolic zeros
    (None series and None coefficients; other rules get zeros instantiated)."""
    rule.symbolic_zeros = True
    register(prim, jet=rule)


def linear_jet(prim):
    """Jet rule of a primitive linear in its float inputs jointly (integer inputs fixed)."""

    def rule(primals, series, **params):
        out = prim.bind(*primals, **params)
        K = order_of(series)
        terms = []
        for k in range(K):
            cs = [None if s is None else s[k] for s in series]
            if all(c is None for c in cs):
                terms.append(None)
                continue
            args = [
                c if c is not None else (zeros_for(p) if is_float(p) else p)
                for p, c in zip(primals, cs)
            ]
            terms.append(prim.bind(*args, **params))
        return out, terms

    return rule


def bilinear_jet(prim):
    """Jet rule of a primitive bilinear in its two inputs (Cauchy product, zeros skipped)."""

    def op(a, b, params):
        if a is None or b is None:
            return None
        return prim.bind(a, b, **params)

    def rule(primals, series, **params):
        K = order_of(series)
        x, y = full(primals[0], series[0], K), full(primals[1], series[1], K)
        out = prim.bind(x[0], y[0], **params)
        terms = [total(op(x[i], y[k - i], params) for i in range(k + 1)) for k in range(1, K + 1)]
        return out, terms

    return rule


def _mul_jet(primals, series):
    if primals[0] is primals[1] and series[0] is series[1]:  # x * x: symmetric products
        K = order_of(series)
        x = full(primals[0], series[0], K)
        return x[0] * x[0], [cauchy_sq(x, k) for k in range(1, K + 1)]
    return bilinear_jet(E.mul_p)(primals, series)


def _coefficientwise(fn):
    """A rule whose output series is ``fn`` applied to the inputs' coefficients ``k``."""

    def rule(primals, series, **params):
        K = order_of(series)
        cs = [full(p, s, K) for p, s in zip(primals, series)]
        out, weights = fn(primals, **params)
        return out, [weights(*[c[k] for c in cs]) for k in range(1, K + 1)]

    return rule


_LINEAR = (
    "reshape transpose broadcast_to reduce_sum slice slice_update gather scatter_add scatter "
    "concatenate diagonal fd_grad fd_div fd_laplacian select convert_element_type"
).split()
for _name in _LINEAR:
    _prim = _core.primitives().get(_name)
    if _prim is not None:
        register_jet(_prim, linear_jet(_prim))
for _name in ("matmul", "conv2d", "conv2d_input", "conv2d_weight"):
    _prim = _core.primitives().get(_name)
    if _prim is not None:
        register_jet(_prim, bilinear_jet(_prim))
register_jet(E.mul_p, _mul_jet)
register_jet(E.add_p, _coefficientwise(lambda p: (F.add(*p), add)))
register_jet(E.sub_p, _coefficientwise(lambda p: (F.subtract(*p), sub)))
register_jet(E.neg_p, _coefficientwise(lambda p: (F.negative(p[0]), lambda c: scale(c, -1.0))))


# --- piecewise linear ---------------------------------------------------------------------------


def _abs(p):
    s = F.sign(p[0])
    return F.abs(p[0]), lambda c: mul(s, c)


def _extremum(prim):
    def fn(p):
        ans = prim.bind(*p)
        wx, wy = _extremum_partials(p[0], p[1], ans)
        return ans, lambda cx, cy: add(mul(wx, cx), mul(wy, cy))

    return fn


def _mod(p):
    q = F.floor_divide(*p)  # x mod y = x - floor(x / y) y
    return F.mod(*p), lambda cx, cy: sub(cx, mul(q, cy))


def _chooser(prim):
    def fn(p, *, axes):
        ans = prim.bind(p[0], axes=axes)
        share = _share(p[0], ans, axes)
        return ans, lambda c: None if c is None else F.sum(c * share, axis=axes)

    return fn


register_jet(E.abs_p, _coefficientwise(_abs))
register_jet(C.max_p, _coefficientwise(_extremum(C.max_p)))
register_jet(C.min_p, _coefficientwise(_extremum(C.min_p)))
register_jet(E.mod_p, _coefficientwise(_mod))
register_jet(R.reduce_max_p, _coefficientwise(_chooser(R.reduce_max_p)))
register_jet(R.reduce_min_p, _coefficientwise(_chooser(R.reduce_min_p)))
