"""Kernel construction cache and the single launch path for every Taichi kernel.

Kernels are built by factories (closures over ``@ti.func`` bodies) and cached by key, so each
kernel compiles once per argument dtype and never per shape: every buffer is 1-D and sizes are
runtime arguments. All launches go through :func:`launch`, the one place to make launches
cheaper.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _runtime

# Elementwise work below this many elements runs in a serial loop on the CPU: a parallel launch
# costs about 50 microseconds more in thread hand-off than it saves on small data.
PARALLEL_THRESHOLD = 1 << 17

_cache: dict[Any, Any] = {}
_cache_gen = -1


def kernel(key: Any, factory: Callable[[], Any]):
    """The kernel cached under ``key``, built by ``factory()`` on first use."""
    global _cache_gen
    gen = _runtime._state["generation"]
    if gen != _cache_gen:
        _cache.clear()
        _cache_gen = gen
    k = _cache.get(key)
    if k is None:
        _runtime.ensure_init()
        k = _cache[key] = factory()
    return k


def serial(n: int) -> bool:
    """Whether a loop over ``n`` cheap elements should run serially (CPU and small only)."""
    return n < PARALLEL_THRESHOLD and _runtime._state["arch"] == "cpu"


def launch(k, *args):
    """Launch a compiled kernel with buffers and scalars."""
    return k(*args)


def cache_size() -> int:
    """Number of kernels built in this runtime generation (for tests of recompilation)."""
    return len(_cache)
