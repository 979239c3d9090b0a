"""Running a user's ``@ti.kernel`` on tensors, with Taichi's own autodiff.

This is the Taichi side of ``fieldgrad.autodiff.extend.kernel_primitive``. The kernel's
parameters are its inputs followed by its outputs. Array parameters are either

* ``ti.types.ndarray(...)`` ("ndarray" style): the forward pass gets the tensors' buffers
  (zero-copy numpy views on the CPU, shaped ``ti.ndarray`` copies on a GPU); the reverse pass
  runs ``kernel.grad`` on ``ti.ndarray(..., needs_grad=True)`` copies. Taichi 1.7's forward
  mode (``ti.ad.FwdMode``) works on fields only (ndarrays have no dual storage), so these
  kernels have no Taichi JVP; or
* ``ti.template()`` ("field" style): the values are copied into Taichi fields with gradient
  and dual storage, kept in a pool per parameter and shape (a template kernel compiles once
  per distinct field, so the pool keeps it to once per shape); reverse mode runs
  ``kernel.grad``, forward mode runs the kernel under ``ti.ad.FwdMode``.

Scalar parameters (``ti.f32``, ``ti.i32``, ...) are static values passed through. Outputs
start zeroed, so kernels may accumulate into them (``y[i] += ...``); kernels must not write
their inputs (Taichi's global data access rules for autodiff).
"""

from __future__ import annotations

import inspect
from typing import NamedTuple, Optional

import numpy as np

from . import _buffer, _dtypes, _launch, _runtime
from ._core import ShapedArray
from ._tensor import Tensor, wrap_numpy_result

__all__: list = []


class Param(NamedTuple):
    """One kernel parameter: ``kind`` is "ndarray", "field" or "scalar"."""

    name: str
    kind: str
    dtype: Optional[np.dtype]
    ndim: Optional[int]


class KernelSignature(NamedTuple):
    name: str
    inputs: tuple
    outputs: tuple
    style: str  # "ndarray" or "field"


def _np_dtype(ti, dt) -> Optional[np.dtype]:
    if dt is None:
        return None
    from taichi.lang.util import to_numpy_type

    try:
        return np.dtype(to_numpy_type(dt))
    except Exception:
        return None


def inspect_kernel(kernel) -> tuple:
    """The name and the classified parameters (:class:`Param`) of a ``@ti.kernel``."""
    ti = _runtime.taichi()
    from taichi.types import ndarray_type, primitive_types
    from taichi.types.annotations import Template

    if not getattr(kernel, "_is_wrapped_kernel", False):
        what = f"{type(kernel).__name__} {getattr(kernel, '__name__', '')}".rstrip()
        raise TypeError(
            f"kernel_primitive: expected a function decorated with @ti.kernel, got {what}"
        )
    if getattr(kernel, "_is_classkernel", False):
        raise TypeError("kernel_primitive: kernels that are methods of a class are not supported")
    name = getattr(kernel, "__name__", "kernel")
    params = []
    for p in inspect.signature(kernel).parameters.values():
        a = p.annotation
        if isinstance(a, ndarray_type.NdarrayType):
            dt = a.dtype
            if dt is not None and id(dt) not in primitive_types.type_ids:
                raise TypeError(
                    f"kernel_primitive: parameter {p.name!r} of kernel {name!r} is an ndarray of "
                    f"{dt} elements; only scalar element types are supported"
                )
            params.append(Param(p.name, "ndarray", _np_dtype(ti, dt), a.ndim))
        elif isinstance(a, Template):
            params.append(Param(p.name, "field", None, None))
        elif id(a) in primitive_types.type_ids:
            params.append(Param(p.name, "scalar", _np_dtype(ti, a), None))
        else:
            raise TypeError(
                f"kernel_primitive: parameter {p.name!r} of kernel {name!r} has annotation "
                f"{a!r}; expected ti.types.ndarray(...), ti.template() or a scalar type"
            )
    kinds = {p.kind for p in params if p.kind != "scalar"}
    if len(kinds) > 1:
        raise TypeError(
            f"kernel_primitive: kernel {name!r} mixes ti.types.ndarray and ti.template array "
            "parameters; use one kind for all of them"
        )
    return name, tuple(params)


def split_signature(name: str, params: tuple, num_outputs: int) -> KernelSignature:
    """The signature with the last ``num_outputs`` parameters as outputs (checked)."""
    if num_outputs < 1 or num_outputs > len(params):
        raise ValueError(
            f"kernel_primitive: kernel {name!r} has {len(params)} parameters, which cannot hold "
            f"{num_outputs} outputs after its inputs"
        )
    inputs, outputs = params[:-num_outputs], params[-num_outputs:]
    bad = [p.name for p in outputs if p.kind == "scalar"]
    if bad:
        raise TypeError(
            f"kernel_primitive: the last {num_outputs} parameters of kernel {name!r} are its "
            f"outputs and must be arrays, but {bad} are scalars"
        )
    kinds = {p.kind for p in params if p.kind != "scalar"}
    return KernelSignature(name, tuple(inputs), tuple(outputs), kinds.pop())


