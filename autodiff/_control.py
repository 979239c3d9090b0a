"""Control flow for simulations: fori_loop and scan.

The loops run as Python loops whose steps are traced by whatever transformation is active,
so forward mode carries tangents through the steps and reverse mode records every step on the
tape (the tape keeps the carries; the backward pass walks it iteratively, so 10,000-step
rollouts are fine). Wrap the step in :func:`~fieldgrad.autodiff.checkpoint` to store one node
per step instead of every intermediate value.
"""

from __future__ import annotations

import numbers
import operator

from fieldgrad import fields as F
from fieldgrad.fields import Tracer
from fieldgrad.fields._core import get_aval
from fieldgrad.fields._loop import stage_loop, stage_scan
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from ._custom import as_leaf, custom_vjp

__all__ = ["fori_loop", "scan"]


# --- carries ------------------------------------------------------------------------------------


def _concrete_int(v, what: str) -> int:
    if isinstance(v, Tracer):
        raise TypeError(
            f"fori_loop: {what} must be a concrete integer (a Python int or an integer "
            f"tensor that is not being traced), got a traced {v.aval}"
        )
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"fori_loop: {what} must be an integer, got {type(v).__name__}") from None


_HINT = "loop carries, scanned inputs and outputs hold tensors only (close over other values)"


def _leaves(tree, where: str):
    leaves, td = tree_flatten(tree)
    return [as_leaf(x, where, _HINT) for x in leaves], td


class _Carry:
    """The structure, shapes and dtypes a loop carry must keep from step to step.

    A weakly typed leaf (from a Python scalar) may change its dtype once, at the first step, to
    the dtype the body promotes it to; after that every step must return the same types.
    """

    def __init__(self, tree, where: str):
        self.where = where
        raw, self.tree = tree_flatten(tree)
        leaves = [as_leaf(x, where, _HINT) for x in raw]
        self.avals = [get_aval(x) for x in leaves]
        self.weak = [isinstance(x, numbers.Number) or a.weak_type for x, a in zip(raw, self.avals)]
        self.value = tree_unflatten(self.tree, leaves)

    def update(self, new, step: int, fn: str) -> None:
        leaves, tree = tree_flatten(new)
        if tree != self.tree:
            raise TypeError(
                f"{self.where}: {fn} must return a carry of the structure of the initial "
                f"value; at step {step} it returned {tree}, expected {self.tree}"
            )
        leaves = [as_leaf(x, self.where, _HINT) for x in leaves]
        for k, (x, a) in enumerate(zip(leaves, self.avals)):
            b = get_aval(x)
            if tuple(b.shape) != tuple(a.shape):
                raise TypeError(
                    f"{self.where}: {fn} changed the shape of carry leaf {k} at step {step}: "
                    f"{tuple(b.shape)}, expected {tuple(a.shape)}"
                )
            if b.dtype != a.dtype and not self.weak[k]:
                raise TypeError(
                    f"{self.where}: {fn} changed the dtype of carry leaf {k} at step {step}: "
                    f"{b.dtype.name}, expected {a.dtype.name} (cast it with .astype, or start "
                    "from a value of the right dtype)"
                )
            self.avals[k] = b
            self.weak[k] = False
        self.value = tree_unflatten(self.tree, leaves)


# --- fori_loop ----------------------------------------------------------------------------------


def fori_loop(lower, upper, body_fun, init_val):
    """Apply ``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``.

    The loop runs in Python and each step is traced by the active transformations, so
    ``jvp``, ``grad`` and their compositions differentiate through every step (reverse mode
    keeps every step on the tape: wrap ``body_fun`` in :func:`checkpoint` to store less).

    Args:
        lower, upper: the bounds, Python ints (or concrete integer tensors).
        body_fun: ``body_fun(i, val) -> val`` with ``i`` a Python int; the carry ``val`` is a
            pytree of tensors that keeps its structure, shapes and dtypes.
        init_val: the initial carry (numbers and numpy arrays become tensors).

    Returns:
        The final carry (``init_val`` when ``upper <= lower``).

    Raises:
        TypeError: a bound is not a concrete integer, or the body changes the carry's
            structure, a shape or a dtype (both are named).

    Example:
        >>> import fieldgrad as fg
        >>> float(fg.fori_loop(0, 4, lambda i, x: x * 2.0, fg.tensor(1.5)))
        24.0
        >>> x = fg.tensor(1.1, dtype="float64")
        >>> round(float(fg.grad(lambda x: fg.fori_loop(0, 3, lambda i, v: v * v, x))(x)), 6)
        15.589737
    """
    lo = _concrete_int(lower, "lower")
    hi = _concrete_int(upper, "upper")
    carry = _Carry(init_val, "fori_loop")
    if hi > lo:  # directly under jit: one staged loop (fields/_loop.py) instead of unrolling
        leaves, _ = tree_flatten(carry.value)
        out = stage_loop(lo, hi, body_fun, leaves, carry.tree)
        if out is not None:
            return tree_unflatten(carry.tree, list(out))
    for i in range(lo, hi):
        carry.update(body_fun(i, carry.value), i, "body_fun")
    return carry.value


# --- scan ---------------------------------------------------------------------------------------


def _slices(x):
    return [x[i] for i in range(x.shape[0])]


def _slices_fwd(x):
    return _slices(x), None


