"""Saving and loading pytrees (models, optimiser states, checkpoints) as portable ``.npz`` files.

A file holds one array per leaf, keyed by the leaf's dotted path (``"layers.0.weight"``,
``"opt_state.mu.layers.0.bias"``), and a JSON record of the tree: the path, shape, dtype and
kind of every leaf, the class name of every container and the fieldgrad version. numpy alone
reads it (``np.load(path)``). Loading needs a tree of the same structure (``like``): the
values replace ``like``'s leaves, and any difference in paths, shapes, dtypes or container
classes raises ``ValueError`` naming the path and both values, so a file never loads silently
into the wrong model.

Paths follow :func:`fieldgrad.tree_flatten`: dict keys (sorted), list and tuple indices,
namedtuple and dataclass field names (hyperparameter fields are static and not stored).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

import fieldgrad.fields as F
from fieldgrad.fields import Tensor, Tracer

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint"]

_RECORD = "__fieldgrad__"
_ROOT = "_root"
_FORMAT = 1


def _child_names(td) -> list[str]:
    """Path components of the children of a tree-structure node."""
    kind, n = td.kind, len(td.children)
    if kind is dict:
        return [str(k) for k in td.aux]
    if isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return list(kind._fields)
    aux = td.aux
    if dataclasses.is_dataclass(kind) and isinstance(aux, tuple) and len(aux) == 2:
        names = aux[0]  # a dataclass node's aux: (child field names, static fields)
        if isinstance(names, tuple) and len(names) == n and all(isinstance(s, str) for s in names):
            return list(names)
    return [str(i) for i in range(n)]


def _walk(td, prefix: str, leaves: list, containers: dict) -> None:
    if td.kind is None:
        leaves.append(prefix)
        return
    containers[prefix] = td.kind.__name__
    for name, child in zip(_child_names(td), td.children):
        _walk(child, f"{prefix}.{name}" if prefix else name, leaves, containers)


def _flatten(tree, fn: str):
    """(leaves, treedef, leaf paths, {container path: class name})."""
    leaves, td = F.tree_flatten(tree)
    paths: list[str] = []
    containers: dict[str, str] = {}
    _walk(td, "", paths, containers)
    paths = [p or _ROOT for p in paths]
    seen = set()
    for p in paths:
        if p in seen:
            raise ValueError(f"{fn}: two leaves share the path {p!r} (a dict key with a dot?)")
        seen.add(p)
    return leaves, td, paths, containers


def _leaf_record(x, path: str, fn: str) -> tuple[np.ndarray, dict]:
    if isinstance(x, Tracer):
        raise TypeError(f"{fn}: leaf {path!r} is a traced value; save concrete tensors")
    if isinstance(x, Tensor):
        arr, kind = x.numpy(), "tensor"
    elif isinstance(x, np.ndarray):
        arr, kind = x, "ndarray"
    elif isinstance(x, (bool, np.bool_)):
        arr, kind = np.asarray(x, dtype=bool), "bool"
    elif isinstance(x, (int, np.integer)):
        arr, kind = np.asarray(x, dtype=np.int64), "int"
    elif isinstance(x, (float, np.floating)):
        arr, kind = np.asarray(x, dtype=np.float64), "float"
    else:
        raise TypeError(
            f"{fn}: leaf {path!r} is a {type(x).__name__}; only tensors, numpy arrays and "
            "Python numbers can be saved"
        )
    if arr.dtype == object:
        raise TypeError(f"{fn}: leaf {path!r} is an object array; it cannot be saved portably")
    return arr, {"shape": list(arr.shape), "dtype": arr.dtype.name, "kind": kind}


def _npz_path(path) -> str:
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def save(path, tree) -> str:
    """Write ``tree`` (a model, an optimiser state, any pytree) to an ``.npz`` file.

    The file is written next to its final name and renamed into place, so an interrupted
    save never leaves a truncated file under ``path``.

    Args:
        path: the file name; ``.npz`` is appended when missing.
        tree: a pytree of tensors, numpy arrays and Python numbers.

    Returns:
        The path written.

    Raises:
        TypeError: a leaf is neither a tensor, an array nor a number.

    Example:
        >>> import os, tempfile
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> tree = {"w": fg.tensor([1.0, 2.0]), "step": 3}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = nn.save(os.path.join(d, "ckpt"), tree)
        ...     back = nn.load(p, {"w": fg.zeros(2), "step": 0})
        >>> back["w"].tolist(), back["step"]
        ([1.0, 2.0], 3)
    """
    import fieldgrad

    fn = "save"
    leaves, _, paths, containers = _flatten(tree, fn)
    arrays, records = {}, {}
    for p, x in zip(paths, leaves):
        if p == _RECORD:
            raise ValueError(f"{fn}: the path {_RECORD!r} is reserved")
        arrays[p], records[p] = _leaf_record(x, p, fn)
    record = {
        "format": _FORMAT,
        "fieldgrad": getattr(fieldgrad, "__version__", "unknown"),
        "leaves": records,
        "order": paths,
        "containers": containers,
    }
    arrays[_RECORD] = np.array(json.dumps(record))
    path = _npz_path(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _read(path, fn: str) -> tuple[dict, Any]:
    path = _npz_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{fn}: no file {path!r}")
    data = np.load(path, allow_pickle=False)
    if _RECORD not in data.files:
        raise ValueError(f"{fn}: {path!r} is not a fieldgrad file (no structure record)")
    return json.loads(str(data[_RECORD])), data


def _mismatch(fn: str, path: str, what: str, stored, expected) -> ValueError:
    return ValueError(f"{fn}: {what} of {path!r} differs: file has {stored}, `like` has {expected}")


def load(path, like, *, strict: bool = True):
    """Read a file written by :func:`save` into a tree of ``like``'s structure.

    Args:
        path: the file (``.npz`` appended when missing).
        like: a tree of the same structure (e.g. a freshly built model); its leaves give the
            expected shapes, dtypes and kinds, and are replaced by the stored values.
        strict: with False, stored leaves that ``like`` lacks are ignored (load a model out of
            a checkpoint that also holds an optimiser state).

    Returns:
        A tree like ``like`` holding the stored values (tensors as tensors, numpy arrays as
        arrays, Python numbers as numbers).

    Raises:
        ValueError: a path is missing or extra, or a shape, dtype or container class differs;
            the message names the path and both values.
        FileNotFoundError: no such file.

    Example:
        >>> import os, tempfile
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = nn.save(os.path.join(d, "w"), {"w": fg.ones(3)})
        ...     nn.load(p, {"w": fg.zeros(4)})
        Traceback (most recent call last):
        ...
        ValueError: load: shape of 'w' differs: file has (3,), `like` has (4,)
    """
    fn = "load"
    record, data = _read(path, fn)
    leaves, td, paths, containers = _flatten(like, fn)
    stored = record["leaves"]
    missing = [p for p in paths if p not in stored]
    if missing:
        raise ValueError(
            f"{fn}: the file lacks {len(missing)} path(s) that `like` has, e.g. {missing[:5]}; "
            f"the file has {list(stored)[:8]}"
        )
    extra = [p for p in stored if p not in set(paths)]
    if extra and strict:
        raise ValueError(
            f"{fn}: the file has {len(extra)} path(s) that `like` lacks, e.g. {extra[:5]} "
            "(pass strict=False to ignore them)"
        )
    for p, cls in containers.items():
        got = record["containers"].get(p)
        if got is not None and got != cls and (strict or cls != "NoneType"):
            raise _mismatch(fn, p or "<root>", "container class", got, cls)
    out = []
    for p, x in zip(paths, leaves):
        want_arr, want = _leaf_record(x, p, fn)
        have = stored[p]
        if have["shape"] != want["shape"]:
            raise _mismatch(fn, p, "shape", tuple(have["shape"]), tuple(want["shape"]))
        if have["dtype"] != want["dtype"]:
            raise _mismatch(fn, p, "dtype", have["dtype"], want["dtype"])
        arr = data[p]
        if want["kind"] == "tensor":
            out.append(F.tensor(arr, dtype=want_arr.dtype))
        elif want["kind"] == "ndarray":
            out.append(np.array(arr))
        else:
            out.append(type(x)(arr.item()))
    return F.tree_unflatten(td, out)


def save_checkpoint(path, *, model, opt_state=None, step: int = 0, **extra) -> str:
    """Save ``{"model": model, "opt_state": opt_state, "step": step, **extra}`` with :func:`save`.

    Returns:
        The path written.

    Example:
        >>> import os, tempfile
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> model = nn.Linear(2, 1, key=fg.random.key(0))
        >>> opt = nn.optim.adam(1e-3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = nn.save_checkpoint(os.path.join(d, "ck"), model=model,
        ...                            opt_state=opt.init(model), step=5)
        ...     ck = nn.load_checkpoint(p, model=model, opt_state=opt.init(model))
        >>> ck["step"], bool((ck["model"].weight.numpy() == model.weight.numpy()).all())
        (5, True)
    """
    return save(path, {"model": model, "opt_state": opt_state, "step": int(step), **extra})


def load_checkpoint(path, *, model, opt_state=None, strict: bool = True, **extra) -> dict:
    """Load a file written by :func:`save_checkpoint`, shaped like the given parts.

    Args:
        path: the file.
        model: a model of the saved structure.
        opt_state: an optimiser state of the saved structure (None: the file must hold none,
            or pass ``strict=False`` to load the model alone).
        strict: as in :func:`load`.
        **extra: templates of further entries saved with the checkpoint.

    Returns:
        ``{"model": ..., "opt_state": ..., "step": int, **extra}``.
    """
    like = {"model": model, "opt_state": opt_state, "step": 0, **extra}
    return load(path, like, strict=strict)
