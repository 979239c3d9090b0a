"""History: the per-epoch logs and per-step losses of a training run, and their plot; the
running epoch means that the trainer logs."""

from __future__ import annotations

import math
import os
from typing import Iterator, Optional, Sequence

__all__ = ["History", "EpochMeans"]


class History:
    """Training logs: one list per metric with a value per epoch, plus the loss of every step.

    ``history["loss"]`` (or ``history.history["loss"]``) is the epoch-mean training loss,
    ``history["val_loss"]`` the validation loss, and so on for every key the logs had;
    ``history.step_loss`` holds the loss of each optimisation step and ``history.epochs`` the
    epoch indices. A metric missing in some epoch holds NaN there, so all lists have one entry
    per epoch.

    Example:
        >>> from fieldgrad import nn
        >>> h = nn.History()
        >>> h.append(0, {"loss": 2.0}, step_loss=[3.0, 1.0])
        >>> h.append(1, {"loss": 1.0, "val_loss": 1.5}, step_loss=[1.2, 0.8])
        >>> h["loss"], h["val_loss"][1], len(h.step_loss), len(h)
        ([2.0, 1.0], 1.5, 4, 2)
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.step_loss: list[float] = []

    def append(self, epoch: int, logs: dict, step_loss: Sequence[float] = ()) -> None:
        """Record the logs of one finished epoch and the losses of its steps."""
        n = len(self.epochs)
        for key, value in logs.items():
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        for values in self.history.values():
            if len(values) == n:
                values.append(math.nan)
        self.epochs.append(int(epoch))
        self.step_loss.extend(float(v) for v in step_loss)

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(
                f"History has no metric {key!r}; it has {sorted(self.history)}"
            ) from None

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.epochs)

    def keys(self):
        return self.history.keys()

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self)}, last={last})"

    def plot(
        self,
        path: Optional[str] = None,
        *,
        keys: Optional[Sequence[str]] = None,
        log_scale: bool = True,
        steps: bool = True,
        title: Optional[str] = None,
    ):
        """Plot the loss curves (and other metrics) against the epoch.

        The first panel shows the per-step loss (thin), the epoch-mean losses and every
        ``*loss`` key; a second panel shows the other metrics (accuracy, ...) when there are
        any. Drawn with matplotlib's Agg canvas, so it needs no display.

        Args:
            path: save the figure there (format from the extension, e.g. ``.png``).
            keys: the metrics to draw (default: all).
            log_scale: a logarithmic y axis for the losses (positive values only).
            steps: draw the per-step loss too.
            title: the figure title.

        Returns:
            The ``matplotlib.figure.Figure``.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        keys = list(self.history) if keys is None else list(keys)
        for k in keys:
            self[k]  # raises a KeyError naming the known metrics
        loss_keys = [k for k in keys if k.endswith("loss")]
        other = [k for k in keys if k not in loss_keys]
        fig = Figure(figsize=(6.4 * (1 + bool(other)), 4.0))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1 + bool(other), 1)
        epochs = [e + 1 for e in self.epochs]
        if steps and self.step_loss and self.epochs:
            per = len(self.step_loss) / len(self.epochs)
            xs = [self.epochs[0] + (i + 1) / per for i in range(len(self.step_loss))]
            ax.plot(xs, self.step_loss, lw=0.6, alpha=0.4, color="tab:gray", label="step loss")
        for k in loss_keys:
            ax.plot(epochs, self.history[k], marker="o", ms=3, label=k)
        values = [v for k in loss_keys for v in self.history[k]] + list(self.step_loss)
        if log_scale and values and all(v > 0 for v in values if not math.isnan(v)):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(True, alpha=0.3)
        if loss_keys or self.step_loss:
            ax.legend()
        if other:
            ax2 = fig.add_subplot(1, 2, 2)
            for k in other:
                ax2.plot(epochs, self.history[k], marker="o", ms=3, label=k)
            ax2.set_xlabel("epoch")
            ax2.grid(True, alpha=0.3)
            ax2.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        if path is not None:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            fig.savefig(path)
        return fig


class EpochMeans:
    """Epoch means of the step losses and aux values, weighted by batch size.

    The tensors are converted to floats only when a summary is asked for, so the training
    loop does not wait for each step's result.

    Example:
        >>> import fieldgrad as fg
        >>> from fieldgrad.nn.train._history import EpochMeans
        >>> m = EpochMeans()
        >>> m.add(fg.tensor(1.0), {"acc": fg.tensor(0.5)}, 3)
        >>> m.add(fg.tensor(3.0), {"acc": fg.tensor(1.0)}, 1)
        >>> m.summary(), m.losses()
        ({'loss': 1.5, 'acc': 0.625}, [1.0, 3.0])
    """

    def __init__(self):
        self._pending: list = []  # (loss, aux, n) not yet converted to floats
        self._losses: list[float] = []
        self._sums: dict[str, float] = {}
        self._n = 0

    def add(self, loss, aux: dict, n: int) -> None:
        self._pending.append((loss, aux, n))

    def _flush(self) -> None:
        for loss, aux, n in self._pending:
            v = float(loss)
            self._losses.append(v)
            self._sums["loss"] = self._sums.get("loss", 0.0) + v * n
            for k, a in aux.items():
                self._sums[k] = self._sums.get(k, 0.0) + float(a) * n
            self._n += n
        self._pending.clear()

    def summary(self) -> dict:
        self._flush()
        return {k: s / self._n for k, s in self._sums.items()} if self._n else {}

    def losses(self) -> list[float]:
        self._flush()
        return list(self._losses)
