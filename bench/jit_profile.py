"""Where the time of a ``fg.jit``-compiled function goes: graph size, kernel launches, and the
split between BLAS matmul, Taichi kernels and Python.

Used by bench/pinn_step.py; works for any jitted function of pytrees of tensors::

    prof = profile_jitted(step, (params, state, data), batch_rows=n_f)
    print("\\n".join(format_profiles({n_f: prof})))

Method. The function is jitted afresh while the matmul primitive's implementation is a timed
wrapper (the compiled plan keeps the implementation it was built with), then timed as it runs,
and again with every Taichi launch counted and timed (fieldgrad's single launch path is
wrapped); Python time is the rest. Its optimised graph is then replayed equation by equation,
each primitive's implementation called directly and values freed after their last use, as the
plan does, to split the time by primitive. Elementwise (and fused) equations are grouped by how
their inputs relate to their output: ``/same`` (all of its shape), ``/scalar`` (some of one
element), ``/bcast`` (some broadcast along an axis); "batch" equations are those with an output
that has ``batch_rows`` along some axis. The private hooks used here are for benchmarks only.
"""

import math
import time

__all__ = ["LaunchMeter", "profile_jitted", "format_profiles"]

_LAYOUT = {
    "transpose",
    "broadcast_to",
    "reshape",
    "slice",
    "concatenate",
    "gather",
    "scatter",
    "scatter_add",
    "slice_update",
    "convert_element_type",
    "diagonal",
    "full",
    "iota",
}


def _category(name: str) -> str:
    if name == "matmul":
        return "matmul"
    if name.startswith("reduce_"):
        return "reduce"
    if name in _LAYOUT:
        return "layout"
    return "elementwise"


def _kind(e) -> str:
    out = e.outs[0].aval.shape
    shapes = [v.aval.shape for v in e.ins]
    if any(s != out and math.prod(s) != 1 for s in shapes):
        return "bcast"
    return "scalar" if any(s != out for s in shapes) else "same"


class LaunchMeter:
    """Counts and times Taichi kernel launches and BLAS calls while active (a context manager).

    It wraps the launch path (``_launch.launch``), the pre-bound launchers that jit replay
    creates (``_launch.bound``) and the BLAS call replay records (``_buffer._matmul``). A jitted
    function whose first call (the recording) ran inside a meter keeps reporting to that meter.
    """

    def __init__(self):
        from fieldgrad.fields import _buffer, _launch  # the launch path itself: benchmark only

        self.mod, self.buf = _launch, _buffer
        self.orig = (_launch.launch, _launch.bound, _buffer._matmul)
        self.n, self.s, self.mm_n, self.mm_s = 0, 0.0, 0, 0.0

    def reset(self):
        self.n, self.s, self.mm_n, self.mm_s = 0, 0.0, 0, 0.0

    def __enter__(self):
        launch0, bound0, matmul0 = self.orig
        perf = time.perf_counter

        def launch(k, *args):
            t0 = perf()
            try:
                return launch0(k, *args)
            finally:
                self.s += perf() - t0
                self.n += 1

        def bound(k, args, dynamic):
            go = bound0(k, args, dynamic)
            if go is None:
                return None

            def timed_go(*arrays):
                t0 = perf()
                try:
                    return go(*arrays)
                finally:
                    self.s += perf() - t0
                    self.n += 1

            return timed_go

        def matmul(a, b, out):
            t0 = perf()
            try:
                return matmul0(a, b, out)
            finally:
                self.mm_s += perf() - t0
                self.mm_n += 1

        self.mod.launch, self.mod.bound, self.buf._matmul = launch, bound, matmul
        return self

    def __exit__(self, *exc):
        self.mod.launch, self.mod.bound, self.buf._matmul = self.orig


def _launch_cost(fg, reps: int = 200) -> float:
    """Seconds inside the launch path for one launch of a 16-element elementwise kernel."""
    a = fg.ones(16)
    fg.add(a, a)
    with LaunchMeter() as meter:
        for _ in range(reps):
            fg.add(a, a)
    return meter.s / max(meter.n, 1)


