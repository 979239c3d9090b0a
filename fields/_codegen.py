"""Code generation for fused elementwise kernels (the kernels of ``fused`` equations).

A :class:`Cluster` describes one fused kernel: its external inputs (each read at index
``(i // div) % mod`` of the flat output index, the affine broadcast of
:mod:`fieldgrad.fields._elementwise`), a list of elementwise operations on values held in
registers, the values written out, and optionally row sums of values (``reduce_sum`` over
trailing axes). This module writes the Taichi source of that kernel, stores it as a module file
in a per-user cache directory (Taichi reads kernel source with ``inspect``, so it must live in a
real file), imports it and launches it.

Three kernel shapes are generated, all over flat 1-D buffers with flat ``range`` loops:

* **scalar**: one element per iteration; every operation calls the same ``@ti.func`` body the
  eager kernel of its primitive uses (:data:`scalar_bodies`), so fused results equal eager
  results bit for bit.
* **reduce**: the scalar body inside the row/chunk loop of
  :mod:`fieldgrad.fields._kernels_reduce` (same accumulator dtype, chunking and order, and the
  same second pass over chunk partials), so fused sums equal eager sums bit for bit.
* **simd**: on the CPU, float32 (16 lanes) or float64 (8 lanes) clusters above a size threshold
  whose every operation has a vector body in :data:`fieldgrad.fields._simd.SIMD`: lane-group
  elements over ``buf.reshape(-1, lanes)`` views, compiled with ``real_matrix_scalarize=False``
  (scoped to the kernel through :func:`fieldgrad.fields._launch.kernel`), float32
  transcendentals as the arithmetic of :mod:`fieldgrad.fields._simd_math`.

The source depends only on the cluster's structure (operations, dtypes, input kinds: full,
single element, broadcast) and never on sizes: sizes and (div, mod) pairs are runtime
arguments, so a kernel compiles once per structure, and the module file is named by the hash
of its source.
"""

import hashlib
import importlib.util
import os
import tempfile
from typing import NamedTuple, Optional

import numpy as np

from . import _buffer, _kernels_reduce, _launch, _runtime, _simd
from ._tensor import Tensor

__all__: list = []

# Taichi 1.7 refuses kernels with more than 64 argument elements on x64 (buffers and scalars).
MAX_KERNEL_ARGS = 62

_TI_NAME = {"bool": "ti.u8", "int32": "ti.i32", "int64": "ti.i64", "float32": "ti.f32",
            "float64": "ti.f64"}  # fmt: skip


class Input(NamedTuple):
    """An external input: its shape and dtype, and ``(div, mod)`` of its read index."""

    shape: tuple
    dtype: np.dtype
    div: int
    mod: int


class Op(NamedTuple):
    """``value = name(*args)``: ``args`` are value indices; ``param`` is the exponent of
    ``integer_pow`` (else None); ``dtype`` the result's."""

    name: str
    args: tuple
    param: object
    dtype: np.dtype


class Reduction(NamedTuple):
    """Row sums of value ``arg`` (rows of ``Cluster.red_m`` elements), as ``reduce_sum``."""

    arg: int
    shape: tuple
    dtype: np.dtype
    acc: np.dtype


class Cluster:
    """A fused kernel's static description (the ``cluster`` param of a ``fused`` equation).

    Values ``0 .. len(inputs) - 1`` are the inputs; value ``len(inputs) + k`` is ``ops[k]``'s.
    The equation's outputs are ``outputs`` (value indices, written in the loop) followed by
    one output per reduction. Hashes by identity.
    """

    __slots__ = (
        "shape", "n", "inputs", "ops", "outputs", "out_avals", "reductions", "red_m", "variant",
        "lanes", "_source", "_launcher",
    )  # fmt: skip

    def __init__(self, shape, inputs, ops, outputs, out_avals, reductions=(), red_m=0):
        self.shape = tuple(shape)
        self.n = int(np.prod(self.shape, dtype=np.int64))
        self.inputs = tuple(inputs)
        self.ops = tuple(ops)
        self.outputs = tuple(outputs)
        self.out_avals = tuple(out_avals)
        self.reductions = tuple(reductions)
        self.red_m = red_m
        self.lanes = simd_lanes(self)
        self.variant = "simd" if self.lanes else ("reduce" if self.reductions else "scalar")
        self._source = None
        self._launcher = None

    def value_dtype(self, v: int) -> np.dtype:
        k = len(self.inputs)
        return self.inputs[v].dtype if v < k else self.ops[v - k].dtype

    def primitive_counts(self) -> dict:
        counts: dict = {}
        for name in [op.name for op in self.ops] + ["reduce_sum"] * len(self.reductions):
            counts[name] = counts.get(name, 0) + 1
        return counts

    def __repr__(self) -> str:
        names = " ".join(op.name for op in self.ops)
        if self.reductions:
            names += " | " + " ".join("reduce_sum" for _ in self.reductions)
        kind = f"simd{self.lanes}" if self.lanes else self.variant
        return f"{{{names}; {len(self.inputs)} in, {len(self.out_avals)} out; {kind}}}"


