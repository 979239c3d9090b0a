"""Module: an immutable dataclass whose tensor fields are parameters and which is a pytree.

A subclass declares its fields as class annotations, as a dataclass would, and may write its own
``__init__`` that assigns them. After ``__init__`` the instance is frozen: changes go through
:meth:`Module.replace` or :func:`fieldgrad.nn.replace`, which return a new module. Because a
module flattens as a pytree (tensors are leaves; a field holding no tensor and no Module, such as
``kernel_size=(3, 3)``, is static), every transform takes it directly::

    grads = fg.grad(loss)(model, x, y)      # grads is a model-shaped tree of tensors

Fields declared with :func:`buffer` hold tensors that are state, not parameters (running
statistics, fixed random features): they travel with the module through jit, save and load, but
:func:`partition` leaves them out of the trainable set.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any, Callable, Iterator

from fieldgrad.fields import Tensor, Tracer, register_pytree_node, tree_leaves

__all__ = [
    "Module",
    "field",
    "buffer",
    "static",
    "named_parameters",
    "parameters",
    "named_buffers",
    "count_parameters",
    "partition",
    "combine",
    "replace",
    "get",
    "train_mode",
    "eval_mode",
]


def field(**kwargs) -> Any:
    """A dataclass field of a Module (same arguments as :func:`dataclasses.field`)."""
    return dataclasses.field(**kwargs)


def buffer(**kwargs) -> Any:
    """A tensor field that is state, not a trainable parameter (``partition`` leaves it out)."""
    md = dict(kwargs.pop("metadata", {}) or {})
    md["trainable"] = False
    return dataclasses.field(metadata=md, **kwargs)


def static(**kwargs) -> Any:
    """A hyperparameter field: always static (part of the tree structure, never a leaf).

    Any field value that holds no tensor and no Module (an int, a tuple of ints, a function) is
    static anyway; ``static()`` also keeps a field static whatever it holds.
    """
    md = dict(kwargs.pop("metadata", {}) or {})
    md["static"] = True
    return dataclasses.field(metadata=md, **kwargs)


def _is_array(x) -> bool:
    return isinstance(x, (Tensor, Tracer))


class Module:
    """Base class of layers and models: an immutable, pytree-flattening dataclass.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> class Affine(nn.Module):
        ...     w: fg.Tensor
        ...     b: fg.Tensor
        ...     scale: float = 1.0
        ...     def __call__(self, x):
        ...         return self.scale * (x * self.w + self.b)
        >>> m = Affine(fg.tensor([2.0]), fg.tensor([1.0]))
        >>> float(fg.grad(lambda m: m(fg.tensor([3.0])).sum())(m).w.numpy()[0])
        3.0
        >>> m.replace(scale=2.0).scale
        2.0
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own_init = cls.__dict__.get("__init__")
        dataclasses.dataclass(cls, init=own_init is None, repr=False, eq=False)
        init = cls.__init__

        def __init__(self, *args, **kw):
            outer = self.__dict__.get("_fg_initializing", False)
            object.__setattr__(self, "_fg_initializing", True)
            try:
                init(self, *args, **kw)
            finally:
                if outer:
                    object.__setattr__(self, "_fg_initializing", True)
                else:
                    self.__dict__.pop("_fg_initializing", None)
            if not outer:
                _check_initialized(self)

        __init__.__wrapped__ = init
        __init__.__doc__ = init.__doc__
        cls.__init__ = __init__
        register_pytree_node(cls, _flatten_module, lambda aux, ch, c=cls: _unflatten(c, aux, ch))

    def __setattr__(self, name, value):
        if self.__dict__.get("_fg_initializing", False):
            object.__setattr__(self, name, value)
            return
        raise dataclasses.FrozenInstanceError(
            f"{type(self).__name__} is immutable: cannot set {name!r}; use "
            f"module.replace({name}=...) or nn.replace(model, 'path', value) for a new module"
        )

    def __delattr__(self, name):
        raise dataclasses.FrozenInstanceError(f"{type(self).__name__} is immutable")

    def replace(self, **changes) -> Module:
        """A copy with the given fields replaced (no ``__init__`` call)."""
        names = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise TypeError(
                f"{type(self).__name__}.replace: no field(s) {bad}; fields are {sorted(names)}"
            )
        obj = object.__new__(type(self))
        for f in dataclasses.fields(self):
            object.__setattr__(obj, f.name, changes.get(f.name, getattr(self, f.name)))
        return obj

    def train(self, mode: bool = True) -> Module:
        """A copy with every submodule's ``training`` flag set to ``mode`` (dropout, batch norm)."""
        return _set_training(self, mode)

    def eval(self) -> Module:
        """``self.train(False)``."""
        return _set_training(self, False)

    def __repr__(self) -> str:
        return _repr(self, 0)


