"""Finite-difference grid operators: references, convergence, transposes, errors."""

import numpy as np
import pytest

import fieldgrad as fg
import tests.opspec  # noqa: F401  (loads every spec module before one is imported here)
from fieldgrad.fields import _ops_grid
from tests.specs.spec_grid import np_fd_divergence, np_fd_gradient, np_fd_laplacian

BOUNDARIES = ("periodic", "zero", "edge")
SHAPES = [(11,), (6, 7), (4, 5, 3)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_operators_match_numpy(boundary, shape, dtype):
    rng = np.random.default_rng(len(shape) * 10 + BOUNDARIES.index(boundary))
    f = rng.standard_normal(shape).astype(dtype)
    v = rng.standard_normal((len(shape), *shape)).astype(dtype)
    hs = tuple(0.3 + 0.2 * a for a in range(len(shape)))
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    f64, v64 = f.astype(np.float64), v.astype(np.float64)
    cases = [
        (fg.fd_gradient(f, hs, boundary), np_fd_gradient(f64, hs, boundary)),
        (fg.fd_divergence(v, hs, boundary), np_fd_divergence(v64, hs, boundary)),
        (fg.fd_laplacian(f, hs, boundary), np_fd_laplacian(f64, hs, boundary)),
    ]
    for got, want in cases:
        assert got.dtype.name == dtype
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want, **tol)


def test_gradient_shape_and_scalar_spacing():
    f = fg.ones((4, 5, 6))
    g = fg.fd_gradient(f, spacing=0.1)
    assert g.shape == (3, 4, 5, 6)
    np.testing.assert_array_equal(g.numpy(), 0.0)


def test_integer_field_gives_default_float():
    g = fg.fd_gradient(fg.tensor([0, 1, 4, 9]), boundary="edge")
    assert g.dtype == fg.float32
    np.testing.assert_allclose(g.numpy(), [[0.5, 2.0, 4.0, 2.5]])


def test_edge_boundary_has_zero_normal_derivative_of_linear_field():
    x = np.arange(8.0)
    g = fg.fd_gradient(fg.tensor(x, dtype="float64"), boundary="edge").numpy()[0]
    np.testing.assert_allclose(g[1:-1], 1.0)
    np.testing.assert_allclose(g[[0, -1]], 0.5)  # one-sided halves: the ghost copies the edge


def test_laplacian_converges_at_second_order():
    errors = []
    for n in (32, 64, 128):
        h = 2 * np.pi / n
        x = np.arange(n) * h
        lap = fg.fd_laplacian(fg.tensor(np.sin(x)), spacing=h).numpy()
        errors.append(np.abs(lap + np.sin(x)).max())
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    for r in ratios:
        assert 3.8 < r < 4.2, ratios


def test_laplacian_2d_converges_at_second_order():
    errors = []
    for n in (24, 48):
        h = 2 * np.pi / n
        x = np.arange(n) * h
        f = np.sin(x)[:, None] * np.cos(2 * x)[None, :]
        lap = fg.fd_laplacian(fg.tensor(f), spacing=h).numpy()
        errors.append(np.abs(lap + 5 * f).max())
    assert 3.8 < errors[0] / errors[1] < 4.2


