"""Comparisons, extrema, logic and selection; and the operand handling of elementwise ops.

Primitives: ``eq``, ``ne``, ``lt``, ``le`` (bool results, stored as one byte), ``max``,
``min`` (NaN propagates, as numpy), ``select`` (``where``), ``isnan`` and ``isfinite``.
``greater``/``greater_equal`` swap the operands of ``lt``/``le``; the logical functions are
composites of the comparisons and of ``min``/``max`` on bool tensors. None of them is
differentiable except ``maximum``, ``minimum`` and ``where`` (in their value operands).

Every public elementwise function turns its operands into tensors of one dtype with
:func:`_operands`: it checks that the shapes broadcast (naming them all), promotes by the rules
of :mod:`fieldgrad.fields._dtypes` and keeps Python scalars weakly typed.
"""

import numbers

import numpy as np

from . import _dtypes, _layout, _scalar_math
from ._convert import as_operand, promote
from ._core import Tracer
from ._elementwise import binary_primitive, ternary_primitive, unary_primitive
from ._tensor import Tensor

__all__ = [
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


max_p = binary_primitive("max", _fn("maximum"))
min_p = binary_primitive("min", _fn("minimum"))
eq_p = binary_primitive("eq", _fn("eq"), _bool_out)
ne_p = binary_primitive("ne", _fn("ne"), _bool_out)
lt_p = binary_primitive("lt", _fn("lt"), _bool_out)
le_p = binary_primitive("le", _fn("le"), _bool_out)
select_p = ternary_primitive("select", _fn("select"), lambda c, a, b: a)
isnan_p = unary_primitive("isnan", _isnan_u8, _bool_out)
isfinite_p = unary_primitive("isfinite", _isfinite_u8, _bool_out)

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


# --- extrema -------------------------------------------------------------------------------------


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

    Derivative: 1 for the smaller operand, 0 for the other (the rule decides ties).

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


# --- logic and selection ------------------------------------------------------------------------


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

    Primitive ``isnan`` (reads the bit pattern); not differentiable.

    Example:
        >>> import fieldgrad as fg
        >>> fg.isnan(fg.tensor([1.0, float("nan")])).tolist()
        [False, True]
    """
    return isnan_p.bind(as_operand(x))


def isfinite(x):
    """Elementwise test for a finite value (not inf, -inf or NaN); a bool tensor.

    Primitive ``isfinite``; always True for integer and bool tensors; not differentiable.

    Example:
        >>> import fieldgrad as fg
        >>> fg.isfinite(fg.tensor([1.0, float("inf"), float("nan")])).tolist()
        [True, False, False]
    """
    return isfinite_p.bind(as_operand(x))