def _new_group(category: str) -> dict:
    return {
        "category": category,
        "eqns": 0,
        "batch_eqns": 0,
        "launches": 0,
        "s": 0.0,
        "launch_s": 0.0,
        "batch_elements": 0,
    }


def _replay(graph, leaves, batch_rows: int, meter) -> tuple:
    """Run the graph equation by equation, timing each; returns (seconds, {group: stats})."""
    last = {}
    for k, e in enumerate(graph.eqns):
        for v in e.ins:
            last[v.id] = k
    keep = {v.id for v in graph.out_vars} | {v.id for v in graph.const_vars}
    env = {v.id: x for v, x in zip(graph.in_vars, leaves)}
    env.update({v.id: c for v, c in zip(graph.const_vars, graph.consts)})
    groups: dict = {}
    total, perf = 0.0, time.perf_counter
    for k, e in enumerate(graph.eqns):
        ins = [env[v.id] for v in e.ins]
        n0, l0, t0 = meter.n, meter.s, perf()
        res = e.prim.impl(*ins, **e.params)
        dt = perf() - t0
        total += dt
        for v, r in zip(e.outs, res if e.prim.multiple_results else [res]):
            env[v.id] = r
        del ins, res
        for v in e.ins:
            if last.get(v.id) == k and v.id not in keep:
                env.pop(v.id, None)
        cat = _category(e.prim.name)
        key = e.prim.name + (f"/{_kind(e)}" if cat == "elementwise" else "")
        g = groups.setdefault(key, _new_group(cat))
        batch = any(batch_rows in v.aval.shape for v in e.outs)
        g["eqns"] += 1
        g["batch_eqns"] += int(batch)
        g["batch_elements"] += sum(v.aval.size for v in e.outs) if batch else 0
        g["launches"] += meter.n - n0
        g["s"] += dt
        g["launch_s"] += meter.s - l0
    return total, groups


def _unfused(fg, f, args, reps: int):
    """Seconds per call of ``f`` jitted without the fusion pass (None without that option)."""
    try:
        jitted = fg.jit(f, fuse=False)
    except TypeError:
        return None
    jitted(*args)
    t0 = time.perf_counter()
    for _ in range(reps):
        jitted(*args)
    return (time.perf_counter() - t0) / reps


def _replay_groups(fg, graph, args, batch_rows: int, reps: int) -> tuple:
    leaves = [fg.asarray(x) for x in fg.tree_leaves(args)]
    replay_s, groups = 0.0, {}
    with LaunchMeter() as meter:
        for _ in range(reps):
            s, gr = _replay(graph, leaves, batch_rows, meter)
            replay_s += s / reps
            for key, g in gr.items():
                acc = groups.setdefault(key, _new_group(g["category"]))
                for k, v in g.items():
                    if isinstance(v, float):
                        acc[k] += v / reps
                    elif k != "category":
                        acc[k] = v  # counts: the same in every repetition
    return replay_s, dict(sorted(groups.items(), key=lambda kv: -kv[1]["s"]))


