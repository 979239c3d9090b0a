"""CSG: set logic, visible boundaries, normals, areas, and the bounded rejection."""

import math

import numpy as np
import pytest

import fieldgrad.solvers.pinn.geometry as G

R = 0.3
CENTERS = ([-0.5, 0.0], [0.5, 0.0])


def _square_minus_two_disks():
    square = G.Rectangle([-1.0, -1.0], [1.0, 1.0])
    return square - G.Disk(CENTERS[0], R) - G.Disk(CENTERS[1], R)


def _lens_area(r, d):
    return 2 * r * r * math.acos(d / (2 * r)) - 0.5 * d * math.sqrt(4 * r * r - d * d)


def test_square_minus_two_disks_area_and_interior():
    dom = _square_minus_two_disks()
    area = 4.0 - 2 * math.pi * R * R
    assert dom.estimate_volume(2**16) == pytest.approx(area, rel=5e-3)
    x = dom.sample_interior(500, "sobol", seed=1)
    assert x.shape == (500, 2) and dom.inside(x).all()
    for c in CENTERS:
        assert (np.linalg.norm(x - c, axis=1) >= R - 1e-12).all()
    assert np.abs(x).max() <= 1.0
    np.testing.assert_array_equal(x, dom.sample_interior(500, "sobol", seed=1))


@pytest.mark.parametrize("method", ["pseudo", "sobol", "halton", "hammersley", "lhs"])
def test_square_minus_two_disks_boundary_lies_on_exactly_one_part(method):
    dom = _square_minus_two_disks()
    x = dom.sample_boundary(2000, method, seed=3)
    assert x.shape == (2000, 2) and dom.on_boundary(x).all()
    on_square = np.isclose(np.abs(x).max(axis=1), 1.0)
    on_disk = [np.isclose(np.linalg.norm(x - c, axis=1), R) for c in CENTERS]
    np.testing.assert_array_equal(on_square.astype(int) + on_disk[0] + on_disk[1], 1)
    perimeter = 8.0 + 4 * math.pi * R
    assert on_square.mean() == pytest.approx(8.0 / perimeter, abs=0.03)
    # normals: the square's faces outward, the holes' normals point into the holes
    n = dom.boundary_normal(x)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0)
    for c, on in zip(CENTERS, on_disk):
        np.testing.assert_allclose(n[on], (c - x[on]) / R, atol=1e-9)
    eps = 1e-4
    assert not dom.inside(x + eps * n).any()
    assert dom.inside(x - eps * n).all()


def test_union_of_two_disks():
    a, b = G.Disk([0.0, 0.0], 1.0), G.Disk([1.0, 0.0], 1.0)
    u = a | b
    assert isinstance(u, G.Union)
    np.testing.assert_allclose(np.stack(u.bbox), [[-1, -1], [2, 1]])
    assert u.estimate_volume(2**16) == pytest.approx(2 * math.pi - _lens_area(1, 1), rel=5e-3)
    x = u.sample_boundary(1000, "sobol")
    assert u.on_boundary(x).all()
    # visible arcs: points of one circle outside the other disk
    assert (a.signed_distance(x) >= -1e-9).all() and (b.signed_distance(x) >= -1e-9).all()
    n = u.boundary_normal(x)
    right = np.isclose(np.linalg.norm(x - [1.0, 0.0], axis=1), 1.0)
    np.testing.assert_allclose(n[right], x[right] - [1.0, 0.0], atol=1e-9)
    # the points where the circles cross are on the boundary; the overlap is not
    cross = [[0.5, math.sqrt(0.75)]]
    assert u.on_boundary(cross).all() and not u.on_boundary([[0.5, 0.0]]).any()
    np.testing.assert_allclose(u.boundary_normal(cross), [[0.0, 1.0]], atol=1e-12)


def test_intersection_is_a_lens():
    lens = G.Disk([0.0, 0.0], 1.0) & G.Disk([1.0, 0.0], 1.0)
    assert lens.estimate_volume(2**16) == pytest.approx(_lens_area(1, 1), rel=5e-3)
    x = lens.sample_interior(300, "halton")
    assert lens.inside(x).all() and (np.linalg.norm(x, axis=1) <= 1 + 1e-12).all()
    xb = lens.sample_boundary(300, "halton")
    assert lens.on_boundary(xb).all()
    assert ((xb[:, 0] >= -1e-9) & (xb[:, 0] <= 1 + 1e-9)).all()
    n = lens.boundary_normal(xb)
    left_arc = xb[:, 0] < 0.5 - 1e-6  # on the circle around (1, 0)
    np.testing.assert_allclose(n[left_arc], xb[left_arc] - [1.0, 0.0], atol=1e-9)


def test_nested_csg_and_signed_distance_sign():
    dom = (G.Rectangle([0.0, 0.0], [2.0, 1.0]) | G.Disk([2.0, 0.5], 0.5)) - G.Triangle(
        [0.2, 0.2], [0.8, 0.2], [0.5, 0.8]
    )
    x = dom.sample_boundary(400, "sobol")
    assert dom.on_boundary(x).all() and np.abs(dom.signed_distance(x)).max() < 1e-9
    q = dom.sample_interior(400, "pseudo")
    assert (dom.signed_distance(q) <= dom.atol).all()
    area = 2.0 + math.pi * 0.25 / 2 - 0.5 * 0.6 * 0.6
    assert dom.estimate_volume(2**16) == pytest.approx(area, rel=5e-3)


def test_uniform_points_of_a_csg_avoid_the_holes():
    dom = _square_minus_two_disks()
    x = dom.uniform_points(900, boundary=False)
    assert 700 <= len(x) <= 1100 and dom.inside(x).all() and not dom.on_boundary(x).any()


def test_empty_sets_raise_clear_errors():
    empty = G.Disk([0.0, 0.0], 1.0) - G.Disk([0.0, 0.0], 2.0)
    with pytest.raises(RuntimeError, match="could only draw 0 of 10 interior points"):
        empty.sample_interior(10)
    with pytest.raises(RuntimeError, match="boundary"):
        empty.sample_boundary(10)
    with pytest.raises(ValueError, match="bounding boxes do not overlap"):
        G.Disk([0.0, 0.0], 1.0) & G.Disk([5.0, 0.0], 1.0)


def test_bad_operands():
    with pytest.raises(ValueError, match="different dimensions"):
        G.Disk([0.0, 0.0], 1.0) | G.Sphere([0.0, 0.0, 0.0], 1.0)
    with pytest.raises(TypeError):
        G.Disk([0.0, 0.0], 1.0) | 3
    with pytest.raises(TypeError, match="expected two Geometry"):
        G.Union(G.Disk([0.0, 0.0], 1.0), "disk")
    st = G.Interval(0.0, 1.0) * G.TimeDomain(0.0, 1.0)
    with pytest.raises(TypeError, match="combine the spatial geometries first"):
        st | st
