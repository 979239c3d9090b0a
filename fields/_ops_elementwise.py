"""Elementwise arithmetic, sign, rounding and clipping: primitives and public functions.

Each primitive is one generated Taichi kernel (see :mod:`fieldgrad.fields._elementwise`;
the bodies of the non-trivial ones are in :mod:`fieldgrad.fields._scalar_math`). Binary
functions follow numpy's broadcasting and the promotion rules of
:mod:`fieldgrad.fields._dtypes`: a Python scalar never widens a tensor (``x_f32 * 2.5`` stays
float32), and true division of integer tensors gives the default float dtype. ``abs``,
``sign``, ``floor``, ``ceil``, ``round`` and ``clip`` keep integer dtypes.

Primitives: ``add``, ``sub``, ``mul``, ``div``, ``floordiv``, ``mod``, ``pow``,
``integer_pow`` (param ``y``: a Python int exponent, passed to the kernel at run time),
``neg``, ``abs``, ``sign``, ``floor``, ``ceil``, ``round`` (halves to even). Composites:
``clip`` (``max``/``min``) and ``round`` with ``decimals != 0``. The comparisons, extrema,
logic and ``where`` live in :mod:`fieldgrad.fields._ops_compare` and are re-exported here.
"""

import numbers
import operator

import numpy as np

from . import _buffer, _dtypes, _launch, _runtime, _scalar_math
from ._convert import as_operand, astype
from ._core import Primitive, ShapedArray
from ._elementwise import binary_primitive, unary_primitive
from ._ops_compare import (
    _float_rule,
    _int_rule,
    _is_scalar,
    _operands,
    _reject_bool,
    equal,
    greater,
    logical_and,
    logical_or,
    max_p,
    maximum,
    min_p,
    minimum,
    where,
)
from ._tensor import Tensor

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "floor_divide",
    "mod",
    "power",
    "negative",
    "positive",
    "abs",
    "sign",
    "floor",
    "ceil",
    "round",
    "clip",
]

_fn = _scalar_math.func
_libm = _scalar_math.libm


def _f_add(ti):
    @ti.func
    def f(a, b):
        return a + b

    return f


def _f_sub(ti):
    @ti.func
    def f(a, b):
        return a - b

    return f


def _f_mul(ti):
    @ti.func
    def f(a, b):
        return a * b

    return f


def _f_div(ti):
    @ti.func
    def f(a, b):
        return a / b

    return f


def _f_neg(ti):
    @ti.func
    def f(x):
        return -x

    return f


add_p = binary_primitive("add", _f_add)
sub_p = binary_primitive("sub", _f_sub)
mul_p = binary_primitive("mul", _f_mul)
div_p = binary_primitive("div", _f_div)
floordiv_p = binary_primitive("floordiv", _fn("floordiv"))
mod_p = binary_primitive("mod", _fn("mod"))
pow_p = binary_primitive("pow", _fn("power"))
neg_p = unary_primitive("neg", _f_neg)
abs_p = unary_primitive("abs", _libm("abs"))
sign_p = unary_primitive("sign", _fn("sign"))
floor_p = unary_primitive("floor", _libm("floor"))
ceil_p = unary_primitive("ceil", _libm("ceil"))
round_p = unary_primitive("round", _fn("round_even"))

# --- integer_pow: x ** n for a Python int n (a runtime kernel argument, not a compile key) ------


def _integer_pow_kernel(serial: bool):
    ti = _runtime.taichi()
    ipow = _scalar_math.lib().ipow

    @ti.kernel
    def integer_pow_k(
        x: ti.types.ndarray(ndim=1), y: ti.types.ndarray(ndim=1), n: ti.i32, e: ti.i32
    ):
        ti.loop_config(serialize=serial)
        for i in range(n):
            y[i] = ipow(x[i], e)

    return integer_pow_k


def _integer_pow_impl(x: Tensor, *, y: int) -> Tensor:
    n = x.size
    out = Tensor._new(_buffer.empty(n, x.dtype), x.shape, x.dtype, x.weak_type)
    if n:
        ser = _launch.serial(n)
        k = _launch.kernel(("integer_pow", ser), lambda: _integer_pow_kernel(ser))
        _launch.launch(k, _buffer.kernel_view(x._buf), _buffer.kernel_view(out._buf), n, y)
    return out


