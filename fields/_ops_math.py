"""Elementwise transcendental math: roots, exponentials, logarithms, trigonometry, activations.

Floating functions of integer and bool tensors compute in the default float dtype
(:func:`fieldgrad.fields._dtypes.float_result`). The Taichi bodies of the primitives that need
care (expm1, log1p, sinh, cosh, sigmoid, softplus, erf, erfc) are in
:mod:`fieldgrad.fields._scalar_math`; on the CPU and CUDA their float32 versions compute in
float64 and round once.

Primitives (one kernel each): ``sqrt``, ``exp``, ``expm1``, ``log``, ``log1p``, ``sin``,
``cos``, ``tan``, ``asin``, ``acos``, ``atan2``, ``sinh``, ``cosh``, ``tanh``, ``logistic``
(sigmoid), ``softplus``, ``erf``, ``erfc``. Composites: ``rsqrt``, ``square``, ``reciprocal``,
``arctan`` (``atan2(x, 1)``), ``relu`` (``max(x, 0)``) and ``gelu``.
"""

import math

from . import _dtypes, _scalar_math
from ._convert import as_operand, promote
from ._elementwise import binary_primitive, unary_primitive
from ._ops_compare import _operands, maximum
from ._ops_elementwise import add, divide, multiply, power

__all__ = [
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "sinh",
    "cosh",
    "tanh",
    "sigmoid",
    "softplus",
    "relu",
    "gelu",
    "erf",
    "erfc",
]

_fn = _scalar_math.func
_libm = _scalar_math.libm


def _f_atan2(ti):
    @ti.func
    def f(y, x):
        return ti.atan2(y, x)

    return f


exp_p = unary_primitive("exp", _libm("exp"))
expm1_p = unary_primitive("expm1", _fn("expm1"))
log_p = unary_primitive("log", _libm("log"))
log1p_p = unary_primitive("log1p", _fn("log1p"))
sqrt_p = unary_primitive("sqrt", _libm("sqrt"))
sin_p = unary_primitive("sin", _libm("sin"))
cos_p = unary_primitive("cos", _libm("cos"))
tan_p = unary_primitive("tan", _libm("tan"))
asin_p = unary_primitive("asin", _libm("asin"))
acos_p = unary_primitive("acos", _libm("acos"))
atan2_p = binary_primitive("atan2", _f_atan2)
sinh_p = unary_primitive("sinh", _fn("sinh"))
cosh_p = unary_primitive("cosh", _fn("cosh"))
tanh_p = unary_primitive("tanh", _libm("tanh"))
logistic_p = unary_primitive("logistic", _fn("sigmoid"))
softplus_p = unary_primitive("softplus", _fn("softplus"))
erf_p = unary_primitive("erf", _fn("erf"))
erfc_p = unary_primitive("erfc", _fn("erfc"))


def _floating(x):
    """``x`` as a tensor of its floating result dtype (ints and bools: the default float)."""
    x = as_operand(x)
    if _dtypes.is_float(x.dtype):
        return x
    return promote(x, dtype=_dtypes.float_result(x.dtype))[0]


def _float_unary(prim, x):
    return prim.bind(_floating(x))


# --- powers and roots -------------------------------------------------------------------------


def square(x):
    """Elementwise ``x * x`` (composite of ``mul``); keeps integer dtypes.

    Example:
        >>> import fieldgrad as fg
        >>> fg.square(fg.tensor([-3, 2])).tolist()
        [9, 4]
    """
    x = as_operand(x)
    return multiply(x, x)


def reciprocal(x):
    """Elementwise ``1 / x`` (composite of ``div``); integer inputs give the default float.

    Example:
        >>> import fieldgrad as fg
        >>> fg.reciprocal(fg.tensor([2.0, 4.0])).tolist()
        [0.5, 0.25]
    """
    return divide(1, x)


def sqrt(x):
    """Elementwise square root (primitive ``sqrt``; derivative ``1 / (2 sqrt(x))``).

    ``sqrt(-1)`` is ``nan``. Integer inputs give the default float dtype.

    Example:
        >>> import fieldgrad as fg
        >>> fg.sqrt(fg.tensor([4.0, 9.0])).tolist()
        [2.0, 3.0]
    """
    return _float_unary(sqrt_p, x)