# --- operation tables ---------------------------------------------------------------------------

_scalar_bodies: Optional[dict] = None


def scalar_bodies() -> dict:
    """Primitive name -> (arity, fn_factory): the ``@ti.func`` factories of the eager
    elementwise kernels (a test checks them against every elementwise primitive)."""
    global _scalar_bodies
    if _scalar_bodies is None:
        from . import _ops_compare as C
        from . import _ops_elementwise as E
        from . import _ops_math as M
        from ._scalar_math import func as fn
        from ._scalar_math import libm

        table = {
            "add": (2, E._f_add), "sub": (2, E._f_sub), "mul": (2, E._f_mul),
            "div": (2, E._f_div), "floordiv": (2, fn("floordiv")), "mod": (2, fn("mod")),
            "pow": (2, fn("power")), "atan2": (2, M._f_atan2),
            "max": (2, fn("maximum")), "min": (2, fn("minimum")), "eq": (2, fn("eq")),
            "ne": (2, fn("ne")), "lt": (2, fn("lt")), "le": (2, fn("le")),
            "select": (3, fn("select")),
            "neg": (1, E._f_neg), "abs": (1, libm("abs")), "sign": (1, fn("sign")),
            "floor": (1, libm("floor")), "ceil": (1, libm("ceil")),
            "round": (1, fn("round_even")), "isnan": (1, C._isnan_u8),
            "isfinite": (1, C._isfinite_u8), "logistic": (1, fn("sigmoid")),
        }  # fmt: skip
        for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "tanh"):
            table[name] = (1, libm(name))
        for name in ("expm1", "log1p", "sinh", "cosh", "softplus", "erf", "erfc"):
            table[name] = (1, fn(name))
        _scalar_bodies = table
    return _scalar_bodies


def fusible(name: str, arity: int) -> bool:
    """Whether an equation of primitive ``name`` with ``arity`` inputs can be fused."""
    if name in ("convert_element_type", "integer_pow"):
        return arity == 1
    body = scalar_bodies().get(name)
    return body is not None and body[0] == arity


# Operations with a bool result (or a bool operand) that vector clusters compute lane by lane
# with the scalar kernels' bodies: masks stay inside the cluster (never read or written).
MASK_OPS = ("eq", "ne", "lt", "le", "isnan", "isfinite", "select")


def simd_lanes(c: Cluster) -> int:
    """Lanes of the vector variant for this cluster, or 0 when it runs the scalar kernel.

    Vector kernels serve CPU clusters of one float dtype without reductions whose every
    operation has a vector body for that dtype, from :data:`_simd.MIN_SIZE_MATH` elements
    (a cluster of several operations or a transcendental does enough work per element) or
    :data:`_simd.MIN_SIZE_CHEAP` (one or two cheap operations). Comparisons, ``select`` and
    bool-to-float conversions join as per-lane masks (the ``relu``/``max`` derivatives) when
    no bool value enters or leaves the cluster.
    """
    if c.reductions or not _simd.enabled or _runtime._state["arch"] != "cpu" or not c.ops:
        return 0
    dt = next((op.dtype for op in c.ops if op.dtype != np.bool_), None)
    lanes = _simd.LANES.get(dt)
    if lanes is None or any(i.dtype != dt for i in c.inputs):
        return 0
    if any(c.value_dtype(v) == np.bool_ for v in c.outputs):
        return 0
    min_size = _simd.MIN_SIZE_CHEAP if len(c.ops) < 3 else _simd.MIN_SIZE_MATH
    for op in c.ops:
        arg_dts = [c.value_dtype(a) for a in op.args]
        if op.dtype == np.bool_:
            if op.name not in MASK_OPS or op.name == "select" or any(d != dt for d in arg_dts):
                return 0
            continue
        if op.dtype != dt:
            return 0
        if op.name in ("integer_pow", "convert_element_type"):
            continue
        if op.name == "select":
            if arg_dts != [np.bool_, dt, dt]:
                return 0
            continue
        s = _simd.SIMD.get(op.name)
        if s is None or dt not in s.dtypes:
            return 0
        min_size = min(min_size, s.min_size)
    return lanes if c.n >= min_size else 0


