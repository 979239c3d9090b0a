"""Taylor mode: the jet trace propagates truncated Taylor series through every primitive.

Internally a value carries its primal ``x0`` and normalised coefficients ``[x1, ..., xK]`` of
``x(t) = x0 + x1 t + x2 t^2 + ...``. A coefficient may be ``None``, a symbolic zero (the
straight line ``x0 + t v`` of a directional derivative has ``x2 = ... = xK = None``), and a
value with no series at all (a constant, an integer) carries ``terms = None``; rules skip the
products with zeros, so a derivative along a line costs less than a general jet.

Each primitive maps input series to output series with its ``jet`` rule (coefficient-wise maps
for linear ops, Cauchy products for bilinear ones, ODE recurrences for elementwise functions;
see ``rules/jet.py``); a primitive without a rule falls back to nested forward mode along the
input path (:func:`jet_fallback`), so every primitive works in Taylor mode. A rule receives the
symbolic zeros (``None``) only when it is marked ``rule.symbolic_zeros = True`` (fieldgrad's own
rules are); any other rule, a user's registered through ``fieldgrad.autodiff.extend``, gets a
list of K tensors for every float input, zeros instantiated.

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
        # K normalised coefficients (tensors, or None for a zero coefficient), or None for a
        # value with no series (a constant).
        self.terms = terms

    @property
    def aval(self):
        return get_aval(self.primal)


class JetTrace(Trace):
    def pure(self, val):
        return JetTracer(self, F.asarray(val) if not isinstance(val, Tracer) else val, None)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        primals = [t.primal for t in tracers]
        series = [t.terms if is_float(p) else None for t, p in zip(tracers, primals)]
        if _rules.is_nondiff(prim) or all(s is None for s in series):
            out = prim.bind(*primals, **params)
            if prim.multiple_results:
                return [JetTracer(self, o, None) for o in out]
            return JetTracer(self, out, None)
        if _rules.has_rule("jet", prim):
            rule = _rules.lookup("jet", prim)
            if not getattr(rule, "symbolic_zeros", False):
                series = _instantiate(primals, series)
            out, out_series = rule(primals, series, **params)
        else:
            out, out_series = jet_fallback(prim, primals, series, params)
        if prim.multiple_results:
            return [JetTracer(self, o, _fit(o, s)) for o, s in zip(out, out_series)]
        return JetTracer(self, out, _fit(out, out_series))


def _instantiate(primals, series):
    """The series with every zero as a tensor: zeros lists for float inputs without a series,
    zeros for None coefficients (for rules not marked ``symbolic_zeros``)."""
    K = len(next(s for s in series if s is not None))
    out = []
    for p, s in zip(primals, series):
        if not is_float(p):
            out.append(None)
            continue
        zero = None
        terms = []
        for c in s if s is not None else [None] * K:
            if c is None:
                zero = zero if zero is not None else zeros_like_aval(get_aval(p))
                c = zero
            terms.append(c)
        out.append(terms)
    return out


def _fit(out, terms):
    """The output series in canonical form: None for a non-float output or an all-zero series;
    each coefficient of the output's shape and dtype (a rule may leave a broadcast pending)."""
    if terms is None or not is_float(out) or all(c is None for c in terms):
        return None
    aval = get_aval(out)
    fitted = []
    for c in terms:
        if c is not None:
            if c.dtype != aval.dtype:
                c = F.astype(c, aval.dtype)
            if tuple(c.shape) != tuple(aval.shape):
                c = F.broadcast_to(c, aval.shape)
        fitted.append(c)
    return fitted


def jet_fallback(prim, primals, series, params):
    """Coefficients of ``prim(x(s))`` by nested forward mode along the path ``x(s)``.

    The k-th normalised coefficient is ``(1/k!) d^k/ds^k prim(x(s))`` at ``s = 0``. One nest of
    K forward-mode passes in the scalar ``s`` gives every order at once (each level returns the
    derivatives below it and the tangent of the highest one). Integer inputs and inputs without
    a series stay fixed; each input's path is built in its own dtype.
    """
    K = len(next(s for s in series if s is not None))
    dt = next(get_aval(p).dtype for p, s in zip(primals, series) if s is not None)

    def path(s):
        xs = []
        for p, ser in zip(primals, series):
            if ser is None:
                xs.append(p)
                continue
            sp = s if get_aval(p).dtype == dt else F.astype(s, get_aval(p).dtype)
            v = p
            for j, c in enumerate(ser, start=1):
                if c is not None:
                    v = v + c * (sp if j == 1 else sp**j)
            xs.append(v)
        out = prim.bind(*xs, **params)
        return list(out) if prim.multiple_results else [out]

    one = F.ones((), dtype=dt)
    n_out = (
        len(prim.abstract_eval(*[get_aval(p) for p in primals], **params))
        if (prim.multiple_results)
        else 1
    )

    def deeper(h):
        # s -> [f, f', ..., f^(k)] from h: s -> [f, ..., f^(k-1)] (blocks of n_out outputs).
        def h_next(s):
            vals, tans = jvp_flat(h, [s], [one])
            return vals + tans[len(tans) - n_out :]

        return h_next

    h = path
    for _ in range(K):
        h = deeper(h)
    flat = h(F.zeros((), dtype=dt))
    outs = flat[:n_out]
    terms = [
        [flat[k * n_out + i] * (1.0 / math.factorial(k)) for k in range(1, K + 1)]
        for i in range(n_out)
    ]
    if prim.multiple_results:
        return outs, terms
    return outs[0], terms[0]


