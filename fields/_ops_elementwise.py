"""Elementwise arithmetic, comparisons, logic and selection: primitives and public functions.

Each primitive is one generated Taichi kernel (see :mod:`fieldgrad.fields._elementwise`;
the bodies of the non-trivial ones are in :mod:`fieldgrad.fields._scalar_math`). Binary
functions follow numpy's broadcasting and the promotion rules of
:mod:`fieldgrad.fields._dtypes`: a Python scalar never widens a tensor (``x_f32 * 2.5`` stays
float32), true division and floating functions of integer tensors give the default float dtype.

Primitives: ``add``, ``sub``, ``mul``, ``div``, ``floordiv``, ``mod``, ``pow``,
``integer_pow`` (param ``y``: a Python int exponent), ``neg``, ``max``, ``min``, ``eq``,
``ne``, ``lt``, ``le``, ``select`` and ``isnan``, ``isfinite``. ``greater``/``greater_equal``
swap the operands of ``lt``/``le``; the logical functions are composites of the comparisons
and ``min``/``max`` on bool tensors.
"""

import numbers

import numpy as np

from . import _buffer, _dtypes, _launch, _layout, _runtime, _scalar_math
from ._convert import as_operand, astype, promote
from ._core import Primitive, ShapedArray, Tracer
from ._elementwise import binary_primitive, ternary_primitive, unary_primitive
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
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "where",
    "isnan",
    "isfinite",
]

_fn = _scalar_math.func


def _bool_out(d):
    return _dtypes.bool_


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


def _isnan_u8(ti):
    isnan_ = _scalar_math.lib().isnan

    @ti.func
    def f(x):
        return ti.cast(isnan_(x), ti.u8)

    return f


def _isfinite_u8(ti):
    isfinite_ = _scalar_math.lib().isfinite

    @ti.func
    def f(x):
        return ti.cast(isfinite_(x), ti.u8)

    return f


add_p = binary_primitive("add", _f_add)
sub_p = binary_primitive("sub", _f_sub)
mul_p = binary_primitive("mul", _f_mul)
div_p = binary_primitive("div", _f_div)
floordiv_p = binary_primitive("floordiv", _fn("floordiv"))
mod_p = binary_primitive("mod", _fn("mod"))
pow_p = binary_primitive("pow", _fn("power"))
neg_p = unary_primitive("neg", _f_neg)
max_p = binary_primitive("max", _fn("maximum"))
min_p = binary_primitive("min", _fn("minimum"))
eq_p = binary_primitive("eq", _fn("eq"), _bool_out)
ne_p = binary_primitive("ne", _fn("ne"), _bool_out)
lt_p = binary_primitive("lt", _fn("lt"), _bool_out)
le_p = binary_primitive("le", _fn("le"), _bool_out)
select_p = ternary_primitive("select", _fn("select"), lambda c, a, b: a)
isnan_p = unary_primitive("isnan", _isnan_u8, _bool_out)
isfinite_p = unary_primitive("isfinite", _isfinite_u8, _bool_out)


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


# --- operand handling -------------------------------------------------------------------------


def _is_scalar(v) -> bool:
    return isinstance(v, (numbers.Number, np.bool_)) and not isinstance(v, (Tensor, Tracer))


def _operands(name: str, *args, rule=None) -> list:
    """Operands as tensors of one dtype, after checking that their shapes broadcast.

    ``rule`` maps the promoted dtype to the dtype the op computes in (e.g. ints to float).
    Python scalars stay Python scalars until the dtype is known, so ``x_f64 * 0.1`` uses
    0.1 in float64.
    """
    ops = []
    for a in args:
        if _is_scalar(a):
            if isinstance(a, numbers.Complex) and not isinstance(a, numbers.Real):
                raise TypeError(
                    f"{name}: complex scalar {a!r} is not supported; expected bool, int or "
                    "float operands"
                )
            ops.append(a)
        else:
            ops.append(as_operand(a))
    shapes = [tuple(getattr(a, "shape", ())) for a in ops]
    try:
        _layout.broadcast_shapes(*shapes)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    dt = _dtypes.result_type(*ops)
    if rule is not None:
        dt = rule(dt)
    return promote(*ops, dtype=dt)


def _float_rule(d):
    return _dtypes.float_result(d)


def _int_rule(d):
    return _dtypes.int32 if d == _dtypes.bool_ else d


def _reject_bool(name: str, x, hint: str):
    if x.dtype == _dtypes.bool_:
        raise TypeError(f"{name} is not defined for bool tensors; {hint}")


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
    if isinstance(y, numbers.Integral) and not isinstance(y, (bool, np.bool_)) and not _is_scalar(x):
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


def maximum(x, y):
    """Elementwise maximum with broadcasting; NaN propagates, as numpy (primitive ``max``).

    Derivative: 1 for the larger operand, 0 for the other (the rule decides ties).

    Example:
        >>> import fieldgrad as fg
        >>> fg.maximum(fg.tensor([1.0, 5.0]), 3).tolist()
        [3.0, 5.0]
    """
    return max_p.bind(*_operands("maximum", x, y))


def minimum(x, y):
    """Elementwise minimum with broadcasting; NaN propagates, as numpy (primitive ``min``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.minimum(fg.tensor([1.0, 5.0]), 3).tolist()
        [1.0, 3.0]
    """
    return min_p.bind(*_operands("minimum", x, y))


