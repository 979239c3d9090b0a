"""The nn core: Module (immutability, pytree, paths, partition), functional state, initialisers."""

import dataclasses
import math

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn

F64 = "float64"


class Affine(nn.Module):
    w: fg.Tensor
    b: fg.Tensor
    scale: float = 1.0

    def __call__(self, x):
        return self.scale * (x * self.w + self.b)


class Counter(nn.Module):
    """A tiny stateful layer: counts its calls and keeps a running mean of its inputs."""

    count: fg.Tensor = nn.buffer()
    mean: fg.Tensor = nn.buffer()
    gain: fg.Tensor = None

    def __call__(self, x):
        nn.record(self, count=self.count + 1, mean=0.5 * self.mean + 0.5 * fg.mean(x))
        return x * self.gain


def _counter():
    return Counter(fg.zeros(()), fg.zeros(()), fg.tensor(2.0))


def _mlp(seed=0):
    return nn.MLP([2, 3, 3, 1], key=fg.random.key(seed), dtype=F64)


# ----------------------------------------------------------------------------------- Module


def test_modules_are_immutable():
    m = Affine(fg.tensor([1.0]), fg.tensor([0.0]))
    with pytest.raises(dataclasses.FrozenInstanceError, match="immutable.*replace"):
        m.w = fg.tensor([2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        del m.b


def test_replace_returns_a_new_module():
    m = Affine(fg.tensor([1.0]), fg.tensor([0.0]))
    m2 = m.replace(scale=3.0)
    assert m2.scale == 3.0 and m.scale == 1.0 and m2.w is m.w
    with pytest.raises(TypeError, match="no field.*'bogus'"):
        m.replace(bogus=1)
    mlp = _mlp()
    new = nn.replace(mlp, "layers.1.bias", fg.zeros((3,), dtype=F64))
    assert np.all(new.layers[1].bias.numpy() == 0) and np.any(mlp.layers[1].bias.numpy() != 0)
    assert new.layers[0] is mlp.layers[0]
    doubled = nn.replace(mlp, "layers.0.weight", lambda w: w * 2)
    np.testing.assert_allclose(doubled.layers[0].weight.numpy(), 2 * mlp.layers[0].weight.numpy())
    assert nn.get(mlp, "layers.2.weight") is mlp.layers[2].weight
    with pytest.raises(KeyError, match="no field 'wieght'"):
        nn.replace(mlp, "layers.0.wieght", 1)
    with pytest.raises(KeyError, match="length 3"):
        nn.get(mlp, "layers.5")


def test_undeclared_or_unset_fields_raise():
    class Bad(nn.Module):
        w: fg.Tensor

        def __init__(self):
            self.w = fg.zeros(2)
            self.v = fg.zeros(2)

    with pytest.raises(TypeError, match=r"\['v'\].*not declared"):
        Bad()

    class Missing(nn.Module):
        w: fg.Tensor
        b: fg.Tensor

        def __init__(self):
            self.w = fg.zeros(2)

    with pytest.raises(TypeError, match=r"left field\(s\) \['b'\] unset"):
        Missing()


def test_named_parameters_order_and_count():
    mlp = _mlp()
    names = list(nn.named_parameters(mlp))
    assert names == [f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")]
    assert nn.count_parameters(mlp) == (2 * 3 + 3) + (3 * 3 + 3) + (3 + 1)
    assert [p.shape for p in nn.parameters(mlp)][:2] == [(2, 3), (3,)]
    c = _counter()
    assert list(nn.named_parameters(c)) == ["gain"]
    assert list(nn.named_buffers(c)) == ["count", "mean"]
    assert nn.count_parameters(c) == 1


def test_module_is_a_pytree_and_grad_is_model_shaped():
    m = Affine(fg.tensor([2.0], dtype=F64), fg.tensor([1.0], dtype=F64), scale=3.0)
    leaves, tdef = fg.tree_flatten(m)
    assert len(leaves) == 2
    rebuilt = fg.tree_unflatten(tdef, leaves)
    assert isinstance(rebuilt, Affine) and rebuilt.scale == 3.0
    g = fg.grad(lambda m: fg.sum(m(fg.tensor([5.0], dtype=F64))))(m)
    assert isinstance(g, Affine)
    np.testing.assert_allclose([g.w.item(), g.b.item()], [15.0, 3.0])


def test_hyperparameter_containers_are_static():
    class Spec(nn.Module):
        w: fg.Tensor
        sizes: tuple
        fns: list
        forced: list = nn.static()

        def __call__(self, x):
            for f in self.fns:
                x = f(x)
            return x * self.w * len(range(self.sizes[0]))

    m = Spec(fg.tensor([1.0], dtype=F64), (3, 3), [fg.tanh], forced=[fg.zeros(())])
    leaves = fg.tree_leaves(m)
    assert len(leaves) == 1 and leaves[0] is m.w
    x = fg.tensor([0.5], dtype=F64)
    g = fg.grad(lambda m: fg.sum(m(x)))(m)
    np.testing.assert_allclose(g.w.numpy(), 3 * np.tanh(0.5))
    assert g.sizes == (3, 3)
    np.testing.assert_allclose(fg.jit(lambda m, x: m(x))(m, x).numpy(), m(x).numpy())
    # Different static values give different structures.
    assert fg.tree_structure(m) != fg.tree_structure(m.replace(sizes=(2, 2)))


# ------------------------------------------------------------------------ partition / combine


def test_partition_and_combine_with_exclude_and_globs():
    mlp = _mlp()
    sel, rest = nn.partition(mlp, exclude="layers.0")
    assert sorted(nn.named_parameters(sel)) == [
        "layers.1.bias", "layers.1.weight", "layers.2.bias", "layers.2.weight"
    ]  # fmt: skip
    assert sel.layers[0].weight is None and rest.layers[0].weight is mlp.layers[0].weight
    back = nn.combine(sel, rest)
    for a, b in zip(nn.parameters(back), nn.parameters(mlp)):
        assert a is b
    biases, _ = nn.partition(mlp, "*.bias")
    assert list(nn.named_parameters(biases)) == ["layers.0.bias", "layers.1.bias", "layers.2.bias"]
    some, _ = nn.partition(mlp, ["layers.2", "layers.0.weight"], exclude="*.bias")
    assert list(nn.named_parameters(some)) == ["layers.0.weight", "layers.2.weight"]
    big, _ = nn.partition(mlp, lambda path, v: v.size > 3)
    assert list(nn.named_parameters(big)) == ["layers.0.weight", "layers.1.weight"]
    with pytest.raises(TypeError, match="where"):
        nn.partition(mlp, 3)


def test_partition_leaves_buffers_out():
    c = _counter()
    sel, rest = nn.partition(c)
    assert sel.count is None and sel.gain is c.gain and rest.count is c.count


def test_grads_through_a_partitioned_model():
    mlp = _mlp()
    x = fg.tensor(np.random.default_rng(0).normal(size=(4, 2)))
    train, frozen = nn.partition(mlp, exclude="layers.0")

    def loss(train):
        return fg.sum(nn.combine(train, frozen)(x) ** 2)

    g = fg.grad(loss)(train)
    assert g.layers[0].weight is None and g.layers[0].bias is None
    full = fg.grad(lambda m: fg.sum(m(x) ** 2))(mlp)
    for path in ("layers.1.weight", "layers.2.bias"):
        np.testing.assert_allclose(nn.get(g, path).numpy(), nn.get(full, path).numpy())
    fg.check_grads(loss, (train,), order=2)


# ------------------------------------------------------------------------------- train / eval


def test_train_and_eval_flags():
    class Drop(nn.Module):
        training: bool = True

    class Net(nn.Module):
        blocks: list
        head: Drop
        training: bool = True

    net = Net([Drop(), Drop(training=False)], Drop())
    ev = net.eval()
    assert not ev.training and not ev.head.training
    assert [b.training for b in ev.blocks] == [False, False]
    tr = ev.train()
    assert tr.training and tr.head.training and all(b.training for b in tr.blocks)
    assert net.blocks[1].training is False  # the original is unchanged
    assert nn.eval_mode(net).head.training is False
    assert nn.train_mode(ev).head.training is True
    assert nn.train_mode(net, False).blocks[0].training is False


# ------------------------------------------------------------------------- functional state


def test_apply_collects_recorded_state():
    c = _counter()
    x = fg.tensor([1.0, 3.0])
    y, c2 = nn.apply(c, x)
    np.testing.assert_allclose(y.numpy(), [2.0, 6.0])
    assert c2.count.item() == 1.0 and c2.mean.item() == 1.0 and c2.gain is c.gain
    assert c.count.item() == 0.0  # the input model is unchanged
    _, c3 = nn.apply(c2, x)
    assert c3.count.item() == 2.0 and c3.mean.item() == 1.5
    # Outside apply, recording is a no-op.
    c(x)
    assert c.count.item() == 0.0


def test_apply_nested_and_under_grad():
    seq = nn.Sequential([_counter(), _counter()])
    x = fg.tensor([1.0, 1.0], dtype=F64)
    _, seq2 = nn.apply(seq, x)
    assert [layer.count.item() for layer in seq2.layers] == [1.0, 1.0]
    assert seq2.layers[1].mean.item() == 1.0  # saw the first layer's output 2, halved

    def loss(m):
        y, new = nn.apply(m, x)
        return fg.sum(y), new

    (val, _), g = fg.value_and_grad(loss, has_aux=True)(seq)
    assert val.item() == 8.0
    assert g.layers[0].gain.item() == 4.0  # d/dg0 sum(x g0 g1) = sum(x) g1
    assert g.layers[0].count.item() == 0.0  # state is not differentiated
    with pytest.raises(TypeError, match="no field"):
        nn.apply(_BadRecord(), x)


def test_apply_state_comes_out_of_value_and_grad_concrete():
    x = fg.tensor([1.0, 1.0], dtype=F64)

    def loss(m):
        y, new = nn.apply(m, x)
        return fg.sum(y), new

    (_, new), _ = fg.value_and_grad(loss, has_aux=True)(_counter())
    assert isinstance(new.count, fg.Tensor) and new.count.item() == 1.0


class _BadRecord(nn.Module):
    def __call__(self, x):
        nn.record(self, nothing=x)
        return x


# ------------------------------------------------------------------------------ initialisers


def test_fans():
    assert nn.init.fans((3, 5)) == (3, 5)
    assert nn.init.fans((7,)) == (7, 7)
    assert nn.init.fans(()) == (1, 1)
    assert nn.init.fans((8, 4, 3, 3)) == (4 * 9, 8 * 9)  # (C_out, C_in, kh, kw)
    assert nn.init.fans((8, 4, 5)) == (20, 40)


INIT_STD = {
    "normal": (nn.init.normal(0.5), 0.5),
    "uniform": (nn.init.uniform(-1.0, 1.0), 1 / math.sqrt(3)),
    "xavier_normal": (nn.init.xavier_normal(), math.sqrt(2 / 512)),
    "xavier_uniform": (nn.init.xavier_uniform(2.0), 2.0 * math.sqrt(2 / 512)),
    "kaiming_normal": (nn.init.kaiming_normal(nonlinearity="relu"), math.sqrt(2 / 256)),
    "kaiming_uniform_a5": (nn.init.kaiming_uniform(a=math.sqrt(5)), math.sqrt(1 / 256 / 3)),
    "he_uniform": (nn.init.he_uniform(), math.sqrt(2 / 256)),
    "lecun_normal": (nn.init.lecun_normal(), math.sqrt(1 / 256)),
    "lecun_uniform": (nn.init.lecun_uniform(), math.sqrt(1 / 256)),
    "truncated_normal": (nn.init.truncated_normal(1.0), 0.8796),  # std of N(0,1) cut at 2
}


@pytest.mark.parametrize("name", sorted(INIT_STD))
def test_init_statistics_and_reproducibility(name):
    init, std = INIT_STD[name]
    w = init(fg.random.key(0), (256, 256), dtype=F64).numpy()
    assert w.shape == (256, 256) and w.dtype == np.float64
    assert abs(w.mean()) < 4 * std / 256
    assert abs(w.std() - std) < 0.02 * std
    np.testing.assert_array_equal(w, init(fg.random.key(0), (256, 256), dtype=F64).numpy())
    assert not np.array_equal(w, init(fg.random.key(1), (256, 256), dtype=F64).numpy())


def test_init_bounds_and_constants():
    w = nn.init.truncated_normal(2.0, bound=2.0)(fg.random.key(0), (1000,), dtype=F64).numpy()
    assert np.abs(w).max() <= 4.0
    a = math.sqrt(6 / 512)
    u = nn.init.xavier_uniform()(fg.random.key(0), (256, 256)).numpy()
    assert np.abs(u).max() <= a and np.abs(u).max() > 0.99 * a
    assert np.all(nn.init.constant(0.25)(None, (2, 2)).numpy() == 0.25)
    assert np.all(nn.init.zeros(None, (3,)).numpy() == 0) and nn.init.ones(None, 2).shape == (2,)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.0) == math.sqrt(2)
    with pytest.raises(ValueError, match="known"):
        nn.init.calculate_gain("swishy")
    with pytest.raises(ValueError, match="high > low"):
        nn.init.uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal(mode="fan_sideways")


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3)])
def test_orthogonal(shape):
    q = nn.init.orthogonal(gain=2.0)(fg.random.key(0), shape, dtype=F64).numpy()
    assert q.shape == shape
    m = q.reshape(shape[0], -1) / 2.0
    if m.shape[0] >= m.shape[1]:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)
    else:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.orthogonal()(fg.random.key(0), (4,))
