"""Batching (vmap) rules of the common primitives; every other primitive uses the loop
fallback of :mod:`fieldgrad.autodiff._vmap`."""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import _core
from fieldgrad.fields import _ops_linalg as L
from fieldgrad.fields import _ops_reduce as R
from fieldgrad.fields import _ops_shape as S

from .._rules import register
from .._vmap import move_to_front

# Elementwise primitives: every primitive built by the elementwise constructors.
_ELEMENTWISE = (
    "add sub mul div floordiv mod pow neg abs sign floor ceil round max min eq ne lt le select "
    "isnan isfinite exp expm1 log log1p sqrt sin cos tan asin acos atan2 sinh cosh tanh logistic "
    "softplus erf erfc integer_pow convert_element_type"
).split()


def _aligned(vals, dims):
    """Batched operands moved to axis 0 and padded with unit axes to one logical rank."""
    ranks = [v.ndim - (d is not None) for v, d in zip(vals, dims)]
    rank = max(ranks)
    out = []
    for v, d, r in zip(vals, dims, ranks):
        if d is None:
            out.append(v)
            continue
        v = move_to_front(v, d)
        if r < rank:
            v = F.reshape(v, (v.shape[0],) + (1,) * (rank - r) + tuple(v.shape[1:]))
        out.append(v)
    return out


def _elementwise_rule(prim):
    def rule(vals, dims, **params):
        return prim.bind(*_aligned(vals, dims), **params), 0

    return rule


def _register_elementwise():
    prims = _core.primitives()
    for name in _ELEMENTWISE:
        register(prims[name], batch=_elementwise_rule(prims[name]))


_register_elementwise()
register(L.matmul_p, batch=lambda vals, dims: (L.matmul_p.bind(*_aligned(vals, dims)), 0))


def _reduce_rule(prim):
    def rule(vals, dims, *, axes):
        x = move_to_front(vals[0], dims[0])
        return prim.bind(x, axes=tuple(a + 1 for a in axes)), 0

    return rule


for _p in (R.reduce_sum_p, R.reduce_prod_p, R.reduce_max_p, R.reduce_min_p):
    register(_p, batch=_reduce_rule(_p))


def _arg_rule(prim):
    def rule(vals, dims, *, axis):
        x = move_to_front(vals[0], dims[0])
        return prim.bind(x, axis=axis + 1), 0

    return rule


for _p in (R.argmax_p, R.argmin_p):
    register(_p, batch=_arg_rule(_p))


def _reshape_rule(vals, dims, *, new_shape):
    x = move_to_front(vals[0], dims[0])
    return S.reshape_p.bind(x, new_shape=(x.shape[0],) + tuple(new_shape)), 0


def _transpose_rule(vals, dims, *, perm):
    x = move_to_front(vals[0], dims[0])
    return S.transpose_p.bind(x, perm=(0,) + tuple(p + 1 for p in perm)), 0


def _broadcast_rule(vals, dims, *, shape):
    x = move_to_front(vals[0], dims[0])
    r = x.ndim - 1
    x = F.reshape(x, (x.shape[0],) + (1,) * (len(shape) - r) + tuple(x.shape[1:]))
    return S.broadcast_to_p.bind(x, shape=(x.shape[0],) + tuple(shape)), 0


register(S.reshape_p, batch=_reshape_rule)
register(S.transpose_p, batch=_transpose_rule)
register(S.broadcast_to_p, batch=_broadcast_rule)
