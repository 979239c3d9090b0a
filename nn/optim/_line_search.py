"""Strong-Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6) on float64 numpy values.

Along a descent direction ``d`` from ``x`` the search looks for a step ``t`` with

    f(x + t d) <= f(x) + c1 t g.d             (sufficient decrease)
    |g(x + t d).d| <= c2 |g.d|                 (strong curvature condition)

It brackets such a step by extrapolation, then narrows the bracket by cubic interpolation
(``zoom``). Every trial point costs one evaluation and the number of evaluations and zoom
iterations is capped, so the search always ends. A trial point whose loss or gradient is not
finite counts as "too far": the step is shortened (bisection within the bracket), never used.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

__all__ = ["LineSearchResult", "strong_wolfe", "cubic_minimizer"]

C1 = 1e-4
C2 = 0.9
MAX_EVALS = 25
MAX_ZOOM = 20


@dataclasses.dataclass
class _Point:
    t: float
    f: float
    gtd: float
    g: Any = None
    payload: Any = None

    @property
    def finite(self) -> bool:
        return math.isfinite(self.f) and math.isfinite(self.gtd)


@dataclasses.dataclass
class LineSearchResult:
    """The outcome of a line search.

    Attributes:
        step: the accepted step ``t`` (0.0 when nothing was accepted).
        loss: the loss at the accepted point.
        grad: the gradient there (None when nothing was accepted).
        evaluations: evaluations spent.
        status: ``"wolfe"`` (both conditions hold), ``"decrease"`` (a strictly lower loss
            with sufficient decrease, the curvature condition unmet when the budget ran out)
            or ``"failed"`` (no acceptable point).
        payload: what the evaluation returned with the accepted point.
    """

    step: float
    loss: float
    grad: Any
    evaluations: int
    status: str
    payload: Any = None


def cubic_minimizer(t1, f1, g1, t2, f2, g2, lo: float, hi: float) -> float:
    """The minimiser in ``[lo, hi]`` of the cubic through two points with slopes (N&W 3.59).

    Falls back to the midpoint of ``[lo, hi]`` when the cubic has no minimiser or any value
    is not finite.

    Example:
        >>> from fieldgrad.nn.optim._line_search import cubic_minimizer
        >>> # f(t) = (t - 1)^2: f(0) = 1, f'(0) = -2, f(3) = 4, f'(3) = 4
        >>> round(cubic_minimizer(0.0, 1.0, -2.0, 3.0, 4.0, 4.0, 0.0, 3.0), 12)
        1.0
    """
    mid = 0.5 * (lo + hi)
    vals = (t1, f1, g1, t2, f2, g2)
    if not all(math.isfinite(v) for v in vals) or t1 == t2:
        return mid
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (t1 - t2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return mid
    d2 = math.sqrt(disc)
    if t1 <= t2:
        den = g2 - g1 + 2.0 * d2
        t = t2 - (t2 - t1) * (g2 + d2 - d1) / den if den != 0 else mid
    else:
        den = g1 - g2 + 2.0 * d2
        t = t1 - (t1 - t2) * (g1 + d2 - d1) / den if den != 0 else mid
    if not math.isfinite(t):
        return mid
    return min(max(t, lo), hi)


def strong_wolfe(
    phi: Callable[[float], tuple],
    loss0: float,
    gtd0: float,
    step: float,
    *,
    d_scale: float,
    tolerance_change: float = 1e-9,
    max_evals: int = MAX_EVALS,
    max_zoom: int = MAX_ZOOM,
    c1: float = C1,
    c2: float = C2,
) -> LineSearchResult:
    """Search for a step satisfying the strong Wolfe conditions.

    Args:
        phi: ``phi(t) -> (loss, grad, grad.d, payload)`` at ``x + t d`` (float64 values).
        loss0: the loss at ``t = 0``.
        gtd0: the directional derivative ``g.d`` at ``t = 0`` (negative).
        step: the first trial step (> 0).
        d_scale: ``max |d|``, to turn step intervals into parameter changes.
        tolerance_change: stop narrowing once the bracket moves parameters by less.
        max_evals: the most evaluations to spend (>= 0).
        max_zoom: the most zoom iterations.
        c1, c2: the Wolfe constants, ``0 < c1 < c2 < 1``.

    Returns:
        A :class:`LineSearchResult`.

    Raises:
        ValueError: ``gtd0`` is not negative or ``step`` not positive.
    """
    if not gtd0 < 0:
        raise ValueError(f"strong_wolfe: d must be a descent direction (g.d < 0), got {gtd0}")
    if not step > 0:
        raise ValueError(f"strong_wolfe: the first step must be > 0, got {step}")
    evals = 0
    start = _Point(0.0, loss0, gtd0)

    def evaluate(t: float) -> _Point:
        nonlocal evals
        evals += 1
        f, g, gtd, payload = phi(t)
        return _Point(t, float(f), float(gtd), g, payload)

    def done(p: _Point, status: str) -> LineSearchResult:
        if p is start or (status == "decrease" and not p.f < loss0):
            return LineSearchResult(0.0, loss0, None, evals, "failed")
        return LineSearchResult(p.t, p.f, p.g, evals, status, p.payload)

    def armijo_fails(p: _Point) -> bool:
        return not p.finite or p.f > loss0 + c1 * p.t * gtd0

    # Bracketing phase (N&W algorithm 3.5).
    prev, t, best = start, float(step), start
    lo = hi = None
    while evals < max_evals:
        cur = evaluate(t)
        if armijo_fails(cur) or (prev is not start and cur.f >= prev.f):
            lo, hi = prev, cur
            break
        best = cur
        if abs(cur.gtd) <= -c2 * gtd0:
            return done(cur, "wolfe")
        if cur.gtd >= 0:
            lo, hi = cur, prev
            break
        # Extrapolate: at least 1% beyond t, at most ten times t.
        t_next = cubic_minimizer(
            prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd, t + 0.01 * (t - prev.t), 10.0 * t
        )
        prev, t = cur, t_next
    if lo is None:
        return done(best, "decrease")

    # Zoom phase (N&W algorithm 3.6); lo always has the lowest acceptable loss.
    for _ in range(max_zoom):
        if evals >= max_evals:
            break
        a, b = min(lo.t, hi.t), max(lo.t, hi.t)
        width = b - a
        if width * d_scale < tolerance_change or width <= 1e-16 * max(b, 1e-300):
            break
        if hi.finite:
            t = cubic_minimizer(lo.t, lo.f, lo.gtd, hi.t, hi.f, hi.gtd, a, b)
        else:
            t = 0.5 * (a + b)
        # Keep clear of the ends so that the bracket shrinks by at least 10% each time.
        t = min(max(t, a + 0.1 * width), b - 0.1 * width)
        cur = evaluate(t)
        if armijo_fails(cur) or cur.f >= lo.f:
            hi = cur
            continue
        if abs(cur.gtd) <= -c2 * gtd0:
            return done(cur, "wolfe")
        if cur.gtd * (hi.t - lo.t) >= 0:
            hi = lo
        lo = cur
    return done(lo, "decrease")
