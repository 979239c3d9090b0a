"""Closed-form tests of the grid, convolution and creation/random derivative rules.

Linear operators are checked through the adjoint identity ``<w, A v> = <A^T w, v>`` (A v by
forward mode, A^T w by reverse mode) and against dense matrices built column by column from
the numpy references of the op-spec tables; the bilinear convolution family through its
Hessian-vector products against numpy and finite-difference checks to third order.
"""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.autodiff import _rules
from fieldgrad.fields import _creation, _ops_grid
from fieldgrad.fields import random as fg_random
from tests import opspec  # noqa: F401  (loads the spec tables before the modules below)
from tests.specs.spec_conv import np_conv
from tests.specs.spec_grid import np_fd_divergence, np_fd_gradient, np_fd_laplacian

BOUNDARIES = ("periodic", "zero", "edge")
GRIDS = [(1,), (2,), (7,), (4, 5), (3, 4, 5)]


def _t(a):
    return fg.tensor(np.asarray(a, dtype=np.float64))


def _inner(a, b) -> float:
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def _dense(fn, in_shape) -> np.ndarray:
    """The matrix of the linear numpy map ``fn`` on arrays of ``in_shape`` (one column per
    basis vector), shape ``(out size, in size)``."""
    n = int(np.prod(in_shape))
    cols = []
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        cols.append(np.asarray(fn(e.reshape(in_shape)), np.float64).ravel())
    return np.stack(cols, axis=1)


# --- finite-difference grid operators -----------------------------------------------------------


def _grid_ops(grid):
    """(name, fieldgrad op, numpy op, input shape) for the three grid operators."""
    d = len(grid)
    return [
        ("fd_gradient", fg.fd_gradient, np_fd_gradient, grid),
        ("fd_divergence", fg.fd_divergence, np_fd_divergence, (d, *grid)),
        ("fd_laplacian", fg.fd_laplacian, np_fd_laplacian, grid),
    ]


