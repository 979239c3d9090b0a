"""GPU runs: ``FIELDGRAD_ARCH=cuda pytest -m gpu``. Every test here skips without a GPU arch.

They run the whole op-spec table on the GPU and check GPU storage and host round trips.
"""

import numpy as np
import pytest

import fieldgrad as fg
from tests.fields.test_opspec import CASES
from tests.fields.test_opspec import test_op_matches_numpy as _check_op

pytestmark = pytest.mark.gpu


def test_storage_is_a_device_ndarray():
    t = fg.tensor(np.arange(10, dtype=np.float32))
    assert t.arch != "cpu"
    assert not isinstance(t._buf, np.ndarray)
    a = t.numpy()
    np.testing.assert_array_equal(a, np.arange(10, dtype=np.float32))


@pytest.mark.parametrize("dt", ["bool", "int32", "float32"])
def test_round_trip_on_device(dt):
    a = (np.random.default_rng(1).uniform(-5, 5, size=(3, 7))).astype(dt)
    np.testing.assert_array_equal(fg.tensor(a).numpy(), a)


@pytest.mark.parametrize("spec,dt", CASES, ids=[f"{s.name}-{d}" for s, d in CASES])
def test_op_matches_numpy_on_gpu(spec, dt):
    if dt == "float64" and fg.device_info()["arch"] in ("vulkan", "metal"):
        pytest.skip("no float64 on this backend")
    _check_op(spec, dt)
