"""Space-time domains: ranges, lateral boundary, initial slice, joint quasi-random sampling."""

import numpy as np
import pytest
from scipy.stats import qmc

import fieldgrad.solvers.pinn.geometry as G

T0, T1 = 0.5, 2.0
SPACES = {
    "interval": lambda: G.Interval(-1.0, 1.0),
    "disk": lambda: G.Disk([0.0, 0.0], 1.0),
    "holed": lambda: G.Rectangle([-1.0, -1.0], [1.0, 1.0]) - G.Disk([0.0, 0.0], 0.5),
}


@pytest.fixture(params=sorted(SPACES))
def domain(request):
    space = SPACES[request.param]()
    return space, space * G.TimeDomain(T0, T1)


@pytest.mark.parametrize("method", ["pseudo", "sobol", "hammersley"])
def test_interior_points_cover_space_and_time(domain, method):
    space, dom = domain
    assert isinstance(dom, G.GeometryXTime) and dom.dim == space.dim + 1
    x = dom.sample_interior(256, method, seed=4)
    assert x.shape == (256, dom.dim) and dom.inside(x).all()
    assert space.inside(x[:, :-1]).all()
    t = x[:, -1]
    assert T0 <= t.min() < T0 + 0.1 and T1 - 0.1 < t.max() <= T1
    np.testing.assert_array_equal(x, dom.sample_interior(256, method, seed=4))


def test_boundary_is_the_lateral_surface_with_spatial_normals(domain):
    space, dom = domain
    x = dom.sample_boundary(200, "sobol", seed=1)
    assert x.shape == (200, dom.dim) and dom.on_boundary(x).all()
    assert space.on_boundary(x[:, :-1]).all()
    assert ((x[:, -1] >= T0) & (x[:, -1] <= T1)).all()
    n = dom.boundary_normal(x)
    np.testing.assert_array_equal(n[:, -1], 0.0)
    np.testing.assert_allclose(n[:, :-1], space.boundary_normal(x[:, :-1]))


def test_initial_slice(domain):
    space, dom = domain
    x = dom.sample_initial(100, "halton", seed=2)
    assert x.shape == (100, dom.dim)
    np.testing.assert_array_equal(x[:, -1], T0)
    assert space.inside(x[:, :-1]).all() and dom.on_initial(x).all()
    later = x.copy()
    later[:, -1] = T0 + 0.1
    assert not dom.on_initial(later).any()


def test_points_outside_the_time_range_are_outside():
    dom = G.Interval(-1.0, 1.0) * G.TimeDomain(T0, T1)
    pts = [[0.0, T0 - 0.1], [0.0, T1 + 0.1], [1.0, T1 + 0.1], [1.0, 1.0], [0.0, 1.0]]
    assert dom.inside(pts).tolist() == [False, False, False, True, True]
    assert dom.on_boundary(pts).tolist() == [False, False, False, True, False]
    np.testing.assert_array_equal(dom.boundary_normal(pts)[2], 0.0)
    np.testing.assert_array_equal(dom.boundary_normal(pts)[3], [1.0, 0.0])


def test_volume_measure_and_uniform_points():
    dom = G.Disk([0.0, 0.0], 1.0) * G.TimeDomain(T0, T1)
    assert dom.volume == pytest.approx(np.pi * 1.5)
    assert dom.boundary_measure == pytest.approx(2 * np.pi * 1.5)
    x = dom.uniform_points(1000)
    assert 700 <= len(x) <= 1300 and dom.inside(x).all()
    assert x[:, -1].min() == T0 and x[:, -1].max() == T1
    xi = dom.uniform_points(1000, boundary=False)
    assert T0 < xi[:, -1].min() and xi[:, -1].max() < T1


def test_space_and_time_are_drawn_jointly_from_one_low_discrepancy_set():
    dom = G.Rectangle([0.0, 0.0], [2.0, 1.0]) * G.TimeDomain(0.0, 4.0)
    scale = np.array([2.0, 1.0, 4.0])
    sobol = qmc.discrepancy(dom.sample_interior(256, "sobol") / scale)
    pseudo = qmc.discrepancy(dom.sample_interior(256, "pseudo") / scale)
    assert sobol < 0.5 * pseudo


def test_bad_time_domains():
    with pytest.raises(ValueError, match="expected l < r"):
        G.TimeDomain(1.0, 0.0)
    with pytest.raises(TypeError, match="expected a TimeDomain"):
        G.GeometryXTime(G.Disk([0.0, 0.0], 1.0), G.Interval(0.0, 1.0))
    with pytest.raises(TypeError):
        G.Disk([0.0, 0.0], 1.0) * 2.0
    dom = G.Interval(0.0, 1.0) * G.TimeDomain(0.0, 1.0)
    with pytest.raises(TypeError, match="expected a spatial Geometry"):
        dom * G.TimeDomain(0.0, 1.0)
    with pytest.raises(ValueError, match=r"expected points of shape \(n, 2\)"):
        dom.on_initial(np.zeros((3, 1)))
