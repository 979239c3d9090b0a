"""Op-spec entries for indexing: ``x[idx]``, take, take_along_axis, gather, scatter_add,
index_add and the functional updates ``x.at[idx]`` (float, int32 and bool data)."""

import numpy as np

import fieldgrad as fg
from tests.opspec import OpSpec

DATA = ("float32", "float64", "int32", "bool")


def _values(rng, shape, dtype):
    kind = np.dtype(dtype).kind
    if kind == "f":
        return rng.uniform(-2.0, 2.0, size=shape).astype(dtype)
    if kind == "b":
        return rng.uniform(size=shape) < 0.5
    return rng.integers(-5, 6, size=shape).astype(dtype)


def _with_indices(lo, hi, index_args=(1,)):
    """Sample data, but integer indices in ``[lo, hi)`` for the arguments in ``index_args``."""

    def sample(rng, shape, dtype, argnum):
        if argnum in index_args:
            return rng.integers(lo, hi, size=shape).astype(np.int32)
        return _values(rng, shape, dtype)

    return sample


def _getitem(name, index, shapes, grad_order=2):
    return OpSpec(
        f"getitem_{name}",
        lambda x: x[index],
        lambda a: a[index],
        shapes,
        dtypes=DATA,
        grad_order=grad_order,
    )


S2 = [((3, 4),), ((5, 6),)]
S3 = [((3, 4, 5),), ((4, 3, 2),)]


# --- numpy references ---------------------------------------------------------------------------


def _np_gather(x, idx, axes):
    k = len(axes)
    moved = np.moveaxis(x, axes, tuple(range(k)))
    return moved[tuple(idx[..., m] for m in range(k))]


def _np_scatter_add(x, idx, updates, axes):
    out = np.array(x)
    k = len(axes)
    moved = np.moveaxis(out, axes, tuple(range(k)))
    np.add.at(moved, tuple(idx[..., m] for m in range(k)), updates)
    return out


def _np_index_add(x, index, source, axis):
    out = np.array(x)
    np.add.at(np.moveaxis(out, axis, 0), index, np.moveaxis(source, axis, 0))
    return out


def _np_set(index):
    def ref(a, v):
        b = np.array(a)
        b[index] = v
        return b

    return ref


def _np_add_at(index):
    def ref(a, v):
        b = np.array(a)
        np.add.at(b, index, v)
        return b

    return ref


def _np_multiply(index):
    def ref(a, v):
        b = np.array(a)
        b[index] = b[index] * v
        return b

    return ref


