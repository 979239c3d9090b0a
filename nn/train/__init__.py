"""fieldgrad.nn.train: the training loop (Trainer, fit), callbacks, history and progress bar.

Everything here is also available directly from :mod:`fieldgrad.nn`.
"""

from ._callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    TerminateOnNaN,
)
from ._history import History
from ._lr_callbacks import LearningRateScheduler, ReduceLROnPlateau
from ._progress import ProgressBar
from ._trainer import Trainer, fit

__all__ = [
    "Trainer",
    "fit",
    "History",
    "ProgressBar",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "LambdaCallback",
    "TerminateOnNaN",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
]
