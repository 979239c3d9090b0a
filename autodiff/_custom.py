"""Custom derivative rules: :class:`custom_jvp` and :class:`custom_vjp` (JAX semantics).

A call of a custom function binds one primitive, ``custom_jvp_call`` or ``custom_vjp_call``,
on the flat tensor leaves of its differentiable arguments; the call object travels in the
params and knows how to evaluate the function and its rules. Every trace then treats the call
like any other primitive:

* eagerly (and on constants) the impl runs the undecorated function;
* under ``jvp`` the ``custom_jvp_call`` rule calls the user's JVP on the primals and tangents;
  ``custom_vjp_call`` raises (forward mode of a reverse-only rule), unless the function was made
  with ``forward_mode="differentiate_fun"`` (then the undecorated function is differentiated);
* under ``vjp``/``grad`` one tape node is recorded. For ``custom_vjp`` the user's ``fwd`` runs on
  the primal values (outside the tape) and the node keeps its residuals for ``bwd``. For
  ``custom_jvp`` the node pulls cotangents back through the transpose of the user's JVP
  (reverse mode over the JVP, which is linear in the tangents), so a JVP rule written in
  fieldgrad ops is differentiable to every order in every mode;
* under ``vmap`` the batching rules (``rules/batching.py``) make the call one call of a new
  custom function whose function and rules are the vmapped ones; under ``jet`` the fallback
  of nested forward mode re-binds the primitive. Either way the custom rules still apply to
  the transforms around them.

Rules written with fieldgrad ops are traced by any transform active around the call, so
``bwd`` and the JVP rule are differentiable again.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import operator

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields import Primitive, Tensor, Tracer, _core, full_lower, full_raise, new_dynamic
from fieldgrad.fields._core import find_top_trace, get_aval
from fieldgrad.fields._dtypes import FLOATS
from fieldgrad.fields._pytree import _hashable, _node, tree_flatten, tree_unflatten

from . import _rules
from ._jvp import jvp_flat
from ._reverse import Node, VJPTrace, VJPTracer, vjp_flat
from ._util import is_float, zeros_like_aval

__all__ = ["custom_jvp", "custom_vjp"]

_FORWARD_MODES = ("error", "differentiate_fun")


# --- arguments and outputs ----------------------------------------------------------------------


def _nondiff_tuple(nums, where: str) -> tuple:
    nums = (nums,) if isinstance(nums, int) else tuple(nums)
    out = []
    for a in nums:
        a = operator.index(a)
        if a < 0:
            raise ValueError(f"{where}: nondiff_argnums must be non-negative, got {a}")
        out.append(a)
    return tuple(sorted(set(out)))


def _resolve_args(fun, args: tuple, kwargs: dict, where: str) -> tuple:
    """Keyword arguments bound to positions through ``fun``'s signature."""
    if not kwargs:
        return tuple(args)
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(
            f"{where}: keyword-only arguments {sorted(bound.kwargs)} are not supported by "
            "custom-derivative functions; pass them positionally or close over them"
        )
    return tuple(bound.args)


def as_leaf(x, where: str, hint: str = "pass other arguments through nondiff_argnums"):
    """A pytree leaf as a tensor (numbers and numpy arrays are converted)."""
    if isinstance(x, (Tensor, Tracer)):
        return x
    if isinstance(x, (numbers.Number, np.ndarray, np.generic)):
        return F.asarray(x)
    raise TypeError(
        f"{where}: got a leaf of type {type(x).__name__}, expected a tensor, a number or a "
        f"numpy array; {hint}"
    )


