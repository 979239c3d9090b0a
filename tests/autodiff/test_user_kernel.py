"""kernel_primitive: a user's Taichi kernel as a differentiable function. Every derivative is
checked against finite differences (Taichi's autodiff can silently return zeros)."""

import numpy as np
import pytest
import taichi as ti

import fieldgrad as fg
from fieldgrad.autodiff.extend import KernelFunction, kernel_primitive


def f64(x):
    return fg.tensor(np.asarray(x, dtype=np.float64))


@ti.kernel
def wave(
    x: ti.types.ndarray(dtype=ti.f64, ndim=1),
    w: ti.types.ndarray(dtype=ti.f64, ndim=1),
    scale: ti.f64,
    y: ti.types.ndarray(dtype=ti.f64, ndim=1),
    energy: ti.types.ndarray(dtype=ti.f64, ndim=0),
):
    for i in range(x.shape[0]):
        y[i] = ti.sin(x[i]) * w[i] * scale
        energy[None] += x[i] * x[i] * w[i]


@ti.kernel
def permute_mul(
    x: ti.types.ndarray(ndim=1), idx: ti.types.ndarray(dtype=ti.i32, ndim=1), y: ti.types.ndarray()
):
    for i in range(x.shape[0]):
        y[i] = x[idx[i]] * x[i]


@ti.kernel
def smooth_2d(u: ti.types.ndarray(ndim=2), out: ti.types.ndarray(ndim=2)):
    for i, j in ti.ndrange(u.shape[0], u.shape[1]):
        ip, jp = (i + 1) % u.shape[0], (j + 1) % u.shape[1]
        out[i, j] = u[i, j] * u[i, j] + 0.5 * u[ip, j] * u[i, jp]


@ti.kernel
def split_statements(x: ti.types.ndarray(ndim=1), y: ti.types.ndarray(ndim=1)):
    n = x.shape[0]
    for i in range(n):
        y[i] = x[i] * 2.0


@ti.kernel
def field_cube(x: ti.template(), w: ti.template(), y: ti.template()):
    for i in x:
        y[i] = x[i] * x[i] * x[i] * w[i]


XS = np.linspace(-0.8, 1.3, 7)
WS = np.linspace(0.5, 2.0, 7)


def _wave():
    return kernel_primitive(wave, out_shapes=lambda x, w, s: [x.shape, ()])


def test_forward_values_and_outputs():
    f = _wave()
    assert isinstance(f, KernelFunction)
    y, e = f(f64(XS), f64(WS), 2.0)
    assert np.allclose(y.numpy(), np.sin(XS) * WS * 2.0)
    assert e.shape == () and np.isclose(float(e), np.sum(XS * XS * WS))
    y2, e2 = f(f64(XS), f64(WS), 2.0)  # outputs start zeroed on every call
    assert np.isclose(float(e2), float(e)) and np.allclose(y2.numpy(), y.numpy())


def test_reverse_mode_from_kernel_grad_matches_finite_differences():
    f = _wave()

    def loss(x, w):
        y, e = f(x, w, 2.0)
        return fg.sum(y * y) + e

    fg.check_grads(loss, (f64(XS), f64(WS)), order=1, modes=("rev",))
    gx = fg.grad(loss)(f64(XS), f64(WS))
    want = 2 * (np.sin(XS) * WS * 2.0) * np.cos(XS) * WS * 2.0 + 2 * XS * WS
    assert np.allclose(gx.numpy(), want)


