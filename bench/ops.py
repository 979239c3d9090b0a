"""Eager op speed on the CPU: dispatch overhead on tiny tensors and elementwise throughput.

Runs fieldgrad beside numpy and PyTorch (skipped, and said so, when not installed) in two
settings, each in its own subprocess because pinning and thread counts must be set before
numpy, torch or taichi are imported:

* ``pinned``: the process pinned to one core, every library on one thread;
* ``unpinned``: no pinning, two threads (the defaults on these 2-core machines).

Every implementation is warmed up first (the first call, which compiles fieldgrad's kernels, is
timed and reported separately), then timed in blocks of about ``--block`` seconds, interleaved
A B C A B C ... over ``--reps`` repetitions; tables give the median and the min-max, and ratios
are medians of the per-repetition ratios. Results are compared with numpy in the same run (a
disagreement marks the benchmark VOID). Two extra fieldgrad variants show what the launch and
SIMD work changed: ``fg-normal`` launches through Taichi's ordinary call path (no prepared
launch) and ``fg-scalar`` uses the scalar kernels (no SIMD fast path).

Usage:
    python bench/ops.py                 # both settings, about 2-3 minutes
    python bench/ops.py --quick         # fewer sizes and repetitions
    python bench/ops.py --setting pinned

The last line printed is one JSON object with every figure.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from _harness import cpu_model as _cpu_model
from _harness import interleaved as _interleaved
from _harness import ratio as _ratio
from _harness import stats as _stats

TINY_OPS = ("add", "mul", "exp", "sum", "matmul")
STREAM_OPS = ("add", "mul", "exp", "tanh", "sin", "log", "sigmoid", "sqrt")
SIZES = (1_000, 100_000, 1_000_000, 10_000_000)
QUICK_SIZES = (1_000, 100_000, 1_000_000)
RTOL, ATOL = 2e-5, 1e-6


# --- environment ---------------------------------------------------------------------------------


def _environment(threads: int, torch) -> dict:
    import numpy as np
    import taichi as ti

    import fieldgrad as fg

    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "taichi": ".".join(map(str, ti.__version__)),
        "fieldgrad": getattr(fg, "__version__", "dev"),
        "torch": torch.__version__ if torch is not None else None,
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "threads": threads,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "taichi_threads": fg.device_info()["threads"],
        "loadavg_start": list(os.getloadavg()),
    }
    try:
        import jax

        env["jax"] = jax.__version__
    except ImportError:
        env["jax"] = None
    try:
        from threadpoolctl import threadpool_info

        env["blas"] = [
            {k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for d in threadpool_info()
        ]
    except ImportError:
        env["blas"] = "threadpoolctl not installed"
    return env


# --- timing --------------------------------------------------------------------------------------


def _first_call(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --- the measured operations ---------------------------------------------------------------------


def _inputs(np, op: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    lo, hi = {"log": (0.01, 10.0), "sqrt": (0.0, 10.0), "exp": (-10.0, 10.0)}.get(op, (-3.0, 3.0))
    return rng.uniform(lo, hi, n).astype(np.float32), rng.uniform(lo, hi, n).astype(np.float32)


def _fieldgrad_fn(fg, op, x, y):
    return {
        "add": lambda: fg.add(x, y),
        "mul": lambda: fg.multiply(x, y),
        "exp": lambda: fg.exp(x),
        "tanh": lambda: fg.tanh(x),
        "sin": lambda: fg.sin(x),
        "log": lambda: fg.log(x),
        "sigmoid": lambda: fg.sigmoid(x),
        "sqrt": lambda: fg.sqrt(x),
        "sum": lambda: fg.sum(x),
        "matmul": lambda: fg.matmul(x, y),
    }[op]


def _numpy_fn(np, op, x, y):
    return {
        "add": lambda: np.add(x, y),
        "mul": lambda: np.multiply(x, y),
        "exp": lambda: np.exp(x),
        "tanh": lambda: np.tanh(x),
        "sin": lambda: np.sin(x),
        "log": lambda: np.log(x),
        "sigmoid": lambda: 1.0 / (1.0 + np.exp(-x)),
        "sqrt": lambda: np.sqrt(x),
        "sum": lambda: np.sum(x),
        "matmul": lambda: np.matmul(x, y),
    }[op]


def _torch_fn(torch, op, x, y):
    return {
        "add": lambda: torch.add(x, y),
        "mul": lambda: torch.mul(x, y),
        "exp": lambda: torch.exp(x),
        "tanh": lambda: torch.tanh(x),
        "sin": lambda: torch.sin(x),
        "log": lambda: torch.log(x),
        "sigmoid": lambda: torch.sigmoid(x),
        "sqrt": lambda: torch.sqrt(x),
        "sum": lambda: torch.sum(x),
        "matmul": lambda: torch.matmul(x, y),
    }[op]


class _Variant:
    """Run a fieldgrad callable with the prepared launch or the SIMD path switched off."""

    def __init__(self, fn, prepared=True, simd=True):
        from fieldgrad.fields import _launch, _simd  # private switches: benchmark only

        self.fn, self.prepared, self.simd = fn, prepared, simd
        self._launch, self._simd = _launch, _simd

    def __call__(self):
        saved = (self._launch.prepared_enabled, self._simd.enabled)
        self._launch.prepared_enabled, self._simd.enabled = self.prepared, self.simd
        try:
            return self.fn()
        finally:
            self._launch.prepared_enabled, self._simd.enabled = saved


def _agree(np, ref, got) -> bool:
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got, dtype=np.float64)
    return bool(np.allclose(got, np.asarray(ref, np.float64), rtol=RTOL, atol=ATOL))


def _measure_case(np, fg, torch, op, x, y, impl_names, block, reps):
    """Time one op on one input pair for every implementation; returns a result dict."""
    fx, fy = fg.tensor(x), fg.tensor(y)
    fns = {"numpy": _numpy_fn(np, op, x, y)}
    base = _fieldgrad_fn(fg, op, fx, fy)
    fns["fieldgrad"] = base
    if "fg-normal" in impl_names:
        fns["fg-normal"] = _Variant(base, prepared=False)
    if "fg-scalar" in impl_names:
        fns["fg-scalar"] = _Variant(base, simd=False)
    if torch is not None:
        tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        fns["torch"] = _torch_fn(torch, op, tx, ty)
    first = {name: _first_call(fn) for name, fn in fns.items()}
    ref = fns["numpy"]()
    agree = {name: _agree(np, ref, fn()) for name, fn in fns.items() if name != "numpy"}
    samples = _interleaved(fns, block, reps)
    return {
        "first_call_s": first,
        "agree": agree,
        "s_per_call": {name: _stats(v) for name, v in samples.items()},
        "ratio_vs_numpy": {name: _ratio(samples, name, "numpy") for name in samples},
        "ratio_vs_torch": {name: _ratio(samples, name, "torch") for name in samples},
    }


def _launch_case(np, block, reps) -> dict:
    """One serialized 64-element kernel with three numpy arguments and a size: Taichi's normal
    call against fieldgrad's launch path (prepared launch after the first call)."""
    from fieldgrad.fields import _launch, _runtime  # the launch path itself: benchmark only

    def factory():
        ti = _runtime.taichi()

        @ti.kernel
        def bench_add_k(
            a: ti.types.ndarray(ndim=1),
            b: ti.types.ndarray(ndim=1),
            y: ti.types.ndarray(ndim=1),
            n: ti.i32,
        ):
            ti.loop_config(serialize=True)
            for i in range(n):
                y[i] = a[i] + b[i]

        return bench_add_k

    k = _launch.kernel(("bench_ops_launch",), factory)
    a, b, y = (np.full(64, v, np.float32) for v in (1.0, 2.0, 0.0))
    fns = {
        "taichi-call": lambda: k(a, b, y, 64),
        "fg-launch": lambda: _launch.launch(k, a, b, y, 64),
    }
    first = {name: _first_call(fn) for name, fn in fns.items()}
    samples = _interleaved(fns, block, reps)
    return {
        "first_call_s": first,
        "agree": {"fg-launch": bool(np.all(y == 3.0))},
        "s_per_call": {name: _stats(v) for name, v in samples.items()},
        "ratio": _ratio(samples, "fg-launch", "taichi-call"),
    }