class _Call:
    """One call of a custom-derivative function on the flat leaves of its arguments.

    Nondiff arguments are kept by position in ``static``; the differentiable ones are flattened
    to ``leaves`` with structure ``in_tree``. Every path that evaluates the function or a rule
    records the output structure ``out_tree`` (and checks that the paths agree).
    """

    __slots__ = (
        "cf",
        "nargs",
        "static",
        "in_tree",
        "arg_trees",
        "leaves",
        "leaf_avals",
        "own_mains",
        "out_tree",
        "out_avals",
    )

    def __init__(self, cf, args: tuple):
        self.cf = cf
        self.nargs = len(args)
        for a in cf.nondiff_argnums:
            if a >= len(args):
                raise ValueError(
                    f"{cf.__name__}: nondiff_argnums {cf.nondiff_argnums} out of range for "
                    f"{len(args)} arguments"
                )
        self.static = {a: args[a] for a in cf.nondiff_argnums}
        diff = tuple(a for k, a in enumerate(args) if k not in self.static)
        leaves, self.in_tree = tree_flatten(diff)
        self.arg_trees = [tree_flatten(a) for a in diff]
        self.leaves = [as_leaf(x, cf.__name__) for x in leaves]
        self.leaf_avals = [get_aval(x) for x in self.leaves]
        # The transformations active at the call from the one it is dispatched to up: no output
        # of the function or its rules may be traced by them (that means a closed-over tracer).
        level = find_top_trace(self.leaves).main.level
        self.own_mains = tuple(m for m in _core._trace_stack if m.level >= level)
        self.out_tree = None
        self.out_avals = None

    @property
    def name(self) -> str:
        return self.cf.__name__

    def static_values(self) -> list:
        return [self.static[a] for a in sorted(self.static)]

    def diff_args(self, leaves) -> tuple:
        return tree_unflatten(self.in_tree, list(leaves))

    def full_args(self, leaves) -> list:
        it = iter(self.diff_args(leaves))
        return [self.static[k] if k in self.static else next(it) for k in range(self.nargs)]

    def flat_out(self, out, what: str) -> list:
        leaves, tree = tree_flatten(out)
        if self.out_tree is None:
            self.out_tree = tree
        elif tree != self.out_tree:
            raise TypeError(
                f"{self.name}: {what} has the output structure {tree}, but the function's "
                f"output has {self.out_tree}"
            )
        leaves = [as_leaf(o, f"{self.name}: {what}") for o in leaves]
        self.check_closure(leaves, what)
        if self.out_avals is None:
            self.out_avals = [get_aval(o) for o in leaves]
        return leaves

    def fun(self, *leaves) -> list:
        return self.flat_out(self.cf.fun(*self.full_args(leaves)), "the function")

    def check_closure(self, values, what: str) -> None:
        """Raise if a value is traced by the call's own transformation (or a popped one)."""
        for v in values:
            if not isinstance(v, Tracer):
                continue
            main = v._trace.main
            if any(main is m for m in self.own_mains) or main not in _core._trace_stack:
                raise TypeError(
                    f"{self.name}: {what} depends on a value traced by an enclosing "
                    "transformation that is not one of the function's arguments (a "
                    "closed-over tracer). Custom derivative rules cover the explicit "
                    "arguments only: pass the value as an argument (fg.checkpoint, unlike "
                    "custom_vjp, supports closures)"
                )


def flatten_up_to(td, tree, what: str) -> list:
    """The values of ``tree`` at the leaf positions of the structure ``td``; a leaf position
    may hold None (a zero), so ``(None, t)`` matches the structure of ``(x, y)``."""
    out: list = []
    stack = [(td, tree)]
    while stack:
        d, x = stack.pop()
        node = None if x is None else _node(x)
        if d.kind is None and node is None:
            out.append(x)
            continue
        if (
            d.kind is None
            or node is None
            or node[0] is not d.kind
            or len(node[1]) != len(d.children)
            or _hashable(node[2]) != _hashable(d.aux)
        ):
            raise TypeError(
                f"{what} has the structure {tree_flatten(tree)[1]}, expected {td} (None may "
                "stand for a zero leaf)"
            )
        stack.extend(reversed(list(zip(d.children, node[1]))))
    return out


def _check_like(x, ra, what: str):
    """``x`` (a tensor or None) with the shape of the aval ``ra``; float dtypes cast to its."""
    if x is None:
        return None
    x = as_leaf(x, what)
    xa = get_aval(x)
    if tuple(xa.shape) != tuple(ra.shape):
        raise ValueError(f"{what} has shape {tuple(xa.shape)}, expected {tuple(ra.shape)}")
    if ra.dtype not in FLOATS:
        return None
    if xa.dtype not in FLOATS:
        raise TypeError(f"{what} has dtype {xa.dtype.name}, expected {ra.dtype.name}")
    return x if xa.dtype == ra.dtype else F.astype(x, ra.dtype)


# --- custom_jvp ---------------------------------------------------------------------------------


class _JVPCall(_Call):
    __slots__ = ()

    def jvp(self, primals: list, tangents: list):
        """The user's rule on flat leaves: (outputs, output tangents, None for a zero)."""
        p_tree = self.diff_args(primals)
        t_tree = self.diff_args(tangents)
        res = self.cf.jvp_rule(*self.static_values(), p_tree, t_tree)
        if not (isinstance(res, (tuple, list)) and len(res) == 2):
            raise TypeError(
                f"{self.name}: the custom JVP rule must return a pair (primal_out, tangent_out), "
                f"got {type(res).__name__}"
            )
        outs = self.flat_out(res[0], "the JVP rule's primal output")
        t_leaves = flatten_up_to(
            self.out_tree, res[1], f"{self.name}: the JVP rule's tangent output"
        )
        touts = [
            _check_like(t, get_aval(o), f"{self.name}: tangent output {k} of the JVP rule")
            for k, (t, o) in enumerate(zip(t_leaves, outs))
        ]
        self.check_closure(touts, "the JVP rule's tangent output")
        return outs, touts


