"""The primitive mechanism: bind, the trace stack, nesting, dynamic traces and leaks.

A toy forward-mode trace (dual numbers for add and mul) stands in for the autodiff
transforms that build on this mechanism.
"""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _core
from fieldgrad.fields import _ops_elementwise as E
from fieldgrad.fields._core import Primitive, ShapedArray, Trace, Tracer, new_dynamic, new_main


class DualTracer(Tracer):
    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return _core.get_aval(self.primal)


class DualTrace(Trace):
    def pure(self, val):
        return DualTracer(self, val, fg.multiply(val, 0.0))

    lift = pure

    def process_primitive(self, prim, tracers, params):
        xs = [t.primal for t in tracers]
        ts = [t.tangent for t in tracers]
        if prim is E.add_p:
            return DualTracer(self, E.add_p.bind(*xs), E.add_p.bind(*ts))
        if prim is E.mul_p:
            a, b = xs
            da, db = ts
            return DualTracer(self, a * b, da * b + a * db)
        raise NotImplementedError(f"toy trace: no rule for {prim.name}")


def jvp(f, x, t):
    with new_main(DualTrace) as main:
        trace = DualTrace(main)
        out = f(DualTracer(trace, x, t))
        out = _core.full_raise(trace, out)
        return out.primal, out.tangent


def test_eager_bind_runs_the_implementation():
    x = fg.tensor([1.0, 2.0])
    y = E.mul_p.bind(x, x)
    assert isinstance(y, fg.Tensor)
    np.testing.assert_allclose(y.numpy(), [1.0, 4.0])
    assert _core.trace_stack_depth() == 0


def test_bind_dispatches_to_the_innermost_trace():
    x = fg.tensor([1.0, 2.0, 3.0])
    p, t = jvp(lambda v: v * v + v, x, fg.tensor([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(p.numpy(), [2.0, 6.0, 12.0])
    np.testing.assert_allclose(t.numpy(), [3.0, 5.0, 7.0])  # 2x + 1


def test_nested_traces_compose():
    # d2/dx2 of x^3 = 6x through two nested toy traces.
    x = fg.tensor([1.0, 2.0])
    one = fg.tensor([1.0, 1.0])

    def d(f):
        return lambda v: jvp(f, v, one)[1]

    np.testing.assert_allclose(d(d(lambda v: v * v * v))(x).numpy(), [6.0, 12.0])


def test_missing_rule_names_the_primitive():
    with pytest.raises(NotImplementedError, match="exp"):
        jvp(fg.exp, fg.tensor([1.0]), fg.tensor([1.0]))


def test_tracer_refuses_python_control_flow():
    names = []
    with new_main(RecordingTrace, names) as main:
        v = RecTracer(RecordingTrace(main), ShapedArray((), np.dtype(np.float32)))
        with pytest.raises(TypeError, match="Python control flow"):
            if v * v > 0:
                pass
        with pytest.raises(TypeError, match="float"):
            float(v)


def test_leaked_tracer_is_detected():
    leaked = []

    def f(v):
        leaked.append(v)
        return v * v

    jvp(f, fg.tensor([1.0]), fg.tensor([1.0]))
    with new_main(DualTrace):
        with pytest.raises(RuntimeError, match="escaped"):
            _core.full_raise(DualTrace(_core._trace_stack[-1]), leaked[0])


class RecordingTrace(Trace):
    """A staging trace: records primitive names instead of computing."""

    def pure(self, val):
        return RecTracer(self, _core.get_aval(val))

    lift = pure

    def process_primitive(self, prim, tracers, params):
        self.main.global_data.append(prim.name)
        avals = [t.aval for t in tracers]
        return RecTracer(self, prim.abstract_eval(*avals, **params))


class RecTracer(Tracer):
    def __init__(self, trace, aval):
        self._trace = trace
        self._aval = aval

    @property
    def aval(self):
        return self._aval


def test_dynamic_trace_stages_constants_and_abstract_eval_gives_shapes():
    names = []
    with new_main(RecordingTrace, names) as main:
        with new_dynamic(main):
            a = fg.tensor(np.ones((3, 1), np.float32))
            b = fg.tensor(np.ones((4,), np.float32))
            out = fg.add(a, b)  # neither input is a tracer: staged through the dynamic trace
            out = fg.exp(out)
    assert names == ["add", "exp"]
    assert out.aval == ShapedArray((3, 4), np.dtype(np.float32), False)


def test_primitive_registry_and_repr():
    p = Primitive("toy_identity", lambda x: x, lambda a: a)
    try:
        assert _core.primitives()["toy_identity"] is p
        assert "toy_identity" in repr(p)
        x = fg.tensor([1.0])
        assert p.bind(x) is x
    finally:
        del _core._registry["toy_identity"]