def _holds_state(v) -> bool:
    """Whether a field value is a pytree child: a tensor, a Module, or a container holding one."""
    if _is_array(v) or isinstance(v, Module):
        return True
    if isinstance(v, (list, tuple)):
        return any(_holds_state(e) for e in v)
    if isinstance(v, dict):
        return any(_holds_state(e) for e in v.values())
    if v is None or isinstance(v, (str, bytes, int, float, complex)) or callable(v):
        return False
    return any(_is_array(leaf) for leaf in tree_leaves(v))


def _flatten_module(m: Module):
    # Hyperparameters (a `static()` field, or a value holding no tensor and no Module, such as
    # kernel_size=(3, 3)) go to the static part of the structure, never to the leaves.
    names, children, static_ = [], [], []
    for f in dataclasses.fields(m):
        v = m.__dict__.get(f.name)
        if not f.metadata.get("static", False) and _holds_state(v):
            names.append(f.name)
            children.append(v)
        else:
            static_.append((f.name, v))
    return children, (tuple(names), tuple(static_))


def _unflatten(cls, aux, children):
    names, static_ = aux
    obj = object.__new__(cls)
    for name, v in list(zip(names, children)) + list(static_):
        object.__setattr__(obj, name, v)
    return obj


def _check_initialized(m: Module) -> None:
    names = [f.name for f in dataclasses.fields(m)]
    missing = [n for n in names if n not in m.__dict__]
    if missing:
        raise TypeError(f"{type(m).__name__}.__init__ left field(s) {missing} unset")
    extra = [k for k in m.__dict__ if k not in names]
    if extra:
        raise TypeError(
            f"{type(m).__name__}.__init__ set attribute(s) {extra} that are not declared fields; "
            "declare each as a class annotation (e.g. `weight: fg.Tensor`)"
        )


def _repr(x, indent: int) -> str:
    pad = "  " * (indent + 1)
    if isinstance(x, Module):
        parts = []
        for f in dataclasses.fields(x):
            v = x.__dict__.get(f.name, "<unset>")
            parts.append(f"{pad}{f.name}={_repr(v, indent + 1)},")
        if not parts:
            return f"{type(x).__name__}()"
        return f"{type(x).__name__}(\n" + "\n".join(parts) + "\n" + "  " * indent + ")"
    if _is_array(x):
        return f"{x.dtype}{list(x.shape)}"
    if isinstance(x, (list, tuple)) and any(isinstance(v, Module) or _is_array(v) for v in x):
        open_, close = ("[", "]") if isinstance(x, list) else ("(", ")")
        inner = "\n".join(f"{pad}{_repr(v, indent + 1)}," for v in x)
        return f"{open_}\n{inner}\n" + "  " * indent + close
    if callable(x) and hasattr(x, "__name__"):
        return x.__name__
    return repr(x)


# --------------------------------------------------------------------------------------------
# Walking a model: (dotted path, leaf, trainable) in a stable order


def _children(x) -> Iterator[tuple[str, Any, bool]]:
    """(name, child, trainable) of a container; nothing for a leaf."""
    if isinstance(x, Module) or (dataclasses.is_dataclass(x) and not isinstance(x, type)):
        for f in dataclasses.fields(x):
            if f.name in x.__dict__:
                yield f.name, x.__dict__[f.name], f.metadata.get("trainable", True)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield str(i), v, True
    elif isinstance(x, dict):
        for k in sorted(x):
            yield str(k), x[k], True


def _walk(x, prefix: str = "", trainable: bool = True):
    if _is_array(x):
        yield prefix, x, trainable
        return
    for name, child, tr in _children(x):
        path = f"{prefix}.{name}" if prefix else name
        yield from _walk(child, path, trainable and tr)


