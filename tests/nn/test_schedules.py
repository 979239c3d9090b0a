"""Learning-rate schedules: values against closed forms, int32 tensor counts under jit
(one trace), whole curves from an arange of counts, and bad arguments."""

import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad.nn.optim import schedules as S

STEPS = [0, 1, 2, 5, 9, 10, 11, 49, 50, 99, 100, 101, 250]


def _cos(frac):
    return 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))


CASES = [
    ("constant", S.constant(0.3), lambda k: 0.3),
    ("step", S.step(0.5, 10, 0.1), lambda k: 0.5 * 0.1 ** (k // 10)),
    ("exponential", S.exponential(2.0, 0.5, 20), lambda k: 2.0 * 0.5 ** (k / 20)),
    (
        "exponential-staircase",
        S.exponential(2.0, 0.5, 20, staircase=True),
        lambda k: 2.0 * 0.5 ** (k // 20),
    ),
    ("cosine", S.cosine(1.0, 100), lambda k: _cos(k / 100)),
    ("cosine-alpha", S.cosine(0.4, 50, alpha=0.1), lambda k: 0.4 * (0.9 * _cos(k / 50) + 0.1)),
    ("warmup-const", S.warmup(0.2, 10), lambda k: 0.2 * k / 10 if k < 10 else 0.2),
    (
        "warmup-step",
        S.warmup(S.step(1.0, 5, 0.5), 10, init=0.1),
        lambda k: 0.1 + 0.9 * k / 10 if k < 10 else 0.5 ** ((k - 10) // 5),
    ),
    (
        "warmup_cosine",
        S.warmup_cosine(1.0, 10, 110, end=0.1),
        lambda k: k / 10 if k < 10 else 0.1 + 0.9 * _cos((k - 10) / 100),
    ),
    (
        "piecewise",
        S.piecewise_constant([10, 50, 100], [1.0, 0.5, 0.25, 0.125]),
        lambda k: 1.0 if k < 10 else 0.5 if k < 50 else 0.25 if k < 100 else 0.125,
    ),
]


@pytest.mark.parametrize("name,sched,closed", CASES, ids=[c[0] for c in CASES])
def test_values_match_closed_form(name, sched, closed):
    for k in STEPS:
        got = sched(k)
        assert got.dtype == fg.float64 and got.shape == ()
        assert float(got.numpy()) == pytest.approx(closed(k), rel=1e-12, abs=1e-15), (name, k)


@pytest.mark.parametrize("name,sched,closed", CASES, ids=[c[0] for c in CASES])
def test_vectorised_count_gives_whole_curve(name, sched, closed):
    counts = fg.arange(0, 260, dtype=fg.int32)
    curve = sched(counts)
    assert curve.shape == (260,)
    np.testing.assert_allclose(
        curve.numpy(), [closed(k) for k in range(260)], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name,sched,closed", CASES, ids=[c[0] for c in CASES])
def test_int32_tensor_count_under_jit_traces_once(name, sched, closed):
    f = fg.jit(lambda c: (c + 1, sched(c)))
    c = fg.zeros((), dtype=fg.int32)
    for k in range(12):
        c, lr = f(c)
        assert float(lr.numpy()) == pytest.approx(closed(k), rel=1e-12, abs=1e-15)
    assert f.cache_info()["misses"] == 1


def test_warmup_zero_steps_is_the_schedule():
    s = S.cosine(1.0, 10)
    assert S.warmup(s, 0) is s


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda: S.step(1.0, 0, 0.5), ValueError, "step_size"),
        (lambda: S.exponential(1.0, 0.0, 10), ValueError, "decay_rate"),
        (lambda: S.cosine(1.0, -5), ValueError, "decay_steps"),
        (lambda: S.warmup_cosine(1.0, 10, 10), ValueError, "exceed"),
        (lambda: S.piecewise_constant([5, 3], [1.0, 2.0, 3.0]), ValueError, "increase"),
        (lambda: S.piecewise_constant([5], [1.0]), ValueError, "len"),
        (lambda: S.constant(float("nan")), ValueError, "finite"),
        (lambda: S.constant(1.0)(-1), ValueError, ">= 0"),
        (lambda: S.constant(1.0)(1.5), TypeError, "count"),
    ],
)
def test_bad_arguments_raise(make, err, match):
    with pytest.raises(err, match=match):
        make()