def child(setting: str, sizes, block: float, reps: int) -> dict:
    """One setting, measured in this process (pinning and threads set before imports)."""
    threads = 1 if setting == "pinned" else 2
    if setting == "pinned":
        core = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {core})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)

    import numpy as np

    import fieldgrad as fg

    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    fg.init(arch="cpu", cpu_max_num_threads=threads)
    env = _environment(threads, torch)
    out = {"setting": setting, "environment": env, "tiny": {}, "stream": {}}
    out["launch"] = _launch_case(np, block / 2, reps)
    # Dispatch overhead: tiny tensors (16 elements; 4x4 matmul).
    for op in TINY_OPS:
        shape = (4, 4) if op == "matmul" else (16,)
        rng = np.random.default_rng(7)
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        y = rng.uniform(-1, 1, shape).astype(np.float32)
        impls = ("fieldgrad", "fg-normal")
        out["tiny"][op] = _measure_case(np, fg, torch, op, x, y, impls, block / 2, reps)
    # Throughput.
    for n in sizes:
        for op in STREAM_OPS:
            x, y = _inputs(np, op, n, seed=n % 1000 + len(op))
            impls = ("fieldgrad", "fg-scalar") if n == 1_000_000 else ("fieldgrad",)
            res = _measure_case(np, fg, torch, op, x, y, impls, block, reps)
            res["ns_per_element"] = {
                name: {k: v * 1e9 / n for k, v in st.items()}
                for name, st in res["s_per_call"].items()
            }
            out["stream"][f"{op}@{n}"] = res
    env["loadavg_end"] = list(os.getloadavg())
    env["torch_missing"] = torch is None
    out["void"] = not all(
        ok for case in [out["launch"], *out["tiny"].values(), *out["stream"].values()]
        for ok in case["agree"].values()
    )  # fmt: skip
    return out


# --- report --------------------------------------------------------------------------------------


