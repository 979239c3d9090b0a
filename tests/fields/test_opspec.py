"""Every op of the op-spec table against its numpy reference, in every listed dtype."""

import zlib

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.fields import _core
from tests.opspec import ALL_SPECS, FLOATS

CASES = [(spec, dt) for spec in ALL_SPECS for dt in spec.dtypes]


def _expected_dtype(spec, dt, want):
    if spec.out_dtype:
        return spec.out_dtype
    kind = want.dtype.kind
    if kind == "b":
        return "bool"
    if kind == "f":
        return dt if dt in FLOATS else "float32"  # floats of ints: the default float dtype
    return dt if dt in ("int32", "int64") else "int32"


def _reference(spec, dt, args):
    # numpy in float64 for float32 inputs, then rounded to float32, so the reference is exact.
    ref_args = [a.astype(np.float64) if a.dtype == np.float32 else a for a in args]
    want = spec.ref(*ref_args, **spec.kwargs)

    def cast(w):
        w = np.asarray(w)
        return w.astype(np.float32) if dt == "float32" and w.dtype == np.float64 else w

    return [cast(w) for w in want] if isinstance(want, (list, tuple)) else cast(want)


def _compare(spec, dt, got, want):
    if isinstance(want, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), spec.name
        for g, w in zip(got, want):
            _compare(spec, dt, g, w)
        return
    assert isinstance(got, fg.Tensor), f"{spec.name} returned {type(got).__name__}, not a Tensor"
    g = got.numpy()
    assert g.shape == want.shape, f"{spec.name}: shape {g.shape} != numpy's {want.shape}"
    if spec.check_dtype:
        expected = _expected_dtype(spec, dt, want)
        assert got.dtype.name == expected, (
            f"{spec.name}[{dt}]: dtype {got.dtype.name} != {expected}"
        )
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(g, want, err_msg=spec.name)
    else:
        f32 = got.dtype == np.float32
        rtol, atol = (spec.rtol, spec.atol) if f32 else (spec.rtol64, spec.atol64)
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, err_msg=spec.name)


@pytest.mark.parametrize("spec,dt", CASES, ids=[f"{s.name}-{d}" for s, d in CASES])
def test_op_matches_numpy(spec, dt):
    rng = np.random.default_rng(zlib.crc32(f"{spec.name}-{dt}".encode()))
    for args in spec.sample(rng, dt):
        got = spec.op(*[fg.tensor(a) for a in args], **spec.kwargs)
        _compare(spec, dt, got, _reference(spec, dt, args))


class _StagingTrace(_core.Trace):
    """Records nothing, computes nothing: outputs carry only abstract values."""

    def pure(self, val):
        return _AbstractTracer(self, _core.get_aval(val))

    lift = pure

    def process_primitive(self, prim, tracers, params):
        out = prim.abstract_eval(*[t.aval for t in tracers], **params)
        if prim.multiple_results:
            return [_AbstractTracer(self, a) for a in out]
        return _AbstractTracer(self, out)


class _AbstractTracer(_core.Tracer):
    def __init__(self, trace, aval):
        self._trace = trace
        self._aval = aval

    @property
    def aval(self):
        return self._aval


def _avals(r):
    if isinstance(r, (list, tuple)):
        return [_avals(x) for x in r]
    return (tuple(r.shape), np.dtype(r.dtype))


@pytest.mark.parametrize("spec,dt", CASES, ids=[f"{s.name}-{d}" for s, d in CASES])
def test_abstract_eval_matches_eager(spec, dt):
    """Staged with abstract values only, every op gives the eager result's shapes and dtypes."""
    rng = np.random.default_rng(zlib.crc32(f"{spec.name}-{dt}".encode()))
    for args in spec.sample(rng, dt)[:3]:
        tensors = [fg.tensor(a) for a in args]
        eager = spec.op(*tensors, **spec.kwargs)
        with _core.new_main(_StagingTrace) as main:
            with _core.new_dynamic(main):
                staged = spec.op(*tensors, **spec.kwargs)
        assert _avals(staged) == _avals(eager), spec.name
