"""Elementwise ops beyond the op-spec table: weak typing, special values, numpy's integer and
floor-division semantics, rounding, accuracy of the special functions, errors, immutability."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import special

import fieldgrad as fg
from fieldgrad.fields._core import Trace, Tracer, new_main

INT_MIN = np.iinfo(np.int32).min


def _np(t):
    assert isinstance(t, fg.Tensor)
    return t.numpy()


# --- Python scalars and weak typing ------------------------------------------------------------


def test_python_scalar_keeps_float32():
    x = fg.tensor([1.0, 2.0], dtype="float32")
    for y in (x * 2.5, 2.5 * x, x + 1, 1 - x, x / 3, 3 / x, x**0.5, 2.0**x):
        assert y.dtype == np.float32


def test_python_float_with_int_tensor_gives_default_float():
    i = fg.tensor([1, 2], dtype="int32")
    for y in (i + 1.5, 1.5 + i, i * 0.5, i - 0.5):
        assert y.dtype == np.float32
    np.testing.assert_array_equal(_np(i + 1.5), [2.5, 3.5])


def test_integer_results_stay_integer():
    i = fg.tensor([5, -7], dtype="int32")
    for y in (i + 1, 2 * i, i - 3, i // 2, i % 3, i**2, -i, fg.abs(i), fg.square(i)):
        assert y.dtype == np.int32
    assert (fg.tensor([5], dtype="int64") + 1).dtype == np.int64


def test_true_division_of_integers_is_float():
    a = fg.tensor([1, 7], dtype="int32")
    b = fg.tensor([2, -2], dtype="int32")
    for y in (a / b, a / 2, 7 / b, fg.divide(True, b)):
        assert y.dtype == np.float32
    np.testing.assert_array_equal(_np(a / b), [0.5, -3.5])


def test_tensor_dtypes_promote_to_the_wider():
    f32 = fg.tensor([1.0], dtype="float32")
    assert (f32 + fg.tensor([1.0], dtype="float64")).dtype == np.float64
    assert (f32 + fg.tensor([1], dtype="int64")).dtype == np.float32
    assert (fg.tensor([True]) + 1).dtype == np.int32
    assert (fg.tensor([True]) + fg.tensor([True])).dtype == np.bool_


def test_float64_tensor_uses_python_float_in_float64():
    x = fg.tensor([3.0], dtype="float64")
    assert (x * 0.1).item() == 3.0 * 0.1
    assert (0.1 + x).item() == 0.1 + 3.0


def test_python_scalars_on_both_sides():
    x = np.array([-3.0, -0.5, 2.0, 4.5], dtype=np.float32)
    t = fg.tensor(x)
    np.testing.assert_allclose(_np(2 - t), 2 - x)
    np.testing.assert_allclose(_np(2 / t), 2 / x, rtol=1e-7)
    np.testing.assert_allclose(_np(2**t), 2.0**x, rtol=1e-6)
    np.testing.assert_array_equal(_np(7 // t), 7 // x)
    np.testing.assert_array_equal(_np(7 % t), 7 % x)
    s = fg.add(1, 2)
    assert s.dtype == np.int32 and s.item() == 3
    assert fg.multiply(1.5, 2).item() == 3.0


def test_bool_arithmetic_follows_numpy():
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    ta, tb = fg.tensor(a), fg.tensor(b)
    np.testing.assert_array_equal(_np(ta + tb), a + b)
    np.testing.assert_array_equal(_np(ta * tb), a * b)
    np.testing.assert_array_equal(_np(ta & tb), a & b)
    np.testing.assert_array_equal(_np(ta | tb), a | b)
    np.testing.assert_array_equal(_np(ta ^ tb), a ^ b)
    np.testing.assert_array_equal(_np(~ta), ~a)


def test_logic_uses_truth_values_of_any_dtype():
    x = fg.tensor([0.0, -2.0, 0.5, 0.0])
    y = fg.tensor([3, 0, 1, 0])
    np.testing.assert_array_equal(_np(fg.logical_and(x, y)), [False, False, True, False])
    np.testing.assert_array_equal(_np(fg.logical_or(x, y)), [True, True, True, False])
    np.testing.assert_array_equal(_np(fg.logical_xor(x, y)), [True, True, False, False])
    np.testing.assert_array_equal(_np(fg.logical_not(y)), [False, True, False, True])
    assert fg.logical_and(x, y).dtype == np.bool_


def test_where_promotes_and_broadcasts():
    c = fg.tensor([[True], [False]])
    r = fg.where(c, fg.tensor([1, 2, 3], dtype="int32"), 0.5)
    assert r.dtype == np.float32 and r.shape == (2, 3)
    np.testing.assert_array_equal(_np(r), [[1, 2, 3], [0.5, 0.5, 0.5]])
    r = fg.where(fg.tensor([0, 2]), 1.0, 0.0)  # integer condition: its truth value
    np.testing.assert_array_equal(_np(r), [0.0, 1.0])
    assert fg.where(True, fg.tensor([1], dtype="int32"), 2).dtype == np.int32


# --- special values -------------------------------------------------------------------------


def test_exp_log_sqrt_special_values():
    with np.errstate(all="ignore"):
        assert np.isposinf(fg.exp(fg.tensor([100.0], dtype="float32")).item())
        assert fg.exp(fg.tensor([-1000.0])).item() == 0.0
        assert np.isposinf(fg.expm1(fg.tensor([1000.0])).item())
        assert fg.expm1(fg.tensor([-np.inf])).item() == -1.0
        assert np.isneginf(fg.log(fg.tensor([0.0])).item())
        assert np.isnan(fg.log(fg.tensor([-1.0])).item())
        assert np.isneginf(fg.log1p(fg.tensor([-1.0])).item())
        assert np.isnan(fg.log1p(fg.tensor([-2.0])).item())
        assert np.isnan(fg.sqrt(fg.tensor([-1.0])).item())
        assert np.isposinf(fg.reciprocal(fg.tensor([0.0])).item())
        assert np.isposinf(fg.rsqrt(fg.tensor([0.0])).item())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_softplus_do_not_overflow(dtype):
    x = fg.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    s = _np(fg.sigmoid(x))
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s, special.expit(np.array(x)), rtol=1e-6, atol=0)
    assert s[0] == 0.0 and s[-1] == 1.0
    sp = _np(fg.softplus(x))
    np.testing.assert_allclose(sp, np.logaddexp(0, np.array(x, np.float64)), rtol=1e-6, atol=0)
    assert sp[-1] == 1000.0 and sp[0] == 0.0
    # The tail log1p(exp(-20)) keeps full relative accuracy.
    np.testing.assert_allclose(
        fg.softplus(fg.tensor([-20.0], dtype=dtype)).item(), np.log1p(np.exp(-20.0)), rtol=1e-6
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_expm1_log1p_sinh_accurate_for_tiny_arguments(dtype):
    x = np.array([1e-30, -1e-20, 3e-12, -1e-8, 1e-5], dtype=dtype)
    t = fg.tensor(x)
    x64 = x.astype(np.float64)
    rtol = 1.2e-7 if dtype == "float32" else 4e-16
    np.testing.assert_allclose(_np(fg.expm1(t)), np.expm1(x64), rtol=rtol, atol=0)
    np.testing.assert_allclose(_np(fg.log1p(t)), np.log1p(x64), rtol=rtol, atol=0)
    np.testing.assert_allclose(_np(fg.sinh(t)), np.sinh(x64), rtol=rtol, atol=0)


def test_sinh_cosh_overflow_only_where_the_result_does():
    x = fg.tensor([89.0, -89.0, 90.0], dtype="float32")
    np.testing.assert_allclose(_np(fg.sinh(x))[:2], np.sinh(np.float32([89.0, -89.0])), rtol=1e-6)
    np.testing.assert_allclose(_np(fg.cosh(x))[0], np.cosh(np.float32(89.0)), rtol=1e-6)
    assert np.isposinf(_np(fg.sinh(x))[2]) and np.isposinf(_np(fg.cosh(x))[2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erf_matches_scipy(dtype):
    rng = np.random.default_rng(7)
    x = np.concatenate(
        [rng.uniform(-6, 6, 4000), rng.uniform(-0.5, 0.5, 2000), 10.0 ** rng.uniform(-30, 0, 500)]
    ).astype(dtype)
    want = special.erf(x.astype(np.float64))
    got = _np(fg.erf(fg.tensor(x))).astype(np.float64)
    rtol = 1.2e-7 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfc_keeps_relative_accuracy_in_the_tail(dtype):
    hi = 9.0 if dtype == "float32" else 26.0
    x = np.linspace(-5.0, hi, 3001).astype(dtype)
    want = special.erfc(x.astype(np.float64))
    got = _np(fg.erfc(fg.tensor(x))).astype(np.float64)
    rtol = 1.2e-7 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


def test_erf_erfc_infinities_and_nan():
    x = fg.tensor([-np.inf, np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(_np(fg.erf(x)), [-1.0, 1.0, np.nan, 0.0])
    np.testing.assert_array_equal(_np(fg.erfc(x)), [2.0, 0.0, np.nan, 1.0])


def test_gelu_exact_and_tanh():
    x = np.linspace(-10, 10, 101)
    t = fg.tensor(x, dtype="float64")
    np.testing.assert_allclose(
        _np(fg.gelu(t)), x * 0.5 * special.erfc(-x / np.sqrt(2)), rtol=1e-13, atol=1e-300
    )
    approx = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(_np(fg.gelu(t, approximate="tanh")), approx, rtol=1e-12, atol=1e-14)
    assert fg.gelu(fg.tensor([-40.0])).item() == 0.0  # no nan from the cancelling form


def test_nan_propagation_and_comparisons():
    nan = np.nan
    a = np.array([nan, 1.0, nan, 2.0, -np.inf], dtype=np.float32)
    b = np.array([1.0, nan, nan, 2.0, np.inf], dtype=np.float32)
    ta, tb = fg.tensor(a), fg.tensor(b)
    for fgop, npop in [
        (fg.maximum, np.maximum),
        (fg.minimum, np.minimum),
        (fg.equal, np.equal),
        (fg.not_equal, np.not_equal),
        (fg.less, np.less),
        (fg.less_equal, np.less_equal),
        (fg.greater, np.greater),
        (fg.greater_equal, np.greater_equal),
    ]:
        np.testing.assert_array_equal(_np(fgop(ta, tb)), npop(a, b), err_msg=fgop.__name__)
    x = np.array([nan, np.inf, -np.inf, -0.0, 3.0, -2.0], dtype=np.float64)
    t = fg.tensor(x)
    np.testing.assert_array_equal(_np(fg.sign(t)), np.sign(x))
    np.testing.assert_array_equal(_np(fg.isnan(t)), np.isnan(x))
    np.testing.assert_array_equal(_np(fg.isfinite(t)), np.isfinite(x))
    np.testing.assert_array_equal(_np(fg.round(t)), np.round(x))
    np.testing.assert_array_equal(_np(fg.relu(t)), np.maximum(x, 0))
    assert not fg.isnan(fg.tensor([1, 2])).numpy().any()
    assert fg.isfinite(fg.tensor([True])).numpy().all()


# --- floor division, remainder and powers --------------------------------------------------------


def test_integer_floor_divide_and_mod_follow_numpy():
    a = np.array([7, -7, 7, -7, 0, 1, -1, 6, INT_MIN], dtype=np.int32)
    b = np.array([2, 2, -2, -2, 3, -5, 5, 3, 7], dtype=np.int32)
    ta, tb = fg.tensor(a), fg.tensor(b)
    np.testing.assert_array_equal(_np(ta // tb), a // b)
    np.testing.assert_array_equal(_np(ta % tb), a % b)
    np.testing.assert_array_equal(_np(fg.floor_divide(-7, tb)), -7 // b)


def test_integer_division_by_zero_and_overflow_give_numpy_values():
    a = np.array([5, -5, 0, INT_MIN], dtype=np.int32)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_np(fg.tensor(a) // 0), a // np.int32(0))
        np.testing.assert_array_equal(_np(fg.tensor(a) % 0), a % np.int32(0))
        np.testing.assert_array_equal(_np(fg.tensor(a) // -1), a // np.int32(-1))
        np.testing.assert_array_equal(_np(fg.tensor(a) % -1), a % np.int32(-1))
    assert _np(fg.tensor(a) // 0).tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_floor_divide_and_mod_follow_numpy(dtype):
    vals = [7.5, -7.5, 1.0, -1.0, 0.0, -0.0, 5.0, 1e30, -3.25, 0.3]
    divs = [2.0, -2.0, 0.1, 0.1, 3.0, -3.0, -2.5, 3.0, 1e-30, 0.1]
    a = np.array(vals, dtype=dtype)
    b = np.array(divs, dtype=dtype)
    ta, tb = fg.tensor(a), fg.tensor(b)
    np.testing.assert_array_equal(_np(ta // tb), np.floor_divide(a, b))
    np.testing.assert_array_equal(_np(ta % tb), np.mod(a, b))
    # signs of zero results follow numpy too
    np.testing.assert_array_equal(np.signbit(_np(ta % tb)), np.signbit(np.mod(a, b)))
    assert fg.floor_divide(fg.tensor([1.0], dtype=dtype), 0.1).item() == 9.0


def test_float_floor_divide_and_mod_random_against_numpy():
    rng = np.random.default_rng(3)
    a = rng.uniform(-50, 50, 5000) * 10.0 ** rng.integers(-3, 4, 5000)
    b = rng.uniform(0.01, 3, 5000) * np.where(rng.uniform(size=5000) < 0.5, -1, 1)
    for dt in ("float32", "float64"):
        x, y = a.astype(dt), b.astype(dt)
        np.testing.assert_array_equal(_np(fg.tensor(x) // fg.tensor(y)), np.floor_divide(x, y))
        np.testing.assert_array_equal(_np(fg.tensor(x) % fg.tensor(y)), np.mod(x, y))


def test_float_division_by_zero_and_infinities():
    a = np.array([1.0, -1.0, 0.0, np.inf, np.nan, 1.0, -1.0], dtype=np.float32)
    b = np.array([0.0, 0.0, 0.0, 1.0, 1.0, np.inf, np.inf], dtype=np.float32)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_np(fg.tensor(a) // fg.tensor(b)), np.floor_divide(a, b))
        np.testing.assert_array_equal(_np(fg.tensor(a) % fg.tensor(b)), np.mod(a, b))
        np.testing.assert_array_equal(_np(fg.tensor(a) / fg.tensor(b)), a / b)


def test_power_semantics():
    i = fg.tensor([2, -3, 0, 1], dtype="int32")
    np.testing.assert_array_equal(_np(i**3), np.array([8, -27, 0, 1]))
    np.testing.assert_array_equal(_np(i**0), [1, 1, 1, 1])
    np.testing.assert_array_equal(_np(fg.power(i, fg.tensor([3, 2, 0, 5]))), [8, 9, 1, 1])
    x = fg.tensor([-3.0, 0.0, np.nan, 2.0])
    np.testing.assert_array_equal(_np(x**2), [9.0, 0.0, np.nan, 4.0])
    np.testing.assert_array_equal(_np(x**0), [1.0, 1.0, 1.0, 1.0])  # numpy: nan**0 == 1
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_np(x**-1), np.float32([-3.0, 0.0, np.nan, 2.0]) ** -1)
        assert np.isnan(fg.power(fg.tensor([-8.0]), 1 / 3).item())
    assert (fg.tensor([True, False]) ** 2).dtype == np.int32


def test_integer_to_negative_power_raises():
    i = fg.tensor([2, 3], dtype="int32")
    with pytest.raises(ValueError, match="negative integer powers"):
        i**-1
    with pytest.raises(ValueError, match="negative integer powers"):
        fg.power(i, fg.tensor([1, -2], dtype="int32"))
    assert fg.power(i, -1.0).dtype == np.float32  # a float exponent is fine


# --- rounding and clipping -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_half_to_even(dtype):
    x = np.array([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49999997, 2.0**24 + 2, -7.0], dtype)
    np.testing.assert_array_equal(_np(fg.round(fg.tensor(x))), np.round(x))
    y = np.array([0.125, 0.375, -0.625, 1.25, 2.675], dtype)
    np.testing.assert_array_equal(_np(fg.round(fg.tensor(y), decimals=2)), np.round(y, 2))
    z = np.array([15.0, 25.0, -15.0, 149.0], dtype)
    np.testing.assert_array_equal(_np(fg.round(fg.tensor(z), decimals=-1)), np.round(z, -1))


def test_round_integers():
    i = np.array([15, 25, -15, -25, 14, 5, 150], dtype=np.int32)
    t = fg.tensor(i)
    assert fg.round(t) is t
    np.testing.assert_array_equal(_np(fg.round(t, decimals=-1)), np.round(i, -1))
    np.testing.assert_array_equal(_np(fg.round(t, decimals=-2)), np.round(i, -2))
    np.testing.assert_array_equal(_np(fg.round(t, decimals=-12)), np.zeros(7, np.int32))
    with pytest.raises(TypeError, match="decimals"):
        fg.round(t, decimals=0.5)


def test_clip_bounds_may_be_none():
    x = fg.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(_np(fg.clip(x, None, 1.0)), [-2.0, 0.5, 1.0])
    np.testing.assert_array_equal(_np(fg.clip(x, 0.0)), [0.0, 0.5, 3.0])
    np.testing.assert_array_equal(_np(x.clip(0, 1)), [0.0, 0.5, 1.0])
    assert fg.clip(x) is x
    assert fg.clip(fg.tensor([5, -5], dtype="int32"), -1, 1).dtype == np.int32


def test_int_inputs_of_floating_functions_give_default_float():
    i = fg.tensor([1, 4], dtype="int32")
    for f in (fg.sqrt, fg.exp, fg.log, fg.sin, fg.erf, fg.sigmoid, fg.tanh, fg.reciprocal):
        assert f(i).dtype == np.float32, f.__name__
    for f in (fg.abs, fg.sign, fg.floor, fg.ceil, fg.round, fg.square, fg.relu, fg.negative):
        assert f(i).dtype == np.int32, f.__name__


# --- errors --------------------------------------------------------------------------------------


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(3,\).*\(4,\)"):
        fg.add(fg.zeros(3), fg.zeros(4))
    with pytest.raises(ValueError, match=r"less: .*\(2, 3\).*\(2,\)"):
        _ = fg.zeros((2, 3)) < fg.zeros(2)
    with pytest.raises(ValueError, match=r"where: .*\(2,\).*\(3,\).*\(\)"):
        fg.where(fg.tensor([True, False]), fg.zeros(3), 0.0)
    with pytest.raises(ValueError, match=r"logical_or: .*\(2,\).*\(5,\)"):
        fg.logical_or(fg.zeros(2), fg.zeros(5))


def test_unsupported_dtypes_raise_type_error():
    with pytest.raises(TypeError, match="complex"):
        fg.add(np.array([1 + 2j]), 1.0)
    with pytest.raises(TypeError, match="complex"):
        fg.multiply(fg.zeros(2), 1j)
    with pytest.raises(TypeError, match="str"):
        fg.exp("abc")
    b = fg.tensor([True, False])
    with pytest.raises(TypeError, match="bool"):
        fg.negative(b)
    with pytest.raises(TypeError, match="bool"):
        b - b
    with pytest.raises(TypeError, match="bool"):
        fg.sign(b)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="approximate"):
        fg.gelu(fg.zeros(2), approximate="erf")


# --- which primitives each op binds (a recording trace) ---------------------------------------


class _RecTracer(Tracer):
    def __init__(self, trace, val):
        self._trace = trace
        self.val = val

    @property
    def aval(self):
        return self.val.aval


class _Recorder(Trace):
    def pure(self, val):
        return _RecTracer(self, fg.asarray(val))

    lift = pure

    def process_primitive(self, prim, tracers, params):
        self.main.global_data.append(prim.name)
        return _RecTracer(self, prim.bind(*[t.val for t in tracers], **params))


def _bound(f, *args):
    """The primitive names ``f`` binds, and its result, when run under a recording trace."""
    with new_main(_Recorder, global_data=[]) as main:
        trace = _Recorder(main)
        out = f(*[_RecTracer(trace, fg.asarray(a)) for a in args])
        return main.global_data, out


@pytest.mark.parametrize(
    "f,expected",
    [
        (lambda x: x**3, {"integer_pow"}),
        (lambda x: x**2.5, {"pow"}),
        (fg.square, {"mul"}),
        (fg.reciprocal, {"div"}),
        (fg.rsqrt, {"sqrt", "div"}),
        (fg.arctan, {"atan2"}),
        (fg.relu, {"max"}),
        (lambda x: fg.clip(x, 0.0, 1.0), {"max", "min"}),
        (fg.sigmoid, {"logistic"}),
        (fg.softplus, {"softplus"}),
        (fg.gelu, {"mul", "erfc"}),
        (lambda x: fg.gelu(x, approximate="tanh"), {"integer_pow", "mul", "add", "logistic"}),
        (lambda x: fg.greater(x, 0.5), {"lt"}),
        (lambda x: fg.greater_equal(x, 0.5), {"le"}),
        (lambda x: fg.logical_and(x, x), {"ne", "min"}),
        (fg.logical_not, {"eq"}),
        (lambda x: fg.where(x > 0, x, 0.0), {"lt", "select"}),
        (lambda x: fg.round(x, decimals=2), {"mul", "round", "div"}),
    ],
)
def test_ops_bind_the_documented_primitives(f, expected):
    x = fg.tensor([-0.5, 0.25, 2.0])
    names, out = _bound(f, x)
    assert set(names) == expected
    assert isinstance(out, Tracer)
    eager = f(x)
    assert out.aval == eager.aval
    np.testing.assert_array_equal(out.val.numpy(), eager.numpy())


def test_traced_integer_exponent_is_not_checked_but_defined():
    # Inside a transformation the exponent's values are unknown: no error, defined results.
    names, out = _bound(fg.power, fg.tensor([1, -1, 2], dtype="int32"), fg.tensor([-1, -3, -1]))
    assert names == ["pow"]
    assert out.val.numpy().tolist() == [1, -1, 0]


# --- immutability ---------------------------------------------------------------------------


@pytest.mark.parametrize("cols", [17, 4099])  # small, and large enough for the SIMD path
def test_no_input_is_modified(cols):
    rng = np.random.default_rng(11)
    a = rng.uniform(-2, 2, (3, cols)).astype(np.float32)
    b = rng.uniform(0.5, 2, (cols,)).astype(np.float32)
    ta, tb = fg.tensor(a), fg.tensor(b)
    ti = fg.tensor(rng.integers(-5, 5, (3, cols)), dtype="int32")
    i0 = ti.numpy().copy()
    a0, b0 = np.array(ta.numpy()), np.array(tb.numpy())
    for f in (
        fg.add,
        fg.subtract,
        fg.multiply,
        fg.divide,
        fg.floor_divide,
        fg.mod,
        fg.power,
        fg.maximum,
        fg.minimum,
        fg.arctan2,
        fg.equal,
        fg.less,
        fg.logical_and,
    ):
        f(ta, tb)
    for f in (
        fg.negative,
        fg.abs,
        fg.exp,
        fg.expm1,
        fg.log1p,
        fg.sqrt,
        fg.sin,
        fg.erf,
        fg.erfc,
        fg.sigmoid,
        fg.softplus,
        fg.gelu,
        fg.relu,
        fg.round,
        fg.floor,
        fg.sign,
        fg.square,
        fg.isnan,
        fg.logical_not,
    ):
        f(ta)
    fg.where(ta > 0, ta, tb)
    fg.clip(ta, -1, 1)
    ti**3, ti // 2, ti % 3, fg.round(ti, decimals=-1)  # noqa: B018
    np.testing.assert_array_equal(ta.numpy(), a0)
    np.testing.assert_array_equal(tb.numpy(), b0)
    np.testing.assert_array_equal(ti.numpy(), i0)


# --- Taichi prints nothing; constants keep their precision under either default dtype --------

_QUIET_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from scipy import special
    import fieldgrad as fg
    from fieldgrad.fields import _scalar_math

    if sys.argv[1] == "native":  # float32 arithmetic everywhere, as on archs without float64
        _scalar_math._F64_ARCHS = ()
    data = sys.argv[2]
    default = "float64" if data == "float32" else "float32"
    fg.init(arch="cpu", default_dtype=default, offline_cache=False)
    x = fg.tensor(np.linspace(-3, 3, 11), dtype=data)
    i = fg.tensor(np.arange(-5, 6), dtype="int32")
    outs = [fg.expm1(x), fg.log1p(x * x), fg.erf(x), fg.erfc(x), fg.sinh(x), fg.cosh(x),
            fg.sigmoid(x), fg.softplus(x), fg.round(x), fg.sign(x), fg.mod(x, 0.7),
            fg.floor_divide(x, 0.7), x ** 3, x ** -2, fg.maximum(x, 0.5),
            fg.gelu(x), fg.gelu(x, approximate="tanh"), fg.clip(x, -1, 1)]
    assert all(o.dtype == data for o in outs), [o.dtype for o in outs]
    more = [fg.isnan(x), x < 0.3, x == 0.3, i // 3, i % 3, i ** 2, fg.where(x > 0, x, i)]
    assert (i / 2).dtype == default
    ref = np.linspace(-3, 3, 11).astype(data).astype(np.float64)
    rtol = {"wide": 1.2e-7, "native": 8e-7}[sys.argv[1]] if data == "float32" else 1e-14
    assert np.allclose(outs[2].numpy(), special.erf(ref), rtol=rtol, atol=0)
    assert np.allclose(outs[3].numpy(), special.erfc(ref), rtol=rtol, atol=0)
    assert np.allclose(outs[0].numpy(), np.expm1(ref), rtol=rtol, atol=0)
    print("ok")
    """
)