@pytest.mark.parametrize("shape", [(12,), (6, 8), (4, 6, 5)], ids=["1d", "2d", "3d"])
def test_divergence_of_gradient_is_wide_laplacian(shape):
    rng = np.random.default_rng(1)
    f = rng.standard_normal(shape)
    hs = (0.5, 0.7, 1.1)[: len(shape)]
    got = fg.fd_divergence(fg.fd_gradient(f, hs), hs).numpy()
    want = sum(
        (np.roll(f, -2, a) - 2 * f + np.roll(f, 2, a)) / (4 * hs[a] ** 2) for a in range(len(shape))
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # Away from the boundary the relation holds for every boundary rule.
    for b in ("zero", "edge"):
        got = fg.fd_divergence(fg.fd_gradient(f, hs, b), hs, b).numpy()
        inner = tuple(slice(2, -2) for _ in shape)
        np.testing.assert_allclose(got[inner], want[inner], rtol=1e-12, atol=1e-12)


def _matrix(apply, n_in):
    cols = []
    for j in range(n_in):
        e = np.zeros(n_in)
        e[j] = 1.0
        cols.append(np.ravel(apply(e)))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("grid", [(1,), (2,), (7,), (3, 4), (2, 3, 3)])
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_transposes(boundary, grid):
    d, n = len(grid), int(np.prod(grid))
    hs = tuple(0.5 + 0.25 * a for a in range(d))

    def bind(prim, x, shape, **kw):
        return prim.bind(fg.tensor(x.reshape(shape)), spacing=hs, boundary=boundary, **kw).numpy()

    grad = _matrix(lambda e: bind(_ops_grid.fd_grad_p, e, grid, adjoint=False), n)
    grad_t = _matrix(lambda e: bind(_ops_grid.fd_div_p, e, (d, *grid), adjoint=True), d * n)
    div = _matrix(lambda e: bind(_ops_grid.fd_div_p, e, (d, *grid), adjoint=False), d * n)
    div_t = _matrix(lambda e: bind(_ops_grid.fd_grad_p, e, grid, adjoint=True), n)
    lap = _matrix(lambda e: bind(_ops_grid.fd_laplacian_p, e, grid), n)
    np.testing.assert_allclose(grad_t, grad.T, atol=1e-14)
    np.testing.assert_allclose(div_t, div.T, atol=1e-14)
    np.testing.assert_allclose(lap, lap.T, atol=1e-14)
    if boundary != "edge":
        np.testing.assert_allclose(grad.T, -div, atol=1e-14)  # antisymmetric: G^T = -Div


def test_abstract_eval_shapes():
    aval = fg.ShapedArray((4, 5), np.dtype("float32"))
    kw = dict(spacing=(1.0, 1.0), boundary="zero", adjoint=False)
    assert _ops_grid.fd_grad_p.abstract_eval(aval, **kw).shape == (2, 4, 5)
    vaval = fg.ShapedArray((2, 4, 5), np.dtype("float64"))
    assert _ops_grid.fd_div_p.abstract_eval(vaval, **kw) == fg.ShapedArray(
        (4, 5), np.dtype("float64")
    )


@pytest.mark.parametrize("fn", [fg.fd_gradient, fg.fd_laplacian])
def test_bad_boundary_lists_valid_names(fn):
    with pytest.raises(ValueError, match="'periodic', 'zero', 'edge'") as e:
        fn(fg.ones(4), boundary="neumann")
    assert "neumann" in str(e.value)


def test_bad_boundary_divergence():
    with pytest.raises(ValueError, match="unknown boundary 'wrap'"):
        fg.fd_divergence(fg.ones((1, 4)), boundary="wrap")


@pytest.mark.parametrize("fn", [fg.fd_gradient, fg.fd_laplacian])
def test_too_many_dims(fn):
    with pytest.raises(ValueError, match=r"\(2, 2, 2, 2\)"):
        fn(fg.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="1-D, 2-D or 3-D"):
        fn(fg.tensor(1.0))


def test_divergence_shape_errors():
    with pytest.raises(ValueError, match=r"d = 2, got shape \(3, 4, 5\)"):
        fg.fd_divergence(fg.ones((3, 4, 5)))
    with pytest.raises(ValueError, match=r"\(4, 2, 2, 2, 2\)"):
        fg.fd_divergence(fg.ones((4, 2, 2, 2, 2)))


def test_spacing_errors():
    with pytest.raises(ValueError, match="has 3 entries; the grid has 2 axes"):
        fg.fd_laplacian(fg.ones((3, 3)), spacing=(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="positive and finite"):
        fg.fd_gradient(fg.ones(3), spacing=-1.0)
    with pytest.raises(ValueError, match="positive and finite"):
        fg.fd_gradient(fg.ones(3), spacing=float("inf"))
    with pytest.raises(TypeError, match="spacing"):
        fg.fd_gradient(fg.ones(3), spacing="1")
