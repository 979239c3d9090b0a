"""The whole Burgers PINN recipe of examples/pinn_burgers.py in fieldgrad and in PyTorch.

Both run the same training in one process: the network of the example (tanh MLP 2-20x8-1,
float64; with the example's ``odd`` option, its odd part ``(N(x, t) - N(-x, t)) / 2`` from one
batched call) with the same initial weights, the output transform ``u = -sin(pi x) + t (1 -
x^2) N(x, t)`` that makes the initial and boundary conditions exact, the same collocation points
(4000 Sobol points), the mean squared residual of ``u_t + u u_x - (0.01/pi) u_xx`` as the
loss, the same Adam steps (learning rate 1e-3) and the same L-BFGS budget (iterations, 50
curvature pairs, strong Wolfe line search, ``tolerance_change=1e-15``).

* ``fieldgrad``: ``examples/pinn_burgers.py``'s ``main`` as it is (``PINNTrainer``: a
  ``fg.jit``-compiled Adam step; ``nn.optim.lbfgs`` on the jit-compiled loss and gradient;
  derivatives by forward-mode Taylor operators); BLAS on one thread;
* ``torch``: PyTorch eager as its users write a PINN: ``u_t, u_x`` from one
  ``torch.autograd.grad(create_graph=True)`` call and ``u_xx`` from a second,
  ``torch.optim.Adam``, then ``torch.optim.LBFGS(line_search_fn="strong_wolfe")`` in one
  ``step(closure)``; ``torch.set_num_threads(--torch-threads)``.

Reported per implementation: steps per second of each phase (fieldgrad's after its first,
compiling step), total wall time (fieldgrad's includes compilation), L-BFGS iterations and
evaluations done, final loss and relative L2 error against the Cole-Hopf reference
(256 x 100 grid). Same work: the initial losses must agree to 1e-10 (relative). The two
L-BFGS implementations differ in details (initial step, stopping tests), so their
trajectories and final errors are comparable, not identical. torch is skipped (with a note)
when it is not installed.

Usage:
    python3 bench/pinn_burgers.py              # the full recipe (about 3 minutes each)
    python3 bench/pinn_burgers.py --quick      # the example's tiny settings
    python3 bench/pinn_burgers.py --adam-steps 200 --lbfgs-steps 200

The last line printed is one JSON object with every figure and the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time

from _harness import blas_info, cpu_model, loadavg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT_RTOL = 1e-10


def example():
    """The module examples/pinn_burgers.py (loaded by its path)."""
    mod = sys.modules.get("_example_pinn_burgers")
    if mod is None:
        path = os.path.join(ROOT, "examples", "pinn_burgers.py")
        spec = importlib.util.spec_from_file_location("_example_pinn_burgers", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["_example_pinn_burgers"] = mod
        spec.loader.exec_module(mod)
    return mod


def recipe(quick: bool = False, **overrides) -> dict:
    """The example's settings (its ``main`` defaults, or its ``QUICK`` ones) with overrides."""
    import inspect

    ex = example()
    sig = inspect.signature(ex.main).parameters
    out = {k: p.default for k, p in sig.items() if k not in ("out", "verbose")}
    if quick:
        out.update(ex.QUICK)
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out


def initial_state(settings: dict) -> dict:
    """The example's initial weights and collocation points as float64 numpy arrays.

    Returns:
        ``{"params": [(W, b), ...], "x": (N, 2)}``; ``W`` is ``(fan_in, fan_out)`` and the
        point columns are ``(x, t)``.
    """
    import numpy as np

    problem, net = example().build(
        width=settings["width"],
        depth=settings["depth"],
        num_domain=settings["num_domain"],
        sampler=settings["sampler"],
        seed=settings["seed"],
        dtype=settings["dtype"],
        odd=settings["odd"],
    )
    mlp = net.net if settings["odd"] else net
    params = [
        (np.array(layer.weight.numpy(), np.float64), np.array(layer.bias.numpy(), np.float64))
        for layer in mlp.layers
    ]
    return {"params": params, "x": np.array(problem.data["pde"]["x"], np.float64)}


