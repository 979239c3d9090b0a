"""``fori_loop`` and ``scan`` under ``jit``: the body staged once and run as a loop (a
``fori_loop`` in one kernel where it can).

Outside ``jit`` (and under every autodiff or batching transformation) ``fori_loop`` runs its
body in Python, step by step, so transformations see every step. Directly under a ``jit``
staging trace it instead stages the body once, on an abstract loop index and carry, and
records one ``fori_loop`` equation whose static ``body`` holds the body's graph. Tensors the
body closes over that belong to the enclosing staged function become extra inputs.

Running the equation runs the body's compiled plan ``upper - lower`` times (replayed after the
first step, so a step costs its launches and little Python). When the optimised body is a
single fused elementwise cluster that maps the carries to the new carries (and does not read
the loop index), the whole loop becomes one generated kernel: every element loads its carries,
applies the body ``upper - lower`` times in registers and stores the result once.

``scan`` stages ``f(carry, x) -> (carry, y)`` once on a carry and one slice of each scanned
input; its equation runs the body's plan once per step on the slices and stacks the ``y``
outputs at the end.

The equations never meet a transformation: ``jit`` inlines under them, so the loops see their
tracers and unroll. Their rules raise ``NotImplementedError``.
"""

from __future__ import annotations

import copy

from . import _buffer, _codegen, _dtypes, _launch, _runtime, _simd
from ._core import Primitive, ShapedArray, Tracer, get_aval
from ._tensor import Tensor, scalar

__all__: list = []


class LoopBody:
    """The static description of a staged loop body (hashes by identity)."""

    def __init__(self, graph, n_carry: int, n_captured: int):
        self.graph = graph  # inputs: index, carries, captured; outputs: the new carries
        self.n_carry = n_carry
        self.n_captured = n_captured
        self._plan = None
        self._kernel = None  # (kernel, cluster, carry positions) or False

    def __repr__(self) -> str:
        return f"<loop body: {len(self.graph.eqns)} eqns, {self.n_carry} carries>"

    def plan(self):
        if self._plan is None:
            from . import _fusion
            from ._graph_passes import optimize
            from ._jit import _Plan

            g = optimize(self.graph)
            if _runtime._state["arch"] == "cpu":
                g = _fusion.fuse(g)
            self._plan = _Plan(g)
            self._kernel = _loop_kernel(g, self.n_carry) or False
        return self._plan


def _impl(*ins, lower: int, upper: int, body: LoopBody):
    carry = list(ins[: body.n_carry])
    captured = list(ins[body.n_carry :])
    plan = body.plan()
    steps = upper - lower
    if steps <= 0:
        return carry
    if body._kernel:
        return _run_kernel(body._kernel, plan.graph, carry, captured, steps)
    for i in range(lower, upper):
        idx = scalar(i, _dtypes.int32, weak_type=False)
        carry = plan.run([idx, *carry, *captured])
    return carry


def _abstract(*avals, lower: int, upper: int, body: LoopBody):
    return [ShapedArray(a.shape, a.dtype, a.weak_type) for a in avals[: body.n_carry]]


# fori_loop: ``carry = body(i, carry, *captured)`` for i in [lower, upper) (staged under jit).
loop_p = Primitive("fori_loop", _impl, _abstract, multiple_results=True)


# --- staging ------------------------------------------------------------------------------------


