"""One epoch of the digits MLP recipe: fieldgrad's Trainer beside numpy, PyTorch and JAX.

The workload is the training loop of examples/nn_digits_mlp.py; keep these definitions exact:

* data: scikit-learn's 8x8 digits (1797 images), 80/20 train/test split with seed 0, pixels
  standardised with the training statistics; without scikit-learn, random data of the same
  shape (the timings do not depend on the values; the output says which was used);
* model: MLP 64-128-128-10 with ReLU, weights and biases ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
  drawn once by numpy and shared by every implementation; float32;
* one epoch = the 1438 training examples in shuffled batches of 64 (22 full batches and one of
  30), the order of epoch ``e`` being ``numpy.random.default_rng([seed, e]).permutation(n)``
  (that of ``nn.DataLoader``); per batch: forward, mean cross-entropy, gradient, Adam(1e-3)
  update in PyTorch's formulation.

Implementations:

* ``fieldgrad``: ``nn.Trainer(...).fit(loader, epochs=1)``: the jit-compiled step of
  ``nn.Trainer`` with ``nn.MLP``, ``nn.losses.cross_entropy``, ``nn.optim.adam`` and
  ``nn.DataLoader``, the Trainer's per-epoch bookkeeping included;
* ``numpy``: forward and backward written out in float32 numpy (a reference, always run);
* ``torch``: PyTorch eager, ``torch.nn.Sequential``, ``F.cross_entropy``, ``torch.optim.Adam``;
* ``jax``: ``jax.jit`` of the whole step (Adam written out), ``jax.numpy`` batches.

Every implementation selects its batches from host numpy arrays. Two settings, ``pinned`` (one
core, one thread everywhere) and ``unpinned`` (two threads), each in its own subprocess
(pinning and thread counts are set before the libraries are imported). Same work: from the
shared start, every implementation's training loss must match fieldgrad's (rtol 1e-5) and again
after ``--agree-epochs`` epochs (rtol 1e-3, float32 rounding grows along the run); otherwise
the setting is VOID. Each implementation is warmed up (its first epoch, which compiles, is
reported apart) and timed in blocks of about ``--block`` seconds, interleaved A B C A B C ...;
the median over ``--reps`` repetitions is reported, with ratios as medians of per-repetition
ratios.

Usage:
    python bench/mlp_digits.py                   # both settings
    python bench/mlp_digits.py --quick           # fewer and shorter repetitions
    python bench/mlp_digits.py --setting pinned --peers torch

The last line printed is one JSON object with every figure and ratio.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

from _harness import blas_info, cpu_model, interleaved, ratio, stats

LAYERS = (64, 128, 128, 10)
BATCH = 64
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
START_RTOL, FINAL_RTOL = 1e-5, 1e-3
PEERS = ("numpy", "torch", "jax")


# --- the problem ---------------------------------------------------------------------------------


def make_data(n=None, seed: int = 0) -> dict:
    """Standardised float32 training and test arrays (the first ``n`` images when given)."""
    import numpy as np

    try:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y, source = digits.data, digits.target, "digits"
    except ImportError:
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 10, 1797)
        x = rng.normal(size=(1797, 64)) + 2.0 * np.eye(10, 64)[y]
        source = "synthetic (scikit-learn not installed)"
    if n is not None:
        x, y = x[:n], y[:n]
    x = x.astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(x))  # as nn.train_test_split
    n_test = min(max(int(round(0.2 * len(x))), 1), len(x) - 1)
    test, train = perm[:n_test], perm[n_test:]
    mean, std = x[train].mean(0), x[train].std(0)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    return {
        "x": (x[train] - mean) / std,
        "y": y[train].astype(np.int64),
        "x_test": (x[test] - mean) / std,
        "y_test": y[test].astype(np.int64),
        "source": source,
    }


def init_params(seed: int = 0) -> list:
    """``[(W, b), ...]`` with ``W`` of shape (fan_in, fan_out), uniform as PyTorch's Linear."""
    import numpy as np

    rng = np.random.default_rng([seed, 1])
    out = []
    for i, o in zip(LAYERS, LAYERS[1:]):
        bound = 1.0 / math.sqrt(i)
        w = rng.uniform(-bound, bound, (i, o)).astype(np.float32)
        out.append((w, rng.uniform(-bound, bound, o).astype(np.float32)))
    return out


def batches(n: int, epoch: int, seed: int):
    """The index arrays of the batches of ``epoch``."""
    import numpy as np

    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[k : k + BATCH] for k in range(0, n, BATCH)]


