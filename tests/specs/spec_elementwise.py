"""Op-spec entries for elementwise arithmetic, comparisons, logic, selection and math."""

import numpy as np
from scipy import special

import fieldgrad as fg
from tests.opspec import BINARY_SHAPES, UNARY_SHAPES, OpSpec

F = ("float32", "float64")
FI = ("float32", "float64", "int32")
FIB = ("float32", "float64", "int32", "bool")
# Three-way broadcasting for where / clip with tensor bounds.
TERNARY_SHAPES = [
    ((), (), ()),
    ((5,), (5,), (5,)),
    ((3, 4), (3, 4), ()),
    ((3, 1), (1, 4), (4,)),
    ((2, 3, 4), (3, 1), (1,)),
    ((4,), (3, 1), ()),
    ((0, 3), (3,), ()),
]


# --- samplers -------------------------------------------------------------------------------


def _uniform(rng, shape, dtype, lo, hi):
    kind = np.dtype(dtype).kind
    if kind == "f":
        return rng.uniform(lo, hi, size=shape).astype(dtype)
    if kind == "b":
        return np.asarray(rng.uniform(size=shape) < 0.5)
    return rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, size=shape).astype(dtype)


def nonzero(lo, hi):
    """|value| uniform in [lo, hi] with a random sign (away from zero)."""

    def sample(rng, shape, dtype, argnum):
        mag = _uniform(rng, shape, dtype, max(lo, 1) if np.dtype(dtype).kind == "i" else lo, hi)
        sign = np.where(rng.uniform(size=shape) < 0.5, -1, 1)
        return np.asarray(mag * sign, dtype=dtype)

    return sample


def per_arg(*domains):
    """A domain per argument: (lo, hi) tuples or samplers."""

    def sample(rng, shape, dtype, argnum):
        d = domains[argnum]
        if callable(d):
            return d(rng, shape, dtype, argnum)
        return _uniform(rng, shape, dtype, *d)

    return sample


def log_scale(lo_exp, hi_exp, signed=True):
    """|value| = 10**u with u uniform in [lo_exp, hi_exp] (tiny to moderate magnitudes)."""

    def sample(rng, shape, dtype, argnum):
        a = 10.0 ** rng.uniform(lo_exp, hi_exp, size=shape)
        if signed:
            a = a * np.where(rng.uniform(size=shape) < 0.5, -1, 1)
        return np.asarray(a, dtype=dtype)

    return sample


def with_zeros(lo, hi):
    """Uniform values of which about a third are exactly zero (truth-value tests)."""

    def sample(rng, shape, dtype, argnum):
        a = _uniform(rng, shape, dtype, lo, hi)
        return np.asarray(np.where(rng.uniform(size=shape) < 0.35, 0, a), dtype=dtype)

    return sample


def with_specials(rng, shape, dtype, argnum):
    """Finite values mixed with nan, inf and -inf (floats); plain integers otherwise."""
    a = _uniform(rng, shape, dtype, -3, 3)
    if np.dtype(dtype).kind == "f":
        pick = rng.integers(0, 5, size=shape)
        a = np.where(
            pick == 0, np.nan, np.where(pick == 1, np.inf, np.where(pick == 2, -np.inf, a))
        )
    return np.asarray(a, dtype=dtype)


def where_args(rng, shape, dtype, argnum):
    if argnum == 0:
        return np.asarray(rng.uniform(size=shape) < 0.5)
    return _uniform(rng, shape, dtype, -2, 2)


# --- references -----------------------------------------------------------------------------


