"""Elementwise arithmetic, comparison, logic and math primitives and their public functions.

Each primitive is one generated Taichi kernel (see :mod:`fieldgrad.fields._elementwise`).
Binary functions follow numpy's broadcasting and the promotion rules of
:mod:`fieldgrad.fields._dtypes`; floating functions of integer tensors return the default
float dtype.
"""

from __future__ import annotations

from . import _dtypes
from ._convert import as_operand, promote
from ._elementwise import binary_primitive, unary_primitive

__all__ = ["add", "subtract", "multiply", "exp", "equal"]


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


def _f_eq(ti):
    @ti.func
    def f(a, b):
        return a == b

    return f


def _f_exp(ti):
    @ti.func
    def f(x):
        return ti.exp(x)

    return f


add_p = binary_primitive("add", _f_add)
sub_p = binary_primitive("sub", _f_sub)
mul_p = binary_primitive("mul", _f_mul)
eq_p = binary_primitive("eq", _f_eq, _bool_out)
exp_p = unary_primitive("exp", _f_exp)


def _floating(x):
    x = as_operand(x)
    dt = _dtypes.float_result(x.dtype)
    return promote(x, dtype=dt)[0]


def add(x, y):
    """Elementwise ``x + y`` with broadcasting."""
    return add_p.bind(*promote(x, y))


def subtract(x, y):
    """Elementwise ``x - y`` with broadcasting."""
    return sub_p.bind(*promote(x, y))


def multiply(x, y):
    """Elementwise ``x * y`` with broadcasting."""
    return mul_p.bind(*promote(x, y))


def equal(x, y):
    """Elementwise ``x == y`` (bool)."""
    return eq_p.bind(*promote(x, y))


def exp(x):
    """Elementwise ``e**x``. Derivative: ``exp(x)``."""
    return exp_p.bind(_floating(x))
