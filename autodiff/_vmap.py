"""vmap: the batching trace.

A :class:`BatchTracer` holds a value with an extra batch axis (``bdim``; ``None`` when the value
is not batched). Each primitive either has a batching rule (``batch`` table) or falls back to a
loop: the batch is split along its axis, the primitive applied to every slice, and the results
stacked, so every primitive can be vmapped (fast rules make the common ones a single call).
"""

from __future__ import annotations

import operator

from fieldgrad import fields as F
from fieldgrad.fields import Trace, Tracer, full_raise, new_main
from fieldgrad.fields._core import ShapedArray, get_aval
from fieldgrad.fields._pytree import tree_flatten, tree_unflatten

from . import _rules

__all__ = ["vmap"]


class BatchTracer(Tracer):
    __slots__ = ("_trace", "val", "bdim")

    def __init__(self, trace: Trace, val, bdim):
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self):
        a = get_aval(self.val)
        if self.bdim is None:
            return a
        shape = tuple(a.shape[: self.bdim]) + tuple(a.shape[self.bdim + 1 :])
        return ShapedArray(shape, a.dtype, a.weak_type)

    def full_lower(self):
        return self.val if self.bdim is None else self


def move_to_front(x, bdim):
    """``x`` with its batch axis first (``bdim`` None: returned unchanged)."""
    if bdim is None or bdim == 0:
        return x
    return F.moveaxis(x, bdim, 0)


def batch_size_of(vals, dims) -> int:
    sizes = {v.shape[d] for v, d in zip(vals, dims) if d is not None}
    if len(sizes) != 1:
        raise ValueError(f"vmap: batched arguments have different batch sizes {sorted(sizes)}")
    return sizes.pop()


def _loop_rule(prim, vals, dims, params):
    """Fallback: apply the primitive to each batch element and stack the results."""
    n = batch_size_of(vals, dims)
    vals = [move_to_front(v, d) for v, d in zip(vals, dims)]
    outs = []
    for i in range(n):
        args = [v[i] if d is not None else v for v, d in zip(vals, dims)]
        outs.append(prim.bind(*args, **params))
    if prim.multiple_results:
        return [F.stack([o[k] for o in outs]) for k in range(len(outs[0]))], [0] * len(outs[0])
    return F.stack(outs), 0


class BatchTrace(Trace):
    def pure(self, val):
        return BatchTracer(self, F.asarray(val) if not isinstance(val, Tracer) else val, None)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.bdim for t in tracers]
        if all(d is None for d in dims):
            out = prim.bind(*vals, **params)
            if prim.multiple_results:
                return [BatchTracer(self, o, None) for o in out]
            return BatchTracer(self, out, None)
        if _rules.has_rule("batch", prim):
            out, odim = _rules.lookup("batch", prim)(vals, dims, **params)
        else:
            out, odim = _loop_rule(prim, vals, dims, params)
        if prim.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(out, odim)]
        return BatchTracer(self, out, odim)


def _broadcast_axes(spec, tree, where: str) -> list:
    """Per-leaf axes from an int/None or a pytree prefix of ``tree``."""
    leaves, td = tree_flatten(tree)
    if spec is None or isinstance(spec, int):
        return [spec] * len(leaves)
    if isinstance(spec, (tuple, list)) and isinstance(tree, (tuple, list)):
        if len(spec) != len(tree):
            raise ValueError(
                f"vmap: {where} has {len(spec)} entries for {len(tree)} arguments/outputs"
            )
        out = []
        for s, t in zip(spec, tree):
            out.extend(_broadcast_axes(s, t, where))
        return out
    if isinstance(spec, dict) and isinstance(tree, dict):
        out = []
        for k in sorted(tree):
            out.extend(_broadcast_axes(spec.get(k, 0), tree[k], where))
        return out
    raise TypeError(f"vmap: {where} must be an int, None or a tuple/dict matching the arguments")


def vmap(f, in_axes=0, out_axes=0):
    """Vectorise ``f`` over a batch axis of its arguments.

    Args:
        f: function of pytrees of tensors.
        in_axes: for each argument the axis to map over (``None``: not mapped); an int applies
            to every argument; nested tuples/dicts give per-leaf axes.
        out_axes: where the batch axis goes in the outputs (int, or a tuple per output).

    Returns:
        The batched function. ``vmap(f)(xs)`` equals stacking ``f(x)`` over the slices of
        ``xs``; transformations nest (``vmap(grad(f))``, ``jacfwd(vmap(f))``, ``vmap(vmap(f))``).

    Raises:
        ValueError: mapped arguments have different sizes, or an axis is out of range.

    Example:
        >>> import fieldgrad as fg
        >>> fg.vmap(lambda v: fg.sum(v * v))(fg.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [5.0, 25.0]
    """

    def batched(*args):
        args_t = tuple(args)
        leaves, in_tree = tree_flatten(args_t)
        axes = _broadcast_axes(
            in_axes if not isinstance(in_axes, list) else tuple(in_axes), args_t, "in_axes"
        )
        leaves = [F.asarray(x) for x in leaves]
        dims = []
        for x, a in zip(leaves, axes):
            if a is None:
                dims.append(None)
                continue
            a = operator.index(a)
            if not -x.ndim <= a < x.ndim:
                raise ValueError(
                    f"vmap: in_axes {a} out of range for an argument of shape {x.shape}"
                )
            dims.append(a % x.ndim)
        if all(d is None for d in dims):
            raise ValueError("vmap: in_axes maps no argument; at least one axis must be an int")
        batch_size_of(leaves, dims)
        with new_main(BatchTrace) as main:
            trace = BatchTrace(main)
            ins = [BatchTracer(trace, x, d) for x, d in zip(leaves, dims)]
            out = f(*tree_unflatten(in_tree, ins))
            out_leaves, out_tree = tree_flatten(out)
            outs = [
                full_raise(trace, F.asarray(o) if not isinstance(o, Tracer) else o)
                for o in out_leaves
            ]
            oaxes = _broadcast_axes(out_axes, out, "out_axes")
            n = batch_size_of(leaves, dims)
            results = []
            for o, oa in zip(outs, oaxes):
                v = o.val
                if o.bdim is None:
                    v = F.broadcast_to(F.expand_dims(v, 0), (n,) + tuple(v.shape))
                    bd = 0
                else:
                    bd = o.bdim
                if oa is None:
                    raise ValueError("vmap: out_axes None is only valid for unbatched outputs")
                oa = oa % v.ndim
                results.append(F.moveaxis(v, bd, oa) if bd != oa else v)
        return tree_unflatten(out_tree, results)

    return batched