def numpy_u(params, x, odd: bool = False):
    """The example's solution ``u(x, t)`` in numpy (for checks)."""
    import numpy as np

    def mlp(z):
        h = z
        for w, b in params[:-1]:
            h = np.tanh(h @ w + b)
        return (h @ params[-1][0] + params[-1][1])[:, 0]

    n = 0.5 * (mlp(x) - mlp(x * [-1.0, 1.0])) if odd else mlp(x)
    return -np.sin(math.pi * x[:, 0]) + x[:, 1] * (1.0 - x[:, 0] ** 2) * n


# --- fieldgrad -----------------------------------------------------------------------------------


def run_fieldgrad(settings: dict) -> dict:
    """The example's ``main`` (the recipe as users run it), plus its initial loss."""
    ex = example()
    m = ex.main(**settings, out=None, verbose=False)
    keys = (
        "rel_l2",
        "wall_time_s",
        "adam_steps",
        "lbfgs_steps",
        "lbfgs_evaluations",
        "initial_loss",
        "final_loss",
        "adam_steps_per_s",
        "lbfgs_steps_per_s",
    )
    return {k: m[k] for k in keys}


# --- torch ---------------------------------------------------------------------------------------


class TorchBurgers:
    """The recipe in PyTorch eager (float64): hard constraints, autograd derivatives."""

    def __init__(self, state: dict, nu: float, odd: bool):
        import torch

        self.torch, self.nu, self.odd = torch, nu, odd
        f64 = torch.float64
        self.params = [
            (
                torch.tensor(w, dtype=f64, requires_grad=True),
                torch.tensor(b, dtype=f64, requires_grad=True),
            )
            for w, b in state["params"]
        ]
        self.flat = [p for wb in self.params for p in wb]
        self.x = torch.tensor(state["x"], dtype=f64, requires_grad=True)

    def mlp(self, z):
        h = z
        for w, b in self.params[:-1]:
            h = self.torch.tanh(h @ w + b)
        w, b = self.params[-1]
        return h @ w + b

    def u(self, z):
        torch = self.torch
        if self.odd:  # one batched call on (x, t) and (-x, t), as fieldgrad's OddInX
            flip = torch.tensor([-1.0, 1.0], dtype=z.dtype)
            y = self.mlp(torch.cat([z, z * flip]))
            n = 0.5 * (y[: z.shape[0]] - y[z.shape[0] :])
        else:
            n = self.mlp(z)
        x, t = z[:, 0:1], z[:, 1:2]
        return -torch.sin(math.pi * x) + t * (1.0 - x * x) * n

    def loss(self):
        torch, x = self.torch, self.x
        u = self.u(x)
        du = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)[0]
        u_x, u_t = du[:, 0:1], du[:, 1:2]
        u_xx = torch.autograd.grad(u_x, x, torch.ones_like(u_x), create_graph=True)[0][:, 0:1]
        r = u_t + u * u_x - self.nu * u_xx
        return (r * r).mean()

    def predict(self, x):
        with self.torch.no_grad():
            return self.u(self.torch.tensor(x, dtype=self.torch.float64)).numpy()[:, 0]


