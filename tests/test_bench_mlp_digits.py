"""bench/mlp_digits.py: the recipe's definitions, the numpy reference against fieldgrad's
Trainer step, and one tiny run of the script whose last line is the JSON summary."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "mlp_digits.py"


@pytest.fixture(scope="module")
def bench():
    if str(_PATH.parent) not in sys.path:
        sys.path.insert(0, str(_PATH.parent))  # the script imports its sibling _harness
    spec = importlib.util.spec_from_file_location("bench_mlp_digits", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_recipe_definitions(bench):
    data = bench.make_data(n=200)
    assert data["x"].shape == (160, 64) and data["x_test"].shape == (40, 64)
    assert data["x"].dtype == np.float32 and data["y"].dtype == np.int64
    np.testing.assert_allclose(data["x"].mean(0), 0.0, atol=1e-5)
    params = bench.init_params()
    assert [w.shape for w, _ in params] == [(64, 128), (128, 128), (128, 10)]
    assert all(np.abs(w).max() <= 1 / np.sqrt(w.shape[0]) for w, _ in params)
    idx = bench.batches(160, 3, 0)
    assert [len(i) for i in idx] == [64, 64, 32]
    np.testing.assert_array_equal(
        np.concatenate(idx), np.random.default_rng([0, 3]).permutation(160)
    )


def test_fieldgrad_trains_like_the_numpy_reference(bench):
    data = bench.make_data(n=300, seed=1)
    params = bench.init_params(1)
    fg_impl = bench.FieldgradMLP(data, params, 1)
    np_impl = bench.NumpyMLP(data, params, 1)
    assert fg_impl.loss() == pytest.approx(np_impl.loss(), rel=1e-5)
    for _ in range(2):
        fg_impl.epoch()
        np_impl.epoch()
    assert fg_impl.trainer.global_step == np_impl.t == 8
    assert fg_impl.loss() == pytest.approx(np_impl.loss(), rel=1e-4)
    got = [fg_impl.trainer.model.layers[k].weight.numpy() for k in range(3)]
    for g, (w, _) in zip(got, np_impl.params):
        np.testing.assert_allclose(g, w, atol=2e-5)


def test_tiny_run_prints_the_json_summary():
    cmd = [sys.executable, str(_PATH), "--setting", "pinned", "--n", "200", "--peers", "numpy"]
    cmd += ["--reps", "2", "--block", "0.02", "--agree-epochs", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "mlp_digits" and summary["void"] is False
    res = summary["settings"]["pinned"]
    assert res["impls"] == ["fieldgrad", "numpy"] and res["steps_per_epoch"] == 3
    assert res["environment"]["threads"] == 1 and len(res["environment"]["affinity"]) == 1
    for name in ("fieldgrad", "numpy"):
        st = res["ms_per_epoch"][name]
        assert 0 < st["min"] <= st["median"] <= st["max"]
    assert res["ratio_fg_over"]["numpy"] > 0
    assert res["agreement"]["agree"] and res["agreement"]["loss_decreased"]
    assert "same work" in proc.stdout and "(ok)" in proc.stdout