def _custom_impl(*leaves, call, **_):
    return call.fun(*leaves)


def _custom_abstract_eval(*avals, call, **_):
    """The output avals (evaluating the function once on zeros if no path has run yet)."""
    if call.out_avals is None:
        with new_dynamic(None):  # evaluate for real, also while jit is staging
            call.fun(*[zeros_like_aval(a) for a in avals])
    return list(call.out_avals)


def _custom_jvp_rule(primals, tangents, *, call):
    return call.jvp(list(primals), list(tangents))


def _custom_jvp_transpose(g, ans, *primals, call):
    """Pull ``g`` back through the transpose of the JVP rule at ``primals``.

    The rule is linear in the tangents, so its VJP with respect to the tangents (taken at zero
    tangents) is the transpose, whatever the rule computes for the primal output.
    """
    diff = [k for k, p in enumerate(primals) if is_float(p)]

    def tangent_map(*ts):
        tangents = [None] * len(primals)
        for k, t in zip(diff, ts):
            tangents[k] = t
        outs, touts = call.jvp(list(primals), tangents)
        return [zeros_like_aval(get_aval(o)) if t is None else t for o, t in zip(outs, touts)]

    zeros = [zeros_like_aval(get_aval(primals[k])) for k in diff]
    _, pull = vjp_flat(tangent_map, zeros)
    cts = pull(list(g))
    out = [None] * len(primals)
    for k, c in zip(diff, cts):
        out[k] = c
    return tuple(out)


custom_jvp_call_p = Primitive(
    "custom_jvp_call", _custom_impl, _custom_abstract_eval, multiple_results=True
)
_rules.register(custom_jvp_call_p, jvp=_custom_jvp_rule, vjp=_custom_jvp_transpose)


