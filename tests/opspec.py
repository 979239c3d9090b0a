"""The op-spec table: one entry per public op, driving every numpy and derivative check.

Each family of ops contributes its entries in ``tests/specs/spec_<family>.py`` as a list
named ``SPECS``; :data:`ALL_SPECS` is their concatenation. An entry names the fieldgrad op, its
numpy reference, how to draw inputs (shapes, domain, dtypes) and the derivative order that the
autodiff tests check (0 for non-differentiable ops such as comparisons or argmax).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any, Callable, Optional, Sequence

import numpy as np

# Shapes every unary op is checked on: 0-d, vectors, matrices, 3-d, an empty axis.
UNARY_SHAPES = [((),), ((7,),), ((3, 4),), ((2, 3, 5),), ((0, 3),)]
# Broadcasting pairs every binary op is checked on.
BINARY_SHAPES = [
    ((), ()),
    ((5,), (5,)),
    ((3, 4), (3, 4)),
    ((3, 4), ()),
    ((), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((4, 1, 3), (2, 1)),
    ((0, 3), (3,)),
]
FLOATS = ("float32", "float64")


@dataclasses.dataclass
class OpSpec:
    """One op to check.

    Attributes:
        name: unique id shown in test names.
        op: the fieldgrad function; called as ``op(*tensors, **kwargs)``.
        ref: the numpy reference; called as ``ref(*arrays, **kwargs)``.
        shapes: a list of argument-shape tuples to test on.
        dtypes: dtype names the inputs are drawn in.
        domain: (low, high) of uniform inputs, or ``sample(rng, shape, dtype, argnum)``.
        kwargs: keyword arguments for both ``op`` and ``ref``.
        grad_order: derivative order the autodiff tests check (0: not differentiable).
        nondiff_argnums: arguments that are not differentiated (indices, integer data).
        rtol, atol: tolerances for float32 (float64 uses 1e-10 / 1e-12 unless given).
        rtol64, atol64: tolerances for float64.
        check_dtype: compare the result dtype with the reference's.
        out_dtype: expected result dtype name when it differs from numpy's.
    """

    name: str
    op: Callable
    ref: Callable
    shapes: Sequence[tuple]
    dtypes: Sequence[str] = FLOATS
    domain: Any = (-2.0, 2.0)
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad_order: int = 2
    nondiff_argnums: tuple = ()
    rtol: float = 2e-5
    atol: float = 1e-6
    rtol64: float = 1e-10
    atol64: float = 1e-12
    check_dtype: bool = True
    out_dtype: Optional[str] = None

    def sample(self, rng: np.random.Generator, dtype: str) -> list:
        """Draw one argument list for every shape set (numpy arrays)."""
        out = []
        for shapes in self.shapes:
            args = []
            for k, shape in enumerate(shapes):
                if callable(self.domain):
                    args.append(self.domain(rng, shape, dtype, k))
                else:
                    lo, hi = self.domain
                    if np.dtype(dtype).kind == "f":
                        a = rng.uniform(lo, hi, size=shape).astype(dtype)
                    elif np.dtype(dtype).kind == "b":
                        a = rng.uniform(size=shape) < 0.5
                    else:
                        a = rng.integers(int(lo), int(hi) + 1, size=shape).astype(dtype)
                    args.append(np.asarray(a))
            out.append(args)
        return out


def _load() -> list:
    from tests import specs

    result = []
    for mod in sorted(pkgutil.iter_modules(specs.__path__), key=lambda m: m.name):
        if mod.name.startswith("spec_"):
            result.extend(importlib.import_module(f"tests.specs.{mod.name}").SPECS)
    names = [s.name for s in result]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate op-spec names: {sorted(dup)}")
    return result


ALL_SPECS = _load()
