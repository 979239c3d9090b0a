"""Finite-difference operators on regular 1-D, 2-D and 3-D grids: gradient, divergence, Laplacian.

A d-dimensional field is a tensor of shape ``grid = (n_1, ..., n_d)``, ``1 <= d <= 3``, with
spacing ``h_a`` along axis ``a``. All operators are second-order central differences:

* gradient ``(D_a f)_i = (f_{i+e_a} - f_{i-e_a}) / (2 h_a)``, stacked into shape ``(d, *grid)``;
* divergence ``sum_a D_a v_a`` of a vector field of shape ``(d, *grid)``;
* Laplacian ``sum_a (f_{i+e_a} - 2 f_i + f_{i-e_a}) / h_a**2`` (the 2d+1-point stencil).

Values outside the grid come from the boundary rule:

* ``"periodic"``: the grid wraps around (``f_{-1} = f_{n-1}``, ``f_n = f_0``);
* ``"zero"``: homogeneous Dirichlet, values outside the grid are 0;
* ``"edge"``: Neumann-like, values outside copy the nearest edge value (zero normal
  derivative across the boundary).

Every operator is linear, so autodiff needs only its transpose. The operators are three
primitives whose transposes stay in the family:

* ``fd_grad_p[adjoint=b]`` transposes to ``fd_div_p[adjoint=not b]`` and vice versa, where
  ``adjoint=True`` applies ``D_a^T`` instead of ``D_a``;
* ``fd_laplacian_p`` is symmetric for all three boundaries, hence its own transpose.

Each primitive is one Taichi kernel over the flat buffers (the grid shape, strides and
scales are vector arguments, so a kernel compiles once per dtype).
"""

import math
import numbers

import numpy as np

from . import _buffer, _dtypes, _launch, _runtime
from ._convert import as_operand, astype
from ._core import Primitive, ShapedArray
from ._tensor import Tensor

__all__ = ["fd_gradient", "fd_divergence", "fd_laplacian"]

BOUNDARIES = ("periodic", "zero", "edge")
_BCODE = {"periodic": 0, "zero": 1, "edge": 2}


# --- kernels ------------------------------------------------------------------------------------


def _stencil_funcs(ti, ft):
    """``@ti.func`` helpers shared by the grid kernels (``ft``: the float type)."""

    @ti.func
    def neighbour(f: ti.template(), base, c, n, st, off, bnd):
        # f at coordinate c + off (off = +-1) along an axis of extent n and stride st, where
        # ``base`` is the flat index of coordinate c; out-of-grid values by the boundary rule.
        j = c + off
        v = ti.cast(0.0, ft)
        if 0 <= j < n:
            v = f[base + off * st]
        elif bnd == 0:  # periodic
            jj = (j + n) % n
            v = f[base + (jj - c) * st]
        elif bnd == 2:  # edge: copy the edge value, which is f at c itself
            v = f[base]
        return v

    @ti.func
    def diff(f: ti.template(), base, c, n, st, s, bnd, adj):
        # D f at c (adj == 0) or D^T f at c (adj != 0); s = 1 / (2h). For periodic and zero
        # rules D is antisymmetric (D^T = -D: the offsets swap); D_edge^T is -D_zero plus the
        # edge rows' diagonal entries (-1 at c = 0, +1 at c = n - 1). One call site per
        # direction: the same helper called from both arms of a runtime branch was miscompiled
        # by Taichi 1.7.4 (one arm used the other's constant boundary rule).
        sgn = 1 - 2 * adj
        edge_adj = adj != 0 and bnd == 2
        rule = bnd
        if edge_adj:
            rule = 1
        r = neighbour(f, base, c, n, st, sgn, rule) - neighbour(f, base, c, n, st, -sgn, rule)
        if edge_adj:
            if c == n - 1:
                r += f[base]
            if c == 0:
                r -= f[base]
        return r * s

    return neighbour, diff


