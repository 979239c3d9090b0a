"""Forward mode: the JVP trace carries a tangent beside every primal value."""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import Trace, Tracer, full_raise, new_main
from fieldgrad.fields._core import get_aval
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from . import _rules
from ._util import check_tangent, is_float, zeros_like_aval


class JVPTracer(Tracer):
    """A primal value and its tangent (``None``: a symbolic zero)."""

    __slots__ = ("_trace", "primal", "tangent")

    def __init__(self, trace: Trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return get_aval(self.primal)


class JVPTrace(Trace):
    def pure(self, val):
        return JVPTracer(self, F.asarray(val) if not isinstance(val, Tracer) else val, None)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        if _rules.is_nondiff(prim) or all(t is None for t in tangents):
            out = prim.bind(*primals, **params)
            if prim.multiple_results:
                return [JVPTracer(self, o, None) for o in out]
            return JVPTracer(self, out, None)
        tangents = [
            (zeros_like_aval(get_aval(p)) if t is None and is_float(p) else t)
            for p, t in zip(primals, tangents)
        ]
        rule = _rules.lookup("jvp", prim)
        out, tout = rule(primals, tangents, **params)
        if prim.multiple_results:
            return [JVPTracer(self, o, t) for o, t in zip(out, tout)]
        return JVPTracer(self, out, tout)


def jvp_flat(f_flat, primals: list, tangents: list):
    """Forward mode on flat lists: ``f_flat(*primals) -> list``; returns (outs, out tangents)."""
    with new_main(JVPTrace) as main:
        trace = JVPTrace(main)
        ins = [JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        outs = f_flat(*ins)
        outs = [full_raise(trace, o) for o in outs]
        primals_out = [o.primal for o in outs]
        tangents_out = [
            o.tangent if o.tangent is not None else zeros_like_aval(get_aval(o.primal))
            for o in outs
        ]
    return primals_out, tangents_out


def jvp(f, primals, tangents):
    """Forward-mode derivative: ``f(*primals)`` and its directional derivative along
    ``tangents``.

    Args:
        f: a function of tensors (pytrees of tensors) returning a pytree of tensors.
        primals: tuple (or list) of the arguments.
        tangents: tuple of the same structure, shapes and float dtypes as ``primals``.

    Returns:
        ``(f(*primals), J(primals) @ tangents)`` as pytrees of the output's structure.

    Raises:
        TypeError: ``primals``/``tangents`` are not sequences, or a tangent is given for an
            integer input.
        ValueError: their structures or shapes differ (both are named).

    Example:
        >>> import fieldgrad as fg
        >>> y, dy = fg.jvp(fg.sin, (fg.tensor(0.0),), (fg.tensor(1.0),))
        >>> float(dy)
        1.0
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp(f, primals, tangents): primals and tangents must be tuples of arguments, got "
            f"{type(primals).__name__} and {type(tangents).__name__}"
        )
    p_leaves, p_tree = tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(
            f"jvp: primals and tangents have different structures: {p_tree} and {t_tree}"
        )
    p_leaves = [F.asarray(p) for p in p_leaves]
    t_leaves = [check_tangent(p, F.asarray(t), "jvp") for p, t in zip(p_leaves, t_leaves)]
    out_tree = []

    def f_flat(*leaves):
        out = f(*tree_unflatten(p_tree, list(leaves)))
        leaves_out, tree = tree_flatten(out)
        out_tree.append(tree)
        return leaves_out

    outs, touts = jvp_flat(f_flat, p_leaves, t_leaves)
    return tree_unflatten(out_tree[0], outs), tree_unflatten(out_tree[0], touts)
