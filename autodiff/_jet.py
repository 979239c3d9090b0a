"""Taylor mode: the jet trace propagates truncated Taylor series through every primitive.

Internally a value carries its primal ``x0`` and normalised coefficients ``[x1, ..., xK]`` of
``x(t) = x0 + x1 t + x2 t^2 + ...``. Each primitive maps input series to output series with its
``jet`` rule (coefficient-wise maps for linear ops, Cauchy products for bilinear ones, ODE
recurrences for elementwise functions); a primitive without a rule falls back to nested
forward mode along the input path, so every primitive works in Taylor mode.

The public :func:`jet` uses the derivative convention of ``jax.experimental.jet``: the series
term ``k`` is the ``k``-th derivative ``d^k x / dt^k`` at ``t = 0``.
"""

from __future__ import annotations

import math

from fieldgrad import fields as F
from fieldgrad.fields import Trace, Tracer, full_raise, new_main
from fieldgrad.fields._core import get_aval
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from . import _rules
from ._jvp import jvp_flat
from ._util import is_float, zeros_like_aval

__all__ = ["jet"]


class JetTracer(Tracer):
    __slots__ = ("_trace", "primal", "terms")

    def __init__(self, trace: Trace, primal, terms):
        self._trace = trace
        self.primal = primal
        self.terms = terms  # list of K normalised coefficients, or None (a constant)

    @property
    def aval(self):
        return get_aval(self.primal)


class JetTrace(Trace):
    def pure(self, val):
        return JetTracer(self, F.asarray(val) if not isinstance(val, Tracer) else val, None)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        order = self.main.global_data
        primals = [t.primal for t in tracers]
        terms = [t.terms for t in tracers]
        if _rules.is_nondiff(prim) or all(s is None for s in terms):
            out = prim.bind(*primals, **params)
            if prim.multiple_results:
                return [JetTracer(self, o, None) for o in out]
            return JetTracer(self, out, None)
        terms = [
            ([zeros_like_aval(get_aval(p))] * order if s is None and is_float(p) else s)
            for p, s in zip(primals, terms)
        ]
        if _rules.has_rule("jet", prim):
            out, out_terms = _rules.lookup("jet", prim)(primals, terms, **params)
        else:
            out, out_terms = jet_fallback(prim, primals, terms, params, order)
        if prim.multiple_results:
            return [JetTracer(self, o, s) for o, s in zip(out, out_terms)]
        return JetTracer(self, out, out_terms)


def jet_fallback(prim, primals, terms, params, order):
    """Coefficients of ``prim(x(t))`` by nested forward mode along the path ``x(t)``.

    The k-th normalised coefficient is ``(1/k!) d^k/ds^k prim(x(s))`` at ``s = 0``, taken with
    ``k`` nested JVPs in the scalar ``s``.
    """
    dt = next(get_aval(p).dtype for p in primals if is_float(p))

    def path(s):
        xs = []
        for p, ser in zip(primals, terms):
            if ser is None:
                xs.append(p)
                continue
            v = p
            for j, c in enumerate(ser, start=1):
                v = v + c * s**j
            xs.append(v)
        return prim.bind(*xs, **params)

    s0 = F.zeros((), dtype=dt)
    one = F.ones((), dtype=dt)
    out = prim.bind(*primals, **params)

    def derivative(k):
        fk = path
        for _ in range(k):
            fk = (lambda g: lambda s: jvp_flat(lambda u: [g(u)], [s], [one])[1][0])(fk)
        return fk(s0)

    return out, [derivative(k) * (1.0 / math.factorial(k)) for k in range(1, order + 1)]


def jet(f, primals, series):
    """Propagate Taylor series through ``f``.

    Args:
        f: function of tensors.
        primals: tuple of the point ``x0`` (one entry per argument).
        series: tuple (one entry per argument) of lists ``[x1, ..., xK]`` where ``xk`` is the
            k-th derivative of the input path at ``t = 0`` (so ``[v]`` with higher terms zero is
            the straight line ``x0 + t v``).

    Returns:
        ``(f(x0), [y1, ..., yK])`` with ``yk = d^k/dt^k f(x(t))`` at ``t = 0``.

    Raises:
        ValueError: the series have different lengths or shapes from their primals.

    Example:
        >>> import fieldgrad as fg
        >>> y, (d1, d2) = fg.jet(fg.exp, (fg.tensor(0.0),), ([fg.tensor(1.0), fg.tensor(0.0)],))
        >>> float(d1), float(d2)
        (1.0, 1.0)
    """
    primals = tuple(primals)
    series = tuple(series)
    if len(primals) != len(series):
        raise ValueError(f"jet: {len(primals)} primals but {len(series)} series")
    orders = {len(s) for s in series}
    if len(orders) != 1:
        raise ValueError(f"jet: every series must have the same length, got {sorted(orders)}")
    order = orders.pop()
    p_leaves = [F.asarray(p) for p in primals]
    s_norm = []
    for p, ser in zip(p_leaves, series):
        terms = []
        for k, c in enumerate(ser, start=1):
            c = F.asarray(c)
            if tuple(c.shape) != tuple(p.shape):
                raise ValueError(
                    f"jet: series term {k} has shape {tuple(c.shape)}, its primal {tuple(p.shape)}"
                )
            terms.append(F.astype(c, p.dtype) * (1.0 / math.factorial(k)))
        s_norm.append(terms)
    if order == 0:
        return f(*p_leaves), []
    with new_main(JetTrace, order) as main:
        trace = JetTrace(main)
        ins = [JetTracer(trace, p, s) for p, s in zip(p_leaves, s_norm)]
        out = f(*ins)
        out_leaves, out_tree = tree_flatten(out)
        outs = [full_raise(trace, o) for o in out_leaves]
        prim_out = [o.primal for o in outs]
        terms_out = [
            o.terms if o.terms is not None else [zeros_like_aval(get_aval(o.primal))] * order
            for o in outs
        ]
    scaled = [[c * float(math.factorial(k)) for k, c in enumerate(t, start=1)] for t in terms_out]
    if len(outs) == 1 and not isinstance(out, (tuple, list, dict)):
        return prim_out[0], scaled[0]
    return tree_unflatten(out_tree, prim_out), tree_unflatten(out_tree, scaled)
