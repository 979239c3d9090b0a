"""The PINN training step (Burgers' equation): fieldgrad under ``fg.jit`` beside PyTorch and JAX.

The reference workload of the jit work; keep these definitions exact:

* Burgers: ``u_t + u u_x - (0.01/pi) u_xx = 0``;
* ``u(t, x)``: an MLP 2-32-32-32-32-1 with tanh, Xavier-normal weights, zero biases;
* ``N_f`` collocation points uniform in t in [0, 1], x in [-1, 1]; 256 initial points with
  ``u(0, x) = -sin(pi x)``; 256 boundary points alternating x = -1 and x = +1 with ``u = 0``;
* loss = mean(r^2) + mean(IC error^2) + mean(BC error^2);
* one step = forward, derivatives, loss, gradient with respect to all parameters, Adam(1e-3)
  update (PyTorch's formula: ``p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)``); float32.

Implementations, all started from the same weights and points (seeded numpy generator):

* ``fieldgrad``: ``u_t`` by ``fg.jvp`` along e_t, ``u_x`` and ``u_xx`` by one order-2
  ``fg.jet`` along e_x, gradient by ``fg.value_and_grad``, the whole step (parameters and Adam
  state are pytree arguments) under ``fg.jit``;
* ``torch``: PyTorch eager, two ``torch.autograd.grad(create_graph=True)`` calls,
  ``torch.optim.Adam``;
* ``jax``: ``jax.jit`` of the whole step, nested ``jax.jvp`` for the derivatives.

The peers live in bench/pinn_peers.py; a peer that is not installed is skipped, and the output
says so. Two settings, ``pinned`` (one core, one thread everywhere) and ``unpinned`` (two
threads); pinning and thread counts must be set before numpy, torch, jax or taichi is imported,
so each N_f of each setting runs in its own subprocess (a crash loses one row, reported as
FAILED), and the same-work checks in another. Every implementation is warmed up (its first
call, which traces and compiles, is reported apart), then timed in blocks of about ``--block``
seconds, interleaved A B C A B C ...; tables give the median and min-max of ms per step, ratios
are medians of per-repetition ratios. Same work: at ``N_f = AGREE_N`` the loss and gradient at
the initial weights are compared, then every implementation trains ``AGREE_STEPS`` steps from
the same start and the final losses are compared (float32 tolerance); a disagreement marks the
setting VOID. The pinned setting also profiles fieldgrad's step (bench/jit_profile.py): graph
size, kernel launches per step, and where the time goes (BLAS matmul, Taichi kernels, Python).

Usage:
    python bench/pinn_step.py                   # both settings, N_f 1024/8192/65536
    python bench/pinn_step.py --quick           # smaller sizes, fewer repetitions
    python bench/pinn_step.py --setting pinned --sizes 1024

The last line printed is one JSON object with every figure and ratio.
"""

import argparse
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import time

from _harness import cpu_model as _cpu_model
from _harness import interleaved as _interleaved
from _harness import ratio as _ratio
from _harness import stats as _stats

LAYERS = (2, 32, 32, 32, 32, 1)
NU = 0.01 / math.pi
N_IC = 256
N_BC = 256
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
SIZES = (1024, 8192, 65536)
QUICK_SIZES = (256, 1024)
AGREE_N, AGREE_STEPS = 1024, 200
# Float32 agreement: initial loss and gradient (same arithmetic up to summation order), and the
# loss after AGREE_STEPS Adam steps (rounding differences grow along the trajectory).
INIT_RTOL, GRAD_TOL, FINAL_RTOL = 1e-5, 1e-4, 1e-4
IMPLS = ("fieldgrad", "torch", "jax")
HP = {"nu": NU, "lr": LR, "beta1": BETA1, "beta2": BETA2, "eps": EPS}
# Issue figures, ms per step, measured on this kind of machine (for orientation only; the
# ratios against peers in the same run are what count).
REFERENCE_MS = {
    "pinned": {
        1024: {"torch": 5.6, "jax": 3.05},
        8192: {"torch": 27.3, "jax": 44.2},
        65536: {"torch": 251.0, "jax": 366.0},
    },
    "unpinned": {1024: {"torch": 4.03, "jax": 2.22}, 65536: {"torch": 195.0, "jax": 203.0}},
}


