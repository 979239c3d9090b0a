"""Metrics on numpy arrays (Python floats) and on tensors (0-d tensors, also under jit)."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.nn import metrics as M

RNG = np.random.default_rng(1)
SCORES = RNG.standard_normal((50, 7))
LABELS = RNG.integers(0, 7, 50)


def test_accuracy_from_scores_labels_and_one_hot():
    want = np.mean(SCORES.argmax(1) == LABELS)
    assert 0.0 < want < 1.0
    assert M.accuracy(SCORES, LABELS) == pytest.approx(want)
    assert M.accuracy(SCORES.argmax(1), LABELS) == pytest.approx(want)
    assert M.accuracy(SCORES, np.eye(7)[LABELS]) == pytest.approx(want)
    assert M.accuracy(SCORES, np.eye(7, dtype=np.int64)[LABELS]) == pytest.approx(want)
    t = M.accuracy(fg.tensor(SCORES), fg.tensor(LABELS))
    assert isinstance(t, fg.Tensor) and t.shape == () and t.dtype == fg.float32
    assert float(t) == pytest.approx(want, abs=1e-7)
    assert float(M.accuracy(fg.tensor(SCORES, dtype="float32"), LABELS)) == pytest.approx(want)
    assert M.accuracy([0, 1, 2, 3], [0, 1, 0, 0]) == 0.5


def test_accuracy_under_jit():
    f = fg.jit(M.accuracy)
    got = f(fg.tensor(SCORES), fg.tensor(LABELS.astype(np.int32)))
    assert float(got) == pytest.approx(np.mean(SCORES.argmax(1) == LABELS), abs=1e-7)


def test_binary_accuracy():
    x = RNG.standard_normal(40)
    y = (RNG.uniform(size=40) > 0.5).astype(np.int64)
    want = np.mean((x > 0.3) == (y == 1))
    assert M.binary_accuracy(x, y, threshold=0.3) == pytest.approx(want)
    assert float(M.binary_accuracy(fg.tensor(x), y, threshold=0.3)) == pytest.approx(want)


def test_regression_errors_numpy_and_tensor():
    p, r = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    rel = np.linalg.norm(p - r) / np.linalg.norm(r)
    assert M.relative_l2_error(p, r) == pytest.approx(rel, rel=1e-12)
    assert isinstance(M.relative_l2_error(p, r), float)
    assert float(M.relative_l2_error(fg.tensor(p), fg.tensor(r))) == pytest.approx(rel, rel=1e-12)
    assert float(M.relative_l2_error(fg.tensor(p), r)) == pytest.approx(rel, rel=1e-12)
    mae = np.abs(p - r).mean()
    assert M.mean_absolute_error(p, r) == pytest.approx(mae, rel=1e-12)
    assert float(M.mean_absolute_error(fg.tensor(p), fg.tensor(r))) == pytest.approx(mae)
    mse = ((p - r) ** 2).mean()
    assert M.mean_squared_error(p.tolist(), r.tolist()) == pytest.approx(mse, rel=1e-12)
    assert float(M.mean_squared_error(fg.tensor(p), r)) == pytest.approx(mse, rel=1e-12)
    assert M.relative_l2_error(r, r) == 0.0


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(4,\).*\(5,\)"):
        M.relative_l2_error(np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match="reference is zero"):
        M.relative_l2_error(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(50,\).*\(49,\)"):
        M.accuracy(SCORES, LABELS[:49])
    with pytest.raises(ValueError, match="rank"):
        M.accuracy(np.zeros((2, 3, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="differ in shape"):
        M.binary_accuracy(np.zeros(3), np.zeros(4))