def _lane_dtype(c: Cluster) -> np.dtype:
    """The float dtype of a vector cluster's lanes (its masks are bool)."""
    return next(op.dtype for op in c.ops if op.dtype != np.bool_)


def _serial(c: Cluster) -> bool:
    if c.lanes:
        # Vector clusters run serially: with real vectors, a parallel launch of a cluster that
        # holds transcendentals crashed the process (SIGSEGV) with two threads at 2**21
        # elements (Taichi 1.7.4). A serial vector loop runs at about numpy's speed.
        return True
    return _launch.serial(c.n)


# --- source generation --------------------------------------------------------------------------


def _kind(c: Cluster, inp: Input) -> str:
    """How an input is read: full, one element, or broadcast (scalar kernels); for vector
    kernels broadcasts split into rows (a whole lane group per read), columns (one element per
    lane group) and general per-lane gathers."""
    size = int(np.prod(inp.shape, dtype=np.int64))
    if tuple(inp.shape) == c.shape:
        return "full"
    if size == 1:
        return "scalar"
    if not c.lanes:
        return "affine"
    if inp.div == 1 and inp.mod % c.lanes == 0:
        return "row"
    if inp.div % c.lanes == 0:
        return "col"
    return "gather"


def _ipow_lines(out: str, x: str, e: int, lanes: int) -> list:
    """``out = x ** e`` for a static ``e`` as the multiplications of ``_scalar_math.ipow``
    (repeated squaring), so vector results equal the scalar kernel's."""
    if e == 0:
        return [f"{out} = ti.Vector([1.0 for _ in ti.static(range({lanes}))])"]
    lines, r, b, k, n = [], None, x, 0, abs(e)
    while n:
        if n & 1:
            nr = f"{out}_r{k}"
            lines.append(f"{nr} = {b}" if r is None else f"{nr} = {r} * {b}")
            r = nr
        n >>= 1
        if n:
            nb = f"{out}_b{k}"
            lines.append(f"{nb} = {b} * {b}")
            b = nb
        k += 1
    lines.append(f"{out} = {r}" if e > 0 else f"{out} = 1.0 / {r}")
    return lines


def _op_lines(c: Cluster, k: int, op: Op, names: list) -> list:
    out = names[len(c.inputs) + k]
    args = [names[a] for a in op.args]
    if op.name == "convert_element_type":
        src = c.value_dtype(op.args[0])
        if op.dtype == src or (c.lanes and src == np.bool_):  # lane masks are 0/1 floats
            return [f"{out} = {args[0]}"]
        if op.dtype == src:
            return [f"{out} = {args[0]}"]
        if op.dtype == np.bool_:
            return [f"{out} = ti.cast(1 - ti.cast({args[0]} == 0, ti.i32), ti.u8)"]
        return [f"{out} = ti.cast({args[0]}, {_TI_NAME[op.dtype.name]})"]
    if op.name == "integer_pow":
        if c.lanes:
            return _ipow_lines(out, args[0], int(op.param), c.lanes)
        return [f"{out} = f_ipow({args[0]}, {int(op.param)})"]
    if c.lanes and op.name in MASK_OPS:
        lane_args = ", ".join(f"{a}[j]" for a in args)
        rng = f"for j in ti.static(range({c.lanes}))"
        val = f"f_s_{op.name}({lane_args})"
        if op.dtype == np.bool_:  # a mask lane: 0.0 or 1.0 in the cluster's float type
            val = f"ti.cast({val}, {_TI_NAME[_lane_dtype(c).name]})"
        return [f"{out} = ti.Vector([{val} {rng}])"]
    return [f"{out} = f_{op.name}({', '.join(args)})"]


