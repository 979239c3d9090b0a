"""A user's Taichi kernel as a differentiable fieldgrad function (:func:`kernel_primitive`).

Each wrapped kernel gets three primitives: the kernel itself, its reverse-mode derivative
(Taichi's ``kernel.grad``) and its forward-mode derivative (the kernel under
``ti.ad.FwdMode``; kernels with field parameters only). The derivative primitives come from
Taichi's autodiff, not from fieldgrad ops, so they are differentiable once: their own rules
raise ``NotImplementedError`` naming the kernel. A JVP rule written in fieldgrad ops
(``jvp=``) replaces both and makes every order work (through :class:`custom_jvp`).
"""

import numbers
import operator

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields import Primitive, Tensor, Tracer, _core, _user_kernel
from fieldgrad.fields._core import ShapedArray
from fieldgrad.fields._dtypes import FLOATS
from fieldgrad.fields._runtime import default_float_dtype

from . import _rules
from ._custom import custom_jvp
from ._util import is_float

__all__ = ["kernel_primitive", "KernelFunction"]


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(
        isinstance(d, (numbers.Integral, np.integer)) for d in s
    )


def _unique_name(base: str) -> str:
    taken = _core.primitives()
    name, k = base, 2
    while name in taken:
        name, k = f"{base}#{k}", k + 1
    return name


