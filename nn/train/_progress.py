"""A terminal progress bar for training epochs: loss, metrics and steps per second."""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

__all__ = ["ProgressBar"]


def _fmt(v) -> str:
    v = float(v)
    return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.3e}"


class ProgressBar:
    """One line per epoch, redrawn in place: ``epoch 3/20 [=====>    ] 12/23 loss 0.12 ...``.

    Redraws are throttled to ``max_rate`` per second, so a fast loop spends almost nothing on
    printing; the line is completed (with a newline) by :meth:`close`. On a stream that is not
    a terminal (a log file, CI output) only the final line of each epoch is written. With
    ``enabled=False`` nothing is ever written.

    Args:
        total: steps in the epoch (None when unknown).
        desc: the text before the bar (``"epoch 3/20"``).
        enabled: False makes every method a no-op.
        stream: where to write (default ``sys.stderr``).
        max_rate: the most redraws per second.
        width: the bar's width in characters.
        interactive: redraw while running (default: whether the stream is a terminal).

    Example:
        >>> import io
        >>> from fieldgrad.nn.train import ProgressBar
        >>> out = io.StringIO()
        >>> bar = ProgressBar(4, desc="epoch 1/1", stream=out, interactive=True)
        >>> for k in range(4):
        ...     bar.update(1, logs=lambda: {"loss": 0.5})
        >>> bar.close({"loss": 0.25})
        >>> out.getvalue().splitlines()[-1].split("\\r")[-1].startswith("epoch 1/1 [====")
        True
    """

    def __init__(
        self,
        total: Optional[int],
        desc: str = "",
        *,
        enabled: bool = True,
        stream: Optional[TextIO] = None,
        max_rate: float = 10.0,
        width: int = 24,
        interactive: Optional[bool] = None,
    ):
        self.total = total
        self.desc = desc
        self.enabled = enabled
        self.stream = stream
        self.min_interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self.width = width
        self.n = 0
        self.t0 = time.perf_counter()
        self._last = -float("inf")
        self._closed = False
        self._shown = 0  # length of the line on screen, to blank a longer old one
        if interactive is None:
            isatty = getattr(stream if stream is not None else sys.stderr, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive

    def _line(self, logs: dict) -> str:
        parts = [self.desc] if self.desc else []
        if self.total:
            filled = int(self.width * min(self.n, self.total) / self.total)
            head = ">" if filled < self.width else ""
            bar = "=" * filled + head
            parts.append(f"[{bar:<{self.width}s}] {self.n}/{self.total}")
        else:
            parts.append(f"{self.n}")
        parts += [f"{k} {_fmt(v)}" for k, v in logs.items()]
        dt = time.perf_counter() - self.t0
        if dt > 0 and self.n:
            parts.append(f"{self.n / dt:.1f} steps/s")
        return " ".join(parts)

    def _write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(text)
        stream.flush()

    def update(self, n: int = 1, logs: Optional[Callable[[], dict]] = None) -> None:
        """Advance by ``n`` steps; redraw when the last redraw is old enough.

        Args:
            n: steps done.
            logs: a function returning the values to show, called only on a redraw (so a
                training loop need not fetch the loss every step).
        """
        self.n += n
        if not (self.enabled and self.interactive):
            return
        now = time.perf_counter()
        if now - self._last < self.min_interval and self.n != self.total:
            return
        self._last = now
        self._draw(self._line(logs() if logs is not None else {}))

    def close(self, logs: Optional[dict] = None) -> None:
        """Draw the final state with ``logs`` and end the line."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw(self._line(logs or {}), end="\n")

    def _draw(self, line: str, end: str = "") -> None:
        pad = " " * max(0, self._shown - len(line))
        self._shown = len(line)
        self._write("\r" + line + pad + end)
