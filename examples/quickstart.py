"""Quickstart: tensors, elementwise math, reductions, matmul and a heat-equation run on a grid.

Run: ``python examples/quickstart.py`` (add ``--n 256 --steps 400`` for a bigger grid).

It diffuses a single Fourier mode u0 = sin(x) sin(2y) on a periodic 2-D grid with explicit
Euler steps of the finite-difference heat equation u_t = nu * laplacian(u), and checks the
result against the exact solution of the discrete scheme: each step multiplies the mode by
(1 + nu * dt * lam) with lam the eigenvalue of the 5-point laplacian. It also fits a least-
squares line with matmul and checks it against the known coefficients.
"""

from __future__ import annotations

import argparse
import math
import time

import fieldgrad as fg


def heat_mode(n: int = 64, steps: int = 100, nu: float = 0.1) -> dict:
    """Diffuse sin(x) sin(2y) on an n x n periodic grid; compare with the exact discrete decay."""
    h = 2 * math.pi / n
    dt = 0.2 * h * h / nu  # inside the explicit stability limit dt <= h^2 / (4 nu)
    x = fg.linspace(0.0, 2 * math.pi, n, endpoint=False, dtype="float64")
    X, Y = fg.meshgrid(x, x, indexing="ij")
    u0 = fg.sin(X) * fg.sin(2 * Y)
    u = u0
    for _ in range(steps):
        u = u + nu * dt * fg.fd_laplacian(u, spacing=h, boundary="periodic")
    # Eigenvalue of the 5-point laplacian for wave numbers (1, 2).
    lam = -(4 / h**2) * (math.sin(h / 2) ** 2 + math.sin(2 * h / 2) ** 2)
    exact = u0 * (1 + nu * dt * lam) ** steps
    err = float(fg.max(fg.abs(u - exact)) / fg.max(fg.abs(exact)))
    return {
        "heat_rel_error": err,
        "heat_decay": float(fg.max(fg.abs(u)) / fg.max(fg.abs(u0))),
        "mean_abs_drift": abs(float(fg.mean(u))),  # the mean of a pure mode stays 0
    }


def least_squares(n: int = 2000, seed: int = 0) -> dict:
    """Fit y = 2 - 3 t + 0.5 t^2 from noisy samples with the normal equations."""
    key_t, key_e = fg.random.split(fg.random.key(seed))
    t = fg.random.uniform(key_t, (n,), dtype="float64", minval=-1.0, maxval=1.0)
    y = 2.0 - 3.0 * t + 0.5 * t**2 + 0.01 * fg.random.normal(key_e, (n,), dtype="float64")
    A = fg.stack([fg.ones_like(t), t, t**2], axis=1)  # (n, 3)
    AtA = A.T @ A
    Aty = fg.einsum("ij,i->j", A, y)
    # Solve the 3x3 system by Cramer's rule with tensor ops (no host linear algebra).
    coef = _solve3(AtA, Aty)
    truth = fg.tensor([2.0, -3.0, 0.5], dtype="float64")
    return {"lsq_coef_error": float(fg.max(fg.abs(coef - truth)))}


def _det3(m):
    return (
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0])
    )


def _solve3(m, b):
    d = _det3(m)
    cols = []
    for k in range(3):
        mk = m.at[:, k].set(b)
        cols.append(_det3(mk) / d)
    return fg.stack(cols)


def main(n: int = 64, steps: int = 100, verbose: bool = True) -> dict:
    """Run the demo and return its metrics (errors should be near float64 round-off)."""
    t0 = time.perf_counter()
    metrics = {**heat_mode(n, steps), **least_squares()}
    metrics["wall_s"] = time.perf_counter() - t0
    if verbose:
        info = fg.device_info()
        print(f"fieldgrad on {info['arch']} (Taichi {info['taichi_version']})")
        for k, v in metrics.items():
            print(f"  {k:16s} {v:.3e}")
    return metrics


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    a = p.parse_args()
    main(a.n, a.steps)