class custom_jvp:
    """A function with a custom forward-mode rule (JAX's ``jax.custom_jvp``).

    Define the rule with :meth:`defjvp`: ``jvp(primals, tangents) -> (primal_out,
    tangent_out)``, where ``primals`` and ``tangents`` are tuples with one entry per
    (differentiable) argument. Tangents of integer or bool inputs are ``None``; a ``tangent_out``
    of ``None`` means zero. The rule must be linear in the tangents.

    Reverse mode (``grad``, ``vjp``) transposes the rule, so a rule written with fieldgrad ops
    gives derivatives of every order in every mode; the backward pass evaluates the rule once
    more at the saved primals. Under ``vmap`` and ``jet`` the rule applies too. The rule covers the
    explicit arguments only: a function that closes over a value traced by the same
    transformation raises TypeError (pass the value as an argument).

    Args:
        fun: the function: pytrees of tensors in, a pytree of tensors out.
        nondiff_argnums: positions of arguments that are not differentiated (any Python value:
            ints, functions, ...). They are passed unchanged to ``fun`` and first, in order,
            to the rule: ``jvp(*nondiff_args, primals, tangents)``.

    Raises:
        AttributeError: the function is called before :meth:`defjvp`.
        TypeError: the rule returns no pair, or a tangent structure or dtype that differs from
            the primal output's.
        ValueError: a tangent output's shape differs from its primal output's.

    Example:
        >>> import fieldgrad as fg
        >>> @fg.custom_jvp
        ... def f(x):
        ...     return fg.sin(x)
        >>> @f.defjvp
        ... def f_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return f(x), 2.0 * t  # a deliberately wrong derivative
        >>> float(fg.grad(f)(fg.tensor(0.3)))
        2.0
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _nondiff_tuple(nondiff_argnums, "custom_jvp")
        self.jvp_rule = None

    def defjvp(self, jvp):
        """Set the JVP rule ``jvp(*nondiff_args, primals, tangents) -> (out, tangent_out)``.

        Returns ``jvp``, so this works as a decorator.
        """
        if not callable(jvp):
            raise TypeError(f"defjvp expects a function, got {type(jvp).__name__}")
        self.jvp_rule = jvp
        return jvp

    def defjvps(self, *jvps):
        """Set the rule as one function per argument: ``jvps[k](t_k, ans, *primals)`` is the
        tangent contribution of argument ``k`` (``None``: no contribution); they are summed.

        Example:
            >>> import fieldgrad as fg
            >>> f = fg.custom_jvp(lambda x, y: x * y)
            >>> f.defjvps(lambda tx, ans, x, y: tx * y, lambda ty, ans, x, y: x * ty)
            >>> float(fg.grad(f, argnums=1)(fg.tensor(3.0), fg.tensor(2.0)))
            3.0
        """
        if self.nondiff_argnums:
            raise TypeError("defjvps does not support nondiff_argnums; use defjvp")

        def jvp(primals, tangents):
            ans = self.fun(*primals)
            total = None
            for rule, t in zip(jvps, tangents):
                if rule is None or t is None:
                    continue
                part = rule(t, ans, *primals)
                total = part if total is None else F.add(total, part)
            return ans, total

        self.jvp_rule = jvp

    def __call__(self, *args, **kwargs):
        if self.jvp_rule is None:
            raise AttributeError(
                f"no JVP rule is defined for the custom_jvp function {self.__name__}: "
                "call .defjvp(rule) first"
            )
        call = _JVPCall(self, _resolve_args(self.fun, args, kwargs, self.__name__))
        leaves, call.leaves = call.leaves, None
        outs = custom_jvp_call_p.bind(*leaves, call=call)
        return tree_unflatten(call.out_tree, outs)


# --- custom_vjp ---------------------------------------------------------------------------------


class _VJPCall(_Call):
    __slots__ = ()

    def fwd(self, *leaves):
        res = self.cf.fwd(*self.full_args(leaves))
        if not (isinstance(res, (tuple, list)) and len(res) == 2):
            raise TypeError(
                f"{self.name}: fwd must return a pair (primal_out, residuals), got "
                f"{type(res).__name__}"
            )
        return self.flat_out(res[0], "fwd's primal output"), res[1]

    def bwd(self, residuals, g: list) -> list:
        """The user's ``bwd`` on flat cotangents; one cotangent (or None) per input leaf."""
        cts = self.cf.bwd(*self.static_values(), residuals, tree_unflatten(self.out_tree, g))
        n = len(self.arg_trees)
        if not isinstance(cts, (tuple, list)) or len(cts) != n:
            got = f"{len(cts)} entries" if isinstance(cts, (tuple, list)) else type(cts).__name__
            raise TypeError(
                f"{self.name}: bwd must return a tuple with one cotangent per differentiable "
                f"argument ({n}), got {got}"
            )
        out = []
        pos = 0
        for k, (ct, (arg_leaves, arg_tree)) in enumerate(zip(cts, self.arg_trees)):
            refs = self.leaf_avals[pos : pos + len(arg_leaves)]
            pos += len(arg_leaves)
            if ct is None:
                out.extend([None] * len(refs))
                continue
            ct_leaves = flatten_up_to(
                arg_tree, ct, f"{self.name}: bwd's cotangent for argument {k}"
            )
            out.extend(
                _check_like(c, r, f"{self.name}: bwd's cotangent for argument {k}")
                for c, r in zip(ct_leaves, refs)
            )
        self.check_closure(out, "bwd's result")
        return out


_RECOMPUTE = object()


def _custom_vjp_rule(g, ans, *primals, call, residuals=_RECOMPUTE):
    if residuals is _RECOMPUTE:  # recorded by the generic trace: fwd was not run yet
        _, residuals = call.fwd(*primals)
    return tuple(call.bwd(residuals, list(g)))


def _custom_vjp_jvp(primals, tangents, *, call):
    if call.cf.forward_mode == "error":
        raise TypeError(
            f"{call.name} is a custom_vjp function: it supports reverse mode (grad, vjp, "
            "jacrev) only, not forward mode (jvp, jacfwd, linearize, jet). Define it with "
            "custom_jvp instead, or make it with custom_vjp(..., "
            "forward_mode='differentiate_fun') to differentiate the undecorated function in "
            "forward mode"
        )
    return jvp_flat(call.fun, list(primals), list(tangents))


custom_vjp_call_p = Primitive(
    "custom_vjp_call", _custom_impl, _custom_abstract_eval, multiple_results=True
)
_rules.register(custom_vjp_call_p, jvp=_custom_vjp_jvp, vjp=_custom_vjp_rule)


