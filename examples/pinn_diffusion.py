"""PINN: forced diffusion in one space dimension, with soft initial and boundary conditions.

Equation (the diffusion test problem of DeepXDE)::

    u_t = u_xx - e^{-t} (sin(pi x) - pi^2 sin(pi x)),   x in [-1, 1],  t in [0, 1],
    u(0, x) = sin(pi x),   u(t, -1) = u(t, 1) = 0,

whose exact solution is ``u = e^{-t} sin(pi x)``.

Recipe: a tanh MLP 2-32-32-32-1 (Xavier normal weights, zero biases) in float64; 2000 Sobol
collocation points, 100 initial points (:class:`~fieldgrad.solvers.pinn.IC`) and 100 boundary
points (:class:`~fieldgrad.solvers.pinn.DirichletBC`) as soft constraints with unit weights;
2000 Adam steps (learning rate 1e-3), then up to 1000 L-BFGS iterations.

Measured (2 shared CPU cores): relative L2 error 2.6e-4 on a 201 x 101 grid, in about 45 s
(see docs/pinn.md, "Examples and results").

Run: ``python examples/pinn_diffusion.py`` (``--quick`` for a few-second run, ``--out`` for the
figure's path).
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

QUICK = dict(
    width=16,
    depth=2,
    num_domain=256,
    num_boundary=32,
    num_initial=32,
    adam_steps=100,
    lbfgs_steps=50,
)


def pde(x, u):
    """The residual ``u_t - u_xx - s(x, t)`` with the source of the exact solution."""
    s = fg.sin(math.pi * x.x)
    source = -fg.exp(-x.t) * (s - math.pi**2 * s)
    return u.d("t") - u.d("xx") - source


def build(
    *,
    width: int,
    depth: int,
    num_domain: int,
    num_boundary: int,
    num_initial: int,
    seed: int,
    dtype: str,
):
    """The problem (domain, PDE, soft IC and BCs) and the network."""
    geom = pinn.geometry.Interval(-1.0, 1.0) * pinn.geometry.TimeDomain(0.0, 1.0)
    conditions = [
        pinn.IC(lambda x: np.sin(np.pi * x[:, 0])),
        pinn.DirichletBC(value=0.0),
    ]
    problem = pinn.Problem(
        geom,
        pde,
        conditions,
        num_domain=num_domain,
        num_boundary=num_boundary,
        num_initial=num_initial,
        sampler="sobol",
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
    return problem, net


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
    width: int = 32,
    depth: int = 3,
    num_domain: int = 2000,
    num_boundary: int = 100,
    num_initial: int = 100,
    adam_steps: int = 2000,
    lbfgs_steps: int = 1000,
    lr: float = 1e-3,
    seed: int = 0,
    dtype: str = "float64",
    out: str | None = None,
    verbose: bool = True,
) -> dict:
    """Train the PINN and compare it with the exact solution.

    Args:
        width, depth: hidden layer width and count of the tanh MLP.
        num_domain, num_boundary, num_initial: collocation, boundary and initial points.
        adam_steps, lbfgs_steps: the two phases' step budgets.
        lr: Adam's learning rate.
        seed: seeds the weights and the points.
        dtype: "float64" or "float32".
        out: PNG path of the figure (None: no figure).
        verbose: print progress and the result.

    Returns:
        Metrics: ``rel_l2``, ``wall_time_s``, ``adam_steps``, ``lbfgs_steps``, ``initial_loss``,
        ``final_loss``, ``adam_steps_per_s``, ``lbfgs_steps_per_s``, ``figure``.
    """
    t0 = time.perf_counter()
    problem, net = build(
        width=width,
        depth=depth,
        num_domain=num_domain,
        num_boundary=num_boundary,
        num_initial=num_initial,
        seed=seed,
        dtype=dtype,
    )
    clock = StepClock()
    with blas_threads(1):
        trainer = pinn.PINNTrainer(
            problem, net, optimizer=nn.optim.adam(lr), callbacks=[clock], verbose=verbose
        )
        initial_loss = trainer.evaluate()["loss"]
        trainer.train(adam_steps=adam_steps, log_every=max(adam_steps // 20, 1))
        done = len(clock.times)
        if lbfgs_steps:
            trainer.train(lbfgs_steps=lbfgs_steps, log_every=max(lbfgs_steps // 20, 1))
        x, t = np.linspace(-1.0, 1.0, 201), np.linspace(0.0, 1.0, 101)
        pred = trainer.predict(grid=(x, t))  # (x, t)
    exact = reference.diffusion_exact(x[:, None], t[None, :])
    hist = trainer.history["loss"]
    metrics = {
        "rel_l2": pinn.relative_l2_error(pred, exact),
        "wall_time_s": time.perf_counter() - t0,
        "adam_steps": done,
        "lbfgs_steps": len(clock.times) - done,
        "initial_loss": initial_loss,
        "final_loss": hist[-1],
        "adam_steps_per_s": clock.rate(0),
        "lbfgs_steps_per_s": clock.rate(done),
        "figure": None,
    }
    if out:
        metrics["figure"] = figure(pred, exact, (x, t), trainer, out)
    if verbose:
        print(
            f"diffusion: relative L2 error {metrics['rel_l2']:.2e}, "
            f"wall time {metrics['wall_time_s']:.1f} s"
        )
    return metrics


def figure(pred, exact, grid, trainer, path: str) -> str:
    """Prediction, exact solution and error heat maps, and the loss curve, in one PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(17, 3.6))
    FigureCanvasAgg(fig)
    x, t = grid
    ext = (t[0], t[-1], x[0], x[-1])
    for k, (name, z) in enumerate(
        [("PINN u", pred), ("exact u", exact), ("|error|", np.abs(pred - exact))]
    ):
        ax = fig.add_subplot(1, 4, k + 1)
        im = ax.imshow(
            z, origin="lower", aspect="auto", extent=ext, cmap="magma" if k == 2 else "viridis"
        )
        fig.colorbar(im, ax=ax)
        ax.set(title=name, xlabel="t", ylabel="x")
    ax = fig.add_subplot(1, 4, 4)
    for key, v in trainer.history.history.items():
        if key.endswith("loss"):
            ax.semilogy(trainer.log_steps, v, label=key, lw=2 if key == "loss" else 1)
    ax.set(title="loss", xlabel="step")
    ax.legend()
    fig.suptitle(f"diffusion: relative L2 error {pinn.relative_l2_error(pred, exact):.2e}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (a few seconds)")
    ap.add_argument("--out", default="pinn_diffusion.png", help="figure path (PNG)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    main(**(QUICK if args.quick else {}), seed=args.seed, out=args.out)
