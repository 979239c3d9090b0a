"""Op-spec entries for the finite-difference grid operators, with their numpy references.

The references shift a field by one grid point with ``np.roll`` (periodic) or ``np.pad``
(mode "constant" for the zero boundary, "edge" for the edge boundary).
"""

import numpy as np

import fieldgrad as fg
from tests.opspec import OpSpec

GRID_SHAPES = [((9,),), ((5, 6),), ((3, 4, 5),)]
VECTOR_SHAPES = [((1, 9),), ((2, 5, 6),), ((3, 3, 4, 5),)]
_PAD_MODE = {"zero": "constant", "edge": "edge"}


def _spacings(spacing, d):
    return (float(spacing),) * d if np.isscalar(spacing) else tuple(float(h) for h in spacing)


def shift(f, axis, off, boundary):
    """``g[i] = f[i + off]`` along ``axis`` (off = +-1) with out-of-grid values by ``boundary``."""
    if boundary == "periodic":
        return np.roll(f, -off, axis=axis)
    pad = [(0, 0)] * f.ndim
    pad[axis] = (1, 1)
    p = np.pad(f, pad, mode=_PAD_MODE[boundary])
    sl = [slice(None)] * f.ndim
    n = f.shape[axis]
    sl[axis] = slice(1 + off, 1 + off + n)
    return p[tuple(sl)]


def np_fd_gradient(f, spacing=1.0, boundary="periodic"):
    hs = _spacings(spacing, f.ndim)
    comps = [
        (shift(f, a, 1, boundary) - shift(f, a, -1, boundary)) / (2 * hs[a]) for a in range(f.ndim)
    ]
    return np.stack(comps) if comps else np.zeros((0,) + f.shape, f.dtype)


def np_fd_divergence(v, spacing=1.0, boundary="periodic"):
    d = v.ndim - 1
    hs = _spacings(spacing, d)
    out = np.zeros(v.shape[1:], v.dtype)
    for a in range(d):
        out = out + (shift(v[a], a, 1, boundary) - shift(v[a], a, -1, boundary)) / (2 * hs[a])
    return out


def np_fd_laplacian(f, spacing=1.0, boundary="periodic"):
    hs = _spacings(spacing, f.ndim)
    out = np.zeros_like(f)
    for a in range(f.ndim):
        out = out + (shift(f, a, 1, boundary) + shift(f, a, -1, boundary) - 2 * f) / hs[a] ** 2
    return out


SPECS = []
for _b in ("periodic", "zero", "edge"):
    _empty = [] if _b == "edge" else [((0, 4),)]
    _vempty = [] if _b == "edge" else [((2, 0, 4),)]
    SPECS += [
        OpSpec(
            f"fd_gradient-{_b}",
            fg.fd_gradient,
            np_fd_gradient,
            GRID_SHAPES + _empty,
            kwargs={"boundary": _b},
            rtol=1e-5,
            atol=1e-5,
        ),
        OpSpec(
            f"fd_divergence-{_b}",
            fg.fd_divergence,
            np_fd_divergence,
            VECTOR_SHAPES + _vempty,
            kwargs={"boundary": _b},
            rtol=1e-5,
            atol=1e-5,
        ),
        OpSpec(
            f"fd_laplacian-{_b}",
            fg.fd_laplacian,
            np_fd_laplacian,
            GRID_SHAPES + _empty,
            kwargs={"boundary": _b},
            rtol=1e-5,
            atol=1e-5,
        ),
    ]
SPECS += [
    OpSpec(
        "fd_gradient-spacing",
        fg.fd_gradient,
        np_fd_gradient,
        [((5, 6),)],
        kwargs={"spacing": (0.5, 0.25), "boundary": "edge"},
        rtol=1e-5,
        atol=1e-5,
    ),
    OpSpec(
        "fd_divergence-spacing",
        fg.fd_divergence,
        np_fd_divergence,
        [((3, 3, 4, 5),)],
        kwargs={"spacing": (0.5, 2.0, 0.1), "boundary": "zero"},
        rtol=1e-5,
        atol=1e-4,
    ),
    OpSpec(
        "fd_laplacian-spacing",
        fg.fd_laplacian,
        np_fd_laplacian,
        [((3, 4, 5),)],
        kwargs={"spacing": (0.5, 2.0, 0.3), "boundary": "periodic"},
        rtol=1e-5,
        atol=1e-4,
    ),
]