def _record_vjp(trace: VJPTrace, call: _VJPCall, leaves: list) -> list:
    """Under the reverse-mode trace: run ``fwd`` below the tape and record one node."""
    tracers = [full_raise(trace, x) for x in leaves]
    primals = [t.primal for t in tracers]
    refs = [t.ref for t in tracers]
    if all(r is None for r in refs):
        outs = custom_vjp_call_p.bind(*primals, call=call)
        return [VJPTracer(trace, o, None) for o in outs]
    outs, residuals = call.fwd(*primals)
    call.check_closure(tree_flatten(residuals)[0], "fwd's residuals")
    avals = [get_aval(o) for o in outs]
    params = {"call": call, "residuals": residuals}
    node = Node(custom_vjp_call_p, params, refs, primals, outs, avals)
    return [
        VJPTracer(trace, o, (node, k) if a.dtype in FLOATS else None)
        for k, (o, a) in enumerate(zip(outs, avals))
    ]


class custom_vjp:
    """A function with a custom reverse-mode rule (JAX's ``jax.custom_vjp``).

    Define the rule with :meth:`defvjp`: ``fwd(*args) -> (out, residuals)`` computes the
    output and whatever ``bwd`` needs (any Python object holding tensors);
    ``bwd(residuals, g) -> tuple`` returns one cotangent per differentiable argument (of the
    argument's structure, or ``None`` for zero), given the output cotangent ``g``.

    Under ``grad``/``vjp`` the function costs one call of ``fwd`` in the forward pass and one of
    ``bwd`` in the backward pass, and takes one tape node. ``bwd`` written with fieldgrad ops is
    traced by the transforms around it, so ``grad(grad(f))`` and ``jvp(grad(f))`` work (for the
    latter, compute ``fwd``'s output with fieldgrad ops rather than by calling the custom
    function itself); forward mode applied directly to the function raises (as in JAX) unless
    ``forward_mode`` is ``"differentiate_fun"``. The rules cover the explicit arguments only: a
    function that closes over a value traced by the same transformation raises TypeError (pass
    the value as an argument).

    Args:
        fun: the function: pytrees of tensors in, a pytree of tensors out.
        nondiff_argnums: positions of non-differentiated arguments (any Python values); they
            reach ``fwd`` in place and ``bwd`` first: ``bwd(*nondiff_args, residuals, g)``.
        forward_mode: ``"error"`` (default): forward mode raises TypeError;
            ``"differentiate_fun"``: forward mode differentiates ``fun`` itself.

    Raises:
        AttributeError: the function is called before :meth:`defvjp`.
        TypeError: ``fwd`` returns no pair, ``bwd`` returns the wrong number or structure of
            cotangents, or forward mode is applied with ``forward_mode="error"``.
        ValueError: a cotangent's shape differs from its argument's.

    Example:
        >>> import fieldgrad as fg
        >>> @fg.custom_vjp
        ... def clip_grad(x):
        ...     return x
        >>> def fwd(x):
        ...     return x, None
        >>> def bwd(res, g):
        ...     return (fg.clip(g, -1.0, 1.0),)
        >>> clip_grad.defvjp(fwd, bwd)
        >>> fg.grad(lambda x: fg.sum(3.0 * clip_grad(x)))(fg.tensor([1.0, 2.0])).tolist()
        [1.0, 1.0]
    """

    def __init__(self, fun, nondiff_argnums=(), *, forward_mode: str = "error"):
        functools.update_wrapper(self, fun)
        if forward_mode not in _FORWARD_MODES:
            raise ValueError(
                f"custom_vjp: forward_mode must be one of {_FORWARD_MODES}, got {forward_mode!r}"
            )
        self.fun = fun
        self.nondiff_argnums = _nondiff_tuple(nondiff_argnums, "custom_vjp")
        self.forward_mode = forward_mode
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd, bwd) -> None:
        """Set ``fwd(*args) -> (out, residuals)`` and ``bwd(*nondiff, residuals, g) -> tuple``."""
        if not callable(fwd) or not callable(bwd):
            raise TypeError("defvjp expects two functions, fwd and bwd")
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise AttributeError(
                f"no VJP rule is defined for the custom_vjp function {self.__name__}: "
                "call .defvjp(fwd, bwd) first"
            )
        call = _VJPCall(self, _resolve_args(self.fun, args, kwargs, self.__name__))
        leaves, call.leaves = call.leaves, None
        top = find_top_trace(leaves)
        if isinstance(top, VJPTrace):
            outs = [full_lower(o) for o in _record_vjp(top, call, leaves)]
        else:
            outs = custom_vjp_call_p.bind(*leaves, call=call)
        return tree_unflatten(call.out_tree, outs)
