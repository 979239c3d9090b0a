"""PINN inverse problem: recover the two coefficients of Burgers' equation from data.

Equation, with unknown ``lambda1`` and ``lambda2``::

    u_t + lambda1 u u_x - lambda2 u_xx = 0,   x in [-1, 1],  t in [0, 0.99],

observed at 2000 points drawn at random from the exact Cole-Hopf solution for ``lambda1 = 1``,
``lambda2 = 0.01 / pi`` (the grid of ``reference.burgers_reference()``), without noise. Neither
the initial nor the boundary condition is given: the data and the PDE residual are the loss.

Recipe (after Raissi, Perdikaris and Karniadakis 2019): a tanh MLP 2-20x8-1 (Xavier normal
weights, zero biases) in float64; the 2000 observations as a
:class:`~fieldgrad.solvers.pinn.PointSetBC`; 4000 Sobol collocation points for the residual;
trainable coefficients ``lambda1`` (started at 0) and ``log_lambda2`` (``lambda2 =
exp(log_lambda2)``, started at -6, so the viscosity stays positive and is learnt on a
relative scale), passed to the residual by name; 1000 Adam steps (learning rate 1e-3), then
up to 4000 L-BFGS iterations (50 curvature pairs).

Measured (2 shared CPU cores): lambda1 within 0.05% and lambda2 within 0.4% of the truth;
about 2.5 minutes (see docs/pinn.md, "Examples and results").

Run: ``python examples/pinn_burgers_inverse.py`` (``--quick`` for a few-second run, ``--out``
for the figure's path).
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

LAMBDA1, LAMBDA2 = 1.0, 0.01 / math.pi
QUICK = dict(width=16, depth=2, num_data=256, num_domain=256, adam_steps=100, lbfgs_steps=50)


def pde(x, u, lambda1, log_lambda2):
    """The residual ``u_t + lambda1 u u_x - exp(log_lambda2) u_xx``."""
    return u.d("t") + lambda1 * u.value * u.d("x") - fg.exp(log_lambda2) * u.d("xx")


def observations(num_data: int, seed: int):
    """``num_data`` distinct points ``(x, t)`` of the reference grid and the solution there."""
    x, t, u = reference.burgers_reference()
    xx, tt = np.meshgrid(x, t)  # [t, x], like u
    pts = np.stack([xx.ravel(), tt.ravel()], axis=1)
    idx = np.random.default_rng(seed).choice(len(pts), num_data, replace=False)
    return pts[idx], u.ravel()[idx], (x, t, u)


def build(*, width: int, depth: int, num_data: int, num_domain: int, seed: int, dtype: str):
    """The problem (data and residual, trainable coefficients), the network and the grid."""
    pts, values, grid = observations(num_data, seed)
    geom = pinn.geometry.Interval(-1.0, 1.0) * pinn.geometry.TimeDomain(0.0, 0.99)
    problem = pinn.Problem(
        geom,
        pde,
        [pinn.PointSetBC(pts, values)],
        num_domain=num_domain,
        parameters={"lambda1": 0.0, "log_lambda2": -6.0},
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
    return problem, net, grid


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
    num_data: int = 2000,
    num_domain: int = 4000,
    adam_steps: int = 1000,
    lbfgs_steps: int = 4000,
    lr: float = 1e-3,
    history_size: int = 50,
    seed: int = 0,
    dtype: str = "float64",
    out: str | None = None,
    verbose: bool = True,
) -> dict:
    """Fit the network and the coefficients to the observations and the PDE.

    Args:
        width, depth: hidden layer width and count of the tanh MLP.
        num_data: observed points.
        num_domain: collocation points of the residual.
        adam_steps, lbfgs_steps: the two phases' step budgets.
        lr: Adam's learning rate.
        history_size: L-BFGS curvature pairs.
        seed: seeds the weights, the observations and the collocation points.
        dtype: "float64" or "float32".
        out: PNG path of the figure (None: no figure).
        verbose: print progress and the result.

    Returns:
        Metrics: ``lambda1``, ``lambda2``, their relative errors ``lambda1_error`` and
        ``lambda2_error``, ``rel_l2`` (of ``u`` on the whole grid), ``wall_time_s``,
        ``adam_steps``, ``lbfgs_steps``, ``initial_loss``, ``final_loss``,
        ``adam_steps_per_s``, ``lbfgs_steps_per_s``, ``figure``.
    """
    t0 = time.perf_counter()
    problem, net, (x, t, u) = build(
        width=width, depth=depth, num_data=num_data, num_domain=num_domain, seed=seed, dtype=dtype
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
            options = {"history_size": history_size, "tolerance_change": 1e-15}
            trainer.train(
                lbfgs_steps=lbfgs_steps, log_every=max(lbfgs_steps // 40, 1), lbfgs_options=options
            )
        pred = trainer.predict(grid=(x, t)).T  # [t, x]
    lam1 = float(trainer.coefficients["lambda1"])
    lam2 = math.exp(float(trainer.coefficients["log_lambda2"]))
    hist = trainer.history["loss"]
    metrics = {
        "lambda1": lam1,
        "lambda2": lam2,
        "lambda1_error": abs(lam1 - LAMBDA1) / LAMBDA1,
        "lambda2_error": abs(lam2 - LAMBDA2) / LAMBDA2,
        "rel_l2": pinn.relative_l2_error(pred, u),
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
        metrics["figure"] = figure(pred, (x, t, u), problem, trainer, metrics, out)
    if verbose:
        print(
            f"burgers_inverse: lambda1 = {lam1:.5f} (error {metrics['lambda1_error']:.2%}), "
            f"lambda2 = {lam2:.6f} (error {metrics['lambda2_error']:.2%}), "
            f"wall time {metrics['wall_time_s']:.1f} s"
        )
    return metrics


def figure(pred, grid, problem, trainer, metrics: dict, path: str) -> str:
    """The fitted solution with the observation points, the error, and the loss curve."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x, t, u = grid
    fig = Figure(figsize=(15, 3.8))
    FigureCanvasAgg(fig)
    ext = (t[0], t[-1], x[0], x[-1])
    ax = fig.add_subplot(1, 3, 1)
    im = ax.imshow(
        pred.T, origin="lower", aspect="auto", extent=ext, cmap="RdBu_r", vmin=-1, vmax=1
    )
    data = problem.data["data"]["x"]
    ax.plot(data[:, 1], data[:, 0], "k.", ms=1, alpha=0.4)
    fig.colorbar(im, ax=ax)
    ax.set(title="PINN u and the observations", xlabel="t", ylabel="x")
    ax = fig.add_subplot(1, 3, 2)
    im = ax.imshow(np.abs(pred - u).T, origin="lower", aspect="auto", extent=ext, cmap="magma")
    fig.colorbar(im, ax=ax)
    ax.set(title="|error| against Cole-Hopf", xlabel="t", ylabel="x")
    ax = fig.add_subplot(1, 3, 3)
    for key, v in trainer.history.history.items():
        if key.endswith("loss"):
            ax.semilogy(trainer.log_steps, v, label=key, lw=2 if key == "loss" else 1)
    ax.set(title="loss", xlabel="step")
    ax.legend()
    fig.suptitle(
        f"lambda1 = {metrics['lambda1']:.5f} (true 1), lambda2 = "
        f"{metrics['lambda2']:.6f} (true {LAMBDA2:.6f})"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (a few seconds)")
    ap.add_argument("--out", default="pinn_burgers_inverse.png", help="figure path (PNG)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    main(**(QUICK if args.quick else {}), seed=args.seed, out=args.out)
