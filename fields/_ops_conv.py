"""1-D and 2-D convolutions (cross-correlations, PyTorch semantics) as direct Taichi kernels.

``conv2d(x, w)`` with ``x`` of shape (N, C_in, H, W) and ``w`` of shape (C_out, C_in, KH, KW)
computes

    y[n, o, i, j] = sum_{c, p, q} x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw] * w[o, c, p, q]

with zero padding (ph, pw on the low side; the high side only shortens the output), stride
(sh, sw) and dilation (dh, dw). ``conv1d`` is the same operation on a height-1 image (a reshape,
which costs nothing), so one family of primitives serves both.

Implementation: a direct kernel per primitive, one output element per loop iteration over the
flat buffers, with every size, stride, padding and dilation in one integer vector argument (a
kernel compiles once per dtype). No im2col buffer is built.

The convolution is bilinear in (x, w). Its three primitives form a family closed under
transposition, so derivatives of every order stay inside it:

* ``conv2d_p(x, w)``: the convolution above;
* ``conv2d_input_p(g, w)``: ``dL/dx`` for ``g = dL/dy`` (a transposed convolution), shape of x;
* ``conv2d_weight_p(x, g)``: ``dL/dw`` for ``g = dL/dy``, shape of w.

All three evaluate the trilinear form ``T(x, w, g) = <conv2d(x, w), g>``: the transpose of
``conv2d_p`` in x is ``conv2d_input_p(g, w)``, in w is ``conv2d_weight_p(x, g)``; the
transpose of ``conv2d_input_p`` in g is ``conv2d_p(c, w)``, in w ``conv2d_weight_p(c, g)``;
the transpose of ``conv2d_weight_p`` in x is ``conv2d_input_p(g, c)``, in g ``conv2d_p(x, c)``.
"""

import numbers

import numpy as np

from . import _buffer, _dtypes, _launch, _runtime
from ._convert import as_operand, promote
from ._core import Primitive, ShapedArray
from ._tensor import Tensor

__all__ = ["conv1d", "conv2d"]

_NPARAM = 16  # [N, Ci, H, W, Co, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, unused]


# --- kernels ------------------------------------------------------------------------------------


def _conv_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    ft = _buffer._ti_dtype(ti, dt)
    P = ti.types.vector(_NPARAM, ti.i32)

    @ti.kernel
    def conv2d_k(
        x: ti.types.ndarray(ndim=1),
        w: ti.types.ndarray(ndim=1),
        y: ti.types.ndarray(ndim=1),
        n_out: ti.i32,
        p: P,
    ):
        ti.loop_config(serialize=serial)
        for m in range(n_out):
            ci_n, H, W, co_n, KH, KW, OH, OW = p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
            ow = m % OW
            t = m // OW
            oh = t % OH
            t = t // OH
            co = t % co_n
            nb = t // co_n
            acc = ti.cast(0.0, ft)
            for ci in range(ci_n):
                for kh in range(KH):
                    ih = oh * p[9] - p[11] + kh * p[13]
                    if 0 <= ih < H:
                        xrow = ((nb * ci_n + ci) * H + ih) * W
                        wrow = ((co * ci_n + ci) * KH + kh) * KW
                        for kw in range(KW):
                            iw = ow * p[10] - p[12] + kw * p[14]
                            if 0 <= iw < W:
                                acc += x[xrow + iw] * w[wrow + kw]
            y[m] = acc

    return conv2d_k


