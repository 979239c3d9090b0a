"""Rules of ``fused``, jit's internal primitive for generated elementwise kernels.

``fused`` equations exist only inside compiled jit plans (jit inlines the traced function under
every transformation), so no transform should ever meet one; if one does, each rule raises a
NotImplementedError that names the primitive and says how to order jit and the transform.
"""

from __future__ import annotations

from fieldgrad.fields._fusion import fused_p, internal_rule_error

from .._rules import register


def _raiser(transform: str):
    def rule(*args, **params):
        raise internal_rule_error(transform)

    return rule


register(
    fused_p,
    jvp=_raiser("jvp"),
    vjp=_raiser("vjp"),
    jet=_raiser("jet"),
    batch=_raiser("batch"),
)
