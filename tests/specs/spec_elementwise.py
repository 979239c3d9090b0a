"""Op-spec entries for elementwise arithmetic, comparison, logic and math."""

import numpy as np

import fieldgrad as fg
from tests.opspec import BINARY_SHAPES, UNARY_SHAPES, OpSpec

SPECS = [
    OpSpec("add", fg.add, np.add, BINARY_SHAPES, dtypes=("float32", "float64", "int32")),
    OpSpec("subtract", fg.subtract, np.subtract, BINARY_SHAPES),
    OpSpec("multiply", fg.multiply, np.multiply, BINARY_SHAPES),
    OpSpec("exp", fg.exp, np.exp, UNARY_SHAPES),
    OpSpec(
        "equal", fg.equal, np.equal, BINARY_SHAPES, domain=(-1, 1), dtypes=("int32",), grad_order=0
    ),
]
