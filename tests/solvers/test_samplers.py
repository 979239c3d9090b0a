"""Unit-cube samplers: shapes, ranges, determinism, structure of each method, discrepancy."""

import numpy as np
import pytest
from scipy.stats import qmc

from fieldgrad.solvers.pinn.geometry import SAMPLERS, sample

METHODS = ["pseudo", "lhs", "halton", "sobol", "hammersley"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n, d", [(1, 1), (37, 2), (100, 3), (64, 5)])
def test_shape_range_and_determinism(method, n, d):
    u = sample(n, d, method, seed=3)
    assert u.shape == (n, d) and u.dtype == np.float64
    assert ((u >= 0) & (u < 1)).all()
    np.testing.assert_array_equal(u, sample(n, d, method, seed=3))


@pytest.mark.parametrize("method", METHODS)
def test_seeds_give_different_points_and_the_mean_is_one_half(method):
    a, b = sample(1024, 2, method, seed=0), sample(1024, 2, method, seed=1)
    assert not np.array_equal(a, b)
    np.testing.assert_allclose(a.mean(axis=0), 0.5, atol=0.03)
    np.testing.assert_allclose(a.var(axis=0), 1.0 / 12.0, atol=0.01)


def test_uniform_is_pseudo_and_names_are_case_insensitive():
    assert "uniform" in SAMPLERS
    np.testing.assert_array_equal(sample(9, 2, "uniform", 4), sample(9, 2, "pseudo", 4))
    np.testing.assert_array_equal(sample(9, 2, "Sobol", 4), sample(9, 2, "sobol", 4))
    np.testing.assert_array_equal(sample(9, 2, "LHS", 4), sample(9, 2, "lhs", 4))


def test_pseudo_matches_numpy_generator():
    np.testing.assert_array_equal(
        sample(5, 3, "pseudo", 11), np.random.default_rng(11).random((5, 3))
    )


def test_sobol_for_any_n_is_a_prefix_of_the_power_of_two_set():
    full = sample(128, 2, "sobol", seed=2)
    np.testing.assert_array_equal(sample(100, 2, "sobol", seed=2), full[:100])
    # 128 points: every one of the 128 strips of each coordinate holds exactly one point.
    for j in range(2):
        assert sorted(np.floor(full[:, j] * 128).astype(int)) == list(range(128))


def test_lhs_strata_hold_one_point_each():
    u = sample(50, 3, "lhs", seed=5)
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))


def test_hammersley_first_coordinate_is_centred_grid():
    u = sample(8, 3, "hammersley", seed=0)
    np.testing.assert_allclose(u[:, 0], (np.arange(8) + 0.5) / 8)
    np.testing.assert_allclose(sample(4, 1, "hammersley")[:, 0], [0.125, 0.375, 0.625, 0.875])


def test_quasi_random_sets_have_lower_discrepancy_than_pseudo():
    pseudo = np.mean([qmc.discrepancy(sample(256, 2, "pseudo", s)) for s in range(3)])
    for method in ("sobol", "halton", "hammersley"):
        low = max(qmc.discrepancy(sample(256, 2, method, s)) for s in range(3))
        assert low < 0.5 * pseudo, (method, low, pseudo)


@pytest.mark.parametrize("n", [0, -3])
def test_non_positive_n_is_rejected(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        sample(n, 2)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="n must be a positive integer"):
        sample(2.5, 2)
    with pytest.raises(TypeError, match="n must be a positive integer"):
        sample(True, 2)
    with pytest.raises(ValueError, match="d must be a positive integer"):
        sample(4, 0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        sample(4, 2, seed=-1)
    with pytest.raises(TypeError, match="seed must be a non-negative integer"):
        sample(4, 2, seed="a")


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown sampling method 'grid'") as err:
        sample(4, 2, "grid")
    for name in SAMPLERS:
        assert name in str(err.value)
