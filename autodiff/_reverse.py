"""Reverse mode: a tape of primitive applications whose backward pass is itself traced.

Under the VJP trace every primitive application with a differentiable input records a
:class:`Node` (primitive, params, input nodes, primal inputs and output). The backward pass
walks the nodes in reverse topological order (an iterative sort: a 10,000-step rollout does not
reach Python's recursion limit) and applies each primitive's VJP rule. Rules are written with
public fieldgrad ops and run after the VJP trace is popped, so any transformation active
around them (an outer grad, jvp, vmap or jit) traces the backward pass too: that is what makes
``grad(grad(f))`` and ``jvp(grad(f))`` work.
"""

from __future__ import annotations

import itertools

from fieldgrad import fields as F
from fieldgrad.fields import Trace, Tracer, full_raise, new_main
from fieldgrad.fields._core import get_aval
from fieldgrad.fields._dtypes import FLOATS

from . import _rules
from ._util import zeros_like_aval

# Creation order of nodes: checkpoint tells the nodes a function recorded from older ones.
node_counter = itertools.count()


class Node:
    """One recorded primitive application (or an input leaf when ``prim`` is None)."""

    __slots__ = ("prim", "params", "parents", "primals", "ans", "avals", "seq")

    def __init__(self, prim, params, parents, primals, ans, avals):
        self.prim = prim
        self.params = params
        self.parents = parents  # per input: (Node, output index) or None
        self.primals = primals
        self.ans = ans
        self.avals = avals  # output avals
        self.seq = next(node_counter)


class VJPTracer(Tracer):
    __slots__ = ("_trace", "primal", "ref")

    def __init__(self, trace: Trace, primal, ref):
        self._trace = trace
        self.primal = primal
        self.ref = ref  # (Node, output index) or None for a constant

    @property
    def aval(self):
        return get_aval(self.primal)


class VJPTrace(Trace):
    def pure(self, val):
        return VJPTracer(self, F.asarray(val) if not isinstance(val, Tracer) else val, None)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        primals = [t.primal for t in tracers]
        refs = [t.ref for t in tracers]
        out = prim.bind(*primals, **params)
        outs = out if prim.multiple_results else [out]
        if _rules.is_nondiff(prim) or all(r is None for r in refs):
            wrapped = [VJPTracer(self, o, None) for o in outs]
        else:
            _rules.lookup("vjp", prim)  # fail now, naming the primitive, not at backward time
            avals = [get_aval(o) for o in outs]
            node = Node(prim, params, refs, primals, out, avals)
            wrapped = [
                VJPTracer(self, o, (node, k) if a.dtype in FLOATS else None)
                for k, (o, a) in enumerate(zip(outs, avals))
            ]
        return wrapped if prim.multiple_results else wrapped[0]


def _toposort(roots: list) -> list:
    """Nodes reachable from ``roots`` with every node after all of its parents (iterative)."""
    order, seen = [], set()
    stack = [(n, False) for n in roots]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for ref in node.parents:
            if ref is not None and id(ref[0]) not in seen:
                stack.append((ref[0], False))
    return order


def backward(out_refs: list, cotangents: list, in_nodes: list) -> list:
    """Cotangents of the input leaves given cotangents of the outputs."""
    cts: dict[int, list] = {}

    def add(ref, ct):
        node, k = ref
        slot = cts.setdefault(id(node), [None] * len(node.avals))
        slot[k] = ct if slot[k] is None else F.add(slot[k], ct)

    for ref, ct in zip(out_refs, cotangents):
        if ref is not None and ct is not None:
            add(ref, ct)
    roots = [ref[0] for ref in out_refs if ref is not None]
    for node in reversed(_toposort(roots)):
        g = cts.get(id(node))
        if node.prim is None or g is None:
            continue
        if not node.prim.multiple_results:
            g = g[0]
        else:
            g = [zeros_like_aval(a) if c is None else c for c, a in zip(g, node.avals)]
        del cts[id(node)]
        rule = _rules.lookup("vjp", node.prim)
        in_cts = rule(g, node.ans, *node.primals, **node.params)
        if len(in_cts) != len(node.parents):
            raise RuntimeError(
                f"the vjp rule of {node.prim.name!r} returned {len(in_cts)} cotangents for "
                f"{len(node.parents)} inputs"
            )
        for ref, ct, x in zip(node.parents, in_cts, node.primals):
            if ref is None or ct is None:
                continue
            want = get_aval(x)
            if tuple(ct.shape) != tuple(want.shape):
                raise RuntimeError(
                    f"the vjp rule of {node.prim.name!r} returned a cotangent of shape "
                    f"{tuple(ct.shape)} for an input of shape {tuple(want.shape)}"
                )
            if ct.dtype != want.dtype:
                ct = F.astype(ct, want.dtype)
            add(ref, ct)
    out = []
    for node in in_nodes:
        slot = cts.get(id(node))
        out.append(slot[0] if slot is not None and slot[0] is not None else None)
    return out


def vjp_flat(f_flat, primals: list):
    """Run ``f_flat`` under the VJP trace; return (outputs, backward function)."""
    with new_main(VJPTrace) as main:
        trace = VJPTrace(main)
        in_nodes = [Node(None, None, [], [], p, [get_aval(p)]) for p in primals]
        ins = [VJPTracer(trace, p, (n, 0)) for p, n in zip(primals, in_nodes)]
        outs = f_flat(*ins)
        outs = [full_raise(trace, o) for o in outs]
        primals_out = [o.primal for o in outs]
        refs = [o.ref for o in outs]

    def backward_fn(cotangents: list) -> list:
        grads = backward(refs, cotangents, in_nodes)
        return [zeros_like_aval(get_aval(p)) if g is None else g for g, p in zip(grads, primals)]

    return primals_out, backward_fn