def stage_loop(lower: int, upper: int, body_fun, carry_leaves: list, carry_tree):
    """The loop's outputs from one ``fori_loop`` equation, or None to unroll instead.

    Used when the innermost trace is a ``jit`` staging trace. Returns None when the body
    cannot be staged on an abstract index (Python control flow on ``i``), changes a carry's
    dtype, or closes over tracers of another transformation.
    """
    from . import _core
    from ._pytree import tree_flatten, tree_unflatten
    from ._staging import StagingTrace, StagingTracer, stage

    main = _core._dynamic
    if main is None or main.trace_type is not StagingTrace:
        return None
    for x in carry_leaves:
        if isinstance(x, Tracer) and not (isinstance(x, StagingTracer) and x._trace.main is main):
            return None
    avals = [get_aval(x) for x in carry_leaves]
    if any(a.weak_type for a in avals):
        return None  # a weak carry may be promoted at the first step: unroll

    def f_flat(i, *xs):
        out = body_fun(i, tree_unflatten(carry_tree, list(xs)))
        leaves, tree = tree_flatten(out)
        if tree != carry_tree:
            raise TypeError("fori_loop body changed the carry structure")
        return leaves

    try:
        graph, _ = stage(f_flat, [ShapedArray((), _dtypes.int32), *avals])
    except Exception:  # noqa: BLE001 - the unrolled loop raises the user's error, if any
        return None
    for v, a in zip(graph.out_vars, avals):
        if tuple(v.aval.shape) != tuple(a.shape) or v.aval.dtype != a.dtype:
            return None
    captured, const_vars, consts = [], [], []
    cap_vars = []
    for v, c in zip(graph.const_vars, graph.consts):
        if isinstance(c, Tracer):
            if not (isinstance(c, StagingTracer) and c._trace.main is main):
                return None
            captured.append(c)
            cap_vars.append(v)
        else:
            const_vars.append(v)
            consts.append(c)
    from ._graph import Graph

    g = Graph(
        [graph.in_vars[0], *graph.in_vars[1:], *cap_vars],
        const_vars,
        consts,
        graph.eqns,
        graph.out_vars,
    )
    body = LoopBody(g, len(carry_leaves), len(captured))
    return loop_p.bind(*carry_leaves, *captured, lower=lower, upper=upper, body=body)


# --- the loop as one kernel ---------------------------------------------------------------------


def _loop_kernel(g, n_carry: int):
    """(kernel, cluster, carry input positions) when the body is one fused cluster."""
    if len(g.eqns) != 1 or g.eqns[0].prim.name != "fused":
        return None
    e = g.eqns[0]
    c = e.params["cluster"]
    if c.reductions or len(c.outputs) != n_carry:
        return None
    outs = list(e.outs)
    if (
        any(not any(v is o for o in outs) for v in g.out_vars)
        or len(set(map(id, g.out_vars))) != n_carry
    ):
        return None
    order = [next(j for j, o in enumerate(outs) if o is v) for v in g.out_vars]
    index_var, carry_vars = g.in_vars[0], g.in_vars[1 : 1 + n_carry]
    if any(v is index_var for v in e.ins):
        return None
    pos = []
    for cv in carry_vars:
        if tuple(cv.aval.shape) != c.shape:
            return None
        hits = [k for k, v in enumerate(e.ins) if v is cv]
        pos.append(hits[0] if hits else None)
    if c.lanes:  # vector lanes, as the cluster's own kernel would have
        sc = c
        nbytes = c.n * sum(a.dtype.itemsize for a in [*c.inputs, *c.out_avals])
        src = _loop_source_simd(sc, pos, order, nbytes <= STEP_OUTER_BYTES)
        ser = True
        config = _simd._kernel_config(_codegen._lane_dtype(sc))
    else:
        sc = copy.copy(c)
        sc.lanes, sc.variant, sc._source, sc._launcher = 0, "scalar", None, None
        src = _loop_source(sc, pos, order)
        ser = _launch.serial(c.n)
        config = None
    key = ("fused_loop", _codegen.source_hash(src), ser)

    def factory():
        ti = _runtime.taichi()
        return _codegen.load_module(src).build(_codegen._bodies(sc, ti), ser)

    return _launch.kernel(key, factory, config=config), sc, order