def _integer_pow_abstract(x: ShapedArray, *, y: int) -> ShapedArray:
    return ShapedArray(x.shape, x.dtype, x.weak_type)


integer_pow_p = Primitive("integer_pow", _integer_pow_impl, _integer_pow_abstract)


def _count_negative_kernel():
    ti = _runtime.taichi()

    @ti.kernel
    def count_negative_k(x: ti.types.ndarray(ndim=1), n: ti.i32) -> ti.i32:
        c = 0
        for i in range(n):
            if x[i] < 0:
                c += 1
        return c

    return count_negative_k


def _has_negative(t: Tensor) -> bool:
    k = _launch.kernel(("count_negative",), _count_negative_kernel)
    return t.size > 0 and _launch.launch(k, _buffer.kernel_view(t._buf), t.size) > 0


# --- arithmetic ---------------------------------------------------------------------------------


def add(x, y):
    """Elementwise ``x + y`` with broadcasting (primitive ``add``; derivative ``(1, 1)``).

    For bool operands the result is ``x or y`` (numpy's rule).

    Args:
        x, y: tensors, arrays or Python scalars (weakly typed: ``x_f32 + 1`` stays float32).

    Returns:
        A tensor of the broadcast shape and the promoted dtype.

    Raises:
        ValueError: the shapes do not broadcast (both are named).
        TypeError: an operand has an unsupported dtype.

    Example:
        >>> import fieldgrad as fg
        >>> fg.add(fg.tensor([1.0, 2.0]), 0.5).tolist()
        [1.5, 2.5]
    """
    a, b = _operands("add", x, y)
    return (max_p if a.dtype == _dtypes.bool_ else add_p).bind(a, b)


def subtract(x, y):
    """Elementwise ``x - y`` with broadcasting (primitive ``sub``; derivative ``(1, -1)``).

    Raises:
        ValueError: the shapes do not broadcast.
        TypeError: both operands are bool (use :func:`logical_xor`).

    Example:
        >>> import fieldgrad as fg
        >>> fg.subtract(1, fg.tensor([1.0, 2.0])).tolist()
        [0.0, -1.0]
    """
    a, b = _operands("subtract", x, y)
    _reject_bool("subtract", a, "use fg.logical_xor (or ^) instead")
    return sub_p.bind(a, b)


def multiply(x, y):
    """Elementwise ``x * y`` with broadcasting (primitive ``mul``; derivative ``(y, x)``).

    For bool operands the result is ``x and y``.

    Example:
        >>> import fieldgrad as fg
        >>> (fg.tensor([1.0, 2.0], dtype="float32") * 2.5).dtype.name
        'float32'
    """
    a, b = _operands("multiply", x, y)
    return (min_p if a.dtype == _dtypes.bool_ else mul_p).bind(a, b)


def divide(x, y):
    """True division ``x / y`` (primitive ``div``; derivative ``(1/y, -x/y**2)``).

    Integer and bool operands are divided in the default float dtype. Division by zero
    follows IEEE 754: ``1/0 = inf``, ``0/0 = nan``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.divide(fg.tensor([1, 3]), 2).tolist()
        [0.5, 1.5]
    """
    return div_p.bind(*_operands("divide", x, y, rule=_float_rule))


def floor_divide(x, y):
    """Floor division ``x // y`` with numpy's (and Python's) semantics (primitive ``floordiv``).

    The quotient is rounded toward minus infinity, so ``-7 // 2 == -4``. Floats follow
    numpy's ``divmod`` algorithm exactly (``1.0 // 0.1 == 9.0``); float division by zero gives
    ``inf``/``nan``. Integer division by zero gives 0, numpy's result (which it pairs with a
    warning; fieldgrad kernels cannot warn). Bool operands are computed as int32.
    Not differentiable (piecewise constant).

    Example:
        >>> import fieldgrad as fg
        >>> fg.floor_divide(fg.tensor([7, -7]), 2).tolist()
        [3, -4]
    """
    return floordiv_p.bind(*_operands("floor_divide", x, y, rule=_int_rule))


