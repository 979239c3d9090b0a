"""Small helpers shared by the transforms and rules."""

from __future__ import annotations

import numpy as np

from fieldgrad import fields as F
from fieldgrad.fields._core import ShapedArray, get_aval
from fieldgrad.fields._dtypes import FLOATS


def is_float(x) -> bool:
    return get_aval(x).dtype in FLOATS


def zeros_like_aval(aval: ShapedArray):
    return F.zeros(aval.shape, dtype=aval.dtype)


def unbroadcast(g, shape: tuple):
    """Sum the cotangent ``g`` of a broadcast result back to an input of ``shape``."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1
    )
    if axes:
        g = F.sum(g, axis=axes, keepdims=False)
    return F.reshape(g, shape)


def check_tangent(primal, tangent, where: str):
    """Validate a user-given tangent against its primal: float, same shape, same dtype."""
    pa, ta = get_aval(primal), get_aval(tangent)
    if pa.dtype not in FLOATS:
        raise TypeError(
            f"{where}: cannot differentiate with respect to an input of dtype {pa.dtype.name}; "
            "only float32/float64 inputs have tangents (cast the input with .astype(float))"
        )
    if tuple(pa.shape) != tuple(ta.shape):
        raise ValueError(
            f"{where}: tangent shape {tuple(ta.shape)} differs from primal shape {tuple(pa.shape)}"
        )
    if ta.dtype != pa.dtype:
        tangent = F.astype(tangent, pa.dtype)
    return tangent


def check_float_input(x, where: str, argnum) -> None:
    d = get_aval(x).dtype
    if d not in FLOATS:
        raise TypeError(
            f"{where}: argument {argnum} has dtype {np.dtype(d).name}; gradients are defined "
            "only for float32/float64 inputs (cast it with .astype(float), or leave it out of "
            "argnums)"
        )
