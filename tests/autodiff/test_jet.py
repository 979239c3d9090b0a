"""Taylor mode (jet): every differentiable op of the op-spec table against nested forward mode,
high orders against closed forms, composition, the nested-JVP fallback for primitives without a
jet rule, jets under grad, and the errors for mismatched series."""

import math
import zlib

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _rules
from fieldgrad.fields import Primitive, ShapedArray, _core
from tests.opspec import ALL_SPECS

JET_SPECS = [s for s in ALL_SPECS if s.grad_order >= 1 and "float64" in s.dtypes]


def _t(a, dtype="float64"):
    return fg.tensor(np.asarray(a, dtype=dtype))


def _flat(tree):
    if isinstance(tree, (list, tuple)):
        return [a for t in tree for a in _flat(t)]
    if isinstance(tree, dict):
        return [a for k in sorted(tree) for a in _flat(tree[k])]
    return [np.asarray(tree)]


def nested_jvp_derivatives(f, primals, series):
    """``d^k/ds^k f(x(s))`` at 0 for k = 1..K along ``x(s) = x0 + sum_k s^k/k! x_k``, by K
    nested forward-mode passes in the scalar ``s`` (no jet rule involved)."""
    K = len(series[0])
    dt = primals[0].dtype

    def path(s):
        xs = []
        for p, ser in zip(primals, series):
            v = p
            for k, c in enumerate(ser, start=1):
                v = v + c * (s**k * (1.0 / math.factorial(k)))
            xs.append(v)
        return f(*xs)

    one, s0 = fg.ones((), dtype=dt), fg.zeros((), dtype=dt)
    out, g = [], path
    for _ in range(K):
        g = (lambda h: lambda s: fg.jvp(h, (s,), (one,))[1])(g)
        out.append(g(s0))
    return out


def _assert_series_close(got, want, what, rtol=1e-8):
    assert len(got) == len(want), f"{what}: {len(got)} terms, expected {len(want)}"
    for k, (a, b) in enumerate(zip(got, want), start=1):
        for x, y in zip(_flat(a), _flat(b)):
            assert x.shape == y.shape, f"{what}: term {k} shape {x.shape} != {y.shape}"
            atol = rtol * max(1.0, float(np.max(np.abs(y), initial=0.0)))
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{what}: term {k}")


def _first_nonempty(spec, rng):
    for args in spec.sample(rng, "float64"):
        if all(np.size(a) > 0 for a in args):
            return args
    return None


