"""After training: predictions on points or grids, errors, and pictures (matplotlib, Agg)."""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

import fieldgrad as fg

__all__ = ["predict", "relative_l2_error", "plot_solution", "plot_loss"]


def _param_dtype(net):
    for leaf in fg.tree_leaves(net):
        if isinstance(leaf, fg.Tensor) and leaf.dtype in (fg.float32, fg.float64):
            return leaf.dtype
    return None


def _is_grid(x) -> bool:
    return isinstance(x, tuple) and all(isinstance(a, np.ndarray) and a.ndim == 1 for a in x)


def predict(
    net: Callable, x=None, *, grid: Sequence | None = None, problem=None, batch_size: int = 65536
) -> np.ndarray:
    """Evaluate a network (with the problem's output transform) on points or a grid.

    Args:
        net: the trained network.
        x: points ``(N, d)`` (array or tensor), or a tuple of 1-D numpy arrays (grid axes).
        grid: grid axes ``[a_1, ..., a_d]`` (alternative to ``x``); the grid is
            ``meshgrid(..., indexing="ij")``.
        problem: a :class:`Problem` whose output transform and names apply.
        batch_size: points per network call.

    Returns:
        float64 array ``(N, m)`` for points, ``(n_1, ..., n_d, m)`` for a grid; the last axis
        is dropped when m = 1.

    Example:
        >>> import numpy as np
        >>> from fieldgrad.solvers.pinn import predict
        >>> predict(lambda z: z[:, :1] * z[:, 1:], grid=[np.array([1.0, 2.0]), np.array([3.0])])
        array([[3.],
               [6.]])
    """
    if grid is None and _is_grid(x):
        grid, x = x, None
    if (grid is None) == (x is None):
        raise ValueError("predict: give exactly one of points x (N, d) or grid axes")
    shape = None
    if grid is not None:
        axes = [np.asarray(a, dtype=np.float64).reshape(-1) for a in grid]
        mesh = np.meshgrid(*axes, indexing="ij")
        shape = mesh[0].shape
        x = np.stack([m.ravel() for m in mesh], axis=1)
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"predict: points must be (N, d), got shape {x.shape}")
    fn = problem.solution(net) if problem is not None else net
    dtype = _param_dtype(net)
    outs = []
    for i in range(0, len(x), int(batch_size)):
        y = fn(fg.tensor(x[i : i + int(batch_size)], dtype=dtype))
        y = np.asarray(y.numpy(), dtype=np.float64)
        outs.append(y.reshape(len(y), -1))
    y = np.concatenate(outs)
    if y.shape[1] == 1:
        y = y[:, 0]
    return y if shape is None else y.reshape(*shape, *y.shape[1:])


def relative_l2_error(pred, ref) -> float:
    """``||pred - ref||_2 / ||ref||_2`` over all entries.

    Raises:
        ValueError: different numbers of entries.

    Example:
        >>> from fieldgrad.solvers.pinn import relative_l2_error
        >>> relative_l2_error([3.0, 4.0], [3.0, 0.0])
        1.3333333333333333
    """
    p = np.asarray(pred.numpy() if hasattr(pred, "numpy") else pred, dtype=np.float64)
    r = np.asarray(ref.numpy() if hasattr(ref, "numpy") else ref, dtype=np.float64)
    if p.size != r.size or (p.shape != r.shape and np.squeeze(p).shape != np.squeeze(r).shape):
        raise ValueError(f"relative_l2_error: shapes {p.shape} and {r.shape} differ")
    p, r = p.ravel(), r.ravel()
    return float(np.linalg.norm(p - r) / np.linalg.norm(r))


def _figure(ncols: int, width: float = 4.4, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_solution(
    pred,
    ref=None,
    extent=None,
    path="solution.png",
    *,
    labels: Sequence[str] = ("x", "t"),
    title: str | None = None,
) -> str:
    """Heat maps of the prediction, the reference and the absolute error (PNG).

    Args:
        pred: 2-D array ``(n_1, n_2)`` on a grid: axis 0 is the horizontal coordinate.
        ref: the reference on the same grid (None: the prediction alone).
        extent: ``(a_1, b_1, a_2, b_2)``, the grid's ranges (default: index ranges).
        path: the file to write.
        labels: the names of the two coordinates.
        title: a title above the panels (the relative L2 error is added when ``ref`` is given).

    Returns:
        The path written.
    """
    pred = np.asarray(pred, dtype=np.float64)
    if pred.ndim != 2:
        raise ValueError(f"plot_solution: pred must be a 2-D grid, got shape {pred.shape}")
    panels = [("prediction", pred, "viridis")]
    if ref is not None:
        ref = np.asarray(ref, dtype=np.float64).reshape(pred.shape)
        panels += [("reference", ref, "viridis"), ("|error|", np.abs(pred - ref), "magma")]
        err = relative_l2_error(pred, ref)
        title = f"{title + ' - ' if title else ''}relative L2 error {err:.3e}"
    fig = _figure(len(panels))
    lo = min(float(np.min(p)) for _, p, c in panels[:2])
    hi = max(float(np.max(p)) for _, p, c in panels[:2])
    for k, (name, z, cmap) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        limits = {} if name == "|error|" else {"vmin": lo, "vmax": hi}
        im = ax.imshow(z.T, origin="lower", aspect="auto", extent=extent, cmap=cmap, **limits)
        fig.colorbar(im, ax=ax)
        ax.set_title(name)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_loss(
    history, path="loss.png", *, steps: Sequence[int] | None = None, title: str | None = None
) -> str:
    """The total loss and every term against the step (log scale), as a PNG.

    Args:
        history: a training ``History`` (or a dict name -> list of values); keys ending in
            ``loss`` are drawn.
        path: the file to write.
        steps: the step of each entry (default: the entry index; a PINNTrainer keeps them
            in ``trainer.log_steps``).
        title: the figure title.

    Returns:
        The path written.
    """
    logs = history.history if hasattr(history, "history") else dict(history)
    keys = [k for k in logs if k.endswith("loss")]
    if not keys:
        raise ValueError(f"plot_loss: no '*loss' entries among {sorted(logs)}")
    fig = _figure(1, 6.4, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    positive = True
    for k in keys:
        v = np.asarray(logs[k], dtype=np.float64)
        xs = np.arange(len(v)) if steps is None else np.asarray(steps)[: len(v)]
        ax.plot(xs, v, label=k, lw=2.0 if k == "loss" else 1.0)
        positive &= bool(np.all(v[np.isfinite(v)] > 0))
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("step" if steps is not None else "log entry")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)