def _grad_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    ft = _buffer._ti_dtype(ti, dt)
    _, diff = _stencil_funcs(ti, ft)
    V3 = ti.types.vector(3, ti.i32)
    S3 = ti.types.vector(3, ft)

    @ti.kernel
    def fd_grad_k(
        f: ti.types.ndarray(ndim=1),
        out: ti.types.ndarray(ndim=1),
        npts: ti.i32,
        d: ti.i32,
        shape: V3,
        strides: V3,
        scale: S3,
        bnd: ti.i32,
        adj: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for m in range(d * npts):
            a = m // npts
            i = m % npts
            pa = a + 3 - d  # the axis in the grid padded to 3-D
            r = ti.cast(0.0, ft)
            for q in ti.static(range(3)):
                if q == pa:
                    c = (i // strides[q]) % shape[q]
                    r = diff(f, i, c, shape[q], strides[q], scale[q], bnd, adj)
            out[m] = r

    return fd_grad_k


def _div_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    ft = _buffer._ti_dtype(ti, dt)
    _, diff = _stencil_funcs(ti, ft)
    V3 = ti.types.vector(3, ti.i32)
    S3 = ti.types.vector(3, ft)

    @ti.kernel
    def fd_div_k(
        v: ti.types.ndarray(ndim=1),
        out: ti.types.ndarray(ndim=1),
        npts: ti.i32,
        d: ti.i32,
        shape: V3,
        strides: V3,
        scale: S3,
        bnd: ti.i32,
        adj: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(npts):
            acc = ti.cast(0.0, ft)
            for q in ti.static(range(3)):
                if q >= 3 - d:
                    base = (q - (3 - d)) * npts + i  # component a = q - (3 - d) of v
                    c = (i // strides[q]) % shape[q]
                    acc += diff(v, base, c, shape[q], strides[q], scale[q], bnd, adj)
            out[i] = acc

    return fd_div_k


def _laplacian_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    ft = _buffer._ti_dtype(ti, dt)
    neighbour, _ = _stencil_funcs(ti, ft)
    V3 = ti.types.vector(3, ti.i32)
    S3 = ti.types.vector(3, ft)

    @ti.kernel
    def fd_laplacian_k(
        f: ti.types.ndarray(ndim=1),
        out: ti.types.ndarray(ndim=1),
        npts: ti.i32,
        d: ti.i32,
        shape: V3,
        strides: V3,
        scale: S3,
        bnd: ti.i32,
    ):
        ti.loop_config(serialize=serial)
        for i in range(npts):
            acc = ti.cast(0.0, ft)
            fi = f[i]
            for q in ti.static(range(3)):
                if q >= 3 - d:
                    c = (i // strides[q]) % shape[q]
                    up = neighbour(f, i, c, shape[q], strides[q], 1, bnd)
                    dn = neighbour(f, i, c, shape[q], strides[q], -1, bnd)
                    acc += (up + dn - 2.0 * fi) * scale[q]
            out[i] = acc

    return fd_laplacian_k


# --- primitives ---------------------------------------------------------------------------------


def _grid_args(grid: tuple, spacing: tuple, power: int):
    """(npts, d, shape3, strides3, scale3) for a grid padded to 3-D with leading unit axes."""
    d = len(grid)
    shape3 = (1,) * (3 - d) + tuple(grid)
    strides3 = (shape3[1] * shape3[2], shape3[2], 1)
    if power == 1:
        sc = tuple(1.0 / (2.0 * h) for h in spacing)
    else:
        sc = tuple(1.0 / (h * h) for h in spacing)
    scale3 = (0.0,) * (3 - d) + sc
    npts = shape3[0] * shape3[1] * shape3[2]
    return npts, d, shape3, strides3, scale3


def _new(shape: tuple, dt: np.dtype) -> Tensor:
    n = 1
    for s in shape:
        n *= s
    return Tensor._new(_buffer.empty(n, dt), shape, dt)


def _fd_grad_impl(f: Tensor, *, spacing: tuple, boundary: str, adjoint: bool) -> Tensor:
    out = _new((f.ndim, *f.shape), f.dtype)
    npts, d, shape3, strides3, scale3 = _grid_args(f.shape, spacing, 1)
    if npts:
        ser = _launch.serial(d * npts)
        k = _launch.kernel(("fd_grad", f.dtype, ser), lambda: _grad_kernel(f.dtype, ser))
        geom = (npts, d, shape3, strides3, scale3, _BCODE[boundary])
        _launch.launch(k, _buffer.kernel_view(f._buf), out._buf, *geom, int(adjoint))
    return out


def _fd_grad_abstract(f: ShapedArray, *, spacing, boundary, adjoint) -> ShapedArray:
    return ShapedArray((len(f.shape), *f.shape), f.dtype)


# fd_grad: out[a] = D_a f (adjoint=False) or D_a^T f (adjoint=True), shape (d, *grid).
# Linear; transpose: fd_div with the adjoint flag flipped.
fd_grad_p = Primitive("fd_grad", _fd_grad_impl, _fd_grad_abstract)


def _fd_div_impl(v: Tensor, *, spacing: tuple, boundary: str, adjoint: bool) -> Tensor:
    grid = v.shape[1:]
    out = _new(grid, v.dtype)
    npts, d, shape3, strides3, scale3 = _grid_args(grid, spacing, 1)
    if npts:
        ser = _launch.serial(d * npts)
        k = _launch.kernel(("fd_div", v.dtype, ser), lambda: _div_kernel(v.dtype, ser))
        geom = (npts, d, shape3, strides3, scale3, _BCODE[boundary])
        _launch.launch(k, _buffer.kernel_view(v._buf), out._buf, *geom, int(adjoint))
    return out


def _fd_div_abstract(v: ShapedArray, *, spacing, boundary, adjoint) -> ShapedArray:
    return ShapedArray(tuple(v.shape[1:]), v.dtype)


# fd_div: out = sum_a D_a v[a] (adjoint=False) or sum_a D_a^T v[a] (adjoint=True).
# Linear; transpose: fd_grad with the adjoint flag flipped.
fd_div_p = Primitive("fd_div", _fd_div_impl, _fd_div_abstract)


def _fd_laplacian_impl(f: Tensor, *, spacing: tuple, boundary: str) -> Tensor:
    out = _new(f.shape, f.dtype)
    npts, d, shape3, strides3, scale3 = _grid_args(f.shape, spacing, 2)
    if npts:
        ser = _launch.serial(d * npts)
        k = _launch.kernel(("fd_lap", f.dtype, ser), lambda: _laplacian_kernel(f.dtype, ser))
        geom = (npts, d, shape3, strides3, scale3, _BCODE[boundary])
        _launch.launch(k, _buffer.kernel_view(f._buf), out._buf, *geom)
    return out


def _fd_laplacian_abstract(f: ShapedArray, *, spacing, boundary) -> ShapedArray:
    return ShapedArray(f.shape, f.dtype)


# fd_laplacian: the 2d+1-point Laplacian. Linear and symmetric for every boundary rule, so it
# is its own transpose.
fd_laplacian_p = Primitive("fd_laplacian", _fd_laplacian_impl, _fd_laplacian_abstract)


# --- argument checks ----------------------------------------------------------------------------


def _check_boundary(boundary, fn: str) -> str:
    if not isinstance(boundary, str) or boundary not in BOUNDARIES:
        raise ValueError(
            f"{fn}: unknown boundary {boundary!r}; expected one of "
            + ", ".join(repr(b) for b in BOUNDARIES)
        )
    return boundary


def _check_spacing(spacing, d: int, fn: str) -> tuple:
    if isinstance(spacing, numbers.Real) and not isinstance(spacing, (bool, np.bool_)):
        hs = (float(spacing),) * d
    else:
        try:
            hs = tuple(spacing)
        except TypeError:
            raise TypeError(
                f"{fn}: spacing must be a number or a tuple of {d} numbers, "
                f"got {type(spacing).__name__}"
            ) from None
        if len(hs) != d:
            raise ValueError(
                f"{fn}: spacing {tuple(hs)} has {len(hs)} entries; the grid has {d} axes"
            )
        for h in hs:
            if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
                raise TypeError(f"{fn}: spacing entries must be real numbers, got {hs}")
        hs = tuple(float(h) for h in hs)
    for h in hs:
        if not (math.isfinite(h) and h > 0):
            raise ValueError(f"{fn}: spacing must be positive and finite, got {hs}")
    return hs


def _field(f, fn: str, lo: int, hi: int, what: str):
    f = as_operand(f)
    if not lo <= f.ndim <= hi:
        raise ValueError(
            f"{fn}: expected {what}, got a tensor of shape {tuple(f.shape)} ({f.ndim} dims)"
        )
    dt = _dtypes.float_result(f.dtype)
    return astype(f, dt) if f.dtype != dt or f.weak_type else f


# --- public functions ---------------------------------------------------------------------------


def fd_gradient(f, spacing=1.0, boundary: str = "periodic") -> Tensor:
    """Gradient of a grid field by second-order central differences.

    ``out[a][i] = (f[i + e_a] - f[i - e_a]) / (2 * spacing[a])`` with out-of-grid values by the
    boundary rule (see the module docstring).

    Args:
        f: a field on a 1-D, 2-D or 3-D grid (integer fields become the default float dtype).
        spacing: the grid spacing, one number or one per axis.
        boundary: "periodic", "zero" (Dirichlet: outside values are 0) or "edge" (outside
            values copy the edge value: zero normal derivative).

    Returns:
        Tensor of shape ``(d, *f.shape)``: the d partial derivatives.

    Shape:
        f: ``(n_1, ..., n_d)``; result: ``(d, n_1, ..., n_d)``.

    Transpose (for autodiff): for "periodic" and "zero" the operator is antisymmetric per
    axis, so ``G^T v = -fd_divergence(v)`` with the same boundary. For "edge",
    ``G^T v = -fd_divergence(v, boundary="zero")`` plus ``-v_a / (2 h_a)`` at the first and
    ``+v_a / (2 h_a)`` at the last point of each axis ``a``.

    Raises:
        ValueError: an unknown boundary (the valid names are listed), a field with fewer than
            one or more than three axes, or a bad spacing.

    Example:
        >>> import fieldgrad as fg
        >>> fg.fd_gradient(fg.tensor([0.0, 1.0, 4.0, 9.0]), boundary="edge").tolist()
        [[0.5, 2.0, 4.0, 2.5]]
    """
    fn = "fd_gradient"
    boundary = _check_boundary(boundary, fn)
    f = _field(f, fn, 1, 3, "a field on a 1-D, 2-D or 3-D grid")
    hs = _check_spacing(spacing, f.ndim, fn)
    return fd_grad_p.bind(f, spacing=hs, boundary=boundary, adjoint=False)


def fd_divergence(v, spacing=1.0, boundary: str = "periodic") -> Tensor:
    """Divergence ``sum_a D_a v[a]`` of a vector field by second-order central differences.

    Args:
        v: a vector field of shape ``(d, *grid)`` with ``d = len(grid)`` in 1..3.
        spacing: the grid spacing, one number or one per axis.
        boundary: "periodic", "zero" or "edge" (applied to each component ``v[a]``).

    Returns:
        Tensor of shape ``grid``.

    Transpose (for autodiff): ``Div^T g = -fd_gradient(g)`` for "periodic" and "zero"; for
    "edge", ``-fd_gradient(g, boundary="zero")`` plus ``-g / (2 h_a)`` at the first and
    ``+g / (2 h_a)`` at the last point of axis ``a`` in component ``a``.

    Raises:
        ValueError: ``v.shape[0]`` differs from the number of grid axes, a grid of more than
            three axes, an unknown boundary or a bad spacing.

    Example:
        >>> import fieldgrad as fg
        >>> fg.fd_divergence(fg.tensor([[0.0, 1.0, 2.0, 3.0]]), boundary="edge").tolist()
        [0.5, 1.0, 1.0, 0.5]
    """
    fn = "fd_divergence"
    boundary = _check_boundary(boundary, fn)
    v = _field(v, fn, 2, 4, "a vector field of shape (d, *grid) on a 1-D, 2-D or 3-D grid")
    if v.shape[0] != v.ndim - 1:
        raise ValueError(
            f"{fn}: a vector field on a {v.ndim - 1}-D grid has shape (d, *grid) with "
            f"d = {v.ndim - 1}, got shape {tuple(v.shape)}"
        )
    hs = _check_spacing(spacing, v.ndim - 1, fn)
    return fd_div_p.bind(v, spacing=hs, boundary=boundary, adjoint=False)


def fd_laplacian(f, spacing=1.0, boundary: str = "periodic") -> Tensor:
    """Laplacian of a grid field by the standard 2d+1-point stencil.

    ``out[i] = sum_a (f[i + e_a] - 2 f[i] + f[i - e_a]) / spacing[a]**2``.

    Args:
        f: a field on a 1-D, 2-D or 3-D grid.
        spacing: the grid spacing, one number or one per axis.
        boundary: "periodic", "zero" or "edge".

    Returns:
        Tensor of the shape of ``f``.

    Transpose (for autodiff): the stencil matrix is symmetric for all three boundaries
    (with "edge", the ghost copy turns the edge row into ``(f_1 - f_0) / h**2``, which is
    symmetric too), so ``L^T = L``.

    Raises:
        ValueError: an unknown boundary, a field with fewer than one or more than three axes,
            or a bad spacing.

    Example:
        >>> import fieldgrad as fg
        >>> fg.fd_laplacian(fg.tensor([0.0, 1.0, 4.0, 9.0]), boundary="zero").tolist()
        [1.0, 2.0, 2.0, -14.0]
    """
    fn = "fd_laplacian"
    boundary = _check_boundary(boundary, fn)
    f = _field(f, fn, 1, 3, "a field on a 1-D, 2-D or 3-D grid")
    hs = _check_spacing(spacing, f.ndim, fn)
    return fd_laplacian_p.bind(f, spacing=hs, boundary=boundary)