@pytest.mark.parametrize("spec", JET_SPECS, ids=[s.name for s in JET_SPECS])
def test_jet_matches_nested_jvp(spec):
    """Jet coefficients (order 3; order 1 for ops checked only to first order, e.g. the
    piecewise-linear ones) equal nested JVPs along the same polynomial path."""
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    args = _first_nonempty(spec, rng)
    assert args is not None, f"{spec.name}: no non-empty sample"
    tensors = [fg.tensor(a) for a in args]
    diff = [
        k
        for k, a in enumerate(args)
        if k not in spec.nondiff_argnums and np.asarray(a).dtype.kind == "f"
    ]
    order = 3 if spec.grad_order >= 2 else 1

    def f(*dargs):
        full = list(tensors)
        for k, v in zip(diff, dargs):
            full[k] = v
        return spec.op(*full, **spec.kwargs)

    primals = tuple(tensors[k] for k in diff)
    series = tuple([_t(rng.standard_normal(np.shape(args[k]))) for _ in range(order)] for k in diff)
    out, got = fg.jet(f, primals, series)
    want = nested_jvp_derivatives(f, primals, series)
    ref = f(*primals)
    for a, b in zip(_flat(out), _flat(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    if isinstance(got, (list, tuple)) and got and isinstance(got[0], (list, tuple)):
        # a list of outputs (split): got[i] is the series of output i
        got = [[g[k] for g in got] for k in range(order)]
    _assert_series_close(got, want, spec.name)


# --- closed forms at orders 4 and 6 --------------------------------------------------------------


def _tanh_derivative(n, x):
    """``d^n tanh / dx^n`` from the derivative polynomials ``P_{n+1} = (1 - y^2) P_n'``."""
    p = np.polynomial.Polynomial([0.0, 1.0])
    for _ in range(n):
        p = np.polynomial.Polynomial([1.0, 0.0, -1.0]) * p.deriv()
    return p(np.tanh(x))


def _lorentz_derivative(n, x):
    """``d^n/dx^n 1/(1 + x^2) = (-1)^n n! Im(1 / (x - i)^(n+1))``."""
    return (-1) ** n * math.factorial(n) * np.imag(1.0 / (x - 1j) ** (n + 1))


CLOSED_FORMS = {
    "tanh": (fg.tanh, _tanh_derivative),
    "sin": (fg.sin, lambda n, x: np.sin(x + n * np.pi / 2)),
    "x_exp_x": (lambda x: x * fg.exp(x), lambda n, x: (x + n) * np.exp(x)),
    "lorentz": (lambda x: 1.0 / (1.0 + x * x), _lorentz_derivative),
}
X = np.array([-1.7, -0.4, 0.0, 0.3, 1.1, 2.2])


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("order", [4, 6])
def test_high_order_closed_forms(name, order):
    f, want = CLOSED_FORMS[name]
    x = _t(X)
    got = fg.derivative(f, x, fg.ones_like(x), order)
    np.testing.assert_allclose(np.asarray(got), want(order, X), rtol=1e-10, atol=1e-10)
    # The public jet gives every lower order as well.
    zeros = [fg.zeros_like(x)] * (order - 1)
    _, terms = fg.jet(f, (x,), ([fg.ones_like(x), *zeros],))
    for k in range(1, order + 1):
        np.testing.assert_allclose(np.asarray(terms[k - 1]), want(k, X), rtol=1e-10, atol=1e-10)


def test_high_order_float32():
    x = _t(X, "float32")
    got = fg.derivative(fg.tanh, x, fg.ones_like(x), 6)
    assert got.dtype == fg.float32
    np.testing.assert_allclose(np.asarray(got), _tanh_derivative(6, X), rtol=1e-4, atol=1e-3)


# --- composition ---------------------------------------------------------------------------------


def test_jet_of_composition_is_composition_of_jets():
    rng = np.random.default_rng(0)
    x = _t(rng.uniform(0.2, 1.5, size=(4, 3)))
    series = [_t(rng.standard_normal((4, 3))) for _ in range(4)]
    w = _t(rng.standard_normal((3, 2)))

    def g(v):
        return fg.tanh(v @ w) * fg.exp(-v[:, :2])

    def f(v):
        return fg.log1p(v * v) / (1.0 + fg.sigmoid(v))

    y, ys = fg.jet(g, (x,), (series,))
    z, zs = fg.jet(f, (y,), (ys,))
    z2, zs2 = fg.jet(lambda v: f(g(v)), (x,), (series,))
    np.testing.assert_allclose(np.asarray(z2), np.asarray(z), rtol=1e-12)
    _assert_series_close(zs2, zs, "composition", rtol=1e-10)


def test_line_series_equals_explicit_zeros():
    """derivative() propagates symbolic zeros; a jet with explicit zero terms agrees."""
    rng = np.random.default_rng(1)
    x = _t(rng.uniform(-1, 1, size=(5, 2)))
    v = _t(rng.standard_normal((5, 2)))

    def f(p):
        return fg.sum(fg.arctan(p) * fg.erf(p) + fg.sqrt(1.0 + p * p), axis=1)

    _, terms = fg.jet(f, (x,), ([v] + [fg.zeros_like(x)] * 4,))
    for k in range(1, 6):
        np.testing.assert_allclose(
            np.asarray(fg.derivative(f, x, v, k)), np.asarray(terms[k - 1]), rtol=1e-11, atol=1e-11
        )


def test_constant_output_and_pytree_output():
    x = _t([0.5, 1.0])
    line = [fg.ones_like(x), fg.zeros_like(x)]
    out, terms = fg.jet(lambda v: {"a": fg.sin(v), "c": fg.ones(3)}, (x,), (line,))
    np.testing.assert_allclose(np.asarray(terms["a"][1]), -np.sin([0.5, 1.0]), rtol=1e-12)
    assert [np.asarray(t).tolist() for t in terms["c"]] == [[0.0] * 3] * 2
    assert np.asarray(out["c"]).tolist() == [1.0] * 3


# --- the fallback for primitives without a jet rule ----------------------------------------------


@pytest.fixture
def temp_primitives():
    """Primitives with only JVP rules, removed from every table afterwards."""
    made = []

    def make(name, impl, abstract_eval, jvp, multiple_results=False):
        prim = Primitive(name, impl, abstract_eval, multiple_results=multiple_results)
        _rules.register(prim, jvp=jvp)
        made.append(prim)
        return prim

    yield make
    for prim in made:
        for table in _rules._tables.values():
            table.pop(prim, None)
        _core._registry.pop(prim.name, None)


def _mixed_impl(x, y, n):
    return fg.astype(x, y.dtype) ** 2 * fg.sin(y) * fg.astype(n, y.dtype)


def _mixed_jvp(p, t):
    x, y, n = p
    xd, nd = fg.astype(x, y.dtype), fg.astype(n, y.dtype)
    tx = fg.astype(t[0], y.dtype)
    ans = _mixed_impl(x, y, n)
    return ans, (2.0 * xd * tx * fg.sin(y) + xd**2 * fg.cos(y) * t[1]) * nd


def test_fallback_multi_input_mixed_dtypes_and_integer(temp_primitives):
    prim = temp_primitives(
        "jet_test_mixed",
        _mixed_impl,
        lambda x, y, n: ShapedArray(tuple(y.shape), y.dtype),
        _mixed_jvp,
    )
    assert not _rules.has_rule("jet", prim)
    rng = np.random.default_rng(2)
    x = _t(rng.uniform(-1, 1, 6), "float32")
    y = _t(rng.uniform(-1, 1, 6))
    n = fg.tensor(np.arange(1, 7, dtype=np.int32))
    sx = [_t(rng.standard_normal(6), "float32") for _ in range(3)]
    sy = [_t(rng.standard_normal(6)) for _ in range(3)]

    out, got = fg.jet(lambda a, b: prim.bind(a, b, n), (x, y), (sx, sy))
    assert out.dtype == fg.float64 and all(t.dtype == fg.float64 for t in got)
    _, want = fg.jet(lambda a, b: _mixed_impl(a, b, n), (x, y), (sx, sy))  # through jet rules
    _assert_series_close(got, want, "fallback", rtol=1e-6)  # x is float32
    # A series on one input only: the other stays fixed.
    _, got1 = fg.jet(lambda b: prim.bind(x, b, n), (y,), (sy,))
    _, want1 = fg.jet(lambda b: _mixed_impl(x, b, n), (y,), (sy,))
    _assert_series_close(got1, want1, "fallback, one input", rtol=1e-12)


def test_fallback_multiple_results(temp_primitives):
    def impl(x, y):
        return [x * y, fg.sin(x)]

    def jvp(p, t):
        (x, y), (tx, ty) = p, t
        return impl(x, y), [tx * y + x * ty, fg.cos(x) * tx]

    prim = temp_primitives(
        "jet_test_pair",
        impl,
        lambda x, y: [ShapedArray(tuple(x.shape), x.dtype)] * 2,
        jvp,
        multiple_results=True,
    )
    rng = np.random.default_rng(3)
    x, y = _t(rng.uniform(-1, 1, 4)), _t(rng.uniform(-1, 1, 4))
    sx = [_t(rng.standard_normal(4)) for _ in range(4)]
    sy = [_t(rng.standard_normal(4)) for _ in range(4)]
    _, got = fg.jet(lambda a, b: tuple(prim.bind(a, b)), (x, y), (sx, sy))
    _, want = fg.jet(lambda a, b: tuple(impl(a, b)), (x, y), (sx, sy))
    for g, w in zip(got, want):
        _assert_series_close(g, w, "fallback, multiple results", rtol=1e-12)


def test_fallback_under_grad(temp_primitives):
    prim = temp_primitives(
        "jet_test_mixed_grad",
        _mixed_impl,
        lambda x, y, n: ShapedArray(tuple(y.shape), y.dtype),
        _mixed_jvp,
    )
    n = fg.tensor(np.arange(1, 4, dtype=np.int32))
    x = _t([0.3, -0.2, 0.9])

    def loss(w):
        return fg.sum(fg.derivative(lambda v: prim.bind(w * v, v, n), x, fg.ones_like(x), 2))

    fg.check_grads(loss, (_t([0.7, 1.1, -0.4]),), order=1, modes=("fwd", "rev"))


def test_user_jet_rule_gets_instantiated_zeros(temp_primitives):
    """A rule not marked ``symbolic_zeros`` sees K tensors for every float input, zeros for a
    constant input and for the zero terms of a line."""
    seen = []

    def impl(x, c):
        return x * c

    prim = temp_primitives(
        "jet_test_user_rule",
        impl,
        lambda x, c: ShapedArray(tuple(x.shape), x.dtype),
        lambda p, t: (impl(*p), t[0] * p[1] + p[0] * t[1]),
    )

    def rule(primals, series):
        seen.append(series)
        (x, c), (xs, cs) = primals, series
        return impl(x, c), [xk * c + x * ck for xk, ck in zip(xs, cs)]

    _rules.register(prim, jet=rule)
    x, c = _t([0.5, -1.0]), _t([2.0, 3.0])
    got = fg.derivative(lambda v: prim.bind(v, c) ** 2, x, fg.ones_like(x), 2)
    np.testing.assert_allclose(np.asarray(got), 2 * np.array([2.0, 3.0]) ** 2, rtol=1e-12)
    (xs, cs) = seen[0]
    assert len(xs) == len(cs) == 2
    assert all(isinstance(t, fg.Tensor) for t in [*xs, *cs])
    assert np.asarray(xs[1]).tolist() == [0.0, 0.0] and np.asarray(cs[0]).tolist() == [0.0, 0.0]


# --- jet under grad ------------------------------------------------------------------------------


def test_jet_coefficient_differentiable_in_parameters():
    rng = np.random.default_rng(4)
    x = _t(rng.uniform(-1, 1, (5, 3)))
    v = _t(rng.standard_normal((5, 3)))

    def loss(w, b):
        def f(p):
            return fg.sum(fg.tanh(p @ w + b) ** 2, axis=1)

        _, terms = fg.jet(f, (x,), ([v, fg.zeros_like(x), fg.zeros_like(x)],))
        return fg.sum(terms[2] * terms[0])

    w, b = _t(rng.standard_normal((3, 4))), _t(rng.standard_normal(4))
    fg.check_grads(loss, (w, b), order=1, modes=("fwd", "rev"))
    g = fg.grad(loss)(w, b)
    assert g.shape == (3, 4)


# --- errors --------------------------------------------------------------------------------------


def test_error_series_count():
    x = _t([1.0])
    with pytest.raises(ValueError, match="2 primals but 1 series"):
        fg.jet(lambda a, b: a * b, (x, x), ([x],))


def test_error_series_lengths():
    x = _t([1.0])
    with pytest.raises(ValueError, match=r"same length, got lengths \[2, 1\]"):
        fg.jet(lambda a, b: a * b, (x, x), ([x, x], [x]))


def test_error_series_shape():
    x = _t([1.0, 2.0])
    with pytest.raises(ValueError, match=r"term 2 of series 0 has shape \(3,\).*\(2,\)"):
        fg.jet(fg.sin, (x,), ([x, _t([1.0, 2.0, 3.0])],))


def test_error_series_not_a_list():
    x = _t([1.0])
    with pytest.raises(TypeError, match="series 0 must be a list"):
        fg.jet(fg.sin, (x,), (x,))


def test_error_integer_primal():
    x = fg.tensor([1, 2])
    with pytest.raises(TypeError, match="primal 0 has dtype int32"):
        fg.jet(fg.sin, (x,), ([x],))
