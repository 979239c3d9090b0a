"""Rules of jit's internal primitives: ``fused`` (generated elementwise kernels) and
``fori_loop`` (a loop staged under jit).

Both exist only inside compiled jit plans (jit inlines the traced function under every
transformation, and ``fori_loop`` unrolls when it sees a transformation's tracers), so no
transform should ever meet one; if one does, each rule raises a NotImplementedError that names
the primitive and says how to order jit and the transform.
"""

from __future__ import annotations

from fieldgrad.fields._fusion import fused_p, internal_rule_error
from fieldgrad.fields._loop import loop_p, scan_p

from .._rules import register


def _raiser(transform: str, name: str):
    def rule(*args, **params):
        raise internal_rule_error(transform, name)

    return rule


for _p in (fused_p, loop_p, scan_p):
    register(
        _p,
        jvp=_raiser("jvp", _p.name),
        vjp=_raiser("vjp", _p.name),
        jet=_raiser("jet", _p.name),
        batch=_raiser("batch", _p.name),
    )
