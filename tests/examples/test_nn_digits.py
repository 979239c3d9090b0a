"""The digits examples: a short run learns (loss falls, accuracy far above chance); the full
recipes (slow) reach the 97% test accuracy they promise."""

import importlib.util
import pathlib

import pytest

pytest.importorskip("sklearn")

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mlp_data_split_and_standardisation():
    mod = _load("nn_digits_mlp")
    (x_train, y_train), (x_test, y_test) = mod.load_data()
    assert x_train.shape == (1438, 64) and x_test.shape == (359, 64)
    assert x_train.dtype.name == "float32" and y_train.dtype.name == "int32"
    assert abs(float(x_train.mean())) < 1e-5 and sorted(set(y_test.tolist())) == list(range(10))


def test_mlp_short_run_learns():
    m = _load("nn_digits_mlp").main(epochs=2, verbose=False)
    assert m["epochs"] == 2 and m["parameters"] == 64 * 128 + 128 + 128 * 128 + 128 + 1290
    assert m["train_loss_last"] < 0.8 * m["train_loss_first"]
    assert m["test_accuracy"] > 0.6  # chance is 0.1


def test_cnn_short_run_learns():
    m = _load("nn_digits_cnn").main(epochs=2, verbose=False)
    assert m["epochs"] == 2 and m["parameters"] == 160 + 4640 + 1290
    assert m["train_loss_last"] < 0.8 * m["train_loss_first"]
    assert m["test_accuracy"] > 0.6


@pytest.mark.slow
def test_mlp_full_recipe_reaches_97_percent():
    m = _load("nn_digits_mlp").main(verbose=False)
    assert m["epochs"] == 20
    assert m["test_accuracy"] >= 0.97


@pytest.mark.slow
def test_cnn_full_recipe_reaches_97_percent():
    m = _load("nn_digits_cnn").main(verbose=False)
    assert m["epochs"] == 15
    assert m["test_accuracy"] >= 0.97
