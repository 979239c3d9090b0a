"""Simple shapes: sampling lands where it should, normals are unit and outward, closed forms."""

import doctest
import importlib
import math
import pkgutil

import numpy as np
import pytest
from scipy.integrate import quad

import fieldgrad as fg
import fieldgrad.solvers.pinn.geometry as G

L_SHAPE = [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]

SHAPES = {
    "interval": lambda: G.Interval(-1.0, 2.0),
    "rectangle": lambda: G.Rectangle([-1.0, 0.0], [2.0, 0.5]),
    "box3": lambda: G.Box([0.0, 0.0, 0.0], [1.0, 2.0, 0.5]),
    "triangle": lambda: G.Triangle([0.0, 0.0], [2.0, 0.5], [0.5, 1.5]),
    "polygon_cw": lambda: G.Polygon(L_SHAPE[::-1]),
    "disk": lambda: G.Disk([0.5, -0.5], 1.5),
    "sphere": lambda: G.Sphere([0.0, 1.0, 0.0], 0.5),
    "ball4": lambda: G.Hypersphere([0.0, 0.0, 0.0, 1.0], 1.0),
    "ellipse": lambda: G.Ellipse([1.0, 0.0], 2.0, 0.5, angle=0.6),
}
VOLUMES = {
    "interval": 3.0,
    "rectangle": 1.5,
    "box3": 1.0,
    "triangle": 1.375,
    "polygon_cw": 3.0,
    "disk": math.pi * 1.5**2,
    "sphere": 4.0 / 3.0 * math.pi * 0.125,
    "ball4": math.pi**2 / 2,
    "ellipse": math.pi,
}
METHODS = ["pseudo", "lhs", "halton", "sobol", "hammersley"]


@pytest.fixture(params=sorted(SHAPES))
def shape(request):
    return request.param, SHAPES[request.param]()


@pytest.mark.parametrize("method", METHODS)
def test_interior_points_are_inside_and_reproducible(shape, method):
    _, geom = shape
    x = geom.sample_interior(101, method, seed=7)
    assert x.shape == (101, geom.dim) and x.dtype == np.float64
    assert geom.inside(x).all()
    np.testing.assert_array_equal(x, geom.sample_interior(101, method, seed=7))
    assert (
        not np.array_equal(x, geom.sample_interior(101, method, seed=8)) or method == "hammersley"
    )


@pytest.mark.parametrize("method", METHODS)
def test_boundary_points_are_on_the_boundary(shape, method):
    _, geom = shape
    x = geom.sample_boundary(97, method, seed=1)
    assert x.shape == (97, geom.dim)
    assert geom.on_boundary(x).all() and geom.inside(x).all()
    assert np.abs(geom.signed_distance(x)).max() < 1e-9
    np.testing.assert_array_equal(x, geom.sample_boundary(97, method, seed=1))


def test_normals_are_unit_and_outward(shape):
    _, geom = shape
    x = geom.sample_boundary(300, "pseudo", seed=2)
    n = geom.boundary_normal(x)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-12)
    eps = 1e-4 * geom.atol / 1e-6
    assert not geom.inside(x + eps * n).any()
    assert (geom.signed_distance(x - eps * n) < 0).all()


def test_normals_are_zero_off_the_boundary(shape):
    _, geom = shape
    x = geom.sample_interior(50, "sobol")
    x = x[~geom.on_boundary(x)]
    np.testing.assert_array_equal(geom.boundary_normal(x), 0.0)


def test_closed_form_volume_and_monte_carlo_estimate(shape):
    name, geom = shape
    assert geom.volume == pytest.approx(VOLUMES[name], rel=1e-12)
    assert geom.estimate_volume(2**15) == pytest.approx(VOLUMES[name], rel=0.02)


def test_interior_samples_are_uniform_centroids():
    tri = G.Triangle([0.0, 0.0], [2.0, 0.5], [0.5, 1.5])
    np.testing.assert_allclose(tri.sample_interior(4096, "sobol").mean(0), [2.5 / 3, 2 / 3], 2e-3)
    poly = G.Polygon(L_SHAPE)  # centroid of the L: (5/6, 5/6)
    np.testing.assert_allclose(poly.sample_interior(4096, "sobol").mean(0), [5 / 6] * 2, atol=5e-3)
    disk = G.Disk([0.0, 0.0], 2.0)  # E|x|^2 = r^2 / 2
    x = disk.sample_interior(4096, "sobol")
    assert np.mean(np.sum(x**2, 1)) == pytest.approx(2.0, rel=5e-3)
    ball = G.Hypersphere([0.0] * 4, 1.0)  # E|x|^2 = d / (d + 2)
    x = ball.sample_interior(4096, "sobol")
    assert np.mean(np.sum(x**2, 1)) == pytest.approx(4 / 6, rel=0.02)


