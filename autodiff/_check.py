"""check_grads: derivatives of every mode and order against central finite differences."""

from __future__ import annotations

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from ._api import vjp
from ._jvp import jvp

__all__ = ["check_grads"]


def _leaves(tree):
    return [F.asarray(x) for x in tree_flatten(tree)[0]]


def _inner(a_tree, b_tree) -> float:
    total = 0.0
    for a, b in zip(_leaves(a_tree), _leaves(b_tree)):
        total += float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))
    return total


def _random_like(rng, tree):
    leaves, td = tree_flatten(tree)
    out = [F.tensor(rng.standard_normal(np.shape(x)).astype(F.asarray(x).dtype)) for x in leaves]
    return tree_unflatten(td, out)


def _axpy(a: float, x_tree, y_tree):
    """y + a * x on pytrees."""
    xs, td = tree_flatten(x_tree)
    ys = tree_flatten(y_tree)[0]
    return tree_unflatten(td, [F.asarray(y) + a * F.asarray(x) for x, y in zip(xs, ys)])


def _assert_close(name, got, want, rtol, atol):
    g, w = _leaves(got), _leaves(want)
    for k, (a, b) in enumerate(zip(g, w)):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape:
            raise AssertionError(f"{name}: output {k} shape {a.shape} != {b.shape}")
        if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            err = np.max(np.abs(a - b))
            raise AssertionError(
                f"{name}: output {k} differs from finite differences by {err:.3e} "
                f"(rtol={rtol}, atol={atol})\nderivative: {a}\nnumerical:  {b}"
            )


def _numerical_jvp(f, args, tangents, eps):
    plus = f(*_axpy(eps, tangents, args))
    minus = f(*_axpy(-eps, tangents, args))
    pl, td = tree_flatten(plus)
    ml = tree_flatten(minus)[0]
    return tree_unflatten(td, [(F.asarray(p) - F.asarray(m)) * (0.5 / eps) for p, m in zip(pl, ml)])


def check_grads(
    f, args, order: int = 1, modes=("fwd", "rev"), eps=None, rtol=None, atol=None, seed: int = 0
):
    """Check the derivatives of ``f`` at ``args`` against central finite differences.

    Forward mode compares ``jvp`` along a random direction with
    ``(f(x + eps v) - f(x - eps v)) / (2 eps)``; reverse mode checks the adjoint identity
    ``<w, J v> = <J^T w, v>`` with a random cotangent ``w``. For ``order > 1`` the same checks
    recurse on the derivative maps ``x -> J(x) v`` and ``x -> J(x)^T w``, so every mixture of
    modes up to ``order`` is covered. Use float64 inputs: float32 finite differences are too
    coarse beyond first order.

    Args:
        f: function of tensors (pytrees allowed) returning tensors.
        args: tuple of arguments (float tensors).
        order: highest derivative order to check.
        modes: any of "fwd", "rev".
        eps: finite-difference step (default 1e-6 for float64, 1e-3 for float32).
        rtol, atol: tolerances (defaults scale with the dtype and order).
        seed: seed of the random directions.

    Raises:
        AssertionError: a derivative differs, naming the mode, order and error.
        ValueError: an unknown mode or an order below 1.

    Example:
        >>> import fieldgrad as fg
        >>> fg.check_grads(fg.sin, (fg.tensor([0.3, 1.2], dtype="float64"),), order=2)
    """
    if order < 1:
        raise ValueError(f"check_grads: order must be >= 1, got {order}")
    bad = set(modes) - {"fwd", "rev"}
    if bad:
        raise ValueError(f"check_grads: unknown modes {sorted(bad)}; expected 'fwd' and/or 'rev'")
    args = tuple(args)
    dt = _leaves(args)[0].dtype if _leaves(args) else np.dtype(np.float64)
    f64 = dt == np.float64
    eps = eps or (1e-6 if f64 else 1e-3)
    rtol = rtol or (1e-5 if f64 else 2e-2)
    atol = atol or (1e-5 if f64 else 2e-2)
    rng = np.random.default_rng(seed)
    _check(f, args, order, tuple(modes), eps, rtol, atol, rng, "")


def _check(f, args, order, modes, eps, rtol, atol, rng, path):
    v = _random_like(rng, args)
    num = _numerical_jvp(f, args, v, eps)
    if "fwd" in modes:
        out, tan = jvp(f, args, v)
        _assert_close(f"{path}jvp (order {len(path.split('/'))})", tan, num, rtol, atol)
    if "rev" in modes:
        out, pull = vjp(f, *args)
        w = _random_like(rng, out)
        lhs = _inner(w, num)
        rhs = _inner(pull(w), v)
        if not np.isclose(lhs, rhs, rtol=rtol, atol=atol):
            raise AssertionError(
                f"{path}vjp (order {len(path.split('/'))}): <w, J v> = {lhs:.6e} (numerical) "
                f"but <J^T w, v> = {rhs:.6e}"
            )
    if order > 1:
        if "fwd" in modes:

            def f_jvp(*xs):
                return jvp(f, xs, v)[1]

            _check(f_jvp, args, order - 1, modes, eps, rtol, atol, rng, path + "jvp/")
        if "rev" in modes:
            w = _random_like(rng, f(*args))

            def f_vjp(*xs):
                return vjp(f, *xs)[1](w)

            _check(f_vjp, args, order - 1, modes, eps, rtol, atol, rng, path + "vjp/")
