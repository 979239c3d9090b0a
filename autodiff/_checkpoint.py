"""checkpoint (remat): recompute a function's intermediate values in the backward pass.

Under reverse mode the checkpointed function first runs on the tape as usual. When it
returns, the nodes it recorded (told from older ones by their creation order) are replaced by
one node that holds a :class:`_Program` -- the recorded primitives with their params and
wiring, but none of their intermediate values -- and whose inputs are the values the function
took from outside: its arguments and any traced values it closed over. The node's VJP replays
the program under ``vjp`` to pull cotangents back. Values without a derivative that the
function used (constants, integer results, values of outer transformations) stay in the
program, since the replay needs them.

Under any other transformation, or none, the function simply runs.
"""

from __future__ import annotations

import functools

from fieldgrad.fields import Primitive, _core
from fieldgrad.fields._core import get_aval
from fieldgrad.fields._dtypes import FLOATS
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from . import _rules
from ._custom import custom_vjp_call_p
from ._jvp import jvp_flat
from ._reverse import Node, VJPTrace, VJPTracer, node_counter, vjp_flat
from ._vmap import vmap

__all__ = ["checkpoint", "remat"]


class _Program:
    """Recorded primitive applications without their values.

    ``steps``: ``(prim, params, sources)`` in order; a source is ``("c", value)`` (a constant),
    ``("x", j)`` (external input ``j``) or ``("n", i, k)`` (output ``k`` of step ``i``).
    """

    __slots__ = ("steps", "outs", "out_avals")

    def __init__(self, steps: tuple, outs: tuple, out_avals: tuple):
        self.steps = steps
        self.outs = outs
        self.out_avals = out_avals

    def run(self, ext) -> list:
        vals: list = []

        def get(src):
            if src[0] == "x":
                return ext[src[1]]
            if src[0] == "n":
                return vals[src[1]][src[2]]
            return src[1]

        for prim, params, srcs in self.steps:
            out = prim.bind(*[get(s) for s in srcs], **params)
            vals.append(out if prim.multiple_results else [out])
        return [get(s) for s in self.outs]

    def __len__(self) -> int:
        return len(self.steps)


def _impl(*ext, program):
    return program.run(ext)


def _abstract(*avals, program):
    return list(program.out_avals)


def _jvp(primals, tangents, *, program):
    return jvp_flat(lambda *xs: program.run(xs), list(primals), list(tangents))


def _vjp(g, ans, *ext, program):
    floats = [k for k, x in enumerate(ext) if get_aval(x).dtype in FLOATS]

    def replay(*xs):
        full = list(ext)
        for k, x in zip(floats, xs):
            full[k] = x
        return program.run(full)

    _, pull = vjp_flat(replay, [ext[k] for k in floats])
    cts = pull(list(g))
    out = [None] * len(ext)
    for k, c in zip(floats, cts):
        out[k] = c
    return tuple(out)


def _batch(vals, dims, *, program):
    outs = vmap(lambda *xs: program.run(xs), in_axes=tuple(dims))(*vals)
    return outs, [0] * len(outs)


# checkpoint: the replay of a recorded program (see above); its JVP and VJP differentiate the
# replay, so it is differentiable to every order; under vmap the replay is batched.
checkpoint_p = Primitive("checkpoint", _impl, _abstract, multiple_results=True)
_rules.register(checkpoint_p, jvp=_jvp, vjp=_vjp, batch=_batch)


def _recorded(roots: list, start: int) -> list:
    """Nodes recorded after ``start`` that ``roots`` depend on, parents first (iterative)."""
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
            if ref is not None and id(ref[0]) not in seen and _inside(ref[0], start):
                stack.append((ref[0], False))
    return order


def _inside(node: Node, start: int) -> bool:
    return node.seq > start and node.prim is not None


def _collapse(trace: VJPTrace, start: int, leaves: list) -> list:
    """Replace the nodes behind ``leaves`` recorded after ``start`` by one checkpoint node."""
    picks = [
        k
        for k, x in enumerate(leaves)
        if isinstance(x, VJPTracer)
        and x._trace.main is trace.main
        and x.ref is not None
        and _inside(x.ref[0], start)
    ]
    if not picks:
        return leaves
    inner = _recorded([leaves[k].ref[0] for k in picks], start)
    index = {id(n): i for i, n in enumerate(inner)}
    ext_refs, ext_vals, ext_pos = [], [], {}

    def source(ref, value):
        if ref is None:
            return ("c", value)
        i = index.get(id(ref[0]))
        if i is not None:
            return ("n", i, ref[1])
        key = (id(ref[0]), ref[1])
        j = ext_pos.get(key)
        if j is None:
            j = ext_pos[key] = len(ext_refs)
            ext_refs.append(ref)
            ext_vals.append(value)
        return ("x", j)

    steps = []
    for n in inner:
        params = n.params
        if n.prim is custom_vjp_call_p:  # drop saved residuals: the replay recomputes them
            params = {"call": params["call"]}
        srcs = tuple(source(r, v) for r, v in zip(n.parents, n.primals))
        steps.append((n.prim, params, srcs))
    outs = [leaves[k].primal for k in picks]
    avals = [get_aval(o) for o in outs]
    program = _Program(
        tuple(steps), tuple(source(leaves[k].ref, None) for k in picks), tuple(avals)
    )
    node = Node(checkpoint_p, {"program": program}, ext_refs, ext_vals, outs, avals)
    new = list(leaves)
    for j, k in enumerate(picks):
        new[k] = VJPTracer(trace, outs[j], (node, j))
    return new


def checkpoint(fun):
    """``fun`` with its intermediate values recomputed in the backward pass instead of stored.

    Under ``grad``/``vjp`` a call of the checkpointed function takes one tape node that keeps
    only the values it reads from outside (its arguments and traced values it closes over,
    e.g. parameters); the backward pass replays its primitives under ``vjp``. Values and
    derivatives are unchanged, in every mode and at every order. Typical use: the step of a
    long rollout, ``fori_loop(0, n, checkpoint(step), x0)`` stores one state per step instead
    of every intermediate value of every step, for one more forward evaluation of each step.

    Args:
        fun: function of pytrees of tensors (any other arguments are passed unchanged).

    Returns:
        The checkpointed function.

    Example:
        >>> import fieldgrad as fg
        >>> f = fg.checkpoint(lambda x: fg.sin(fg.sin(x)))
        >>> round(float(fg.grad(f)(fg.tensor(0.5))), 5)
        0.77864
    """
    if not callable(fun):
        raise TypeError(f"checkpoint expects a function, got {type(fun).__name__}")

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        main = _core._trace_stack[-1]
        if not issubclass(main.trace_type, VJPTrace):
            return fun(*args, **kwargs)
        start = next(node_counter)
        leaves, tree = tree_flatten(fun(*args, **kwargs))
        return tree_unflatten(tree, _collapse(VJPTrace(main), start, leaves))

    return checkpointed


remat = checkpoint