def _input_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    ft = _buffer._ti_dtype(ti, dt)
    P = ti.types.vector(_NPARAM, ti.i32)

    @ti.kernel
    def conv2d_input_k(
        g: ti.types.ndarray(ndim=1),
        w: ti.types.ndarray(ndim=1),
        gx: ti.types.ndarray(ndim=1),
        n_out: ti.i32,
        p: P,
    ):
        ti.loop_config(serialize=serial)
        for m in range(n_out):
            ci_n, H, W, co_n, KH, KW, OH, OW = p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
            sh, sw, ph, pw, dh, dw = p[9], p[10], p[11], p[12], p[13], p[14]
            iw = m % W
            t = m // W
            ih = t % H
            t = t // H
            ci = t % ci_n
            nb = t // ci_n
            acc = ti.cast(0.0, ft)
            for co in range(co_n):
                for kh in range(KH):
                    th = ih + ph - kh * dh  # = oh * sh
                    if th >= 0 and th % sh == 0 and th // sh < OH:
                        grow = ((nb * co_n + co) * OH + th // sh) * OW
                        wrow = ((co * ci_n + ci) * KH + kh) * KW
                        for kw in range(KW):
                            tw = iw + pw - kw * dw
                            if tw >= 0 and tw % sw == 0 and tw // sw < OW:
                                acc += g[grow + tw // sw] * w[wrow + kw]
            gx[m] = acc

    return conv2d_input_k


def _weight_kernel(dt: np.dtype, serial: bool):
    ti = _runtime.taichi()
    ft = _buffer._ti_dtype(ti, dt)
    P = ti.types.vector(_NPARAM, ti.i32)

    @ti.kernel
    def conv2d_weight_k(
        x: ti.types.ndarray(ndim=1),
        g: ti.types.ndarray(ndim=1),
        gw: ti.types.ndarray(ndim=1),
        n_out: ti.i32,
        p: P,
    ):
        ti.loop_config(serialize=serial)
        for m in range(n_out):
            n_b, ci_n, H, W, co_n, KH, KW, OH, OW = (
                p[0],
                p[1],
                p[2],
                p[3],
                p[4],
                p[5],
                p[6],
                p[7],
                p[8],
            )
            kw = m % KW
            t = m // KW
            kh = t % KH
            t = t // KH
            ci = t % ci_n
            co = t // ci_n
            acc = ti.cast(0.0, ft)
            for nb in range(n_b):
                for oh in range(OH):
                    ih = oh * p[9] - p[11] + kh * p[13]
                    if 0 <= ih < H:
                        xrow = ((nb * ci_n + ci) * H + ih) * W
                        grow = ((nb * co_n + co) * OH + oh) * OW
                        for ow in range(OW):
                            iw = ow * p[10] - p[12] + kw * p[14]
                            if 0 <= iw < W:
                                acc += x[xrow + iw] * g[grow + ow]
            gw[m] = acc

    return conv2d_weight_k


# --- primitives ---------------------------------------------------------------------------------


def _out_size(n: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _pack(x_shape, w_shape, y_shape, stride, padding, dilation) -> tuple:
    n, ci, h, w_ = x_shape
    co, _, kh, kw = w_shape
    oh, ow = y_shape[2], y_shape[3]
    vals = (n, ci, h, w_, co, kh, kw, oh, ow, *stride, padding[0][0], padding[1][0], *dilation)
    return tuple(int(v) for v in vals) + (0,) * (_NPARAM - len(vals))


def _y_shape(x_shape, w_shape, stride, padding, dilation) -> tuple:
    oh = _out_size(x_shape[2], w_shape[2], stride[0], *padding[0], dilation[0])
    ow = _out_size(x_shape[3], w_shape[3], stride[1], *padding[1], dilation[1])
    return (x_shape[0], w_shape[0], oh, ow)


def _run(name, factory, a: Tensor, b: Tensor, out_shape, params) -> Tensor:
    dt = a.dtype
    n = 1
    for s in out_shape:
        n *= s
    out = Tensor._new(_buffer.empty(n, dt), tuple(out_shape), dt)
    if n:
        ser = _launch.serial(n)
        k = _launch.kernel((name, dt, ser), lambda: factory(dt, ser))
        _launch.launch(
            k, _buffer.kernel_view(a._buf), _buffer.kernel_view(b._buf), out._buf, n, params
        )
    return out


def _conv_impl(x: Tensor, w: Tensor, *, stride, padding, dilation) -> Tensor:
    ys = _y_shape(x.shape, w.shape, stride, padding, dilation)
    p = _pack(x.shape, w.shape, ys, stride, padding, dilation)
    return _run("conv2d", _conv_kernel, x, w, ys, p)


def _conv_abstract(x: ShapedArray, w: ShapedArray, *, stride, padding, dilation) -> ShapedArray:
    return ShapedArray(_y_shape(x.shape, w.shape, stride, padding, dilation), x.dtype)


conv2d_p = Primitive("conv2d", _conv_impl, _conv_abstract)


def _input_impl(g: Tensor, w: Tensor, *, x_shape, stride, padding, dilation) -> Tensor:
    p = _pack(x_shape, w.shape, g.shape, stride, padding, dilation)
    return _run("conv2d_input", _input_kernel, g, w, x_shape, p)


def _input_abstract(g, w, *, x_shape, stride, padding, dilation) -> ShapedArray:
    return ShapedArray(tuple(x_shape), g.dtype)


# conv2d_input(g, w) = d<conv2d(x, w), g>/dx: the transposed convolution, shape x_shape.
conv2d_input_p = Primitive("conv2d_input", _input_impl, _input_abstract)


def _weight_impl(x: Tensor, g: Tensor, *, w_shape, stride, padding, dilation) -> Tensor:
    p = _pack(x.shape, w_shape, g.shape, stride, padding, dilation)
    return _run("conv2d_weight", _weight_kernel, x, g, w_shape, p)


def _weight_abstract(x, g, *, w_shape, stride, padding, dilation) -> ShapedArray:
    return ShapedArray(tuple(w_shape), x.dtype)


# conv2d_weight(x, g) = d<conv2d(x, w), g>/dw: shape w_shape.
conv2d_weight_p = Primitive("conv2d_weight", _weight_impl, _weight_abstract)


# --- argument handling --------------------------------------------------------------------------


def _int_tuple(v, nd: int, what: str, fn: str, minimum: int) -> tuple:
    if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
        vals = (int(v),) * nd
    else:
        try:
            vals = tuple(v)
        except TypeError:
            raise TypeError(
                f"{fn}: {what} must be an int or a tuple of {nd} ints, got {type(v).__name__}"
            ) from None
        if len(vals) != nd or not all(
            isinstance(e, numbers.Integral) and not isinstance(e, (bool, np.bool_)) for e in vals
        ):
            raise ValueError(f"{fn}: {what} must be an int or a tuple of {nd} ints, got {v!r}")
        vals = tuple(int(e) for e in vals)
    for e in vals:
        if e < minimum:
            raise ValueError(f"{fn}: {what} must be >= {minimum}, got {v!r}")
    return vals


def _padding(padding, nd: int, ksize: tuple, stride: tuple, dilation: tuple, fn: str) -> tuple:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{fn}: padding='same' needs stride 1 (as in PyTorch), got stride {stride}"
                )
            out = []
            for k, d in zip(ksize, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))  # the extra one on the high side
            return tuple(out)
        raise ValueError(
            f"{fn}: padding must be an int, a tuple, 'same' or 'valid'; got {padding!r}"
        )
    return tuple((p, p) for p in _int_tuple(padding, nd, "padding", fn, 0))


def _conv(x, w, bias, stride, padding, dilation, nd: int, fn: str) -> Tensor:
    from . import _ops_elementwise, _ops_shape

    x, w = as_operand(x), as_operand(w)
    dims = "(N, C_in, L)" if nd == 1 else "(N, C_in, H, W)"
    wdims = "(C_out, C_in, K)" if nd == 1 else "(C_out, C_in, KH, KW)"
    unbatched = x.ndim == nd + 1
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{fn}: x must have shape {dims} (or unbatched), got {tuple(x.shape)}")
    if w.ndim != nd + 2:
        raise ValueError(f"{fn}: w must have shape {wdims}, got {tuple(w.shape)}")
    xs = (1, *x.shape) if unbatched else tuple(x.shape)
    if xs[1] != w.shape[1]:
        raise ValueError(
            f"{fn}: x of shape {tuple(x.shape)} has {xs[1]} input channels but w of shape "
            f"{tuple(w.shape)} expects {w.shape[1]}"
        )
    stride = _int_tuple(stride, nd, "stride", fn, 1)
    dilation = _int_tuple(dilation, nd, "dilation", fn, 1)
    pad = _padding(padding, nd, tuple(w.shape[2:]), stride, dilation, fn)
    for k in range(nd):
        n_in, ks = xs[2 + k], w.shape[2 + k]
        if _out_size(n_in, ks, stride[k], *pad[k], dilation[k]) < 1:
            raise ValueError(
                f"{fn}: the dilated kernel of w {tuple(w.shape)} (extent "
                f"{dilation[k] * (ks - 1) + 1}) is larger than the padded input x "
                f"{tuple(x.shape)} (extent {n_in + sum(pad[k])}) along spatial axis {k}"
            )
    dt = _dtypes.float_result(_dtypes.result_type(x, w))
    x, w = promote(x, w, dtype=dt)
    if nd == 1:
        # a 1-D convolution is a 2-D one on a height-1 image
        x4 = _ops_shape.reshape(x, (xs[0], xs[1], 1, xs[2]))
        w4 = _ops_shape.reshape(w, (w.shape[0], w.shape[1], 1, w.shape[2]))
        params = dict(stride=(1, *stride), padding=((0, 0), *pad), dilation=(1, *dilation))
    else:
        x4 = _ops_shape.reshape(x, xs)
        w4 = w
        params = dict(stride=stride, padding=pad, dilation=dilation)
    y = conv2d_p.bind(x4, w4, **params)
    out_shape = (y.shape[0], y.shape[1], *y.shape[4 - nd :])
    y = _ops_shape.reshape(y, out_shape[1:] if unbatched else out_shape)
    if bias is not None:
        b = as_operand(bias)
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"{fn}: bias must have shape (C_out,) = ({w.shape[0]},), got {tuple(b.shape)}"
            )
        (b,) = promote(b, dtype=dt)
        y = _ops_elementwise.add(y, _ops_shape.reshape(b, (w.shape[0],) + (1,) * nd))
    return y