def test_integer_inputs_float32_and_2d_kernels():
    f = kernel_primitive(permute_mul, out_shapes=lambda x, idx: x.shape)
    x = fg.tensor(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    idx = fg.tensor(np.array([3, 2, 1, 0], np.int32))
    y = f(x, idx)
    assert y.dtype == np.float32 and y.tolist() == [4.0, 6.0, 6.0, 4.0]
    g = fg.grad(lambda x: fg.sum(f(x, idx)))(x)
    assert np.allclose(g.numpy(), [8.0, 6.0, 4.0, 2.0])
    fg.check_grads(lambda x: f(x, idx), (f64([0.5, -1.0, 2.0, 0.25]),), modes=("rev",))
    s = kernel_primitive(smooth_2d, out_shapes=lambda u: u.shape)
    u = np.random.default_rng(1).standard_normal((4, 5))
    want = u * u + 0.5 * np.roll(u, -1, axis=0) * np.roll(u, -1, axis=1)
    assert np.allclose(s(f64(u)).numpy(), want)
    fg.check_grads(s, (f64(u),), modes=("rev",))


def test_ndarray_kernel_has_no_forward_mode_and_is_once_differentiable():
    f = kernel_primitive(smooth_2d, out_shapes=lambda u: u.shape)
    u = f64(np.ones((3, 3)))
    with pytest.raises(NotImplementedError, match="'smooth_2d'.*FwdMode.*fields only.*jvp="):
        fg.jvp(f, (u,), (u,))
    with pytest.raises(NotImplementedError, match="'smooth_2d'.*once.*jvp= written in fieldgrad"):
        fg.grad(lambda u: fg.sum(fg.grad(lambda v: fg.sum(f(v)))(u) ** 2))(u)


def test_field_kernel_forward_and_reverse_mode_match_finite_differences():
    f = kernel_primitive(field_cube, out_shapes=lambda x, w: x.shape)
    x, w = f64(XS), f64(WS)
    assert np.allclose(f(x, w).numpy(), XS**3 * WS)
    fg.check_grads(f, (x, w), order=1, modes=("fwd", "rev"))
    _, t = fg.jvp(f, (x, w), (f64(np.ones(7)), f64(np.zeros(7))))
    assert np.allclose(t.numpy(), 3 * XS**2 * WS)
    # other shapes reuse the pool by shape; float32 works too
    x32 = fg.tensor(np.array([1.0, 2.0], np.float32))
    _, t32 = fg.jvp(lambda x: f(x, x), (x32,), (fg.ones(2),))
    assert np.allclose(t32.numpy(), 4 * np.array([1.0, 2.0]) ** 3)
    with pytest.raises(NotImplementedError, match="'field_cube'.*once"):
        fg.jvp(fg.grad(lambda v: fg.sum(f(v, w))), (x,), (x,))
    with pytest.raises(NotImplementedError, match="'field_cube'.*once"):
        fg.grad(lambda v: fg.sum(fg.jvp(lambda u: f(u, w), (v,), (v,))[1]))(x)


def test_user_jvp_makes_every_order_work():
    def wave_jvp(scale, primals, tangents):
        x, w = primals
        tx, tw = tangents
        out = f(x, w, scale)
        ty = (fg.cos(x) * w * tx + fg.sin(x) * tw) * scale
        te = fg.sum(2.0 * x * w * tx + x * x * tw)
        return out, (ty, te)

    f = kernel_primitive(wave, out_shapes=lambda x, w, s: [x.shape, ()], jvp=wave_jvp)

    def loss(x, w):
        y, e = f(x, w, 1.5)
        return fg.sum(y * y) + e

    fg.check_grads(loss, (f64(XS), f64(WS)), order=2, modes=("fwd", "rev"))
    fg.check_grads(lambda x: f(x, f64(WS), 1.5)[0], (f64(XS),), order=3, modes=("fwd",))


def test_kernel_under_vmap():
    f = kernel_primitive(smooth_2d, out_shapes=lambda u: u.shape)
    us = np.random.default_rng(2).standard_normal((3, 2, 4))
    out = fg.vmap(f)(f64(us))
    for k in range(3):
        assert np.allclose(out[k].numpy(), f(f64(us[k])).numpy())


def test_static_shapes_and_dtypes_options():
    f = kernel_primitive(permute_mul, out_shapes=(3,), out_dtypes="float64", name="pm")
    y = f(f64([1.0, 2.0, 3.0]), fg.tensor([0, 1, 2], dtype="int32"))
    assert y.tolist() == [1.0, 4.0, 9.0] and f.__name__ == "pm"
    g = kernel_primitive(smooth_2d, out_shapes=[(2, 2)])
    out = g(f64(np.ones((2, 2))))
    assert isinstance(out, tuple) and out[0].shape == (2, 2)


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="decorated with @ti.kernel"):
        kernel_primitive(lambda x: x, out_shapes=(1,))
    with pytest.raises(ValueError, match="cannot hold 5 outputs"):
        kernel_primitive(smooth_2d, out_shapes=[(1,)] * 5)
    with pytest.raises(TypeError, match="must be arrays"):
        kernel_primitive(wave, out_shapes=[(1,), (1,), ()])
    with pytest.raises(TypeError, match="out_shapes"):
        kernel_primitive(smooth_2d, out_shapes="same")
    f = _wave()
    with pytest.raises(TypeError, match="'x' is declared float64, got a float32"):
        f(fg.tensor(np.ones(3, np.float32)), f64(np.ones(3)), 1.0)
    with pytest.raises(ValueError, match=r"ndim=1, got a tensor of shape \(3, 1\)"):
        f(f64(np.ones((3, 1))), f64(np.ones(3)), 1.0)
    with pytest.raises(TypeError, match="'scale' is static"):
        fg.grad(lambda s: fg.sum(f(f64(XS), f64(WS), s)[0]))(f64(1.0))
    g = kernel_primitive(smooth_2d, out_shapes=lambda u: [u.shape, u.shape])
    with pytest.raises(ValueError, match="expected 1 shape"):
        g(f64(np.ones((2, 2))))
    h = kernel_primitive(split_statements, out_shapes=lambda x: x.shape)
    assert h(f64([1.0, 2.0])).tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="Taichi's autodiff failed on kernel 'split_statements'"):
        fg.grad(lambda x: fg.sum(h(x)))(f64([1.0, 2.0]))
