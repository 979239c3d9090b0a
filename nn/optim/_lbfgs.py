"""L-BFGS: limited-memory quasi-Newton minimisation of a deterministic loss.

The loss and its gradient come from ``fg.value_and_grad(fun)`` (compiled once with ``fg.jit``);
the two-loop recursion and the line search work on one flat float64 numpy vector holding every
parameter leaf. Each evaluation unflattens that vector to the parameters' own dtypes.

The loop always ends: it is bounded by ``max_iter`` iterations and ``max_eval`` evaluations, each
line search by its own evaluation and zoom caps, and a non-finite loss or gradient is never
accepted (the step shrinks; when nothing finite is left the loop stops and says why).
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import Any, Callable, Optional

import numpy as np

from fieldgrad.autodiff import value_and_grad
from fieldgrad.fields import Tensor, tensor, tree_flatten, tree_leaves, tree_unflatten
from fieldgrad.fields import jit as _jit

from . import _line_search

__all__ = ["lbfgs", "LBFGSResult"]

_EPS = float(np.finfo(np.float64).eps)


@dataclasses.dataclass
class LBFGSResult:
    """The outcome of :func:`lbfgs`.

    Attributes:
        params: the final parameters (same tree and dtypes as the input).
        loss: the loss there.
        grad_norm: the largest absolute gradient entry there.
        iterations: iterations taken.
        evaluations: loss-and-gradient evaluations spent (never more than ``max_eval``).
        converged: True when a tolerance was met; False for budgets, failures and callbacks.
        reason: why the loop stopped, in words.
        history: the loss at the start and after each iteration.
    """

    params: Any
    loss: float
    grad_norm: float
    iterations: int
    evaluations: int
    converged: bool
    reason: str
    history: list


class _Flat:
    """Maps between a parameter tree and one float64 vector, and counts evaluations."""

    def __init__(self, fun: Callable, params, use_jit: bool, max_eval: int):
        leaves, self.treedef = tree_flatten(params)
        if not leaves:
            raise ValueError("lbfgs: params has no tensor leaves")
        for k, x in enumerate(leaves):
            if not isinstance(x, Tensor) or np.dtype(x.dtype).kind != "f":
                kind = getattr(x, "dtype", type(x).__name__)
                raise TypeError(f"lbfgs: params leaf {k} must be a float tensor, got {kind}")
        self.shapes = [tuple(x.shape) for x in leaves]
        self.dtypes = [np.dtype(x.dtype) for x in leaves]
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.x0 = np.concatenate([np.asarray(x.numpy(), np.float64).ravel() for x in leaves])
        vg = value_and_grad(fun)
        self.value_and_grad = _jit(vg) if use_jit else vg
        self.evaluations = 0
        self.max_eval = max_eval

    def params(self, x: np.ndarray):
        out, o = [], 0
        for shape, dtype, n in zip(self.shapes, self.dtypes, self.sizes):
            out.append(tensor(x[o : o + n].reshape(shape).astype(dtype)))
            o += n
        return tree_unflatten(self.treedef, out)

    def __call__(self, x: np.ndarray) -> tuple:
        """``(loss, grad, params)`` at ``x``; one evaluation of the budget."""
        if self.evaluations >= self.max_eval:  # the callers check first; this is a guard
            raise RuntimeError("lbfgs: evaluation budget exceeded")
        self.evaluations += 1
        tree = self.params(x)
        loss, grads = self.value_and_grad(tree)
        if tuple(loss.shape) != ():
            raise ValueError(f"lbfgs: fun must return a 0-d tensor, got shape {loss.shape}")
        g = [np.asarray(v.numpy(), np.float64).ravel() for v in tree_leaves(grads)]
        return float(loss.numpy()), np.concatenate(g), tree


def _direction(g: np.ndarray, memory) -> np.ndarray:
    """``-H g`` by the two-loop recursion (N&W algorithm 7.4), ``H0 = (s.y / y.y) I``."""
    q = -g
    alphas = []
    for s, y, rho in reversed(memory):
        a = rho * float(s @ q)
        q = q - a * y
        alphas.append(a)
    if memory:
        s, y, rho = memory[-1]
        q = q * (1.0 / (rho * float(y @ y)))
    for (s, y, rho), a in zip(memory, reversed(alphas)):
        b = rho * float(y @ q)
        q = q + (a - b) * s
    return q


def _check_options(max_iter, max_eval, tolerance_grad, tolerance_change, history_size, ls):
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"lbfgs: max_iter must be an int >= 0, got {max_iter!r}")
    if isinstance(max_eval, bool) or not isinstance(max_eval, int) or max_eval < 1:
        raise ValueError(f"lbfgs: max_eval must be an int >= 1, got {max_eval!r}")
    for name, v in (("tolerance_grad", tolerance_grad), ("tolerance_change", tolerance_change)):
        if not isinstance(v, (int, float)) or not v >= 0:
            raise ValueError(f"lbfgs: {name} must be a float >= 0, got {v!r}")
    if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
        raise ValueError(f"lbfgs: history_size must be an int >= 1, got {history_size!r}")
    if ls not in ("strong_wolfe", None):
        raise ValueError(f"lbfgs: line_search must be 'strong_wolfe' or None, got {ls!r}")


def lbfgs(
    fun: Callable,
    params,
    *,
    max_iter: int = 500,
    max_eval: Optional[int] = None,
    tolerance_grad: float = 1e-7,
    tolerance_change: float = 1e-9,
    history_size: int = 10,
    line_search: Optional[str] = "strong_wolfe",
    callback: Optional[Callable] = None,
    jit: bool = True,
) -> LBFGSResult:
    """Minimise ``fun(params)`` with L-BFGS and a strong-Wolfe line search.

    Deterministic, and always terminating: it stops when the largest gradient entry is at most
    ``tolerance_grad``, when the loss or the step changes by less than ``tolerance_change``
    (absolute, as ``torch.optim.LBFGS``), after ``max_iter`` iterations or ``max_eval``
    evaluations, when the line search finds no lower finite loss, or when ``callback`` asks.
    Curvature pairs with ``y.s <= eps * y.y`` are skipped; the memory is cleared when its
    direction is not a descent direction or its line search fails.

    Args:
        fun: ``fun(params) -> 0-d tensor``, differentiable with fieldgrad.
        params: the starting point, any pytree of float tensors.
        max_iter: the most iterations.
        max_eval: the most evaluations of loss and gradient (default ``int(1.25 * max_iter)``,
            at least 1); never exceeded.
        tolerance_grad: stop when ``max |grad|`` is at most this.
        tolerance_change: stop when the loss or the largest parameter change of an iteration
            is below this.
        history_size: how many curvature pairs to keep.
        line_search: ``"strong_wolfe"``, or None for unit steps (shortened only when the loss
            is not finite).
        callback: ``callback(iteration, params, loss)`` after each iteration; returning True
            stops the loop (reason ``"callback"``).
        jit: compile ``value_and_grad(fun)`` with ``fg.jit`` (traced once).

    Returns:
        An :class:`LBFGSResult` (``.params``, ``.loss``, ``.converged``, ``.reason``, ...).

    Raises:
        TypeError: a parameter leaf is not a float tensor.
        ValueError: an option out of range, or ``fun`` does not return a 0-d tensor.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> def f(p):
        ...     return fg.sum((p["x"] - 3.0) ** 2)
        >>> res = nn.optim.lbfgs(f, {"x": fg.tensor([0.0, 1.0], dtype=fg.float64)})
        >>> res.converged, res.params["x"].numpy().round(6).tolist()
        (True, [3.0, 3.0])
    """
    if max_eval is None:
        max_eval = max(1, int(max_iter * 1.25))
    _check_options(max_iter, max_eval, tolerance_grad, tolerance_change, history_size, line_search)
    problem = _Flat(fun, params, jit, max_eval)
    x = problem.x0
    f, g, tree = problem(x)
    history = [f]
    memory: collections.deque = collections.deque(maxlen=history_size)

    def result(converged: bool, reason: str) -> LBFGSResult:
        gn = float(np.max(np.abs(g))) if g.size else 0.0
        return LBFGSResult(tree, f, gn, iteration, problem.evaluations, converged, reason, history)

    iteration = 0
    if not (math.isfinite(f) and np.isfinite(g).all()):
        return result(False, "non-finite loss or gradient at the initial parameters")
    if np.max(np.abs(g)) <= tolerance_grad:
        return result(True, "gradient below tolerance_grad")
    while True:
        if iteration >= max_iter:
            return result(False, "max_iter reached")
        if problem.evaluations >= max_eval:
            return result(False, "max_eval reached")
        d = _direction(g, memory)
        gtd = float(g @ d)
        if not gtd < 0:  # the memory lost positive definiteness numerically: start over
            memory.clear()
            d, gtd = -g, -float(g @ g)
        if gtd > -tolerance_change:
            return result(True, "directional derivative below tolerance_change")
        t = min(1.0, 1.0 / float(np.sum(np.abs(g)))) if not memory else 1.0
        ls = _search(problem, x, d, f, gtd, t, tolerance_change, line_search)
        if ls.status == "failed":
            if memory:
                memory.clear()
                continue
            if problem.evaluations >= max_eval:
                return result(False, "max_eval reached")
            return result(False, "line search found no lower finite loss")
        s = ls.step * d
        y = ls.grad - g
        ys = float(y @ s)
        if ys > _EPS * float(y @ y):
            memory.append((s, y, 1.0 / ys))
        f_old = f
        x, tree = ls.payload
        f, g = ls.loss, ls.grad
        iteration += 1
        history.append(f)
        if callback is not None and callback(iteration, tree, f):
            return result(False, "callback")
        if np.max(np.abs(g)) <= tolerance_grad:
            return result(True, "gradient below tolerance_grad")
        if abs(f - f_old) < tolerance_change:
            return result(True, "loss change below tolerance_change")
        if float(np.max(np.abs(s))) < tolerance_change:
            return result(True, "step below tolerance_change")


def _search(problem: _Flat, x, d, f0, gtd0, t, tolerance_change, line_search):
    """One line search along ``d`` within the remaining evaluation budget."""
    budget = problem.max_eval - problem.evaluations

    def phi(step: float):
        xt = x + step * d
        f, g, tree = problem(xt)
        gtd = float(g @ d) if np.isfinite(g).all() else math.nan
        return f, g, gtd, (xt, tree)

    if line_search == "strong_wolfe":
        return _line_search.strong_wolfe(
            phi,
            f0,
            gtd0,
            t,
            d_scale=float(np.max(np.abs(d))),
            tolerance_change=tolerance_change,
            max_evals=min(_line_search.MAX_EVALS, budget),
        )
    # Fixed steps: halve while the loss or gradient is not finite.
    for k in range(min(_line_search.MAX_EVALS, budget)):
        f, g, gtd, payload = phi(t)
        if math.isfinite(f) and math.isfinite(gtd):
            return _line_search.LineSearchResult(t, f, g, k + 1, "fixed", payload)
        t *= 0.5
    return _line_search.LineSearchResult(0.0, f0, None, 0, "failed")
