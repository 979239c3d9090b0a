"""vmap: the batching trace.

A :class:`BatchTracer` holds a value with an extra batch axis (``bdim``; ``None`` when the value
is not batched). Each primitive either has a batching rule (``batch`` table, see
:mod:`fieldgrad.autodiff.rules.batching`) that handles the whole batch in one call, or falls
back to :func:`loop_rule`: the batch is split along its axis, the primitive applied to every
slice, and the results stacked, so every primitive can be vmapped.
"""

from __future__ import annotations

import operator

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields import Trace, Tracer, full_raise, new_main
from fieldgrad.fields._core import ShapedArray, get_aval
from fieldgrad.fields._ops_gather import slice_p
from fieldgrad.fields._ops_shape import reshape_p
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
    """The common length of the batch axes of ``vals`` (ValueError naming them if they differ)."""
    sizes = {v.shape[d] for v, d in zip(vals, dims) if d is not None}
    if len(sizes) != 1:
        raise ValueError(f"vmap: batched operands have different batch sizes {sorted(sizes)}")
    return sizes.pop()


def _element(v, i: int):
    """``v[i]`` for a value batched along its first axis (one slice, one free reshape)."""
    rest = tuple(v.shape[1:])
    nd = v.ndim
    y = slice_p.bind(v, start=(i,) + (0,) * (nd - 1), stride=(1,) * nd, shape=(1,) + rest)
    return reshape_p.bind(y, new_shape=rest)


def loop_rule(prim, vals, dims, params):
    """The fallback for primitives without a batching rule: one call per batch element, the
    results stacked along a new first axis."""
    n = batch_size_of(vals, dims)
    vals = [move_to_front(v, d) for v, d in zip(vals, dims)]
    if n == 0:
        avals = [
            get_aval(v) if d is None else ShapedArray(tuple(v.shape[1:]), v.dtype, v.weak_type)
            for v, d in zip(vals, dims)
        ]
        out = prim.abstract_eval(*avals, **params)
        outs = out if prim.multiple_results else [out]
        zeros = [F.zeros((0,) + tuple(a.shape), dtype=a.dtype) for a in outs]
        return (zeros, [0] * len(zeros)) if prim.multiple_results else (zeros[0], 0)
    outs = []
    for i in range(n):
        args = [_element(v, i) if d is not None else v for v, d in zip(vals, dims)]
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
            out, odim = loop_rule(prim, vals, dims, params)
        if prim.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(out, odim)]
        return BatchTracer(self, out, odim)


# --- axes specifications ------------------------------------------------------------------------


def _broadcast_axes(spec, tree, where: str) -> list:
    """Per-leaf axes from an int/None or a pytree prefix of ``tree``."""
    leaves, _ = tree_flatten(tree)
    if spec is None or _is_axis(spec):
        return [spec] * len(leaves)
    if isinstance(spec, list):
        spec = tuple(spec)
    if isinstance(spec, tuple) and isinstance(tree, (tuple, list)):
        if len(spec) != len(tree):
            raise ValueError(
                f"vmap: {where} has {len(spec)} entries for {len(tree)} "
                f"{'arguments' if where == 'in_axes' else 'outputs'}"
            )
        out = []
        for s, t in zip(spec, tree):
            out.extend(_broadcast_axes(s, t, where))
        return out
    if isinstance(spec, dict) and isinstance(tree, dict):
        extra = sorted(set(spec) - set(tree), key=str)
        if extra:
            raise ValueError(f"vmap: {where} names keys {extra} that the value does not have")
        out = []
        for k in sorted(tree):
            out.extend(_broadcast_axes(spec.get(k, 0), tree[k], where))
        return out
    raise TypeError(
        f"vmap: {where} must be an int, None, or a tuple/list/dict matching the structure of "
        f"the {'arguments' if where == 'in_axes' else 'outputs'}; got {spec!r}"
    )


def _is_axis(spec) -> bool:
    return isinstance(spec, (int, np.integer)) and not isinstance(spec, (bool, np.bool_))


def _as_axis(a):
    return None if a is None else operator.index(a)