# --- the problem ---------------------------------------------------------------------------------


def xavier_normal(rng, fan_in: int, fan_out: int):
    """Glorot/Xavier normal weights ``N(0, 2 / (fan_in + fan_out))`` of shape (fan_in, fan_out)."""
    import numpy as np

    std = math.sqrt(2.0 / (fan_in + fan_out))
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(np.float32)


def make_problem(n_f: int, seed: int = 0, n_ic: int = N_IC, n_bc: int = N_BC) -> dict:
    """Weights and points as float32 numpy arrays (weights, IC and BC do not depend on n_f).

    Returns:
        ``{"params": [(W, b), ...], "x_f": (n_f, 2), "x_ic": (n_ic, 2), "u_ic": (n_ic, 1),
        "x_bc": (n_bc, 2), "u_bc": (n_bc, 1)}``; columns of the points are (t, x).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    params = [
        (xavier_normal(rng, i, o), np.zeros(o, np.float32)) for i, o in zip(LAYERS, LAYERS[1:])
    ]
    x0 = rng.uniform(-1.0, 1.0, n_ic)
    x_ic = np.stack([np.zeros(n_ic), x0], axis=1)
    u_ic = -np.sin(np.pi * x0)[:, None]
    t_bc = rng.uniform(0.0, 1.0, n_bc)
    x_bc = np.stack([t_bc, np.where(np.arange(n_bc) % 2 == 0, -1.0, 1.0)], axis=1)
    pts = np.random.default_rng([seed, n_f])
    x_f = np.stack([pts.uniform(0.0, 1.0, n_f), pts.uniform(-1.0, 1.0, n_f)], axis=1)
    f32 = np.float32
    return {
        "params": params,
        "x_f": x_f.astype(f32),
        "x_ic": x_ic.astype(f32),
        "u_ic": u_ic.astype(f32),
        "x_bc": x_bc.astype(f32),
        "u_bc": np.zeros((n_bc, 1), f32),
    }


# --- fieldgrad -----------------------------------------------------------------------------------
# numpy, fieldgrad, torch and jax are imported inside functions: a measuring subprocess pins
# itself and sets its thread counts before the first of them is imported.


def fg_mlp(params, x):
    """The tanh MLP on points ``x`` of shape (N, 2); returns (N, 1)."""
    import fieldgrad as fg

    h = x
    for w, b in params[:-1]:
        h = fg.tanh(fg.matmul(h, w) + b)
    w, b = params[-1]
    return fg.matmul(h, w) + b


def fg_derivatives(params, x):
    """``u, u_t, u_x, u_xx`` at the points ``x`` (columns t, x): one JVP along e_t and one
    order-2 Taylor series along e_x (forward mode only)."""
    import fieldgrad as fg

    def u_of(z):
        return fg_mlp(params, z)

    e_t = fg.broadcast_to(fg.tensor([1.0, 0.0], dtype=x.dtype), x.shape)
    e_x = fg.broadcast_to(fg.tensor([0.0, 1.0], dtype=x.dtype), x.shape)
    u, u_t = fg.jvp(u_of, (x,), (e_t,))
    _, (u_x, u_xx) = fg.jet(u_of, (x,), ([e_x, fg.zeros_like(x)],))
    return u, u_t, u_x, u_xx


def fg_loss(params, data):
    """The PINN loss: mean squared Burgers residual + IC error + BC error."""
    import fieldgrad as fg

    u, u_t, u_x, u_xx = fg_derivatives(params, data["x_f"])
    r = u_t + u * u_x - NU * u_xx
    e_ic = fg_mlp(params, data["x_ic"]) - data["u_ic"]
    e_bc = fg_mlp(params, data["x_bc"]) - data["u_bc"]
    return fg.mean(r * r) + fg.mean(e_ic * e_ic) + fg.mean(e_bc * e_bc)


def fg_adam_init(params):
    """Adam state ``(t, m, v)``: a step count (a scalar tensor, so jit does not retrace per
    step) and zero moments shaped like the parameters."""
    import fieldgrad as fg

    t = fg.zeros((), dtype=fg.tree_leaves(params)[0].dtype)
    return t, fg.tree_map(fg.zeros_like, params), fg.tree_map(fg.zeros_like, params)


def fg_adam_update(grads, state, params):
    """One Adam(LR) step in PyTorch's formulation; returns ``(params, state)``."""
    import fieldgrad as fg

    t, m, v = state
    t = t + 1.0
    bc1 = 1.0 - fg.exp(t * math.log(BETA1))
    bc2 = 1.0 - fg.exp(t * math.log(BETA2))
    step_size = LR / bc1
    sqrt_bc2 = fg.sqrt(bc2)
    m = fg.tree_map(lambda mi, g: BETA1 * mi + (1.0 - BETA1) * g, m, grads)
    v = fg.tree_map(lambda vi, g: BETA2 * vi + (1.0 - BETA2) * (g * g), v, grads)
    params = fg.tree_map(
        lambda p, mi, vi: p - step_size * mi / (fg.sqrt(vi) / sqrt_bc2 + EPS), params, m, v
    )
    return params, (t, m, v)