def _slices_bwd(_, g):
    return (F.stack(list(g), axis=0),)


# One tape node for all the slices of a scanned input, whose backward pass is one stack
# (slicing step by step would record one node per step, each pulling back a full-size array).
_unstack = custom_vjp(_slices, forward_mode="differentiate_fun")
_unstack.defvjp(_slices_fwd, _slices_bwd)


def _scan_length(x_leaves, length) -> int:
    sizes = set()
    for x in x_leaves:
        if x.ndim == 0:
            raise ValueError(
                "scan: every leaf of xs needs a leading axis to scan over; got a 0-d leaf"
            )
        sizes.add(int(x.shape[0]))
    if length is not None:
        length = operator.index(length)
        if length < 0:
            raise ValueError(f"scan: length must be non-negative, got {length}")
        sizes.add(length)
    if not sizes:
        raise ValueError("scan: xs has no leaves, so the number of steps must be given as length")
    if len(sizes) > 1:
        shapes = [tuple(x.shape) for x in x_leaves]
        raise ValueError(
            f"scan: the leading axes of xs {shapes} and length={length} disagree; they must "
            "all have the same size"
        )
    return sizes.pop()


def scan(f, init, xs=None, length=None, reverse: bool = False):
    """Scan ``f`` over the leading axis of ``xs`` while carrying state (JAX's ``lax.scan``).

    Semantics, with ``ys`` stacked along a new leading axis::

        carry = init
        for i in range(n):                   # reversed(range(n)) with reverse=True
            carry, ys[i] = f(carry, xs[i])
        return carry, stack(ys)

    Each step is traced by the active transformations (see :func:`fori_loop`); the slices of
    ``xs`` take one tape node and the stacking of ``ys`` one more.

    Args:
        f: ``f(carry, x) -> (carry, y)``; the carry keeps its structure, shapes and dtypes;
            ``y`` is a pytree of tensors (or None) of the same structure and shapes every step.
        init: the initial carry (a pytree of tensors).
        xs: a pytree of tensors sharing a leading axis of length ``n``, or None.
        length: the number of steps; required when ``xs`` is None, checked otherwise.
        reverse: scan from the last element to the first (``ys[i]`` still belongs to
            ``xs[i]``).

    Returns:
        ``(final carry, ys)``; ``ys`` leaves have shape ``(n,) + y.shape``.

    Raises:
        ValueError: the leading axes of ``xs`` and ``length`` disagree, or neither gives the
            number of steps.
        TypeError: ``f`` returns no pair, or changes the carry or ``y`` types between steps.

    Example:
        >>> import fieldgrad as fg
        >>> def step(c, x):
        ...     c = c + x
        ...     return c, 2.0 * c
        >>> c, ys = fg.scan(step, fg.tensor(0.0), fg.tensor([1.0, 2.0, 3.0]))
        >>> float(c), ys.tolist()
        (6.0, [2.0, 6.0, 12.0])
    """
    x_leaves, x_tree = _leaves(xs, "scan")
    n = _scan_length(x_leaves, length)
    carry = _Carry(init, "scan")
    if n == 0:
        return _empty_scan(f, carry, x_leaves, x_tree)
    c_leaves, _ = tree_flatten(carry.value)
    staged = stage_scan(f, c_leaves, carry.tree, x_leaves, x_tree, n, reverse)
    if staged is not None:  # directly under jit: one staged scan (fields/_loop.py)
        c_out, y_out, y_tree = staged
        return tree_unflatten(carry.tree, list(c_out)), tree_unflatten(y_tree, list(y_out))
    slices = [_unstack(x) for x in x_leaves]
    ys: list = [None] * n
    y_tree, y_avals = None, None
    for i in reversed(range(n)) if reverse else range(n):
        out = f(carry.value, tree_unflatten(x_tree, [s[i] for s in slices]))
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(
                f"scan: f must return a pair (carry, y), got {type(out).__name__} at step {i}"
            )
        carry.update(out[0], i, "f")
        y_leaves, tree = _leaves(out[1], "scan")
        avals = [(tuple(y.shape), y.dtype) for y in y_leaves]
        if y_tree is None:
            y_tree, y_avals = tree, avals
        elif tree != y_tree or avals != y_avals:
            raise TypeError(
                f"scan: f must return y of the same structure, shapes and dtypes every step; "
                f"step {i} returned {tree} {avals}, an earlier step {y_tree} {y_avals}"
            )
        ys[i] = y_leaves
    stacked = [F.stack([y[k] for y in ys], axis=0) for k in range(len(y_avals))]
    return carry.value, tree_unflatten(y_tree, stacked)


def _empty_scan(f, carry: _Carry, x_leaves, x_tree):
    """A scan of zero steps: ``ys`` are empty, with the shapes ``f`` would give them."""
    x0 = [F.zeros(tuple(x.shape[1:]), dtype=x.dtype) for x in x_leaves]
    out = f(carry.value, tree_unflatten(x_tree, x0))
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"scan: f must return a pair (carry, y), got {type(out).__name__}")
    y_leaves, y_tree = _leaves(out[1], "scan")
    ys = [F.zeros((0,) + tuple(y.shape), dtype=y.dtype) for y in y_leaves]
    return carry.value, tree_unflatten(y_tree, ys)
