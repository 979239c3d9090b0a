"""LayerNorm, BatchNorm, GroupNorm: numpy references, running statistics, modes and gradients."""

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

RNG = np.random.default_rng(2)
F64 = "float64"


def _rand(*shape):
    return RNG.standard_normal(shape)


def _normalize_ref(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _with_params(layer, shape):
    return layer.replace(weight=fg.tensor(_rand(*shape)), bias=fg.tensor(_rand(*shape)))


# --- LayerNorm ----------------------------------------------------------------------------------


def test_layer_norm_matches_numpy():
    ln = _with_params(nn.LayerNorm((3, 4), eps=1e-3, dtype=F64), (3, 4))
    x = _rand(2, 5, 3, 4) * 3 + 1
    want = _normalize_ref(x, (-2, -1), 1e-3) * ln.weight.numpy() + ln.bias.numpy()
    np.testing.assert_allclose(ln(fg.tensor(x)).numpy(), want, rtol=1e-12, atol=1e-12)
    plain = nn.LayerNorm(4, elementwise_affine=False)
    assert plain.weight is None and nn.count_parameters(plain) == 0
    y = plain(fg.tensor(x[..., 0, :].astype("float32"))).numpy()
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(-1), 1.0, rtol=1e-3)


def test_layer_norm_gradients_order_two():
    ln = _with_params(nn.LayerNorm(3, dtype=F64), (3,))
    x = fg.tensor(_rand(2, 3))
    fg.check_grads(lambda m, x: m(x), (ln, x), order=2)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"\(2, 5\).*normalized_shape \(4,\)"):
        nn.LayerNorm(4)(fg.ones((2, 5)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        nn.LayerNorm((2, 3))(fg.ones(3))
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(())
    with pytest.raises(ValueError, match="eps"):
        nn.LayerNorm(3, eps=-1.0)


# --- BatchNorm ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_training_output_and_running_stats(shape):
    bn = _with_params(nn.BatchNorm(3, momentum=0.2, dtype=F64), (3,))
    x = _rand(*shape) * 2 + 0.5
    axes = (0, *range(2, len(shape)))
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    w, b = bn.weight.numpy().reshape(bshape), bn.bias.numpy().reshape(bshape)
    y, bn2 = nn.apply(bn, fg.tensor(x))
    np.testing.assert_allclose(y.numpy(), _normalize_ref(x, axes, 1e-5) * w + b, rtol=1e-12)
    n = x.size // 3
    want_mean = 0.8 * 0.0 + 0.2 * x.mean(axis=axes)
    want_var = 0.8 * 1.0 + 0.2 * x.var(axis=axes) * n / (n - 1)
    np.testing.assert_allclose(bn2.running_mean.numpy(), want_mean, rtol=1e-12)
    np.testing.assert_allclose(bn2.running_var.numpy(), want_var, rtol=1e-12)
    assert bn2.running_mean.dtype == bn.running_mean.dtype
    # parameters are untouched; the old model keeps its buffers
    assert bn2.weight is bn.weight
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(3))


def test_batch_norm_plain_call_and_eval_mode():
    bn = nn.BatchNorm(2, dtype=F64)
    x = fg.tensor(_rand(5, 2))
    bn(x)  # outside nn.apply: nothing recorded, nothing mutated
    np.testing.assert_array_equal(bn.running_var.numpy(), [1.0, 1.0])
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    ev = bn.replace(running_mean=fg.tensor(rm), running_var=fg.tensor(rv)).eval()
    assert ev.training is False and bn.training is True
    y, ev2 = nn.apply(ev, x)
    assert ev2 is ev  # eval mode records nothing
    np.testing.assert_allclose(y.numpy(), (x.numpy() - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    # eval mode on a single sample is fine; training mode needs more than one value
    assert ev(fg.tensor(_rand(1, 2))).shape == (1, 2)
    with pytest.raises(ValueError, match=r"more than one value.*\(1, 2\)"):
        bn(fg.tensor(_rand(1, 2)))


def test_batch_norm_running_stats_converge_over_steps():
    bn = nn.BatchNorm(1, momentum=0.5, dtype=F64)
    x = fg.tensor(np.array([[1.0], [3.0], [5.0]]))  # mean 3, unbiased var 4
    for _ in range(30):
        _, bn = nn.apply(bn, x)
    np.testing.assert_allclose(bn.running_mean.numpy(), [3.0], rtol=1e-8)
    np.testing.assert_allclose(bn.running_var.numpy(), [4.0], rtol=1e-8)


def test_batch_norm_apply_inside_jit_and_nested():
    class Net(nn.Module):
        bn: nn.BatchNorm
        scale: fg.Tensor

        def __call__(self, x):
            return self.bn(x) * self.scale

    net = Net(nn.BatchNorm(3, momentum=0.3), fg.tensor(2.0))
    x = fg.tensor(_rand(4, 3, 2).astype("float32"))
    step = fg.jit(lambda net, x: nn.apply(net, x))
    y_j, net_j = step(net, x)
    y_e, net_e = nn.apply(net, x)
    np.testing.assert_allclose(y_j.numpy(), y_e.numpy(), rtol=1e-5, atol=1e-6)
    for name in ("running_mean", "running_var"):
        got = getattr(net_j.bn, name).numpy()
        np.testing.assert_allclose(got, getattr(net_e.bn, name).numpy(), rtol=1e-5)
    assert not np.allclose(net_e.bn.running_mean.numpy(), 0.0)
    _, net_j2 = step(net_j, x)  # same signature: no retrace
    assert step.cache_info()["misses"] == 1
    assert float(net_j2.bn.running_mean.numpy()[0]) != float(net_j.bn.running_mean.numpy()[0])
    # eval mode through jit is a new static signature and uses the running statistics
    ev = net_j.eval()
    want = (x.numpy() - net_j.bn.running_mean.numpy()[:, None]) / np.sqrt(
        net_j.bn.running_var.numpy()[:, None] + 1e-5
    )
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(ev, x).numpy(), 2 * want, rtol=1e-4)


def test_batch_norm_gradients():
    bn = _with_params(nn.BatchNorm(2, dtype=F64), (2,))
    x = fg.tensor(_rand(3, 2, 2))
    fg.check_grads(lambda m, x: m(x), (bn, x), order=2)
    ev = bn.replace(running_var=fg.tensor(np.array([0.5, 2.0]))).eval()
    fg.check_grads(lambda m, x: m(x), (ev, x), order=1)
    # buffers are not parameters
    assert sorted(nn.named_parameters(bn)) == ["bias", "weight"]
    assert sorted(nn.named_buffers(bn)) == ["running_mean", "running_var"]


def test_batch_norm_errors_and_aliases():
    with pytest.raises(ValueError, match=r"C = 3.*\(4, 2\)"):
        nn.BatchNorm(3)(fg.ones((4, 2)))
    with pytest.raises(ValueError, match=r"C = 3.*\(3,\)"):
        nn.BatchNorm(3)(fg.ones(3))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm(3, momentum=1.5)
    assert nn.BatchNorm2d is nn.BatchNorm and nn.BatchNorm1d is nn.BatchNorm
    assert nn.BatchNorm(2, affine=False).weight is None


# --- GroupNorm ----------------------------------------------------------------------------------


def test_group_norm_matches_numpy_and_gradients():
    gn = _with_params(nn.GroupNorm(2, 4, dtype=F64), (4,))
    x = _rand(3, 4, 5)
    xg = x.reshape(3, 2, 2, 5)
    want = _normalize_ref(xg, (2, 3), 1e-5).reshape(x.shape)
    want = want * gn.weight.numpy()[:, None] + gn.bias.numpy()[:, None]
    np.testing.assert_allclose(gn(fg.tensor(x)).numpy(), want, rtol=1e-12, atol=1e-12)
    fg.check_grads(lambda m, x: m(x), (gn, fg.tensor(x[:1, :, :2])), order=2)
    with pytest.raises(ValueError, match="divide"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"C = 4.*\(2, 3, 5\)"):
        gn(fg.ones((2, 3, 5)))
