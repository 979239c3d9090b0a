"""Replay of a compiled plan: record its kernel launches once, re-issue them with little Python.

A plan's first call runs every primitive implementation normally while a recorder watches the
three things implementations do with buffers: allocate them (``_buffer.empty``), launch Taichi
kernels on them (``_launch.launch``) and call BLAS on them (``_buffer.host_matmul``). Every
array argument is resolved to an *owner* buffer (an input, a constant, or an allocation) plus an
offset, dtype, shape and strides. Later calls skip the implementations: they bind the new inputs,
allocate fresh buffers only for values that leave the call, and issue the recorded launches; the
allocations that stay inside the call are made once and reused, and argument views on them are
built once.

An equation is replayed only when everything it did was observed. It runs as before (a *Python
step*, its inputs and outputs rebuilt as tensors) when its implementation read data on the host
(``_buffer.to_numpy``: bounds checks of indices), wrote data on the host (a buffer the recorder
cannot resolve), or is one whose work is not in fieldgrad's own kernels (user Taichi kernels,
keys read from tensors). Replay is for the CPU (numpy buffers bound by pointer); it is off
when the buffers that stay inside a call would exceed :data:`MAX_PERSISTENT_BYTES`, while
another call of the same plan is running (re-entrant or from another thread: that call runs
the implementations), and with ``FIELDGRAD_JIT_REPLAY=0``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from . import _buffer, _launch, _runtime
from ._tensor import Tensor

enabled = os.environ.get("FIELDGRAD_JIT_REPLAY", "1") != "0"
MAX_PERSISTENT_BYTES = 512 << 20

# Primitives whose implementations do work the recorder cannot see.
_PY_PRIMITIVES = {"random_dynamic", "random_permutation_dynamic", "random_derive"}
_FIELDS = "fieldgrad.fields."
_SCALARS = (int, float, np.integer, np.floating, bool, np.bool_)


class _Recorder:
    """Collects what one equation's implementation does (installed as ``_buffer.recorder``)."""

    def __init__(self):
        self.actions: list = []
        self.allocs: list = []
        self.host_io = False

    def reset(self):
        self.actions, self.allocs, self.host_io = [], [], False

    def on_alloc(self, buf, n: int, dtype):
        self.allocs.append((buf, n, np.dtype(dtype)))

    def on_launch(self, k, args):
        self.actions.append(("L", k, list(args)))

    def on_host(self, fn, args):
        self.actions.append(("H", fn, list(args)))

    def on_host_io(self):
        self.host_io = True


class _Owners:
    """Buffers by index, with their address ranges (record time only)."""

    def __init__(self):
        self.bufs: list = []
        self.kind: list = []  # "input", "const", "alloc", "py"
        self.info: list = []  # (n, dtype) of allocations
        self.by_id: dict = {}

    def truncate(self, n: int) -> None:
        """Forget the owners added after the first ``n``."""
        for b in self.bufs[n:]:
            if self.by_id.get(id(b), -1) >= n:
                del self.by_id[id(b)]
        del self.bufs[n:], self.kind[n:], self.info[n:]

    def add(self, buf, kind: str, info=None) -> int:
        i = len(self.bufs)
        self.bufs.append(buf)
        self.kind.append(kind)
        self.info.append(info)
        self.by_id.setdefault(id(buf), i)
        return i

    def find(self, a: np.ndarray):
        """(owner, byte offset) of the array ``a``, or None."""
        i = self.by_id.get(id(a))
        if i is not None:
            return i, 0
        ptr = _launch.data_ptr(a)
        span = 0 if a.size == 0 else sum((s - 1) * abs(st) for s, st in zip(a.shape, a.strides))
        hit = None
        for j, b in enumerate(self.bufs):
            start = _launch.data_ptr(b)
            if start <= ptr and ptr + span + a.itemsize <= start + b.nbytes:
                if hit is not None and self.bufs[hit] is not b:
                    return None  # ambiguous: two owners share memory
                hit = j
        return None if hit is None else (hit, ptr - _launch.data_ptr(self.bufs[hit]))


def _is_array(a) -> bool:
    return type(a) is np.ndarray