def fg_train_step(params, state, data):
    """Loss, gradient and Adam update; returns ``(params, state, loss)`` (loss before update)."""
    import fieldgrad as fg

    loss, grads = fg.value_and_grad(fg_loss)(params, data)
    params, state = fg_adam_update(grads, state, params)
    return params, state, loss


class FieldgradPINN:
    """fieldgrad's implementation: the whole training step under ``fg.jit``."""

    name = "fieldgrad"

    def __init__(self, prob: dict, dtype: str = "float32"):
        import fieldgrad as fg

        self.fg = fg
        self.params = [
            (fg.tensor(w, dtype=dtype), fg.tensor(b, dtype=dtype)) for w, b in prob["params"]
        ]
        self.state = fg_adam_init(self.params)
        self.data = {k: fg.tensor(v, dtype=dtype) for k, v in prob.items() if k != "params"}
        self.step_fn = fg.jit(fg_train_step)
        self.loss_fn = fg.jit(fg_loss)
        self.last = None

    def step(self):
        self.params, self.state, self.last = self.step_fn(self.params, self.state, self.data)

    def loss(self) -> float:
        return float(self.loss_fn(self.params, self.data))

    def grads(self) -> list:
        g = self.fg.grad(fg_loss)(self.params, self.data)
        return [x.numpy() for x in self.fg.tree_leaves(g)]

    def step_args(self):
        return self.params, self.state, self.data


# --- timing --------------------------------------------------------------------------------------


def _sibling(name: str):
    """A module of this folder (``pinn_peers``, ``jit_profile``), loaded by its path."""
    key = f"_bench_{name}"
    mod = sys.modules.get(key)
    if mod is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return mod


def _make(name: str, prob: dict):
    if name == "fieldgrad":
        return FieldgradPINN(prob)
    peers = _sibling("pinn_peers")
    return {"torch": peers.TorchPINN, "jax": peers.JaxPINN}[name](prob, HP)


def _compare_start(np, impls: dict) -> dict:
    """Loss and gradient at the initial weights of every implementation against fieldgrad's."""
    ref_loss = impls["fieldgrad"].loss()
    ref_g = impls["fieldgrad"].grads()
    out = {"loss": {"fieldgrad": ref_loss}, "grad_max_rel_err": {}, "agree": True}
    for name, impl in impls.items():
        if name == "fieldgrad":
            continue
        loss = impl.loss()
        g = impl.grads()
        err = max(float(np.max(np.abs(a - b))) / float(np.max(np.abs(b))) for a, b in zip(g, ref_g))
        out["loss"][name] = loss
        out["grad_max_rel_err"][name] = err
        out["agree"] &= abs(loss - ref_loss) <= INIT_RTOL * abs(ref_loss) and err <= GRAD_TOL
    return out


