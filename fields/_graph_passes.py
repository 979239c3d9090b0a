"""Graph simplification passes: constant folding, algebraic simplification, common-subexpression
elimination and dead-code elimination. Each pass returns a new :class:`Graph`."""

from __future__ import annotations

import numpy as np

from ._graph import Eqn, Graph, Var

# Primitives never folded at compile time (they would bake large or random data into the graph).
_NO_FOLD = {
    "random",
    "random_permutation",
    "random_dynamic",
    "random_permutation_dynamic",
    "random_derive",
}
_FOLD_MAX_SIZE = 1 << 16


def _resolve(mapping: dict, v: Var) -> Var:
    """Follow replacements of ``v`` to the variable that finally stands for it."""
    while v.id in mapping:
        v = mapping[v.id]
    return v


def _subst(graph: Graph, mapping: dict, eqns: list, const_vars=None, consts=None) -> Graph:
    def m(v):
        return _resolve(mapping, v)

    new_eqns = [Eqn(e.prim, [m(v) for v in e.ins], e.params, e.outs) for e in eqns]
    return Graph(
        graph.in_vars,
        graph.const_vars if const_vars is None else const_vars,
        graph.consts if consts is None else consts,
        new_eqns,
        [m(v) for v in graph.out_vars],
    )


def dce(graph: Graph) -> Graph:
    """Drop equations whose outputs are never used, and unused constants."""
    live = {v.id for v in graph.out_vars}
    kept = []
    for e in reversed(graph.eqns):
        if any(o.id in live for o in e.outs):
            kept.append(e)
            live.update(v.id for v in e.ins)
    kept.reverse()
    cv, cs = [], []
    for v, c in zip(graph.const_vars, graph.consts):
        if v.id in live:
            cv.append(v)
            cs.append(c)
    return Graph(graph.in_vars, cv, cs, kept, graph.out_vars)


def _param_key(params: dict):
    try:
        key = tuple(sorted(params.items()))
        hash(key)
        return key
    except TypeError:
        return None


def cse(graph: Graph) -> Graph:
    """Merge equations that apply the same primitive with the same params to the same inputs,
    and scalar constants of equal value and dtype."""
    seen: dict = {}
    mapping: dict[int, Var] = {}
    scalars: dict = {}
    for v, c in zip(graph.const_vars, graph.consts):
        if c.size == 1:
            key = (c.dtype, tuple(c.shape), c.weak_type, np.asarray(c.numpy()).tobytes())
            if key in scalars:
                mapping[v.id] = scalars[key]
            else:
                scalars[key] = v
    kept = []
    for e in graph.eqns:
        ins = [_resolve(mapping, v) for v in e.ins]
        pk = _param_key(e.params)
        key = (
            None
            if pk is None or e.prim.name in _NO_FOLD
            else (e.prim, tuple(v.id for v in ins), pk)
        )
        if key is not None and key in seen:
            for old, new in zip(e.outs, seen[key]):
                mapping[old.id] = new
            continue
        if key is not None:
            seen[key] = e.outs
        kept.append(Eqn(e.prim, ins, e.params, e.outs))
    return _subst(graph, mapping, kept)


def fold_constants(graph: Graph) -> Graph:
    """Evaluate at compile time every small equation whose inputs are all constants."""
    const_val = {v.id: c for v, c in zip(graph.const_vars, graph.consts)}
    cv, cs = list(graph.const_vars), list(graph.consts)
    kept = []
    for e in graph.eqns:
        foldable = (
            e.prim.name not in _NO_FOLD
            and all(v.id in const_val for v in e.ins)
            and all(o.aval.size <= _FOLD_MAX_SIZE for o in e.outs)
        )
        if not foldable:
            kept.append(e)
            continue
        out = e.prim.impl(*[const_val[v.id] for v in e.ins], **e.params)
        outs = out if e.prim.multiple_results else [out]
        for var, val in zip(e.outs, outs):
            const_val[var.id] = val
            cv.append(var)
            cs.append(val)
    return dce(Graph(graph.in_vars, cv, cs, kept, graph.out_vars))


def _const_scalar(graph_consts: dict, v):
    c = graph_consts.get(v.id)
    if c is None or c.size != 1:
        return None
    return float(np.asarray(c.numpy()).reshape(()))