SPECS = [
    _getitem("int", 1, S2 + S3),
    _getitem("negative_int", (-1, -2), S2 + S3),
    _getitem("slices", (slice(1, None, 2), slice(None, -1)), S2 + S3 + [((0, 3),)]),
    _getitem("negative_steps", (slice(None, None, -1), slice(-2, 0, -2)), S2 + S3),
    _getitem("empty_slice", (slice(3, 1), slice(None)), S2),
    _getitem("ellipsis", (Ellipsis, 0), S2 + S3),
    _getitem("ellipsis_mid", (0, Ellipsis, slice(None, None, -2)), S3),
    _getitem("newaxis", (None, slice(1, 3), None), S2 + S3),
    _getitem("all", (), S2 + [((),)]),
    _getitem("scalar_newaxis", None, [((),), ((3,),)]),
    _getitem("array", ([0, -1, 1, 1],), S2 + S3),
    _getitem("array_2d", (np.array([[0, 1], [2, 0]]),), S2 + S3),
    _getitem("array_empty", ([],), S2),
    _getitem("slice_array", (slice(None, None, -1), [2, 0, 0]), S2 + S3),
    _getitem("arrays_adjacent", (slice(1, None), [0, 1], [1, 0]), S3),
    _getitem("arrays_broadcast", (np.array([[0], [1]]), [0, 2, 1]), S2 + S3),
    _getitem("arrays_apart", ([0, 1], slice(None), [1, -1]), S3),
    _getitem("int_array_apart", (0, slice(None), [1, 0, 1]), S3),
    _getitem("array_newaxis", ([0, 1], None, [1, -2]), S3),
    _getitem("array_ellipsis", (Ellipsis, [1, 0]), S2 + S3),
    OpSpec(
        "getitem_tensor_index",
        lambda x, i: x[:, i],
        lambda a, i: a[:, i],
        [((3, 4), (5,)), ((2, 3, 5), (2, 2)), ((3, 3), ())],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "getitem_tensor_indices",
        lambda x, i, j: x[i, 1:, j],
        lambda a, i, j: a[i, 1:, j],
        [((3, 4, 5), (2, 1), (3,)), ((4, 3, 3), (), (2,))],
        dtypes=DATA,
        domain=_with_indices(-3, 3, (1, 2)),
        nondiff_argnums=(1, 2),
    ),
    OpSpec(
        "take_flat",
        fg.take,
        np.take,
        [((3, 4), (5,)), ((6,), (2, 3)), ((3, 3), ())],
        dtypes=DATA,
        domain=_with_indices(-6, 6),
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "take_axis",
        fg.take,
        np.take,
        [((3, 4), (5,)), ((3, 2, 4), (2, 2)), ((4, 0), (3,))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        kwargs={"axis": 0},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "take_last",
        fg.take,
        np.take,
        [((3, 4), (5,)), ((2, 3, 4), (2, 2)), ((4,), (0,))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        kwargs={"axis": -1},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "take_along_axis",
        fg.take_along_axis,
        np.take_along_axis,
        [((3, 4), (3, 2)), ((3, 4), (1, 5)), ((3, 1, 4), (3, 5, 2)), ((4,), (6,))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        kwargs={"axis": -1},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "take_along_axis_0",
        fg.take_along_axis,
        np.take_along_axis,
        [((3, 1), (3, 5)), ((4, 3), (2, 3))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        kwargs={"axis": 0},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "gather_nd",
        fg.gather,
        _np_gather,
        [((3, 4), (5, 2)), ((3, 4, 2), (2, 3, 2)), ((4, 3), (0, 2))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        kwargs={"axes": (0, 1)},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "gather_axes",
        fg.gather,
        _np_gather,
        [((3, 4, 5), (6, 1)), ((2, 3, 4), (2, 1))],
        dtypes=DATA,
        domain=_with_indices(-2, 2),
        kwargs={"axes": (-1,)},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "scatter_add",
        fg.scatter_add,
        _np_scatter_add,
        [((3, 4), (6, 1), (6, 4)), ((3, 4, 5), (7, 1), (7, 4, 5)), ((4,), (0, 1), (0,))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        kwargs={"axes": (0,)},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "scatter_add_2",
        fg.scatter_add,
        _np_scatter_add,
        [((3, 4, 5), (7, 2), (7, 4)), ((3, 2, 3), (4, 2, 2), (4, 2, 2))],
        dtypes=DATA,
        domain=_with_indices(-2, 2),
        kwargs={"axes": (0, 2)},
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "index_add",
        lambda x, i, s: fg.index_add(x, -1, i, s),
        lambda x, i, s: _np_index_add(x, i, s, -1),
        [((4, 3), (6,), (4, 6)), ((2, 3), (5,), (2, 5)), ((3,), (0,), (0,))],
        dtypes=DATA,
        domain=_with_indices(-3, 3),
        nondiff_argnums=(1,),
    ),
    OpSpec(
        "at_set_basic",
        lambda x, v: x.at[1:, ::-2].set(v),
        _np_set((slice(1, None), slice(None, None, -2))),
        [((3, 4), (2, 2)), ((3, 4), (2,)), ((3, 5), ())],
        dtypes=DATA,
    ),
    OpSpec(
        "at_set_int",
        lambda x, v: x.at[-1].set(v),
        _np_set(-1),
        [((3, 4), (4,)), ((3,), ())],
        dtypes=DATA,
    ),
    OpSpec(
        "at_set_array",
        lambda x, v: x.at[:, [2, 0]].set(v),
        _np_set((slice(None), [2, 0])),
        [((3, 4), (3, 2)), ((2, 3, 2), (2, 1, 2))],
        dtypes=DATA,
    ),
    OpSpec(
        "at_add_basic",
        lambda x, v: x.at[..., 1::2].add(v),
        _np_add_at((Ellipsis, slice(1, None, 2))),
        [((3, 4), (3, 2)), ((5,), ())],
        dtypes=DATA,
    ),
    OpSpec(
        "at_add_duplicates",
        lambda x, v: x.at[[0, 2, 0, 0]].add(v),
        _np_add_at([0, 2, 0, 0]),
        [((3, 4), (4, 4)), ((3,), ()), ((3, 2), (2,))],
        dtypes=DATA,
    ),
    OpSpec(
        "at_add_arrays",
        lambda x, v: x.at[[0, 1, 0], :, [1, 1, 1]].add(v),
        _np_add_at(([0, 1, 0], slice(None), [1, 1, 1])),
        [((2, 3, 4), (3, 3))],
        dtypes=DATA,
    ),
    OpSpec(
        "at_multiply",
        lambda x, v: x.at[1:, [0, 2]].multiply(v),
        _np_multiply((slice(1, None), [0, 2])),
        [((3, 4), (2, 2)), ((3, 3), ())],
        dtypes=DATA,
    ),
    OpSpec(
        "at_multiply_basic",
        lambda x, v: x.at[::2].multiply(v),
        _np_multiply(slice(None, None, 2)),
        [((3, 4), (4,)), ((5,), ())],
        dtypes=DATA,
    ),
    OpSpec("at_get", lambda x: x.at[1, [0, 2]].get(), lambda a: a[1, [0, 2]], S2, dtypes=DATA),
]
