"""Op-spec entries for shape ops: reshape and transposes, joins and splits, flips, rolls, pads,
tiles and repeats (pure data movement: checked in float, int32 and bool)."""

import numpy as np

import fieldgrad as fg
from tests.opspec import OpSpec

DATA = ("float32", "float64", "int32", "bool")

S3 = [((2, 3, 4),), ((3, 4),), ((0, 3, 2),)]


def _cat(*xs, axis):
    return fg.concatenate(list(xs), axis=axis)


def _np_cat(*xs, axis):
    return np.concatenate(list(xs), axis=axis)


def _stack(*xs, axis):
    return fg.stack(list(xs), axis=axis)


def _np_stack(*xs, axis):
    return np.stack(list(xs), axis=axis)


SPECS = [
    OpSpec(
        "reshape",
        fg.reshape,
        np.reshape,
        [((2, 3, 4),), ((6,),), ((0, 3),)],
        dtypes=DATA,
        kwargs={"shape": (-1, 3)},
    ),
    OpSpec(
        "transpose",
        fg.transpose,
        np.transpose,
        [((2, 3, 4),), ((3, 4),), ((),), ((0, 2),)],
        dtypes=DATA,
    ),
    OpSpec(
        "transpose_axes",
        fg.transpose,
        np.transpose,
        [((2, 3, 4),), ((2, 0, 5),)],
        dtypes=DATA,
        kwargs={"axes": (1, -1, 0)},
    ),
    OpSpec(
        "broadcast_to",
        fg.broadcast_to,
        np.broadcast_to,
        [((3,),), ((1, 3),), ((2, 1),)],
        dtypes=DATA,
        kwargs={"shape": (2, 2, 3)},
    ),
    OpSpec(
        "expand_dims",
        fg.expand_dims,
        np.expand_dims,
        [((3,),), ((2, 3),), ((),)],
        dtypes=DATA,
        kwargs={"axis": (0, -1)},
    ),
    OpSpec("squeeze", fg.squeeze, np.squeeze, [((1, 3, 1),), ((2, 1),), ((1,),)], dtypes=DATA),
    OpSpec(
        "moveaxis",
        fg.moveaxis,
        np.moveaxis,
        S3,
        dtypes=DATA,
        kwargs={"source": 0, "destination": -1},
    ),
    OpSpec(
        "moveaxis_many",
        fg.moveaxis,
        np.moveaxis,
        [((2, 3, 4, 5),), ((0, 1, 2, 3),)],
        dtypes=DATA,
        kwargs={"source": (0, -1), "destination": (2, 0)},
    ),
    OpSpec(
        "concatenate_0",
        _cat,
        _np_cat,
        [((2, 3), (4, 3)), ((5,), (1,), (2,)), ((0, 3), (2, 3)), ((1, 2, 3), (1, 2, 3))],
        dtypes=DATA,
        kwargs={"axis": 0},
    ),
    OpSpec(
        "concatenate_last",
        _cat,
        _np_cat,
        [((2, 3), (2, 1)), ((2, 3, 1), (2, 3, 4), (2, 3, 2)), ((2, 0), (2, 3))],
        dtypes=DATA,
        kwargs={"axis": -1},
    ),
    OpSpec(
        "concatenate_none",
        _cat,
        _np_cat,
        [((2, 3), (4,)), ((0,), (2, 2))],
        dtypes=DATA,
        kwargs={"axis": None},
    ),
    OpSpec(
        "stack_0",
        _stack,
        _np_stack,
        [((3,), (3,)), ((2, 3), (2, 3), (2, 3)), ((), ())],
        dtypes=DATA,
        kwargs={"axis": 0},
    ),
    OpSpec(
        "stack_last",
        _stack,
        _np_stack,
        [((3,), (3,)), ((2, 3), (2, 3)), ((0, 2), (0, 2))],
        dtypes=DATA,
        kwargs={"axis": -1},
    ),
    OpSpec(
        "split_sections",
        fg.split,
        np.split,
        [((6, 2),), ((3, 4),), ((0, 2),)],
        dtypes=DATA,
        kwargs={"indices_or_sections": 3, "axis": 0},
    ),
    OpSpec(
        "split_indices",
        fg.split,
        np.split,
        [((7, 3),), ((2, 9),)],
        dtypes=DATA,
        kwargs={"indices_or_sections": [1, -2, 8, 3], "axis": -1},
    ),
    OpSpec(
        "array_split",
        fg.array_split,
        np.array_split,
        [((7,),), ((2, 5),)],
        dtypes=DATA,
        kwargs={"indices_or_sections": 3, "axis": -1},
    ),
    OpSpec(
        "flip_all",
        fg.flip,
        np.flip,
        [((),), ((5,),), ((3, 4),), ((2, 3, 4),), ((0, 3),)],
        dtypes=DATA,
    ),
    OpSpec(
        "flip_axis",
        fg.flip,
        np.flip,
        [((5, 2),), ((3, 4),), ((2, 3, 4),), ((0, 3),)],
        dtypes=DATA,
        kwargs={"axis": -1},
    ),
    OpSpec(
        "flip_axes",
        fg.flip,
        np.flip,
        [((2, 3, 4),), ((3, 4, 1),)],
        dtypes=DATA,
        kwargs={"axis": (0, 2)},
    ),
    OpSpec(
        "roll_flat",
        fg.roll,
        np.roll,
        [((7,),), ((3, 4),), ((),), ((0, 2),)],
        dtypes=DATA,
        kwargs={"shift": 5},
    ),
    OpSpec(
        "roll_axis",
        fg.roll,
        np.roll,
        [((7, 2),), ((3, 4),), ((2, 3, 4),)],
        dtypes=DATA,
        kwargs={"shift": -4, "axis": 1},
    ),
    OpSpec(
        "roll_axes",
        fg.roll,
        np.roll,
        [((3, 5),), ((2, 3, 4),)],
        dtypes=DATA,
        kwargs={"shift": (1, 7, -1), "axis": (0, 1, 0)},
    ),
    OpSpec(
        "pad_constant",
        fg.pad,
        np.pad,
        [((3,),), ((2, 3),), ((0, 2),), ((2, 1, 3),)],
        dtypes=DATA,
        kwargs={"pad_width": 2, "mode": "constant", "constant_values": 1},
    ),
    OpSpec(
        "pad_constant_pairs",
        fg.pad,
        np.pad,
        [((3, 4),), ((1, 2),)],
        dtypes=DATA,
        kwargs={"pad_width": ((1, 0), (2, 3))},
    ),
    OpSpec(
        "pad_wrap",
        fg.pad,
        np.pad,
        [((3,),), ((2, 3),), ((1, 4),)],
        dtypes=DATA,
        kwargs={"pad_width": (1, 2), "mode": "wrap"},
    ),
    OpSpec(
        "pad_wrap_wide",
        fg.pad,
        np.pad,
        [((3,),), ((2, 3),)],
        dtypes=DATA,
        kwargs={"pad_width": (7, 5), "mode": "wrap"},
    ),
    OpSpec(
        "pad_reflect",
        fg.pad,
        np.pad,
        [((4,),), ((3, 5),), ((1, 4),)],
        dtypes=DATA,
        kwargs={"pad_width": ((2, 1),), "mode": "reflect"},
    ),
    OpSpec(
        "pad_reflect_wide",
        fg.pad,
        np.pad,
        [((3,),), ((2, 4),)],
        dtypes=DATA,
        kwargs={"pad_width": (6, 9), "mode": "reflect"},
    ),
    OpSpec(
        "pad_symmetric",
        fg.pad,
        np.pad,
        [((3,),), ((2, 4),)],
        dtypes=DATA,
        kwargs={"pad_width": (5, 2), "mode": "symmetric"},
    ),
    OpSpec(
        "pad_edge",
        fg.pad,
        np.pad,
        [((3,),), ((2, 4),), ((1, 1),)],
        dtypes=DATA,
        kwargs={"pad_width": ((0, 2),), "mode": "edge"},
    ),
    OpSpec(
        "tile",
        fg.tile,
        np.tile,
        [((3,),), ((2, 3),), ((),), ((0, 2),)],
        dtypes=DATA,
        kwargs={"reps": (2, 1, 3)},
    ),
    OpSpec("tile_int", fg.tile, np.tile, [((3,),), ((2, 3),)], dtypes=DATA, kwargs={"reps": 2}),
    OpSpec(
        "repeat_flat",
        fg.repeat,
        np.repeat,
        [((3,),), ((2, 3),), ((),), ((0,),)],
        dtypes=DATA,
        kwargs={"repeats": 2},
    ),
    OpSpec(
        "repeat_axis",
        fg.repeat,
        np.repeat,
        [((3, 2),), ((3,),), ((3, 0),)],
        dtypes=DATA,
        kwargs={"repeats": 3, "axis": 0},
    ),
    OpSpec(
        "repeat_counts",
        fg.repeat,
        np.repeat,
        [((3, 2),), ((4, 3, 2),)],
        dtypes=DATA,
        kwargs={"repeats": [2, 0, 1], "axis": -2},
    ),
]
