"""Batching (vmap) rules: ``rule(vals, dims, **params) -> (out, out_dim)``.

``vals`` are the operands with their batch axes, ``dims`` the batch axis of each (``None``: not
batched; at least one is an int). A rule binds the primitive once on the whole batch, keeping
the batch axis where it is when the primitive allows it (a transpose costs a kernel launch), and
returns the batch axis of the result.

Covered: every elementwise primitive, matmul, the reductions and arg-reductions, reshape,
transpose, broadcast_to, slice, slice_update, gather, scatter, scatter_add, concatenate,
diagonal, stop_gradient, the convolutions when one of their two operands is batched (the
batch is folded into the image or channel axis), and custom_jvp/custom_vjp calls (one call of
the vmapped function with vmapped rules). Checkpointed functions register their own batch
rule in autodiff/_checkpoint.py.

The grid stencils (fd_grad, fd_div, fd_laplacian) treat every axis of their operand as a grid
axis and cannot take a batch axis, and a convolution with both operands batched has no
single-call form (no channel groups): these, and any primitive without a rule (user kernels,
say), use the loop fallback of :mod:`fieldgrad.autodiff._vmap` (one call per batch element,
results stacked). Primitives without operands (random, iota, full, eye) are never batched.
"""

from __future__ import annotations

import math

from fieldgrad import fields as F
from fieldgrad.fields import Tensor, Tracer, _core
from fieldgrad.fields import _ops_conv as C
from fieldgrad.fields import _ops_gather as G
from fieldgrad.fields import _ops_join as J
from fieldgrad.fields import _ops_linalg as L
from fieldgrad.fields import _ops_reduce as R
from fieldgrad.fields import _ops_shape as S
from fieldgrad.fields._core import get_aval
from fieldgrad.fields._index_kernels import MAXDIM
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from .. import _vmap
from .._api import stop_gradient_p
from .._custom import custom_jvp, custom_jvp_call_p, custom_vjp, custom_vjp_call_p
from .._rules import register
from .._util import zeros_like_aval
from .._vmap import batch_size_of, move_to_front, vmap

# --- helpers ------------------------------------------------------------------------------------


def _phys(axis: int, bdim: int) -> int:
    """The physical axis of logical ``axis`` of a value batched at ``bdim``."""
    return axis if axis < bdim else axis + 1


def _insert(t: tuple, pos: int, v) -> tuple:
    return tuple(t[:pos]) + (v,) + tuple(t[pos:])


def _at_front(x, bdim, n: int):
    """``x`` with its batch axis first; an unbatched ``x`` is broadcast to ``(n,) + shape``."""
    if bdim is None:
        return S.broadcast_to_p.bind(
            S.reshape_p.bind(x, new_shape=(1,) + tuple(x.shape)), shape=(n,) + tuple(x.shape)
        )
    return move_to_front(x, bdim)


def _moved(x, src: int, dst: int):
    return x if src == dst else F.moveaxis(x, src, dst)


def _reshape(x, shape):
    shape = tuple(shape)
    return x if tuple(x.shape) == shape else S.reshape_p.bind(x, new_shape=shape)


# --- elementwise --------------------------------------------------------------------------------

# Every primitive built by the elementwise constructors (numpy broadcasting of their operands).
_ELEMENTWISE = (
    "add sub mul div floordiv mod pow neg abs sign floor ceil round max min eq ne lt le select "
    "isnan isfinite exp expm1 log log1p sqrt sin cos tan asin acos atan2 sinh cosh tanh logistic "
    "softplus erf erfc integer_pow convert_element_type"
).split()


def _common_dim(vals, dims):
    """The batch axis of the result when the operands broadcast correctly as they are (no
    transpose, no reshape), else None.

    With ``N`` the largest rank and ``d`` the batch axis of a batched operand of that rank, this
    holds when every batched operand of rank ``n`` has its batch axis at ``d - (N - n)`` (so
    numpy's right-aligned broadcasting lines the batch axes up) and every unbatched operand has
    at most ``N - 1 - d`` axes (it aligns with the axes after the batch axis).
    """
    batched = [(v.ndim, d) for v, d in zip(vals, dims) if d is not None]
    nd, d = max(batched)
    if any(nd - n + e != d for n, e in batched):
        return None
    if all(v.ndim <= nd - 1 - d for v, e in zip(vals, dims) if e is None):
        return d
    return None


def _aligned(vals, dims):
    """Batched operands moved to axis 0 and padded with unit axes to one logical rank."""
    ranks = [v.ndim - (d is not None) for v, d in zip(vals, dims)]
    rank = max(ranks)
    out = []
    for v, d, r in zip(vals, dims, ranks):
        if d is not None:
            v = move_to_front(v, d)
            if r < rank:
                v = _reshape(v, (v.shape[0],) + (1,) * (rank - r) + tuple(v.shape[1:]))
        out.append(v)
    return out


