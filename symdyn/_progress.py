"""A small text progress bar for long work, written to stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 24


class ProgressBar:
    """`with ProgressBar(total, "fit") as bar: bar.update(k, loss=...)`, redrawn at most ten times a second.

    On a terminal the line is redrawn in place; elsewhere (logs, pipes) a line is written
    at each tenth of the work. `enabled=False` makes every call a no-op.
    """

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None):
        self.total, self.label, self.enabled = max(int(total), 1), label, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._started = time.perf_counter()
        self._drawn = 0.0
        self._tenths = -1
        self._fields = ""
        self._live = enabled and self.stream.isatty()

    def __enter__(self) -> ProgressBar:
        self._draw(force=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._live:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def update(self, steps: int = 1, **fields: float) -> None:
        self.done = min(self.done + steps, self.total)
        if fields:
            self._fields = "  ".join(f"{k} {v:.4g}" for k, v in fields.items())
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        tenths = 10 * self.done // self.total
        if self._live and not force and now - self._drawn < 0.1 and self.done < self.total:
            return
        if not self._live and not force and tenths == self._tenths:
            return
        self._drawn, self._tenths = now, tenths
        filled = _WIDTH * self.done // self.total
        elapsed = now - self._started
        line = (
            f"{self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {self.done}/{self.total} "
            f"{elapsed:.1f}s  {self._fields}".rstrip()
        )
        self.stream.write(("\r" + line) if self._live else (line + "\n"))
        self.stream.flush()