def rsqrt(x):
    """Elementwise ``1 / sqrt(x)`` (composite of ``sqrt`` and ``div``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.rsqrt(fg.tensor([4.0])).tolist()
        [0.5]
    """
    return divide(1, sqrt(x))


# --- exponentials and logarithms ---------------------------------------------------------------


def exp(x):
    """Elementwise ``e**x`` (primitive ``exp``; derivative ``exp(x)``); overflows to ``inf``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.exp(fg.tensor([0.0])).tolist()
        [1.0]
    """
    return _float_unary(exp_p, x)


def expm1(x):
    """Elementwise ``e**x - 1``, accurate for tiny ``|x|`` (primitive ``expm1``).

    Uses a rational approximation on ``|x| <= 0.5`` (Cephes) and ``exp(x) - 1`` outside.
    Derivative: ``exp(x)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.expm1(fg.tensor([1e-10], dtype="float64")).item() / 1e-10
        1.00000000005
    """
    return _float_unary(expm1_p, x)


def log(x):
    """Elementwise natural logarithm (primitive ``log``; derivative ``1 / x``).

    ``log(0) = -inf``, ``log(x < 0) = nan``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.log(fg.tensor([1.0])).tolist()
        [0.0]
    """
    return _float_unary(log_p, x)


def log1p(x):
    """Elementwise ``log(1 + x)``, accurate for tiny ``|x|`` (primitive ``log1p``).

    Uses ``x - x**2/2 + x**3 P(x)/Q(x)`` for ``1/sqrt(2) <= 1 + x <= sqrt(2)`` (Cephes) and
    ``log(1 + x)`` outside. Derivative: ``1 / (1 + x)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.log1p(fg.tensor([1e-10], dtype="float64")).item() / 1e-10
        0.99999999995
    """
    return _float_unary(log1p_p, x)


# --- trigonometric and hyperbolic ----------------------------------------------------------------


def sin(x):
    """Elementwise sine (primitive ``sin``; derivative ``cos(x)``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.sin(fg.tensor([0.0])).tolist()
        [0.0]
    """
    return _float_unary(sin_p, x)


def cos(x):
    """Elementwise cosine (primitive ``cos``; derivative ``-sin(x)``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.cos(fg.tensor([0.0])).tolist()
        [1.0]
    """
    return _float_unary(cos_p, x)


def tan(x):
    """Elementwise tangent (primitive ``tan``; derivative ``1 + tan(x)**2``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.tan(fg.tensor([0.0])).tolist()
        [0.0]
    """
    return _float_unary(tan_p, x)


def arcsin(x):
    """Elementwise inverse sine on [-1, 1] (primitive ``asin``; derivative ``1/sqrt(1-x**2)``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.arcsin(fg.tensor([0.0])).tolist()
        [0.0]
    """
    return _float_unary(asin_p, x)


def arccos(x):
    """Elementwise inverse cosine on [-1, 1] (primitive ``acos``; derivative ``-1/sqrt(1-x**2)``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.arccos(fg.tensor([1.0])).tolist()
        [0.0]
    """
    return _float_unary(acos_p, x)


def arctan2(y, x):
    """Elementwise angle of the point ``(x, y)`` in ``[-pi, pi]`` (primitive ``atan2``).

    Derivatives: ``x / (x**2 + y**2)`` for ``y`` and ``-y / (x**2 + y**2)`` for ``x``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.arctan2(fg.tensor([0.0]), -1.0).tolist()
        [3.1415927410125732]
    """
    return atan2_p.bind(*_operands("arctan2", y, x, rule=_dtypes.float_result))


def arctan(x):
    """Elementwise inverse tangent (composite: ``atan2(x, 1)``; derivative ``1/(1+x**2)``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.arctan(fg.tensor([0.0])).tolist()
        [0.0]
    """
    return arctan2(_floating(x), 1)


def sinh(x):
    """Elementwise hyperbolic sine (primitive ``sinh``; derivative ``cosh(x)``).

    Computed from ``expm1`` for ``|x| < 22`` (accurate near 0) and as ``(e**(|x|/2) / 2) *
    e**(|x|/2)`` beyond, so it overflows only where the result does.

    Example:
        >>> import fieldgrad as fg
        >>> fg.sinh(fg.tensor([0.0])).tolist()
        [0.0]
    """
    return _float_unary(sinh_p, x)


