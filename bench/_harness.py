"""Timing and environment helpers shared by the benchmark scripts (see BENCHMARKING notes).

Scripts run as ``python bench/<name>.py`` import it as ``_harness`` (the script's folder is on
``sys.path``).
"""

from __future__ import annotations

import os
import platform
import time


def cpu_model() -> str:
    """The CPU model name as the kernel reports it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info():
    """The BLAS and OpenMP thread pools in the process (threadpoolctl), or a note."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    keys = ("internal_api", "version", "num_threads", "architecture")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def loadavg() -> list:
    return list(os.getloadavg())


def calibrate(fn, block: float, max_calls: int = 1 << 22) -> int:
    """Calls per timed block so that a block of calls of ``fn`` lasts about ``block`` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= block / 4 or n >= max_calls:
            return max(1, round(n * block / max(t, 1e-9)))
        n *= 4


def interleaved(impls: dict, block: float, reps: int, max_calls: int = 1 << 22) -> dict:
    """Seconds per call of each warmed-up zero-argument callable, timed A B C A B C ...

    Returns ``{name: [seconds per call in each repetition]}``.
    """
    calls = {name: calibrate(fn, block, max_calls) for name, fn in impls.items()}
    samples = {name: [] for name in impls}
    for _ in range(reps):
        for name, fn in impls.items():
            k = calls[name]
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - t0) / k)
    return samples


def stats(xs) -> dict:
    """Median, min and max of a list of samples."""
    s = sorted(xs)
    return {"median": s[len(s) // 2], "min": s[0], "max": s[-1]}


def ratio(samples: dict, a: str, b: str):
    """Median of the per-repetition ratios a / b (None when either is missing)."""
    if a not in samples or b not in samples:
        return None
    r = sorted(x / y for x, y in zip(samples[a], samples[b]))
    return r[len(r) // 2]
