"""PINN: the viscous Burgers equation, the classic benchmark, against the exact Cole-Hopf solution.

Equation::

    u_t + u u_x = (0.01 / pi) u_xx,   x in [-1, 1],  t in [0, 0.99],
    u(0, x) = -sin(pi x),   u(t, -1) = u(t, 1) = 0.

A shock of width about 0.006 forms at x = 0 after t = 0.3. The error is measured on the
standard 256 x 100 grid of ``reference.burgers_reference()`` (Cole-Hopf by Gauss-Hermite
quadrature, accurate to 1e-14).

Recipe: the initial and boundary conditions hold exactly through the output transform
``u = -sin(pi x) + t (1 - x^2) N(x, t)``, so the loss is the mean squared PDE residual alone;
``N`` is a tanh MLP 2-20x8-1 (8 hidden layers of 20 units, Xavier normal weights, zero biases)
in float64 on 4000 Sobol collocation points; 1000 Adam steps (learning rate 1e-3), then 3000
L-BFGS iterations (strong Wolfe line search, 50 curvature pairs). BLAS runs on one thread (the
matmuls are small; on a busy machine two BLAS threads are several times slower).

Measured (2 shared CPU cores): relative L2 error 1.5e-3 (seed 0) and 1.8e-3 (seed 1), the
whole run including compilation in about 3 minutes (see docs/pinn.md, "Examples and results").
The published vanilla PINN (Raissi et al. 2019) reaches 6.7e-4 with 10,000 points and a
longer L-BFGS run.

Run: ``python examples/pinn_burgers.py`` (``--quick`` for a few-second run, ``--out`` for the
figure's path, default ``pinn_burgers.png``).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time

import numpy as np

import fieldgrad as fg
from fieldgrad import nn
from fieldgrad.solvers import pinn
from fieldgrad.solvers.pinn import reference

NU = 0.01 / math.pi
QUICK = dict(width=16, depth=2, num_domain=256, adam_steps=100, lbfgs_steps=150)


def pde(x, u):
    """The residual ``u_t + u u_x - nu u_xx``."""
    return u.d("t") + u * u.d("x") - NU * u.d("xx")


def hard_constraints(x, y):
    """``u = -sin(pi x) + t (1 - x^2) y``: the initial and boundary values hold exactly."""
    return -fg.sin(math.pi * x.x) + x.t * (1.0 - x.x * x.x) * y


class OddInX(nn.Module):
    """The odd part in x of a network: ``(N(x, t) - N(-x, t)) / 2``, from one batched call.

    Burgers' equation keeps the symmetry ``u(t, -x) = -u(t, x)`` of its initial state, so the
    solution is odd in x; with this wrapper the ansatz is odd too (the shock stays at x = 0).
    """

    net: nn.Module

    def __init__(self, net):
        self.net = net

    def __call__(self, z, *, key=None):
        n = z.shape[0]
        flip = fg.tensor([-1.0, 1.0], dtype=z.dtype)
        y = self.net(fg.concatenate([z, z * flip], axis=0))
        return 0.5 * (y[:n] - y[n:])


def build(
    *,
    width: int,
    depth: int,
    num_domain: int,
    sampler: str,
    seed: int,
    dtype: str,
    odd: bool = False,
):
    """The problem (residual only; conditions by the output transform) and the network
    (``odd``: wrapped in :class:`OddInX`)."""
    geom = pinn.geometry.Interval(-1.0, 1.0) * pinn.geometry.TimeDomain(0.0, 0.99)
    problem = pinn.Problem(
        geom,
        pde,
        [],
        num_domain=num_domain,
        output_transform=hard_constraints,
        sampler=sampler,
        seed=seed,
    )
    net = nn.MLP(
        [2] + [width] * depth + [1],
        "tanh",
        key=fg.random.key(seed),
        weight_init=nn.init.xavier_normal(),
        bias_init=nn.init.zeros,
        dtype=dtype,
    )
    return problem, (OddInX(net) if odd else net)


class StepClock(nn.Callback):
    """Records the wall time of every optimisation step (steps per second without compilation)."""

    def __init__(self):
        self.times: list = []

    def on_step_end(self, step, logs):
        self.times.append(time.perf_counter())

    def rate(self, start: int) -> float | None:
        """Steps per second from the second step recorded after ``start`` entries on."""
        t = self.times[start + 1 :]
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else None


def blas_threads(n: int):
    """Limit the BLAS thread pool (small matmuls run faster on one thread of a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def main(
    *,
    width: int = 20,
    depth: int = 8,
    num_domain: int = 4000,
    adam_steps: int = 1000,
    lbfgs_steps: int = 3000,
    lr: float = 1e-3,
    history_size: int = 50,
    sampler: str = "sobol",
    odd: bool = False,
    seed: int = 0,
    dtype: str = "float64",
    out: str | None = None,
    verbose: bool = True,
) -> dict:
    """Train the PINN and compare it with the Cole-Hopf reference.

    Args:
        width, depth: hidden layer width and count of the tanh MLP.
        num_domain: collocation points.
        adam_steps, lbfgs_steps: the two phases' step budgets.
        lr: Adam's learning rate.
        history_size: L-BFGS curvature pairs.
        sampler: how the collocation points are drawn ("sobol", "halton", "lhs", "pseudo").
        odd: build the odd symmetry of the solution into the ansatz (:class:`OddInX`).
        seed: seeds the weights and the points.
        dtype: "float64" or "float32".
        out: PNG path of the figure (None: no figure).
        verbose: show progress bars and print the result.

    Returns:
        Metrics: ``rel_l2``, ``wall_time_s`` (everything, compilation included),
        ``adam_steps``, ``lbfgs_steps`` (iterations done), ``initial_loss``, ``final_loss``,
        ``adam_steps_per_s``, ``lbfgs_steps_per_s`` (after the first, compiling step),
        ``lbfgs_evaluations``, ``num_parameters``, ``figure``.
    """
    t0 = time.perf_counter()
    problem, net = build(
        width=width,
        depth=depth,
        num_domain=num_domain,
        sampler=sampler,
        seed=seed,
        dtype=dtype,
        odd=odd,
    )
    x, t, u = reference.burgers_reference()
    clock = StepClock()
    with blas_threads(1):
        trainer = pinn.PINNTrainer(
            problem, net, optimizer=nn.optim.adam(lr), callbacks=[clock], verbose=verbose
        )
        initial_loss = trainer.evaluate()["loss"]
        trainer.train(adam_steps=adam_steps, log_every=max(adam_steps // 20, 1))
        done = len(clock.times)
        if lbfgs_steps:
            options = {"history_size": history_size, "tolerance_change": 1e-15}
            trainer.train(
                lbfgs_steps=lbfgs_steps, log_every=max(lbfgs_steps // 40, 1), lbfgs_options=options
            )
        pred = trainer.predict(grid=(x, t)).T  # [t, x], like the reference
    hist = trainer.history["loss"]
    res = trainer.lbfgs_result
    metrics = {
        "rel_l2": pinn.relative_l2_error(pred, u),
        "wall_time_s": time.perf_counter() - t0,
        "adam_steps": done,
        "lbfgs_steps": len(clock.times) - done,
        "initial_loss": initial_loss,
        "final_loss": hist[-1],
        "adam_steps_per_s": clock.rate(0),
        "lbfgs_steps_per_s": clock.rate(done),
        "lbfgs_evaluations": res.evaluations if res is not None else 0,
        "num_parameters": nn.count_parameters(net),
        "figure": None,
    }
    if out:
        metrics["figure"] = figure(pred, (x, t, u), trainer, done, metrics, out)
    if verbose:
        print(
            f"burgers: relative L2 error {metrics['rel_l2']:.2e} "
            f"(target 2e-3), wall time {metrics['wall_time_s']:.1f} s"
        )
    return metrics


def figure(pred, grid, trainer, switch: int, metrics: dict, path: str) -> str:
    """Prediction, reference and error heat maps (t across, x up), and the loss curve."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x, t, u = grid
    fig = Figure(figsize=(18, 3.8))
    FigureCanvasAgg(fig)
    ext = (t[0], t[-1], x[0], x[-1])
    lo, hi = float(u.min()), float(u.max())
    for k, (name, z) in enumerate(
        [("PINN u", pred), ("Cole-Hopf u", u), ("|error|", np.abs(pred - u))]
    ):
        ax = fig.add_subplot(1, 4, k + 1)
        limits = {"cmap": "magma"} if k == 2 else {"cmap": "RdBu_r", "vmin": lo, "vmax": hi}
        im = ax.imshow(z.T, origin="lower", aspect="auto", extent=ext, **limits)
        fig.colorbar(im, ax=ax)
        ax.set(title=name, xlabel="t", ylabel="x")
    ax = fig.add_subplot(1, 4, 4)
    ax.semilogy(trainer.log_steps, trainer.history["loss"], lw=2, label="PDE residual loss")
    ax.axvline(switch, color="gray", ls="--", lw=1, label="Adam -> L-BFGS")
    ax.set(title="loss", xlabel="step")
    ax.legend()
    fig.suptitle(
        f"Burgers: relative L2 error {metrics['rel_l2']:.2e}, {metrics['wall_time_s']:.0f} s"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (a few seconds)")
    ap.add_argument("--out", default="pinn_burgers.png", help="figure path (PNG)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adam-steps", type=int, default=None)
    ap.add_argument("--lbfgs-steps", type=int, default=None)
    args = ap.parse_args()
    settings = dict(QUICK) if args.quick else {}
    for name in ("adam_steps", "lbfgs_steps"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    main(**settings, seed=args.seed, out=args.out)