def _agreement(names, seed: int) -> dict:
    """Every implementation trains AGREE_STEPS steps at N_f = AGREE_N from the same start."""
    prob = make_problem(AGREE_N, seed)
    final, initial = {}, {}
    for name in names:
        impl = _make(name, prob)
        initial[name] = impl.loss()
        for _ in range(AGREE_STEPS):
            impl.step()
        final[name] = impl.loss()
    ref = final["fieldgrad"]
    rel = {n: abs(v - ref) / abs(ref) for n, v in final.items()}
    return {
        "n_f": AGREE_N,
        "steps": AGREE_STEPS,
        "initial_loss": initial,
        "final_loss": final,
        "rel_diff_vs_fieldgrad": rel,
        "rtol": FINAL_RTOL,
        "agree": all(r <= FINAL_RTOL for r in rel.values()),
        "loss_decreased": all(final[n] < initial[n] for n in names),
    }


# --- one setting (a subprocess) ------------------------------------------------------------------


def _environment(threads: int, peers: dict) -> dict:
    import numpy as np
    import taichi as ti

    import fieldgrad as fg

    torch, jax = peers.get("torch"), peers.get("jax")
    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "taichi": ".".join(map(str, ti.__version__)),
        "fieldgrad": getattr(fg, "__version__", "dev"),
        "torch": torch.__version__ if torch else None,
        "jax": jax.__version__ if jax else None,
        "jax_devices": [str(d) for d in jax.devices()] if jax else None,
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "threads": threads,
        "torch_threads": torch.get_num_threads() if torch else None,
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


def _import_peers(threads: int, wanted) -> tuple:
    peers, missing = {}, {}
    if "torch" in wanted:
        try:
            import torch

            torch.set_num_threads(threads)
            peers["torch"] = torch
        except ImportError as e:
            missing["torch"] = f"not installed ({e})"
    if "jax" in wanted:
        try:
            import jax

            jax.config.update("jax_platforms", "cpu")
            peers["jax"] = jax
        except ImportError as e:
            missing["jax"] = f"not installed ({e})"
    return peers, missing


def child(
    setting: str,
    sizes,
    block: float,
    reps: int,
    large_reps: int,
    seed: int,
    wanted,
    profile: bool,
    agree: bool,
) -> dict:
    """Part of one setting, measured in this process (pinning and threads set before the
    imports): the timings at ``sizes``, or with ``agree`` the same-work checks."""
    import faulthandler

    faulthandler.enable()  # a crash in a kernel shows where it happened
    threads = 1 if setting == "pinned" else 2
    if setting == "pinned":
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import numpy as np

    import fieldgrad as fg

    fg.init(arch="cpu", cpu_max_num_threads=threads)
    peers, missing = _import_peers(threads, wanted)
    names = ["fieldgrad"] + [n for n in IMPLS[1:] if n in peers]
    env = _environment(threads, peers)
    env["skipped"] = missing
    out = {"setting": setting, "environment": env, "impls": names, "sizes": {}, "profile": {}}
    if agree:
        prob = make_problem(AGREE_N, seed)
        out["start_check"] = _compare_start(np, {k: _make(k, prob) for k in names})
        out["agreement"] = _agreement(names, seed)
    for n in sizes:
        prob = make_problem(n, seed)
        impls, first = {}, {}
        for name in names:
            t0 = time.perf_counter()
            impl = _make(name, prob)
            impl.step()
            first[name] = time.perf_counter() - t0
            impl.step()
            impls[name] = impl
        r = large_reps if n >= 65536 else reps
        samples = _interleaved({k: v.step for k, v in impls.items()}, block, r)
        res = {
            "reps": r,
            "first_call_s": first,
            "ms_per_step": {
                k: {s: x * 1e3 for s, x in _stats(v).items()} for k, v in samples.items()
            },
            "ratio_fg_over": {p: _ratio(samples, "fieldgrad", p) for p in names[1:]},
        }
        peer_ms = [res["ms_per_step"][p]["median"] for p in names[1:]]
        if peer_ms:
            best = min(names[1:], key=lambda p: res["ms_per_step"][p]["median"])
            res["faster_peer"] = best
            res["speedup_vs_faster_peer"] = 1.0 / _ratio(samples, "fieldgrad", best)
        out["sizes"][str(n)] = res
        if profile:
            prof = _sibling("jit_profile").profile_jitted
            args = impls["fieldgrad"].step_args()
            out["profile"][str(n)] = prof(fg_train_step, args, n, reps=3 if n < 65536 else 1)
        del impls
    env["loadavg_end"] = list(os.getloadavg())
    return out


