"""Callbacks: hooks into :meth:`Trainer.fit` (early stopping, checkpoints, user functions).

A callback gets ``trainer`` set before training starts and is called at the start and end of
training, of each epoch, and after each step. ``logs`` hold Python floats: per step the
step's loss and aux values; per epoch the epoch means (``loss``, aux keys) and, with
validation data, ``val_loss`` and the ``val_`` metrics. A callback stops training by setting
``self.trainer.stop = True``; the trainer finishes the current step, ends the epoch and
returns.

Learning-rate schedules known in advance live inside the optimisers (pass
``nn.optim.schedules.cosine(...)`` or any ``schedule(count)`` as the learning rate); rates
decided during training (``ReduceLROnPlateau``, ``LearningRateScheduler``) are in
``_lr_callbacks.py``.
"""

from __future__ import annotations

import math
import os
from typing import Callable, Optional

__all__ = [
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "LambdaCallback",
    "TerminateOnNaN",
]


class Callback:
    """Base class: override the hooks you need; ``self.trainer`` is the running trainer.

    Example:
        >>> from fieldgrad import nn
        >>> class PrintLoss(nn.Callback):
        ...     def on_epoch_end(self, epoch, logs):
        ...         print(epoch, round(logs["loss"], 2))
        >>> PrintLoss().on_epoch_end(0, {"loss": 0.5})
        0 0.5
    """

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        """Called once when ``fit`` starts."""

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        """Called once when ``fit`` ends (also after a stop), with the last epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        """Called before epoch ``epoch`` (counted from 0 over the trainer's life)."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        """Called after epoch ``epoch`` with its logs."""

    def on_step_end(self, step: int, logs: dict) -> None:
        """Called after optimisation step ``step`` (counted from 0) with its loss and aux."""


def _monitor_op(mode: str, monitor: str, who: str):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if any(s in monitor for s in ("acc", "auc", "r2")) else "min"
    return mode


def _value(logs: dict, monitor: str, who: str) -> float:
    if monitor not in logs:
        hint = " (pass validation data to fit)" if monitor.startswith("val_") else ""
        raise KeyError(f"{who}: monitor {monitor!r} is not in the logs {sorted(logs)}{hint}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when the monitored value has not improved for ``patience`` epochs.

    An epoch improves when its value beats the best so far by more than ``min_delta``. After
    ``patience`` epochs in a row without improvement training stops (``patience=0``: at the
    first epoch without improvement). With ``restore_best`` the trainer's model is set back
    to the best epoch's when training ends.

    Args:
        monitor: the log key (``"val_loss"``, ``"loss"``, ``"val_accuracy"``, ...).
        patience: epochs without improvement tolerated.
        min_delta: the least change that counts as an improvement.
        mode: ``"min"``, ``"max"``, or ``"auto"`` (max for accuracy-like keys).
        restore_best: restore the best model at the end.

    Attributes:
        best: the best value seen; ``best_epoch``: its epoch; ``stopped_epoch``: the epoch
            after which training stopped (None if it ran to the end).

    Raises:
        KeyError: (during fit) the monitored key is not in the epoch logs.

    Example:
        >>> from fieldgrad import nn
        >>> class FakeTrainer:
        ...     stop, model = False, None
        >>> es = nn.EarlyStopping(monitor="val_loss", patience=1)
        >>> es.set_trainer(FakeTrainer())
        >>> es.on_train_begin()
        >>> for epoch, v in enumerate([3.0, 2.0, 2.5, 2.4]):
        ...     es.on_epoch_end(epoch, {"val_loss": v})
        >>> es.best_epoch, es.stopped_epoch, es.trainer.stop
        (1, 3, True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best: bool = True,
    ):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _monitor_op(mode, monitor, "EarlyStopping")
        self.restore_best = restore_best

    def on_train_begin(self, logs=None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.best_model = None
        self.wait = 0
        self.stopped_epoch = None

    def _improved(self, v: float) -> bool:
        if math.isnan(v):
            return False
        if self.mode == "min":
            return v < self.best - self.min_delta
        return v > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        v = _value(logs, self.monitor, "EarlyStopping")
        if self._improved(v):
            self.best, self.best_epoch, self.wait = v, epoch, 0
            if self.restore_best:
                self.best_model = self.trainer.model  # immutable: keeping it copies nothing
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop = True

    def on_train_end(self, logs=None) -> None:
        if self.restore_best and self.best_model is not None:
            self.trainer.model = self.best_model


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when the monitored value improves).

    ``path`` may hold format fields filled from the epoch (counted from 1) and the logs, e.g.
    ``"ckpt/epoch{epoch:03d}-{val_loss:.3f}.npz"``. The file is written with
    :func:`fieldgrad.nn.save` (read it back with ``nn.load(path, like=model)``); with
    ``save_optimizer`` it is a :func:`~fieldgrad.nn.save_checkpoint` file holding the model,
    the optimiser state and the step count.

    Args:
        path: the file name (template).
        monitor: the log key compared with ``save_best_only``.
        save_best_only: save only when ``monitor`` improves on the best so far.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_optimizer: also save the optimiser state and the step.

    Attributes:
        saved: the paths written, in order; ``best``: the best monitored value.

    Example:
        >>> import os, tempfile
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> class FakeTrainer:
        ...     model = {"w": fg.ones(2)}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     ck = nn.ModelCheckpoint(os.path.join(d, "ep{epoch}"), "loss", save_best_only=True)
        ...     ck.set_trainer(FakeTrainer())
        ...     ck.on_train_begin()
        ...     for epoch, v in enumerate([1.0, 2.0, 0.5]):
        ...         ck.on_epoch_end(epoch, {"loss": v})
        ...     [os.path.basename(p) for p in ck.saved]
        ['ep1.npz', 'ep3.npz']
    """

    def __init__(
        self,
        path: str,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_optimizer: bool = False,
    ):
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _monitor_op(mode, monitor, "ModelCheckpoint")
        self.save_optimizer = save_optimizer
        self.saved: list[str] = []

    def on_train_begin(self, logs=None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        from .._serialization import save, save_checkpoint

        if self.save_best_only:
            v = _value(logs, self.monitor, "ModelCheckpoint")
            better = v < self.best if self.mode == "min" else v > self.best
            if not better:
                return
            self.best = v
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f"ModelCheckpoint: cannot fill the path template {self.path!r} from epoch and "
                f"logs {sorted(logs)}: {e!r}"
            ) from None
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        t = self.trainer
        if self.save_optimizer:
            path = save_checkpoint(path, model=t.model, opt_state=t.opt_state, step=t.global_step)
        else:
            path = save(path, t.model)
        self.saved.append(path)


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``.

    Each argument is optional and has the signature of the hook of the same name
    (``on_train_begin(logs)``, ``on_epoch_end(epoch, logs)``, ``on_step_end(step, logs)``...).

    Example:
        >>> from fieldgrad import nn
        >>> seen = []
        >>> cb = nn.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cb.on_epoch_end(3, {}); seen
        [3]
    """

    def __init__(
        self,
        on_train_begin: Optional[Callable] = None,
        on_train_end: Optional[Callable] = None,
        on_epoch_begin: Optional[Callable] = None,
        on_epoch_end: Optional[Callable] = None,
        on_step_end: Optional[Callable] = None,
    ):
        hooks = {
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_step_end": on_step_end,
        }
        for name, f in hooks.items():
            if f is not None and not callable(f):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {type(f).__name__}")
            if f is not None:
                setattr(self, name, f)


class TerminateOnNaN(Callback):
    """Stop training at the first step whose loss is NaN or infinite.

    Example:
        >>> from fieldgrad import nn
        >>> class FakeTrainer:
        ...     stop = False
        >>> cb = nn.TerminateOnNaN()
        >>> cb.set_trainer(FakeTrainer())
        >>> cb.on_step_end(7, {"loss": float("nan")})
        >>> cb.trainer.stop, cb.stopped_step
        (True, 7)
    """

    def on_step_end(self, step: int, logs: dict) -> None:
        if not math.isfinite(logs["loss"]):
            self.stopped_step = step
            self.trainer.stop = True


def wants_step_logs(callbacks) -> bool:
    """Whether any callback overrides ``on_step_end`` (the trainer then reads every loss)."""
    for cb in callbacks:
        if "on_step_end" in vars(cb) or type(cb).on_step_end is not Callback.on_step_end:
            return True
    return False
