"""Op-spec entries for reductions: sums, extrema, arg-extrema, statistics, norms, any/all."""

import numpy as np
from scipy.special import logsumexp as _np_logsumexp

import fieldgrad as fg
from tests.opspec import OpSpec

# Shapes for reductions over all axes, a single trailing axis, and over several axes.
ALL_SHAPES = [((),), ((7,),), ((3, 4),), ((2, 3, 5),), ((0, 3),)]
LAST_SHAPES = [((7,),), ((3, 4),), ((2, 3, 5),), ((0, 3),)]
FIRST_SHAPES = [((7,),), ((3, 4),), ((2, 3, 5),)]
MULTI_SHAPES = [((3, 4, 5),), ((2, 3, 4, 2),)]
NUMERIC = ("float32", "float64", "int32")
ALL_DTYPES = ("float32", "float64", "int32", "bool")


def _variants(name, op, ref, *, nonempty=False, **common):
    """The standard axis variants of one reduction: all axes, axis=-1, axis=0 with keepdims,
    tuples of non-adjacent axes (a transpose inside), of adjacent leading axes, and with a
    negative axis."""
    return [
        OpSpec(f"{name}", op, ref, ALL_SHAPES[:-1] if nonempty else ALL_SHAPES, **common),
        OpSpec(f"{name}-axis-1", op, ref, LAST_SHAPES, kwargs={"axis": -1}, **common),
        OpSpec(
            f"{name}-axis0-keepdims",
            op,
            ref,
            FIRST_SHAPES,
            kwargs={"axis": 0, "keepdims": True},
            **common,
        ),
        OpSpec(f"{name}-axes02", op, ref, MULTI_SHAPES, kwargs={"axis": (0, 2)}, **common),
        OpSpec(f"{name}-axes01", op, ref, MULTI_SHAPES, kwargs={"axis": (0, 1)}, **common),
        OpSpec(f"{name}-axes-1,1", op, ref, MULTI_SHAPES, kwargs={"axis": (-1, 1)}, **common),
    ]


def _positive(rng, shape, dtype, k):
    if np.dtype(dtype).kind == "f":
        return rng.uniform(0.5, 1.5, size=shape).astype(dtype)
    return rng.integers(1, 3, size=shape).astype(dtype)


SPECS = [
    *_variants("sum", fg.sum, np.sum, dtypes=ALL_DTYPES, grad_order=1),
    *_variants("prod", fg.prod, np.prod, dtypes=NUMERIC, domain=_positive, grad_order=2),
    *_variants("max", fg.max, np.max, nonempty=True, dtypes=ALL_DTYPES, grad_order=1),
    *_variants("min", fg.min, np.min, nonempty=True, dtypes=ALL_DTYPES, grad_order=1),
    OpSpec("amax", fg.amax, np.amax, LAST_SHAPES, kwargs={"axis": -1}, grad_order=1),
    OpSpec("amin", fg.amin, np.amin, FIRST_SHAPES, kwargs={"axis": 0}, grad_order=1),
    *_variants("mean", fg.mean, np.mean, nonempty=True, dtypes=NUMERIC, grad_order=2),
    *_variants("var", fg.var, np.var, nonempty=True, dtypes=NUMERIC, grad_order=2),
    OpSpec("var-ddof1", fg.var, np.var, LAST_SHAPES[:-1], kwargs={"axis": -1, "ddof": 1}),
    OpSpec("std", fg.std, np.std, FIRST_SHAPES, kwargs={"axis": 0}, grad_order=1),
    OpSpec("std-ddof1", fg.std, np.std, MULTI_SHAPES, kwargs={"axis": (0, 2), "ddof": 1}),
    OpSpec("argmax", fg.argmax, np.argmax, ALL_SHAPES[:-1], dtypes=ALL_DTYPES, grad_order=0),
    OpSpec(
        "argmax-axis1",
        fg.argmax,
        np.argmax,
        [((3, 4),), ((2, 3, 5),), ((0, 3),)],
        kwargs={"axis": 1},
        dtypes=NUMERIC,
        grad_order=0,
    ),
    OpSpec(
        "argmin-axis0-keepdims",
        fg.argmin,
        np.argmin,
        FIRST_SHAPES,
        kwargs={"axis": 0, "keepdims": True},
        dtypes=ALL_DTYPES,
        grad_order=0,
    ),
    OpSpec("argmin", fg.argmin, np.argmin, ALL_SHAPES[:-1], dtypes=NUMERIC, grad_order=0),
    OpSpec("logsumexp", fg.logsumexp, _np_logsumexp, ALL_SHAPES[:-1], domain=(-30.0, 30.0)),
    OpSpec(
        "logsumexp-axis-1-keepdims",
        fg.logsumexp,
        _np_logsumexp,
        LAST_SHAPES,
        kwargs={"axis": -1, "keepdims": True},
    ),
    OpSpec("logsumexp-axes02", fg.logsumexp, _np_logsumexp, MULTI_SHAPES, kwargs={"axis": (0, 2)}),
    OpSpec("norm", fg.norm, np.linalg.norm, ALL_SHAPES, grad_order=1),
    OpSpec(
        "norm-fro", fg.norm, np.linalg.norm, MULTI_SHAPES, kwargs={"ord": "fro", "axis": (0, 2)}
    ),
    OpSpec("norm-1", fg.norm, np.linalg.norm, LAST_SHAPES, kwargs={"ord": 1, "axis": -1}),
    OpSpec("norm-inf", fg.norm, np.linalg.norm, FIRST_SHAPES, kwargs={"ord": np.inf, "axis": 0}),
    OpSpec(
        "norm-neginf", fg.norm, np.linalg.norm, FIRST_SHAPES, kwargs={"ord": -np.inf, "axis": 0}
    ),
    OpSpec(
        "norm-0", fg.norm, np.linalg.norm, LAST_SHAPES, kwargs={"ord": 0, "axis": -1}, grad_order=0
    ),
    OpSpec("norm-3", fg.norm, np.linalg.norm, LAST_SHAPES, kwargs={"ord": 3, "axis": -1}),
    OpSpec(
        "norm-int",
        fg.norm,
        np.linalg.norm,
        LAST_SHAPES,
        kwargs={"axis": -1},
        dtypes=("int32",),
        grad_order=0,
    ),
    *[
        OpSpec(name, op, ref, shapes, kwargs=kw, dtypes=ALL_DTYPES, domain=(-1, 1), grad_order=0)
        for fn_name, op, ref in (("any", fg.any, np.any), ("all", fg.all, np.all))
        for name, shapes, kw in (
            (fn_name, ALL_SHAPES, {}),
            (f"{fn_name}-axis-1", LAST_SHAPES, {"axis": -1}),
            (f"{fn_name}-axes02-keepdims", MULTI_SHAPES, {"axis": (0, 2), "keepdims": True}),
            (f"{fn_name}-axis0-empty", [((0, 3),)], {"axis": 0}),
        )
    ],
]