def test_disk_and_sphere_normals_are_radial():
    disk = G.Disk([0.5, -0.5], 1.5)
    x = disk.sample_boundary(64, "halton")
    np.testing.assert_allclose(disk.boundary_normal(x), (x - disk.center) / 1.5, atol=1e-12)
    ang = np.arctan2(*(x - disk.center).T[::-1])
    counts, _ = np.histogram(ang, bins=8, range=(-np.pi, np.pi))
    assert counts.min() >= 6  # angles spread over the circle
    ball = G.Sphere([0.0, 0.0, 0.0], 2.0)
    x = ball.sample_boundary(64, "sobol")
    np.testing.assert_allclose(ball.boundary_normal(x), x / 2.0, atol=1e-12)


def test_rectangle_faces_corners_and_edge_fractions():
    rect = G.Rectangle([-1.0, 0.0], [2.0, 0.5])
    pts = [[2.0, 0.25], [-1.0, 0.25], [0.0, 0.5], [0.0, 0.0], [2.0, 0.5], [0.0, 0.25]]
    s = 1 / math.sqrt(2)
    expect = [[1, 0], [-1, 0], [0, 1], [0, -1], [s, s], [0, 0]]
    np.testing.assert_allclose(rect.boundary_normal(pts), expect, atol=1e-15)
    x = rect.sample_boundary(7000, "sobol")
    on_vertical = np.isclose(x[:, 0], -1.0) | np.isclose(x[:, 0], 2.0)
    assert on_vertical.mean() == pytest.approx(1.0 / 7.0, abs=0.01)  # 2 * 0.5 of perimeter 7


def test_box_boundary_face_fractions_follow_areas():
    box = G.Box([0.0, 0.0, 0.0], [1.0, 2.0, 0.5])
    x = box.sample_boundary(7000, "sobol")
    on_z = np.isclose(x[:, 2], 0.0) | np.isclose(x[:, 2], 0.5)
    assert on_z.mean() == pytest.approx(4.0 / 7.0, abs=0.01)  # faces 2, 2, 0.5, 0.5, 1, 1
    assert box.boundary_measure == 7.0


def test_polygon_edges_get_points_in_proportion_to_length_and_constant_normals():
    poly = G.Polygon(L_SHAPE[::-1])
    assert poly.boundary_measure == 8.0
    x = poly.sample_boundary(8000, "sobol")
    bottom = np.isclose(x[:, 1], 0.0)
    assert bottom.mean() == pytest.approx(2.0 / 8.0, abs=0.005)
    n = poly.boundary_normal(x[bottom & (x[:, 0] > 0.01) & (x[:, 0] < 1.99)])
    np.testing.assert_allclose(n, [[0.0, -1.0]] * len(n))
    # the reflex vertex (1, 1): normal into the notch; the convex vertex (0, 0): outward diagonal
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(poly.boundary_normal([[1, 1], [0, 0]]), [[s, s], [-s, -s]])


def test_ellipse_normals_distances_and_arc_length_uniformity():
    ell = G.Ellipse([1.0, 0.0], 2.0, 0.5, angle=0.6)
    x = ell.sample_boundary(4000, "sobol")
    c, s = math.cos(0.6), math.sin(0.6)
    p = (x - ell.center) @ np.array([[c, -s], [s, c]])  # local coordinates
    grad = p / np.array([4.0, 0.25])
    grad = grad / np.linalg.norm(grad, axis=1, keepdims=True)
    np.testing.assert_allclose(ell.boundary_normal(x), grad @ np.array([[c, s], [-s, c]]), 1e-9)
    # arc length of the quarter 0 <= phi <= pi/4 over the perimeter
    speed = lambda t: math.hypot(2.0 * math.sin(t), 0.5 * math.cos(t))  # noqa: E731
    frac = quad(speed, 0, math.pi / 4)[0] / ell.boundary_measure
    phi = np.arctan2(p[:, 1] / 0.5, p[:, 0] / 2.0)
    assert np.mean((phi >= 0) & (phi <= math.pi / 4)) == pytest.approx(frac, abs=0.005)
    # signed distance against the closest point of a dense boundary polyline
    dense = ell._boundary_from_unit(np.linspace(0, 1, 200001)[:, None])[0]
    q = ell.sample_interior(40, "pseudo") * 1.7 - 0.5
    brute = np.min(np.linalg.norm(q[:, None] - dense[None], axis=2), axis=1)
    got = ell.signed_distance(q)
    np.testing.assert_allclose(np.abs(got), brute, atol=1e-6)
    np.testing.assert_array_equal(got < 0, ell.inside(q) & ~ell.on_boundary(q))