def named_parameters(model) -> dict[str, Tensor]:
    """Trainable tensors by dotted path (``"layers.0.weight"``), in flattening order."""
    return {p: v for p, v, tr in _walk(model) if tr}


def parameters(model) -> list[Tensor]:
    """The trainable tensors of ``model``."""
    return list(named_parameters(model).values())


def named_buffers(model) -> dict[str, Tensor]:
    """Non-trainable tensors (declared with :func:`buffer`) by dotted path."""
    return {p: v for p, v, tr in _walk(model) if not tr}


def count_parameters(model) -> int:
    """The number of trainable scalars in ``model``."""
    return int(sum(int(v.size) for v in parameters(model)))


# --------------------------------------------------------------------------------------------
# Filtering: split a model into the part a transform differentiates and the rest


def _matches(path: str, patterns) -> bool:
    for pat in patterns:
        if path == pat or path.startswith(pat + ".") or fnmatch.fnmatchcase(path, pat):
            return True
    return False


def _selector(where, exclude) -> Callable[[str, Any, bool], bool]:
    if isinstance(exclude, str):
        exclude = (exclude,)
    exclude = tuple(exclude)
    if where is None:

        def base(p, v, tr):
            return tr
    elif callable(where):

        def base(p, v, tr):
            return bool(where(p, v))
    elif isinstance(where, (str, list, tuple)):
        pats = (where,) if isinstance(where, str) else tuple(where)

        def base(p, v, tr):
            return _matches(p, pats)
    else:
        raise TypeError(
            f"partition: `where` must be None, a callable (path, leaf) -> bool or path "
            f"pattern(s), got {type(where).__name__}"
        )
    return lambda p, v, tr: base(p, v, tr) and not _matches(p, exclude)


def _rebuild(x, fn, prefix: str = "", trainable: bool = True):
    """Copy of ``x`` with every tensor leaf replaced by ``fn(path, leaf, trainable)``."""
    if _is_array(x):
        return fn(prefix, x, trainable)
    if isinstance(x, Module) or (dataclasses.is_dataclass(x) and not isinstance(x, type)):
        obj = object.__new__(type(x))
        for name, child, tr in _children(x):
            path = f"{prefix}.{name}" if prefix else name
            object.__setattr__(obj, name, _rebuild(child, fn, path, trainable and tr))
        return obj
    if isinstance(x, (list, tuple)):
        vals = [
            _rebuild(v, fn, f"{prefix}.{i}" if prefix else str(i), trainable)
            for i, v in enumerate(x)
        ]
        if isinstance(x, list):
            return vals
        return type(x)(*vals) if hasattr(type(x), "_fields") else tuple(vals)
    if isinstance(x, dict):
        return {
            k: _rebuild(v, fn, f"{prefix}.{k}" if prefix else str(k), trainable)
            for k, v in x.items()
        }
    return x


def partition(model, where=None, *, exclude=()) -> tuple[Any, Any]:
    """Split ``model`` into ``(selected, rest)``, two trees of its shape with ``None`` holes.

    ``selected`` holds the tensors chosen by ``where`` (default: the trainable parameters, i.e.
    everything but buffers) minus those matching ``exclude``; ``rest`` holds the others.
    ``combine(selected, rest)`` gives the model back. Differentiate and optimise ``selected``
    only to freeze the rest.

    Args:
        model: a Module or any pytree.
        where: None, a callable ``(path, leaf) -> bool``, or dotted-path pattern(s) (a prefix
            such as ``"layers.0"`` or a glob such as ``"*.bias"``).
        exclude: path pattern(s) never selected (frozen).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> mlp = nn.MLP([2, 8, 8, 1], key=fg.random.key(0))
        >>> train, frozen = nn.partition(mlp, exclude="layers.0")
        >>> sorted(nn.named_parameters(train))
        ['layers.1.bias', 'layers.1.weight', 'layers.2.bias', 'layers.2.weight']
        >>> nn.combine(train, frozen).layers[0].weight is mlp.layers[0].weight
        True
    """
    sel = _selector(where, exclude)
    a = _rebuild(model, lambda p, v, tr: v if sel(p, v, tr) else None)
    b = _rebuild(model, lambda p, v, tr: None if sel(p, v, tr) else v)
    return a, b