# --- implementations: epoch() trains one epoch, loss() is the training-set loss ---------------


class FieldgradMLP:
    name = "fieldgrad"

    def __init__(self, data: dict, params: list, seed: int):
        import fieldgrad as fg
        from fieldgrad import nn

        model = nn.MLP(list(LAYERS), activation="relu", key=fg.random.key(0))
        for k, (w, b) in enumerate(params):
            model = nn.replace(model, f"layers.{k}.weight", fg.tensor(w))
            model = nn.replace(model, f"layers.{k}.bias", fg.tensor(b))

        def loss_fn(m, x, y):
            return nn.losses.cross_entropy(m(x), y)

        opt = nn.optim.adam(LR, b1=BETA1, b2=BETA2, eps=EPS)
        self.trainer = nn.Trainer(model, opt, loss_fn, seed=seed)
        self.loader = nn.DataLoader((data["x"], data["y"]), BATCH, shuffle=True, seed=seed)
        self.data = (data["x"], data["y"])

    def epoch(self):
        self.trainer.fit(self.loader, epochs=1, verbose=False)

    def loss(self) -> float:
        return self.trainer.evaluate(self.data, batch_size=len(self.data[0]))["loss"]


class NumpyMLP:
    name = "numpy"

    def __init__(self, data: dict, params: list, seed: int):
        import numpy as np

        self.np, self.seed, self.t, self.epochs = np, seed, 0, 0
        self.x, self.y = data["x"], data["y"]
        self.params = [[w.copy(), b.copy()] for w, b in params]
        self.m = [[np.zeros_like(a) for a in wb] for wb in self.params]
        self.v = [[np.zeros_like(a) for a in wb] for wb in self.params]

    def _forward(self, x):
        hs = [x]
        for k, (w, b) in enumerate(self.params):
            z = hs[-1] @ w + b
            hs.append(z if k == len(self.params) - 1 else self.np.maximum(z, 0.0))
        return hs

    def _loss_grads(self, x, y):
        np = self.np
        hs = self._forward(x)
        z = hs[-1] - hs[-1].max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        loss = -logp[np.arange(len(y)), y].mean()
        d = np.exp(logp)
        d[np.arange(len(y)), y] -= 1.0
        d /= np.float32(len(y))
        grads = []
        for k in range(len(self.params) - 1, -1, -1):
            w = self.params[k][0]
            grads.append([hs[k].T @ d, d.sum(0)])
            if k:
                d = (d @ w.T) * (hs[k] > 0)
        return loss, grads[::-1]

    def epoch(self):
        np = self.np
        for idx in batches(len(self.x), self.epochs, self.seed):
            _, grads = self._loss_grads(self.x[idx], self.y[idx])
            self.t += 1
            step = np.float32(LR / (1 - BETA1**self.t))
            sqrt_bc2 = np.float32(math.sqrt(1 - BETA2**self.t))
            for p, m, v, g in zip(self.params, self.m, self.v, grads):
                for i in range(2):
                    m[i] = BETA1 * m[i] + (1 - BETA1) * g[i]
                    v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i]
                    p[i] = p[i] - step * m[i] / (np.sqrt(v[i]) / sqrt_bc2 + EPS)
        self.epochs += 1

    def loss(self) -> float:
        return float(self._loss_grads(self.x, self.y)[0])


class TorchMLP:
    name = "torch"

    def __init__(self, data: dict, params: list, seed: int):
        import torch

        self.torch, self.seed, self.epochs = torch, seed, 0
        layers = []
        for k, (w, b) in enumerate(params):
            lin = torch.nn.Linear(*w.shape)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin] if k == len(params) - 1 else [lin, torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, betas=(BETA1, BETA2), eps=EPS)
        self.x, self.y = data["x"], data["y"]

    def epoch(self):
        torch = self.torch
        for idx in batches(len(self.x), self.epochs, self.seed):
            xb, yb = torch.from_numpy(self.x[idx]), torch.from_numpy(self.y[idx])
            self.opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(self.model(xb), yb)
            loss.backward()
            self.opt.step()
        self.epochs += 1

    def loss(self) -> float:
        with self.torch.no_grad():
            out = self.model(self.torch.from_numpy(self.x))
            return float(self.torch.nn.functional.cross_entropy(out, self.torch.from_numpy(self.y)))


