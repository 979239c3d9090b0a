"""Staging: trace a Python function into a :class:`~fieldgrad.fields._graph.Graph`.

The staging trace is installed as the *dynamic* trace, so every primitive applied while the
function runs is recorded, also those applied to constants only (``fg.zeros(...)`` inside the
function). Concrete tensors the function closes over become graph constants.
"""

from __future__ import annotations

from ._core import Trace, Tracer, full_raise, get_aval, new_dynamic, new_main
from ._graph import Eqn, Graph, Var
from ._pytree import tree_flatten
from ._tensor import Tensor, asarray


class _Builder:
    def __init__(self):
        self.eqns: list = []
        self.const_vars: list = []
        self.consts: list = []
        self._const_ids: dict[int, Var] = {}

    def const(self, t: Tensor) -> Var:
        v = self._const_ids.get(id(t))
        if v is None:
            v = Var(t.aval)
            self._const_ids[id(t)] = v
            self.const_vars.append(v)
            self.consts.append(t)
        return v


class StagingTracer(Tracer):
    __slots__ = ("_trace", "var")

    def __init__(self, trace: Trace, var: Var):
        self._trace = trace
        self.var = var

    @property
    def aval(self):
        return self.var.aval


class StagingTrace(Trace):
    def pure(self, val):
        builder: _Builder = self.main.global_data
        return StagingTracer(self, builder.const(asarray(val)))

    lift = pure

    def process_primitive(self, prim, tracers, params):
        builder: _Builder = self.main.global_data
        out_avals = prim.abstract_eval(*[t.aval for t in tracers], **params)
        avals = out_avals if prim.multiple_results else [out_avals]
        outs = [Var(a) for a in avals]
        builder.eqns.append(Eqn(prim, [t.var for t in tracers], dict(params), outs))
        tracers_out = [StagingTracer(self, v) for v in outs]
        return tracers_out if prim.multiple_results else tracers_out[0]


def stage(f_flat, in_avals: list) -> tuple[Graph, object]:
    """Trace ``f_flat(*tracers) -> pytree`` on abstract inputs; returns (graph, out_tree)."""
    builder = _Builder()
    with new_main(StagingTrace, builder) as main:
        with new_dynamic(main):
            trace = StagingTrace(main)
            in_vars = [Var(a) for a in in_avals]
            ins = [StagingTracer(trace, v) for v in in_vars]
            out = f_flat(*ins)
            out_leaves, out_tree = tree_flatten(out)
            outs = [
                full_raise(trace, o if isinstance(o, Tracer) else asarray(o)) for o in out_leaves
            ]
    graph = Graph(in_vars, builder.const_vars, builder.consts, builder.eqns, [o.var for o in outs])
    return graph, out_tree


def avals_of(leaves: list) -> list:
    return [get_aval(x) for x in leaves]