def combine(*trees):
    """Merge trees of one shape with ``None`` holes (from :func:`partition`).

    Where several trees hold a value, the first wins.
    """
    if not trees:
        raise TypeError("combine: needs at least one tree")
    first = next((t for t in trees if t is not None), None)
    if first is None or _is_array(first):
        return first
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        obj = object.__new__(type(first))
        for f in dataclasses.fields(first):
            vals = [t.__dict__.get(f.name) if t is not None else None for t in trees]
            object.__setattr__(obj, f.name, combine(*vals))
        return obj
    if isinstance(first, (list, tuple)):
        n = len(first)
        for t in trees:
            if t is not None and len(t) != n:
                raise ValueError(f"combine: sequences of lengths {n} and {len(t)}")
        vals = [combine(*[t[i] if t is not None else None for t in trees]) for i in range(n)]
        if isinstance(first, list):
            return vals
        return type(first)(*vals) if hasattr(type(first), "_fields") else tuple(vals)
    if isinstance(first, dict):
        return {k: combine(*[t.get(k) if t is not None else None for t in trees]) for k in first}
    return first


# --------------------------------------------------------------------------------------------
# Functional replacement by path


def _split_path(path) -> list[str]:
    if isinstance(path, str):
        return [p for p in path.split(".") if p]
    return [str(p) for p in path]


def _get_child(x, name: str):
    if isinstance(x, (list, tuple)):
        try:
            return x[int(name)]
        except (ValueError, IndexError):
            raise KeyError(f"no item {name!r} in a sequence of length {len(x)}") from None
    if isinstance(x, dict):
        if name in x:
            return x[name]
        raise KeyError(f"no key {name!r}; keys are {sorted(map(str, x))}")
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        if name in {f.name for f in dataclasses.fields(x)}:
            return getattr(x, name)
        raise KeyError(
            f"{type(x).__name__} has no field {name!r}; fields are "
            f"{[f.name for f in dataclasses.fields(x)]}"
        )
    raise KeyError(f"cannot index {type(x).__name__} with {name!r}")


def get(model, path):
    """The part of ``model`` at dotted ``path`` (``"layers.1.weight"``)."""
    x = model
    for name in _split_path(path):
        x = _get_child(x, name)
    return x


def replace(model, path, value):
    """A copy of ``model`` with the part at dotted ``path`` replaced by ``value``.

    Args:
        model: a Module or pytree.
        path: ``"layers.1.weight"`` or a sequence of names/indices.
        value: the new part; a callable is applied to the old part.

    Raises:
        KeyError: the path does not exist (the message lists the valid names).
    """
    names = _split_path(path)
    if not names:
        return value(model) if callable(value) and not _is_array(value) else value

    def rec(x, i):
        name = names[i]
        old = _get_child(x, name)
        if i + 1 == len(names):
            new = value(old) if callable(value) and not isinstance(value, Module) else value
        else:
            new = rec(old, i + 1)
        if isinstance(x, Module):
            return x.replace(**{name: new})
        if dataclasses.is_dataclass(x):
            return dataclasses.replace(x, **{name: new})
        if isinstance(x, dict):
            return {**x, name: new}
        vals = list(x)
        vals[int(name)] = new
        if isinstance(x, list):
            return vals
        return type(x)(*vals) if hasattr(type(x), "_fields") else tuple(vals)

    return rec(model, 0)


def _set_training(x, mode: bool):
    if isinstance(x, Module):
        changes = {}
        for f in dataclasses.fields(x):
            v = x.__dict__.get(f.name)
            if f.name == "training" and isinstance(v, bool):
                changes[f.name] = mode
            elif isinstance(v, (Module, list, tuple, dict)):
                changes[f.name] = _set_training(v, mode)
        return x.replace(**changes) if changes else x
    if isinstance(x, list):
        return [_set_training(v, mode) for v in x]
    if isinstance(x, tuple) and not hasattr(type(x), "_fields"):
        return tuple(_set_training(v, mode) for v in x)
    if isinstance(x, dict):
        return {k: _set_training(v, mode) for k, v in x.items()}
    return x


def train_mode(model, mode: bool = True):
    """``model`` with dropout and batch norm in training mode (``mode=True``) or eval mode."""
    return _set_training(model, mode)


def eval_mode(model):
    """``model`` with dropout off and batch norm using its running statistics."""
    return _set_training(model, False)
