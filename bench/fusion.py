"""jit fusion on an elementwise-heavy function: the Taylor-mode tanh layer.

Given ``z, z1, z2`` (float32), compute ``t = tanh(z)``, ``t1 = (1 - t^2) z1`` and
``t2 = (1 - t^2) z2 - 2 t t1 z1`` (the value, first and second Taylor coefficients of
``tanh(z(s))``). Implementations, in one process per setting:

* ``fused``: ``fg.jit`` with fusion (one generated kernel: 16-lane vector code on the CPU);
* ``unfused``: ``fg.jit(..., fuse=False)`` (one kernel per primitive, nine launches);
* ``numpy``; ``torch`` (eager) and ``jax`` (``jax.jit``) when installed (skipped and said so
  otherwise).

Two settings, each in its own subprocess because pinning and thread counts must be set before
numpy, torch, jax or taichi are imported: ``pinned`` (one core, every library on one thread)
and ``unpinned`` (two threads). Every implementation is warmed up (its first call, which
compiles, is reported separately), then timed in blocks of about ``--block`` seconds,
interleaved A B C ... over ``--reps`` repetitions; the table gives medians and min-max, and
ratios are medians of per-repetition ratios. Every result is checked against a float64 numpy
reference in the same run (a disagreement marks the run VOID).

Peers share the process, as the benchmarking rules ask; measured here, their runtime threads
slow fieldgrad's launch-bound calls (N <= 1e4) in the pinned setting by up to 2-2.5x (the
kernel's own time, at N >= 1e5, much less). ``--peers ""`` gives fieldgrad and numpy alone.

Usage:
    python bench/fusion.py               # both settings, N = 1e3, 1e4, 1e5, 1e6 (about 2 min)
    python bench/fusion.py --peers ""    # without torch and jax in the process
    python bench/fusion.py --quick       # N = 1e5, 1e6, fewer repetitions
    python bench/fusion.py --setting pinned

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

SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (100_000, 1_000_000)
RTOL, ATOL = 2e-5, 2e-5


# --- environment ---------------------------------------------------------------------------------


def _environment(threads: int, peers: dict) -> dict:
    import numpy as np
    import taichi as ti

    import fieldgrad as fg

    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "taichi": ".".join(map(str, ti.__version__)),
        "torch": getattr(peers.get("torch"), "__version__", None),
        "jax": getattr(peers.get("jax"), "__version__", None),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "threads": threads,
        "taichi_threads": fg.device_info()["threads"],
        "loadavg_start": list(os.getloadavg()),
    }
    try:
        from threadpoolctl import threadpool_info

        env["blas"] = [
            {k: d.get(k) for k in ("internal_api", "version", "num_threads")}
            for d in threadpool_info()
        ]
    except ImportError:
        env["blas"] = "threadpoolctl not installed"
    return env


# --- timing --------------------------------------------------------------------------------------


# --- the layer in each framework ----------------------------------------------------------------


def layer_fg(fg):
    def layer(z, z1, z2):
        t = fg.tanh(z)
        d = 1.0 - t * t
        t1 = d * z1
        t2 = d * z2 - 2.0 * t * t1 * z1
        return t, t1, t2

    return layer


def layer_np(np, z, z1, z2):
    t = np.tanh(z)
    d = 1.0 - t * t
    t1 = d * z1
    return t, t1, d * z2 - 2.0 * t * t1 * z1


def _peers(threads: int, wanted) -> dict:
    peers = {}
    if "torch" in wanted:
        try:
            import torch

            torch.set_num_threads(threads)
            peers["torch"] = torch
        except ImportError:
            pass
    if "jax" in wanted:
        try:
            import jax

            jax.config.update("jax_platforms", "cpu")
            peers["jax"] = jax
        except ImportError:
            pass
    return peers


def _agree(np, ref, got) -> bool:
    for r, g in zip(ref, got):
        g = np.asarray(g.numpy() if hasattr(g, "numpy") else g, dtype=np.float64)
        if not np.allclose(g, r, rtol=RTOL, atol=ATOL):
            return False
    return True


def _case(np, fg, peers, n: int, block: float, reps: int) -> dict:
    rng = np.random.default_rng(n % 997)
    z, z1, z2 = (rng.uniform(-3, 3, n).astype(np.float32) for _ in range(3))
    ref = layer_np(np, *(a.astype(np.float64) for a in (z, z1, z2)))
    ts = [fg.tensor(a) for a in (z, z1, z2)]
    fused = fg.jit(layer_fg(fg))
    unfused = fg.jit(layer_fg(fg), fuse=False)
    fns = {
        "fused": lambda: fused(*ts),
        "unfused": lambda: unfused(*ts),
        "numpy": lambda: layer_np(np, z, z1, z2),
    }
    if "torch" in peers:
        torch = peers["torch"]
        tt = [torch.from_numpy(a.copy()) for a in (z, z1, z2)]
        fns["torch"] = lambda: layer_np(torch, *tt)
    if "jax" in peers:
        jax = peers["jax"]
        jnp = jax.numpy
        jl = jax.jit(lambda a, b, c: layer_np(jnp, a, b, c))
        ja = [jnp.asarray(a) for a in (z, z1, z2)]

        def run_jax():
            return [o.block_until_ready() for o in jl(*ja)]

        fns["jax"] = run_jax
    first = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t0
    agree = {name: _agree(np, ref, fn()) for name, fn in fns.items()}
    samples = _interleaved(fns, block, reps)
    kernels = fg.jit(layer_fg(fg)).graph(*ts).primitive_counts().get("fused", 0)
    return {
        "n": n,
        "fused_kernels": kernels,
        "first_call_s": first,
        "agree": agree,
        "ns_per_element": {
            k: {s: v * 1e9 / n for s, v in _stats(x).items()} for k, x in samples.items()
        },  # fmt: skip
        "ratio_vs_numpy": {k: _ratio(samples, k, "numpy") for k in samples},
        "fused_speedup_vs": {k: _ratio(samples, k, "fused") for k in samples if k != "fused"},
    }


def child(setting: str, sizes, block: float, reps: int, wanted) -> dict:
    threads = 1 if setting == "pinned" else 2
    if setting == "pinned":
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if setting == "pinned":
        os.environ["XLA_FLAGS"] = (
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )

    import numpy as np

    import fieldgrad as fg

    peers = _peers(threads, wanted)
    fg.init(arch="cpu", cpu_max_num_threads=threads)
    env = _environment(threads, peers)
    env["peers_missing"] = sorted(set(wanted) - set(peers))
    cases = [_case(np, fg, peers, n, block, reps) for n in sizes]
    env["loadavg_end"] = list(os.getloadavg())
    return {
        "setting": setting,
        "environment": env,
        "cases": cases,
        "void": not all(all(c["agree"].values()) for c in cases),
    }


# --- report --------------------------------------------------------------------------------------


def report(res: dict) -> str:
    env = res["environment"]
    names = list(res["cases"][0]["ns_per_element"])

    def peer(name):
        if env[name]:
            return env[name]
        return "not installed (skipped)" if name in env["peers_missing"] else "not run"

    lines = [
        "",
        f"== setting: {res['setting']} (threads {env['threads']}, affinity {env['affinity']}) ==",
        f"cpu: {env['cpu']} x{env['cpu_count']}; numpy {env['numpy']}, taichi {env['taichi']}, "
        f"torch {peer('torch')}, jax {peer('jax')}",
        f"load average start {env['loadavg_start']} end {env['loadavg_end']}",
    ]
    if res["void"]:
        lines.append("!! VOID: an implementation disagreed with the float64 reference")
    lines += [
        "",
        "Taylor-mode tanh layer (t, t1, t2), float32: ns per element, median [min-max];",
        "x = median over repetitions of (implementation time / fused time)",
        f"{'n':>9s} " + " ".join(f"{k:>24s}" for k in names) + f" {'fused first call':>17s}",
    ]
    for c in res["cases"]:
        row = f"{c['n']:>9d} "
        for k in names:
            st = c["ns_per_element"][k]
            cell = f"{st['median']:.2f} [{st['min']:.2f}-{st['max']:.2f}]"
            if k != "fused":
                cell += f" {c['fused_speedup_vs'][k]:.1f}x"
            row += f"{cell:>24s} "
        row += f"{c['first_call_s']['fused'] * 1e3:>14.0f} ms"
        lines.append(row)
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setting", choices=("both", "pinned", "unpinned"), default="both")
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    ap.add_argument("--block", type=float, default=None, help="seconds per timed block")
    ap.add_argument("--reps", type=int, default=None, help="interleaved repetitions")
    ap.add_argument("--peers", default="torch,jax", help="comma-separated peers to run")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    block = args.block or (0.1 if args.quick else 0.25)
    reps = args.reps or (3 if args.quick else 5)
    wanted = [p for p in args.peers.split(",") if p]
    if args.child:
        res = child(args.setting, sizes, block, reps, wanted)
        print(json.dumps(res))
        return res
    settings = ("pinned", "unpinned") if args.setting == "both" else (args.setting,)
    t0 = time.perf_counter()
    results = {}
    for setting in settings:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--setting", setting]
        cmd += ["--block", str(block), "--reps", str(reps), "--peers", ",".join(wanted)]
        cmd += ["--quick"] if args.quick else []
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
            raise SystemExit(f"bench/fusion.py: the {setting} run failed ({proc.returncode})")
        results[setting] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(report(results[setting]), flush=True)
    summary = {
        "benchmark": "fusion",
        "wall_s": round(time.perf_counter() - t0, 1),
        "void": any(r["void"] for r in results.values()),
        "settings": results,
    }
    print(f"\n(total {summary['wall_s']} s)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