def _spec(owners: _Owners, a: np.ndarray):
    r = owners.find(a)
    if r is None:
        return None
    o, off = r
    if a is owners.bufs[o]:
        return (o, None)
    return (o, (off, a.dtype, a.shape, a.strides))


def _view(buf, spec):
    off, dt, shape, strides = spec
    return np.ndarray(shape, dt, buffer=buf, offset=off, strides=strides)


class Replay:
    """The recorded program of one plan; :meth:`run` executes it."""

    def __init__(self, n_owners, persistent, fresh, inputs, ops, outs):
        self.n_owners = n_owners
        self.persistent = persistent  # [(owner, buffer)]
        self.fresh = fresh  # [(owner, n, dtype)]
        self.inputs = inputs  # owner per input
        self.ops = ops
        self.outs = outs  # [(owner, view spec or None, shape, dtype, weak)]
        self.lock = threading.Lock()

    def run(self, args: list) -> list:
        own: list[Any] = [None] * self.n_owners
        for o, b in self.persistent:
            own[o] = b
        for o, a in zip(self.inputs, args):
            own[o] = a._buf
        for o, n, dt in self.fresh:
            own[o] = _buffer.aligned_empty(n, dt)
        launch = _launch.launch
        for op in self.ops:
            kind = op[0]
            if kind == "B":
                op[1](*[own[o] if spec is None else _view(own[o], spec) for o, spec in op[3]])
            elif kind == "L" or kind == "H":
                _, fn, fixed, dyn = op
                if dyn:
                    a = list(fixed)
                    for pos, o, spec in dyn:
                        a[pos] = own[o] if spec is None else _view(own[o], spec)
                else:
                    a = fixed
                if kind == "L":
                    launch(fn, *a)
                else:
                    fn(*a)
            else:
                _, impl, params, ins, outs, multi = op
                ts = [_tensor(own, s) for s in ins]
                res = impl(*ts, **params)
                if not multi:
                    res = [res]
                for o, r in zip(outs, res):
                    if o is not None:
                        own[o] = r._buf
        return [_tensor(own, s) for s in self.outs]


def _tensor(own, s) -> Tensor:
    o, spec, shape, dtype, weak = s
    buf = own[o] if spec is None else _view(own[o], spec)
    return Tensor._new(buf, shape, dtype, weak)


def _py_only(prim) -> bool:
    mod = getattr(prim.impl, "__module__", "") or ""
    return (
        prim.name in _PY_PRIMITIVES
        or not mod.startswith(_FIELDS)
        or mod.endswith(("_user_kernel", "_random_dynamic"))
    )


def record(plan, args: list):
    """Run ``plan`` on ``args`` while recording; returns ``(outputs, Replay or None)``."""
    if not enabled or _runtime._state["arch"] != "cpu" or _buffer.recorder is not None:
        return plan.run_steps(args), None
    rec = _Recorder()
    owners = _Owners()
    var_spec: dict[int, tuple] = {}  # slot -> (owner, view spec)
    env: list[Any] = [None] * plan.nslots
    ok = True

    def tensor_spec(t):
        if not isinstance(t, Tensor) or not _is_array(t._buf):
            return None
        return _spec(owners, t._buf)

    input_owners = []
    for i, a in zip(plan.in_slots, args):
        env[i] = a
        if not isinstance(a, Tensor) or not _is_array(a._buf):
            ok = False
            continue
        o = owners.add(a._buf, "input")
        input_owners.append(o)
        var_spec[i] = (o, None)
    for i, c in zip(plan.const_slots, plan.graph.consts):
        env[i] = c
        if ok:
            var_spec[i] = (owners.add(c._buf, "const"), None)
    if ok and len({id(a._buf) for a in args}) != len(args):
        ok = False  # an argument passed twice: its buffer may differ next time
    ops: list = []
    _buffer.recorder = rec
    try:
        for eqn, (impl, ins, params, outs, multi, free) in zip(plan.graph.eqns, plan.steps):
            rec.reset()
            res = impl(*[env[i] for i in ins], **params)
            vals = list(res) if multi else [res]
            for o, r in zip(outs, vals):
                env[o] = r
            if not ok:
                for i in free:
                    env[i] = None
                continue
            ops_e = _replayable(eqn, rec, owners)
            if ops_e is not None:
                ops += ops_e
                for o, r in zip(outs, vals):
                    s = tensor_spec(r)
                    if s is None:
                        ok = False
                    var_spec[o] = s
            else:
                in_specs = []
                for i in ins:
                    s = var_spec.get(i)
                    v = env[i]
                    if s is None:
                        ok = False
                        break
                    in_specs.append((*s, v.shape, v.dtype, v.weak_type))
                out_owners = []
                for o, r in zip(outs, vals):
                    known = tensor_spec(r) if isinstance(r, Tensor) else None
                    if known is not None and owners.kind[known[0]] != "py":
                        ok = False  # a Python step returned a buffer that lives elsewhere
                    if not isinstance(r, Tensor) or not _is_array(r._buf):
                        ok = False
                        out_owners.append(None)
                        continue
                    po = owners.add(r._buf, "py")
                    out_owners.append(po)
                    var_spec[o] = (po, None)
                ops.append(("P", impl, params, in_specs, out_owners, multi))
            for i in free:
                env[i] = None
    finally:
        _buffer.recorder = None
    outputs = [env[i] for i in plan.out_slots]
    if not ok:
        return outputs, None
    return outputs, _build(plan, owners, var_spec, input_owners, ops, outputs)