def _spacing(grid):
    return tuple(0.5 + 0.25 * a for a in range(len(grid)))


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("grid", GRIDS, ids=str)
def test_grid_adjoint_identity(grid, boundary):
    rng = np.random.default_rng(len(grid) * 10 + BOUNDARIES.index(boundary))
    hs = _spacing(grid)
    for name, op, np_op, shape in _grid_ops(grid):

        def f(x, op=op):
            return op(x, spacing=hs, boundary=boundary)

        x = _t(rng.standard_normal(shape))
        v = _t(rng.standard_normal(shape))
        y, av = fg.jvp(f, (x,), (v,))
        w = _t(rng.standard_normal(y.shape))
        (atw,) = fg.vjp(f, x)[1](w)
        assert tuple(atw.shape) == shape, name
        lhs, rhs = _inner(w, av), _inner(atw, v)
        assert np.isclose(lhs, rhs, rtol=1e-12, atol=1e-12), (name, lhs, rhs)
        # the transpose against the numpy reference's dense matrix
        a = _dense(lambda e, np_op=np_op: np_op(e, spacing=hs, boundary=boundary), shape)
        want = (a.T @ np.asarray(w).ravel()).reshape(shape)
        np.testing.assert_allclose(np.asarray(atw), want, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_grid_jacrev_is_transpose_of_jacfwd(boundary):
    grid = (3, 4)
    rng = np.random.default_rng(3)
    for name, op, np_op, shape in _grid_ops(grid):

        def f(x, op=op):
            return fg.reshape(op(x, spacing=(0.5, 2.0), boundary=boundary), (-1,))

        x = _t(rng.standard_normal(shape))
        jf = np.asarray(fg.jacfwd(f)(x)).reshape(-1, x.size)
        jr = np.asarray(fg.jacrev(f)(x)).reshape(-1, x.size)
        np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-12, err_msg=name)
        a = _dense(lambda e, np_op=np_op: np_op(e, spacing=(0.5, 2.0), boundary=boundary), shape)
        np.testing.assert_allclose(jr, a, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_grid_transposes_match_docstrings(boundary):
    rng = np.random.default_rng(5)
    hs = (0.5, 0.25)
    w = _t(rng.standard_normal((2, 4, 5)))
    (gt,) = fg.vjp(lambda f: fg.fd_gradient(f, hs, boundary), _t(np.zeros((4, 5))))[1](w)
    inner = "zero" if boundary == "edge" else boundary
    want = -np.asarray(fg.fd_divergence(w, hs, inner))
    if boundary == "edge":  # -v_a / (2 h_a) at the first, +v_a / (2 h_a) at the last point
        wn = np.asarray(w)
        want[0, :] -= wn[0, 0, :] / (2 * hs[0])
        want[-1, :] += wn[0, -1, :] / (2 * hs[0])
        want[:, 0] -= wn[1, :, 0] / (2 * hs[1])
        want[:, -1] += wn[1, :, -1] / (2 * hs[1])
    np.testing.assert_allclose(np.asarray(gt), want, rtol=1e-12, atol=1e-12)
    # the Laplacian is its own transpose
    g = _t(rng.standard_normal((4, 5)))
    (lt,) = fg.vjp(lambda f: fg.fd_laplacian(f, hs, boundary), _t(np.zeros((4, 5))))[1](g)
    np.testing.assert_allclose(np.asarray(lt), np.asarray(fg.fd_laplacian(g, hs, boundary)))


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_grid_transpose_of_transpose(boundary):
    """Reverse mode over the pullback ``w -> G^T w`` (fd_div[adjoint=True]) gives G back, and
    forward mode over it (the jvp rule of the adjoint flavour) gives G^T again."""
    rng = np.random.default_rng(7)
    hs = (0.5, 0.25)
    for op, out_shape in ((fg.fd_gradient, (2, 4, 5)), (fg.fd_divergence, (4, 5))):
        in_shape = (4, 5) if op is fg.fd_gradient else (2, 4, 5)
        x0 = _t(np.zeros(in_shape))

        def pull(w, op=op, x0=x0):
            return fg.vjp(lambda f: op(f, hs, boundary), x0)[1](w)[0]

        v = _t(rng.standard_normal(in_shape))
        w = _t(rng.standard_normal(out_shape))
        (again,) = fg.vjp(pull, w)[1](v)
        np.testing.assert_allclose(np.asarray(again), np.asarray(op(v, hs, boundary)), atol=1e-12)
        _, tangent = fg.jvp(pull, (w,), (w,))
        np.testing.assert_allclose(np.asarray(tangent), np.asarray(pull(w)), atol=1e-12)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_grid_energy_hvp(boundary):
    """The Dirichlet energy ``E(f) = sum |G f|^2`` has Hessian ``2 G^T G``."""
    rng = np.random.default_rng(11)
    grid, hs = (3, 4, 5), (0.5, 1.0, 0.25)
    a = _dense(lambda e: np_fd_gradient(e, spacing=hs, boundary=boundary), grid)

    def energy(f):
        g = fg.fd_gradient(f, hs, boundary)
        return fg.sum(g * g)

    f, v = _t(rng.standard_normal(grid)), _t(rng.standard_normal(grid))
    grad, hv = fg.hvp(energy, (f,), (v,))
    np.testing.assert_allclose(np.asarray(grad).ravel(), 2 * a.T @ a @ np.asarray(f).ravel())
    np.testing.assert_allclose(np.asarray(hv).ravel(), 2 * a.T @ a @ np.asarray(v).ravel())


# --- convolutions -------------------------------------------------------------------------------

CONV2D_OPTS = [
    ((2, 3, 6, 7), (4, 3, 3, 2), {}),
    ((2, 2, 7, 8), (3, 2, 3, 3), {"stride": (2, 3), "padding": (1, 2)}),
    ((1, 2, 9, 8), (2, 2, 3, 2), {"dilation": (2, 3), "padding": 1, "stride": (1, 2)}),
    ((1, 2, 6, 5), (3, 2, 4, 3), {"padding": "same"}),  # asymmetric padding
    ((1, 1, 7, 7), (1, 1, 2, 2), {"stride": 3}),  # trailing input rows/columns unused
]
CONV_IDS = ["plain", "stride-pad", "dilation", "same", "stride-skip"]


def _conv_mats(x, w, kw):
    """Dense matrices of y = conv(x, w): A in x (for this w) and B in w (for this x)."""
    a = _dense(lambda e: np_conv(e, w, **kw), x.shape)
    b = _dense(lambda e: np_conv(x, e, **kw), w.shape)
    return a, b


@pytest.mark.parametrize("xs, ws, kw", CONV2D_OPTS, ids=CONV_IDS)
def test_conv2d_gradients_match_numpy(xs, ws, kw):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = np_conv(x, w, **kw)
    c = rng.standard_normal(y.shape)
    gx, gw = fg.grad(lambda x, w: fg.sum(fg.conv2d(x, w, **kw) * _t(c)), argnums=(0, 1))(
        _t(x), _t(w)
    )
    a, b = _conv_mats(x, w, kw)
    np.testing.assert_allclose(np.asarray(gx).ravel(), a.T @ c.ravel(), atol=1e-12)
    np.testing.assert_allclose(np.asarray(gw).ravel(), b.T @ c.ravel(), atol=1e-12)


@pytest.mark.parametrize("xs, ws, kw", CONV2D_OPTS, ids=CONV_IDS)
def test_conv2d_hvp_matches_numpy(xs, ws, kw):
    """Joint Hessian-vector product of ``L(x, w) = sum conv2d(x, w)**2`` along (v, u):
    forward mode over the reverse rules (conv2d_input and conv2d_weight under jvp)."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    v, u = rng.standard_normal(xs), rng.standard_normal(ws)

    def loss(x, w):
        y = fg.conv2d(x, w, **kw)
        return fg.sum(y * y)

    (gx, gw), (hx, hw) = fg.hvp(loss, (_t(x), _t(w)), (_t(v), _t(u)))
    a_w, b_x = _conv_mats(x, w, kw)
    a_u, b_v = _conv_mats(v, u, kw)
    y = np_conv(x, w, **kw).ravel()
    dy = np_conv(v, w, **kw).ravel() + np_conv(x, u, **kw).ravel()
    np.testing.assert_allclose(np.asarray(gx).ravel(), 2 * a_w.T @ y, atol=1e-10)
    np.testing.assert_allclose(np.asarray(gw).ravel(), 2 * b_x.T @ y, atol=1e-10)
    np.testing.assert_allclose(np.asarray(hx).ravel(), 2 * (a_u.T @ y + a_w.T @ dy), atol=1e-10)
    np.testing.assert_allclose(np.asarray(hw).ravel(), 2 * (b_v.T @ y + b_x.T @ dy), atol=1e-10)


@pytest.mark.parametrize("xs, ws, kw", CONV2D_OPTS[1:4], ids=CONV_IDS[1:4])
def test_conv2d_loss_third_order(xs, ws, kw):
    """``sum conv2d(x, w)**2`` in x and w jointly, float64, every mix of modes to order 3."""
    rng = np.random.default_rng(4)
    x, w = _t(rng.standard_normal(xs)), _t(rng.standard_normal(ws))

    def loss(x, w):
        y = fg.conv2d(x, w, **kw)
        return fg.sum(y * y)

    fg.check_grads(loss, (x, w), order=3, modes=("fwd", "rev"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("xs, ws, kw", CONV2D_OPTS[1:4], ids=CONV_IDS[1:4])
def test_conv_transposed_primitives_second_order(xs, ws, kw):
    """conv2d_input(g, w) and conv2d_weight(x, g) (the pullbacks of conv2d) are bilinear:
    check their own derivatives in both arguments to second order."""
    rng = np.random.default_rng(6)
    x, w = _t(rng.standard_normal(xs)), _t(rng.standard_normal(ws))
    g = _t(rng.standard_normal(np_conv(np.asarray(x), np.asarray(w), **kw).shape))

    def conv_input(g, w):  # d<conv2d(x, w), g>/dx, for any x
        return fg.vjp(lambda x: fg.conv2d(x, w, **kw), x)[1](g)[0]

    def conv_weight(x, g):  # d<conv2d(x, w), g>/dw, for any w
        return fg.vjp(lambda w: fg.conv2d(x, w, **kw), w)[1](g)[0]

    fg.check_grads(conv_input, (g, w), order=2, rtol=1e-5, atol=1e-6)
    fg.check_grads(conv_weight, (x, g), order=2, rtol=1e-5, atol=1e-6)
    a, b = _conv_mats(np.asarray(x), np.asarray(w), kw)
    np.testing.assert_allclose(np.asarray(conv_input(g, w)).ravel(), a.T @ np.ravel(g))
    np.testing.assert_allclose(np.asarray(conv_weight(x, g)).ravel(), b.T @ np.ravel(g))


CONV1D_OPTS = [
    ((2, 3, 10), (4, 3, 3), {"stride": 2, "padding": 2}),
    ((2, 2, 9), (3, 2, 4), {"padding": "same", "dilation": 2}),
    ((1, 2, 12), (2, 2, 3), {"stride": 3, "padding": 1, "dilation": 2}),
]


@pytest.mark.parametrize("xs, ws, kw", CONV1D_OPTS, ids=["stride-pad", "same-dil", "all"])
def test_conv1d_gradients(xs, ws, kw):
    rng = np.random.default_rng(8)
    x, w, bias = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    c = rng.standard_normal(np_conv(x, w, **kw).shape)

    def f(x, w, bias):
        return fg.sum(fg.conv1d(x, w, bias, **kw) * _t(c))

    gx, gw, gb = fg.grad(f, argnums=(0, 1, 2))(_t(x), _t(w), _t(bias))
    a, b = _conv_mats(x, w, kw)
    np.testing.assert_allclose(np.asarray(gx).ravel(), a.T @ c.ravel(), atol=1e-12)
    np.testing.assert_allclose(np.asarray(gw).ravel(), b.T @ c.ravel(), atol=1e-12)
    np.testing.assert_allclose(np.asarray(gb), c.sum(axis=(0, 2)), atol=1e-12)

    def loss(x, w, bias):
        y = fg.conv1d(x, w, bias, **kw)
        return fg.sum(y * y)

    fg.check_grads(loss, (_t(x), _t(w), _t(bias)), order=2, rtol=1e-5, atol=1e-6)


def test_conv2d_unbatched_gradient_shape():
    rng = np.random.default_rng(9)
    x, w = _t(rng.standard_normal((2, 5, 6))), _t(rng.standard_normal((3, 2, 2, 2)))
    gx, gw = fg.grad(lambda x, w: fg.sum(fg.conv2d(x, w, padding=1)), argnums=(0, 1))(x, w)
    assert tuple(gx.shape) == (2, 5, 6) and tuple(gw.shape) == (3, 2, 2, 2)
    # d/dx sum(conv) counts, per input pixel, the kernel taps that reach it
    xs = np.asarray(x)[None]
    a = _dense(lambda e: np_conv(e, np.asarray(w), padding=1), xs.shape)
    np.testing.assert_allclose(np.asarray(gx).ravel(), a.sum(axis=0), atol=1e-12)


# --- creation and random primitives -------------------------------------------------------------


def test_creation_and_random_are_nondiff():
    for p in (
        _creation.full_p,
        _creation.iota_p,
        _creation.eye_p,
        fg_random.random_p,
        fg_random.random_permutation_p,
    ):
        assert _rules.is_nondiff(p), p.name
    assert not _rules.is_nondiff(_ops_grid.fd_grad_p)


def test_constants_inside_grad_and_jvp():
    x = _t([1.0, -2.0, 0.5])
    g = fg.grad(lambda x: fg.sum(x * fg.arange(3.0)))(x)
    assert g.tolist() == [0.0, 1.0, 2.0]
    g = fg.grad(lambda x: fg.sum(x * fg.full((3,), 2.5) + fg.ones(3)))(x)
    assert g.tolist() == [2.5, 2.5, 2.5]
    lin = fg.linspace(0.0, 1.0, 3, dtype="float64")
    _, t = fg.jvp(lambda x: x * lin * fg.linspace(0.0, 1.0, 3, dtype="float64"), (x,), (x,))
    np.testing.assert_allclose(np.asarray(t), np.asarray(x) * np.asarray(lin) ** 2)
    m = fg.grad(lambda x: fg.sum(fg.reshape(x, (3, 1)) * fg.eye(3, dtype="float64")))(x)
    assert m.tolist() == [1.0, 1.0, 1.0]
    h = fg.hessian(lambda x: fg.sum(x * x * fg.arange(3.0, dtype="float64")))(x)
    np.testing.assert_allclose(np.asarray(h), np.diag([0.0, 2.0, 4.0]))


def test_random_constants_inside_grad_and_jvp():
    key = fg.random.key(3)
    x = _t(np.linspace(-1.0, 1.0, 5))
    noise = np.asarray(fg.random.normal(key, (5,), dtype="float64"))
    g = fg.grad(lambda x: fg.sum(x * fg.random.normal(key, (5,), dtype="float64")))(x)
    np.testing.assert_array_equal(np.asarray(g), noise)
    u = np.asarray(fg.random.uniform(key, (5,), dtype="float64"))
    _, t = fg.jvp(lambda x: x * fg.random.uniform(key, (5,), dtype="float64"), (x,), (x,))
    np.testing.assert_allclose(np.asarray(t), np.asarray(x) * u)
    perm = np.asarray(fg.random.permutation(key, 5))
    g = fg.grad(lambda x: fg.sum(x * fg.random.permutation(key, 5)))(x)
    np.testing.assert_array_equal(np.asarray(g), perm.astype(np.float64))
