"""``fg.jit``: trace once per input signature, simplify the graph, run it with little Python.

A jitted function flattens its arguments (pytrees: tensors, modules, optimiser states), keys
a cache on the signature (tree structure, shapes, dtypes, static arguments), stages the
function into a graph on the first call with that signature, optimises the graph
(:mod:`fieldgrad.fields._graph_passes`) and compiles it to an execution plan: a flat list of
primitive implementations with preassigned value slots, released after their last use.

Calling a jitted function on tracers (inside ``grad``, ``jvp``, ``vmap`` or another ``jit``)
inlines it: the transformation sees the function's primitives directly, so every composition
works (``grad(jit(f))``, ``jit(grad(f))``, ``vmap(jit(f))``, ...).
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Callable

from . import _fusion, _replay, _runtime
from ._core import Tracer
from ._graph import Graph
from ._graph_passes import optimize
from ._pytree import tree_flatten, tree_unflatten
from ._staging import stage
from ._tensor import Tensor, asarray

__all__ = ["jit", "make_graph"]


class _Plan:
    """An executable form of a graph: slots instead of variables."""

    def __init__(self, graph: Graph):
        self.graph = graph
        slot: dict[int, int] = {}

        def s(v):
            if v.id not in slot:
                slot[v.id] = len(slot)
            return slot[v.id]

        self.in_slots = [s(v) for v in graph.in_vars]
        self.const_slots = [s(v) for v in graph.const_vars]
        steps = []
        for e in graph.eqns:
            steps.append(
                (
                    e.prim.impl,
                    [s(v) for v in e.ins],
                    e.params,
                    [s(v) for v in e.outs],
                    e.prim.multiple_results,
                )
            )
        self.out_slots = [s(v) for v in graph.out_vars]
        self.nslots = len(slot)
        # Release each slot after its last use (outputs and constants are kept).
        keep = set(self.out_slots) | set(self.const_slots)
        last: dict[int, int] = {}
        for k, (_, ins, _, _, _) in enumerate(steps):
            for i in ins:
                last[i] = k
        self.steps = []
        for k, (impl, ins, params, outs, multi) in enumerate(steps):
            free = [i for i in set(ins) if last.get(i) == k and i not in keep]
            self.steps.append((impl, ins, params, outs, multi, free))

        self._replay = None  # the recorded program (fields/_replay.py); False: none possible

    def run(self, args: list) -> list:
        r = self._replay
        if r:
            if r.lock.acquire(False):  # one call at a time: the inner buffers are shared
                try:
                    return r.run(args)
                finally:
                    r.lock.release()
        elif r is None:
            out, rep = _replay.record(self, args)
            self._replay = rep or False
            return out
        return self.run_steps(args)

    def run_steps(self, args: list) -> list:
        """Run the implementations one by one (the first call, and where replay is off)."""
        env: list[Any] = [None] * self.nslots
        for i, a in zip(self.in_slots, args):
            env[i] = a
        for i, c in zip(self.const_slots, self.graph.consts):
            env[i] = c
        for impl, ins, params, outs, multi, free in self.steps:
            res = impl(*[env[i] for i in ins], **params)
            if multi:
                for o, r in zip(outs, res):
                    env[o] = r
            else:
                env[outs[0]] = res
            for i in free:
                env[i] = None
        return [env[i] for i in self.out_slots]


@functools.lru_cache(maxsize=64)
def _flat_tree(n: int):
    """The tree structure of a tuple of ``n`` tensors."""
    return tree_flatten(tuple(range(n)))[1]


class Jitted:
    """A jit-compiled function. Call it like the original; inspect ``cache_info()``."""

    def __init__(
        self,
        f: Callable,
        static_argnums: tuple,
        optimize_graph: bool,
        fuse: bool = True,
        dump_source=False,
    ):
        self.f = f
        self.static_argnums = static_argnums
        self.optimize_graph = optimize_graph
        self.fuse = fuse
        self.dump_source = dump_source
        self._cache: dict = {}
        self.hits = 0
        self.misses = 0
        functools.update_wrapper(self, f)

    def _split(self, args):
        nargs = len(args)
        static = set()
        for a in self.static_argnums:
            if not -nargs <= a < nargs:
                raise ValueError(
                    f"jit: static_argnums {self.static_argnums} out of range for {nargs} arguments"
                )
            static.add(a % nargs)
        dyn = tuple(a for k, a in enumerate(args) if k not in static)
        st = tuple((k, args[k]) for k in sorted(static))
        try:
            hash(st)
        except TypeError:
            raise TypeError(
                "jit: static arguments must be hashable (they key the compilation cache); got "
                + ", ".join(type(v).__name__ for _, v in st)
            ) from None
        return dyn, st

    def _call_f(self, dyn_args, static, kwargs):
        full = list(dyn_args)
        for k, v in static:
            full.insert(k, v)
        return self.f(*full, **kwargs)

    def lower(self, *args, **kwargs):
        """Stage and optimise for these arguments; returns (plan, out_tree) (cached)."""
        _runtime.ensure_init()
        dyn, static = self._split(args)
        leaves, in_tree = tree_flatten(dyn)
        return self._lookup(leaves, in_tree, static, kwargs)

    def _lookup(self, leaves, in_tree, static, kwargs):
        """The cached (plan, out_tree) for flattened dynamic arguments, staging on a miss."""
        leaves = [x if isinstance(x, (Tensor, Tracer)) else asarray(x) for x in leaves]
        sig = tuple([(x.shape, x.dtype, x.weak_type) for x in leaves])
        key = (
            in_tree,
            sig,
            static,
            tuple(sorted(kwargs.items())) if kwargs else (),
            _runtime._state["generation"],
        )
        entry = self._cache.get(key)
        if entry is not None:
            self.hits += 1
            return entry, leaves
        self.misses += 1
        avals = tuple(x.aval for x in leaves)

        def f_flat(*xs):
            return self._call_f(tree_unflatten(in_tree, list(xs)), static, kwargs)

        graph, out_tree = stage(f_flat, list(avals))
        if self.optimize_graph:
            graph = optimize(graph)
            if self.fuse:
                graph = _fusion.fuse(graph)
                if self.dump_source:
                    _dump(self.dump_source, _fusion.sources(graph))
        entry = (_Plan(graph), out_tree)
        self._cache[key] = entry
        return entry, leaves

    def __call__(self, *args, **kwargs):
        dyn, static = self._split(args) if self.static_argnums else (args, ())
        if all([type(a) is Tensor for a in dyn]):  # flat tensor arguments: no tree to walk
            leaves, in_tree = list(dyn), _flat_tree(len(dyn))
        else:
            leaves, in_tree = tree_flatten(dyn)
        if any(isinstance(x, Tracer) for x in leaves):
            return self.f(*args, **kwargs)  # inline under an enclosing transformation
        if not _runtime._state["initialized"]:
            _runtime.ensure_init()
        (plan, out_tree), leaves = self._lookup(leaves, in_tree, static, kwargs)
        return tree_unflatten(out_tree, plan.run(leaves))

    def graph(self, *args, **kwargs) -> Graph:
        """The optimised graph for these arguments."""
        (plan, _), _ = self.lower(*args, **kwargs)
        return plan.graph

    def cache_info(self) -> dict:
        """Compilation cache statistics: hits, misses (traces) and entries."""
        return {"hits": self.hits, "misses": self.misses, "entries": len(self._cache)}

    def clear_cache(self) -> None:
        self._cache.clear()


def _dump(target, sources: list) -> None:
    """Hand each generated kernel source to ``target``: True prints it, a callable gets it."""
    from ._codegen import module_path

    for src in sources:
        if callable(target):
            target(src)
        else:
            print(f"# ---- {module_path(src)}\n{src}")


def jit(
    f: Callable = None,
    *,
    static_argnums=(),
    optimize: bool = True,
    fuse: bool = True,
    dump_source=False,
):
    """Compile ``f``: trace once per input signature into a graph of primitives, simplify it
    (constant folding, algebraic identities, common subexpressions, dead code), fuse chains of
    elementwise ops and row sums into generated kernels, and replay it.

    Args:
        f: a function of pytrees of tensors (and static arguments).
        static_argnums: positions of arguments that are Python values baked into the trace
            (hashable; each distinct value compiles anew).
        optimize: run the graph passes (default True).
        fuse: with ``optimize``, fuse elementwise chains into one generated Taichi kernel each
            (default True).
        dump_source: print the source of every generated kernel when a signature compiles
            (True), or pass each source text to this callable.

    Returns:
        A :class:`Jitted` callable. A new input signature (tree structure, shapes, dtypes,
        static values) traces again; ``cache_info()`` counts hits and misses.

    Raises:
        TypeError: the function uses a traced value in Python control flow (use ``fg.where``),
            or a static argument is unhashable.

    Example:
        >>> import fieldgrad as fg
        >>> f = fg.jit(lambda x: fg.sum(fg.sin(x) ** 2))
        >>> round(float(f(fg.tensor([0.5, 1.0]))), 5)
        0.93792
        >>> f.cache_info()["misses"]
        1
    """
    if f is None:
        return lambda g: jit(
            g, static_argnums=static_argnums, optimize=optimize, fuse=fuse, dump_source=dump_source
        )
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(operator.index(a) for a in static_argnums)
    return Jitted(f, static_argnums, optimize, fuse, dump_source)


def make_graph(f: Callable, *, static_argnums=(), optimize: bool = False):
    """A function returning the graph ``f`` stages to for given arguments (printable).

    Example:
        >>> import fieldgrad as fg
        >>> print(fg.make_graph(lambda x: fg.exp(x) * 2.0)(fg.ones(3)))  # doctest: +ELLIPSIS
        { lambda a:f32[] ; b:f32[3] .
            c:f32[3] = exp b
            d:f32[3] = mul c a
          in (d) }
    """
    j = jit(f, static_argnums=static_argnums, optimize=optimize, fuse=False)

    def graph_of(*args, **kwargs) -> Graph:
        return j.graph(*args, **kwargs)

    return graph_of


def is_jitted(f) -> bool:
    return isinstance(f, Jitted)
