"""The quickstart example at a small size: the metrics it returns meet their targets."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quickstart_metrics():
    m = _load("quickstart").main(n=16, steps=20, verbose=False)
    assert m["heat_rel_error"] < 1e-10  # matches the exact discrete solution
    assert 0.0 < m["heat_decay"] < 1.0  # the mode decays
    assert m["mean_abs_drift"] < 1e-12
    assert m["lsq_coef_error"] < 5e-3  # noise 0.01 over 2000 samples
