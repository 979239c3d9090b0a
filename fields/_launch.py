"""Kernel construction cache and the single launch path for every Taichi kernel.

Kernels are built by factories (closures over ``@ti.func`` bodies) and cached by key, so each
kernel compiles once per argument dtype and never per shape: every buffer is 1-D and sizes are
runtime arguments. All launches go through :func:`launch`, the one place to make launches
cheaper.

A normal Taichi call costs 40-60 microseconds on the CPU, almost all of it Python-side argument
processing. On the CPU with the pinned Taichi version, :func:`launch` therefore keeps, per kernel
and per argument dtype signature, a *prepared launch*: the compiled kernel and a launch context
built once after the first (compiling) call went through Taichi's own path; later launches only
bind the numpy buffers by raw data pointer and the scalars, then call the runtime's launch (5-8
microseconds for three arrays and a size; bench/ops.py). This reaches into private parts of
Taichi 1.7.4 (``Kernel.compiled_kernels``, ``mapper``, the launch context), so it is used only
with that exact version, only for numpy buffers on the CPU (binding by pointer must not be used
for GPU ndarrays), never in debug mode, and any argument it does not recognise falls back to the
normal call, which raises Taichi's own errors. ``FIELDGRAD_PREPARED_LAUNCH=0`` (or
``prepared_enabled = False``) turns it off.
"""

from __future__ import annotations

import contextlib
import operator
import os
from typing import Any, Callable

import numpy as np

from . import _buffer, _runtime

# Cheap elementwise work below this many elements runs in a serial loop on the CPU: a parallel
# launch costs 5 (pinned) to 50 (unpinned) microseconds more in thread hand-off than it saves on
# small data. bench/ops.py measures it; SIMD kernels use their own, larger threshold.
PARALLEL_THRESHOLD = 1 << 17

# The Taichi version whose private launch internals the prepared launch is written against.
PREPARED_TAICHI_VERSION = (1, 7, 4)
prepared_enabled = os.environ.get("FIELDGRAD_PREPARED_LAUNCH", "1") != "0"

_cache: dict[Any, Any] = {}
_cache_gen = -1


def kernel(key: Any, factory: Callable[[], Any], config: dict | None = None):
    """The kernel cached under ``key``, built by ``factory()`` on first use.

    Args:
        key: hashable cache key (include everything the factory closes over).
        factory: builds and returns the ``@ti.kernel``.
        config: compile-config overrides (``ti.lang.impl.current_cfg()`` attributes, e.g.
            ``{"real_matrix_scalarize": False, "fast_math": False}``) in force while this kernel
            compiles and launches through Taichi's normal path, restored afterwards.
    """
    global _cache_gen
    gen = _runtime._state["generation"]
    if gen != _cache_gen:
        _cache.clear()
        _cache_gen = gen
    k = _cache.get(key)
    if k is None:
        _runtime.ensure_init()
        k = factory()
        if config:
            k._fg_config = tuple(config.items())
        _cache[key] = k
    return k


def serial(n: int) -> bool:
    """Whether a loop over ``n`` cheap elements should run serially: on the CPU when ``n`` is
    small or Taichi has one thread (a parallel loop then only adds its hand-off)."""
    return _runtime._state["arch"] == "cpu" and (
        n < PARALLEL_THRESHOLD or _runtime._state["threads"] == 1
    )


def cache_size() -> int:
    """Number of kernels built in this runtime generation (for tests of recompilation)."""
    return len(_cache)


# --- raw data pointers (defined with the buffers) -------------------------------------------------

_ndarray = np.ndarray
data_ptr = _buffer.data_ptr


# --- compile-config overrides ---------------------------------------------------------------------


@contextlib.contextmanager
def compile_config(overrides):
    """Set Taichi compile-config attributes for the duration of the block, then restore them.

    ``default_fp`` also sets the type Taichi gives Python float literals while it compiles (so
    a float32 kernel's constants stay float32 under ``fieldgrad.init(default_dtype="float64")``).
    """
    if not overrides:
        yield
        return
    ti = _runtime.taichi()
    cfg = ti.lang.impl.current_cfg()
    rt = ti.lang.impl.get_runtime()
    saved = [(name, getattr(cfg, name)) for name, _ in overrides]
    saved_fp = rt.default_fp
    try:
        for name, value in overrides:
            setattr(cfg, name, value)
            if name == "default_fp":
                rt.default_fp = value
        yield
    finally:
        for name, value in saved:
            setattr(cfg, name, value)
        rt.default_fp = saved_fp


# --- the launch path ------------------------------------------------------------------------------


def launch(k, *args):
    """Launch a compiled kernel with buffers and scalars (positional arguments only)."""
    if _buffer.recorder is not None:
        _buffer.recorder.on_launch(k, args)
    p = getattr(k, "_fg_prep", None)
    if p and prepared_enabled:
        try:
            inst = p.instances.get(tuple([args[i].dtype for i in p.arrays]))
        except (AttributeError, IndexError, TypeError):
            inst = None
        if inst is not None and inst.runtime is p.primal.runtime and p.quiet(inst.runtime):
            if inst.run(args):
                return None
    return _launch_slow(k, args, p)