# --- host copies --------------------------------------------------------------------------------


def _host(t: Tensor) -> np.ndarray:
    """The tensor's values in C order, as the kernel sees them (bool as uint8)."""
    a = _buffer.to_numpy(_buffer.kernel_view(t._buf), t.size, t.dtype)
    return a.reshape(t.shape)


def _tensor(a: np.ndarray, aval: ShapedArray) -> Tensor:
    a = np.asarray(a).reshape(aval.shape)
    if aval.dtype == np.bool_:
        a = a.astype(np.bool_)
    return wrap_numpy_result(a, aval.dtype)


def _ti_dtype(ti, dtype):
    return _buffer._ti_dtype(ti, dtype)


def _assemble(sig: KernelSignature, arrays, statics, outs) -> list:
    """The kernel's positional arguments: inputs (arrays and statics in order), then outputs."""
    args, ai, si = [], iter(arrays), iter(statics)
    for p in sig.inputs:
        args.append(next(si) if p.kind == "scalar" else next(ai))
    return args + list(outs)


def _empty(avals) -> bool:
    return any(a.size == 0 for a in avals)


# --- ndarray style ------------------------------------------------------------------------------


def _nd(ti, aval: ShapedArray, grad: bool):
    """A zeroed ``ti.ndarray`` (and zeroed gradient) of the aval's shape and dtype."""
    nd = ti.ndarray(_ti_dtype(ti, aval.dtype), shape=tuple(aval.shape), needs_grad=grad)
    nd.fill(0)
    if grad:
        nd.grad.fill(0)
    return nd


def _loaded(ti, t: Tensor, grad: bool):
    nd = _nd(ti, t.aval, grad)
    nd.from_numpy(_host(t))
    return nd


def forward(kernel, sig, arrays, statics, out_avals) -> list:
    """Run the kernel; returns the outputs as new tensors."""
    ti = _runtime.taichi()
    if _empty([t.aval for t in arrays]) or _empty(out_avals):
        return [_zeros(a) for a in out_avals]
    if sig.style == "field":
        pool = _pool(kernel)
        ins = pool.inputs(sig, arrays)
        outs = pool.outputs(sig, out_avals)
        kernel(*_assemble(sig, ins, statics, outs))
        return [_tensor(f.to_numpy(), a) for f, a in zip(outs, out_avals)]
    if _runtime.is_cpu():
        outs = [_zeros(a) for a in out_avals]
        views = [_host(t) for t in arrays]
        _launch.launch(kernel, *_assemble(sig, views, statics, [_host(o) for o in outs]))
        return outs
    ins = [_loaded(ti, t, False) for t in arrays]
    outs = [_nd(ti, a, False) for a in out_avals]
    kernel(*_assemble(sig, ins, statics, outs))
    return [_tensor(o.to_numpy(), a) for o, a in zip(outs, out_avals)]


def _zeros(aval: ShapedArray) -> Tensor:
    from ._creation import _coerce, full_p

    return full_p.impl(shape=tuple(aval.shape), dtype=aval.dtype, fill_value=_coerce(0, aval.dtype))


def vjp(kernel, sig, arrays, statics, out_avals, cotangents) -> list:
    """``kernel.grad``: cotangents of the float inputs given those of the float outputs."""
    ti = _runtime.taichi()
    float_in = [t.dtype in _dtypes.FLOATS for t in arrays]
    float_out = [a.dtype in _dtypes.FLOATS for a in out_avals]
    if _empty([t.aval for t in arrays]) or _empty(out_avals):
        return [_zeros(t.aval) for t, f in zip(arrays, float_in) if f]
    cts = iter(cotangents)
    if sig.style == "field":
        pool = _pool(kernel)
        ins = pool.inputs(sig, arrays)
        outs = pool.outputs(sig, out_avals)
        kernel(*_assemble(sig, ins, statics, outs))
        for f, fl in zip(ins + outs, float_in + float_out):
            if fl:
                f.grad.fill(0)
        for f, fl in zip(outs, float_out):
            if fl:
                f.grad.from_numpy(_host(next(cts)))
        _differentiate(kernel.grad, sig, ins, statics, outs, "kernel.grad")
        grads = [f.grad.to_numpy() for f, fl in zip(ins, float_in) if fl]
    else:
        ins = [_loaded(ti, t, fl) for t, fl in zip(arrays, float_in)]
        outs = [_nd(ti, a, fl) for a, fl in zip(out_avals, float_out)]
        kernel(*_assemble(sig, ins, statics, outs))
        for o, fl in zip(outs, float_out):
            if fl:
                o.grad.from_numpy(_host(next(cts)))
        _differentiate(kernel.grad, sig, ins, statics, outs, "kernel.grad")
        grads = [o.grad.to_numpy() for o, fl in zip(ins, float_in) if fl]
    avals = [t.aval for t, fl in zip(arrays, float_in) if fl]
    return [_tensor(g, a) for g, a in zip(grads, avals)]


