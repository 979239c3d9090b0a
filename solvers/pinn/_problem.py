"""Problem: geometry, PDE residual and conditions, with a pure (jit-able) loss."""

from __future__ import annotations

import operator
from typing import Callable, Sequence

import numpy as np

import fieldgrad as fg

from ._conditions import Condition, coefficient_kwargs
from ._field import Solution, _Recorder
from ._sampling import term_seed
from ._weighting import causal_loss

__all__ = ["Problem"]


class Problem:
    """A PINN problem: ``pde(x, u) = 0`` in the domain plus conditions.

    Args:
        geometry: the domain (a geometry; space-time with time last for evolution problems).
        pde: residual ``pde(x: Points, u: Field | Fields, **coefficients)`` returning a tensor
            ``(N,)`` or a list of them (a system); coefficients come as keyword arguments, or
            as one dict when ``pde`` has a parameter named ``params``.
        conditions: boundary, initial and data conditions.
        num_domain: collocation points drawn in the domain.
        num_boundary: points per boundary condition (unless it sets ``num_points``).
        num_initial: points per initial condition.
        variables: coordinate names, one per geometry dimension.
        outputs: network output names.
        output_transform: ``fn(x: Points, y) -> u`` for hard constraints.
        parameters: trainable PDE coefficients and their initial values (inverse problems).
        sampler: the geometry's sampling method ("pseudo", "lhs", "halton", "sobol", ...).
        seed: seed of the first draw.
        loss_weights: fixed weights, a dict by term name or a list in ``term_names`` order.
        time_variable: the time coordinate (for initial conditions and causal weighting).
        anchors: extra domain points ``(n, d)`` always included.

    Example:
        >>> import numpy as np, fieldgrad as fg
        >>> from fieldgrad.solvers.pinn import Problem, DirichletBC, geometry
        >>> prob = Problem(geometry.Interval(0.0, 1.0), lambda x, u: u.d("xx") + 2.0,
        ...                [DirichletBC(value=0.0)], num_domain=16, num_boundary=2,
        ...                variables=("x",))
        >>> net = lambda z: z[:, 0] * (1.0 - z[:, 0])          # the exact solution
        >>> total, terms = prob.loss(net, {}, prob.points())
        >>> prob.term_names, round(float(total), 9)
        (['pde', 'dirichlet'], 0.0)
    """

    def __init__(
        self,
        geometry,
        pde: Callable,
        conditions: Sequence[Condition] = (),
        *,
        num_domain: int,
        num_boundary: int = 0,
        num_initial: int = 0,
        variables: Sequence[str] = ("x", "t"),
        outputs: Sequence[str] = ("u",),
        output_transform: Callable | None = None,
        parameters: dict | None = None,
        sampler: str = "pseudo",
        seed: int = 0,
        loss_weights=None,
        time_variable: str = "t",
        anchors=None,
    ):
        if not callable(pde):
            raise TypeError(f"Problem: pde must be a function pde(x, u), got {type(pde).__name__}")
        variables = tuple(variables)
        if getattr(geometry, "dim", None) != len(variables):
            raise ValueError(
                f"Problem: the geometry has dimension {getattr(geometry, 'dim', None)} but "
                f"variables {variables} name {len(variables)} coordinates"
            )
        conditions = list(conditions)
        for c in conditions:
            if not isinstance(c, Condition):
                raise TypeError(f"Problem: conditions must be Conditions, got {type(c).__name__}")
        self.num_domain = operator.index(num_domain)
        if self.num_domain < 1:
            raise ValueError(f"Problem: num_domain must be >= 1, got {num_domain}")
        self.geometry = geometry
        self.pde = pde
        self.conditions = conditions
        self.counts = {
            "boundary": operator.index(num_boundary),
            "initial": operator.index(num_initial),
            "data": 0,
        }
        self.variables = variables
        self.outputs = tuple(outputs) if not isinstance(outputs, str) else (outputs,)
        self.output_transform = output_transform
        self.parameters = dict(parameters or {})
        self.sampler = sampler
        self.seed = int(seed)
        self.time_variable = time_variable
        self.condition_names = _unique([c.name for c in conditions])
        for c in conditions:
            c.variables = variables
        self.anchors = np.zeros((0, len(variables)))
        if anchors is not None:
            self.add_anchors(anchors)
        self._loss_weights = loss_weights
        self._num_pde = None
        self.data: dict = {}
        self.resample(self.seed)
        self.solution(lambda z: z)  # checks the names early

    # ----- points

    def resample(self, seed: int | None = None) -> dict:
        """Draw new collocation and condition points (host numpy arrays, also kept in
        ``self.data``); ``seed=None`` takes the seed after the last one used."""
        seed = self.seed + 1 if seed is None else int(seed)
        self.seed = seed
        x = self.geometry.sample_interior(self.num_domain, method=self.sampler, seed=seed)
        data = {"pde": {"x": np.concatenate([np.asarray(x, dtype=np.float64), self.anchors])}}
        for i, (c, name) in enumerate(zip(self.conditions, self.condition_names)):
            n = self.counts[c.count]
            data[name] = c.resample(self.geometry, n, self.sampler, term_seed(seed, i + 1))
        self.data = data
        return data

    def add_anchors(self, x) -> None:
        """Add fixed domain points (kept in every draw; RAR adds its points here)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.variables):
            raise ValueError(f"anchors must have shape (n, {len(self.variables)}), got {x.shape}")
        self.anchors = np.concatenate([self.anchors, x])
        if self.data:
            self.data["pde"]["x"] = np.concatenate([self.data["pde"]["x"], x])

    def points(self, dtype=None) -> dict:
        """The current points as tensors ``{term: {name: tensor}}`` (the loss's input), in
        ``dtype`` (default: fieldgrad's default float dtype; match the network's)."""
        dtype = fg.zeros(()).dtype if dtype is None else dtype
        return fg.tree_map(lambda a: fg.tensor(np.asarray(a), dtype=dtype), self.data)

    def sample_domain(self, n: int, seed: int) -> np.ndarray:
        """``n`` fresh domain points (RAR candidates)."""
        return np.asarray(self.geometry.sample_interior(n, method=self.sampler, seed=seed))

    # ----- terms, weights, coefficients

    @property
    def num_pde_terms(self) -> int:
        """How many residuals the PDE returns (found by one recording call)."""
        if self._num_pde is None:
            x = fg.tensor(self.data["pde"]["x"][:1])
            rec = _Recorder(1, x.dtype)
            sol = self.solution(lambda z: z)
            coeffs = {k: fg.tensor(v) for k, v in self.parameters.items()}
            kw = coefficient_kwargs(self.pde, coeffs)
            r = self.pde(sol.points(x), sol.fields(rec), **kw)
            self._num_pde = len(r) if isinstance(r, (list, tuple)) else 1
        return self._num_pde

    @property
    def term_names(self) -> list:
        """Loss term names: ``"pde"`` (``"pde0"``, ``"pde1"``, ... for a system), then the
        conditions' names."""
        k = self.num_pde_terms
        pde = ["pde"] if k == 1 else [f"pde{i}" for i in range(k)]
        return pde + list(self.condition_names)

    def loss_weights(self) -> dict:
        """The fixed weight of each term (1 unless given)."""
        names = self.term_names
        w = self._loss_weights
        if w is None:
            return {n: 1.0 for n in names}
        if isinstance(w, dict):
            bad = sorted(set(w) - set(names))
            if bad:
                raise ValueError(f"loss_weights: unknown terms {bad}; terms are {names}")
            return {n: float(w.get(n, 1.0)) for n in names}
        w = [float(v) for v in w]
        if len(w) != len(names):
            raise ValueError(f"loss_weights: {len(w)} weights for {len(names)} terms {names}")
        return dict(zip(names, w))

    def coefficients(self, dtype=None) -> dict:
        """The PDE coefficients' initial values as tensors (trainable in inverse problems)."""
        return {
            k: fg.tensor(np.asarray(v, dtype=np.float64), dtype=dtype)
            for k, v in self.parameters.items()
        }

    def solution(self, net: Callable) -> Solution:
        """The solution ``u = output_transform(x, net(x))`` with this problem's names."""
        return Solution(
            net, self.variables, self.outputs, self.output_transform, self.time_variable
        )

    def time_range(self) -> tuple:
        """``(t0, t1)`` of the time coordinate (from the geometry's bounding box)."""
        i = self.variables.index(self.time_variable)
        lo, hi = self.geometry.bbox
        return float(lo[i]), float(hi[i])

    # ----- residuals and loss (pure fieldgrad code)

    def pde_residuals(self, net: Callable, x, coefficients: dict | None = None) -> list:
        """The PDE residuals at arbitrary points ``(N, d)``: a list of tensors ``(N,)``."""
        sol = self.solution(net)
        r = sol.apply(self.pde, x, **coefficient_kwargs(self.pde, coefficients))
        rs = list(r) if isinstance(r, (list, tuple)) else [r]
        return [fg.reshape(fg.asarray(getattr(t, "value", t)), (-1,)) for t in rs]

    def loss(
        self, net: Callable, coefficients: dict | None, points: dict, weights=None, causal=None
    ):
        """The weighted loss and its terms.

        Args:
            net: the network (a callable on points ``(N, d)``).
            coefficients: the PDE coefficients (dict of tensors; may be empty).
            points: ``{term: {name: tensor}}`` as from :meth:`points`.
            weights: dict term -> weight (floats or 0-d tensors); default the fixed weights.
            causal: ``(num_chunks, eps)`` for causally weighted PDE terms, or None.

        Returns:
            ``(total, terms)``: a 0-d tensor and a dict term -> unweighted mean square.
        """
        weights = self.loss_weights() if weights is None else weights
        sol = self.solution(net)
        terms = {}
        x = points["pde"]["x"]
        rs = self.pde_residuals(net, x, coefficients)
        names = ["pde"] if len(rs) == 1 else [f"pde{i}" for i in range(len(rs))]
        for name, r in zip(names, rs):
            if causal is None:
                terms[name] = fg.mean(r * r)
            else:
                t = x[:, self.variables.index(self.time_variable)]
                terms[name], _ = causal_loss(r * r, t, causal[0], causal[1], *self.time_range())
        for c, name in zip(self.conditions, self.condition_names):
            r = c.residual(sol, points[name], coefficients)
            terms[name] = fg.mean(r * r)
        total = None
        for name, v in terms.items():
            w = weights.get(name, 1.0) if isinstance(weights, dict) else 1.0
            total = v * w if total is None else total + v * w
        return total, terms


def _unique(names: list) -> list:
    """Names made unique: repeated ones get suffixes ``_0``, ``_1``, ... ."""
    out, seen = [], {}
    for n in names:
        if names.count(n) > 1:
            k = seen.get(n, 0)
            seen[n] = k + 1
            n = f"{n}_{k}"
        if n == "pde" or n.startswith("pde"):
            n = f"bc_{n}"
        out.append(n)
    return out
