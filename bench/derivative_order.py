"""Cost of the k-th derivative of a small MLP by derivative order: Taylor mode against nested modes.

The PINN workload: ``u: R -> R``, an MLP 1-64-64-64-1 (tanh, float32, Xavier-normal weights
from a seeded numpy generator, zero biases) evaluated at N = 4096 points, and ``d^k u / dx^k``
at every point for k = 1, 2, 3, 4, 6 computed by

* ``fg-jet``: fieldgrad's Taylor mode, ``fg.derivative(u, x, ones, k)`` (one jet of order k);
* ``fg-jet-jit``: the same under ``fg.jit`` (weights as arguments);
* ``fg-rev``: fieldgrad nested reverse mode, k nested ``fg.grad`` of the sum (for comparison;
  capped at the first k whose single call takes longer than ``--rev-cap`` seconds);
* ``torch``: PyTorch nested ``autograd.grad(create_graph=True)`` of the sum;
* ``jax-jvp``: JAX k nested ``jax.jvp`` along ones, under ``jax.jit``;
* ``jax-jet``: JAX's Taylor mode ``jax.experimental.jet`` under ``jax.jit``.

Peers are optional: one that is not installed is skipped, and the output says so.

Two settings, each in its own subprocess because pinning and thread counts must be set before
numpy, torch, jax or taichi are imported: ``pinned`` (one core, every library on one thread)
and ``unpinned`` (no pinning, two threads). Every implementation is warmed up (the first call,
which compiles, is reported separately), then timed in blocks of about ``--block`` seconds,
interleaved A B C A B C ... over ``--reps`` repetitions (cells slower than a block get one call
per block and at most 3 repetitions); tables give the median and min-max; ratios are medians of
per-repetition ratios. ``fg-jet`` and ``jax-jvp`` at k = 1 are timed again beside every higher
order, so their growth ``time(k) / time(1)`` comes from paired samples. Every implementation's
``d^k u`` is compared, in the same run, with a float64 fieldgrad reference from the same weights
and points; a disagreement beyond float32 tolerance marks the run VOID. A profile of the
fieldgrad jet (primitive applications per order, time in matmul vs the rest, the same work at
N = 16 where dispatch dominates) follows the tables of the pinned setting.

Usage:
    python bench/derivative_order.py                  # both settings, 3-6 minutes
    python bench/derivative_order.py --quick          # fewer repetitions
    python bench/derivative_order.py --setting pinned

The last line printed is one JSON object with every figure.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from _harness import cpu_model as _cpu_model  # noqa: E402
from _harness import ratio as _ratio
from _harness import stats as _stats

ORDERS = (1, 2, 3, 4, 6)
SIZES = (1, 64, 64, 64, 1)
N_POINTS = 4096
SEED = 0
# d^k u of float32 implementations against the float64 reference: |a - ref| <= TOL * max|ref|.
TOL = 1e-4
IMPLS = ("fg-jet", "fg-jet-jit", "fg-rev", "torch", "jax-jvp", "jax-jet")
# Implementations timed at k = 1 again beside every order (growth ratios from paired samples).
BASELINED = ("fg-jet", "fg-jet-jit", "jax-jvp")


# --- environment ---------------------------------------------------------------------------------


def _environment(threads: int, torch, jax) -> dict:
    import numpy as np
    import taichi as ti

    import fieldgrad as fg

    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "taichi": ".".join(map(str, ti.__version__)),
        "fieldgrad": getattr(fg, "__version__", "dev"),
        "torch": torch.__version__ if torch is not None else None,
        "jax": jax.__version__ if jax is not None else None,
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "threads": threads,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "taichi_threads": fg.device_info()["threads"],
        "loadavg_start": list(os.getloadavg()),
    }
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


def _interleaved(impls: dict, warm: dict, block: float, reps: int) -> dict:
    """Seconds per call of each implementation, timed A B C A B C ... ``reps`` times.

    ``warm`` holds the time of one warm call of each; a block holds ``block / warm`` calls (at
    least one). Cells slower than a block run at most 3 repetitions; every cell gets the same
    number of samples so per-repetition ratios pair up.
    """
    calls = {name: max(1, int(block / max(warm[name], 1e-6))) for name in impls}
    if any(warm[name] > block for name in impls):
        reps = min(reps, 3)
    samples = {name: [] for name in impls}
    for _ in range(reps):
        for name, fn in impls.items():
            k = calls[name]
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - t0) / k)
    return samples


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# --- the model and the implementations -----------------------------------------------------------


def _weights(np):
    rng = np.random.default_rng(SEED)
    ws = [
        (rng.standard_normal((m, n)) * np.sqrt(2.0 / (m + n))).astype(np.float32)
        for m, n in zip(SIZES[:-1], SIZES[1:])
    ]
    bs = [np.zeros(n, np.float32) for n in SIZES[1:]]
    x = rng.uniform(-1.0, 1.0, size=(N_POINTS, 1)).astype(np.float32)
    return ws, bs, x


def _fg_model(fg, ws, bs, dtype):
    params = [(fg.tensor(w.astype(dtype)), fg.tensor(b.astype(dtype))) for w, b in zip(ws, bs)]

    def u(x):
        h = x
        for k, (w, b) in enumerate(params):
            h = h @ w + b
            if k < len(params) - 1:
                h = fg.tanh(h)
        return h

    return u


def _fg_impls(fg, np, ws, bs, x):
    u = _fg_model(fg, ws, bs, np.float32)
    xf = fg.tensor(x)
    ones = fg.ones_like(xf)

    def jet(k):
        return lambda: fg.derivative(u, xf, ones, k)

    def rev(k):
        g = u
        for _ in range(k):
            g = (lambda h: lambda z: fg.grad(lambda w: fg.sum(h(w)))(z))(g)
        return lambda: g(xf)

    params = [(fg.tensor(w), fg.tensor(b)) for w, b in zip(ws, bs)]

    def u_of(p, z):
        h = z
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            if i < len(p) - 1:
                h = fg.tanh(h)
        return h

    def jet_jit(k):
        f = fg.jit(lambda p, z, v: fg.derivative(lambda y: u_of(p, y), z, v, k))
        return lambda: f(params, xf, ones)

    return jet, jet_jit, rev


def _reference(fg, np, ws, bs, x, k):
    u = _fg_model(fg, ws, bs, np.float64)
    x64 = fg.tensor(x.astype(np.float64))
    return np.asarray(fg.derivative(u, x64, fg.ones_like(x64), k), np.float64)


def _torch_impl(torch, ws, bs, x):
    tw = [(torch.from_numpy(w.copy()), torch.from_numpy(b.copy())) for w, b in zip(ws, bs)]
    tx = torch.from_numpy(x.copy()).requires_grad_(True)

    def u(z):
        h = z
        for k, (w, b) in enumerate(tw):
            h = h @ w + b
            if k < len(tw) - 1:
                h = torch.tanh(h)
        return h

    def nested(k):
        def run():
            y = u(tx)
            for _ in range(k):
                (y,) = torch.autograd.grad(y.sum(), tx, create_graph=True)
            return y

        return run

    return nested


def _jax_impls(jax, ws, bs, x):
    import jax.numpy as jnp
    from jax.experimental import jet as jjet

    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(ws, bs)]
    jx = jnp.asarray(x)

    def u(p, z):
        h = z
        for k, (w, b) in enumerate(p):
            h = h @ w + b
            if k < len(p) - 1:
                h = jnp.tanh(h)
        return h

    def nested_jvp(k):
        def dk(p, z):
            g = lambda v: u(p, v)  # noqa: E731
            for _ in range(k):
                g = (lambda h: lambda v: jax.jvp(h, (v,), (jnp.ones_like(v),))[1])(g)
            return g(z)

        f = jax.jit(dk)
        return lambda: f(params, jx).block_until_ready()

    def taylor(k):
        def dk(p, z):
            series = [jnp.ones_like(z)] + [jnp.zeros_like(z)] * (k - 1)
            _, terms = jjet.jet(lambda v: u(p, v), (z,), (series,))
            return terms[k - 1]

        f = jax.jit(dk)
        return lambda: f(params, jx).block_until_ready()

    return nested_jvp, taylor


def _as_numpy(np, y):
    if hasattr(y, "detach"):
        y = y.detach().numpy()
    return np.asarray(y, np.float64)


# --- profile of the fieldgrad jet ----------------------------------------------------------------


def _profile(fg, np, ws, bs) -> dict:
    """Primitive applications and where the time goes, per order, for the fieldgrad jet."""
    from collections import Counter, defaultdict

    from fieldgrad.fields import _core  # private: counting primitive applications

    out = {}
    prims = _core.primitives()
    count, spent = Counter(), defaultdict(float)
    saved = {name: p.impl for name, p in prims.items()}

    def wrap(name, impl):
        def timed_impl(*args, **params):
            t0 = time.perf_counter()
            res = impl(*args, **params)
            spent[name] += time.perf_counter() - t0
            count[name] += 1
            return res

        return timed_impl

    x_small = np.random.default_rng(1).uniform(-1, 1, (16, 1)).astype(np.float32)
    _, _, x = _weights(np)
    jet_big, _, _ = _fg_impls(fg, np, ws, bs, x)
    jet_small, _, _ = _fg_impls(fg, np, ws, bs, x_small)
    for k in ORDERS:
        big, small = jet_big(k), jet_small(k)
        big(), small()
        t_big = min(_timed(big)[1] for _ in range(5))
        t_small = min(_timed(small)[1] for _ in range(5))
        for name, p in prims.items():
            if saved[name] is not None:
                p.impl = wrap(name, saved[name])
        count.clear(), spent.clear()
        try:
            _, t_wrapped = _timed(big)
        finally:
            for name, p in prims.items():
                p.impl = saved[name]
        total_impl = sum(spent.values())
        out[str(k)] = {
            "ops": sum(count.values()),
            "ops_by_primitive": dict(count),
            "matmuls": count.get("matmul", 0),
            "s_N4096": t_big,
            "s_N16": t_small,
            "dispatch_share": t_small / t_big,
            "s_in_impls": total_impl,
            "s_in_matmul": spent.get("matmul", 0.0),
            "s_by_primitive": dict(spent),
            "s_outside_impls": max(0.0, t_wrapped - total_impl),
        }
    return out


# --- one setting ---------------------------------------------------------------------------------


def child(setting: str, block: float, reps: int, rev_cap: float, profile: bool) -> dict:
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
    try:
        import jax

        jax.config.update("jax_platforms", "cpu")
    except ImportError:
        jax = None
    fg.init(arch="cpu", cpu_max_num_threads=threads)
    env = _environment(threads, torch, jax)
    ws, bs, x = _weights(np)
    fg_jet, fg_jet_jit, fg_rev = _fg_impls(fg, np, ws, bs, x)
    torch_nested = _torch_impl(torch, ws, bs, x) if torch is not None else None
    jax_jvp, jax_jet = _jax_impls(jax, ws, bs, x) if jax is not None else (None, None)

    out = {"setting": setting, "environment": env, "orders": {}}
    baselines = {"fg-jet": fg_jet(ORDERS[0]), "fg-jet-jit": fg_jet_jit(ORDERS[0])}
    baselines["fg-jet-jit"]()  # compile
    if jax is not None:
        baselines["jax-jvp"] = jax_jvp(ORDERS[0])
        baselines["jax-jvp"]()  # compile
    rev_ok = True
    for k in ORDERS:
        impls = {"fg-jet": fg_jet(k), "fg-jet-jit": fg_jet_jit(k)}
        if rev_ok:
            impls["fg-rev"] = fg_rev(k)
        if torch_nested is not None:
            impls["torch"] = torch_nested(k)
        if jax is not None:
            impls["jax-jvp"] = jax_jvp(k)
            impls["jax-jet"] = jax_jet(k)
        ref = _reference(fg, np, ws, bs, x, k)
        scale = float(np.max(np.abs(ref)))
        first, warm, err = {}, {}, {}
        for name, fn in impls.items():
            _, first[name] = _timed(fn)
            y, warm[name] = _timed(fn)
            err[name] = float(np.max(np.abs(_as_numpy(np, y) - ref))) / scale
        if rev_ok and warm["fg-rev"] > rev_cap:
            rev_ok = False  # this order is measured; higher ones are skipped
        # k = 1 again, interleaved with this order: the growth k / 1 immune to load drift.
        timed = dict(impls)
        for name in BASELINED:
            if k != ORDERS[0] and name in impls:
                base = baselines[name]
                timed[name + "@k1"] = base
                warm[name + "@k1"] = _timed(base)[1]
        samples = _interleaved(timed, warm, block, reps)
        out["orders"][str(k)] = {
            "first_call_s": first,
            "max_abs_ref": scale,
            "rel_err": err,
            "agree": {name: e <= TOL for name, e in err.items()},
            "s_per_call": {name: _stats(v) for name, v in samples.items()},
            "ratio_fg_jet_over": {
                name: _ratio(samples, "fg-jet", name) for name in impls if name != "fg-jet"
            },
            "growth_interleaved": {
                name: (_ratio(samples, name, name + "@k1") if k != ORDERS[0] else 1.0)
                for name in BASELINED
                if name in impls
            },
            "reps": len(samples["fg-jet"]),
        }
    first_k = out["orders"][str(ORDERS[0])]["s_per_call"]
    out["growth_vs_k1"] = {
        name: {
            k: case["s_per_call"][name]["median"] / first_k[name]["median"]
            for k, case in out["orders"].items()
            if name in case["s_per_call"]
        }
        for name in first_k
    }
    if profile:
        out["profile"] = _profile(fg, np, ws, bs)
    env["loadavg_end"] = list(os.getloadavg())
    env["torch_missing"] = torch is None
    env["jax_missing"] = jax is None
    out["void"] = not all(ok for case in out["orders"].values() for ok in case["agree"].values())
    return out


# --- report --------------------------------------------------------------------------------------


def _ms(st: dict) -> str:
    m, lo, hi = (st[k] * 1e3 for k in ("median", "min", "max"))
    digits = 2 if m < 100 else 0
    return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def _num(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def report(res: dict) -> str:
    """Human-readable tables for one setting."""
    env = res["environment"]
    lines = [
        "",
        f"== setting: {res['setting']} (threads {env['threads']}, affinity {env['affinity']}) ==",
        f"cpu: {env['cpu']} x{env['cpu_count']}; numpy {env['numpy']}, taichi {env['taichi']}, "
        f"torch {env['torch'] or 'not installed (skipped)'}, "
        f"jax {env['jax'] or 'not installed (skipped)'}",
        f"load average start {env['loadavg_start']} end {env['loadavg_end']}",
        f"blas: {env['blas']}",
    ]
    busy = max(env["loadavg_start"][0], env["loadavg_end"][0])
    if busy > 1.5:
        lines.append(
            f"!! load average up to {busy:.1f} on {env['cpu_count']} cores: other processes "
            "shared the cores during this run; absolute times are inflated and noisy"
        )
    if res["void"]:
        lines.append(f"!! VOID: an implementation's d^k u differs from the reference beyond {TOL}")
    names = [n for n in IMPLS if any(n in c["s_per_call"] for c in res["orders"].values())]
    lines += [
        "",
        f"d^k u/dx^k of MLP {'-'.join(map(str, SIZES))} (tanh, float32) at {N_POINTS} points: "
        "milliseconds per call, median [min-max]",
        f"{'k':>2s} " + " ".join(f"{n:>22s}" for n in names),
    ]
    for k, case in res["orders"].items():
        st = case["s_per_call"]
        cells = [_ms(st[n]) if n in st else "skipped" for n in names]
        lines.append(f"{k:>2s} " + " ".join(f"{c:>22s}" for c in cells))
    others = [n for n in names if n != "fg-jet"]
    lines += [
        "",
        "ratios (median of per-repetition ratios): fg-jet / peer; growth: median(k) / median(1)",
        f"{'k':>2s} "
        + " ".join(f"{'fg-jet/' + n:>16s}" for n in others)
        + " "
        + " ".join(f"{'growth ' + n:>16s}" for n in names),
    ]
    growth = res["growth_vs_k1"]
    for k, case in res["orders"].items():
        r = case["ratio_fg_jet_over"]
        cells = [_num(r.get(n)) for n in others]
        cells += [_num(growth.get(n, {}).get(k)) for n in names]
        lines.append(f"{k:>2s} " + " ".join(f"{c:>16s}" for c in cells))
    lines += [
        "",
        "growth time(k) / time(1) from paired samples (k = 1 re-timed beside every order):",
        "  "
        + "; ".join(
            f"k={k}: " + ", ".join(f"{n} {_num(g)}" for n, g in case["growth_interleaved"].items())
            for k, case in res["orders"].items()
        ),
    ]
    lines += [
        "",
        f"agreement: max |d^k u - ref| / max |ref| (float64 fieldgrad reference; <= {TOL})",
    ]
    for k, case in res["orders"].items():
        errs = ", ".join(f"{n} {e:.1e}" for n, e in case["rel_err"].items())
        lines.append(f"  k={k}: {errs}")
    lines += ["", "first call (compilation/tracing included), seconds"]
    for k, case in res["orders"].items():
        fc = ", ".join(f"{n} {t:.2f}" for n, t in case["first_call_s"].items())
        lines.append(f"  k={k}: {fc}")
    if "profile" in res:
        lines += [
            "",
            "profile of fg-jet: primitive applications, time at N=4096 and at N=16 (dispatch "
            "only), time inside matmul impls, Python time outside every impl",
            f"{'k':>2s} {'ops':>5s} {'matmuls':>8s} {'ms N=4096':>10s} {'ms N=16':>8s} "
            f"{'N16/N4096':>10s} {'ms matmul':>10s} {'ms outside':>11s}",
        ]
        for k, p in res["profile"].items():
            lines.append(
                f"{k:>2s} {p['ops']:>5d} {p['matmuls']:>8d} {p['s_N4096'] * 1e3:>10.2f} "
                f"{p['s_N16'] * 1e3:>8.2f} {p['dispatch_share']:>10.2f} "
                f"{p['s_in_matmul'] * 1e3:>10.2f} {p['s_outside_impls'] * 1e3:>11.2f}"
            )
    return "\n".join(lines)


# --- driver --------------------------------------------------------------------------------------


def _run_child(setting: str, args) -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        setting,
        "--block",
        str(args.block),
        "--reps",
        str(args.reps),
        "--rev-cap",
        str(args.rev_cap),
    ]
    if setting == "pinned" and not args.no_profile:
        cmd.append("--profile")
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"the {setting} benchmark process failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setting", choices=("pinned", "unpinned", "both"), default="both")
    p.add_argument("--block", type=float, default=0.3, help="seconds per timed block")
    p.add_argument("--reps", type=int, default=5, help="interleaved repetitions")
    p.add_argument("--rev-cap", type=float, default=1.0, help="seconds; stop fg-rev beyond")
    p.add_argument("--quick", action="store_true", help="3 repetitions, short blocks")
    p.add_argument("--no-profile", action="store_true", help="skip the fg-jet profile")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.block, args.reps = 0.1, 3
    if args.child:
        res = child(args.child, args.block, args.reps, args.rev_cap, args.profile)
        print(json.dumps(res, default=str))
        return res
    settings = ("pinned", "unpinned") if args.setting == "both" else (args.setting,)
    results = {}
    for s in settings:
        results[s] = _run_child(s, args)
        print(report(results[s]), flush=True)
    summary = {
        "benchmark": "derivative_order",
        "model": {"sizes": SIZES, "activation": "tanh", "dtype": "float32", "points": N_POINTS},
        "orders": ORDERS,
        "tolerance": TOL,
        "void": any(r["void"] for r in results.values()),
        "settings": results,
    }
    print("\nVOID: implementations disagree" if summary["void"] else "\nall implementations agree")
    print(json.dumps(summary, default=str))
    return summary


if __name__ == "__main__":
    main()