class JaxMLP:
    name = "jax"

    def __init__(self, data: dict, params: list, seed: int):
        import jax
        import jax.numpy as jnp

        self.jnp, self.seed, self.epochs = jnp, seed, 0
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
        zeros = jax.tree_util.tree_map(jnp.zeros_like, self.params)
        self.state = (jnp.zeros((), jnp.float32), zeros, zeros)
        self.x, self.y = data["x"], data["y"].astype("int32")

        def loss(p, x, y):
            h = x
            for w, b in p[:-1]:
                h = jax.nn.relu(h @ w + b)
            w, b = p[-1]
            logp = jax.nn.log_softmax(h @ w + b)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        def step(p, s, x, y):
            value, g = jax.value_and_grad(loss)(p, x, y)
            t, m, v = s
            t = t + 1.0
            step_size = LR / (1.0 - BETA1**t)
            sqrt_bc2 = jnp.sqrt(1.0 - BETA2**t)
            tm = jax.tree_util.tree_map
            m = tm(lambda mi, gi: BETA1 * mi + (1.0 - BETA1) * gi, m, g)
            v = tm(lambda vi, gi: BETA2 * vi + (1.0 - BETA2) * gi * gi, v, g)
            p = tm(
                lambda pi, mi, vi: pi - step_size * mi / (jnp.sqrt(vi) / sqrt_bc2 + EPS), p, m, v
            )
            return p, (t, m, v), value

        self.step_fn = jax.jit(step)
        self.loss_fn = jax.jit(loss)

    def epoch(self):
        jnp = self.jnp
        for idx in batches(len(self.x), self.epochs, self.seed):
            xb, yb = jnp.asarray(self.x[idx]), jnp.asarray(self.y[idx])
            self.params, self.state, last = self.step_fn(self.params, self.state, xb, yb)
        last.block_until_ready()
        self.epochs += 1

    def loss(self) -> float:
        return float(self.loss_fn(self.params, self.jnp.asarray(self.x), self.jnp.asarray(self.y)))


IMPLS = {"fieldgrad": FieldgradMLP, "numpy": NumpyMLP, "torch": TorchMLP, "jax": JaxMLP}


# --- one setting (a subprocess) ------------------------------------------------------------------


def _import_peers(threads: int, wanted) -> tuple:
    names, skipped, versions = ["fieldgrad"], {}, {}
    for name in PEERS:
        if name not in wanted:
            continue
        try:
            if name == "torch":
                import torch

                torch.set_num_threads(threads)
                versions[name] = torch.__version__
            elif name == "jax":
                import jax

                jax.config.update("jax_platforms", "cpu")
                versions[name] = jax.__version__
            names.append(name)
        except ImportError as e:
            skipped[name] = f"not installed ({e})"
    return names, skipped, versions


def _agreement(names, data, params, seed: int, epochs: int) -> dict:
    start, final = {}, {}
    for name in names:
        impl = IMPLS[name](data, params, seed)
        start[name] = impl.loss()
        for _ in range(epochs):
            impl.epoch()
        final[name] = impl.loss()
    ref0, ref1 = start["fieldgrad"], final["fieldgrad"]
    rel0 = {n: abs(v - ref0) / abs(ref0) for n, v in start.items()}
    rel1 = {n: abs(v - ref1) / abs(ref1) for n, v in final.items()}
    return {
        "epochs": epochs,
        "start_loss": start,
        "final_loss": final,
        "start_rel_diff": rel0,
        "final_rel_diff": rel1,
        "agree": all(r <= START_RTOL for r in rel0.values())
        and all(r <= FINAL_RTOL for r in rel1.values()),
        "loss_decreased": all(final[n] < start[n] for n in names),
    }