@pytest.mark.parametrize(
    "mode,data", [("wide", "float32"), ("native", "float32"), ("wide", "float64")]
)
def test_kernels_of_the_other_float_dtype_are_quiet_and_accurate(mode, data):
    """float32 data under the float64 default (and the reverse) compiles without Taichi
    warnings and keeps full-precision constants; "native" forces float32 arithmetic, as on
    archs without float64."""
    r = subprocess.run(
        [sys.executable, "-c", _QUIET_SCRIPT, mode, data],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok", r.stdout
    assert "warn" not in r.stderr.lower(), r.stderr


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_tensors_keep_the_semantics(dtype):
    """Tensors large enough for the vectorised CPU path give numpy's special values too."""
    rng = np.random.default_rng(5)
    n = 5003
    a = rng.uniform(-5, 5, n).astype(dtype)
    b = rng.uniform(-5, 5, n).astype(dtype)
    a[::7], b[::11], a[::13], a[::17], a[::19] = np.nan, np.inf, -np.inf, 1000, -1000
    ta, tb = fg.tensor(a), fg.tensor(b)
    with np.errstate(all="ignore"):
        for f, ref in [
            (fg.maximum, np.maximum),
            (fg.minimum, np.minimum),
            (fg.add, np.add),
            (fg.divide, np.divide),
            (fg.less, np.less),
            (fg.not_equal, np.not_equal),
        ]:
            np.testing.assert_array_equal(_np(f(ta, tb)), ref(a, b), err_msg=f.__name__)
        for f, ref in [
            (fg.exp, np.exp),
            (fg.log, np.log),
            (fg.tanh, np.tanh),
            (fg.sin, np.sin),
            (fg.cos, np.cos),
            (fg.sigmoid, special.expit),
            (fg.floor, np.floor),
            (fg.ceil, np.ceil),
            (fg.abs, np.abs),
            (fg.sqrt, np.sqrt),
            (fg.negative, np.negative),
            (fg.round, np.round),
            (fg.erf, special.erf),
        ]:
            want = ref(a.astype(np.float64)).astype(dtype)
            rtol = 1e-6 if dtype == "float32" else 1e-13
            np.testing.assert_allclose(_np(f(ta)), want, rtol=rtol, atol=0, err_msg=f.__name__)


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((300, 64), (64,)),
        ((64,), (300, 64)),
        ((300, 64), (300, 1)),
        ((300, 1), (1, 64)),
        ((3, 4, 5), (4, 5)),
        ((3, 4, 5), (3, 4, 1)),
        ((5, 1), (5, 7)),
        ((2, 3), ()),
    ],
)
def test_blocked_broadcast_kernels_match_numpy(sa, sb):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    for f, ref in (
        (fg.add, np.add),
        (fg.subtract, np.subtract),
        (fg.maximum, np.maximum),
        (fg.less, np.less),
    ):
        np.testing.assert_array_equal(f(fg.tensor(a), fg.tensor(b)).numpy(), ref(a, b))