def _check_sizes(leaves, dims) -> int:
    """The batch size; ValueError naming two arguments whose mapped axes differ in length."""
    first = None
    for k, (x, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if first is None:
            first = (k, x, d)
            continue
        k0, x0, d0 = first
        if x.shape[d] != x0.shape[d0]:
            raise ValueError(
                f"vmap: mapped axes have different sizes: argument leaf {k0} of shape "
                f"{tuple(x0.shape)} has size {x0.shape[d0]} along axis {d0}, argument leaf "
                f"{k} of shape {tuple(x.shape)} has size {x.shape[d]} along axis {d}"
            )
    return first[1].shape[first[2]]


# --- vmap ---------------------------------------------------------------------------------------


def vmap(f, in_axes=0, out_axes=0):
    """Vectorise ``f`` over a batch axis of its arguments.

    Args:
        f: function of pytrees of tensors returning a pytree of tensors.
        in_axes: for each argument the axis to map over (``None``: not mapped, the same value
            for every batch element); an int applies to every argument; a tuple (one entry
            per argument) of ints, None or nested tuples/lists/dicts gives per-leaf axes.
            Negative axes count from the end.
        out_axes: where the batch axis goes in each output (int, negative allowed, or a tuple
            matching the outputs; ``None`` for an output that does not depend on a mapped
            argument, which is then returned once instead of broadcast).

    Returns:
        The batched function: ``vmap(f)(xs)`` equals stacking ``f(x)`` over the slices of
        ``xs``. Transformations nest: ``vmap(grad(f))``, ``jacfwd(vmap(f))``,
        ``vmap(vmap(f))``. Most primitives run once on the whole batch; the few without a
        batching rule run once per batch element.

    Raises:
        ValueError: mapped arguments have different sizes (both named), an axis is out of
            range, no argument is mapped, ``in_axes``/``out_axes`` do not match the structure,
            or ``out_axes`` is None for an output that is batched.
        TypeError: an axis is not an int or None.

    Example:
        >>> import fieldgrad as fg
        >>> fg.vmap(lambda v: fg.sum(v * v))(fg.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [5.0, 25.0]
    """
    if not callable(f):
        raise TypeError(f"vmap: f must be callable, got {type(f).__name__}")

    def batched(*args):
        args_t = tuple(args)
        leaves, in_tree = tree_flatten(args_t)
        axes = _broadcast_axes(in_axes, args_t, "in_axes")
        leaves = [F.asarray(x) for x in leaves]
        dims = []
        for x, a in zip(leaves, axes):
            a = _as_axis(a)
            if a is not None and not -x.ndim <= a < x.ndim:
                raise ValueError(
                    f"vmap: in_axes {a} out of range for an argument of shape {tuple(x.shape)} "
                    f"({x.ndim} axes)"
                )
            dims.append(None if a is None else a % x.ndim)
        if all(d is None for d in dims):
            raise ValueError(
                "vmap: in_axes maps no argument; at least one argument must have an int axis"
            )
        n = _check_sizes(leaves, dims)
        with new_main(BatchTrace) as main:
            trace = BatchTrace(main)
            ins = [BatchTracer(trace, x, d) for x, d in zip(leaves, dims)]
            out = f(*tree_unflatten(in_tree, ins))
            out_leaves, out_tree = tree_flatten(out)
            oaxes = _broadcast_axes(out_axes, out, "out_axes")
            outs = [full_raise(trace, F.asarray(o)) for o in out_leaves]
            results = [_place_output(o, _as_axis(oa), n) for o, oa in zip(outs, oaxes)]
        return tree_unflatten(out_tree, results)

    return batched


def _place_output(o: BatchTracer, oa, n: int):
    """The value of output ``o`` with its batch axis at ``oa`` (broadcast when unbatched)."""
    v = o.val
    if oa is None:
        if o.bdim is not None:
            raise ValueError(
                f"vmap: out_axes None for an output of shape {tuple(o.aval.shape)} that depends "
                "on a mapped argument; give an int axis"
            )
        return v
    nd = v.ndim + (o.bdim is None)
    if not -nd <= oa < nd:
        raise ValueError(
            f"vmap: out_axes {oa} out of range for a batched output of shape "
            f"{(n,) + tuple(o.aval.shape)}"
        )
    oa %= nd
    if o.bdim is None:
        shape = tuple(v.shape)
        v = F.broadcast_to(F.reshape(v, (1,) + shape), (n,) + shape)
        bd = 0
    else:
        bd = o.bdim
    return F.moveaxis(v, bd, oa) if bd != oa else v