def _elementwise_rule(prim):
    def rule(vals, dims, **params):
        d = _common_dim(vals, dims)
        if d is not None:
            return prim.bind(*vals, **params), d
        return prim.bind(*_aligned(vals, dims), **params), 0

    return rule


def _register_elementwise():
    prims = _core.primitives()
    for name in _ELEMENTWISE:
        register(prims[name], batch=_elementwise_rule(prims[name]))


_register_elementwise()


# --- matmul -------------------------------------------------------------------------------------


def _matmul_rule(vals, dims):
    (a, b), (da, db) = vals, dims
    if db is None and b.ndim == 2:
        # (B, ..., m, k) @ (k, n): one (B*...*m, k) @ (k, n) product instead of B small ones.
        a = move_to_front(a, da)
        y = L.matmul_p.bind(_reshape(a, (math.prod(a.shape[:-1]), a.shape[-1])), b)
        return _reshape(y, tuple(a.shape[:-1]) + (b.shape[1],)), 0
    if da is None and a.ndim == 2 and b.ndim == 3:
        # (m, k) @ (B, k, n): (m, k) @ (k, B*n), the batch folded into the columns.
        b = _moved(b, db, 1)
        y = L.matmul_p.bind(a, _reshape(b, (b.shape[0], b.shape[1] * b.shape[2])))
        return _reshape(y, (a.shape[0], b.shape[1], b.shape[2])), 1
    return L.matmul_p.bind(*_aligned(vals, dims)), 0


register(L.matmul_p, batch=_matmul_rule)


# --- reductions ---------------------------------------------------------------------------------


def _reduce_rule(prim):
    def rule(vals, dims, *, axes):
        d = dims[0]
        phys = tuple(_phys(a, d) for a in axes)
        return prim.bind(vals[0], axes=phys), d - sum(p < d for p in phys)

    return rule


for _p in (R.reduce_sum_p, R.reduce_prod_p, R.reduce_max_p, R.reduce_min_p):
    register(_p, batch=_reduce_rule(_p))


def _arg_rule(prim):
    def rule(vals, dims, *, axis):
        d = dims[0]
        p = _phys(axis, d)
        return prim.bind(vals[0], axis=p), d - (p < d)

    return rule


for _p in (R.argmax_p, R.argmin_p):
    register(_p, batch=_arg_rule(_p))


# --- shape --------------------------------------------------------------------------------------


def _reshape_rule(vals, dims, *, new_shape):
    x = move_to_front(vals[0], dims[0])
    return S.reshape_p.bind(x, new_shape=(x.shape[0],) + tuple(new_shape)), 0


def _transpose_rule(vals, dims, *, perm):
    d = dims[0]
    return S.transpose_p.bind(vals[0], perm=(d,) + tuple(_phys(p, d) for p in perm)), 0


def _broadcast_rule(vals, dims, *, shape):
    x = move_to_front(vals[0], dims[0])
    x = _reshape(x, (x.shape[0],) + (1,) * (len(shape) - (x.ndim - 1)) + tuple(x.shape[1:]))
    return S.broadcast_to_p.bind(x, shape=(x.shape[0],) + tuple(shape)), 0


register(S.reshape_p, batch=_reshape_rule)
register(S.transpose_p, batch=_transpose_rule)
register(S.broadcast_to_p, batch=_broadcast_rule)


def _concatenate_rule(vals, dims, *, axis):
    d = _common_dim(vals, dims)
    if d is not None and all(dd is not None for dd in dims):
        return J.concatenate_p.bind(*vals, axis=_phys(axis, d)), d
    n = batch_size_of(vals, dims)
    xs = [_at_front(v, dd, n) for v, dd in zip(vals, dims)]
    return J.concatenate_p.bind(*xs, axis=axis + 1), 0


register(J.concatenate_p, batch=_concatenate_rule)


def _diagonal_rule(vals, dims, *, offset, axis1, axis2):
    d = dims[0]
    a1, a2 = _phys(axis1, d), _phys(axis2, d)
    out = L.diagonal_p.bind(vals[0], offset=offset, axis1=a1, axis2=a2)
    return out, d - (a1 < d) - (a2 < d)


register(L.diagonal_p, batch=_diagonal_rule)
register(stop_gradient_p, batch=lambda vals, dims: (stop_gradient_p.bind(vals[0]), dims[0]))


# --- slices -------------------------------------------------------------------------------------


def _slice_params(start, stride, shape, d: int, n: int) -> dict:
    return dict(
        start=_insert(start, d, 0), stride=_insert(stride, d, 1), shape=_insert(shape, d, n)
    )