class KernelFunction:
    """A Taichi kernel wrapped as a function of tensors; made by :func:`kernel_primitive`.

    Attributes:
        kernel: the wrapped ``@ti.kernel``.
        primitive, vjp_primitive, jvp_primitive: its three primitives.
    """

    def __init__(self, kernel, out_shapes, out_dtypes, jvp, name):
        self.kernel = kernel
        self.kname, self.params = _user_kernel.inspect_kernel(kernel)
        self.name = name or self.kname
        if callable(out_shapes):
            self._out_shapes, self._single = out_shapes, None
        elif _is_shape(out_shapes):
            self._out_shapes, self._single = [tuple(out_shapes)], True
        elif isinstance(out_shapes, (list, tuple)) and all(_is_shape(s) for s in out_shapes):
            self._out_shapes, self._single = [tuple(s) for s in out_shapes], False
        else:
            raise TypeError(
                "kernel_primitive: out_shapes must be a shape tuple, a list of shape tuples, or "
                f"a function of the input shapes returning them; got {out_shapes!r}"
            )
        if not callable(out_shapes):
            self.signature(len(self.params) - len(self._out_shapes))  # check the split now
        self._out_dtypes = out_dtypes
        base = f"taichi_kernel[{self.name}]"
        self.primitive = Primitive(
            _unique_name(base), self._impl, self._abstract, multiple_results=True
        )
        self.vjp_primitive = Primitive(
            _unique_name(base + ".vjp"), self._vjp_impl, self._vjp_abstract, multiple_results=True
        )
        self.jvp_primitive = Primitive(
            _unique_name(base + ".jvp"), self._jvp_impl, self._jvp_abstract, multiple_results=True
        )
        _rules.register(self.primitive, jvp=self._jvp_rule, vjp=self._vjp_rule)
        once_v = self._once("reverse-mode derivative (kernel.grad)")
        once_f = self._once("forward-mode derivative (ti.ad.FwdMode)")
        _rules.register(self.vjp_primitive, jvp=once_v, vjp=once_v)
        _rules.register(self.jvp_primitive, jvp=once_f, vjp=once_f)
        self._custom = None
        if jvp is not None:
            if not callable(jvp):
                raise TypeError(f"kernel_primitive: jvp must be a function, got {type(jvp)}")
            statics = tuple(k for k, p in enumerate(self.params) if p.kind == "scalar")
            self._custom = custom_jvp(self._call_primitive, nondiff_argnums=statics)
            self._custom.__name__ = self.name
            self._custom.defjvp(jvp)
        self.__name__ = self.name
        self.__doc__ = getattr(kernel, "__doc__", None)

    # --- calling ---------------------------------------------------------------------------------

    def __call__(self, *args):
        if self._custom is not None:
            return self._custom(*args)
        return self._call_primitive(*args)

    def signature(self, n_in: int) -> _user_kernel.KernelSignature:
        return _user_kernel.split_signature(self.kname, self.params, len(self.params) - n_in)

    def _call_primitive(self, *args):
        sig = self.signature(len(args))
        arrays, statics, in_desc = self._inputs(sig, args)
        out_avals, single = self._out_avals(sig, arrays, in_desc)
        outs = self.primitive.bind(*arrays, sig=sig, statics=statics, out_avals=out_avals)
        return outs[0] if single else tuple(outs)

    def _inputs(self, sig, args):
        arrays, statics, desc = [], [], []
        for p, a in zip(sig.inputs, args):
            if p.kind == "scalar":
                statics.append(self._static(p, a))
                desc.append(statics[-1])
                continue
            x = a if isinstance(a, (Tensor, Tracer)) else F.asarray(a)
            if p.dtype is not None and x.dtype != p.dtype:
                raise TypeError(
                    f"{self.name}: parameter {p.name!r} is declared {p.dtype.name}, got a "
                    f"{x.dtype.name} tensor (cast it with .astype)"
                )
            if p.ndim is not None and x.ndim != p.ndim:
                raise ValueError(
                    f"{self.name}: parameter {p.name!r} is declared with ndim={p.ndim}, got a "
                    f"tensor of shape {tuple(x.shape)}"
                )
            arrays.append(x)
            desc.append(x.aval)
        return arrays, tuple(statics), desc

    def _static(self, p, a):
        if isinstance(a, Tracer):
            raise TypeError(
                f"{self.name}: scalar parameter {p.name!r} is static and cannot be traced or "
                "differentiated; declare it as a 0-d ndarray (or field) to differentiate it"
            )
        if isinstance(a, Tensor):
            a = a.item()
        integer = p.dtype is not None and p.dtype.kind in "iub"
        try:
            return operator.index(a) if integer else float(a)
        except TypeError:
            kind = "an integer" if integer else "a number"
            raise TypeError(
                f"{self.name}: scalar parameter {p.name!r} must be {kind}, got {type(a).__name__}"
            ) from None

    def _out_avals(self, sig, arrays, in_desc):
        n_out = len(sig.outputs)
        if callable(self._out_shapes):
            shapes = self._out_shapes(*in_desc)
            single = _is_shape(shapes)
            shapes = [tuple(shapes)] if single else [tuple(s) for s in shapes]
            if len(shapes) != n_out or not all(_is_shape(s) for s in shapes):
                raise ValueError(
                    f"{self.name}: out_shapes returned {shapes!r}; expected {n_out} shape "
                    f"tuple(s), one per output parameter {[p.name for p in sig.outputs]}"
                )
        else:
            shapes, single = self._out_shapes, self._single
        dts = self._out_dtypes
        if dts is None or not isinstance(dts, (list, tuple)):
            dts = [dts] * n_out
        if len(dts) != n_out:
            raise ValueError(f"{self.name}: {len(dts)} out_dtypes for {n_out} outputs")
        fallback = next((x.dtype for x in arrays if x.dtype in FLOATS), default_float_dtype())
        avals = []
        for p, s, d in zip(sig.outputs, shapes, dts):
            dt = F.dtype(d) if d is not None else (p.dtype or fallback)
            if p.dtype is not None and dt != p.dtype:
                raise TypeError(
                    f"{self.name}: output parameter {p.name!r} is declared {p.dtype.name} but "
                    f"out_dtypes asks for {np.dtype(dt).name}"
                )
            if p.ndim is not None and len(s) != p.ndim:
                raise ValueError(
                    f"{self.name}: output parameter {p.name!r} is declared with ndim={p.ndim}, "
                    f"but its shape is {s}"
                )
            if any(int(d) < 0 for d in s):
                raise ValueError(f"{self.name}: negative output shape {s}")
            avals.append(ShapedArray(tuple(int(d) for d in s), np.dtype(dt)))
        return tuple(avals), single

    # --- primitives ------------------------------------------------------------------------------

    def _impl(self, *arrays, sig, statics, out_avals):
        return _user_kernel.forward(self.kernel, sig, list(arrays), statics, out_avals)

    def _abstract(self, *avals, sig, statics, out_avals):
        return list(out_avals)

    def _vjp_impl(self, *args, sig, statics, out_avals):
        n = sum(p.kind != "scalar" for p in sig.inputs)
        arrays, cts = list(args[:n]), list(args[n:])
        return _user_kernel.vjp(self.kernel, sig, arrays, statics, out_avals, cts)

    def _vjp_abstract(self, *avals, sig, statics, out_avals):
        n = sum(p.kind != "scalar" for p in sig.inputs)
        return [a for a in avals[:n] if a.dtype in FLOATS]

    def _jvp_impl(self, *args, sig, statics, out_avals):
        n = sum(p.kind != "scalar" for p in sig.inputs)
        arrays, ts = list(args[:n]), list(args[n:])
        return _user_kernel.jvp(self.kernel, sig, arrays, statics, out_avals, ts)

    def _jvp_abstract(self, *avals, sig, statics, out_avals):
        return [a for a in out_avals if a.dtype in FLOATS]

    # --- rules -----------------------------------------------------------------------------------

    def _jvp_rule(self, primals, tangents, *, sig, statics, out_avals):
        if sig.style != "field":
            raise NotImplementedError(_user_kernel.forward_mode_limitation(self.kname))
        kw = dict(sig=sig, statics=statics, out_avals=out_avals)
        outs = self.primitive.bind(*primals, **kw)
        ts = [t for p, t in zip(primals, tangents) if is_float(p)]
        touts = iter(self.jvp_primitive.bind(*primals, *ts, **kw))
        return outs, [next(touts) if a.dtype in FLOATS else None for a in out_avals]

    def _vjp_rule(self, g, ans, *primals, sig, statics, out_avals):
        gs = [c for c, a in zip(g, out_avals) if a.dtype in FLOATS]
        kw = dict(sig=sig, statics=statics, out_avals=out_avals)
        grads = iter(self.vjp_primitive.bind(*primals, *gs, **kw))
        return tuple(next(grads) if is_float(p) else None for p in primals)

    def _once(self, what: str):
        kname = self.kname

        def rule(*args, **params):
            raise NotImplementedError(
                f"the {what} of the Taichi kernel {kname!r} comes from Taichi's autodiff and "
                "is differentiable once only; for higher derivatives (grad of grad, jvp of "
                "grad, hessian) pass jvp= written in fieldgrad ops to kernel_primitive"
            )

        return rule

    def __repr__(self) -> str:
        return f"KernelFunction({self.name})"