def child(setting: str, args) -> dict:
    """Agreement check and timings of one setting, in this (fresh) process."""
    threads = 1 if setting == "pinned" else 2
    if setting == "pinned":
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import numpy as np
    import taichi as ti

    import fieldgrad as fg

    fg.init(arch="cpu", cpu_max_num_threads=threads)
    names, skipped, versions = _import_peers(threads, args.peers.split(","))
    data = make_data(args.n, args.seed)
    params = init_params(args.seed)
    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "taichi": ".".join(map(str, ti.__version__)),
        "fieldgrad": fg.__version__,
        **versions,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "threads": threads,
        "blas": blas_info(),
        "loadavg_start": list(os.getloadavg()),
        "skipped": skipped,
        "data": data["source"],
    }
    impls, first = {}, {}
    for name in names:  # the first epoch compiles (fieldgrad, jax): timed apart
        t0 = time.perf_counter()
        impl = IMPLS[name](data, params, args.seed)
        impl.epoch()
        first[name] = time.perf_counter() - t0
        impl.epoch()
        impls[name] = impl
    agree = _agreement(names, data, params, args.seed, args.agree_epochs)
    samples = interleaved({k: v.epoch for k, v in impls.items()}, args.block, args.reps)
    steps = math.ceil(len(data["x"]) / BATCH)
    env["loadavg_end"] = list(os.getloadavg())
    ms = {k: {s: x * 1e3 for s, x in stats(v).items()} for k, v in samples.items()}
    return {
        "setting": setting,
        "environment": env,
        "impls": names,
        "examples": len(data["x"]),
        "steps_per_epoch": steps,
        "reps": args.reps,
        "first_epoch_s": first,
        "ms_per_epoch": ms,
        "ms_per_step": {k: v["median"] / steps for k, v in ms.items()},
        "ratio_fg_over": {p: ratio(samples, "fieldgrad", p) for p in names[1:]},
        "agreement": agree,
        "void": not agree["agree"],
    }


def run_setting(setting: str, argv: list) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), *argv, "--child", "--setting", setting]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stdout[-2000:] + "\n" + proc.stderr[-6000:]).strip().splitlines()
        tail = [x.strip() for x in lines if x.strip() and not x.startswith("[Taichi]")][-8:]
        msg = f"exit status {proc.returncode}: " + " | ".join(tail)
        return {"setting": setting, "failed": msg, "void": True}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(res: dict) -> str:
    if "failed" in res:
        return f"\n== setting: {res['setting']}: FAILED: {res['failed']}"
    env, names = res["environment"], res["impls"]
    lines = [
        "",
        f"== setting: {res['setting']} (threads {env['threads']}, affinity {env['affinity']}) ==",
        f"cpu: {env['cpu']}; data: {env['data']}, {res['examples']} training examples, "
        f"{res['steps_per_epoch']} steps per epoch",
        *(f"{k}: {why}; skipped" for k, why in env["skipped"].items()),
        f"{'impl':>10s} {'ms/epoch median [min-max]':>28s} {'ms/step':>8s} {'fg/x':>6s} "
        f"{'first epoch s':>13s}",
    ]
    for k in names:
        st = res["ms_per_epoch"][k]
        r = res["ratio_fg_over"].get(k)
        lines.append(
            f"{k:>10s} {st['median']:>10.2f} [{st['min']:.2f}-{st['max']:.2f}]".ljust(40)
            + f"{res['ms_per_step'][k]:>8.3f} {'-' if r is None else f'{r:.2f}':>6s} "
            f"{res['first_epoch_s'][k]:>13.2f}"
        )
    ag = res["agreement"]
    lines.append(
        "same work: training loss at the start "
        + ", ".join(f"{k} {v:.6g}" for k, v in ag["start_loss"].items())
        + f"; after {ag['epochs']} epoch(s) "
        + ", ".join(f"{k} {v:.6g}" for k, v in ag["final_loss"].items())
        + (" (ok)" if ag["agree"] else " (VOID: they disagree)")
    )
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setting", choices=("both", "pinned", "unpinned"), default="both")
    ap.add_argument("--quick", action="store_true", help="fewer and shorter repetitions")
    ap.add_argument("--block", type=float, default=None, help="seconds per timed block")
    ap.add_argument("--reps", type=int, default=None, help="interleaved repetitions")
    ap.add_argument("--peers", type=str, default="numpy,torch,jax", help="peers to run")
    ap.add_argument("--n", type=int, default=None, help="use the first n images only")
    ap.add_argument("--agree-epochs", type=int, default=2, help="epochs of the same-work check")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    args.block = args.block or (0.2 if args.quick else 0.6)
    args.reps = args.reps or (3 if args.quick else 7)
    if args.child:
        res = child(args.setting, args)
        print(json.dumps(res))
        return res
    passed = [a for a in argv if a not in ("--setting", "both", "pinned", "unpinned")]
    settings = ("pinned", "unpinned") if args.setting == "both" else (args.setting,)
    t0 = time.perf_counter()
    results = {}
    for setting in settings:
        results[setting] = run_setting(setting, passed)
        print(report(results[setting]), flush=True)
    summary = {
        "benchmark": "mlp_digits",
        "command": " ".join(["python bench/mlp_digits.py", *argv]),
        "wall_s": round(time.perf_counter() - t0, 1),
        "void": any(r["void"] for r in results.values()),
        "settings": results,
    }
    print(f"\n(total {summary['wall_s']} s)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