def mod(x, y):
    """Remainder ``x % y`` whose sign follows the divisor, as numpy and Python (primitive ``mod``).

    ``mod(x, y) == x - floor_divide(x, y) * y``: ``-7 % 2 == 1``, ``7 % -2 == -1``. The float
    remainder is computed exactly (an exact ``fmod``, then numpy's sign adjustment);
    ``x % 0.0`` is ``nan``. Integer ``x % 0`` gives 0, numpy's result. Derivative with respect
    to ``x``: 1; with respect to ``y``: ``-floor_divide(x, y)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.mod(fg.tensor([-7, 7]), fg.tensor([2, -2])).tolist()
        [1, -1]
    """
    return mod_p.bind(*_operands("mod", x, y, rule=_int_rule))


def power(x, y):
    """Elementwise ``x ** y`` (primitives ``pow`` and ``integer_pow``).

    A Python int exponent binds ``integer_pow`` (repeated squaring; exact for integers and the
    polynomial derivative ``n * x**(n-1)`` at every ``x``, negative ones included). Otherwise
    ``pow``: ``x**y`` with derivatives ``y * x**(y-1)`` and ``log(x) * x**y``; a negative float
    base with a non-integer exponent gives ``nan``, as numpy. Integers raised to integers stay
    integers (overflow wraps, as numpy); bool operands are computed as int32.

    Raises:
        ValueError: an integer tensor raised to a negative integer (numpy's rule). Inside a
            transformation the exponent's values are not known; there, a negative integer
            exponent gives the truncated quotient (1 for ``x == 1``, +-1 for ``x == -1``,
            else 0).

    Example:
        >>> import fieldgrad as fg
        >>> fg.power(fg.tensor([2, 3]), 2).tolist()
        [4, 9]
    """
    if (
        isinstance(y, numbers.Integral)
        and not isinstance(y, (bool, np.bool_))
        and not _is_scalar(x)
    ):
        x = as_operand(x)
        if x.dtype == _dtypes.bool_:
            x = astype(x, _dtypes.int32)
        y = int(y)
        if _dtypes.is_int(x.dtype) and y < 0:
            raise ValueError(
                f"power: integers to negative integer powers are not allowed (got an "
                f"{x.dtype.name} tensor to the power {y}); convert the base to float first"
            )
        if not -(2**31) <= y < 2**31:
            raise ValueError(f"power: the integer exponent {y} does not fit in 32 bits")
        return integer_pow_p.bind(x, y=y)
    a, b = _operands("power", x, y, rule=_int_rule)
    if _dtypes.is_int(a.dtype) and isinstance(b, Tensor) and _has_negative(b):
        raise ValueError(
            f"power: integers to negative integer powers are not allowed (an {b.dtype.name} "
            "exponent has negative entries); convert the base to float first"
        )
    return pow_p.bind(a, b)


def negative(x):
    """Elementwise ``-x`` (primitive ``neg``; derivative ``-1``).

    Raises:
        TypeError: ``x`` is bool (use :func:`logical_not`).

    Example:
        >>> import fieldgrad as fg
        >>> fg.negative(fg.tensor([1, -2])).tolist()
        [-1, 2]
    """
    x = as_operand(x)
    _reject_bool("negative", x, "use fg.logical_not (or ~) instead")
    return neg_p.bind(x)


def positive(x):
    """``+x``: returns ``x`` itself (tensors are immutable, so no copy is needed).

    Raises:
        TypeError: ``x`` is bool.
    """
    x = as_operand(x)
    _reject_bool("positive", x, "convert it to an integer dtype first")
    return x


# --- sign, magnitude, rounding ----------------------------------------------------------------


def abs(x):
    """Elementwise ``|x|``; keeps integer and bool dtypes (primitive ``abs``).

    Derivative: ``sign(x)``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.abs(fg.tensor([-2, 3])).tolist()
        [2, 3]
    """
    x = as_operand(x)
    return x if x.dtype == _dtypes.bool_ else abs_p.bind(x)