def kernel_primitive(kernel, out_shapes, out_dtypes=None, *, jvp=None, name=None):
    """Wrap a user's ``@ti.kernel`` as a differentiable function of tensors.

    The kernel's parameters are its inputs followed by its outputs. The wrapper allocates the
    outputs (zero-filled, so the kernel may accumulate into them), runs the kernel and returns
    them as tensors. Array parameters are ``ti.types.ndarray(...)`` or ``ti.template()``
    (fields) -- one kind per kernel; scalar parameters (``ti.f32``, ``ti.i32``, ...) take
    Python numbers and are static (not differentiated). The kernel must not write its inputs
    and should follow Taichi's global data access rules, since its derivatives come from
    Taichi's autodiff:

    * reverse mode (``grad``, ``vjp``): ``kernel.grad``;
    * forward mode (``jvp``, ``jacfwd``): ``ti.ad.FwdMode``, for ``ti.template()`` kernels only
      (Taichi 1.7's forward mode has no ndarray support; ndarray kernels raise
      NotImplementedError under forward mode unless ``jvp`` is given).

    Both are differentiable once: differentiating them again raises NotImplementedError
    naming the kernel. With ``jvp`` (a rule written in fieldgrad ops, as for
    :meth:`custom_jvp.defjvp`) every mode and order uses that rule instead and works to any
    order; the kernel then only computes values. Taichi's autodiff can silently give zeros
    for some loop patterns (non-top-level loops with data-dependent bounds, reads after
    writes): check a new kernel with :func:`fieldgrad.check_grads`.

    Args:
        kernel: the ``@ti.kernel``.
        out_shapes: the output shape (a tuple: the wrapper returns one tensor), a list of
            shapes (it returns a tuple), or a function of the inputs' ShapedArrays (and the
            scalar arguments' values) returning either.
        out_dtypes: a dtype for every output, or one per output; by default the dtype in the
            output's ndarray annotation, else the first float input's dtype, else the default
            float dtype.
        jvp: optional ``jvp(*scalar_args, primals, tangents) -> (out, tangent_out)`` in
            fieldgrad ops; ``primals`` holds the array arguments. Compute ``out`` by calling
            the returned function itself (so the rule applies again at higher orders).
        name: a name for error messages and the primitives (default: the kernel's name).

    Returns:
        A :class:`KernelFunction` ``fn(*inputs)``.

    Raises:
        TypeError: not a Taichi kernel, an unsupported parameter annotation, mixed ndarray
            and field parameters, or (when called) an argument of the wrong dtype.
        ValueError: out_shapes and the parameters disagree (too many outputs, wrong ndim).

    Example:
        >>> import taichi as ti
        >>> import fieldgrad as fg
        >>> from fieldgrad.autodiff.extend import kernel_primitive
        >>> @ti.kernel
        ... def cube(x: ti.types.ndarray(ndim=1), y: ti.types.ndarray(ndim=1)):
        ...     for i in range(x.shape[0]):
        ...         y[i] = x[i] * x[i] * x[i]
        >>> f = kernel_primitive(cube, out_shapes=lambda x: x.shape)
        >>> fg.grad(lambda x: fg.sum(f(x)))(fg.tensor([1.0, 2.0])).tolist()
        [3.0, 12.0]
    """
    return KernelFunction(kernel, out_shapes, out_dtypes, jvp, name)