def _replayable(eqn, rec: _Recorder, owners: _Owners):
    """The recorded ops of one equation, or None when it must run as a Python step."""
    if rec.host_io or _py_only(eqn.prim):
        return None
    mark = len(owners.bufs)
    for buf, n, dt in rec.allocs:
        owners.add(buf, "alloc", (n, dt))
    ops = _resolve(rec, owners)
    if ops is None:
        owners.truncate(mark)
    return ops


def _resolve(rec: _Recorder, owners: _Owners):
    ops = []
    for kind, fn, args in rec.actions:
        fixed, dyn = [], []
        for pos, a in enumerate(args):
            if _is_array(a):
                s = _spec(owners, a)
                if s is None:
                    return None
                dyn.append((pos, *s))
                fixed.append(None)
            elif isinstance(a, _SCALARS) or (
                isinstance(a, tuple) and all(isinstance(v, _SCALARS) for v in a)
            ):
                fixed.append(a)
            else:
                return None
        ops.append((kind, fn, fixed, dyn, args))
    return ops


def _build(plan, owners: _Owners, var_spec, input_owners, ops, outputs):
    out_specs = []
    fresh_owners = set()
    for slot, t in zip(plan.out_slots, outputs):
        s = var_spec.get(slot)
        if s is None or not isinstance(t, Tensor):
            return None
        if owners.kind[s[0]] == "alloc":
            fresh_owners.add(s[0])
        out_specs.append((*s, t.shape, t.dtype, t.weak_type))
    persistent, fresh, total = [], [], 0
    for o, kind in enumerate(owners.kind):
        if kind == "const":
            persistent.append((o, owners.bufs[o]))
        elif kind == "alloc":
            n, dt = owners.info[o]
            if o in fresh_owners:
                fresh.append((o, n, dt))
            else:
                persistent.append((o, owners.bufs[o]))
                total += owners.bufs[o].nbytes
    if total > MAX_PERSISTENT_BYTES:
        return None
    const_like = {o for o, _ in persistent}
    final = []
    for op in ops:
        if op[0] == "P":
            final.append(op)
            continue
        kind, fn, fixed, dyn, recorded = op
        fixed = list(fixed)
        rest = []
        for pos, o, spec in dyn:
            if o in const_like:  # a view on a buffer that lives as long as the plan: build once
                fixed[pos] = owners.bufs[o] if spec is None else _view(owners.bufs[o], spec)
            else:
                rest.append((pos, o, spec))
        go = None
        if kind == "L":  # bind the fixed arguments once, in a launch context of the op's own
            probe = [recorded[i] if v is None else v for i, v in enumerate(fixed)]
            go = _launch.bound(fn, probe, tuple(pos for pos, _, _ in rest))
        if go is not None:
            final.append(("B", go, None, tuple((o, spec) for _, o, spec in rest)))
        else:
            final.append((kind, fn, tuple(fixed), tuple(rest)))
    return Replay(len(owners.bufs), persistent, fresh, input_owners, final, out_specs)
