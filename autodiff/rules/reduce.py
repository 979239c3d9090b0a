"""Rules of the reduction primitives: reduce_sum, reduce_prod, reduce_max, reduce_min, and the
non-differentiable argmax, argmin.

Conventions:

* ``reduce_prod``: the derivative with respect to ``x_i`` is the product of the *other*
  elements, computed without any division (a pairwise product tree, see :func:`_others`), so
  inputs with one or several zeros get exact derivatives at every order (``y / x`` would give
  ``0 / 0``).
* ``reduce_max`` / ``reduce_min``: where several elements tie for the extreme value, the
  derivative is split equally among them (each gets ``1 / count``), as JAX does. A NaN among
  the reduced elements gives a NaN derivative.
"""

from __future__ import annotations

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields import _ops_reduce as R

from .._rules import register, register_nondiff

register_nondiff(R.argmax_p, R.argmin_p)


def _keep(shape, axes):
    """``shape`` with the reduced ``axes`` kept as length one."""
    return tuple(1 if k in axes else s for k, s in enumerate(shape))


def _expand(y, shape, axes):
    """The reduced ``y`` broadcast back over ``axes`` to ``shape``."""
    return F.broadcast_to(F.reshape(y, _keep(shape, axes)), shape)


register(
    R.reduce_sum_p,
    jvp=lambda p, t, *, axes: (F.sum(p[0], axis=axes), F.sum(t[0], axis=axes)),
    vjp=lambda g, ans, x, *, axes: (_expand(g, x.shape, axes),),
)


# --- reduce_prod --------------------------------------------------------------------------------


def _others_last(x):
    """``out[..., i] = prod_{j != i} x[..., j]`` along the last axis, with no division.

    Pairs ``(x[2k], x[2k+1])`` are multiplied and the function recurses on the half-length
    vector of pair products ``q``; then the element ``2k`` gets ``others(q)[k] * x[2k+1]`` and
    ``2k+1`` gets ``others(q)[k] * x[2k]``. An odd length is padded with a one. The work is
    linear in the size, the depth logarithmic, and the result is built from multiply, slice and
    concatenate only, so it is differentiable again (exactly, also at zeros).
    """
    m = x.shape[-1]
    if m <= 1:
        return F.ones_like(x)
    if m % 2:
        x = F.concatenate([x, F.ones(tuple(x.shape[:-1]) + (1,), dtype=x.dtype)], axis=-1)
    a = x[..., 0::2]
    b = x[..., 1::2]
    o = _others_last(a * b)
    pairs = F.stack([o * b, o * a], axis=-1)  # (..., m/2, 2): interleave back
    out = F.reshape(pairs, tuple(x.shape))
    return out[..., :m] if m % 2 else out


def _others(x, axes: tuple):
    """For each element, the product of the other elements of its reduction group over
    ``axes``; the shape of ``x``."""
    if x.size == 0:
        return F.zeros(x.shape, dtype=x.dtype)
    kept = [k for k in range(x.ndim) if k not in axes]
    perm = tuple(kept + list(axes))
    moved_shape = tuple(x.shape[k] for k in perm)
    m = int(np.prod([x.shape[k] for k in axes], dtype=np.int64))
    xm = F.reshape(F.transpose(x, perm), tuple(x.shape[k] for k in kept) + (m,))
    o = F.reshape(_others_last(xm), moved_shape)
    return F.transpose(o, tuple(np.argsort(perm).tolist()))


register(
    R.reduce_prod_p,
    jvp=lambda p, t, *, axes: (
        F.prod(p[0], axis=axes),
        F.sum(t[0] * _others(p[0], axes), axis=axes),
    ),
    vjp=lambda g, ans, x, *, axes: (_expand(g, x.shape, axes) * _others(x, axes),),
)


# --- reduce_max / reduce_min --------------------------------------------------------------------


def _share(x, ans, axes):
    """``1 / count`` at the elements equal to the extreme ``ans`` of their group, else 0."""
    mask = F.astype(F.equal(x, F.reshape(ans, _keep(x.shape, axes))), x.dtype)
    count = F.sum(mask, axis=axes, keepdims=True)
    return mask / count


def _chooser(prim):
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        ans = prim.bind(x, axes=axes)
        return ans, F.sum(t * _share(x, ans, axes), axis=axes)

    def vjp(g, ans, x, *, axes):
        return (_expand(g, x.shape, axes) * _share(x, ans, axes),)

    register(prim, jvp=jvp, vjp=vjp)


_chooser(R.reduce_max_p)
_chooser(R.reduce_min_p)