# --- comparisons (bool results; not differentiable) --------------------------------------------


def equal(x, y):
    """Elementwise ``x == y`` as a bool tensor (primitive ``eq``). NaN equals nothing.

    Example:
        >>> import fieldgrad as fg
        >>> fg.equal(fg.tensor([1, 2]), 2).tolist()
        [False, True]
    """
    return eq_p.bind(*_operands("equal", x, y))


def not_equal(x, y):
    """Elementwise ``x != y`` as a bool tensor (primitive ``ne``). NaN differs from everything.

    Example:
        >>> import fieldgrad as fg
        >>> fg.not_equal(fg.tensor([1, 2]), 2).tolist()
        [True, False]
    """
    return ne_p.bind(*_operands("not_equal", x, y))


def less(x, y):
    """Elementwise ``x < y`` as a bool tensor (primitive ``lt``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.less(fg.tensor([1, 2]), 2).tolist()
        [True, False]
    """
    return lt_p.bind(*_operands("less", x, y))


def less_equal(x, y):
    """Elementwise ``x <= y`` as a bool tensor (primitive ``le``).

    Example:
        >>> import fieldgrad as fg
        >>> fg.less_equal(fg.tensor([1, 3]), 2).tolist()
        [True, False]
    """
    return le_p.bind(*_operands("less_equal", x, y))


def greater(x, y):
    """Elementwise ``x > y`` as a bool tensor (``lt`` with the operands swapped).

    Example:
        >>> import fieldgrad as fg
        >>> fg.greater(fg.tensor([1, 3]), 2).tolist()
        [False, True]
    """
    a, b = _operands("greater", x, y)
    return lt_p.bind(b, a)


def greater_equal(x, y):
    """Elementwise ``x >= y`` as a bool tensor (``le`` with the operands swapped).

    Example:
        >>> import fieldgrad as fg
        >>> fg.greater_equal(fg.tensor([1, 2]), 2).tolist()
        [False, True]
    """
    a, b = _operands("greater_equal", x, y)
    return le_p.bind(b, a)


# --- logic --------------------------------------------------------------------------------------


def _truth(x):
    """``x != 0`` as a bool tensor (``x`` itself when it is already bool)."""
    if x.dtype == _dtypes.bool_:
        return x
    return ne_p.bind(*promote(x, False))


def _logical_operands(name: str, x, y) -> list:
    ops = [as_operand(x), as_operand(y)]
    try:
        _layout.broadcast_shapes(ops[0].shape, ops[1].shape)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    return [_truth(a) for a in ops]


def logical_and(x, y):
    """Elementwise ``x and y`` on truth values (``!= 0``) of any dtype; a bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.logical_and(fg.tensor([0, 1, 2]), True).tolist()
        [False, True, True]
    """
    return min_p.bind(*_logical_operands("logical_and", x, y))


def logical_or(x, y):
    """Elementwise ``x or y`` on truth values (``!= 0``) of any dtype; a bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.logical_or(fg.tensor([0.0, 0.5]), False).tolist()
        [False, True]
    """
    return max_p.bind(*_logical_operands("logical_or", x, y))


def logical_xor(x, y):
    """Elementwise ``x xor y`` on truth values (``!= 0``) of any dtype; a bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.logical_xor(fg.tensor([0, 3]), fg.tensor([1, 1])).tolist()
        [True, False]
    """
    return ne_p.bind(*_logical_operands("logical_xor", x, y))


def logical_not(x):
    """Elementwise ``not x`` (``x == 0``) for any dtype; a bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.logical_not(fg.tensor([0.0, 2.0])).tolist()
        [True, False]
    """
    return eq_p.bind(*promote(as_operand(x), False))


def where(cond, x, y):
    """Elementwise ``x if cond else y`` with three-way broadcasting (primitive ``select``).

    Args:
        cond: condition of any dtype (its truth value ``!= 0`` is used).
        x, y: the values; they are promoted to one dtype (Python scalars weakly).

    Returns:
        A tensor of the broadcast shape of the three arguments and the promoted dtype of
        ``x`` and ``y``. Derivative: ``cond`` routes the cotangent to ``x`` or ``y``.

    Raises:
        ValueError: the three shapes do not broadcast (all are named).

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([-1.0, 2.0])
        >>> fg.where(x > 0, x, 0.0).tolist()
        [0.0, 2.0]
    """
    c = as_operand(cond)
    ops = [a if _is_scalar(a) else as_operand(a) for a in (x, y)]
    shapes = [tuple(c.shape)] + [tuple(getattr(a, "shape", ())) for a in ops]
    try:
        _layout.broadcast_shapes(*shapes)
    except ValueError as e:
        raise ValueError(f"where: {e}") from None
    a, b = promote(*ops)
    return select_p.bind(_truth(c), a, b)


def isnan(x):
    """Elementwise test for NaN; a bool tensor (always False for integer and bool tensors).

    Example:
        >>> import fieldgrad as fg
        >>> fg.isnan(fg.tensor([1.0, float("nan")])).tolist()
        [False, True]
    """
    return isnan_p.bind(as_operand(x))


def isfinite(x):
    """Elementwise test for a finite value (not inf, -inf or NaN); a bool tensor.

    Example:
        >>> import fieldgrad as fg
        >>> fg.isfinite(fg.tensor([1.0, float("inf"), float("nan")])).tolist()
        [True, False, False]
    """
    return isfinite_p.bind(as_operand(x))