def _slice_rule(vals, dims, *, start, stride, shape):
    (x,), (d,) = vals, dims
    return G.slice_p.bind(x, **_slice_params(start, stride, shape, d, x.shape[d])), d


def _slice_update_rule(vals, dims, *, start, stride, shape):
    (x, v), (dx, dv) = vals, dims
    n = batch_size_of(vals, dims)
    if dx is None or dx != dv:
        x, v, dx = _at_front(x, dx, n), _at_front(v, dv, n), 0
    return G.slice_update_p.bind(x, v, **_slice_params(start, stride, shape, dx, n)), dx


register(G.slice_p, batch=_slice_rule)
register(G.slice_update_p, batch=_slice_update_rule)


# --- gather and scatter -------------------------------------------------------------------------


def _indexed_params(dx, di, axes, x_dims, idx_dims) -> dict:
    """Params of a gather/scatter whose output gets a new leading batch axis.

    ``dx``: the batch axis of the indexed tensor (None: not batched); ``di``: 0 when the
    indices are batched along their first axis, None when they are not.
    """
    if dx is not None:
        axes = tuple(_phys(a, dx) for a in axes)
        x_dims = (dx,) + tuple(-1 if a < 0 else _phys(a, dx) for a in x_dims)
    else:
        x_dims = (-1,) + tuple(x_dims)
    if di is not None:
        idx_dims = (0,) + tuple(-1 if a < 0 else a + 1 for a in idx_dims)
    else:
        idx_dims = (-1,) + tuple(idx_dims)
    return dict(axes=axes, x_dims=x_dims, idx_dims=idx_dims)


def _gather_rule(vals, dims, *, axes, x_dims, idx_dims):
    (x, idx), (dx, di) = vals, dims
    if len(x_dims) + 1 > MAXDIM:
        params = dict(axes=axes, x_dims=x_dims, idx_dims=idx_dims)
        return _vmap.loop_rule(G.gather_p, vals, dims, params)
    if di is not None:
        idx, di = move_to_front(idx, di), 0
    return G.gather_p.bind(x, idx, **_indexed_params(dx, di, axes, x_dims, idx_dims)), 0


def _scatter_rule(prim):
    def rule(vals, dims, *, axes, x_dims, idx_dims):
        (x, idx, u), (dx, di, du) = vals, dims
        params = dict(axes=axes, x_dims=x_dims, idx_dims=idx_dims)
        if len(x_dims) + 1 > MAXDIM:
            return _vmap.loop_rule(prim, vals, dims, params)
        n = batch_size_of(vals, dims)
        if dx is None:
            x, dx = _at_front(x, None, n), 0
        if di is not None:
            idx, di = move_to_front(idx, di), 0
        u = _at_front(u, du, n)  # the updates run along the output geometry: batch first
        return prim.bind(x, idx, u, **_indexed_params(dx, di, axes, x_dims, idx_dims)), dx

    return rule


register(G.gather_p, batch=_gather_rule)
register(G.scatter_p, batch=_scatter_rule(G.scatter_p))
register(G.scatter_add_p, batch=_scatter_rule(G.scatter_add_p))


# --- convolutions -------------------------------------------------------------------------------
#
# conv2d(x, w): x (N, Ci, H, W), w (Co, Ci, KH, KW) -> (N, Co, OH, OW). A batch of images folds
# into N; a batch of filters into Co. conv2d_input(g, w) -> (N, Ci, H, W) and conv2d_weight(x, g)
# -> (Co, Ci, KH, KW) fold the same way (a batch of w or x into Ci, of g into N or Co). Both
# operands batched: the loop.


def _fold(x, d: int, axis: int):
    """``x`` with its batch axis ``d`` merged into the axis ``axis`` of the logical value (the
    batch becomes the slower index); returns ``(folded, batch_size)``."""
    x = _moved(x, d, axis)
    n = x.shape[axis]
    shape = tuple(x.shape[:axis]) + (n * x.shape[axis + 1],) + tuple(x.shape[axis + 2 :])
    return _reshape(x, shape), n


def _unfold(y, axis: int, n: int):
    """Split axis ``axis`` of ``y`` into ``(n, rest)``; the batch axis is then ``axis``."""
    m = y.shape[axis] // n if n else 0
    return _reshape(y, tuple(y.shape[:axis]) + (n, m) + tuple(y.shape[axis + 1 :]))


def _conv_rule(vals, dims, **params):
    (x, w), (dx, dw) = vals, dims
    if dx is not None and dw is not None:
        return _vmap.loop_rule(C.conv2d_p, vals, dims, params)
    if dx is not None:
        xf, n = _fold(x, dx, 0)
        return _unfold(C.conv2d_p.bind(xf, w, **params), 0, n), 0
    wf, n = _fold(w, dw, 0)
    return _unfold(C.conv2d_p.bind(x, wf, **params), 1, n), 1


