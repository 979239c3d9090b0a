"""The public derivative transforms built on forward (jvp) and reverse (vjp) mode."""

from __future__ import annotations

import functools
import operator

from fieldgrad import fields as F
from fieldgrad.fields import Primitive
from fieldgrad.fields._core import ShapedArray
from fieldgrad.fields._pytree import tree_flatten, tree_map, tree_unflatten

from . import _rules
from ._jvp import jvp, jvp_flat
from ._reverse import VJPTracer, vjp_flat
from ._util import check_float_input, check_tangent, is_float
from ._vmap import vmap

__all__ = [
    "vjp",
    "grad",
    "value_and_grad",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "linearize",
    "stop_gradient",
]


# --- stop_gradient ------------------------------------------------------------------------------

stop_gradient_p = Primitive(
    "stop_gradient",
    lambda x: x,
    lambda x: ShapedArray(x.shape, x.dtype, x.weak_type),
)
_rules.register_nondiff(stop_gradient_p)


def stop_gradient(x):
    """``x`` unchanged, but no derivative flows through it (in every mode, at every order).

    Example:
        >>> import fieldgrad as fg
        >>> float(fg.grad(lambda x: x * fg.stop_gradient(x))(fg.tensor(3.0)))
        3.0
    """
    return tree_map(lambda v: stop_gradient_p.bind(F.asarray(v)), x)


# --- reverse mode -------------------------------------------------------------------------------


def vjp(f, *primals, has_aux: bool = False):
    """Reverse-mode derivative: ``f(*primals)`` and a function pulling cotangents back.

    Args:
        f: function of pytrees of tensors returning a pytree of tensors (with ``has_aux``,
            a pair ``(output, aux)``; ``aux`` is returned as is).
        *primals: the arguments.

    Returns:
        ``(out, vjp_fn)`` (``(out, vjp_fn, aux)`` with ``has_aux``); ``vjp_fn(ct)`` takes a
        cotangent of the output's structure and returns a tuple with one cotangent per argument.

    Example:
        >>> import fieldgrad as fg
        >>> y, pull = fg.vjp(lambda x: x * x, fg.tensor([1.0, 2.0]))
        >>> pull(fg.ones(2))[0].tolist()
        [2.0, 4.0]
    """
    leaves, in_tree = tree_flatten(tuple(primals))
    leaves = [F.asarray(x) for x in leaves]
    for k, x in enumerate(leaves):
        check_float_input(x, "vjp", k)
    meta = {}

    def f_flat(*xs):
        out = f(*tree_unflatten(in_tree, list(xs)))
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("vjp(has_aux=True): f must return a pair (output, aux)")
            out, aux = out
            # aux leaves come back as values, not as tracers of this (finished) trace
            main = xs[0]._trace.main if xs and isinstance(xs[0], VJPTracer) else None
            aux_leaves, aux_tree = tree_flatten(aux)
            meta["aux"] = tree_unflatten(aux_tree, [_primal_of(a, main) for a in aux_leaves])
        out_leaves, meta["out_tree"] = tree_flatten(out)
        return [F.asarray(o) for o in out_leaves]

    outs, backward = vjp_flat(f_flat, leaves)
    out_tree = meta["out_tree"]

    def vjp_fn(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(
                f"vjp_fn: cotangent structure {ct_tree} differs from the output's {out_tree}"
            )
        ct_leaves = [check_tangent(o, F.asarray(c), "vjp_fn") for o, c in zip(outs, ct_leaves)]
        return tree_unflatten(in_tree, backward(ct_leaves))

    out = tree_unflatten(out_tree, outs)
    if has_aux:
        return out, vjp_fn, meta["aux"]
    return out, vjp_fn


def _primal_of(x, main):
    """``x`` with the tracers of the VJP trace ``main`` replaced by their primal values."""
    while isinstance(x, VJPTracer) and x._trace.main is main:
        x = x.primal
    return x


def _argnums_tuple(argnums, nargs: int, where: str):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -nargs <= operator.index(a) < nargs:
            raise ValueError(f"{where}: argnums {argnums} out of range for {nargs} arguments")
    return single, tuple(a % nargs for a in nums)


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """A function returning ``f(*args)`` and its gradient with respect to ``args[argnums]``.

    ``f`` must return a scalar (one float element); with ``has_aux`` a pair ``(scalar, aux)``
    and the result is ``((value, aux), grad)``.

    Raises:
        TypeError: the output is not a float scalar, or a differentiated argument is not float.

    Example:
        >>> import fieldgrad as fg
        >>> v, g = fg.value_and_grad(lambda x: fg.sum(x ** 2))(fg.tensor([1.0, 2.0]))
        >>> float(v), g.tolist()
        (5.0, [2.0, 4.0])
    """

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), "grad")
        diff = tuple(args[a] for a in nums)

        def g(*dargs):
            full = list(args)
            for a, v in zip(nums, dargs):
                full[a] = v
            return f(*full, **kwargs)

        res = vjp(g, *diff, has_aux=has_aux)
        out, pull = res[0], res[1]
        if not hasattr(out, "shape") or out.size != 1 or not hasattr(out, "dtype"):
            raise TypeError(
                "grad requires f to return a scalar (a tensor of one element); got "
                f"{getattr(out, 'shape', type(out).__name__)}. Use jacrev/vjp for other outputs."
            )
        if out.dtype not in (F.float32, F.float64):
            raise TypeError(f"grad requires a float output, got {out.dtype.name}")
        grads = pull(F.ones(out.shape, dtype=out.dtype))
        grads = grads[0] if single else tuple(grads)
        if has_aux:
            return (out, res[2]), grads
        return out, grads

    return wrapped