def run_torch(settings: dict, state: dict, threads: int) -> dict:
    """Adam then L-BFGS in PyTorch from the example's initial state."""
    import numpy as np
    import torch

    from fieldgrad.solvers.pinn import reference, relative_l2_error

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    impl = TorchBurgers(state, example().NU, settings["odd"])
    initial = float(impl.loss().detach())
    opt = torch.optim.Adam(impl.flat, lr=settings["lr"])
    ta = time.perf_counter()
    for _ in range(settings["adam_steps"]):
        opt.zero_grad(set_to_none=True)
        impl.loss().backward()
        opt.step()
    adam_s = time.perf_counter() - ta
    lbfgs = torch.optim.LBFGS(
        impl.flat,
        lr=1.0,
        max_iter=settings["lbfgs_steps"],
        history_size=settings["history_size"],
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure():
        lbfgs.zero_grad(set_to_none=True)
        loss = impl.loss()
        loss.backward()
        return loss

    tl = time.perf_counter()
    if settings["lbfgs_steps"]:
        lbfgs.step(closure)
    lbfgs_s = time.perf_counter() - tl
    st = lbfgs.state[lbfgs._params[0]]
    iters, evals = int(st.get("n_iter", 0)), int(st.get("func_evals", 0))
    x, t, u = reference.burgers_reference()
    xx, tt = np.meshgrid(x, t)
    pred = impl.predict(np.stack([xx.ravel(), tt.ravel()], axis=1)).reshape(u.shape)
    return {
        "rel_l2": relative_l2_error(pred, u),
        "wall_time_s": time.perf_counter() - t0,
        "adam_steps": settings["adam_steps"],
        "lbfgs_steps": iters,
        "lbfgs_evaluations": evals,
        "initial_loss": initial,
        "final_loss": float(impl.loss().detach()),
        "adam_steps_per_s": settings["adam_steps"] / adam_s if adam_s > 0 else None,
        "lbfgs_steps_per_s": iters / lbfgs_s if iters else None,
        "threads": threads,
        "version": torch.__version__,
    }


# --- report --------------------------------------------------------------------------------------


def _ratio(a, b):
    return a / b if a and b else None


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def report(res: dict) -> str:
    rows = [("fieldgrad", res["fieldgrad"])]
    if res["torch"] is not None:
        rows.append(("torch", res["torch"]))
    lines = [
        f"Burgers PINN recipe: {res['settings']}",
        f"cpu: {res['environment']['cpu']}; load average {res['environment']['loadavg']}",
        f"{'impl':<10} {'adam it/s':>10} {'lbfgs it/s':>11} {'lbfgs it/evals':>15} "
        f"{'wall s':>8} {'final loss':>11} {'rel L2':>9}",
    ]
    for name, r in rows:
        lines.append(
            f"{name:<10} {_fmt(r['adam_steps_per_s'], '10.1f')} "
            f"{_fmt(r['lbfgs_steps_per_s'], '11.1f')} "
            f"{r['lbfgs_steps']:>7d}/{r['lbfgs_evaluations']:<7d} {r['wall_time_s']:8.1f} "
            f"{r['final_loss']:11.3e} {r['rel_l2']:9.2e}"
        )
    if res["torch"] is None:
        lines.append(f"torch: skipped ({res['torch_note']})")
    else:
        lines.append(f"ratios fieldgrad/torch: {res['ratios']}; same start: {res['same_start']}")
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the example's tiny settings")
    ap.add_argument("--adam-steps", type=int, default=None)
    ap.add_argument("--lbfgs-steps", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--odd", action="store_true", help="the example's odd-in-x ansatz")
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--no-torch", action="store_true", help="run fieldgrad only")
    args = ap.parse_args(argv)
    settings = recipe(
        args.quick,
        adam_steps=args.adam_steps,
        lbfgs_steps=args.lbfgs_steps,
        seed=args.seed,
        odd=args.odd or None,
    )
    t0 = time.perf_counter()
    env = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "loadavg": loadavg(),
        "python": sys.version.split()[0],
    }
    fgr = run_fieldgrad(settings)
    env["blas"] = blas_info()
    tr, note = None, None
    have_torch = importlib.util.find_spec("torch") is not None
    if args.no_torch or not have_torch:
        note = "--no-torch" if args.no_torch else "torch is not installed"
    else:
        tr = run_torch(settings, initial_state(settings), args.torch_threads)
    res = {
        "benchmark": "pinn_burgers",
        "command": "python3 bench/pinn_burgers.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": settings,
        "environment": {**env, "loadavg_end": loadavg()},
        "fieldgrad": fgr,
        "torch": tr,
        "torch_note": note,
        "same_start": None,
        "ratios": None,
        "wall_s": None,
    }
    if tr is not None:
        rel = abs(tr["initial_loss"] - fgr["initial_loss"]) / abs(fgr["initial_loss"])
        res["same_start"] = {"initial_loss_rel_diff": rel, "agree": rel <= INIT_RTOL}
        res["ratios"] = {
            "adam_steps_per_s": _ratio(fgr["adam_steps_per_s"], tr["adam_steps_per_s"]),
            "lbfgs_steps_per_s": _ratio(fgr["lbfgs_steps_per_s"], tr["lbfgs_steps_per_s"]),
            "wall_time_torch_over_fieldgrad": _ratio(tr["wall_time_s"], fgr["wall_time_s"]),
            "rel_l2_fieldgrad_over_torch": _ratio(fgr["rel_l2"], tr["rel_l2"]),
        }
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    print(report(res), flush=True)
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
