"""The runtime: lazy init, quiet Taichi, arch selection and clear errors."""

import os
import subprocess
import sys
import textwrap

import pytest

import fieldgrad as fg


def _run(code: str, **env):
    e = dict(os.environ)
    e.pop("FIELDGRAD_ARCH", None)
    e.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=e,
        timeout=300,
    )


def test_import_does_not_initialise_taichi_and_prints_nothing():
    r = _run(
        """
        import sys
        import fieldgrad as fg
        assert not fg.is_initialized()
        assert "taichi" not in sys.modules, "taichi imported at import time"
        x = fg.tensor([1.0, 2.0])          # first use initialises lazily
        y = fg.exp(x) + 1.0
        assert fg.is_initialized()
        info = fg.device_info()
        assert info["arch"] == "cpu" and info["default_dtype"] == "float32"
        assert y.dtype == fg.float32
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", f"unexpected output on stdout: {r.stdout!r}"
    assert "Taichi" not in r.stderr


def test_verbose_init_shows_taichi_lines():
    r = _run("import fieldgrad as fg; fg.init(arch='cpu', verbose=True)")
    assert r.returncode == 0, r.stderr
    assert "Starting on arch" in r.stdout


def test_default_dtype_float64():
    r = _run(
        """
        import fieldgrad as fg
        fg.init(default_dtype="float64")
        assert fg.tensor([1.0]).dtype == fg.float64
        assert (fg.tensor([1, 2]) * 0.5).dtype == fg.float64
        assert fg.device_info()["default_dtype"] == "float64"
        """
    )
    assert r.returncode == 0, r.stderr


def test_fieldgrad_arch_environment_variable():
    r = _run(
        "import fieldgrad as fg; fg.tensor([1.0]); print(fg.device_info()['arch'])",
        FIELDGRAD_ARCH="cpu",
    )
    assert r.returncode == 0 and r.stdout.strip() == "cpu", r.stderr
    r = _run("import fieldgrad as fg; fg.tensor([1.0])", FIELDGRAD_ARCH="quantum")
    assert r.returncode != 0 and "unknown arch 'quantum'" in r.stderr


def test_unavailable_arch_is_an_error_not_a_fallback():
    import taichi as ti
    from taichi.lang.misc import is_arch_supported

    if is_arch_supported(ti.cuda):
        pytest.skip("CUDA is available on this machine")
    with pytest.raises(RuntimeError, match="cuda backend is not available"):
        fg.init(arch="cuda")
    assert fg.device_info()["arch"] == "cpu"  # the runtime in use is unchanged


def test_bad_init_arguments():
    with pytest.raises(ValueError, match="unknown arch 'tpu'"):
        fg.init(arch="tpu")
    with pytest.raises(ValueError, match="default_dtype must be float32 or float64"):
        fg.init(default_dtype="int32")
    with pytest.raises(ValueError, match="cpu_max_num_threads"):
        fg.init(cpu_max_num_threads=0)


def test_reinit_keeps_cpu_tensors_valid():
    r = _run(
        """
        import fieldgrad as fg
        x = fg.tensor([1.0, 2.0])
        fg.init(arch="cpu", cpu_max_num_threads=1)
        assert fg.device_info()["threads"] == 1
        assert (x + 1.0).tolist() == [2.0, 3.0]
        """
    )
    assert r.returncode == 0, r.stderr


def test_device_info_fields():
    info = fg.device_info()
    for key in ("arch", "taichi_version", "threads", "default_dtype"):
        assert key in info
    assert info["taichi_version"].startswith("1.7")
