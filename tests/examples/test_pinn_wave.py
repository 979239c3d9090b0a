"""The tutorial example of docs/pinn.md (examples/pinn_wave.py)."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _example():
    path = os.path.join(ROOT, "examples", "pinn_wave.py")
    spec = importlib.util.spec_from_file_location("example_pinn_wave", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_wave_tutorial_trains_at_tiny_size():
    m = _example().main(
        width=12, depth=2, num_domain=128, adam_steps=300, lbfgs_steps=100, verbose=False
    )
    assert m["final_loss"] < 0.2 * m["initial_loss"]
    assert set(m) >= {"rel_l2", "wall_time_s"}


@pytest.mark.slow
def test_wave_tutorial_recipe_reaches_one_percent():
    m = _example().main(verbose=False)
    assert m["rel_l2"] <= 1e-2, m