def _body_names(c: Cluster) -> list:
    """The distinct ``@ti.func`` bodies the kernel calls, in order (``F`` of ``build``)."""
    names = []
    for op in c.ops:
        name = op.name
        if name == "convert_element_type" or (name == "integer_pow" and c.lanes):
            continue
        name = "ipow" if name == "integer_pow" else name
        if c.lanes and name in MASK_OPS:
            name = "s_" + name
        if name not in names:
            names.append(name)
    return names


def source(c: Cluster) -> str:
    """The Python source of the module that builds ``c``'s kernel (cached on the cluster)."""
    if c._source is None:
        c._source = _simd_source(c) if c.lanes else _scalar_source(c)
    return c._source


def _signature(c: Cluster, kinds: list, vec: bool) -> tuple:
    params, scalars = [], []
    for k, kind in enumerate(kinds):
        elem = "dtype=V, " if vec and kind in ("full", "row") else ""
        params.append(f"x{k}: ti.types.ndarray({elem}ndim=1)")
        if kind in ("affine", "col", "gather"):
            scalars += [f"d{k}: ti.i32", f"m{k}: ti.i32"]
        elif kind == "row":
            scalars.append(f"m{k}: ti.i32")
    for j in range(len(c.outputs)):
        params.append(f"y{j}: ti.types.ndarray({'dtype=V, ' if vec else ''}ndim=1)")
    for j in range(len(c.reductions)):
        params.append(f"r{j}: ti.types.ndarray(ndim=1)")
    return params, scalars


def _header(c: Cluster, what: str) -> list:
    return [
        f"# fieldgrad fused kernel ({what}): {' '.join(op.name for op in c.ops)}",
        "# Generated by fieldgrad.fields._codegen; named by the hash of this text.",
        "import taichi as ti",
        "",
        "",
        "def build(F, serial):",
    ]


def _unpack_bodies(c: Cluster) -> list:
    bodies = _body_names(c)
    if not bodies:
        return []
    return [f"    {', '.join('f_' + b for b in bodies)}, = F"]


def _scalar_source(c: Cluster) -> str:
    kinds = [_kind(c, i) for i in c.inputs]
    params, scalars = _signature(c, kinds, False)
    red = bool(c.reductions)
    if red:
        scalars = ["ntask: ti.i32", "m: ti.i32", "nch: ti.i32", "chunk: ti.i32"] + scalars
    else:
        scalars = ["n: ti.i32"] + scalars
    names = [f"a{k}" for k in range(len(c.inputs))] + [f"v{k}" for k in range(len(c.ops))]
    body = []
    for k, kind in enumerate(kinds):
        index = {"full": "i", "scalar": "0", "affine": f"(i // d{k}) % m{k}"}[kind]
        body.append(f"a{k} = x{k}[{index}]")
    for k, op in enumerate(c.ops):
        body += _op_lines(c, k, op, names)
    for j, v in enumerate(c.outputs):
        body.append(f"y{j}[i] = {names[v]}")
    lines = _header(c, "reduce" if red else "scalar") + _unpack_bodies(c)
    lines += ["", "    @ti.kernel", "    def fused_k("]
    lines += [f"        {p}," for p in params + scalars]
    lines += ["    ):", "        ti.loop_config(serialize=serial)"]
    if not red:
        lines += ["        for i in range(n):", *[f"            {s}" for s in body]]
    else:
        lines += [
            "        for t in range(ntask):",
            "            row = t // nch",
            "            j0 = (t - row * nch) * chunk",
            "            j1 = ti.min(m, j0 + chunk)",
        ]
        for j, r in enumerate(c.reductions):
            lines.append(f"            s{j} = ti.cast(0, {_TI_NAME[r.acc.name]})")
        lines += ["            for jj in range(j0, j1):", "                i = row * m + jj"]
        lines += [f"                {s}" for s in body]
        for j, r in enumerate(c.reductions):
            acc = _TI_NAME[r.acc.name]
            lines.append(f"                s{j} = s{j} + ti.cast({names[r.arg]}, {acc})")
        # Each row sum is stored in the output dtype, or in the accumulator's when the rows are
        # cut into chunks whose partials a second pass adds.
        partial = _partial(c)
        for j, r in enumerate(c.reductions):
            rt = _TI_NAME[(r.acc if partial else r.dtype).name]
            lines.append(f"            r{j}[t] = ti.cast(s{j}, {rt})")
    lines += ["", "    return fused_k", ""]
    return "\n".join(lines)