def jet_normalised(f_flat, primals: list, series: list, order: int):
    """Taylor mode on flat lists with normalised coefficients (``None`` entries are zeros).

    Returns ``(outputs, series_out)``; an output's series is a list of ``order`` coefficients
    (tensors or None) or None when the output does not depend on the inputs' series.
    """
    with new_main(JetTrace, order) as main:
        trace = JetTrace(main)
        ins = [JetTracer(trace, p, s) for p, s in zip(primals, series)]
        outs = [full_raise(trace, o) for o in f_flat(*ins)]
        return [o.primal for o in outs], [o.terms for o in outs]


def _check_series(primals, series):
    if len(primals) != len(series):
        raise ValueError(
            f"jet: {len(primals)} primals but {len(series)} series; give one series (a list of "
            "Taylor terms) per primal"
        )
    for k, ser in enumerate(series):
        if not isinstance(ser, (list, tuple)):
            raise TypeError(
                f"jet: series {k} must be a list [x1, ..., xK] of Taylor terms, got "
                f"{type(ser).__name__}"
            )
    orders = {len(s) for s in series}
    if len(orders) > 1:
        lengths = [len(s) for s in series]
        raise ValueError(f"jet: every series must have the same length, got lengths {lengths}")
    return orders.pop() if orders else 0


def jet(f, primals, series):
    """Propagate Taylor series through ``f``.

    Args:
        f: function of tensors returning a tensor or a pytree of tensors.
        primals: tuple of the point ``x0`` (one float tensor per argument).
        series: tuple (one entry per argument) of lists ``[x1, ..., xK]`` where ``xk`` is the
            k-th derivative of the input path at ``t = 0`` (so ``[v, 0, ..., 0]`` is the
            straight line ``x0 + t v``). Every list has the same length K.

    Returns:
        ``(f(x0), [y1, ..., yK])`` with ``yk = d^k/dt^k f(x(t))`` at ``t = 0``; for a pytree
        output, the pytree of primals and the pytree of such lists.

    Raises:
        ValueError: the number of series differs from the number of primals, the series have
            different lengths, or a term's shape differs from its primal's.
        TypeError: a series is not a list, or a primal is not float.

    Example:
        >>> import fieldgrad as fg
        >>> y, (d1, d2) = fg.jet(fg.exp, (fg.tensor(0.0),), ([fg.tensor(1.0), fg.tensor(0.0)],))
        >>> float(d1), float(d2)
        (1.0, 1.0)
    """
    primals = tuple(primals)
    series = tuple(series)
    order = _check_series(primals, series)
    p_leaves = [F.asarray(p) for p in primals]
    s_norm = []
    for i, (p, ser) in enumerate(zip(p_leaves, series)):
        if not is_float(p):
            raise TypeError(
                f"jet: primal {i} has dtype {p.dtype.name}; Taylor series need float32 or "
                "float64 inputs (cast it with .astype(float))"
            )
        terms = []
        for k, c in enumerate(ser, start=1):
            c = F.asarray(c)
            if tuple(c.shape) != tuple(p.shape):
                raise ValueError(
                    f"jet: term {k} of series {i} has shape {tuple(c.shape)}, but its primal "
                    f"has shape {tuple(p.shape)}"
                )
            terms.append(F.astype(c, p.dtype) * (1.0 / math.factorial(k)))
        s_norm.append(terms)
    if order == 0:
        out = f(*p_leaves)
        leaves, td = tree_flatten(out)
        return out, tree_unflatten(td, [[] for _ in leaves])
    tree = []

    def f_flat(*xs):
        leaves, td = tree_flatten(f(*xs))
        tree.append(td)
        return leaves

    outs, terms_out = jet_normalised(f_flat, p_leaves, s_norm, order)
    scaled = [
        [
            (zeros_like_aval(get_aval(o)) if c is None else c * float(math.factorial(k)))
            for k, c in enumerate(t if t is not None else [None] * order, start=1)
        ]
        for o, t in zip(outs, terms_out)
    ]
    return tree_unflatten(tree[0], outs), tree_unflatten(tree[0], scaled)
