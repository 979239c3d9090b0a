"""The primitive mechanism and the trace stack (JAX-style; see docs/design.md).

A :class:`Primitive` has a name, an implementation (Taichi kernel launches on concrete
tensors) and an abstract-evaluation rule (output shapes and dtypes from input shapes and
dtypes). ``prim.bind(*args, **params)`` hands the call to the innermost active trace: with
none active it runs the implementation eagerly.

Traces are interpreters. Each active transformation pushes a :class:`MainTrace` on the stack
with :func:`new_main`; its :class:`Trace` subclass wraps values in :class:`Tracer` objects and
decides what a primitive application means (compute a tangent, record a graph, ...). A
staging transformation such as jit installs a *dynamic* main with :func:`new_dynamic`, so
primitives are staged even when none of their inputs are tracers.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, NamedTuple

import numpy as np

from ._arraylike import ArrayLike

__all__ = [
    "ShapedArray",
    "Primitive",
    "MainTrace",
    "Trace",
    "Tracer",
    "EvalTrace",
    "new_main",
    "new_dynamic",
    "find_top_trace",
    "full_raise",
    "full_lower",
    "get_aval",
    "trace_stack_depth",
]


class ShapedArray(NamedTuple):
    """The abstract value of a tensor: shape, dtype and whether it is a weakly typed scalar."""

    shape: tuple
    dtype: np.dtype
    weak_type: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self) -> str:
        return f"{self.dtype.name}[{','.join(map(str, self.shape))}]"


class Primitive:
    """An operation every trace knows how to interpret.

    Args:
        name: unique name (``"sin"``, ``"reduce_sum"``, ...).
        impl: eager implementation ``impl(*tensors, **params)`` on concrete tensors.
        abstract_eval: ``abstract_eval(*avals, **params)`` giving the output
            :class:`ShapedArray` (a list of them when ``multiple_results``).
        multiple_results: whether the primitive returns a list of tensors.

    Rule tables (JVP, transpose, Taylor, batching, lowering) live with the transforms and are
    keyed by the primitive object; the primitive itself holds only what every trace needs.
    """

    __slots__ = ("name", "impl", "abstract_eval", "multiple_results", "__weakref__")

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any] | None = None,
        abstract_eval: Callable[..., Any] | None = None,
        multiple_results: bool = False,
    ):
        self.name = name
        self.impl = impl
        self.abstract_eval = abstract_eval
        self.multiple_results = multiple_results
        _registry[name] = self

    def def_impl(self, fn):
        self.impl = fn
        return fn

    def def_abstract_eval(self, fn):
        self.abstract_eval = fn
        return fn

    def bind(self, *args, **params):
        """Apply the primitive under the innermost active trace (eagerly when none is)."""
        if len(_trace_stack) == 1 and _dynamic is None:
            # Fast eager path: no transformation is active, so no argument is a live tracer.
            if self.impl is None:
                raise NotImplementedError(f"primitive {self.name!r} has no eager implementation")
            return self.impl(*args, **params)
        top = find_top_trace(args)
        tracers = [full_raise(top, a) for a in args]
        out = top.process_primitive(self, tracers, params)
        if self.multiple_results:
            return [full_lower(o) for o in out]
        return full_lower(out)

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


_registry: dict[str, Primitive] = {}


def primitives() -> dict[str, Primitive]:
    """Every primitive defined so far, by name."""
    return dict(_registry)


class MainTrace:
    """One active transformation on the trace stack."""

    __slots__ = ("level", "trace_type", "global_data")

    def __init__(self, level: int, trace_type: type, global_data: Any = None):
        self.level = level
        self.trace_type = trace_type
        self.global_data = global_data

    def __repr__(self) -> str:
        return f"MainTrace(level={self.level}, {self.trace_type.__name__})"


class Trace:
    """An interpreter for primitives. Subclasses define ``pure``, ``lift`` and
    ``process_primitive``."""

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val):
        raise NotImplementedError

    def lift(self, val):
        return self.pure(val)

    def process_primitive(self, primitive: Primitive, tracers, params):
        raise NotImplementedError


class EvalTrace(Trace):
    """The bottom of the stack: run implementations on concrete tensors."""

    def pure(self, val):
        return val

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        if primitive.impl is None:
            raise NotImplementedError(f"primitive {primitive.name!r} has no eager implementation")
        return primitive.impl(*tracers, **params)


_trace_stack: list[MainTrace] = [MainTrace(0, EvalTrace, None)]
_dynamic: MainTrace | None = None


def trace_stack_depth() -> int:
    """Number of active transformations (0 in plain eager code)."""
    return len(_trace_stack) - 1


@contextlib.contextmanager
def new_main(trace_type: type, global_data: Any = None):
    """Push a new transformation on the trace stack for the duration of the block."""
    level = len(_trace_stack)
    main = MainTrace(level, trace_type, global_data)
    _trace_stack.append(main)
    try:
        yield main
    finally:
        _trace_stack.pop()


@contextlib.contextmanager
def new_dynamic(main: MainTrace):
    """Make ``main`` the dynamic trace: primitives are processed by it even on constants."""
    global _dynamic
    prev, _dynamic = _dynamic, main
    try:
        yield
    finally:
        _dynamic = prev


class Tracer(ArrayLike):
    """A value being traced by a :class:`Trace`. Subclasses define ``aval``."""

    __array_priority__ = 1000
    _trace: Trace

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    @property
    def shape(self) -> tuple:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def weak_type(self) -> bool:
        return self.aval.weak_type

    @property
    def ndim(self) -> int:
        return len(self.aval.shape)

    @property
    def size(self) -> int:
        return self.aval.size

    def full_lower(self):
        return self

    def __bool__(self):
        raise TypeError(
            f"the truth value of a traced tensor ({self.aval}) is not known while tracing: "
            "Python control flow (if/while/bool()) cannot depend on traced values; use "
            "fg.where or the control-flow operators instead"
        )

    def __float__(self):
        raise TypeError(
            f"float() of a traced tensor ({self.aval}) is not known while tracing; "
            "return the tensor instead of converting it to a Python number"
        )

    __int__ = __float__
    __index__ = __float__

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"a traced tensor ({self.aval}) cannot be converted to a numpy array while tracing"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.aval}>"


def get_aval(x) -> ShapedArray:
    """The abstract value of a tensor or tracer."""
    return x.aval


def find_top_trace(xs) -> Trace:
    """The trace of the innermost (highest-level) transformation among ``xs`` and the
    dynamic trace."""
    top_main = _trace_stack[0]
    for x in xs:
        if isinstance(x, Tracer):
            m = x._trace.main
            if m.level > top_main.level:
                top_main = m
    if _dynamic is not None and _dynamic.level > top_main.level:
        top_main = _dynamic
    return top_main.trace_type(top_main)


def full_raise(trace: Trace, val):
    """Bring ``val`` into ``trace``: lift a value of a lower trace, reject a leaked one."""
    if not isinstance(val, Tracer):
        return trace.pure(val)
    level = trace.main.level
    if val._trace.main is trace.main:
        return val
    if val._trace.main.level < level:
        return trace.lift(val)
    if val._trace.main.level > level:
        raise RuntimeError(
            f"a tracer of level {val._trace.main.level} reached a trace of level {level}: "
            "a traced value escaped the transformation that created it"
        )
    raise RuntimeError(
        "two different transformations of the same level met: a traced value escaped its "
        "transformation"
    )


def full_lower(val):
    if isinstance(val, Tracer):
        return val.full_lower()
    return val