def sign(x):
    """Elementwise sign: -1, 0 or 1 (NaN stays NaN); keeps integer dtypes (primitive ``sign``).

    Not differentiable (derivative 0 almost everywhere).

    Raises:
        TypeError: ``x`` is bool.

    Example:
        >>> import fieldgrad as fg
        >>> fg.sign(fg.tensor([-2.0, 0.0, 3.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    x = as_operand(x)
    _reject_bool("sign", x, "convert it to an integer dtype first")
    return sign_p.bind(x)


def floor(x):
    """Elementwise largest integer ``<= x`` (primitive ``floor``); integer tensors unchanged.

    Not differentiable (derivative 0 almost everywhere).

    Example:
        >>> import fieldgrad as fg
        >>> fg.floor(fg.tensor([-1.5, 1.5])).tolist()
        [-2.0, 1.0]
    """
    x = as_operand(x)
    return x if not _dtypes.is_float(x.dtype) else floor_p.bind(x)


def ceil(x):
    """Elementwise smallest integer ``>= x`` (primitive ``ceil``); integer tensors unchanged.

    Not differentiable (derivative 0 almost everywhere).

    Example:
        >>> import fieldgrad as fg
        >>> fg.ceil(fg.tensor([-1.5, 1.5])).tolist()
        [-1.0, 2.0]
    """
    x = as_operand(x)
    return x if not _dtypes.is_float(x.dtype) else ceil_p.bind(x)


def round(x, decimals=0):
    """Round to ``decimals`` decimal places, halves to even, as ``numpy.round``.

    Args:
        x: input; integer tensors keep their dtype.
        decimals: number of decimal places (negative: round to tens, hundreds, ...). For
            floats ``decimals != 0`` scales by ``10**decimals``, rounds and scales back, as
            numpy does (so results carry that scaling's rounding).

    Returns:
        A tensor of ``x``'s shape and dtype (primitive ``round`` for ``decimals == 0``; a
        composite otherwise). Not differentiable (derivative 0 almost everywhere).

    Raises:
        TypeError: ``decimals`` is not an integer.

    Example:
        >>> import fieldgrad as fg
        >>> fg.round(fg.tensor([0.5, 1.5, 2.5, -2.5])).tolist()
        [0.0, 2.0, 2.0, -2.0]
    """
    try:
        decimals = operator.index(decimals)
    except TypeError:
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}") from None
    x = as_operand(x)
    if not _dtypes.is_float(x.dtype):
        if decimals >= 0:
            return x
        # Integers to a multiple of f = 10**-decimals, halves to even, exactly.
        f = 10 ** (-decimals)
        if f > np.iinfo(x.dtype if x.dtype != _dtypes.bool_ else _dtypes.int32).max:
            return multiply(x, 0)
        q = floor_divide(x, f)
        r = subtract(x, multiply(q, f))
        h = f // 2
        up = logical_or(greater(r, h), logical_and(equal(r, h), equal(mod(q, 2), 1)))
        return multiply(where(up, add(q, 1), q), f)
    if decimals == 0:
        return round_p.bind(x)
    if decimals > 0:
        f = 10.0**decimals
        return divide(round_p.bind(multiply(x, f)), f)
    f = 10.0 ** (-decimals)
    return multiply(round_p.bind(divide(x, f)), f)


def clip(x, lo=None, hi=None):
    """Limit ``x`` to ``[lo, hi]``: ``minimum(maximum(x, lo), hi)``, as ``numpy.clip``.

    Args:
        x: input.
        lo, hi: bounds (tensors or scalars, broadcast against ``x``); either may be None.

    Returns:
        A tensor of the broadcast shape and promoted dtype (integer tensors with integer
        bounds stay integer). A composite of ``max`` and ``min``: the derivative is 1 inside
        the interval and 0 outside.

    Example:
        >>> import fieldgrad as fg
        >>> fg.clip(fg.tensor([-2.0, 0.5, 3.0]), 0, 1).tolist()
        [0.0, 0.5, 1.0]
    """
    r = as_operand(x)
    if lo is not None:
        r = maximum(r, lo)
    if hi is not None:
        r = minimum(r, hi)
    return r
