"""Trainer: mini-batch training with one jit-compiled step, validation, callbacks and history.

The training step is a pure function ``(params, rest, opt_state, key, batch) -> (params,
rest, opt_state, key, loss, aux)`` compiled once per batch shape with ``fg.jit``: the model is
split by :func:`~fieldgrad.nn.partition` into the trained parameters and the rest (frozen
parameters and buffers), the loss is differentiated with respect to the parameters only, the
optimiser updates them, and state recorded by stateful layers (batch-norm running statistics,
through :func:`~fieldgrad.nn.apply`) comes back in ``rest``. Between steps the trainer keeps
the three trees flattened (leaf lists and their structures), so a step call flattens no model;
``trainer.model`` and ``trainer.opt_state`` are rebuilt when read.
"""

from __future__ import annotations

from typing import Callable, Optional

import fieldgrad.fields as F

from .._module import combine, eval_mode, partition, train_mode
from .._state import apply
from ..data import DataLoader
from ._callbacks import Callback, wants_step_logs
from ._history import EpochMeans, History
from ._progress import ProgressBar
from ._step import (
    LossCall,
    accepts_key,
    metric_table,
    select_paths,
    split_output,
    tree_leaves_checked,
    value_and_grad_aux,
)

__all__ = ["Trainer", "fit"]

DEFAULT_BATCH = 32
EVAL_BATCH = 1024


