"""The fusion pass of ``fg.jit``: chains of elementwise ops (and trailing row sums) become one
generated kernel each.

:func:`fuse` walks an optimised graph in order and groups equations into *clusters*:

* elementwise primitives (unary, binary, ternary, ``convert_element_type``, ``integer_pow``)
  whose output has the cluster's shape, with inputs of that shape, single elements, or
  broadcasts readable at index ``(i // div) % mod`` of the flat output index (the affine
  broadcast of :mod:`fieldgrad.fields._elementwise`: bias rows, column scalings, 0-d scalars);
* ``reduce_sum`` of a cluster value over trailing axes (the last axis or all of them): row sums
  accumulated in the same loop, in the order of the eager reduction kernel.

A value used only inside its cluster stays in a register; a value used by another equation or
returned is written. Each cluster with more than one operation becomes a single equation of the
``fused`` primitive, whose static param is the :class:`~fieldgrad.fields._codegen.Cluster`
that :mod:`fieldgrad.fields._codegen` turns into a Taichi kernel.

Clusters are kept acyclic by construction: every node of the schedule (an unfused equation or
a cluster) has a position, and an equation joins clusters that produce its inputs only where
the merged cluster can take a position after every node its external inputs come from and
before every node that already consumes it (one of the merged clusters' positions, or a new
one at the end). So two clusters merge when one equation consumes both (``sin(x) + cos(y)``),
and a chain never merges around an unfused equation (``a = exp(x); b = a @ w; a + b``).
Row sums whose cluster takes the vector kernel run as their own reductions of the written
values (a vector loop beats a scalar loop that also sums). A cluster of one operation stays
the original equation.

``fused`` is internal to compiled plans: jit inlines under transformations, so no transform
ever meets it, and its autodiff and batching rules raise NotImplementedError.
"""

from __future__ import annotations

import numpy as np

from . import _codegen, _core, _dtypes
from ._core import Primitive
from ._elementwise import _affine_index
from ._graph import Eqn, Graph

__all__: list = []

MAX_OPS = 160  # operations of one cluster (bounds the generated kernel's compile time)
MAX_ARGS = 52  # kernel arguments estimated while a cluster grows (Taichi's limit is 64)


# --- the primitive -----------------------------------------------------------------------------


def _fused_impl(*ins, cluster):
    return _codegen.run(cluster, ins)


def _fused_abstract(*avals, cluster):
    return list(cluster.out_avals)


fused_p = Primitive("fused", _fused_impl, _fused_abstract, multiple_results=True)


def internal_rule_error(transform: str, name: str = "fused"):
    """The error every transformation rule of jit's internal primitives raises."""
    what = "a fused kernel of elementwise ops" if name == "fused" else "a loop staged by jit"
    return NotImplementedError(
        f"primitive {name!r} has no {transform} rule: it is internal to compiled jit plans "
        f"({what}); transform the function before jit, e.g. fg.jit(fg.grad(f)), or call the "
        "jitted function inside the transform"
    )


class FusedGraph(Graph):
    """A graph after fusion. :meth:`primitive_counts` counts the primitives computed inside
    fused kernels too, plus one ``fused`` per kernel."""

    def primitive_counts(self) -> dict:
        counts: dict = {}
        for e in self.eqns:
            inner = e.params["cluster"].primitive_counts() if e.prim is fused_p else {}
            for name, k in [(e.prim.name, 1), *inner.items()]:
                counts[name] = counts.get(name, 0) + k
        return counts


# --- classification ------------------------------------------------------------------------------