def _simd_source(c: Cluster) -> str:
    lanes = c.lanes
    ft = _TI_NAME[_lane_dtype(c).name]
    kinds = [_kind(c, i) for i in c.inputs]
    params, scalars = _signature(c, kinds, True)
    names = [f"a{k}" for k in range(len(c.inputs))] + [f"v{k}" for k in range(len(c.ops))]
    pre, body = [], []
    splat = f"for _ in ti.static(range({lanes}))"
    for k, kind in enumerate(kinds):
        if kind == "full":
            body.append(f"a{k} = x{k}[i]")
        elif kind == "scalar":
            pre += [f"c{k} = x{k}[0]", f"s{k} = ti.Vector([c{k} {splat}])"]
            body.append(f"a{k} = s{k}")
        elif kind == "row":
            body.append(f"a{k} = x{k}[i % m{k}]")
        elif kind == "col":
            body.append(f"c{k} = x{k}[(i * {lanes} // d{k}) % m{k}]")
            body.append(f"a{k} = ti.Vector([c{k} {splat}])")
        else:
            idx = f"((i * {lanes} + j) // d{k}) % m{k}"
            body.append(f"a{k} = ti.Vector([x{k}[{idx}] for j in ti.static(range({lanes}))])")
    for k, op in enumerate(c.ops):
        body += _op_lines(c, k, op, names)
    for j, v in enumerate(c.outputs):
        body.append(f"y{j}[i] = {names[v]}")
    lines = _header(c, f"simd{lanes}") + _unpack_bodies(c)
    lines += [f"    V = ti.types.vector({lanes}, {ft})", "", "    @ti.kernel", "    def fused_k("]
    lines += [f"        {p}," for p in params + ["g: ti.i32"] + scalars]
    lines += ["    ):", *[f"        {s}" for s in pre], "        ti.loop_config(serialize=serial)"]
    lines += ["        for i in range(g):", *[f"            {s}" for s in body]]
    lines += ["", "    return fused_k", ""]
    return "\n".join(lines)


# --- module files -------------------------------------------------------------------------------