class Trainer:
    """Train a model with an optimiser on a loss; validate, checkpoint and log along the way.

    Args:
        model: an :class:`~fieldgrad.nn.Module` (or any pytree of tensors).
        optimizer: an optimiser (``nn.optim.adam(1e-3)``): ``init(params)`` and
            ``update(grads, state, params)``.
        loss_fn: ``loss_fn(model, *batch)`` returning a scalar loss or ``(loss, aux)`` with
            ``aux`` a dict of scalars (logged as epoch means, e.g. a training accuracy). If it
            has a ``key`` parameter it gets a fresh random key tensor every step (dropout) and
            ``key=None`` during evaluation.
        metrics: functions ``metric(model(x), *targets) -> scalar`` for a batch ``(x,
            *targets)`` (e.g. ``nn.metrics.accuracy``), as a dict name -> function or a list;
            computed by :meth:`evaluate` and on the validation data.
        callbacks: :class:`Callback` objects used by every :meth:`fit`.
        jit: compile the training, evaluation and prediction steps (False: run eagerly).
        filter: which parameters to train: None (all; buffers never are), a callable
            ``(path, leaf) -> bool`` or dotted-path pattern(s) as in ``nn.partition``. The
            others stay frozen.
        seed: seed of the shuffling and of the per-step keys.

    Attributes:
        model: the current model (assign to replace it). ``params``: its trained part (a tree
            of the model's shape with ``None`` holes). ``opt_state``: the optimiser state.
        global_step, epoch: steps and epochs done. ``history``: the last fit's History.
        stop: set True (by a callback) to end training after the current step.

    Example:
        >>> import numpy as np
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> x = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
        >>> y = 3 * x + 1
        >>> model = nn.Linear(1, 1, key=fg.random.key(0))
        >>> def loss_fn(m, xb, yb):
        ...     return nn.losses.mse(m(xb), yb)
        >>> trainer = nn.Trainer(model, nn.optim.adam(0.1), loss_fn)
        >>> history = trainer.fit((x, y), epochs=30, batch_size=16, verbose=False)
        >>> history["loss"][-1] < 1e-3, round(float(trainer.model.bias.numpy()[0]), 1)
        (True, 1.0)
    """

    def __init__(
        self,
        model,
        optimizer,
        loss_fn: Callable,
        *,
        metrics=None,
        callbacks=(),
        jit: bool = True,
        filter=None,
        seed: int = 0,
    ):
        if not callable(loss_fn):
            raise TypeError(f"Trainer: loss_fn must be callable, got {type(loss_fn).__name__}")
        if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
            raise TypeError(
                "Trainer: optimizer must have init(params) and update(grads, state, params) "
                f"(e.g. nn.optim.adam(1e-3)), got {type(optimizer).__name__}"
            )
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback objects, got {cb!r}")
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = metric_table(metrics)
        self.callbacks = list(callbacks)
        self.seed = int(seed)
        self.filter = filter
        paths = select_paths(model, filter)
        self._where = lambda p, v: p in paths
        self.model = model
        self.opt_state = optimizer.init(self.params)
        self.global_step = 0
        self.epoch = 0
        self.stop = False
        self.history: Optional[History] = None
        self._uses_key = accepts_key(loss_fn)
        self._key = F.random.key_data(F.random.key(self.seed)) if self._uses_key else None
        wrap = F.jit if jit else (lambda f: f)
        self._train_step = F.jit(self._step, static_argnums=0) if jit else self._step
        self._eval_step = wrap(self._evaluate_batch)
        self._predict_step = wrap(lambda model, x: model(x))

    # --- the model, split into trained parameters and the rest ------------------------------

    @property
    def model(self):
        if self._model is None:
            self._model = combine(self.params, F.tree_unflatten(self._r_def, self._r_leaves))
        return self._model

    @model.setter
    def model(self, model) -> None:
        params, rest = partition(model, self._where)
        self._p_leaves, self._p_def = F.tree_flatten(params)
        self._r_leaves, self._r_def = F.tree_flatten(rest)
        self._model, self._params = model, params

    @property
    def params(self):
        """The trained parameters: a tree of the model's shape with ``None`` holes."""
        if self._params is None:
            self._params = F.tree_unflatten(self._p_def, self._p_leaves)
        return self._params

    @property
    def opt_state(self):
        if self._opt_state is None:
            self._opt_state = F.tree_unflatten(self._o_def, self._o_leaves)
        return self._opt_state

    @opt_state.setter
    def opt_state(self, state) -> None:
        self._o_leaves, self._o_def = F.tree_flatten(state)
        self._opt_state = state

    # --- pure step functions (compiled) --------------------------------------------------------

    def _step(self, defs, p_leaves, r_leaves, o_leaves, key, batch):
        p_def, r_def, o_def = defs
        params = F.tree_unflatten(p_def, p_leaves)
        rest = F.tree_unflatten(r_def, r_leaves)
        opt_state = F.tree_unflatten(o_def, o_leaves)
        kw = {}
        if key is not None:
            key, sub = F.random.split(key)
            kw = {"key": sub}

        def loss_of(p):
            out, call = apply(LossCall(combine(p, rest)), self.loss_fn, batch, kw)
            loss, aux = split_output(out, "Trainer")
            return loss, (aux, partition(call.model, self._where)[1])

        loss, (aux, rest), grads = value_and_grad_aux(loss_of, params)
        params, opt_state = self.optimizer.update(grads, opt_state, params)
        return (
            tree_leaves_checked(params, p_def, "trained parameters"),
            tree_leaves_checked(rest, r_def, "model state"),
            tree_leaves_checked(opt_state, o_def, "optimiser state"),
            key,
            loss,
            aux,
        )

    def _evaluate_batch(self, model, batch):
        kw = {"key": None} if self._uses_key else {}
        loss, aux = split_output(self.loss_fn(model, *batch, **kw), "Trainer.evaluate")
        values = {"loss": loss, **aux}
        if self.metrics:
            pred = model(batch[0])
            for name, m in self.metrics.items():
                values[name] = F.reshape(F.asarray(m(pred, *batch[1:])), ())
        return values

    # --- data ----------------------------------------------------------------------------------

    def _loader(self, data, batch_size, shuffle: bool, default: int) -> DataLoader:
        if isinstance(data, DataLoader):
            if batch_size is not None and batch_size != data.batch_size:
                raise ValueError(
                    f"Trainer: batch_size={batch_size} conflicts with the DataLoader's "
                    f"batch_size={data.batch_size}; give one of them"
                )
            loader = data
        else:
            size = default if batch_size is None else batch_size
            loader = DataLoader(data, size, shuffle=shuffle, seed=self.seed)
        if len(loader) == 0:
            raise ValueError(
                f"Trainer: the data give no batch ({loader.num_examples} examples, batch_size "
                f"{loader.batch_size}, drop_last={loader.drop_last})"
            )
        return loader

    # --- training ------------------------------------------------------------------------------

    def _train_batch(self, batch) -> tuple:
        defs = (self._p_def, self._r_def, self._o_def)
        out = self._train_step(
            defs, self._p_leaves, self._r_leaves, self._o_leaves, self._key, batch
        )
        self._p_leaves, self._r_leaves, self._o_leaves, self._key, loss, aux = out
        self._model = self._params = self._opt_state = None
        self.global_step += 1
        return loss, aux

    def fit(
        self,
        train,
        epochs: int = 1,
        batch_size: Optional[int] = None,
        validation=None,
        verbose: bool = True,
        callbacks=(),
    ) -> History:
        """Train for ``epochs`` epochs; returns the :class:`History` of this call.

        Args:
            train: a :class:`DataLoader` or a tuple of arrays ``(x, y, ...)`` (then batches of
                ``batch_size``, default 32, reshuffled every epoch).
            epochs: epochs to run (continuing the trainer's epoch count).
            batch_size: for array data.
            validation: a DataLoader or tuple of arrays evaluated after every epoch
                (``val_loss`` and ``val_<metric>`` in the logs).
            verbose: a progress bar on stderr per epoch; False prints nothing.
            callbacks: extra callbacks for this call.

        Raises:
            ValueError: no batch in the data, or conflicting batch sizes.
        """
        loader = self._loader(train, batch_size, True, DEFAULT_BATCH)
        val = None
        if validation is not None:
            val = self._loader(validation, None, False, max(loader.batch_size, EVAL_BATCH))
        cbs = [*self.callbacks, *callbacks]
        for cb in cbs:
            cb.set_trainer(self)
        self.history = history = History()
        self.stop = False
        self.model = train_mode(self.model)
        step_logs = wants_step_logs(cbs)
        for cb in cbs:
            cb.on_train_begin({})
        logs: dict = {}
        first, last = self.epoch, self.epoch + int(epochs)
        for epoch in range(first, last):
            for cb in cbs:
                cb.on_epoch_begin(epoch, {})
            loader.set_epoch(epoch)
            bar = ProgressBar(len(loader), desc=f"epoch {epoch + 1}/{last}", enabled=verbose)
            running = EpochMeans()
            for batch in loader:
                loss, aux = self._train_batch(batch)
                running.add(loss, aux, int(batch[0].shape[0]))
                bar.update(1, logs=running.summary)
                if step_logs:
                    slog = {"loss": float(loss), **{k: float(v) for k, v in aux.items()}}
                    for cb in cbs:
                        cb.on_step_end(self.global_step - 1, slog)
                if self.stop:
                    break
            logs = running.summary()
            if val is not None:
                ev = self.evaluate(val)
                logs.update({f"val_{k}": v for k, v in ev.items()})
            bar.close(logs)
            self.epoch = epoch + 1
            history.append(epoch, logs, step_loss=running.losses())
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop:
                break
        for cb in cbs:
            cb.on_train_end(logs)
        self.model = eval_mode(self.model)
        return history

    # --- evaluation and prediction -------------------------------------------------------------

    def evaluate(self, data, batch_size: Optional[int] = None) -> dict:
        """Loss, aux values and metrics on ``data`` in eval mode: ``{name: float}``.

        Values are means over the examples (batch means weighted by batch size).

        Args:
            data: a DataLoader or a tuple of arrays ``(x, y, ...)``.
            batch_size: for array data (default: up to 1024 examples per batch).
        """
        loader = self._loader(data, batch_size, False, EVAL_BATCH)
        model = eval_mode(self.model)
        sums: dict = {}
        total = 0
        for batch in loader:
            n = int(batch[0].shape[0])
            for k, v in self._eval_step(model, batch).items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            total += n
        return {k: v / total for k, v in sums.items()}

    def predict(self, x, batch_size: Optional[int] = None):
        """``model(x)`` in eval mode, in batches of ``batch_size`` (default: all at once).

        Returns:
            The outputs concatenated along the first axis (a tensor, or a pytree of tensors).
        """
        model = eval_mode(self.model)
        if batch_size is None:
            return self._predict_step(model, F.asarray(x) if not isinstance(x, F.Tensor) else x)
        outs = [self._predict_step(model, b[0]) for b in DataLoader((x,), batch_size)]
        return F.tree_map(lambda *parts: F.concatenate(list(parts), axis=0), *outs)

    def cache_info(self) -> dict:
        """Compilation statistics of the jitted steps (empty with ``jit=False``)."""
        steps = {"train": self._train_step, "eval": self._eval_step, "predict": self._predict_step}
        return {k: f.cache_info() for k, f in steps.items() if hasattr(f, "cache_info")}


def fit(
    model,
    optimizer,
    loss_fn: Callable,
    data,
    epochs: int = 1,
    *,
    batch_size: Optional[int] = None,
    validation=None,
    verbose: bool = True,
    **trainer_kwargs,
) -> tuple:
    """Train ``model`` with a :class:`Trainer`; returns ``(trained model, history)``.

    ``trainer_kwargs`` (metrics, callbacks, jit, filter, seed) go to :class:`Trainer`; the
    other arguments to :meth:`Trainer.fit`.

    Example:
        >>> import numpy as np
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> x = np.ones((8, 1), np.float32)
        >>> model, hist = nn.fit(nn.Linear(1, 1, key=fg.random.key(1)), nn.optim.sgd(0.1),
        ...                      lambda m, xb: fg.mean(m(xb) ** 2), (x,), epochs=3, verbose=False)
        >>> len(hist["loss"]), hist["loss"][-1] < hist["loss"][0]
        (3, True)
    """
    trainer = Trainer(model, optimizer, loss_fn, **trainer_kwargs)
    history = trainer.fit(
        data, epochs, batch_size=batch_size, validation=validation, verbose=verbose
    )
    return trainer.model, history
