"""bench/pinn_burgers.py at a tiny size: it runs the example's recipe, hands PyTorch the same
network, weights and points, and prints one JSON object last."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import fieldgrad as fg

_PATH = Path(__file__).resolve().parents[1] / "bench" / "pinn_burgers.py"


@pytest.fixture(scope="module")
def bench():
    if str(_PATH.parent) not in sys.path:
        sys.path.insert(0, str(_PATH.parent))  # the script imports its sibling _harness
    spec = importlib.util.spec_from_file_location("bench_pinn_burgers", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_recipe_is_the_examples(bench):
    ex = bench.example()
    full = bench.recipe()
    assert full["width"] == 20 and full["depth"] == 8 and full["dtype"] == "float64"
    assert full["odd"] is False
    assert {"num_domain", "adam_steps", "lbfgs_steps", "lr", "history_size", "seed"} <= set(full)
    quick = bench.recipe(quick=True, seed=3)
    assert all(quick[k] == v for k, v in ex.QUICK.items()) and quick["seed"] == 3


@pytest.mark.parametrize("odd", [False, True])
def test_torch_gets_the_same_network_and_points(bench, odd):
    settings = bench.recipe(quick=True, odd=odd)
    state = bench.initial_state(settings)
    problem, net = bench.example().build(
        width=settings["width"],
        depth=settings["depth"],
        num_domain=settings["num_domain"],
        sampler=settings["sampler"],
        seed=settings["seed"],
        dtype="float64",
        odd=odd,
    )
    assert state["x"].shape == (settings["num_domain"], 2)
    np.testing.assert_array_equal(state["x"], problem.data["pde"]["x"])
    assert [w.shape for w, _ in state["params"]] == [(2, 16), (16, 16), (16, 1)]
    x = np.array([[-1.0, 0.5], [0.3, 0.0], [0.2, 0.7], [-0.6, 0.99]])
    want = problem.solution(net)(fg.tensor(x)).numpy()[:, 0]
    got = bench.numpy_u(state["params"], x, odd=odd)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert got[0] == pytest.approx(0.0, abs=1e-14)  # boundary
    mirrored = bench.numpy_u(state["params"], x * [-1.0, 1.0], odd=odd)
    assert np.allclose(mirrored, -want, rtol=1e-12, atol=1e-14) == odd  # odd in x iff odd


def test_quick_run_prints_json_last(bench, capsys):
    res = bench.main(["--quick", "--no-torch"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1])["benchmark"] == "pinn_burgers"
    f = res["fieldgrad"]
    assert f["adam_steps"] == 100 and 0 < f["lbfgs_steps"] <= 150
    assert f["final_loss"] < 0.2 * f["initial_loss"]
    assert f["adam_steps_per_s"] > 0 and f["lbfgs_steps_per_s"] > 0
    assert res["torch"] is None and res["torch_note"] == "--no-torch" and res["ratios"] is None


def test_torch_recipe_starts_from_the_same_loss(bench):
    pytest.importorskip("torch")
    for odd in (False, True):
        settings = bench.recipe(quick=True, adam_steps=5, lbfgs_steps=5, odd=odd)
        fgr = bench.run_fieldgrad(settings)
        tr = bench.run_torch(settings, bench.initial_state(settings), threads=1)
        assert tr["initial_loss"] == pytest.approx(fgr["initial_loss"], rel=1e-10)
        assert tr["final_loss"] < tr["initial_loss"]
