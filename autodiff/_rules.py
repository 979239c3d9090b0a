"""Rule tables of the transforms, keyed by primitive, and their registration.

* ``jvp``: ``rule(primals, tangents, **params) -> (primal_out, tangent_out)``; tangents of
  float inputs are tensors (zeros instantiated), of integer/bool inputs ``None``.
* ``vjp``: ``rule(g, ans, *primals, **params) -> tuple`` of cotangents, one per input
  (``None`` for an input that gets none).
* ``jet``: ``rule(primals, series, **params) -> (primal_out, series_out)`` (Taylor mode).
* ``batch``: ``rule(args, dims, **params) -> (out, out_dim)`` (vmap).

Rules are written with public fieldgrad ops, so every rule is differentiable again.
A lookup that finds no rule raises ``NotImplementedError`` naming the primitive and the
transform; nothing returns zeros silently.
"""

from __future__ import annotations

from typing import Callable

from fieldgrad.fields import Primitive

TRANSFORMS = ("jvp", "vjp", "jet", "batch")
_tables: dict[str, dict[Primitive, Callable]] = {t: {} for t in TRANSFORMS}
# Primitives whose outputs are never differentiable (integer/bool results, index outputs).
_nondiff: set[Primitive] = set()


def register(prim: Primitive, *, jvp=None, vjp=None, jet=None, batch=None) -> None:
    """Register the rules of one primitive side by side."""
    for name, rule in (("jvp", jvp), ("vjp", vjp), ("jet", jet), ("batch", batch)):
        if rule is not None:
            _tables[name][prim] = rule


def register_nondiff(*prims: Primitive) -> None:
    """Mark primitives whose outputs carry no derivative (comparisons, argmax, floor, ...)."""
    _nondiff.update(prims)


def is_nondiff(prim: Primitive) -> bool:
    return prim in _nondiff


_DESCRIPTION = {
    "jvp": "forward-mode (jvp)",
    "vjp": "reverse-mode (grad/vjp)",
    "jet": "Taylor-mode (jet)",
    "batch": "batching (vmap)",
}


def lookup(transform: str, prim: Primitive) -> Callable:
    """The ``transform`` rule of ``prim``; raises NotImplementedError naming both if missing."""
    rule = _tables[transform].get(prim)
    if rule is None:
        raise NotImplementedError(
            f"primitive {prim.name!r} has no {transform} rule: it cannot be used under the "
            f"{_DESCRIPTION[transform]} transform"
        )
    return rule


def has_rule(transform: str, prim: Primitive) -> bool:
    return prim in _tables[transform]