def _differentiate(k, sig, ins, statics, outs, how: str) -> None:
    """Run a derivative kernel; Taichi's compile errors are re-raised naming the kernel."""
    try:
        k(*_assemble(sig, ins, statics, outs))
    except Exception as e:  # Taichi raises plain RuntimeErrors from its compiler
        msg = str(e).strip()
        raise RuntimeError(
            f"Taichi's autodiff failed on kernel {sig.name!r} ({how}): {msg}. Derivative "
            "kernels must follow Taichi's rules for differentiable programs (one loop level of "
            "statements, no writes to inputs); or pass jvp= written in fieldgrad ops"
        ) from e


def jvp(kernel, sig, arrays, statics, out_avals, tangents) -> list:
    """Forward mode (``ti.ad.FwdMode``, field style only): tangents of the float outputs given
    those of the float inputs."""
    if sig.style != "field":
        raise NotImplementedError(forward_mode_limitation(sig.name))
    ti = _runtime.taichi()
    float_in = [t.dtype in _dtypes.FLOATS for t in arrays]
    float_out = [a.dtype in _dtypes.FLOATS for a in out_avals]
    if _empty([t.aval for t in arrays]) or _empty(out_avals):
        return [_zeros(a) for a, fl in zip(out_avals, float_out) if fl]
    pool = _pool(kernel)
    ins = pool.inputs(sig, arrays)
    outs = pool.outputs(sig, out_avals)
    ts = iter(tangents)
    for f, fl in zip(ins, float_in):
        if fl:
            f.dual.from_numpy(_host(next(ts)))
    losses = [f for f, fl in zip(outs, float_out) if fl]
    for f in losses:
        f.dual.fill(0)
    # FwdMode seeds only one parameter field, in float32; the duals are set above instead (in
    # full precision, for every input), and FwdMode gets a dummy parameter and no clearing.
    with ti.ad.FwdMode(loss=losses, param=pool.dummy(), seed=[0.0], clear_gradients=False):
        _differentiate(kernel, sig, ins, statics, outs, "ti.ad.FwdMode")
    for f, fl in zip(ins, float_in):
        if fl:
            f.dual.fill(0)
    return [
        _tensor(f.dual.to_numpy(), a)
        for f, a in zip(losses, [a for a, fl in zip(out_avals, float_out) if fl])
    ]


def forward_mode_limitation(name: str) -> str:
    return (
        f"the Taichi kernel {name!r} has ti.types.ndarray parameters, and Taichi 1.7's forward "
        "mode (ti.ad.FwdMode) works on fields only (ndarrays have no dual storage), so it has "
        "no forward-mode derivative (jvp, jacfwd, hessian, jet). Pass jvp= written in fieldgrad "
        "ops to kernel_primitive, or write the kernel with ti.template() parameters (fields)"
    )


# --- field pool ---------------------------------------------------------------------------------


class _FieldPool:
    """Fields per (parameter, shape, dtype) for one template kernel, per Taichi runtime."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.gen = _runtime._state["generation"]
        self.fields: dict = {}
        self._dummy = None

    def get(self, slot: int, aval: ShapedArray):
        key = (slot, tuple(aval.shape), aval.dtype)
        f = self.fields.get(key)
        if f is None:
            ti = _runtime.taichi()
            fl = aval.dtype in _dtypes.FLOATS
            f = ti.field(
                _ti_dtype(ti, aval.dtype), shape=tuple(aval.shape), needs_grad=fl, needs_dual=fl
            )
            self.fields[key] = f
        return f

    def inputs(self, sig, arrays) -> list:
        out = []
        for k, t in enumerate(arrays):
            f = self.get(k, t.aval)
            f.from_numpy(_host(t))
            out.append(f)
        return out

    def outputs(self, sig, out_avals) -> list:
        out = []
        for k, a in enumerate(out_avals):
            f = self.get(-1 - k, a)
            f.fill(0)
            out.append(f)
        return out

    def dummy(self):
        if self._dummy is None:
            ti = _runtime.taichi()
            self._dummy = ti.field(ti.f32, shape=(), needs_dual=True)
        return self._dummy


_pools: dict = {}


def _pool(kernel) -> _FieldPool:
    p = _pools.get(id(kernel))
    if p is None or p.gen != _runtime._state["generation"] or p.kernel is not kernel:
        p = _FieldPool(kernel)
        _pools[id(kernel)] = p
    return p