def _conv_input_rule(vals, dims, *, x_shape, **params):
    (g, w), (dg, dw) = vals, dims
    if dg is not None and dw is not None:
        return _vmap.loop_rule(C.conv2d_input_p, vals, dims, dict(x_shape=x_shape, **params))
    if dg is not None:
        gf, n = _fold(g, dg, 0)
        xs = (n * x_shape[0],) + tuple(x_shape[1:])
        return _unfold(C.conv2d_input_p.bind(gf, w, x_shape=xs, **params), 0, n), 0
    wf, n = _fold(w, dw, 1)
    xs = (x_shape[0], n * x_shape[1]) + tuple(x_shape[2:])
    return _unfold(C.conv2d_input_p.bind(g, wf, x_shape=xs, **params), 1, n), 1


def _conv_weight_rule(vals, dims, *, w_shape, **params):
    (x, g), (dx, dg) = vals, dims
    if dx is not None and dg is not None:
        return _vmap.loop_rule(C.conv2d_weight_p, vals, dims, dict(w_shape=w_shape, **params))
    if dx is not None:
        xf, n = _fold(x, dx, 1)
        ws = (w_shape[0], n * w_shape[1]) + tuple(w_shape[2:])
        return _unfold(C.conv2d_weight_p.bind(xf, g, w_shape=ws, **params), 1, n), 1
    gf, n = _fold(g, dg, 1)
    ws = (n * w_shape[0],) + tuple(w_shape[1:])
    return _unfold(C.conv2d_weight_p.bind(x, gf, w_shape=ws, **params), 0, n), 0


register(C.conv2d_p, batch=_conv_rule)
register(C.conv2d_input_p, batch=_conv_input_rule)
register(C.conv2d_weight_p, batch=_conv_weight_rule)


# --- custom derivatives -------------------------------------------------------------------------
#
# A custom_jvp/custom_vjp call under vmap becomes one call of a new custom function on the
# whole batch: its function is the vmapped function and its rules the vmapped rules, so the
# transforms around the vmap still see the user's rules.


def _named(fn, call, what: str):
    fn.__name__ = fn.__qualname__ = f"vmap({call.name}).{what}" if what else f"vmap({call.name})"
    return fn


def _custom_jvp_rule(vals, dims, *, call):
    dims = tuple(dims)

    def jvp_rule(primals, tangents):
        def one(ps, ts):
            outs, touts = call.jvp(list(ps), list(ts))
            touts = [zeros_like_aval(get_aval(o)) if t is None else t for o, t in zip(outs, touts)]
            return outs, touts

        return vmap(one, in_axes=(dims, dims))(tuple(primals), tuple(tangents))

    batched = custom_jvp(_named(lambda *xs: vmap(call.fun, in_axes=dims)(*xs), call, ""))
    batched.defjvp(_named(jvp_rule, call, "jvp"))
    outs = batched(*vals)
    return outs, [0] * len(outs)


def _custom_vjp_rule(vals, dims, *, call, **_):
    dims = tuple(dims)
    res_info = {}

    def fwd(*xs):
        def one(*leaves):
            outs, res = call.fwd(*leaves)
            res_leaves, res_info["tree"] = tree_flatten(res)
            res_info["traced"] = [isinstance(r, (Tensor, Tracer)) for r in res_leaves]
            res_info["static"] = [r for r in res_leaves if not isinstance(r, (Tensor, Tracer))]
            return outs, [r for r in res_leaves if isinstance(r, (Tensor, Tracer))]

        return vmap(one, in_axes=dims)(*xs)

    def bwd(res, g):
        def one(res_t, gs):
            it, st = iter(res_t), iter(res_info["static"])
            leaves = [next(it) if t else next(st) for t in res_info["traced"]]
            return call.bwd(tree_unflatten(res_info["tree"], leaves), list(gs))

        cts = vmap(one)(res, g)
        # An unbatched input was shared by the whole batch: its cotangent is the batch's sum.
        return tuple(
            None if c is None else F.sum(c, axis=0) if d is None else _moved(c, 0, d)
            for c, d in zip(cts, dims)
        )

    fun = _named(lambda *xs: vmap(call.fun, in_axes=dims)(*xs), call, "")
    batched = custom_vjp(fun, forward_mode=call.cf.forward_mode)
    batched.defvjp(_named(fwd, call, "fwd"), _named(bwd, call, "bwd"))
    outs = batched(*vals)
    return outs, [0] * len(outs)


register(custom_jvp_call_p, batch=_custom_jvp_rule)
register(custom_vjp_call_p, batch=_custom_vjp_rule)