def _run_child(setting: str, sizes, agree: bool, opts: list) -> tuple:
    """One subprocess; returns (result or None, failure message or None)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--setting", setting]
    cmd += ["--sizes", ",".join(map(str, sizes)), *opts] + (["--agree"] if agree else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stdout[-1000:] + proc.stderr[-4000:]).strip().splitlines()
        tail = [x.strip() for x in lines if x.strip().startswith(("File", "Fatal", "Error"))][:8]
        tail = [re.sub(r'File "[^"]*/([^/"]+)"', r'File "\1"', x) for x in tail]
        return None, f"exit status {proc.returncode}: " + " | ".join(tail)
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def run_setting(setting: str, sizes, opts: list) -> dict:
    """A setting: each N_f in its own subprocess (a crash loses one row), then the same-work
    checks in another; the parts are merged into one result."""
    merged, failed = None, {}
    parts = [([n], False) for n in sizes] + [([], True)]
    for part_sizes, agree in parts:
        res, err = _run_child(setting, part_sizes, agree, opts)
        label = "agreement" if agree else str(part_sizes[0])
        if err:
            failed[label] = err
            sys.stderr.write(f"bench/pinn_step.py: {setting} {label} failed: {err[:2000]}\n")
            continue
        if merged is None:
            merged = res
        else:
            merged["sizes"].update(res["sizes"])
            merged["profile"].update(res["profile"])
            for k in ("start_check", "agreement"):
                if k in res:
                    merged[k] = res[k]
            merged["environment"]["loadavg_end"] = res["environment"]["loadavg_end"]
    if merged is None:
        return {"setting": setting, "failed": failed, "void": True}
    merged["failed"] = failed
    checks = [merged.get("start_check", {}), merged.get("agreement", {})]
    merged["void"] = not all(c.get("agree", False) for c in checks)
    return merged


# --- report --------------------------------------------------------------------------------------


def _rng(st: dict) -> str:
    d = 2 if st["median"] < 10 else 1 if st["median"] < 100 else 0
    return f"{st['median']:.{d}f} [{st['min']:.{d}f}-{st['max']:.{d}f}]"


def _f(x, d=2) -> str:
    return "-" if x is None else f"{x:.{d}f}"


def report(res: dict) -> str:
    """Human-readable tables for one setting."""
    if "environment" not in res:
        return f"\n== setting: {res['setting']}: every part failed: {res['failed']}"
    env, names = res["environment"], res["impls"]
    goal = 1.5 if res["setting"] == "pinned" else 2.0
    lines = [
        "",
        f"== setting: {res['setting']} (threads {env['threads']}, affinity {env['affinity']}) ==",
        f"cpu: {env['cpu']} x{env['cpu_count']}; python {env['python']}, numpy {env['numpy']}, "
        f"taichi {env['taichi']}, torch {env['torch'] or 'skipped'}, jax {env['jax'] or 'skipped'}",
        f"load average start {env['loadavg_start']} end {env['loadavg_end']}",
        f"blas: {env['blas']}",
    ]
    for name, why in env["skipped"].items():
        lines.append(f"{name}: {why}; skipped")
    if res["void"]:
        lines.append("!! VOID: the implementations disagree, or the same-work check did not run")
    for label, err in res["failed"].items():
        lines.append(f"!! FAILED ({label}): {err[:600]}")
    lines += [
        "",
        "ms per step, median [min-max] over interleaved repetitions; fg/x = median per-rep ratio "
        f"(< 1: fieldgrad faster); speedup = faster peer / fieldgrad (goal {goal}x)",
        f"{'N_f':>6s} {'reps':>4s} "
        + " ".join(f"{n:>20s}" for n in names)
        + "".join(f" {'fg/' + p:>9s}" for p in names[1:])
        + f" {'speedup':>8s}  first call s ("
        + "/".join(names)
        + ")",
    ]
    for n, r in res["sizes"].items():
        row = f"{n:>6s} {r['reps']:>4d} " + " ".join(
            f"{_rng(r['ms_per_step'][k]):>20s}" for k in names
        )
        row += "".join(f" {_f(r['ratio_fg_over'][p]):>9s}" for p in names[1:])
        row += f" {_f(r.get('speedup_vs_faster_peer')):>8s}  "
        row += "/".join(f"{r['first_call_s'][k]:.2f}" for k in names)
        lines.append(row)
    ref = REFERENCE_MS.get(res["setting"], {})
    if ref:
        lines.append(
            "issue reference figures, ms per step: "
            + "; ".join(
                f"{n}: " + ", ".join(f"{p} {v}" for p, v in d.items()) for n, d in ref.items()
            )
        )
    sc, ag = res.get("start_check"), res.get("agreement")
    lines += (
        []
        if sc is None or ag is None
        else [
            "",
            f"same work: initial loss at N_f={AGREE_N}: "
            + ", ".join(f"{k} {v:.7g}" for k, v in sc["loss"].items())
            + "; gradient max rel. error vs fieldgrad: "
            + ", ".join(f"{k} {v:.1e}" for k, v in sc["grad_max_rel_err"].items())
            + f" ({'ok' if sc['agree'] else 'DISAGREE'})",
            f"after {ag['steps']} steps at N_f={ag['n_f']} (this check runs at that size only): "
            + ", ".join(f"{k} {v:.7g}" for k, v in ag["final_loss"].items())
            + "; rel. diff vs fieldgrad "
            + ", ".join(
                f"{k} {v:.1e}" for k, v in ag["rel_diff_vs_fieldgrad"].items() if k != "fieldgrad"
            )
            + f" (rtol {ag['rtol']}: {'ok' if ag['agree'] else 'VOID'})",
        ]
    )
    if res["profile"]:
        fmt = _sibling("jit_profile").format_profiles
        lines += ["", "fieldgrad's step, " + "\n".join(fmt(res["profile"]))]
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setting", choices=("both", "pinned", "unpinned"), default="both")
    ap.add_argument("--quick", action="store_true", help="small sizes, fewer repetitions")
    ap.add_argument("--sizes", type=str, default=None, help="comma-separated N_f values")
    ap.add_argument("--block", type=float, default=None, help="seconds per timed block")
    ap.add_argument("--reps", type=int, default=None, help="interleaved repetitions")
    ap.add_argument("--large-reps", type=int, default=3, help="repetitions at N_f >= 65536")
    ap.add_argument("--peers", type=str, default="torch,jax", help="peers to run (if installed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-profile", action="store_true", help="skip fieldgrad's step profile")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--agree", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sizes is not None:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s)
    else:
        sizes = QUICK_SIZES if args.quick else SIZES
    block = args.block or (0.2 if args.quick else 0.6)
    reps = args.reps or (3 if args.quick else 5)
    wanted = [p for p in args.peers.split(",") if p]
    if args.child:
        res = child(
            args.setting,
            sizes,
            block,
            reps,
            args.large_reps,
            args.seed,
            wanted,
            profile=not args.no_profile and args.setting == "pinned",
            agree=args.agree,
        )
        print(json.dumps(res))
        return res
    settings = ("pinned", "unpinned") if args.setting == "both" else (args.setting,)
    opts = ["--block", str(block), "--reps", str(reps), "--large-reps", str(args.large_reps)]
    opts += ["--peers", ",".join(wanted), "--seed", str(args.seed)]
    opts += ["--no-profile"] if args.no_profile else []
    t0 = time.perf_counter()
    results = {}
    for setting in settings:
        results[setting] = run_setting(setting, sizes, opts)
        print(report(results[setting]), flush=True)
    summary = {
        "benchmark": "pinn_step",
        "command": "python bench/pinn_step.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "wall_s": round(time.perf_counter() - t0, 1),
        "void": any(r["void"] for r in results.values()),
        "reference_ms": REFERENCE_MS,
        "settings": results,
    }
    print(f"\n(total {summary['wall_s']} s)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
