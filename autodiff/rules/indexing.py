"""Rules of the data-movement primitives behind indexing: slice, slice_update, gather,
scatter_add and scatter.

Every primitive here is linear in its data operands, and each VJP binds another primitive of
this file, so the set is closed under differentiation (every order works):

* ``slice`` -> ``slice_update`` of the cotangent into zeros; ``slice_update`` -> ``g`` with the
  view zeroed (a ``slice_update`` of zeros) for the operand, the ``slice`` of ``g`` for the update.
* ``gather`` -> ``scatter_add`` into zeros with the same params (duplicate indices accumulate);
  ``scatter_add`` -> ``g`` for the operand, the ``gather`` of ``g`` for the updates.
* ``scatter`` (set) -> ``g`` with the written positions zeroed (a ``scatter`` of zeros) for the
  operand, the ``gather`` of ``g`` for the updates. This assumes no duplicate indices: with
  duplicates only one update lands, but every duplicate receives the cotangent of that position.

Index operands are integers and get no cotangent (``None``).
"""

from __future__ import annotations

from fieldgrad import fields as F
from fieldgrad.fields import _ops_gather as G

from .._rules import register


def _zeros(x):
    return F.zeros(tuple(x.shape), dtype=x.dtype)


register(
    G.slice_p,
    jvp=lambda p, t, **kw: (G.slice_p.bind(p[0], **kw), G.slice_p.bind(t[0], **kw)),
    vjp=lambda g, ans, x, **kw: (G.slice_update_p.bind(_zeros(x), g, **kw),),
)
register(
    G.slice_update_p,
    jvp=lambda p, t, **kw: (
        G.slice_update_p.bind(p[0], p[1], **kw),
        G.slice_update_p.bind(t[0], t[1], **kw),
    ),
    vjp=lambda g, ans, x, v, **kw: (
        G.slice_update_p.bind(g, _zeros(v), **kw),
        G.slice_p.bind(g, **kw),
    ),
)
register(
    G.gather_p,
    jvp=lambda p, t, **kw: (G.gather_p.bind(p[0], p[1], **kw), G.gather_p.bind(t[0], p[1], **kw)),
    vjp=lambda g, ans, x, idx, **kw: (G.scatter_add_p.bind(_zeros(x), idx, g, **kw), None),
)
register(
    G.scatter_add_p,
    jvp=lambda p, t, **kw: (
        G.scatter_add_p.bind(p[0], p[1], p[2], **kw),
        G.scatter_add_p.bind(t[0], p[1], t[2], **kw),
    ),
    vjp=lambda g, ans, x, idx, u, **kw: (g, None, G.gather_p.bind(g, idx, **kw)),
)
register(
    G.scatter_p,
    jvp=lambda p, t, **kw: (
        G.scatter_p.bind(p[0], p[1], p[2], **kw),
        G.scatter_p.bind(t[0], p[1], t[2], **kw),
    ),
    vjp=lambda g, ans, x, idx, u, **kw: (
        G.scatter_p.bind(g, idx, _zeros(u), **kw),
        None,
        G.gather_p.bind(g, idx, **kw),
    ),
)
