"""Pytrees: flatten/unflatten round trips over every container kind."""

import dataclasses
from collections import namedtuple

import pytest

import fieldgrad as fg
from fieldgrad.fields._pytree import (
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

Point = namedtuple("Point", "x y")


@dataclasses.dataclass(frozen=True)
class Layer:
    w: object
    b: object
    width: int = 3
    name: str = "layer"


def test_round_trip_of_nested_containers():
    t = fg.tensor([1.0, 2.0])
    tree = {"b": [t, (1, None)], "a": Point(2.0, {"z": 3})}
    leaves, td = tree_flatten(tree)
    assert leaves == [2.0, 3, t, 1]  # dict keys sorted, depth first
    back = tree_unflatten(td, leaves)
    assert back["a"] == Point(2.0, {"z": 3}) and back["b"][0] is t and back["b"][1] == (1, None)


def test_dataclass_fields_split_into_children_and_static():
    w, b = fg.tensor([[1.0]]), fg.tensor([0.0])
    layer = Layer(w, b, width=5)
    leaves, td = tree_flatten(layer)
    assert leaves == [w, b]
    again = tree_unflatten(td, leaves)
    assert isinstance(again, Layer) and again.width == 5 and again.name == "layer"
    assert tree_structure(Layer(w, b, width=6)) != td
    assert tree_structure(Layer(b, w, width=5)) == td


def test_tree_map_and_structure_mismatch():
    a = {"x": 1.0, "y": [2.0, 3.0]}
    b = {"x": 10.0, "y": [20.0, 30.0]}
    assert tree_map(lambda u, v: u + v, a, b) == {"x": 11.0, "y": [22.0, 33.0]}
    with pytest.raises(ValueError, match="structures differ"):
        tree_map(lambda u, v: u, a, {"x": 1.0})


def test_registered_custom_node():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda _, c: Pair(*c))
    out = tree_map(lambda v: v * 2, Pair(1, Pair(2, 3)))
    assert out.a == 2 and out.b.a == 4 and out.b.b == 6
    assert tree_leaves(Pair(1, [2, 3])) == [1, 2, 3]


def test_unflatten_with_too_many_leaves():
    _, td = tree_flatten((1, 2))
    with pytest.raises(ValueError, match="left over"):
        tree_unflatten(td, [1, 2, 3])
