"""PINN: the Poisson equation on a square with two circular holes (a CSG geometry).

Equation::

    -laplace(u) = f   in  Omega = [-1, 1]^2 minus two disks,
    u = g             on the whole boundary (the square's edges and both circles),

with the manufactured solution ``u = sin(pi x) sin(pi y) + x y`` (so ``f = 2 pi^2 sin(pi x)
sin(pi y)``, and ``g = u`` is nonzero on every part of the boundary). The holes are the disks
of radius 0.3 about (-0.4, -0.3) and of radius 0.25 about (0.45, 0.4).

Recipe: the domain is ``Rectangle - Disk - Disk``; a tanh MLP 2-32-32-32-1 (Xavier normal
weights, zero biases) in float64; 2000 Sobol collocation points and 400 boundary points with
a soft :class:`~fieldgrad.solvers.pinn.DirichletBC` (the host function ``g`` evaluated at the
drawn points); 2000 Adam steps (learning rate 1e-3), then up to 1000 L-BFGS iterations.

Measured (2 shared CPU cores): relative L2 error 1.1e-3 over the grid points of a 201 x 201
grid inside the domain, in about 45 s (see docs/pinn.md, "Examples and results").

Run: ``python examples/pinn_poisson_disks.py`` (``--quick`` for a few-second run, ``--out`` for
the figure's path).
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

QUICK = dict(width=16, depth=2, num_domain=256, num_boundary=64, adam_steps=100, lbfgs_steps=50)
HOLES = (((-0.4, -0.3), 0.3), ((0.45, 0.4), 0.25))


def exact(x, y):
    """The manufactured solution ``sin(pi x) sin(pi y) + x y`` (numpy)."""
    return np.sin(np.pi * x) * np.sin(np.pi * y) + x * y


def exact_laplacian(x, y):
    return -2.0 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y)


SOLUTION = reference.poisson_manufactured(exact, exact_laplacian)


def pde(x, u):
    """The residual ``-(u_xx + u_yy) - f``."""
    f = 2.0 * math.pi**2 * fg.sin(math.pi * x.x) * fg.sin(math.pi * x.y)
    return -(u.d("xx") + u.d("yy")) - f


def domain():
    """The square minus the two disks."""
    geom = pinn.geometry.Rectangle([-1.0, -1.0], [1.0, 1.0])
    for center, radius in HOLES:
        geom = geom - pinn.geometry.Disk(center, radius)
    return geom


def build(*, width: int, depth: int, num_domain: int, num_boundary: int, seed: int, dtype: str):
    """The problem (domain, PDE, Dirichlet data on every boundary) and the network."""
    bc = pinn.DirichletBC(value=lambda p: SOLUTION.u(p[:, 0], p[:, 1]))
    problem = pinn.Problem(
        domain(),
        pde,
        [bc],
        num_domain=num_domain,
        num_boundary=num_boundary,
        variables=("x", "y"),
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
    num_boundary: int = 400,
    bc_weight: float = 10.0,
    adam_steps: int = 1000,
    lbfgs_steps: int = 2000,
    lr: float = 1e-3,
    seed: int = 0,
    dtype: str = "float64",
    out: str | None = None,
    verbose: bool = True,
) -> dict:
    """Train the PINN and compare it with the manufactured solution inside the domain.

    Args:
        width, depth: hidden layer width and count of the tanh MLP.
        num_domain, num_boundary: collocation and boundary points.
        bc_weight: the weight of the boundary loss (the PDE loss has weight 1).
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
        seed=seed,
        dtype=dtype,
    )
    clock = StepClock()
    with blas_threads(1):
        trainer = pinn.PINNTrainer(
            problem,
            net,
            optimizer=nn.optim.adam(lr),
            callbacks=[clock],
            loss_weights={"dirichlet": bc_weight},
            verbose=verbose,
        )
        initial_loss = trainer.evaluate()["loss"]
        trainer.train(adam_steps=adam_steps, log_every=max(adam_steps // 20, 1))
        done = len(clock.times)
        if lbfgs_steps:
            trainer.train(lbfgs_steps=lbfgs_steps, log_every=max(lbfgs_steps // 20, 1))
        axis = np.linspace(-1.0, 1.0, 201)
        gx, gy = np.meshgrid(axis, axis, indexing="ij")
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        inside = problem.geometry.inside(pts)
        pred = np.full(pts.shape[0], np.nan)
        pred[inside] = trainer.predict(pts[inside])
    ref = np.where(inside, SOLUTION.u(pts[:, 0], pts[:, 1]), np.nan)
    hist = trainer.history["loss"]
    metrics = {
        "rel_l2": pinn.relative_l2_error(pred[inside], ref[inside]),
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
        metrics["figure"] = figure(
            pred.reshape(gx.shape), ref.reshape(gx.shape), trainer, metrics["rel_l2"], out
        )
    if verbose:
        print(
            f"poisson_disks: relative L2 error {metrics['rel_l2']:.2e}, "
            f"wall time {metrics['wall_time_s']:.1f} s"
        )
    return metrics


def figure(pred, ref, trainer, err: float, path: str) -> str:
    """Prediction, exact solution and error heat maps (holes blank), and the loss curve."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(17, 3.8))
    FigureCanvasAgg(fig)
    for k, (name, z) in enumerate(
        [("PINN u", pred), ("exact u", ref), ("|error|", np.abs(pred - ref))]
    ):
        ax = fig.add_subplot(1, 4, k + 1)
        im = ax.imshow(
            z.T, origin="lower", extent=(-1, 1, -1, 1), cmap="magma" if k == 2 else "viridis"
        )
        fig.colorbar(im, ax=ax)
        ax.set(title=name, xlabel="x", ylabel="y")
    ax = fig.add_subplot(1, 4, 4)
    for key, v in trainer.history.history.items():
        if key.endswith("loss"):
            ax.semilogy(trainer.log_steps, v, label=key, lw=2 if key == "loss" else 1)
    ax.set(title="loss", xlabel="step")
    ax.legend()
    fig.suptitle(f"Poisson on a square with two holes: relative L2 error {err:.2e}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (a few seconds)")
    ap.add_argument("--out", default="pinn_poisson_disks.png", help="figure path (PNG)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    main(**(QUICK if args.quick else {}), seed=args.seed, out=args.out)
