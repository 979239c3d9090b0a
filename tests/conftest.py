"""Test set-up: the arch comes from FIELDGRAD_ARCH (default cpu); `gpu` tests skip without one."""

import os

import pytest

GPU_ARCHS = ("cuda", "vulkan", "metal", "gpu")


def _requested_arch() -> str:
    return os.environ.get("FIELDGRAD_ARCH", "cpu").lower()


def pytest_configure(config):
    import fieldgrad as fg

    arch = _requested_arch()
    try:
        fg.init(arch=arch)
    except RuntimeError as e:
        if arch in GPU_ARCHS:
            # No GPU here: fall back to the CPU for ordinary tests; gpu tests skip below.
            config._fieldgrad_no_gpu = str(e)
            fg.init(arch="cpu")
        else:
            raise


def pytest_collection_modifyitems(config, items):
    import fieldgrad as fg

    on_gpu = fg.device_info()["arch"] != "cpu"
    reason = getattr(config, "_fieldgrad_no_gpu", None) or (
        "needs a GPU arch: run with FIELDGRAD_ARCH=cuda pytest -m gpu"
    )
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "gpu" in item.keywords and not on_gpu:
            item.add_marker(skip)
