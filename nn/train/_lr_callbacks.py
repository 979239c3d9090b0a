"""Learning-rate callbacks: change the rate during training through the optimiser's state.

Both need an optimiser made with :func:`fieldgrad.nn.optim.scale_learning_rate`, whose state
holds a factor multiplying every update; the callbacks set that factor between steps, so the
jitted step is not traced again. (A rate known in advance as a function of the step count is
simpler as a schedule: ``nn.optim.adam(nn.optim.schedules.cosine(1e-3, 10_000))``.)
"""

from __future__ import annotations

import math
from typing import Callable

from ..optim import get_lr_scale, set_lr_scale
from ._callbacks import Callback, _monitor_op, _value

__all__ = ["ReduceLROnPlateau", "LearningRateScheduler"]


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when the monitored value stops improving.

    After ``patience`` epochs in a row without an improvement larger than ``min_delta`` the
    factor in the optimiser state is multiplied by ``factor`` (never below ``min_scale``) and
    the count starts again.

    Args:
        monitor: the log key (``"val_loss"``, ``"loss"``, ...).
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement tolerated.
        min_delta: the least change that counts as an improvement.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        min_scale: the smallest factor.

    Attributes:
        reductions: the epochs after which the rate was reduced.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.scale_learning_rate(nn.optim.adam(1e-2))
        >>> class FakeTrainer:
        ...     stop, opt_state = False, opt.init({"w": fg.zeros(2)})
        >>> cb = nn.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        >>> cb.set_trainer(FakeTrainer())
        >>> cb.on_train_begin()
        >>> for epoch, v in enumerate([3.0, 2.0, 2.5, 2.4, 2.6]):
        ...     cb.on_epoch_end(epoch, {"loss": v})
        >>> cb.reductions, nn.optim.get_lr_scale(cb.trainer.opt_state)
        ([3], 0.5)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.5,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        min_scale: float = 0.0,
    ):
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        if patience < 0:
            raise ValueError(f"ReduceLROnPlateau: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _monitor_op(mode, monitor, "ReduceLROnPlateau")
        self.min_scale = float(min_scale)

    def on_train_begin(self, logs=None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.reductions: list = []
        get_lr_scale(self.trainer.opt_state)  # fails early without a factor in the state

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        v = _value(logs, self.monitor, "ReduceLROnPlateau")
        better = (
            v < self.best - self.min_delta if self.mode == "min" else v > self.best + self.min_delta
        )
        if not math.isnan(v) and better:
            self.best, self.wait = v, 0
            return
        self.wait += 1
        if self.wait > self.patience:
            state = self.trainer.opt_state
            scale = max(get_lr_scale(state) * self.factor, self.min_scale)
            self.trainer.opt_state = set_lr_scale(state, scale)
            self.reductions.append(epoch)
            self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning-rate factor from a function of the epoch before every epoch.

    Args:
        schedule: ``schedule(epoch) -> factor`` (the optimiser's rate is multiplied by it).

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad import nn
        >>> opt = nn.optim.scale_learning_rate(nn.optim.sgd(0.1))
        >>> class FakeTrainer:
        ...     stop, opt_state = False, opt.init({"w": fg.zeros(2)})
        >>> cb = nn.LearningRateScheduler(lambda epoch: 0.5**epoch)
        >>> cb.set_trainer(FakeTrainer())
        >>> cb.on_epoch_begin(3)
        >>> nn.optim.get_lr_scale(cb.trainer.opt_state)
        0.125
    """

    def __init__(self, schedule: Callable[[int], float]):
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}"
            )
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        value = float(self.schedule(epoch))
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"LearningRateScheduler: schedule({epoch}) gave {value}; expected a finite "
                "factor >= 0"
            )
        self.trainer.opt_state = set_lr_scale(self.trainer.opt_state, value)
