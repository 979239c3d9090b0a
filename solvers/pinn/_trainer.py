"""PINNTrainer: a jit-compiled Adam phase, then L-BFGS, on a Problem's loss."""

from __future__ import annotations

from typing import Sequence

import numpy as np

import fieldgrad as fg
from fieldgrad import nn
from fieldgrad.nn.train import History, ProgressBar
from fieldgrad.nn.train._callbacks import wants_step_logs

from ._postprocess import _param_dtype, predict
from ._problem import Problem
from ._sampling import RAR, term_seed, worst_points
from ._weighting import AdaptiveWeights, CausalWeighting, balance_weights

__all__ = ["PINNTrainer"]


class PINNTrainer:
    """Train a network (and the problem's coefficients) on a :class:`Problem`.

    The Adam phase runs one ``fg.jit``-compiled step (loss, gradient, update) per iteration;
    the L-BFGS phase minimises the same loss with ``nn.optim.lbfgs``. Every ``log_every``
    steps the total loss and each term (``"<term>_loss"``) are appended to :attr:`history`
    (an ``nn.History``; ``log_steps`` holds the step of each entry) and the callbacks'
    ``on_epoch_end`` runs (``nn.EarlyStopping(monitor="loss")``, ``nn.ModelCheckpoint``, ...).

    Args:
        problem: the problem.
        net: the network, a ``nn.Module`` mapping points ``(N, d)`` to ``(N, m)``.
        optimizer: the first-phase optimiser (default ``nn.optim.adam(1e-3)``).
        coefficients: initial PDE coefficients (default: the problem's ``parameters``); they
            are trained with the network.
        loss_weights: fixed weights by term name (over the problem's own).
        adaptive: :class:`AdaptiveWeights` for gradient-norm balancing (Adam phase).
        causal: :class:`CausalWeighting` for the PDE terms of an evolution problem.
        resample_every: draw new collocation points every this many Adam steps.
        rar: :class:`RAR` settings for residual-based adaptive refinement.
        callbacks: ``nn.Callback`` objects.
        trainable: which network tensors train (``nn.partition``'s ``where``).
        jit: compile the steps (default True).
        log_every: steps between history entries.
        verbose: show a progress bar (stderr).

    Example:
        >>> import numpy as np, fieldgrad as fg
        >>> from fieldgrad import nn
        >>> from fieldgrad.solvers.pinn import DirichletBC, PINNTrainer, Problem, geometry
        >>> prob = Problem(geometry.Interval(0.0, 1.0), lambda x, u: u.d("xx") + 2.0,
        ...                [DirichletBC()], num_domain=32, num_boundary=2, variables=("x",))
        >>> net = nn.MLP([1, 8, 1], key=fg.random.key(0), dtype="float64")
        >>> tr = PINNTrainer(prob, net, optimizer=nn.optim.adam(1e-2), verbose=False)
        >>> h = tr.train(adam_steps=20, lbfgs_steps=20, log_every=10)
        >>> h["loss"][-1] < h["loss"][0]
        True
    """

    def __init__(
        self,
        problem: Problem,
        net,
        *,
        optimizer=None,
        coefficients: dict | None = None,
        loss_weights: dict | None = None,
        adaptive: AdaptiveWeights | None = None,
        causal: CausalWeighting | None = None,
        resample_every: int | None = None,
        rar: RAR | None = None,
        callbacks: Sequence = (),
        trainable=None,
        jit: bool = True,
        log_every: int = 100,
        verbose: bool = True,
    ):
        if not isinstance(problem, Problem):
            raise TypeError(f"PINNTrainer: problem must be a Problem, got {type(problem).__name__}")
        if not callable(net):
            raise TypeError(f"PINNTrainer: net must be callable, got {type(net).__name__}")
        for name, v, cls in (
            ("adaptive", adaptive, AdaptiveWeights),
            ("causal", causal, CausalWeighting),
            ("rar", rar, RAR),
        ):
            if v is not None and not isinstance(v, cls):
                raise TypeError(f"PINNTrainer: {name} must be a {cls.__name__} or None")
        if resample_every is not None and int(resample_every) < 1:
            raise ValueError(f"PINNTrainer: resample_every must be >= 1, got {resample_every}")
        self.problem = problem
        self.optimizer = optimizer if optimizer is not None else nn.optim.adam(1e-3)
        self.dtype = _param_dtype(net) or fg.tensor(0.0).dtype
        self.trainable = trainable
        coeffs = (
            problem.coefficients(self.dtype)
            if coefficients is None
            else {k: fg.tensor(np.asarray(v), dtype=self.dtype) for k, v in coefficients.items()}
        )
        selected, self.rest = nn.partition(net, trainable)
        self.params = {"net": selected, "coefficients": coeffs}
        self.opt_state = self.optimizer.init(self.params)
        self.term_names = problem.term_names
        self.weights = problem.loss_weights()
        for k, v in (loss_weights or {}).items():
            if k not in self.weights:
                raise ValueError(f"loss_weights: unknown term {k!r}; terms are {self.term_names}")
            self.weights[k] = float(v)
        self.adaptive, self.causal, self.rar = adaptive, causal, rar
        self.causal_eps = None if causal is None else float(causal.eps)
        self.resample_every = resample_every
        self.callbacks = list(callbacks)
        self.jit = jit
        self.log_every = int(log_every)
        self.verbose = verbose
        self.history = History()
        self.log_steps: list = []
        self.global_step = 0
        self.rar_added = 0
        self.stop = False
        self.lbfgs_result = None
        self.points = problem.points(self.dtype)
        self._build()

    # ----- the model as the callbacks see it

    @property
    def net(self):
        """The current network."""
        return nn.combine(self.params["net"], self.rest)

    @net.setter
    def net(self, value) -> None:
        selected, self.rest = nn.partition(value, self.trainable)
        self.params = {**self.params, "net": selected}

    model = net

    @property
    def coefficients(self) -> dict:
        """The current PDE coefficients (tensors)."""
        return self.params["coefficients"]

    # ----- compiled functions

    def _build(self) -> None:
        problem = self.problem
        chunks = None if self.causal is None else int(self.causal.num_chunks)
        names = list(self.term_names)
        opt = self.optimizer

        def loss_fn(params, rest, points, hyper):
            net = nn.combine(params["net"], rest)
            causal = None if chunks is None else (chunks, hyper["causal_eps"])
            return problem.loss(net, params["coefficients"], points, hyper["weights"], causal)

        def step(params, rest, opt_state, points, hyper):
            grad_fn = fg.value_and_grad(loss_fn, has_aux=True)
            (loss, terms), grads = grad_fn(params, rest, points, hyper)
            params, opt_state = opt.update(grads, opt_state, params)
            return params, opt_state, loss, terms

        def grad_norms(params, rest, points, hyper):
            out = []
            for name in names:
                g = fg.grad(lambda p, n=name: loss_fn(p, rest, points, hyper)[1][n])(params)
                out.append(fg.sqrt(sum(fg.sum(v * v) for v in fg.tree_leaves(g))))
            return fg.stack(out)

        def residual_sq(params, rest, x):
            net = nn.combine(params["net"], rest)
            rs = problem.pde_residuals(net, x, params["coefficients"])
            return sum(r * r for r in rs)

        wrap = fg.jit if self.jit else (lambda f: f)
        self._loss_fn = loss_fn
        self._step = wrap(step)
        self._eval = wrap(loss_fn)
        self._grad_norms = wrap(grad_norms)
        self._residual_sq = wrap(residual_sq)

    def _hyper(self) -> dict:
        h = {"weights": {k: fg.tensor(v, dtype=self.dtype) for k, v in self.weights.items()}}
        if self.causal is not None:
            h["causal_eps"] = fg.tensor(self.causal_eps, dtype=self.dtype)
        return h

    # ----- training

    def train(
        self,
        adam_steps: int = 0,
        lbfgs_steps: int = 0,
        *,
        log_every: int | None = None,
        callbacks: Sequence = (),
        verbose: bool | None = None,
        lbfgs_options: dict | None = None,
    ) -> History:
        """Run ``adam_steps`` Adam steps, then up to ``lbfgs_steps`` L-BFGS iterations.

        Args:
            adam_steps: steps of the first phase.
            lbfgs_steps: the most L-BFGS iterations (``nn.optim.lbfgs``'s ``max_iter``).
            log_every: steps between history entries (default: the trainer's).
            callbacks: more callbacks for this call.
            verbose: override the progress bar setting.
            lbfgs_options: more keyword arguments of ``nn.optim.lbfgs``.

        Returns:
            The trainer's :attr:`history`.
        """
        if int(adam_steps) < 0 or int(lbfgs_steps) < 0:
            raise ValueError(f"train: step counts must be >= 0, got {adam_steps}, {lbfgs_steps}")
        self._cbs = self.callbacks + list(callbacks)
        self._every = int(log_every or self.log_every)
        verbose = self.verbose if verbose is None else verbose
        self._step_logs = wants_step_logs(self._cbs)
        self.stop = False
        for cb in self._cbs:
            cb.set_trainer(self)
            cb.on_train_begin({})
        if adam_steps:
            self._adam_phase(int(adam_steps), verbose)
        if lbfgs_steps and not self.stop:
            self._lbfgs_phase(int(lbfgs_steps), verbose, lbfgs_options or {})
        last = {k: v[-1] for k, v in self.history.history.items() if v}
        for cb in self._cbs:
            cb.on_train_end(last)
        return self.history

    def _adam_phase(self, steps: int, verbose: bool) -> None:
        bar = ProgressBar(steps, desc="adam", enabled=verbose)
        hyper, pending, loss = self._hyper(), [], None
        for k in range(steps):
            s = self.global_step
            if self.adaptive is not None and s % self.adaptive.every == 0:
                self.update_weights()
                hyper = self._hyper()
            if self.resample_every and s > 0 and s % self.resample_every == 0:
                self.problem.resample()
                self.points = self.problem.points(self.dtype)
            if self.rar is not None and s > 0 and s % self.rar.every == 0:
                self.refine()
            self.params, self.opt_state, loss, terms = self._step(
                self.params, self.rest, self.opt_state, self.points, hyper
            )
            self.global_step += 1
            pending.append(loss)
            if self._step_logs:
                for cb in self._cbs:
                    cb.on_step_end(s, {"loss": float(loss)})
            bar.update(1, logs=lambda loss=loss: {"loss": float(loss)})
            if (k + 1) % self._every == 0 or k == steps - 1 or self.stop:
                self._log(loss, terms, pending)
                pending = []
            if self.stop:
                break
        bar.close({"loss": float(loss)} if loss is not None else None)

    def _lbfgs_phase(self, steps: int, verbose: bool, options: dict) -> None:
        bar = ProgressBar(steps, desc="lbfgs", enabled=verbose)
        hyper, rest, points = self._hyper(), self.rest, self.points
        pending = []

        def fun(params):
            return self._loss_fn(params, rest, points, hyper)[0]

        def callback(iteration, params, loss):
            s = self.global_step
            self.global_step += 1
            pending.append(loss)
            if self._step_logs:
                for cb in self._cbs:
                    cb.on_step_end(s, {"loss": float(loss)})
            bar.update(1, logs=lambda: {"loss": loss})
            if iteration % self._every == 0:
                self.params = params
                total, terms = self._eval(params, rest, points, hyper)
                self._log(total, terms, pending)
                pending.clear()
            return self.stop

        res = nn.optim.lbfgs(
            fun, self.params, max_iter=steps, callback=callback, jit=self.jit, **options
        )
        self.params, self.lbfgs_result = res.params, res
        if pending or not self.log_steps or self.log_steps[-1] != self.global_step:
            total, terms = self._eval(self.params, rest, points, hyper)
            self._log(total, terms, pending)
        bar.close({"loss": res.loss})

    def _log(self, loss, terms: dict, pending: list) -> None:
        logs = {"loss": float(loss)}
        logs.update({f"{k}_loss": float(v) for k, v in terms.items()})
        if self.adaptive is not None:
            logs.update({f"{k}_weight": float(v) for k, v in self.weights.items()})
        epoch = len(self.history)
        self.history.append(epoch, logs, step_loss=[float(v) for v in pending])
        self.log_steps.append(self.global_step)
        for cb in self._cbs:
            cb.on_epoch_end(epoch, {**logs, "step": self.global_step})

    # ----- weighting and refinement

    def update_weights(self) -> dict:
        """One gradient-norm balancing update of the loss weights; returns the new weights."""
        norms = self._grad_norms(self.params, self.rest, self.points, self._hyper()).numpy()
        names = list(self.adaptive.terms or self.term_names)
        idx = [self.term_names.index(n) for n in names]
        old = [self.weights[n] for n in names]
        new = balance_weights(np.asarray(norms)[idx], old, self.adaptive.alpha)
        self.weights.update({n: float(v) for n, v in zip(names, new)})
        self.last_grad_norms = dict(zip(self.term_names, np.asarray(norms).tolist()))
        return dict(self.weights)

    def refine(self) -> np.ndarray:
        """Residual-based adaptive refinement: evaluate the PDE residual on fresh candidates and
        add the worst ``rar.num_add`` of them to the domain points; returns the added points."""
        rar = self.rar
        num = rar.num_add
        if rar.max_points is not None:
            num = min(num, rar.max_points - self.rar_added)
        if num <= 0:
            return np.zeros((0, len(self.problem.variables)))
        seed = term_seed(self.problem.seed, 100_000 + self.global_step)
        cand = self.problem.sample_domain(rar.num_candidates, seed)
        r2 = self._residual_sq(self.params, self.rest, fg.tensor(cand, dtype=self.dtype))
        worst = worst_points(cand, r2.numpy(), num)
        self.problem.add_anchors(worst)
        self.points = self.problem.points(self.dtype)
        self.rar_added += len(worst)
        return worst

    # ----- results and persistence

    def evaluate(self) -> dict:
        """The current total loss and terms on the current points (floats)."""
        total, terms = self._eval(self.params, self.rest, self.points, self._hyper())
        return {"loss": float(total), **{f"{k}_loss": float(v) for k, v in terms.items()}}

    def predict(self, x=None, *, grid=None) -> np.ndarray:
        """The trained solution on points or grid axes (see :func:`predict`)."""
        return predict(self.net, x, grid=grid, problem=self.problem)

    def save(self, path) -> str:
        """Save the network, coefficients, optimiser state, loss weights and step."""
        return nn.save_checkpoint(
            path,
            model=self.net,
            opt_state=self.opt_state,
            step=self.global_step,
            coefficients=self.coefficients,
            weights=dict(self.weights),
        )

    def load(self, path) -> None:
        """Restore what :meth:`save` wrote (the trainer must be built alike)."""
        d = nn.load_checkpoint(
            path,
            model=self.net,
            opt_state=self.opt_state,
            coefficients=self.coefficients,
            weights=dict(self.weights),
        )
        self.net = d["model"]
        self.params = {**self.params, "coefficients": d["coefficients"]}
        self.opt_state, self.global_step = d["opt_state"], int(d["step"])
        self.weights = dict(d["weights"])