def profile_jitted(f, args: tuple, batch_rows: int, reps: int = 3) -> dict:
    """Profile ``fg.jit(f)(*args)`` (``f`` a plain function; it is jitted here).

    Returns:
        A dict: ``eqns`` (equations of the compiled graph), ``batch_eqns``,
        ``primitive_counts`` (fused kernels' contents included where the graph says so),
        ``launches_per_step``, seconds per call ``step_s`` (plain) and ``step_metered_s``
        (while metering), split into ``in_launches_s`` (of which ``launch_fixed_s`` = launches
        x the fixed cost of one launch), ``matmul_s`` and ``python_s``; ``replay_s`` and
        ``primitives`` (per group: eqns, batch_eqns, launches, s, launch_s, batch_elements)
        from the replay; ``categories`` (per category sums); ``unfused_step_s``.
    """
    import fieldgrad as fg

    plain = fg.jit(f)
    plain(*args)
    graph = plain.graph(*args)
    t0 = time.perf_counter()
    for _ in range(reps):
        plain(*args)
    step_s = (time.perf_counter() - t0) / reps
    with LaunchMeter() as meter:
        jitted = fg.jit(f)
        jitted(*args)  # the first call records through the meter's wrappers
        jitted(*args)
        meter.reset()
        t0 = time.perf_counter()
        for _ in range(reps):
            jitted(*args)
        metered_s = (time.perf_counter() - t0) / reps
    launches, launch_s = meter.n / reps, meter.s / reps
    mm = {"n": meter.mm_n, "s": meter.mm_s}
    replay_s, groups = _replay_groups(fg, graph, args, batch_rows, reps)
    cats: dict = {}
    for g in groups.values():
        c = cats.setdefault(g["category"], {"eqns": 0, "launches": 0, "s": 0.0, "launch_s": 0.0})
        for k in c:
            c[k] += g[k]
    # BLAS time as the plan ran it; from the replay if the plan did not call the timed impl.
    matmul_s = mm["s"] / reps if mm["n"] else cats.get("matmul", {}).get("s", 0.0)
    per_launch = _launch_cost(fg)
    return {
        "batch_rows": batch_rows,
        "reps": reps,
        "eqns": len(graph.eqns),
        "batch_eqns": sum(g["batch_eqns"] for g in groups.values()),
        "primitive_counts": graph.primitive_counts(),
        "step_s": step_s,
        "step_metered_s": metered_s,
        "launches_per_step": launches,
        "in_launches_s": launch_s,
        "launch_fixed_cost_s": per_launch,
        "launch_fixed_s": per_launch * launches,
        "matmul_calls_per_step": mm["n"] / reps,
        "matmul_s": matmul_s,
        "python_s": metered_s - launch_s - matmul_s,
        "replay_s": replay_s,
        "unfused_step_s": _unfused(fg, f, args, reps),
        "categories": cats,
        "primitives": groups,
    }


def format_profiles(profiles: dict, label: str = "N_f") -> list:
    """Text lines for ``{size: profile_jitted(...)}``."""
    lines = [
        "profile: graph equations (those on batch-row arrays), Taichi launches per call; ms per "
        "call: inside Taichi launches (of which launches x fixed launch cost), BLAS matmul, "
        "Python (the rest); replay = the graph run equation by equation; unfused = jit with "
        "fuse=False",
        f"{label:>6s} {'eqns':>10s} {'launches':>8s} {'step':>8s} {'in launch':>9s} "
        f"{'(fixed)':>8s} {'matmul':>8s} {'python':>8s} {'replay':>8s} {'unfused':>8s}",
    ]
    keys = (
        "step_metered_s",
        "in_launches_s",
        "launch_fixed_s",
        "matmul_s",
        "python_s",
        "replay_s",
        "unfused_step_s",
    )
    for n, p in profiles.items():
        ms = [f"{p[k] * 1e3:.2f}" if p[k] is not None else "-" for k in keys]
        lines.append(
            f"{n:>6} {p['eqns']:>4d} ({p['batch_eqns']:>3d}) {p['launches_per_step']:>8.0f} "
            + " ".join(f"{x:>{9 if i == 1 else 8}s}" for i, x in enumerate(ms))
        )
    for n, p in profiles.items():
        inner = ", ".join(f"{k} {v}" for k, v in p["primitive_counts"].items())
        lines += [
            f"replay by group at {label}={n} (fixed launch cost "
            f"{p['launch_fixed_cost_s'] * 1e6:.1f} us): eqns (batch), launches, ms, ms in "
            "launches, ns per batch element",
            f"  primitives computed (fused kernels' contents included): {inner}",
        ]
        for name, q in p["primitives"].items():
            el = q["batch_elements"]
            ns = f"{q['s'] * 1e9 / el:.2f}" if el else "-"
            lines.append(
                f"  {name:>20s} {q['eqns']:>4d} ({q['batch_eqns']:>3d}) {q['launches']:>5d} "
                f"{q['s'] * 1e3:>9.2f} {q['launch_s'] * 1e3:>9.2f} {ns:>7s}"
            )
    return lines
