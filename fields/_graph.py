"""The graph IR that ``fg.jit`` stages functions into.

A :class:`Graph` is a list of equations in topological order; each :class:`Eqn` applies one
primitive with static params to input atoms (variables or captured constants) and defines
output variables. Its text form reads like a small program::

    { lambda a:f32[8,2] b:f32[2] ;
      c:f32[8,2] = mul a b
      d:f32[] = reduce_sum[axes=(0, 1)] c
      in (d) }
"""

from __future__ import annotations

import itertools
from typing import Any

from ._core import Primitive, ShapedArray

_ids = itertools.count()


class Var:
    """A graph variable: an abstract value and an identity."""

    __slots__ = ("aval", "id")

    def __init__(self, aval: ShapedArray):
        self.aval = aval
        self.id = next(_ids)

    def __repr__(self) -> str:
        return f"Var({self.id}:{self.aval})"


class Eqn:
    """``outs = prim[params](*ins)``."""

    __slots__ = ("prim", "ins", "params", "outs")

    def __init__(self, prim: Primitive, ins: list, params: dict, outs: list):
        self.prim = prim
        self.ins = ins
        self.params = params
        self.outs = outs


class Graph:
    """A staged computation: inputs, constants, equations, outputs."""

    def __init__(self, in_vars: list, const_vars: list, consts: list, eqns: list, out_vars: list):
        self.in_vars = in_vars
        self.const_vars = const_vars  # Vars bound to the captured tensors in ``consts``
        self.consts = consts
        self.eqns = eqns
        self.out_vars = out_vars

    def __str__(self) -> str:
        names: dict[int, str] = {}

        def name(v) -> str:
            if v.id not in names:
                n = len(names)
                s = ""
                while True:
                    s = chr(ord("a") + n % 26) + s
                    n = n // 26 - 1
                    if n < 0:
                        break
                names[v.id] = s
            return names[v.id]

        def decl(v) -> str:
            return f"{name(v)}:{_short(v.aval)}"

        head = " ".join(decl(v) for v in self.const_vars)
        ins = " ".join(decl(v) for v in self.in_vars)
        lines = [f"{{ lambda {head} ; {ins} ."]
        for e in self.eqns:
            outs = " ".join(decl(v) for v in e.outs)
            params = ""
            if e.params:
                params = "[" + " ".join(f"{k}={_fmt(v)}" for k, v in e.params.items()) + "]"
            args = " ".join(name(v) for v in e.ins)
            lines.append(f"    {outs} = {e.prim.name}{params} {args}")
        lines.append(f"  in ({', '.join(name(v) for v in self.out_vars)}) }}")
        return "\n".join(lines)

    __repr__ = __str__

    def primitive_counts(self) -> dict:
        counts: dict[str, int] = {}
        for e in self.eqns:
            counts[e.prim.name] = counts.get(e.prim.name, 0) + 1
        return counts


_SHORT = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64", "bool": "bool"}


def _short(aval: ShapedArray) -> str:
    return f"{_SHORT.get(aval.dtype.name, aval.dtype.name)}[{','.join(map(str, aval.shape))}]"


def _fmt(v: Any) -> str:
    if hasattr(v, "name") and hasattr(v, "itemsize"):
        return v.name
    if isinstance(v, Graph):
        return "{...}"
    return repr(v)