def cosh(x):
    """Elementwise hyperbolic cosine (primitive ``cosh``; derivative ``sinh(x)``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.cosh(fg.tensor([0.0])).tolist()
        [1.0]
    """
    return _float_unary(cosh_p, x)


def tanh(x):
    """Elementwise hyperbolic tangent (primitive ``tanh``; derivative ``1 - tanh(x)**2``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.tanh(fg.tensor([0.0])).tolist()
        [0.0]
    """
    return _float_unary(tanh_p, x)


# --- activations ---------------------------------------------------------------------------


def sigmoid(x):
    """Elementwise logistic function ``1 / (1 + e**-x)`` (primitive ``logistic``).

    Stable for every ``x``: with ``e = exp(-|x|)`` it is ``1/(1+e)`` for ``x >= 0`` and
    ``e/(1+e)`` otherwise, so nothing overflows (``sigmoid(-1000) = 0``,
    ``sigmoid(1000) = 1``). Derivative: ``sigmoid(x) * (1 - sigmoid(x))``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.sigmoid(fg.tensor([0.0])).tolist()
        [0.5]
    """
    return _float_unary(logistic_p, x)


def softplus(x):
    """Elementwise ``log(1 + e**x)``, stable for every ``x`` (primitive ``softplus``).

    Computed as ``max(x, 0) + log1p(exp(-|x|))``: ``softplus(1000) = 1000``, no overflow.
    Derivative: ``sigmoid(x)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.softplus(fg.tensor([1000.0])).tolist()
        [1000.0]
    """
    return _float_unary(softplus_p, x)


def relu(x):
    """Elementwise ``max(x, 0)`` (composite of ``max``); keeps integer dtypes; NaN propagates.

    Example:
        >>> import fieldgrad as fg
        >>> fg.relu(fg.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return maximum(x, 0)


_SQRT1_2 = 1.0 / math.sqrt(2.0)

_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)``, with ``Phi`` the standard normal CDF.

    Args:
        x: input.
        approximate: ``"none"`` (default, or False): the exact form
            ``x * erfc(-x / sqrt(2)) / 2`` (erfc avoids the cancellation of
            ``1 + erf(x / sqrt(2))`` for negative ``x``). ``"tanh"`` (or True): the
            approximation ``x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``, computed as
            ``x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x**3))``.

    Returns:
        A floating tensor of ``x``'s shape (a composite of ``erfc`` or ``logistic`` and
        arithmetic, so every derivative comes from those primitives).

    Raises:
        ValueError: an unknown ``approximate``.

    Example:
        >>> import fieldgrad as fg
        >>> round(fg.gelu(fg.tensor([1.0])).item(), 6)
        0.841345
    """
    if approximate in ("none", False, None):
        exact = True
    elif approximate in ("tanh", True):
        exact = False
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = _floating(x)
    if exact:
        return multiply(x, multiply(erfc(multiply(x, -_SQRT1_2)), 0.5))
    inner = multiply(add(x, multiply(power(x, 3), 0.044715)), 2.0 * _SQRT_2_PI)
    return multiply(x, sigmoid(inner))


# --- error function --------------------------------------------------------------------------


def erf(x):
    """Elementwise error function ``2/sqrt(pi) * integral_0^x exp(-t**2) dt`` (primitive ``erf``).

    W. J. Cody's rational Chebyshev approximations: relative error near float rounding
    (about 1e-7 in float32, 1e-15 in float64). Derivative: ``2/sqrt(pi) * exp(-x**2)``.

    Example:
        >>> import fieldgrad as fg
        >>> round(fg.erf(fg.tensor([0.5])).item(), 6)
        0.5205
    """
    return _float_unary(erf_p, x)


def erfc(x):
    """Elementwise complementary error function ``1 - erf(x)``, accurate in the tails.

    Primitive ``erfc`` (Cody); ``erfc(10) = 2.1e-45`` is not rounded to 0 by cancellation.
    Derivative: ``-2/sqrt(pi) * exp(-x**2)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.erfc(fg.tensor([0.0])).tolist()
        [1.0]
    """
    return _float_unary(erfc_p, x)