def bound(k, args, dynamic: tuple):
    """A launcher of ``k`` with ``args`` pre-bound, re-binding the arrays at ``dynamic``.

    Returns ``go(*arrays)`` or None when the kernel has no prepared launch for these dtypes
    (the caller then uses :func:`launch`). For jit replay (fields/_replay.py), whose argument
    buffers stay the same from call to call except the inputs and outputs.
    """
    p = getattr(k, "_fg_prep", None)
    if not p or not prepared_enabled:
        return None
    try:
        inst = p.instances.get(tuple([args[i].dtype for i in p.arrays]))
    except (AttributeError, IndexError, TypeError):
        return None
    if inst is None or inst.runtime is not p.primal.runtime or not p.quiet(inst.runtime):
        return None
    return inst.bound(args, tuple(dynamic))


def _launch_slow(k, args, p):
    with compile_config(getattr(k, "_fg_config", None)):
        ret = k(*args)
        if p is None:
            p = _prepare_kernel(k)
        if p and prepared_enabled:
            _prepare_instance(p, args)
    return ret


def _prepared_possible() -> bool:
    if not prepared_enabled or _runtime._state["arch"] != "cpu" or _runtime._state["debug"]:
        return False
    ti = _runtime.taichi()
    return tuple(ti.__version__) == PREPARED_TAICHI_VERSION


# Argument kinds of a prepared launch.
_ARRAY, _INT, _UINT, _FLOAT, _MAT_INT, _MAT_UINT, _MAT_FLOAT = range(7)


class _PreparedKernel:
    """Per-kernel state of the prepared launch: argument plan and one instance per dtype key."""

    __slots__ = ("primal", "plan", "arrays", "instances")

    def __init__(self, primal, plan):
        self.primal = primal
        self.plan = plan
        self.arrays = tuple(i for i, (kind, _) in enumerate(plan) if kind == _ARRAY)
        self.instances: dict = {}

    @staticmethod
    def quiet(rt) -> bool:
        # Taichi's own autodiff bookkeeping needs the normal call path.
        return rt.target_tape is None and rt.fwd_mode_manager is None


def _arg_plan(ti, annotation):
    """(kind, detail) for one kernel argument, or None when the prepared launch cannot bind it."""
    from taichi.lang.matrix import MatrixType
    from taichi.lang.util import cook_dtype
    from taichi.types import ndarray_type, primitive_types
    from taichi.types.utils import is_signed

    if isinstance(annotation, ndarray_type.NdarrayType):
        if annotation.ndim is None or annotation.layout != ndarray_type.Layout.AOS:
            return None
        dt = annotation.dtype
        if dt is None or id(dt) in primitive_types.type_ids:
            return _ARRAY, (annotation.ndim, ())
        if isinstance(dt, MatrixType) and None not in dt.get_shape():
            return _ARRAY, (annotation.ndim, tuple(dt.get_shape()))
        return None
    if id(annotation) in primitive_types.real_type_ids:
        return _FLOAT, None
    if id(annotation) in primitive_types.integer_type_ids:
        return (_INT if is_signed(cook_dtype(annotation)) else _UINT), None
    if isinstance(annotation, MatrixType) and annotation.ndim == 1:
        if annotation.dtype in primitive_types.real_types:
            return _MAT_FLOAT, annotation.n
        if annotation.dtype in primitive_types.integer_types:
            signed = is_signed(cook_dtype(annotation.dtype))
            return (_MAT_INT if signed else _MAT_UINT), annotation.n
    return None


def _prepare_kernel(k):
    """The kernel's :class:`_PreparedKernel`, or False when it cannot use prepared launches."""
    p = False
    if _prepared_possible():
        ti = _runtime.taichi()
        primal = getattr(k, "_primal", None)
        if (
            primal is not None
            and primal.return_type is None
            and not primal.template_slot_locations
            and not primal.has_print
        ):
            plan = [_arg_plan(ti, a.annotation) for a in primal.arguments]
            if all(x is not None for x in plan):
                p = _PreparedKernel(primal, tuple(plan))
    try:
        k._fg_prep = p
    except AttributeError:  # pragma: no cover - a kernel object without a __dict__
        pass
    return p


def _prepare_instance(p: _PreparedKernel, args) -> None:
    """Build the prepared launch for the dtypes of ``args`` (just launched the normal way)."""
    if len(args) != len(p.plan) or p.primal.has_print:
        return
    for i in p.arrays:
        a = args[i]
        if type(a) is not _ndarray or not a.flags.c_contiguous:
            return
    key = tuple([args[i].dtype for i in p.arrays])
    primal = p.primal
    old = p.instances.get(key)
    if old is not None and old.runtime is primal.runtime:
        return
    ti = _runtime.taichi()
    instance_id, _ = primal.mapper.lookup(list(args))
    t_kernel = primal.compiled_kernels.get((primal.func, instance_id, primal.autodiff_mode))
    if t_kernel is None:
        return
    prog = ti.lang.impl.get_runtime().prog
    # Under the same compile config as the call that compiled it, so this is a cache hit.
    compiled = prog.compile_kernel(prog.config(), prog.get_device_caps(), t_kernel)
    p.instances[key] = _Instance(primal.runtime, t_kernel, compiled, prog, p.plan)


