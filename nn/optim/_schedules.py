"""Learning-rate schedules: callables ``schedule(count) -> lr`` built from fieldgrad ops.

``count`` is the number of steps already taken (0 on the first step): the optimisers pass their
int32 0-d step count, a tracer inside ``fg.jit``, so a jitted step with a schedule still traces
once. A Python int or an integer tensor of any shape works too (``schedule(fg.arange(100))``
gives a whole curve for plotting). The result is a float64 tensor of ``count``'s shape.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence, Union

import numpy as np

from fieldgrad.fields import Tensor, cos, float64, floor, maximum, minimum, power, tensor, where

from ._leaves import is_array

__all__ = [
    "Schedule",
    "constant",
    "step",
    "exponential",
    "cosine",
    "warmup",
    "warmup_cosine",
    "piecewise_constant",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Schedule:
    """A learning-rate schedule: call it with a step count to get the learning rate.

    Args:
        fn: maps the count as a float64 tensor to the learning rate.
        name: a description shown by ``repr``.

    Example:
        >>> from fieldgrad import nn
        >>> s = nn.optim.schedules.step(1.0, step_size=10, gamma=0.5)
        >>> [float(s(k).numpy()) for k in (0, 9, 10, 25)]
        [1.0, 1.0, 0.5, 0.25]
    """

    fn: Callable[[Tensor], Tensor]
    name: str = "schedule"

    def __call__(self, count) -> Tensor:
        return self.fn(_as_count(count))

    def __repr__(self) -> str:
        return self.name


def _as_count(count):
    """``count`` as a float64 tensor (Python ints and integer tensors are accepted)."""
    if is_array(count):
        return count if count.dtype == float64 else count.astype(float64)
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer, np.ndarray)):
        raise TypeError(
            f"schedule: count must be an int or an integer tensor, got {type(count).__name__}"
        )
    a = np.asarray(count)
    if a.dtype.kind not in "iu":
        raise TypeError(f"schedule: count must hold integers, got dtype {a.dtype}")
    if (a < 0).any():
        raise ValueError(f"schedule: count must be >= 0, got {count!r}")
    return tensor(a.astype(np.float64))


def _number(v, name: str, who: str, positive=False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{who}: {name} must be a finite number, got {v!r}")
    if positive and v <= 0:
        raise ValueError(f"{who}: {name} must be > 0, got {v!r}")
    return float(v)


def _steps(v, name: str, who: str, allow_zero=False) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (0 if allow_zero else 1):
        lo = 0 if allow_zero else 1
        raise ValueError(f"{who}: {name} must be an int >= {lo}, got {v!r}")
    return int(v)


def constant(value: float) -> Schedule:
    """The same learning rate at every step.

    Example:
        >>> from fieldgrad import nn
        >>> float(nn.optim.schedules.constant(0.1)(100).numpy())
        0.1
    """
    v = _number(value, "value", "constant")
    return Schedule(lambda t: 0.0 * t + v, f"constant({v})")


def step(init: float, step_size: int, gamma: float) -> Schedule:
    """``init * gamma ** floor(count / step_size)``, as ``torch.optim.lr_scheduler.StepLR``.

    Example:
        >>> from fieldgrad import nn
        >>> float(nn.optim.schedules.step(1.0, 2, 0.1)(5).numpy())   # 1 * 0.1^2
        0.010000000000000002
    """
    init = _number(init, "init", "step")
    n = _steps(step_size, "step_size", "step")
    gamma = _number(gamma, "gamma", "step")
    return Schedule(lambda t: init * power(gamma, floor(t / n)), f"step({init}, {n}, {gamma})")


def exponential(
    init: float, decay_rate: float, transition_steps: int, staircase: bool = False
) -> Schedule:
    """``init * decay_rate ** (count / transition_steps)`` (the exponent floored if staircase).

    Example:
        >>> from fieldgrad import nn
        >>> float(nn.optim.schedules.exponential(2.0, 0.5, 10)(20).numpy())
        0.5
    """
    who = "exponential"
    init = _number(init, "init", who)
    rate = _number(decay_rate, "decay_rate", who, positive=True)
    n = _steps(transition_steps, "transition_steps", who)

    def fn(t):
        e = t / n
        return init * power(rate, floor(e) if staircase else e)

    return Schedule(fn, f"exponential({init}, {rate}, {n}, staircase={staircase})")


def _cosine_fraction(t, n: int):
    """``0.5 * (1 + cos(pi * min(t, n) / n))``: 1 at t = 0, 0 from t = n on."""
    return 0.5 * (1.0 + cos(math.pi * minimum(t, float(n)) / n))


def cosine(init: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """Cosine decay from ``init`` to ``alpha * init`` over ``decay_steps``, then constant.

    ``init * ((1 - alpha) * 0.5 * (1 + cos(pi * min(count, decay_steps) / decay_steps)) +
    alpha)``, as ``optax.cosine_decay_schedule``.

    Example:
        >>> from fieldgrad import nn
        >>> s = nn.optim.schedules.cosine(1.0, 100)
        >>> [round(float(s(k).numpy()), 6) for k in (0, 50, 100, 200)]
        [1.0, 0.5, 0.0, 0.0]
    """
    init = _number(init, "init", "cosine")
    n = _steps(decay_steps, "decay_steps", "cosine")
    alpha = _number(alpha, "alpha", "cosine")
    return Schedule(
        lambda t: init * ((1.0 - alpha) * _cosine_fraction(t, n) + alpha),
        f"cosine({init}, {n}, alpha={alpha})",
    )


def warmup(
    schedule: Union[Schedule, Callable, float], warmup_steps: int, init: float = 0.0
) -> Schedule:
    """Linear warmup from ``init`` to the schedule's first value, then the schedule, shifted.

    For ``count < warmup_steps`` the rate is ``init + (s(0) - init) * count / warmup_steps``;
    afterwards it is ``s(count - warmup_steps)``, so the wrapped schedule starts when the warmup
    ends.

    Args:
        schedule: a schedule or a constant learning rate.
        warmup_steps: length of the warmup (0: no warmup).
        init: learning rate at count 0.

    Example:
        >>> from fieldgrad import nn
        >>> s = nn.optim.schedules.warmup(0.1, warmup_steps=4)
        >>> [round(float(s(k).numpy()), 6) for k in (0, 2, 4, 10)]
        [0.0, 0.05, 0.1, 0.1]
    """
    who = "warmup"
    target = schedule if callable(schedule) else constant(_number(schedule, "schedule", who))
    w = _steps(warmup_steps, "warmup_steps", who, allow_zero=True)
    init = _number(init, "init", who)
    if w == 0:
        return target if isinstance(target, Schedule) else Schedule(target, repr(target))

    def fn(t):
        peak = target(0.0 * t)
        ramp = init + (peak - init) * (t / w)
        return where(t < w, ramp, target(maximum(t - w, 0.0)))

    return Schedule(fn, f"warmup({target!r}, {w}, init={init})")


def warmup_cosine(peak: float, warmup_steps: int, decay_steps: int, end: float = 0.0) -> Schedule:
    """Linear warmup from 0 to ``peak``, then cosine decay to ``end``, as optax's
    ``warmup_cosine_decay_schedule``.

    ``decay_steps`` counts the whole schedule, warmup included: the cosine runs from
    ``warmup_steps`` to ``decay_steps`` and the rate stays at ``end`` afterwards.

    Example:
        >>> from fieldgrad import nn
        >>> s = nn.optim.schedules.warmup_cosine(1.0, warmup_steps=10, decay_steps=110)
        >>> [round(float(s(k).numpy()), 6) for k in (0, 5, 10, 60, 110, 500)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    who = "warmup_cosine"
    peak = _number(peak, "peak", who)
    w = _steps(warmup_steps, "warmup_steps", who, allow_zero=True)
    n = _steps(decay_steps, "decay_steps", who)
    end = _number(end, "end", who)
    if n <= w:
        raise ValueError(f"{who}: decay_steps ({n}) must exceed warmup_steps ({w})")

    def fn(t):
        decay = end + (peak - end) * _cosine_fraction(maximum(t - w, 0.0), n - w)
        if w == 0:
            return decay
        return where(t < w, peak * (t / w), decay)

    return Schedule(fn, f"warmup_cosine({peak}, {w}, {n}, end={end})")


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    """``values[i]`` for ``boundaries[i-1] <= count < boundaries[i]``.

    Args:
        boundaries: strictly increasing step counts (ints >= 1).
        values: one more value than boundaries.

    Raises:
        ValueError: the lengths do not fit or the boundaries do not increase.

    Example:
        >>> from fieldgrad import nn
        >>> s = nn.optim.schedules.piecewise_constant([10, 20], [1.0, 0.1, 0.01])
        >>> [float(s(k).numpy()) for k in (0, 9, 10, 19, 20, 99)]
        [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """
    who = "piecewise_constant"
    bs = [_steps(b, "each boundary", who) for b in boundaries]
    vs = [_number(v, "each value", who) for v in values]
    if len(vs) != len(bs) + 1:
        raise ValueError(
            f"{who}: need len(values) == len(boundaries) + 1, got {len(vs)} values and "
            f"{len(bs)} boundaries"
        )
    if any(b1 >= b2 for b1, b2 in zip(bs, bs[1:])):
        raise ValueError(f"{who}: boundaries must increase strictly, got {bs}")

    def fn(t):
        out = 0.0 * t + vs[-1]
        for b, v in zip(reversed(bs), reversed(vs[:-1])):
            out = where(t < b, v, out)
        return out

    return Schedule(fn, f"piecewise_constant({bs}, {vs})")