def _gelu_ref(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * special.erfc(-x / np.sqrt(2))


def _relu_ref(x):
    return np.maximum(x, np.zeros((), x.dtype))


def _rsqrt_ref(x):
    return 1 / np.sqrt(x)


def _reciprocal_ref(x):
    return 1 / x


def _square_ref(x):
    return x * x


def _softplus_ref(x):
    return np.logaddexp(0, x)


def _ipow3(x):
    return x**3


def _ipow_neg2(x):
    return x ** np.asarray(-2.0, x.dtype)


def _clip_ref(x, lo, hi):
    return np.clip(x, lo, hi)


def _clip_const(x):
    return np.clip(x, -0.5, 0.75)


def _clip_int(x):
    return np.clip(x, -1, 2)


def _clip_lo(x):
    return np.maximum(x, np.asarray(0.25, x.dtype))


# Tolerances: about 8 float32 ulps (libm and CUDA's libdevice functions are within 4 ulps,
# composites such as gelu add a few roundings); float64 results are within a few ulps.
TOL = {"rtol": 1e-6, "atol": 1e-7, "rtol64": 1e-13, "atol64": 1e-15}


def S(name, op, ref, shapes, **kw):
    return OpSpec(name, op, ref, shapes, **{**TOL, **kw})


def U(name, op, ref, domain=(-2.0, 2.0), dtypes=F, **kw):
    return S(name, op, ref, UNARY_SHAPES, dtypes=dtypes, domain=domain, **kw)


def B(name, op, ref, domain=(-2.0, 2.0), dtypes=F, **kw):
    return S(name, op, ref, BINARY_SHAPES, dtypes=dtypes, domain=domain, **kw)


SPECS = [
    # arithmetic
    B("add", fg.add, np.add, dtypes=FIB),
    B("subtract", fg.subtract, np.subtract, dtypes=FI),
    B("multiply", fg.multiply, np.multiply, dtypes=FIB),
    B("divide", fg.divide, np.divide, domain=per_arg((-2, 2), nonzero(0.5, 2)), dtypes=FI),
    B("floor_divide", fg.floor_divide, np.floor_divide, grad_order=0, dtypes=FI,
      domain=per_arg((-10, 10), nonzero(0.3, 3))),
    B("mod", fg.mod, np.mod, grad_order=1, dtypes=FI, domain=per_arg((-10, 10), nonzero(0.3, 3))),
    B("power", fg.power, np.power, domain=per_arg((0.5, 2.0), (-2.0, 2.0))),
    B("power-int", fg.power, np.power, dtypes=("int32",), domain=per_arg((-5, 5), (0, 5)),
      grad_order=0),
    U("integer_pow", lambda x: fg.power(x, 3), _ipow3, dtypes=FI),
    U("integer_pow-negative", lambda x: fg.power(x, -2), _ipow_neg2, domain=nonzero(0.3, 2)),
    U("negative", fg.negative, np.negative, dtypes=FI),
    U("positive", fg.positive, np.positive, dtypes=FI),
    B("maximum", fg.maximum, np.maximum, dtypes=FIB, grad_order=1),
    B("minimum", fg.minimum, np.minimum, dtypes=FIB, grad_order=1),
    # comparisons and logic (bool results)
    B("equal", fg.equal, np.equal, domain=(-1, 1), dtypes=FIB, grad_order=0),
    B("not_equal", fg.not_equal, np.not_equal, domain=(-1, 1), dtypes=FIB, grad_order=0),
    B("less", fg.less, np.less, domain=(-1, 1), dtypes=FIB, grad_order=0),
    B("less_equal", fg.less_equal, np.less_equal, domain=(-1, 1), dtypes=FIB, grad_order=0),
    B("greater", fg.greater, np.greater, domain=(-1, 1), dtypes=FIB, grad_order=0),
    B("greater_equal", fg.greater_equal, np.greater_equal, domain=(-1, 1), dtypes=FIB,
      grad_order=0),
    B("logical_and", fg.logical_and, np.logical_and, domain=with_zeros(-1, 1), dtypes=FIB,
      grad_order=0),
    B("logical_or", fg.logical_or, np.logical_or, domain=with_zeros(-1, 1), dtypes=FIB,
      grad_order=0),
    B("logical_xor", fg.logical_xor, np.logical_xor, domain=with_zeros(-1, 1), dtypes=FIB,
      grad_order=0),
    U("logical_not", fg.logical_not, np.logical_not, domain=with_zeros(-1, 1), dtypes=FIB,
      grad_order=0),
    S("where", fg.where, np.where, TERNARY_SHAPES, dtypes=FI, domain=where_args,
           nondiff_argnums=(0,)),
    U("isnan", fg.isnan, np.isnan, domain=with_specials, dtypes=FI, grad_order=0),
    U("isfinite", fg.isfinite, np.isfinite, domain=with_specials, dtypes=FI, grad_order=0),
    # sign and magnitude
    U("abs", fg.abs, np.abs, domain=nonzero(0.1, 2), dtypes=FI),
    U("sign", fg.sign, np.sign, domain=(-2, 2), dtypes=FI, grad_order=0),
    U("square", fg.square, _square_ref, dtypes=FI),
    U("reciprocal", fg.reciprocal, _reciprocal_ref, domain=nonzero(0.2, 2)),
    U("sqrt", fg.sqrt, np.sqrt, domain=per_arg((0.05, 4)), dtypes=FI),
    U("rsqrt", fg.rsqrt, _rsqrt_ref, domain=(0.1, 4)),
    # exponentials and logarithms
    U("exp", fg.exp, np.exp, dtypes=FI),
    U("expm1", fg.expm1, np.expm1),
    U("expm1-tiny", fg.expm1, np.expm1, domain=log_scale(-12, 0), rtol=4e-7, rtol64=4e-16,
      atol=0, atol64=0),
    U("log", fg.log, np.log, domain=per_arg((0.05, 5)), dtypes=FI),
    U("log1p", fg.log1p, np.log1p, domain=(-0.9, 3)),
    U("log1p-tiny", fg.log1p, np.log1p, domain=log_scale(-12, -0.5), rtol=4e-7, rtol64=4e-16,
      atol=0, atol64=0),
    # trigonometric and hyperbolic
    U("sin", fg.sin, np.sin, domain=(-6, 6), dtypes=FI),
    U("cos", fg.cos, np.cos, domain=(-6, 6), dtypes=FI),
    U("tan", fg.tan, np.tan, domain=(-1.2, 1.2)),
    U("arcsin", fg.arcsin, np.arcsin, domain=(-0.95, 0.95)),
    U("arccos", fg.arccos, np.arccos, domain=(-0.95, 0.95)),
    U("arctan", fg.arctan, np.arctan, domain=(-4, 4)),
    B("arctan2", fg.arctan2, np.arctan2, domain=nonzero(0.1, 2)),
    U("sinh", fg.sinh, np.sinh, domain=(-4, 4)),
    U("sinh-tiny", fg.sinh, np.sinh, domain=log_scale(-12, 0), rtol=4e-7, rtol64=4e-16,
      atol=0, atol64=0),
    U("cosh", fg.cosh, np.cosh, domain=(-4, 4)),
    U("tanh", fg.tanh, np.tanh, domain=(-4, 4)),
    # activations
    U("sigmoid", fg.sigmoid, special.expit, domain=(-10, 10)),
    U("softplus", fg.softplus, _softplus_ref, domain=(-10, 10)),
    U("relu", fg.relu, _relu_ref, domain=nonzero(0.05, 2), dtypes=FI),
    U("gelu", fg.gelu, _gelu_ref, domain=(-5, 5)),
    U("gelu-tanh", fg.gelu, _gelu_ref, domain=(-5, 5), kwargs={"approximate": "tanh"}),
    # error function
    U("erf", fg.erf, special.erf, domain=(-5, 5)),
    U("erfc", fg.erfc, special.erfc, domain=(-3, 9)),
    # rounding and clipping
    U("floor", fg.floor, np.floor, domain=(-5, 5), dtypes=FI, grad_order=0),
    U("ceil", fg.ceil, np.ceil, domain=(-5, 5), dtypes=FI, grad_order=0),
    U("round", fg.round, np.round, domain=(-5, 5), dtypes=FI, grad_order=0),
    U("round-decimals2", fg.round, np.round, domain=(-5, 5), kwargs={"decimals": 2},
      grad_order=0),
    U("round-decimals-1", fg.round, np.round, domain=(-300, 300), dtypes=FI,
      kwargs={"decimals": -1}, grad_order=0),
    U("clip", lambda x: fg.clip(x, -0.5, 0.75), _clip_const, domain=(-1, 1)),
    U("clip-int", lambda x: fg.clip(x, -1, 2), _clip_int, domain=(-3, 3), dtypes=("int32",),
      grad_order=0),
    U("clip-lo-only", lambda x: fg.clip(x, 0.25), _clip_lo, domain=(-1, 1)),
    S("clip-tensor-bounds", fg.clip, _clip_ref, TERNARY_SHAPES,
           domain=per_arg((-2, 2), (-1.5, -0.1), (0.1, 1.5))),
]  # fmt: skip