def _fmt_range(st: dict, scale: float, digits: int) -> str:
    m, lo, hi = (st[k] * scale for k in ("median", "min", "max"))
    return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def _fmt_ratio(r) -> str:
    return "-" if r is None else f"{r:.2f}"


def report(res: dict) -> str:
    """Human-readable tables for one setting."""
    env = res["environment"]
    lines = [
        "",
        f"== setting: {res['setting']} (threads {env['threads']}, affinity {env['affinity']}) ==",
        f"cpu: {env['cpu']} x{env['cpu_count']}; numpy {env['numpy']}, taichi {env['taichi']}, "
        f"torch {env['torch'] or 'not installed (skipped)'}, jax {env['jax'] or 'not installed'}",
        f"load average start {env['loadavg_start']} end {env['loadavg_end']}",
        f"blas: {env['blas']}",
    ]
    if res["void"]:
        lines.append("!! VOID: an implementation disagreed with numpy (see 'agree' in the JSON)")
    has_torch = not env["torch_missing"]
    la = res["launch"]["s_per_call"]
    lines += [
        "",
        "kernel launch, 3 numpy arrays + size, 64 elements serialized: microseconds per launch",
        f"  Taichi normal call {_fmt_range(la['taichi-call'], 1e6, 1)}; fieldgrad launch "
        f"(prepared) {_fmt_range(la['fg-launch'], 1e6, 2)}; "
        f"ratio {_fmt_ratio(res['launch']['ratio'])}",
    ]
    lines += [
        "",
        "dispatch overhead, tiny tensors (16 elements; matmul 4x4): microseconds per op,"
        " median [min-max]",
        f"{'op':8s} {'fieldgrad':>22s} {'fg-normal launch':>22s} {'numpy':>18s}"
        + (f" {'torch':>18s}" if has_torch else "")
        + f" {'fg/np':>7s}"
        + (f" {'fg/torch':>8s}" if has_torch else ""),
    ]
    for op, case in res["tiny"].items():
        st = case["s_per_call"]
        row = f"{op:8s} {_fmt_range(st['fieldgrad'], 1e6, 1):>22s} "
        row += f"{_fmt_range(st['fg-normal'], 1e6, 1):>22s} {_fmt_range(st['numpy'], 1e6, 2):>18s}"
        if has_torch:
            row += f" {_fmt_range(st['torch'], 1e6, 2):>18s}"
        row += f" {_fmt_ratio(case['ratio_vs_numpy']['fieldgrad']):>7s}"
        if has_torch:
            row += f" {_fmt_ratio(case['ratio_vs_torch']['fieldgrad']):>8s}"
        lines.append(row)
    lines += [
        "",
        "throughput: nanoseconds per element, median [min-max]; ratios = median of per-rep ratios",
        f"{'op':8s} {'n':>9s} {'fieldgrad':>22s} {'numpy':>22s}"
        + (f" {'torch':>22s}" if has_torch else "")
        + f" {'fg/np':>6s}"
        + (f" {'fg/torch':>8s}" if has_torch else "")
        + f" {'fg-scalar/np':>12s} {'first call ms':>13s}",
    ]
    for key, case in res["stream"].items():
        op, n = key.split("@")
        ns = case["ns_per_element"]
        row = f"{op:8s} {int(n):>9d} {_fmt_range(ns['fieldgrad'], 1, 3):>22s} "
        row += f"{_fmt_range(ns['numpy'], 1, 3):>22s}"
        if has_torch:
            row += f" {_fmt_range(ns['torch'], 1, 3):>22s}"
        row += f" {_fmt_ratio(case['ratio_vs_numpy']['fieldgrad']):>6s}"
        if has_torch:
            row += f" {_fmt_ratio(case['ratio_vs_torch']['fieldgrad']):>8s}"
        row += f" {_fmt_ratio(case['ratio_vs_numpy'].get('fg-scalar')):>12s}"
        row += f" {case['first_call_s']['fieldgrad'] * 1e3:>13.1f}"
        lines.append(row)
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setting", choices=("both", "pinned", "unpinned"), default="both")
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    ap.add_argument("--block", type=float, default=None, help="seconds per timed block")
    ap.add_argument("--reps", type=int, default=None, help="interleaved repetitions")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    block = args.block or (0.03 if args.quick else 0.06)
    reps = args.reps or (3 if args.quick else 5)
    if args.child:
        res = child(args.setting, sizes, block, reps)
        print(json.dumps(res))
        return res
    settings = ("pinned", "unpinned") if args.setting == "both" else (args.setting,)
    t0 = time.perf_counter()
    results = {}
    for setting in settings:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--setting", setting]
        cmd += ["--block", str(block), "--reps", str(reps)] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
            raise SystemExit(f"bench/ops.py: the {setting} run failed ({proc.returncode})")
        results[setting] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(report(results[setting]), flush=True)
    summary = {
        "benchmark": "ops",
        "wall_s": round(time.perf_counter() - t0, 1),
        "void": any(r["void"] for r in results.values()),
        "settings": results,
    }
    print(f"\n(total {summary['wall_s']} s)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