class _Instance:
    """One compiled kernel instance with a pool of reusable launch contexts."""

    __slots__ = ("runtime", "run", "plan", "_keep")

    def __init__(self, runtime, t_kernel, compiled, prog, plan):
        self.runtime = runtime
        self.plan = plan
        pool: list = []
        make_ctx = t_kernel.make_launch_context
        self.run = _make_runner(plan, make_ctx, pool, prog.launch_kernel, compiled)
        self._keep = (t_kernel, compiled, prog)

    def bound(self, args, dynamic: tuple):
        """``go(*arrays)``: launch with ``args`` bound once into a context of its own, re-binding
        only the arrays at positions ``dynamic`` (same dtypes and shapes) on each call."""
        t_kernel, compiled, prog = self._keep
        ctx = t_kernel.make_launch_context()
        binder = _make_runner(self.plan, lambda: ctx, [], lambda c, k: None, compiled)
        if not binder(list(args)):  # binds every argument (the dynamic ones too, checked)
            return None
        names = [f"d{j}" for j in range(len(dynamic))]
        lines = [f"def go({', '.join(names)}):"]
        for j, i in enumerate(dynamic):
            if self.plan[i][0] != _ARRAY:
                return None
            d = names[j]
            ndim, el_shape = self.plan[i][1]
            shape = f"{d}.shape[:{ndim}]" if el_shape else f"{d}.shape"
            lines.append(
                f"    ctx.set_arg_external_array_with_shape(({i},), ptr({d}), {d}.nbytes, "
                f"{shape}, 0)"
            )
        lines.append("    launch_kernel(compiled, ctx)")
        env = {"ctx": ctx, "ptr": data_ptr, "launch_kernel": prog.launch_kernel}
        env["compiled"] = compiled
        exec(compile("\n".join(lines), "<fieldgrad bound launch>", "exec"), env)
        return env["go"]


def _make_runner(plan, make_ctx, pool, launch_kernel, compiled):
    """Generate ``run(args) -> bool``: bind every argument, launch, True; False to fall back.

    Straight-line code per kernel keeps the per-launch Python work to the runtime calls.
    """
    names = [f"a{i}" for i in range(len(plan))]
    checks, binds = [], []
    env: dict[str, Any] = {
        "ndarray": _ndarray,
        "ptr": data_ptr,
        "index": operator.index,
        "pool": pool,
        "make_ctx": make_ctx,
        "launch_kernel": launch_kernel,
        "compiled": compiled,
    }
    for i, (kind, detail) in enumerate(plan):
        a = names[i]
        if kind == _ARRAY:
            ndim, el_shape = detail
            checks.append(f"type({a}) is not ndarray or not {a}.flags.c_contiguous")
            checks.append(f"{a}.ndim != {ndim + len(el_shape)}")
            shape = f"{a}.shape"
            if el_shape:
                env[f"E{i}"] = el_shape
                checks.append(f"{a}.shape[{ndim}:] != E{i}")
                shape = f"{a}.shape[:{ndim}]"
            binds.append(
                f"ctx.set_arg_external_array_with_shape(({i},), ptr({a}), {a}.nbytes, {shape}, 0)"
            )
        elif kind == _INT:
            binds.append(f"ctx.set_arg_int(({i},), index({a}))")
        elif kind == _UINT:
            binds.append(f"ctx.set_arg_uint(({i},), index({a}))")
        elif kind == _FLOAT:
            checks.append(f"not isinstance({a}, (float, int, np_floating, np_integer))")
            env.update(np_floating=np.floating, np_integer=np.integer)
            binds.append(f"ctx.set_arg_float(({i},), float({a}))")
        else:
            setter, conv = {
                _MAT_INT: ("set_struct_arg_int", "index"),
                _MAT_UINT: ("set_struct_arg_uint", "index"),
                _MAT_FLOAT: ("set_struct_arg_float", "float"),
            }[kind]
            for j in range(detail):
                binds.append(f"ctx.{setter}(({i}, {j}), {conv}({a}[{j}]))")
    lines = [
        "def run(args):",
        f"    if len(args) != {len(plan)}:",
        "        return False",
        f"    {', '.join(names)}, = args",
    ]
    if checks:
        lines.append(f"    if {' or '.join(checks)}:")
        lines.append("        return False")
    lines += [
        "    try:",
        "        ctx = pool.pop()",
        "    except IndexError:",
        "        ctx = make_ctx()",
        "    try:",
        *[f"        {b}" for b in binds],
        "    except (TypeError, ValueError, OverflowError, IndexError):",
        "        return False",
        "    launch_kernel(compiled, ctx)",
        "    pool.append(ctx)",
        "    return True",
    ]
    exec(compile("\n".join(lines), "<fieldgrad prepared launch>", "exec"), env)
    return env["run"]