def test_signed_distances_of_simple_shapes():
    np.testing.assert_allclose(
        G.Disk([0.0, 0.0], 1.0).signed_distance([[0, 0], [3, 4], [0.6, 0.8]]), [-1, 4, 0], 1e-15
    )
    box = G.Box([0.0, 0.0], [1.0, 2.0])
    np.testing.assert_allclose(
        box.signed_distance([[0.5, 1.0], [4, 6], [0.5, 2.5]]), [-0.5, 5, 0.5]
    )
    tri = G.Triangle([0.0, 0.0], [1.0, 0.0], [0.0, 1.0])
    np.testing.assert_allclose(
        tri.signed_distance([[0.1, 0.2], [1, 1], [-1, 0]]), [-0.1, math.sqrt(0.5), 1.0]
    )
    np.testing.assert_allclose(G.Interval(0.0, 2.0).signed_distance([[0.5], [3.0]]), [-0.5, 1.0])


def test_interval_boundary_and_uniform_points():
    geom = G.Interval(-1.0, 2.0)
    x = geom.sample_boundary(100, "sobol")
    assert set(x[:, 0].tolist()) == {-1.0, 2.0} and np.sum(x == -1.0) == 50
    np.testing.assert_allclose(geom.uniform_points(4)[:, 0], [-1, 0, 1, 2])
    np.testing.assert_allclose(geom.uniform_points(2, boundary=False)[:, 0], [0, 1])


@pytest.mark.parametrize("name", ["rectangle", "disk", "polygon_cw", "box3"])
def test_uniform_points_is_a_grid_of_about_n_points(name):
    geom = SHAPES[name]()
    x = geom.uniform_points(400)
    assert 300 <= len(x) <= 500 and geom.inside(x).all()
    xi = geom.uniform_points(400, boundary=False)
    assert 300 <= len(xi) <= 500 and not geom.on_boundary(xi).any() and geom.inside(xi).all()
    np.testing.assert_array_equal(x, geom.uniform_points(400))


def test_tensors_are_accepted_as_points():
    disk = G.Disk([0.0, 0.0], 1.0)
    t = fg.tensor(np.array([[0.0, 0.0], [2.0, 0.0]]))
    assert disk.inside(t).tolist() == [True, False]


def test_bad_points_atol_counts_and_methods_raise():
    disk = G.Disk([0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match=r"expected points of shape \(n, 2\)"):
        disk.inside(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="atol"):
        disk.on_boundary(np.zeros((1, 2)), atol=-1.0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        disk.sample_interior(0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        disk.sample_boundary(-2)
    with pytest.raises(ValueError, match="expected one of pseudo, uniform, lhs"):
        disk.sample_interior(4, method="random")


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: G.Interval(1.0, 1.0), "expected l < r"),
        (lambda: G.Interval(0.0, math.inf), "finite"),
        (lambda: G.Box([0.0, 0.0], [1.0, 0.0]), "lo < hi"),
        (lambda: G.Box([0.0, 0.0], [1.0, 1.0, 1.0]), "same length"),
        (lambda: G.Rectangle([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), "length 2"),
        (lambda: G.Disk([0.0, 0.0], 0.0), "radius must be positive"),
        (lambda: G.Disk([0.0, 0.0, 0.0], 1.0), "center of length 2"),
        (lambda: G.Hypersphere([0.0], 1.0), "use Interval"),
        (lambda: G.Ellipse([0.0, 0.0], 1.0, 2.0), "semiminor <= semimajor"),
        (lambda: G.Ellipse([0.0, 0.0], 1.0, -1.0), "semiminor must be positive"),
        (lambda: G.Triangle([0, 0], [1, 1], [2, 2]), "zero area"),
        (lambda: G.Polygon([[0, 0], [1, 0]]), "m >= 3"),
        (lambda: G.Polygon([[0, 0], [1, 0], [1, 0], [0, 1]]), "repeated vertex"),
        (lambda: G.Polygon([[0, 0], [3, 2], [3, 0], [0, 1]]), "intersect"),
        (lambda: G.Polygon([[0, 0], [2, 0], [2, 2], [0, 2], [0, 3], [0, 1]]), "edges"),
    ],
)
def test_degenerate_shapes_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def _geometry_modules():
    names = ["fieldgrad.solvers.pinn.geometry"]
    names += [f"{names[0]}.{m.name}" for m in pkgutil.iter_modules(G.__path__)]
    return names


@pytest.mark.parametrize("name", _geometry_modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