def simplify(graph: Graph) -> Graph:
    """Algebraic identities on exact values: x*1, 1*x, x+0, 0+x, x-0, x/1, neg(neg(x)),
    reshape/transpose that change nothing. Only where the result keeps x's shape and dtype."""
    consts = {v.id: c for v, c in zip(graph.const_vars, graph.consts)}
    producer: dict[int, Eqn] = {}
    mapping: dict[int, Var] = {}
    kept = []
    for e in graph.eqns:
        ins = [_resolve(mapping, v) for v in e.ins]
        out = e.outs[0] if len(e.outs) == 1 else None
        repl = None
        name = e.prim.name
        if out is not None and len(ins) == 2 and name in ("mul", "add", "sub", "div"):
            a, b = ins
            ca, cb = _const_scalar(consts, a), _const_scalar(consts, b)
            if name == "mul" and cb == 1.0:
                repl = a
            elif name == "mul" and ca == 1.0:
                repl = b
            elif name == "add" and cb == 0.0:
                repl = a
            elif name == "add" and ca == 0.0:
                repl = b
            elif name in ("sub", "div") and cb == (0.0 if name == "sub" else 1.0):
                repl = a
        elif out is not None and name == "integer_pow" and e.params.get("y") == 1:
            repl = ins[0]
        elif out is not None and name == "neg":
            p = producer.get(ins[0].id)
            if p is not None and p.prim.name == "neg":
                repl = p.ins[0]
        elif out is not None and name in ("reshape", "broadcast_to") and len(ins) == 1:
            if tuple(ins[0].aval.shape) == tuple(out.aval.shape):
                repl = ins[0]
        if (
            repl is not None
            and repl.aval.shape == out.aval.shape
            and repl.aval.dtype == out.aval.dtype
        ):
            mapping[out.id] = repl
            continue
        ne = Eqn(e.prim, ins, e.params, e.outs)
        for o in e.outs:
            producer[o.id] = ne
        kept.append(ne)
    return dce(_subst(graph, mapping, kept))


def _is_last_two_swap(perm: tuple) -> bool:
    n = len(perm)
    return n >= 2 and tuple(perm) == tuple(range(n - 2)) + (n - 1, n - 2)


def fold_transposes_into_matmul(graph: Graph) -> Graph:
    """``matmul(transpose(a), b)`` -> ``matmul_t(a, b, transpose_a=True)`` (likewise for b),
    when the transpose swaps the last two axes. BLAS then reads the transposed operand in place.
    """
    from ._ops_matmul_t import matmul_t_p

    producer = {o.id: e for e in graph.eqns for o in e.outs}
    kept = []
    for e in graph.eqns:
        if e.prim.name == "matmul" and all(v.aval.ndim >= 2 for v in e.ins):
            flags, ins = [], []
            for v in e.ins:
                p = producer.get(v.id)
                if (
                    p is not None
                    and p.prim.name == "transpose"
                    and _is_last_two_swap(p.params["perm"])
                ):
                    flags.append(True)
                    ins.append(p.ins[0])
                else:
                    flags.append(False)
                    ins.append(v)
            if any(flags):
                e = Eqn(matmul_t_p, ins, {"transpose_a": flags[0], "transpose_b": flags[1]}, e.outs)
        kept.append(e)
    return dce(Graph(graph.in_vars, graph.const_vars, graph.consts, kept, graph.out_vars))


# Primitives that map an all-zero input to an all-zero output, whatever their other inputs
# (assuming finite values, as symbolic zeros do in other autodiff systems).
_ZERO_ANY = {"mul", "matmul", "matmul_t", "conv2d", "conv2d_input", "conv2d_weight"}
_ZERO_LINEAR = {
    "neg",
    "reshape",
    "transpose",
    "broadcast_to",
    "reduce_sum",
    "slice",
    "gather",
    "convert_element_type",
    "fd_grad",
    "fd_div",
    "fd_laplacian",
    "diagonal",
}


def propagate_zeros(graph: Graph) -> Graph:
    """Replace values known to be all zero (zero constants times anything, linear maps of
    zeros) by zero constants, and drop additions of them. The zero tangents of parameters that
    forward mode creates inside a gradient disappear this way."""
    from ._creation import zeros

    zero_ids = set()
    for v, c in zip(graph.const_vars, graph.consts):
        if c.size and c.dtype.kind == "f" and not np.any(np.asarray(c.numpy())):
            zero_ids.add(v.id)
    cv, cs = list(graph.const_vars), list(graph.consts)
    mapping: dict[int, Var] = {}
    kept = []
    for e in graph.eqns:
        ins = [_resolve(mapping, v) for v in e.ins]
        name = e.prim.name
        out = e.outs[0] if len(e.outs) == 1 else None
        zin = [v.id in zero_ids for v in ins]
        make_zero = (
            out is not None
            and out.aval.dtype.kind == "f"
            and (
                (name in _ZERO_ANY and any(zin))
                or (name in _ZERO_LINEAR and zin and zin[0])
                or (name in ("add", "sub") and all(zin))
            )
        )
        if make_zero:
            z = zeros(out.aval.shape, dtype=out.aval.dtype)
            cv.append(out)
            cs.append(z)
            zero_ids.add(out.id)
            continue
        if out is not None and name in ("add", "sub") and any(zin):
            other = ins[1] if zin[0] else ins[0]
            if name == "add" or zin[1]:
                if other.aval.shape == out.aval.shape and other.aval.dtype == out.aval.dtype:
                    mapping[out.id] = other
                    continue
        kept.append(Eqn(e.prim, ins, e.params, e.outs))
    return dce(_subst(graph, mapping, kept, cv, cs))


def optimize(graph: Graph) -> Graph:
    """The default pipeline: fold, simplify, zeros, CSE, transposes into matmuls, DCE."""
    g = propagate_zeros(simplify(fold_constants(graph)))
    return dce(fold_transposes_into_matmul(cse(simplify(g))))
