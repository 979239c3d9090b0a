"""The pure pieces of a training step: loss-output checks, gradient with aux values, the
parameter selection and the structure checks used by :class:`~fieldgrad.nn.Trainer`."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

import fieldgrad.fields as F
from fieldgrad.autodiff import value_and_grad

from .._module import Module, named_parameters, partition

__all__ = [
    "LossCall",
    "split_output",
    "value_and_grad_aux",
    "tree_leaves_checked",
    "accepts_key",
    "metric_table",
    "select_paths",
]


class LossCall(Module):
    """Calls ``fn(model, *batch, **kw)`` as a module, so :func:`apply` collects its state."""

    model: Any

    def __call__(self, fn, batch, kw):
        return fn(self.model, *batch, **kw)


def split_output(out, where: str) -> tuple:
    """``(loss, aux dict)`` from a loss function's result, checked."""
    aux = {}
    if isinstance(out, tuple):
        if len(out) != 2 or not isinstance(out[1], dict):
            raise TypeError(
                f"{where}: loss_fn must return a scalar loss or (loss, dict of scalars), got a "
                f"tuple of {len(out)} ({', '.join(type(o).__name__ for o in out)})"
            )
        out, aux = out
    if not hasattr(out, "shape") or int(np.prod(out.shape)) != 1:
        raise TypeError(
            f"{where}: loss_fn must return a scalar loss, got "
            f"{getattr(out, 'shape', type(out).__name__)}"
        )
    loss = F.reshape(out, ())
    if np.dtype(loss.dtype).kind != "f":
        raise TypeError(f"{where}: the loss must be float32/float64, got {loss.dtype}")
    checked = {}
    for k, v in aux.items():
        v = F.asarray(v)
        if int(np.prod(v.shape)) != 1:
            raise TypeError(f"{where}: aux value {k!r} must be a scalar, got shape {v.shape}")
        checked[str(k)] = F.reshape(v, ())
    return loss, checked


def value_and_grad_aux(f, params):
    """``loss, aux, grad`` of ``f(params) -> (loss, aux)``."""
    (loss, aux), grads = value_and_grad(f, has_aux=True)(params)
    return loss, aux, grads


def tree_leaves_checked(tree, treedef, what: str) -> list:
    """The leaves of ``tree``, whose structure must not have changed in the step."""
    leaves, got = F.tree_flatten(tree)
    if got != treedef:
        raise TypeError(
            f"Trainer: the {what} changed structure in a training step: {treedef} -> {got}"
        )
    return leaves


def accepts_key(fn) -> bool:
    try:
        return "key" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def metric_table(metrics) -> dict:
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        table = dict(metrics)
    elif callable(metrics):
        table = {getattr(metrics, "__name__", "metric"): metrics}
    else:
        table = {getattr(m, "__name__", f"metric{i}"): m for i, m in enumerate(metrics)}
    for name, m in table.items():
        if not callable(m):
            raise TypeError(f"Trainer: metric {name!r} is not callable ({type(m).__name__})")
    return table


def select_paths(model, filter) -> frozenset:
    """Dotted paths of the float parameters to train."""
    chosen = named_parameters(model if filter is None else partition(model, filter)[0])
    paths = frozenset(p for p, v in chosen.items() if np.dtype(v.dtype).kind == "f")
    if not paths:
        raise ValueError(
            "Trainer: no trainable float parameters selected "
            f"(filter={filter!r}; the model's parameters are {list(named_parameters(model))})"
        )
    return paths
