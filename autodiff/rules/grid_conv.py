"""Rules of the finite-difference grid, convolution and creation/random primitives.

Grid operators (linear; the transposes stay in the family, see fields/_ops_grid.py):

* ``fd_grad[adjoint=b]`` transposes to ``fd_div[adjoint=not b]`` and vice versa;
* ``fd_laplacian`` is symmetric for every boundary rule, hence its own transpose.

The JVP of a linear operator is the operator applied to the tangent.

Convolutions (bilinear; all three primitives evaluate the trilinear form
``T(x, w, g) = <conv2d(x, w), g>``, see fields/_ops_conv.py):

* ``conv2d(x, w)``: transpose in x is ``conv2d_input(g, w)``, in w ``conv2d_weight(x, g)``;
* ``conv2d_input(g, w)``: transpose in g is ``conv2d(c, w)``, in w ``conv2d_weight(c, g)``;
* ``conv2d_weight(x, g)``: transpose in x is ``conv2d_input(g, c)``, in g ``conv2d(x, c)``.

The JVP of a bilinear ``B(a, b)`` is ``B(ta, b) + B(a, tb)``. Every rule binds members of the
family, so the family is closed under differentiation and every order works.

Creation and random primitives (full, iota, eye, random, random_permutation) take no tensor
inputs, so their outputs are constants under every transform: they are marked
non-differentiable.
"""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import _creation as CR
from fieldgrad.fields import _ops_conv as CV
from fieldgrad.fields import _ops_grid as G
from fieldgrad.fields import _random_dynamic as RD
from fieldgrad.fields import random as RN

from .._rules import register, register_nondiff

register_nondiff(
    CR.full_p,
    CR.iota_p,
    CR.eye_p,
    RN.random_p,
    RN.random_permutation_p,
    RD.random_dynamic_p,
    RD.random_permutation_dynamic_p,
    RD.random_derive_p,
)


# --- finite-difference grid operators -----------------------------------------------------------


def _fd_grad_jvp(p, t, *, spacing, boundary, adjoint):
    kw = dict(spacing=spacing, boundary=boundary, adjoint=adjoint)
    return G.fd_grad_p.bind(p[0], **kw), G.fd_grad_p.bind(t[0], **kw)


def _fd_grad_vjp(g, ans, f, *, spacing, boundary, adjoint):
    return (G.fd_div_p.bind(g, spacing=spacing, boundary=boundary, adjoint=not adjoint),)


def _fd_div_jvp(p, t, *, spacing, boundary, adjoint):
    kw = dict(spacing=spacing, boundary=boundary, adjoint=adjoint)
    return G.fd_div_p.bind(p[0], **kw), G.fd_div_p.bind(t[0], **kw)


def _fd_div_vjp(g, ans, v, *, spacing, boundary, adjoint):
    return (G.fd_grad_p.bind(g, spacing=spacing, boundary=boundary, adjoint=not adjoint),)


def _fd_laplacian_jvp(p, t, *, spacing, boundary):
    kw = dict(spacing=spacing, boundary=boundary)
    return G.fd_laplacian_p.bind(p[0], **kw), G.fd_laplacian_p.bind(t[0], **kw)


def _fd_laplacian_vjp(g, ans, f, *, spacing, boundary):
    return (G.fd_laplacian_p.bind(g, spacing=spacing, boundary=boundary),)


register(G.fd_grad_p, jvp=_fd_grad_jvp, vjp=_fd_grad_vjp)
register(G.fd_div_p, jvp=_fd_div_jvp, vjp=_fd_div_vjp)
register(G.fd_laplacian_p, jvp=_fd_laplacian_jvp, vjp=_fd_laplacian_vjp)


# --- convolution family -------------------------------------------------------------------------


def _like(a, ref):
    """``a`` in the dtype of ``ref`` (the kernels read both operands in one dtype)."""
    return a if a.dtype == ref.dtype else F.astype(a, ref.dtype)


def _conv(x, w, geom):
    return CV.conv2d_p.bind(x, _like(w, x), **geom)


def _conv_input(g, w, x_shape, geom):
    return CV.conv2d_input_p.bind(g, _like(w, g), x_shape=tuple(x_shape), **geom)


def _conv_weight(x, g, w_shape, geom):
    return CV.conv2d_weight_p.bind(x, _like(g, x), w_shape=tuple(w_shape), **geom)


def _conv2d_jvp(p, t, **geom):
    (x, w), (tx, tw) = p, t
    return _conv(x, w, geom), F.add(_conv(tx, w, geom), _conv(x, tw, geom))


def _conv2d_vjp(g, ans, x, w, **geom):
    return _conv_input(g, w, x.shape, geom), _conv_weight(x, g, w.shape, geom)


def _conv2d_input_jvp(p, t, *, x_shape, **geom):
    (g, w), (tg, tw) = p, t
    out = _conv_input(g, w, x_shape, geom)
    return out, F.add(_conv_input(tg, w, x_shape, geom), _conv_input(g, tw, x_shape, geom))


def _conv2d_input_vjp(c, ans, g, w, *, x_shape, **geom):
    return _conv(c, w, geom), _conv_weight(c, g, w.shape, geom)


def _conv2d_weight_jvp(p, t, *, w_shape, **geom):
    (x, g), (tx, tg) = p, t
    out = _conv_weight(x, g, w_shape, geom)
    return out, F.add(_conv_weight(tx, g, w_shape, geom), _conv_weight(x, tg, w_shape, geom))


def _conv2d_weight_vjp(c, ans, x, g, *, w_shape, **geom):
    return _conv_input(g, c, x.shape, geom), _conv(x, c, geom)


register(CV.conv2d_p, jvp=_conv2d_jvp, vjp=_conv2d_vjp)
register(CV.conv2d_input_p, jvp=_conv2d_input_jvp, vjp=_conv2d_input_vjp)
register(CV.conv2d_weight_p, jvp=_conv2d_weight_jvp, vjp=_conv2d_weight_vjp)
