"""Op-spec entries for linear algebra: matmul, dot products, diagonal, trace, einsum."""

import numpy as np

import fieldgrad as fg
from tests.opspec import OpSpec

NUMERIC = ("float32", "float64", "int32")

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((2, 3, 4), (4, 5)),
    ((4,), (2, 4, 3)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 2)),
]

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii->", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bi,bi->b", [(6, 3), (6, 3)]),
    ("ijk,k->ij", [(2, 3, 4), (4,)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
]


def _einsum_spec(subscripts, shapes):
    return OpSpec(
        f"einsum[{subscripts}]",
        lambda *xs: fg.einsum(subscripts, *xs),
        lambda *xs: np.einsum(subscripts, *xs),
        [tuple(shapes)],
        dtypes=NUMERIC,
    )


SPECS = [
    OpSpec("matmul", fg.matmul, np.matmul, MATMUL_SHAPES, dtypes=NUMERIC),
    OpSpec(
        "dot",
        fg.dot,
        np.dot,
        [((), (3,)), ((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 2))],
        dtypes=NUMERIC,
    ),
    OpSpec("vdot", fg.vdot, np.vdot, [((3, 4), (12,)), ((5,), (5,))]),
    OpSpec(
        "inner",
        fg.inner,
        np.inner,
        [((3,), (3,)), ((2, 3), (4, 3)), ((2, 3, 4), (4,)), ((), (3,))],
        dtypes=NUMERIC,
    ),
    OpSpec("outer", fg.outer, np.outer, [((3,), (4,)), ((2, 3), (2,)), ((0,), (2,))]),
    OpSpec("tensordot", fg.tensordot, np.tensordot, [((2, 3, 4), (3, 4, 5))], dtypes=NUMERIC),
    OpSpec("tensordot-axes1", fg.tensordot, np.tensordot, [((2, 3), (3, 4))], kwargs={"axes": 1}),
    OpSpec(
        "tensordot-pairs",
        fg.tensordot,
        np.tensordot,
        [((3, 4, 5), (5, 3, 2))],
        kwargs={"axes": ([0, 2], [1, 0])},
    ),
    OpSpec("diagonal", fg.diagonal, np.diagonal, [((4, 4),), ((3, 5),), ((5, 3),)]),
    OpSpec(
        "diagonal-offset-axes",
        fg.diagonal,
        np.diagonal,
        [((2, 3, 4),), ((4, 3, 5),)],
        kwargs={"offset": -1, "axis1": 2, "axis2": 0},
    ),
    OpSpec("trace", fg.trace, np.trace, [((4, 4),), ((3, 5),), ((2, 3, 4),)], dtypes=NUMERIC),
    OpSpec("trace-offset", fg.trace, np.trace, [((3, 5),)], kwargs={"offset": 2}),
    *[_einsum_spec(s, shapes) for s, shapes in EINSUM_CASES],
]
