"""save/load round trips (model, optimiser state, nested containers) and mismatch errors."""

import collections
import json

import numpy as np
import pytest

import fieldgrad as fg
from fieldgrad import nn


class Affine(nn.Module):
    weight: fg.Tensor
    bias: fg.Tensor
    count: fg.Tensor = nn.buffer(default=None)
    scale: float = 1.0

    def __call__(self, x):
        return self.scale * (x @ self.weight + self.bias)


class Net(nn.Module):
    layers: list

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _net(seed: int, sizes=(3, 4, 2)) -> Net:
    rng = np.random.default_rng(seed)
    layers = [
        Affine(
            fg.tensor(rng.standard_normal((i, o)), dtype="float32"),
            fg.tensor(rng.standard_normal(o), dtype="float32"),
            count=fg.tensor(np.int32(seed)),
        )
        for i, o in zip(sizes, sizes[1:])
    ]
    return Net(layers)


def _leaves_equal(a, b):
    la, lb = fg.tree_leaves(a), fg.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        xa = x.numpy() if isinstance(x, fg.Tensor) else np.asarray(x)
        ya = y.numpy() if isinstance(y, fg.Tensor) else np.asarray(y)
        assert xa.dtype == ya.dtype
        np.testing.assert_array_equal(xa, ya)


def test_model_round_trip(tmp_path):
    model, blank = _net(1), _net(2)
    path = nn.save(tmp_path / "model", model)
    assert path.endswith("model.npz")
    back = nn.load(path, blank)
    assert isinstance(back, Net) and isinstance(back.layers[1], Affine)
    _leaves_equal(back, model)
    assert back.layers[0].count.dtype == fg.int32 and int(back.layers[0].count) == 1
    x = fg.tensor(np.ones((2, 3)), dtype="float32")
    np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())


def test_file_is_plain_npz_with_a_structure_record(tmp_path):
    path = nn.save(tmp_path / "m.npz", _net(1))
    data = np.load(path)
    keys = {"layers.0.weight", "layers.0.bias", "layers.0.count", "layers.1.weight"}
    assert keys <= set(data.files)
    np.testing.assert_array_equal(data["layers.1.bias"], _net(1).layers[1].bias.numpy())
    record = json.loads(str(data["__fieldgrad__"]))
    assert record["fieldgrad"] == fg.__version__
    assert record["containers"][""] == "Net" and record["containers"]["layers.0"] == "Affine"
    assert record["leaves"]["layers.0.weight"] == {
        "shape": [3, 4],
        "dtype": "float32",
        "kind": "tensor",
    }


def test_adam_state_round_trip(tmp_path):
    model = _net(3)
    params, _ = nn.partition(model)
    opt = nn.optim.adam(1e-2)
    state = opt.init(params)
    grads = fg.tree_map(fg.ones_like, params)
    for _ in range(3):
        params, state = opt.update(grads, state, params)
    path = nn.save(tmp_path / "opt", state)
    back = nn.load(path, opt.init(nn.partition(_net(4))[0]))
    assert type(back) is type(state)
    _leaves_equal(back, state)
    counts = [x for x in fg.tree_leaves(back) if x.dtype == fg.int32]
    assert counts and int(counts[0]) == 3


def test_nested_containers_numbers_and_arrays(tmp_path):
    Pair = collections.namedtuple("Pair", "a b")
    tree = {
        "z": [fg.tensor([1.0, 2.0]), (np.arange(3), 2.5)],
        "a": {"step": 10, "flag": True, "pair": Pair(fg.zeros((2, 2)), None)},
        "empty": None,
    }
    like = fg.tree_map(lambda x: x, tree)
    back = nn.load(nn.save(tmp_path / "t", tree), like)
    assert back["a"]["step"] == 10 and isinstance(back["a"]["step"], int)
    assert back["a"]["flag"] is True
    assert isinstance(back["a"]["pair"], Pair) and back["a"]["pair"].b is None
    assert isinstance(back["z"][1][0], np.ndarray) and back["z"][1][1] == 2.5
    _leaves_equal(back, tree)
    scalar = nn.load(nn.save(tmp_path / "s", fg.tensor(3.0)), fg.tensor(0.0))
    assert float(scalar) == 3.0


def test_checkpoint_helpers(tmp_path):
    model = _net(5)
    params = nn.partition(model)[0]
    opt = nn.optim.adam(1e-3)
    state = opt.init(params)
    path = nn.save_checkpoint(tmp_path / "ckpt", model=model, opt_state=state, step=42)
    ck = nn.load_checkpoint(path, model=_net(6), opt_state=opt.init(params))
    assert ck["step"] == 42
    _leaves_equal(ck["model"], model)
    only_model = nn.load_checkpoint(path, model=_net(6), strict=False)
    _leaves_equal(only_model["model"], model)
    with pytest.raises(ValueError, match="strict=False"):
        nn.load_checkpoint(path, model=_net(6))


def test_mismatches_name_the_path_and_both_values(tmp_path):
    path = nn.save(tmp_path / "m", _net(1))
    with pytest.raises(ValueError, match=r"shape of 'layers.0.weight'.*\(3, 4\).*\(3, 5\)"):
        nn.load(path, _net(1, sizes=(3, 5, 2)))
    with pytest.raises(ValueError, match=r"lacks 3 path\(s\).*layers.2.weight"):
        nn.load(path, _net(1, sizes=(3, 4, 2, 2)))
    with pytest.raises(ValueError, match=r"path\(s\) that `like` lacks.*layers.1"):
        nn.load(path, _net(1, sizes=(3, 4)))
    f64 = fg.tree_map(lambda x: fg.astype(x, "float64") if x.dtype == fg.float32 else x, _net(1))
    with pytest.raises(ValueError, match="dtype of 'layers.0.weight'.*float32.*float64"):
        nn.load(path, f64)
    other = {"layers": [dict(weight=l.weight, bias=l.bias, count=l.count) for l in _net(1).layers]}
    with pytest.raises(ValueError, match="container class of '<root>'.*Net.*dict"):
        nn.load(path, other)
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing", _net(1))
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not a fieldgrad file"):
        nn.load(tmp_path / "plain.npz", {"a": fg.ones(2)})


def test_save_rejects_unsupported_leaves(tmp_path):
    with pytest.raises(TypeError, match="'x'.*str"):
        nn.save(tmp_path / "bad", {"x": "text"})
    assert not list(tmp_path.iterdir())  # nothing half-written