def cache_dir() -> str:
    """Where generated kernel modules are written: ``$FIELDGRAD_CACHE_DIR/kernels``, else
    ``$XDG_CACHE_HOME/fieldgrad/kernels``, else ``~/.cache/fieldgrad/kernels``."""
    base = os.environ.get("FIELDGRAD_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "fieldgrad")
    return os.path.join(base, "kernels")


_modules: dict = {}


def source_hash(src: str) -> str:
    return hashlib.sha256(src.encode()).hexdigest()[:24]


def module_path(src: str, directory: Optional[str] = None) -> str:
    """The file the module of ``src`` is (or will be) stored in."""
    return os.path.join(directory or cache_dir(), f"fused_{source_hash(src)}.py")


def _write(src: str, path: str) -> None:
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == src:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(src)
    os.replace(tmp, path)  # atomic: a concurrent reader sees the old or the new file whole


def load_module(src: str):
    """Write ``src`` to its cache file (once) and import it; cached per source hash.

    Where the cache directory cannot be written, the file goes to a per-user directory under
    the system's temporary directory instead.
    """
    h = source_hash(src)
    mod = _modules.get(h)
    if mod is not None:
        return mod
    path = module_path(src)
    try:
        _write(src, path)
    except OSError:
        uid = os.getuid() if hasattr(os, "getuid") else "user"
        path = module_path(src, os.path.join(tempfile.gettempdir(), f"fieldgrad-kernels-{uid}"))
        _write(src, path)
    spec = importlib.util.spec_from_file_location(f"fieldgrad_fused_{h}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    _modules[h] = mod
    return mod


# --- building and launching ---------------------------------------------------------------------


def _bodies(c: Cluster, ti) -> tuple:
    out = []
    if c.lanes:
        for name in _body_names(c):
            if name.startswith("s_"):
                out.append(scalar_bodies()[name[2:]][1](ti))
            else:
                out.append(_simd.SIMD[name].body(ti, c.lanes))
    else:
        table = scalar_bodies()
        for name in _body_names(c):
            if name == "ipow":
                from ._scalar_math import lib

                out.append(lib().ipow)
            else:
                out.append(table[name][1](ti))
    return tuple(out)


def _partial(c: Cluster) -> bool:
    return c.red_m > _kernels_reduce.CHUNK


def kernel(c: Cluster):
    """The compiled-once kernel of ``c`` (cached by source hash and loop mode)."""
    src = source(c)
    ser = _serial(c)
    key = ("fused", source_hash(src), ser)
    config = _simd._kernel_config(_lane_dtype(c)) if c.lanes else None

    def factory():
        ti = _runtime.taichi()
        return load_module(src).build(_bodies(c, ti), ser)

    return _launch.kernel(key, factory, config=config)


class _Launcher:
    """Everything about one cluster's launch that does not change between calls."""

    __slots__ = ("gen", "k", "scalars", "kinds", "outs", "reds", "groups", "partial", "rows")

    def __init__(self, c: Cluster):
        self.gen = _runtime._state["generation"]
        self.k = kernel(c)
        kinds = [_kind(c, i) for i in c.inputs]
        self.kinds = kinds
        per_input = []
        for inp, kind in zip(c.inputs, kinds):
            if kind in ("affine", "col", "gather"):
                per_input += [inp.div, inp.mod]
            elif kind == "row":
                per_input.append(inp.mod // c.lanes)
        self.groups = -(-c.n // c.lanes) if c.lanes else 0
        self.partial = bool(c.reductions) and _partial(c)
        m = c.red_m
        nch = max(1, -(-m // _kernels_reduce.CHUNK)) if c.reductions else 1
        self.rows = c.n // m if c.reductions else 0
        if c.reductions:
            lead = [self.rows * nch, m, nch, _kernels_reduce.CHUNK]
        else:
            lead = [self.groups if c.lanes else c.n]
        self.scalars = tuple(lead + per_input)
        self.outs = [(c.n, a.dtype, a.shape, a.weak_type) for a in c.out_avals[: len(c.outputs)]]
        self.reds = [
            (self.rows * nch, r.acc if self.partial else r.dtype, r, nch) for r in c.reductions
        ]


def launcher(c: Cluster) -> _Launcher:
    L = c._launcher
    if L is None or L.gen != _runtime._state["generation"]:
        L = c._launcher = _Launcher(c)
    return L


def run(c: Cluster, ins) -> list:
    """Launch ``c`` on input tensors; returns its output tensors."""
    L = launcher(c)
    kv = _buffer.kernel_view
    out_bufs = [_buffer.empty(n, dt) for n, dt, _, _ in L.outs]
    red_bufs = [_buffer.empty(n, dt) for n, dt, _, _ in L.reds]
    if c.lanes:
        lanes, g = c.lanes, L.groups
        args = []
        for t, kind in zip(ins, L.kinds):
            if kind == "full":
                args.append(_simd.lane_view(t._buf, c.n, lanes))
            elif kind == "row":
                args.append(_simd.lane_view(t._buf, t.size, lanes))
            else:
                args.append(t._buf)
        args += [b[: g * lanes].reshape(g, lanes) for b in out_bufs]
    else:
        args = [kv(t._buf) for t in ins] + [kv(b) for b in out_bufs] + [kv(b) for b in red_bufs]
    _launch.launch(L.k, *args, *L.scalars)
    res = [Tensor._new(b, shape, dt, weak) for b, (_, dt, shape, weak) in zip(out_bufs, L.outs)]
    for b, (_, dt, r, nch) in zip(red_bufs, L.reds):
        if L.partial:
            b = _kernels_reduce.reduce(b, dt, "sum", L.rows, nch, 1, r.dtype)
        res.append(Tensor._new(b, r.shape, r.dtype))
    return res
