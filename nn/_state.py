"""State updates of stateful layers (batch-norm running statistics), kept functional.

A layer whose call should change its buffers (``BatchNorm`` in training mode) calls
:func:`record` with the new values. :func:`apply` runs a model inside a recorder and returns the
output together with a copy of the model whose recorded buffers are replaced, so the update
works under ``grad``, ``jit`` and ``vmap`` like any other value::

    y, model = nn.apply(model, x)            # model carries the new running statistics

Outside :func:`apply`, recorded updates are dropped (a plain ``model(x)`` never mutates).
"""

from __future__ import annotations

import dataclasses
import threading

from fieldgrad.autodiff import stop_gradient

from ._module import Module

__all__ = ["apply", "record"]

_local = threading.local()


def _stack() -> list:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def record(module: Module, **new_buffers) -> None:
    """Record new values for ``module``'s buffers; :func:`apply` puts them in its output model.

    The values are detached (``stop_gradient``): state is not differentiated through.
    """
    stack = _stack()
    if not stack:
        return
    names = {f.name for f in dataclasses.fields(module)}
    bad = sorted(set(new_buffers) - names)
    if bad:
        raise TypeError(f"record: {type(module).__name__} has no field(s) {bad}")
    stack[-1].setdefault(id(module), (module, {}))[1].update(
        {k: stop_gradient(v) for k, v in new_buffers.items()}
    )


def _substitute(x, updates: dict):
    if isinstance(x, Module):
        changes = {}
        if id(x) in updates:
            changes.update(updates[id(x)][1])
        for f in dataclasses.fields(x):
            if f.name in changes:
                continue
            v = x.__dict__.get(f.name)
            if isinstance(v, (Module, list, tuple, dict)):
                nv = _substitute(v, updates)
                if nv is not v:
                    changes[f.name] = nv
        return x.replace(**changes) if changes else x
    if isinstance(x, (list, tuple)):
        vals = [_substitute(v, updates) for v in x]
        if all(a is b for a, b in zip(vals, x)):
            return x
        if isinstance(x, list):
            return vals
        return type(x)(*vals) if hasattr(type(x), "_fields") else tuple(vals)
    if isinstance(x, dict):
        vals = {k: _substitute(v, updates) for k, v in x.items()}
        return x if all(vals[k] is x[k] for k in x) else vals
    return x


def apply(model, *args, **kwargs):
    """Call ``model(*args, **kwargs)``; return ``(output, model with updated state)``.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> bn = nn.BatchNorm(2, momentum=0.5)
        >>> x = fg.tensor([[0.0, 2.0], [2.0, 6.0]])
        >>> y, bn2 = nn.apply(bn, x)
        >>> bn2.running_mean.numpy().tolist()
        [0.5, 2.0]
    """
    stack = _stack()
    stack.append({})
    try:
        out = model(*args, **kwargs)
    finally:
        updates = stack.pop()
    return out, (_substitute(model, updates) if updates else model)