def _loop_source(c, pos: list, order: list) -> str:
    """Kernel source: carry ``k`` is input ``pos[k]`` (or unread) and output ``order[k]``."""
    kinds = [_codegen._kind(c, i) for i in c.inputs]
    params, scalars = _codegen._signature(c, kinds, False)
    scalars = ["n: ti.i32", "steps: ti.i32"] + scalars
    names = [f"a{k}" for k in range(len(c.inputs))] + [f"v{k}" for k in range(len(c.ops))]
    carried = {p: k for k, p in enumerate(pos) if p is not None}
    pre, body = [], []
    for k, kind in enumerate(kinds):
        index = {"full": "i", "scalar": "0", "affine": f"(i // d{k}) % m{k}"}[kind]
        if k in carried:
            pre.append(f"c{carried[k]} = x{k}[{index}]")
            body.append(f"a{k} = c{carried[k]}")
        else:
            pre.append(f"a{k} = x{k}[{index}]")
    for k, p in enumerate(pos):
        if p is None:  # a carry the body does not read: its first value is the body's
            dt = _codegen._TI_NAME[c.out_avals[order[k]].dtype.name]
            pre.append(f"c{k} = ti.cast(0, {dt})")
    for k, op in enumerate(c.ops):
        body += _codegen._op_lines(c, k, op, names)
    for k, j in enumerate(order):
        body.append(f"c{k} = {names[c.outputs[j]]}")
    lines = _codegen._header(c, "loop") + _codegen._unpack_bodies(c)
    lines += ["", "    @ti.kernel", "    def fused_k("]
    lines += [f"        {p}," for p in params + scalars]
    lines += ["    ):", "        ti.loop_config(serialize=serial)", "        for i in range(n):"]
    lines += [f"            {s}" for s in pre]
    lines += ["            for _step in range(steps):", *[f"                {s}" for s in body]]
    lines += [f"            y{j}[i] = c{k}" for k, j in enumerate(order)]
    lines += ["", "    return fused_k", ""]
    return "\n".join(lines)


# Loops whose data (every input and output) fits in this many bytes run steps outside and lane
# groups inside: consecutive groups are independent, so their arithmetic overlaps instead of
# waiting on one group's chain of steps; larger data keeps each group's carries in registers
# for all its steps (one pass over memory).
STEP_OUTER_BYTES = 256 << 10


def _loop_source_simd(c, pos: list, order: list, step_outer: bool) -> str:
    """The vector variant of :func:`_loop_source` (lane groups of ``c.lanes`` elements)."""
    lanes = c.lanes
    ft = _codegen._TI_NAME[_codegen._lane_dtype(c).name]
    kinds = [_codegen._kind(c, i) for i in c.inputs]
    params, scalars = _codegen._signature(c, kinds, True)
    names = [f"a{k}" for k in range(len(c.inputs))] + [f"v{k}" for k in range(len(c.ops))]
    carried = {p: k for k, p in enumerate(pos) if p is not None}
    splat = f"for _ in ti.static(range({lanes}))"
    pre, elem, first, body = [], [], [], []
    for k, kind in enumerate(kinds):
        if k in carried:
            kc = carried[k]
            src = f"y{order[kc]}[i]" if step_outer else f"cr{kc}"
            first.append(f"cr{kc} = x{k}[i]")
            body.append(f"a{k} = {src}")
        elif kind == "full":
            elem.append(f"a{k} = x{k}[i]")
        elif kind == "scalar":
            pre += [f"c{k} = x{k}[0]", f"s{k} = ti.Vector([c{k} {splat}])"]
            elem.append(f"a{k} = s{k}")
        elif kind == "row":
            elem.append(f"a{k} = x{k}[i % m{k}]")
        elif kind == "col":
            elem.append(f"c{k} = x{k}[(i * {lanes} // d{k}) % m{k}]")
            elem.append(f"a{k} = ti.Vector([c{k} {splat}])")
        else:
            idx = f"((i * {lanes} + j) // d{k}) % m{k}"
            elem.append(f"a{k} = ti.Vector([x{k}[{idx}] for j in ti.static(range({lanes}))])")
    for k, p in enumerate(pos):
        if p is None:
            first.append(f"cr{k} = ti.Vector([ti.cast(0, {ft}) {splat}])")
    for k, op in enumerate(c.ops):
        body += _codegen._op_lines(c, k, op, names)
    lines = _codegen._header(c, f"loop simd{lanes}") + _codegen._unpack_bodies(c)
    lines += [f"    V = ti.types.vector({lanes}, {ft})", "", "    @ti.kernel", "    def fused_k("]
    lines += [f"        {p}," for p in params + ["g: ti.i32", "steps: ti.i32"] + scalars]
    lines += ["    ):", *[f"        {x}" for x in pre], "        ti.loop_config(serialize=serial)"]
    if step_outer:  # the outputs hold the carries between steps
        lines += ["        for i in range(g):", *[f"            {x}" for x in first]]
        lines += [f"            y{j}[i] = cr{k}" for k, j in enumerate(order)]
        lines += ["        ti.loop_config(serialize=True)"]
        lines += ["        for _step in range(steps):", "            for i in range(g):"]
        lines += [f"                {x}" for x in elem + body]
        lines += [
            f"                y{order[k]}[i] = {names[c.outputs[order[k]]]}"
            for k in range(len(order))
        ]
    else:
        body += [f"cr{k} = {names[c.outputs[j]]}" for k, j in enumerate(order)]
        lines += ["        for i in range(g):", *[f"            {x}" for x in first + elem]]
        lines += ["            for _step in range(steps):", *[f"                {x}" for x in body]]
        lines += [f"            y{j}[i] = cr{k}" for k, j in enumerate(order)]
    lines += ["", "    return fused_k", ""]
    return "\n".join(lines)