def grad(f, argnums=0, has_aux: bool = False):
    """The gradient of a scalar function with respect to ``args[argnums]`` (pytrees allowed).

    Example:
        >>> import fieldgrad as fg
        >>> fg.grad(lambda x: fg.sum(fg.sin(x)))(fg.tensor([0.0])).tolist()
        [1.0]
    """
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        (value_aux, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value_aux[1]
        return g

    return wrapped


# --- Jacobians ----------------------------------------------------------------------------------


def _basis(leaves: list) -> list:
    """The standard basis of the concatenated leaves, split per leaf: with ``N`` elements in
    all, leaf ``j`` gets a tensor of shape ``(N,) + leaves[j].shape`` (one ``eye`` each)."""
    n_all = sum(x.size for x in leaves)
    out, off = [], 0
    for x in leaves:
        e = F.eye(n_all, x.size, k=-off, dtype=x.dtype)
        out.append(F.reshape(e, (n_all,) + tuple(x.shape)))
        off += x.size
    return out


def _blocks(stacked, n_leaves: list, shapes_before: list, shapes_after: list, forward: bool):
    """Split the result of a batched Jacobian pass into blocks.

    ``stacked[i]`` has shape ``(N,) + shapes_before[i]``, where the basis axis ``N =
    sum(n_leaves)`` runs over the leaves of the other side, of shapes ``shapes_after``. Returns
    ``blocks[i][j]`` of shape ``shapes_before[i] + shapes_after[j]`` when ``forward`` (columns
    of the Jacobian: the basis axis goes last), else ``shapes_after[j] + shapes_before[i]``
    (reverse mode: rows, the basis axis stays first).
    """
    blocks = []
    for s, before in zip(stacked, shapes_before):
        row, off = [], 0
        for n, after in zip(n_leaves, shapes_after):
            b = s if len(n_leaves) == 1 else s[off : off + n]
            off += n
            if forward:
                b = F.moveaxis(b, 0, -1) if b.ndim > 1 else b
                row.append(F.reshape(b, tuple(before) + tuple(after)))
            else:
                row.append(F.reshape(b, tuple(after) + tuple(before)))
        blocks.append(row)
    return blocks


def _jac_setup(f, args, argnums, where: str):
    """The flattened differentiated leaves and ``f`` as a function of them."""
    single, nums = _argnums_tuple(argnums, len(args), where)
    leaves, in_tree = tree_flatten(tuple(args[a] for a in nums))
    leaves = [F.asarray(x) for x in leaves]
    for a in nums:
        for x in tree_flatten(args[a])[0]:
            check_float_input(F.asarray(x), where, a)
    meta = {}

    def f_flat(*xs):
        full = list(args)
        for a, v in zip(nums, tree_unflatten(in_tree, list(xs))):
            full[a] = v
        out_leaves, meta["out_tree"] = tree_flatten(f(*full))
        return [F.asarray(o) for o in out_leaves]

    return single, leaves, in_tree, f_flat, meta


def _assemble(blocks, single: bool, in_tree, out_tree):
    """Per output leaf, the Jacobian blocks in the structure of the differentiated arguments;
    then the output's structure around them."""
    per_out = []
    for row in blocks:
        per_arg = tree_unflatten(in_tree, row)
        per_out.append(per_arg[0] if single else tuple(per_arg))
    return tree_unflatten(out_tree, per_out)


def jacfwd(f, argnums=0):
    """The Jacobian by forward mode: one batched JVP (vmap over the standard basis).

    Args:
        f: function of pytrees of tensors returning a tensor or a pytree of tensors.
        argnums: the argument (int) or arguments (tuple) to differentiate; each may be a pytree
            of float tensors.

    Returns:
        For a tensor output and an int ``argnums``, a tensor of shape ``out.shape + x.shape``.
        In general the output's structure holding, for each output leaf, the structure of the
        differentiated argument (a tuple of them for tuple ``argnums``) with one such block per
        argument leaf.

    Raises:
        TypeError: a differentiated argument is not float.
        ValueError: ``argnums`` out of range.

    Example:
        >>> import fieldgrad as fg
        >>> fg.jacfwd(lambda x: x * x)(fg.tensor([1.0, 2.0])).tolist()
        [[2.0, 0.0], [0.0, 4.0]]
    """

    def wrapped(*args):
        single, leaves, in_tree, f_flat, meta = _jac_setup(f, args, argnums, "jacfwd")
        sizes = [x.size for x in leaves]
        if sum(sizes) == 0:
            outs = f_flat(*leaves)
            cols = [F.zeros((0,) + tuple(o.shape), dtype=o.dtype) for o in outs]
        else:
            cols = vmap(lambda *ts: jvp_flat(f_flat, leaves, list(ts))[1])(*_basis(leaves))
        blocks = _blocks(
            cols, sizes, [c.shape[1:] for c in cols], [x.shape for x in leaves], forward=True
        )
        return _assemble(blocks, single, in_tree, meta["out_tree"])

    return wrapped


def jacrev(f, argnums=0):
    """The Jacobian by reverse mode: one batched VJP (vmap over the output's standard basis).

    Args and Returns: as :func:`jacfwd` (the same shapes and structure).

    Raises:
        TypeError: a differentiated argument or an output is not float.
        ValueError: ``argnums`` out of range.

    Example:
        >>> import fieldgrad as fg
        >>> fg.jacrev(lambda x: fg.sum(x * x))(fg.tensor([1.0, 2.0])).tolist()
        [2.0, 4.0]
    """

    def wrapped(*args):
        single, leaves, in_tree, f_flat, meta = _jac_setup(f, args, argnums, "jacrev")
        outs, backward = vjp_flat(f_flat, leaves)
        for k, o in enumerate(outs):
            if not is_float(o):
                raise TypeError(
                    f"jacrev: output leaf {k} has dtype {o.dtype.name}; reverse mode needs float "
                    "outputs"
                )
        sizes = [o.size for o in outs]
        if sum(sizes) == 0:
            rows = [F.zeros((0,) + tuple(x.shape), dtype=x.dtype) for x in leaves]
        else:
            rows = vmap(lambda *cts: backward(list(cts)))(*_basis(outs))
        in_shapes, out_shapes = [x.shape for x in leaves], [o.shape for o in outs]
        blocks = _blocks(rows, sizes, in_shapes, out_shapes, forward=False)
        # blocks[j][i]: input leaf j, output leaf i; transpose to output-major.
        blocks = [[blocks[j][i] for j in range(len(leaves))] for i in range(len(outs))]
        return _assemble(blocks, single, in_tree, meta["out_tree"])

    return wrapped


jacobian = jacrev


def hessian(f, argnums=0):
    """The Hessian of a scalar function: ``jacfwd(jacrev(f))``.

    Example:
        >>> import fieldgrad as fg
        >>> fg.hessian(lambda x: fg.sum(x ** 3))(fg.tensor([1.0, 2.0])).tolist()
        [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, primals, tangents):
    """Hessian-vector product of a scalar ``f`` by forward-over-reverse: ``(grad f(x), H v)``.

    Example:
        >>> import fieldgrad as fg
        >>> g, hv = fg.hvp(lambda x: fg.sum(x ** 3), (fg.tensor([1.0]),), (fg.tensor([1.0]),))
        >>> hv.tolist()
        [6.0]
    """
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, argnums=argnums), tuple(primals), tuple(tangents))


def linearize(f, *primals):
    """``f(*primals)`` and the linear map ``t -> J t`` (each call runs one forward-mode pass).

    Example:
        >>> import fieldgrad as fg
        >>> y, lin = fg.linearize(fg.exp, fg.tensor(0.0))
        >>> float(lin(fg.tensor(2.0)))
        2.0
    """
    out = f(*primals)

    def f_jvp(*tangents):
        return jvp(f, primals, tangents)[1]

    return out, f_jvp