def _size(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _elementwise(e: Eqn) -> bool:
    if len(e.outs) != 1 or _core._registry.get(e.prim.name) is not e.prim:
        return False
    if not _codegen.fusible(e.prim.name, len(e.ins)):
        return False
    out = e.outs[0].aval
    if _size(out.shape) == 0 or out.dtype not in _dtypes.SUPPORTED:
        return False
    for v in e.ins:
        if v.aval.dtype not in _dtypes.SUPPORTED or _affine_index(v.aval.shape, out.shape) is None:
            return False
    return True


def _row_length(e: Eqn):
    """For a ``reduce_sum`` that sums trailing axes (ignoring axes of length one) over more
    than one element: the row length; else None."""
    if e.prim.name != "reduce_sum" or _core._registry.get("reduce_sum") is not e.prim:
        return None
    shape = e.ins[0].aval.shape
    if _size(shape) == 0 or e.ins[0].aval.dtype not in _dtypes.SUPPORTED:
        return None
    axes = set(e.params["axes"])
    kept = [k for k in range(len(shape)) if k not in axes and shape[k] != 1]
    red = [k for k in axes if shape[k] != 1]
    if not red or (kept and max(kept) > min(red)):
        return None
    m = _size([shape[k] for k in red])
    return m if m > 1 else None


# --- clustering -------------------------------------------------------------------------------


class _Node:
    __slots__ = ("pos", "eqns", "shape", "red_m", "fusible")

    def __init__(self, pos, eqn, shape=None, fusible=False):
        self.pos = pos
        self.eqns = [eqn]
        self.shape = shape
        self.red_m = None
        self.fusible = fusible


class _Clusterer:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.index = {id(e): k for k, e in enumerate(graph.eqns)}
        self.producer: dict = {}
        self.consumers: dict = {}
        for e in graph.eqns:
            for o in e.outs:
                self.producer[o.id] = e
            for v in e.ins:
                self.consumers.setdefault(v.id, []).append(e)
        self.out_ids = {v.id for v in graph.out_vars}
        self.slots: list = []  # position -> node (None once merged away)
        self.node_of: dict = {}  # id(eqn) -> node

    def _append(self, e: Eqn, shape=None, fusible=False) -> _Node:
        node = _Node(len(self.slots), e, shape, fusible)
        self.slots.append(node)
        self.node_of[id(e)] = node
        return node

    def _placement(self, members: list, nodes: list):
        """The position the merged cluster can take, or None when merging would make a cycle."""
        ids = {id(e) for e in members}
        ext_in, ext_out = -1, len(self.slots) + 1
        for e in members:
            for v in e.ins:
                p = self.producer.get(v.id)
                if p is None:
                    continue
                if id(p) in ids:
                    if p.prim.name == "reduce_sum":
                        return None  # a row sum is complete only after the loop
                    continue
                ext_in = max(ext_in, self.node_of[id(p)].pos)
            for o in e.outs:
                for c in self.consumers.get(o.id, ()):
                    node = self.node_of.get(id(c))
                    if node is not None and id(c) not in ids:
                        ext_out = min(ext_out, node.pos)
        # At one of the merged clusters' positions, or moved to a new one after every node so
        # far (valid when no node so far consumes the cluster).
        for q in sorted([len(self.slots)] + [n.pos for n in nodes], reverse=True):
            if ext_in < q < ext_out:
                return q
        return None

    def _args_estimate(self, members: list, shape: tuple) -> int:
        """Kernel arguments of a cluster of ``members`` so far: a buffer per input (and a
        (div, mod) pair per broadcast one) and per written value, and sizes."""
        ids = {id(e) for e in members}
        inputs, outputs = {}, 0
        for e in members:
            for v in e.ins:
                p = self.producer.get(v.id)
                if p is None or id(p) not in ids:
                    s = v.aval.shape
                    inputs[v.id] = 1 if s == shape or _size(s) == 1 else 3
            for o in e.outs:
                if o.id in self.out_ids or any(
                    id(c) not in ids and id(c) in self.node_of for c in self.consumers.get(o.id, ())
                ):
                    outputs += 1
        return sum(inputs.values()) + outputs + 5

    def _merge(self, e: Eqn, nodes: list, q: int) -> None:
        target = nodes[0]
        for n in nodes:
            self.slots[n.pos] = None
            if n is target:
                continue
            target.eqns += n.eqns
            if n.red_m is not None:
                target.red_m = n.red_m
            for m in n.eqns:
                self.node_of[id(m)] = target
        if q == len(self.slots):
            self.slots.append(None)
        self.slots[q] = target
        target.pos = q
        target.eqns.append(e)
        target.eqns.sort(key=lambda m: self.index[id(m)])
        self.node_of[id(e)] = target

    def _try_join(self, e: Eqn, candidates: list) -> bool:
        """Merge ``e`` with as many of the candidate clusters as stay acyclic and in bounds."""
        chosen, members, red_m = [], [e], None
        for node in sorted(candidates, key=lambda n: -n.pos):
            trial = members + node.eqns
            if len(trial) > MAX_OPS or self._args_estimate(trial, node.shape) > MAX_ARGS:
                continue
            if None not in (red_m, node.red_m) and red_m != node.red_m:
                continue  # row sums of different lengths cannot share a loop
            if self._placement(trial, chosen + [node]) is not None:
                chosen.append(node)
                members = trial
                red_m = red_m if node.red_m is None else node.red_m
        if not chosen:
            return False
        self._merge(e, chosen, self._placement(members, chosen))
        return True

    def run(self) -> list:
        for e in self.graph.eqns:
            if _elementwise(e):
                shape = e.outs[0].aval.shape
                cands = []
                for v in e.ins:
                    p = self.producer.get(v.id)
                    node = self.node_of.get(id(p)) if p is not None else None
                    if (
                        node is not None
                        and node.fusible
                        and node.shape == shape
                        and v.aval.shape == shape
                        and node not in cands
                    ):
                        cands.append(node)
                if not self._try_join(e, cands):
                    self._append(e, shape, True)
                continue
            m = _row_length(e)
            if m is not None:
                p = self.producer.get(e.ins[0].id)
                node = self.node_of.get(id(p)) if p is not None else None
                if (
                    node is not None
                    and node.fusible
                    and node.shape == e.ins[0].aval.shape
                    and node.red_m in (None, m)
                ):
                    if self._try_join(e, [node]):
                        self.node_of[id(e)].red_m = m
                        continue
            self._append(e)
        return [n for n in self.slots if n is not None]


# --- building the fused graph ------------------------------------------------------------------


def _cluster_of(shape: tuple, elem: list, reds: list, red_m: int, used_outside) -> tuple:
    """(Cluster, input vars, output vars) for elementwise equations ``elem`` (in order) and
    row sums ``reds`` of their values."""
    value: dict = {}
    in_vars: list = []
    inputs = []
    defined = {o.id for e in elem for o in e.outs}
    for e in elem:
        for v in e.ins:
            if v.id not in defined and v.id not in value:
                value[v.id] = len(in_vars)
                in_vars.append(v)
                div, mod = _affine_index(v.aval.shape, shape)
                inputs.append(_codegen.Input(tuple(v.aval.shape), v.aval.dtype, div, mod))
    ops = []
    for e in elem:
        param = e.params.get("y") if e.prim.name == "integer_pow" else None
        args = tuple(value[v.id] for v in e.ins)
        value[e.outs[0].id] = len(in_vars) + len(ops)
        ops.append(_codegen.Op(e.prim.name, args, param, e.outs[0].aval.dtype))
    outs = [e.outs[0] for e in elem if used_outside(e.outs[0])]
    reductions = []
    for e in reds:
        x = e.ins[0]
        r = e.outs[0].aval
        acc = _codegen._kernels_reduce.acc_dtype("sum", x.aval.dtype)
        reductions.append(_codegen.Reduction(value[x.id], tuple(r.shape), r.dtype, acc))
    out_vars = outs + [e.outs[0] for e in reds]
    written = [value[v.id] for v in outs]
    avals = [v.aval for v in out_vars]
    cluster = _codegen.Cluster(shape, inputs, ops, written, avals, reductions, red_m)
    return cluster, in_vars, out_vars


def fuse(graph: Graph) -> FusedGraph:
    """Replace every cluster of fusible equations by one ``fused`` equation."""
    nodes = _Clusterer(graph).run()
    node_of = {id(e): n for n in nodes for e in n.eqns}
    out_ids = {v.id for v in graph.out_vars}
    consumers: dict = {}
    for e in graph.eqns:
        for v in e.ins:
            consumers.setdefault(v.id, []).append(e)
    eqns: list = []
    for node in nodes:
        if not node.fusible or len(node.eqns) < 2:
            eqns += node.eqns
            continue

        def used_outside(v, node=node):
            return v.id in out_ids or any(node_of[id(c)] is not node for c in consumers[v.id])

        eqns += _emit(node.shape, node.eqns, node.red_m, used_outside)
    return FusedGraph(graph.in_vars, graph.const_vars, graph.consts, eqns, graph.out_vars)


def _emit(shape: tuple, members: list, red_m, used_outside) -> list:
    """The equations that compute a cluster's ``members``: one ``fused`` equation, possibly
    followed by row sums run apart; the members themselves when fusing does not pay or the
    kernel would take too many arguments."""
    elem = [e for e in members if e.prim.name != "reduce_sum"]
    reds = [e for e in members if e.prim.name == "reduce_sum"]
    after = []
    if reds and _codegen.simd_lanes(_cluster_of(shape, elem, [], 0, used_outside)[0]):
        # A vector kernel for the elementwise part beats a scalar loop that also sums: the row
        # sums run as their own reductions of the written values.
        red_in = {e.ins[0].id for e in reds}
        after, reds = reds, []

        def used_outside(v, outer=used_outside):
            return outer(v) or v.id in red_in

    if len(elem) + len(reds) < 2:
        return members if not after else elem + after
    cluster, in_vars, out_vars = _cluster_of(shape, elem, reds, red_m or 0, used_outside)
    if _args(cluster) > _codegen.MAX_KERNEL_ARGS:
        return members
    return [Eqn(fused_p, in_vars, {"cluster": cluster}, out_vars)] + after


def _args(c) -> int:
    extra = sum(2 for i in c.inputs if tuple(i.shape) != c.shape and _size(i.shape) != 1)
    return len(c.inputs) + extra + len(c.out_avals) + 5


def sources(graph: Graph) -> list:
    """The generated kernel source of every fused equation of ``graph``, in order."""
    return [_codegen.source(e.params["cluster"]) for e in graph.eqns if e.prim is fused_p]