def _run_kernel(kern, graph, carry: list, captured: list, steps: int) -> list:
    k, c, order = kern
    e = graph.eqns[0]
    env = {}
    for v, t in zip(graph.in_vars[1:], [*carry, *captured]):
        env[v] = t
    for v, t in zip(graph.const_vars, graph.consts):
        env[v] = t
    ins = [env[v] for v in e.ins]
    kinds = [_codegen._kind(c, i) for i in c.inputs]
    per_input = []
    for inp, kind in zip(c.inputs, kinds):
        if kind in ("affine", "col", "gather"):
            per_input += [inp.div, inp.mod]
        elif kind == "row":
            per_input.append(inp.mod // c.lanes)
    kv = _buffer.kernel_view
    outs = [_buffer.empty(c.n, a.dtype) for a in c.out_avals]
    if c.lanes:
        lanes = c.lanes
        g = -(-c.n // lanes)
        args = []
        for t, kind in zip(ins, kinds):
            if kind == "full":
                args.append(_simd.lane_view(t._buf, c.n, lanes))
            elif kind == "row":
                args.append(_simd.lane_view(t._buf, t.size, lanes))
            else:
                args.append(t._buf)
        args += [b[: g * lanes].reshape(g, lanes) for b in outs]
        _launch.launch(k, *args, g, int(steps), *per_input)
    else:
        args = [kv(t._buf) for t in ins] + [kv(b) for b in outs]
        _launch.launch(k, *args, c.n, int(steps), *per_input)
    res = [Tensor._new(b, tuple(a.shape), a.dtype, a.weak_type) for b, a in zip(outs, c.out_avals)]
    return [res[j] for j in order]


def loop_kernel_of(body: LoopBody) -> bool:
    """Whether ``body`` runs as one kernel (for tests and inspection)."""
    body.plan()
    return bool(body._kernel)


# --- scan ---------------------------------------------------------------------------------------


class ScanBody(LoopBody):
    """A staged scan body: inputs carries, one slice per scanned input, captured values;
    outputs the new carries then the step's ``y`` leaves."""

    def __init__(self, graph, n_carry: int, n_xs: int, n_captured: int):
        super().__init__(graph, n_carry, n_captured)
        self.n_xs = n_xs

    def __repr__(self) -> str:
        return f"<scan body: {len(self.graph.eqns)} eqns, {self.n_carry} carries, {self.n_xs} xs>"

    def plan(self):
        if self._plan is None:
            from . import _fusion
            from ._graph_passes import optimize
            from ._jit import _Plan

            g = optimize(self.graph)
            if _runtime._state["arch"] == "cpu":
                g = _fusion.fuse(g)
            self._plan = _Plan(g)
        return self._plan


def _scan_impl(*ins, length: int, reverse: bool, body: ScanBody):
    from ._ops_join import stack

    nc, nx = body.n_carry, body.n_xs
    carry = list(ins[:nc])
    xs = list(ins[nc : nc + nx])
    captured = list(ins[nc + nx :])
    plan = body.plan()
    ys: list = [None] * length
    for i in reversed(range(length)) if reverse else range(length):
        out = plan.run([*carry, *[x[i] for x in xs], *captured])
        carry, ys[i] = out[:nc], out[nc:]
    n_y = len(body.graph.out_vars) - nc
    return carry + [stack([y[k] for y in ys], axis=0) for k in range(n_y)]


def _scan_abstract(*avals, length: int, reverse: bool, body: ScanBody):
    nc = body.n_carry
    out = [ShapedArray(a.shape, a.dtype, a.weak_type) for a in avals[:nc]]
    for v in body.graph.out_vars[nc:]:
        out.append(ShapedArray((length, *v.aval.shape), v.aval.dtype))
    return out


# scan: ``carry, ys[i] = body(carry, xs[i], *captured)`` over the leading axis (staged by jit).
scan_p = Primitive("scan", _scan_impl, _scan_abstract, multiple_results=True)


def stage_scan(
    f, carry_leaves: list, carry_tree, x_leaves: list, x_tree, length: int, reverse: bool
):
    """``(carry leaves, y leaves, y tree)`` from one ``scan`` equation, or None to unroll."""
    from . import _core
    from ._graph import Graph
    from ._pytree import tree_flatten, tree_unflatten
    from ._staging import StagingTrace, StagingTracer, stage

    main = _core._dynamic
    if main is None or main.trace_type is not StagingTrace or length < 1:
        return None
    for x in [*carry_leaves, *x_leaves]:
        if isinstance(x, Tracer) and not (isinstance(x, StagingTracer) and x._trace.main is main):
            return None
    c_avals = [get_aval(x) for x in carry_leaves]
    if any(a.weak_type for a in c_avals):
        return None
    x_avals = [ShapedArray(tuple(get_aval(x).shape[1:]), get_aval(x).dtype) for x in x_leaves]
    meta = {}

    def f_flat(*vals):
        c = tree_unflatten(carry_tree, list(vals[: len(c_avals)]))
        x = tree_unflatten(x_tree, list(vals[len(c_avals) :]))
        out = f(c, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("scan body must return a pair")
        c_leaves, tree = tree_flatten(out[0])
        if tree != carry_tree:
            raise TypeError("scan body changed the carry structure")
        y_leaves, meta["y_tree"] = tree_flatten(out[1])
        return [*c_leaves, *y_leaves]

    try:
        graph, _ = stage(f_flat, [*c_avals, *x_avals])
    except Exception:  # noqa: BLE001 - the unrolled scan raises the user's error, if any
        return None
    for v, a in zip(graph.out_vars, c_avals):
        if tuple(v.aval.shape) != tuple(a.shape) or v.aval.dtype != a.dtype:
            return None
    captured, cap_vars, const_vars, consts = [], [], [], []
    for v, c in zip(graph.const_vars, graph.consts):
        if isinstance(c, Tracer):
            if not (isinstance(c, StagingTracer) and c._trace.main is main):
                return None
            captured.append(c)
            cap_vars.append(v)
        else:
            const_vars.append(v)
            consts.append(c)
    g = Graph([*graph.in_vars, *cap_vars], const_vars, consts, graph.eqns, graph.out_vars)
    body = ScanBody(g, len(carry_leaves), len(x_leaves), len(captured))
    out = scan_p.bind(
        *carry_leaves, *x_leaves, *captured, length=length, reverse=bool(reverse), body=body
    )
    return out[: len(carry_leaves)], out[len(carry_leaves) :], meta["y_tree"]
