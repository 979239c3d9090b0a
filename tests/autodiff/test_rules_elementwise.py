"""Derivative rules of the elementwise primitives against closed forms: high orders by nested
grad and nested jvp, broadcasting, kinks and their conventions, selection, dtype conversion."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _rules
from fieldgrad.fields import Primitive, _convert, _ops_compare, _ops_elementwise, _ops_math

X = np.array([-1.7, -0.4, 0.0, 0.3, 1.1, 2.2])


def _t(a, dtype="float64"):
    return fg.tensor(np.asarray(a, dtype=dtype))


def d_grad(f):
    """The elementwise derivative of an elementwise ``f`` by reverse mode."""
    return lambda x: fg.grad(lambda z: fg.sum(f(z)))(x)


def d_jvp(f):
    """The elementwise derivative of an elementwise ``f`` by forward mode."""
    return lambda x: fg.jvp(f, (x,), (fg.ones_like(x),))[1]


def _nest(d, f, n):
    for _ in range(n):
        f = d(f)
    return f


def _close(got, want, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=atol)


# --- high orders against closed forms ----------------------------------------------------------


def _tanh_d(n, x):
    t = np.tanh(x)
    s = 1 - t * t
    return {3: s * (6 * t * t - 2), 4: s * (16 * t - 24 * t**3)}[n]


CLOSED_FORMS = {
    "tanh": (fg.tanh, _tanh_d),
    "sin": (fg.sin, lambda n, x: {3: -np.cos(x), 4: np.sin(x)}[n]),
    "x_exp_x": (lambda x: x * fg.exp(x), lambda n, x: (x + n) * np.exp(x)),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("order", [3, 4])
@pytest.mark.parametrize("mode", ["grad", "jvp", "mixed"])
def test_third_and_fourth_derivatives(name, order, mode):
    f, want = CLOSED_FORMS[name]
    if mode == "mixed":  # alternate forward and reverse: jvp(grad(jvp(...)))
        g = f
        for k in range(order):
            g = (d_grad if k % 2 else d_jvp)(g)
    else:
        g = _nest(d_grad if mode == "grad" else d_jvp, f, order)
    _close(g(_t(X)), want(order, X), rtol=1e-11, atol=1e-11)


def test_second_derivative_in_float32_keeps_dtype():
    x = _t(X, "float32")
    d2 = _nest(d_grad, fg.tanh, 2)(x)
    assert d2.dtype == np.float32
    _close(d2, -2 * np.tanh(X) * (1 - np.tanh(X) ** 2), rtol=1e-5, atol=1e-6)


# --- broadcasting ------------------------------------------------------------------------------


BROADCAST = {
    "multiply": (fg.multiply, lambda x, y: (y + 0 * x, x + 0 * y)),
    "divide": (fg.divide, lambda x, y: (1 / y + 0 * x, -x / y**2)),
    "power": (fg.power, lambda x, y: (y * x ** (y - 1), np.log(x) * x**y)),
    "arctan2": (fg.arctan2, lambda x, y: (y / (x * x + y * y), -x / (x * x + y * y))),
    "maximum": (fg.maximum, lambda x, y: ((x > y) + 0.0 * y, (y > x) + 0.0 * x)),
    "subtract": (fg.subtract, lambda x, y: (1 + 0 * (x + y), -1 + 0 * (x + y))),
}


@pytest.mark.parametrize("name", sorted(BROADCAST))
def test_broadcast_gradient_has_each_input_shape(name):
    op, partials = BROADCAST[name]
    x = np.array([[0.5], [1.3], [2.1]])  # (3, 1)
    y = np.array([0.7, -1.2, 1.9, 0.25])  # (4,)
    gx, gy = fg.grad(lambda a, b: fg.sum(op(a, b)), argnums=(0, 1))(_t(x), _t(y))
    assert gx.shape == (3, 1) and gy.shape == (4,)
    px, py = partials(x, y)  # partials on the broadcast (3, 4) grid
    _close(gx, np.sum(px, axis=1, keepdims=True))
    _close(gy, np.sum(py, axis=0))
    # forward mode agrees with reverse mode on the same grid
    tx = fg.ones_like(_t(x))
    _, jx = fg.jvp(lambda a: op(a, _t(y)), (_t(x),), (tx,))
    assert jx.shape == (3, 4)
    _close(jx, px + np.zeros((3, 4)))


def test_broadcast_scalar_operand_second_order():
    # d/da sum(a * x**2) = sum(x**2); d2/da dx = 2x, with a 0-d a
    x, a = _t([1.0, -2.0, 3.0]), _t(1.5)
    ga = fg.grad(lambda a, x: fg.sum(a * x * x))
    assert ga(a, x).shape == ()
    _close(fg.grad(lambda x: ga(a, x))(x), 2 * np.array([1.0, -2.0, 3.0]))


# --- integer_pow -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, -1, -2, -3])
def test_integer_pow_negative_base_to_second_order(n):
    x = np.array([-2.5, -1.0, -0.3])
    f = lambda z: fg.power(z, n)  # noqa: E731
    d1 = n * x ** (n - 1.0)
    d2 = n * (n - 1) * x ** (n - 2.0)
    for d in (d_grad, d_jvp):
        _close(d(f)(_t(x)), d1)
        _close(d(d(f))(_t(x)), d2)
    _close(d_jvp(d_grad(f))(_t(x)), d2)


def test_integer_pow_zero_and_one():
    x = _t([-1.5, 0.0, 2.0])
    _close(d_grad(lambda z: fg.power(z, 0))(x), [0.0, 0.0, 0.0])
    _close(d_grad(lambda z: fg.power(z, 1))(x), [1.0, 1.0, 1.0])
    _close(d_grad(d_grad(lambda z: fg.power(z, 2)))(x), [2.0, 2.0, 2.0])


# --- where / select ----------------------------------------------------------------------------


def test_where_derivative_flows_only_through_chosen_branch():
    x = np.array([-1.5, -0.2, 0.4, 2.0])
    f = lambda z: fg.where(z > 0, z**3, fg.sin(z))  # noqa: E731
    want1 = np.where(x > 0, 3 * x**2, np.cos(x))
    want2 = np.where(x > 0, 6 * x, -np.sin(x))
    for d in (d_grad, d_jvp):
        _close(d(f)(_t(x)), want1)
        _close(d(d(f))(_t(x)), want2)


def test_where_cotangent_routing_and_condition_broadcast():
    cond = fg.tensor([[True], [False]])  # (2, 1) against (2, 3) values
    a, b = _t(np.arange(6.0).reshape(2, 3)), _t([1.0, 2.0, 3.0])
    ga, gb = fg.grad(lambda a, b: fg.sum(fg.where(cond, a, b) * 2.0), argnums=(0, 1))(a, b)
    _close(ga, [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    assert gb.shape == (3,)
    _close(gb, [2.0, 2.0, 2.0])


def test_where_unchosen_branch_gets_exact_zero():
    # the cotangent at the chosen entry is -inf; the other branch gets exactly 0 (not 0 * inf)
    c = fg.tensor([True, False])
    a, b = _t([0.0, 5.0]), _t([7.0, 2.0])
    ga, gb = fg.grad(lambda a, b: fg.sum(1 / fg.where(c, a, b)), argnums=(0, 1))(a, b)
    assert np.asarray(ga)[0] == -np.inf
    _close(np.asarray(ga)[1:], [0.0])
    _close(gb, [0.0, -0.25])
    _, t = fg.jvp(lambda b: fg.where(c, a, b), (b,), (_t([np.inf, 1.0]),))
    _close(t, [0.0, 1.0])


# --- kinks and special points --------------------------------------------------------------------


def test_kink_conventions_abs_max_min():
    x = _t([-2.0, 0.0, 3.0])
    _close(d_grad(fg.abs)(x), [-1.0, 0.0, 1.0])
    _close(d_jvp(fg.abs)(x), [-1.0, 0.0, 1.0])
    a, b = _t([1.0, 2.0, 5.0]), _t([2.0, 2.0, -1.0])
    for op, wa in ((fg.maximum, [0.0, 0.5, 1.0]), (fg.minimum, [1.0, 0.5, 0.0])):
        ga, gb = fg.grad(lambda a, b, op=op: fg.sum(op(a, b)), argnums=(0, 1))(a, b)
        _close(ga, wa)
        _close(gb, 1 - np.array(wa))
        _, t = fg.jvp(op, (a, b), (fg.ones_like(a), fg.zeros_like(b)))
        _close(t, wa)
    # relu: its derivative is 0 below and 1 above zero
    _close(d_grad(fg.relu)(_t([-1.0, 2.0])), [0.0, 1.0])


def test_extremum_with_nan_result_gives_zero_derivative():
    a, b = _t([np.nan, 1.0]), _t([1.0, np.nan])
    ga, gb = fg.grad(lambda a, b: fg.sum(fg.maximum(a, b)), argnums=(0, 1))(a, b)
    _close(ga, [0.0, 0.0])
    _close(gb, [0.0, 0.0])


def test_power_at_zero_base_and_zero_exponent():
    x, y = _t([0.0, 0.0, 2.0]), _t([2.0, 0.0, 0.0])
    gx, gy = fg.grad(lambda x, y: fg.sum(fg.power(x, y)), argnums=(0, 1))(x, y)
    _close(gx, [0.0, 0.0, 0.0])  # 2*0**1, and d/dx x**0 = 0 even at x = 0
    _close(gy, [0.0, 0.0, np.log(2.0)])  # log(x) x**y with log replaced at x = 0


def test_piecewise_constant_ops_have_zero_derivative():
    x = _t([-1.6, 0.4, 2.5])
    for op in (fg.floor, fg.ceil, fg.round, fg.sign):
        _close(d_grad(lambda z, op=op: op(z) * z)(x), np.asarray(op(x)))
        _close(d_jvp(op)(x), [0.0, 0.0, 0.0])
    gy = fg.grad(lambda y: fg.sum(fg.mod(_t([7.0, -7.0]), y)))(_t([2.0, 2.0]))
    _close(gy, [-3.0, 4.0])  # -floor_divide(x, y)


def test_special_function_derivatives():
    x = np.array([-0.7, 0.1, 0.8])
    cases = [
        (fg.erf, 2 / np.sqrt(np.pi) * np.exp(-x * x)),
        (fg.erfc, -2 / np.sqrt(np.pi) * np.exp(-x * x)),
        (fg.arcsin, 1 / np.sqrt(1 - x * x)),
        (fg.arccos, -1 / np.sqrt(1 - x * x)),
        (fg.arctan, 1 / (1 + x * x)),
        (fg.softplus, 1 / (1 + np.exp(-x))),
        (fg.sigmoid, np.exp(-x) / (1 + np.exp(-x)) ** 2),
        (fg.expm1, np.exp(x)),
        (fg.log1p, 1 / (1 + x)),
        (fg.tan, 1 / np.cos(x) ** 2),
        (fg.cosh, np.sinh(x)),
    ]
    for op, want in cases:
        _close(d_grad(op)(_t(x)), want)
        _close(d_jvp(op)(_t(x)), want)


# --- dtypes ------------------------------------------------------------------------------------


def test_convert_float_to_float_converts_derivative():
    x = _t([0.5, -1.0])
    g = fg.grad(lambda z: fg.sum(fg.astype(z, "float32") ** 2))(x)
    assert g.dtype == np.float64
    _close(g, [1.0, -2.0])
    _, t = fg.jvp(lambda z: fg.astype(z, "float32"), (x,), (_t([3.0, 4.0]),))
    assert t.dtype == np.float32
    _close(t, [3.0, 4.0])


def test_convert_to_int_has_no_derivative():
    x = _t([0.5, 2.7])
    g = fg.grad(lambda z: fg.sum(fg.astype(fg.astype(z, "int32"), "float64") * z))(x)
    _close(g, [0.0, 2.0])  # only the explicit factor z contributes
    _, t = fg.jvp(lambda z: fg.astype(z, "int32"), (x,), (_t([1.0, 1.0]),))
    assert np.all(np.asarray(t) == 0)


def test_grad_with_respect_to_integer_tensor_raises():
    with pytest.raises(TypeError, match="int32"):
        fg.grad(lambda z: fg.sum(z * 2))(fg.tensor([1, 2], dtype="int32"))
    with pytest.raises(TypeError, match="float"):
        fg.grad(lambda z: fg.sum(z * 2))(fg.tensor([1, 2], dtype="int32"))
    with pytest.raises(TypeError, match="int32"):
        fg.jvp(lambda z: z * 2, (fg.tensor([1, 2], dtype="int32"),), (fg.tensor([1, 1]),))


def test_every_elementwise_primitive_has_rules_or_is_nondiff():
    prims = {
        v.name: v
        for mod in (_ops_elementwise, _ops_compare, _ops_math, _convert)
        for v in vars(mod).values()
        if isinstance(v, Primitive)
    }
    assert len(prims) >= 42
    missing = [
        name
        for name, p in prims.items()
        if not (_rules.is_nondiff(p) or (_rules.has_rule("jvp", p) and _rules.has_rule("vjp", p)))
    ]
    assert missing == []
