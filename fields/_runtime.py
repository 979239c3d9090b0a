"""The Taichi runtime: one lazy `ti.init`, the default dtype, and device information.

Nothing here runs at import time. The first operation that needs Taichi calls
:func:`ensure_init`, which initialises Taichi on the CPU with float32 as the default floating
dtype unless :func:`init` was called first or ``FIELDGRAD_ARCH`` names another arch.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from typing import Any

import numpy as np

__all__ = ["init", "device_info", "is_initialized", "default_float_dtype", "current_arch"]

ARCHS = ("cpu", "cuda", "vulkan", "metal", "gpu", "auto")
GPU_ARCHS = ("cuda", "vulkan", "metal", "opengl", "amdgpu")

_lock = threading.RLock()
_state: dict[str, Any] = {
    "initialized": False,
    "arch": None,  # resolved arch name, e.g. "cpu", "cuda"
    "default_dtype": np.dtype(np.float32),
    "threads": None,
    "debug": False,
    "generation": 0,  # bumped on every init; kernels cache per generation
}


def _quiet_taichi_env() -> None:
    # Taichi's import-time banner and its network version check are off unless asked for.
    os.environ.setdefault("TI_SKIP_VERSION_CHECK", "ON")
    if not _state.get("verbose"):
        os.environ.setdefault("ENABLE_TAICHI_HEADER_PRINT", "False")


def taichi():
    """Import and return the taichi module (quietly). Does not call ``ti.init``."""
    _quiet_taichi_env()
    import taichi as ti

    return ti


def _arch_obj(ti, name: str):
    table = {
        "cpu": ti.cpu,
        "cuda": ti.cuda,
        "vulkan": ti.vulkan,
        "metal": ti.metal,
        "opengl": ti.opengl,
        "amdgpu": ti.amdgpu,
    }
    return table[name]


def _resolve_arch(ti, arch: str) -> str:
    from taichi.lang.misc import is_arch_supported

    if arch in ("gpu", "auto"):
        for name in ("cuda", "vulkan", "metal", "amdgpu", "opengl"):
            if is_arch_supported(_arch_obj(ti, name)):
                return name
        if arch == "gpu":
            raise RuntimeError(
                "fieldgrad.init(arch='gpu'): no GPU backend is available on this machine "
                "(tried cuda, vulkan, metal, amdgpu, opengl); use arch='cpu' or arch='auto'"
            )
        return "cpu"
    if not is_arch_supported(_arch_obj(ti, arch)):
        version = ".".join(map(str, ti.__version__))
        raise RuntimeError(
            f"fieldgrad.init(arch={arch!r}): the {arch} backend is not available on this machine "
            f"(Taichi {version}); fieldgrad does not fall back to the CPU silently. "
            "Use arch='cpu', or arch='auto' to take a GPU when one is present."
        )
    return arch


def init(
    arch: str | None = None,
    default_dtype: str | np.dtype = "float32",
    *,
    debug: bool = False,
    cpu_max_num_threads: int | None = None,
    offline_cache: bool = True,
    verbose: bool = False,
    **taichi_kwargs: Any,
) -> dict:
    """Initialise the Taichi runtime that backs every tensor.

    Calling it is optional: the first operation initialises the CPU backend with float32.
    Calling it again re-initialises Taichi; tensors made before on a GPU arch become invalid
    (CPU tensors live in host memory and stay valid).

    Args:
        arch: "cpu", "cuda", "vulkan", "metal", "gpu" (the first GPU backend found, an error
            if none) or "auto" (a GPU if present, else the CPU). Defaults to the
            ``FIELDGRAD_ARCH`` environment variable, else "cpu".
        default_dtype: "float32" or "float64": the dtype of tensors made from Python floats
            and of float results computed from integers.
        debug: Taichi's debug mode (bounds checks; about 12x slower kernels).
        cpu_max_num_threads: threads for parallel CPU loops (Taichi's default: all cores).
        offline_cache: keep compiled kernels on disk between runs (on by default).
        verbose: show Taichi's banner and "Starting on arch" lines.
        **taichi_kwargs: passed to ``ti.init`` unchanged.

    Returns:
        :func:`device_info` of the new runtime.

    Raises:
        ValueError: an unknown arch or default dtype.
        RuntimeError: the arch asked for is not available on this machine.

    Example:
        >>> import fieldgrad as fg
        >>> fg.init(arch="cpu", default_dtype="float32")["arch"]
        'cpu'
    """
    if arch is None:
        arch = os.environ.get("FIELDGRAD_ARCH", "cpu") or "cpu"
    arch = str(arch).lower()
    if arch not in ARCHS:
        raise ValueError(f"fieldgrad.init: unknown arch {arch!r}; expected one of {ARCHS}")
    dt = np.dtype(default_dtype) if not isinstance(default_dtype, np.dtype) else default_dtype
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"fieldgrad.init: default_dtype must be float32 or float64, got {default_dtype!r}"
        )
    with _lock:
        _state["verbose"] = verbose
        if verbose:
            os.environ["ENABLE_TAICHI_HEADER_PRINT"] = "True"
        ti = taichi()
        name = _resolve_arch(ti, arch)
        if name in ("vulkan", "metal", "opengl") and dt == np.dtype(np.float64):
            raise ValueError(
                f"fieldgrad.init: the {name} backend has no float64 support; "
                "use default_dtype='float32'"
            )
        kwargs = dict(
            arch=_arch_obj(ti, name),
            default_fp=ti.f64 if dt == np.dtype(np.float64) else ti.f32,
            default_ip=ti.i32,
            offline_cache=offline_cache,
            debug=debug,
            log_level=ti.INFO if verbose else ti.WARN,
            enable_fallback=False,
            # IEEE semantics: with fast-math, LLVM folds NaN tests (x != x), loses -0.0 and
            # reorders products into early overflow. The SIMD recipe measured no cost for it.
            fast_math=False,
        )
        if cpu_max_num_threads is not None:
            if int(cpu_max_num_threads) < 1:
                raise ValueError(
                    f"fieldgrad.init: cpu_max_num_threads must be >= 1, got {cpu_max_num_threads}"
                )
            kwargs["cpu_max_num_threads"] = int(cpu_max_num_threads)
        kwargs.update(taichi_kwargs)
        sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
        with sink:
            ti.init(**kwargs)
        _state.update(
            initialized=True,
            arch=name,
            default_dtype=dt,
            debug=debug,
            threads=cpu_max_num_threads or (os.cpu_count() if name == "cpu" else None),
            generation=_state["generation"] + 1,
        )
    return device_info()


def ensure_init() -> None:
    """Initialise with the defaults if :func:`init` has not been called yet."""
    if not _state["initialized"]:
        init()


def is_initialized() -> bool:
    """Whether the Taichi runtime has been initialised."""
    return _state["initialized"]


def current_arch() -> str:
    """The arch name tensors are created on ("cpu", "cuda", ...); initialises lazily."""
    ensure_init()
    return _state["arch"]


def is_cpu() -> bool:
    ensure_init()
    return _state["arch"] == "cpu"


def default_float_dtype() -> np.dtype:
    """The default floating dtype (float32 unless ``init(default_dtype="float64")``)."""
    return _state["default_dtype"]


def generation() -> int:
    return _state["generation"]


def device_info() -> dict:
    """Describe the runtime: arch, Taichi version, threads, default dtype.

    Example:
        >>> import fieldgrad as fg
        >>> sorted(fg.device_info())[:3]
        ['arch', 'cpu_count', 'debug']
    """
    ensure_init()
    ti = taichi()
    return {
        "arch": _state["arch"],
        "taichi_version": ".".join(str(v) for v in ti.__version__),
        "threads": _state["threads"],
        "cpu_count": os.cpu_count(),
        "default_dtype": _state["default_dtype"].name,
        "debug": _state["debug"],
        "numpy_version": np.__version__,
    }