# --- public functions ---------------------------------------------------------------------------


def conv1d(x, w, bias=None, stride=1, padding=0, dilation=1) -> Tensor:
    """1-D convolution (cross-correlation, as ``torch.nn.functional.conv1d``).

    ``y[n, o, i] = bias[o] + sum_{c, k} x[n, c, i*stride - pad + k*dilation] * w[o, c, k]``,
    with zeros outside the input.

    Args:
        x: input of shape (N, C_in, L), or (C_in, L) unbatched.
        w: kernel of shape (C_out, C_in, K).
        bias: optional tensor of shape (C_out,).
        stride: an int or a 1-tuple, >= 1.
        padding: an int or 1-tuple (zeros on both sides), "valid" (none) or "same" (output
            length L; needs stride 1; an odd total puts the extra zero at the end).
        dilation: an int or a 1-tuple, >= 1.

    Returns:
        Tensor of shape (N, C_out, L_out) with
        ``L_out = (L + 2*pad - dilation*(K-1) - 1) // stride + 1``.

    Raises:
        ValueError: wrong ranks, C_in of x and w differ (both shapes are named), a kernel
            larger than the padded input, bad stride/padding/dilation, or a bias of the wrong
            shape.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.tensor([[[1.0, 2.0, 3.0, 4.0]]])
        >>> fg.conv1d(x, fg.tensor([[[1.0, -1.0]]])).tolist()
        [[[-1.0, -1.0, -1.0]]]
    """
    return _conv(x, w, bias, stride, padding, dilation, 1, "conv1d")


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1) -> Tensor:
    """2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``).

    ``y[n, o, i, j] = bias[o] + sum_{c, p, q} x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw]
    * w[o, c, p, q]``, with zeros outside the input.

    Args:
        x: input of shape (N, C_in, H, W), or (C_in, H, W) unbatched.
        w: kernel of shape (C_out, C_in, KH, KW).
        bias: optional tensor of shape (C_out,).
        stride: an int or a tuple (sh, sw), >= 1.
        padding: an int or a tuple (ph, pw) (zeros on both sides of each axis), "valid" or
            "same" (output H x W; needs stride 1).
        dilation: an int or a tuple (dh, dw), >= 1.

    Returns:
        Tensor of shape (N, C_out, H_out, W_out),
        ``H_out = (H + 2*ph - dh*(KH-1) - 1) // sh + 1`` and likewise W_out.

    Raises:
        ValueError: wrong ranks, C_in of x and w differ (both shapes are named), a kernel
            larger than the padded input, bad stride/padding/dilation, or a bias of the wrong
            shape.

    Example:
        >>> import fieldgrad as fg
        >>> x = fg.ones((1, 1, 3, 3))
        >>> fg.conv2d(x, fg.ones((2, 1, 2, 2)), padding=1).shape
        (1, 2, 4, 4)
    """
    return _conv(x, w, bias, stride, padding, dilation, 2, "conv2d")
