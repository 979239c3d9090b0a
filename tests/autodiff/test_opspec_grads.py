"""Every differentiable op of the op-spec table, forward and reverse mode, to the order its
entry names (second order for smooth ops), against finite differences in float64."""

import zlib

import numpy as np
import pytest

import fieldgrad as fg
from tests.opspec import ALL_SPECS

GRAD_SPECS = [s for s in ALL_SPECS if s.grad_order > 0 and "float64" in s.dtypes]


def _cases(spec, rng):
    """Up to two non-empty argument sets of the spec, in float64."""
    out = []
    for args in spec.sample(rng, "float64"):
        if all(np.size(a) > 0 for a in args):
            out.append(args)
        if len(out) == 2:
            break
    return out


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=[s.name for s in GRAD_SPECS])
def test_derivatives_match_finite_differences(spec):
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    for args in _cases(spec, rng):
        tensors = [fg.tensor(a) for a in args]
        diff = [
            k
            for k, a in enumerate(args)
            if k not in spec.nondiff_argnums and np.asarray(a).dtype.kind == "f"
        ]

        def f(*dargs, tensors=tensors, diff=diff):
            full = list(tensors)
            for k, v in zip(diff, dargs):
                full[k] = v
            return spec.op(*full, **spec.kwargs)

        fg.check_grads(
            f,
            tuple(tensors[k] for k in diff),
            order=spec.grad_order,
            modes=("fwd", "rev"),
            rtol=1e-5,
            atol=1e-6,
        )
