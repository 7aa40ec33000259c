"""A progress bar and rate on stderr for long commands (the replays): redrawn in place on a
terminal, one line every few seconds elsewhere (a log, a pipe)."""

import sys
import time
from typing import TextIO

WIDTH = 30
LOG_EVERY_S = 5.0


class Progress:
    def __init__(self, label: str, unit: str, out: TextIO = sys.stderr) -> None:
        self._label = label
        self._unit = unit
        self._out = out
        self._tty = out.isatty()
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, total: int, count: int) -> None:
        """``done`` of ``total`` read so far (the bar); ``count`` of ``unit`` made (the rate)."""
        now = time.monotonic()
        if not self._tty and now - self._drawn < LOG_EVERY_S:
            return
        self._drawn = now
        self._out.write(self._line(done, total, count, now) + ("\r" if self._tty else "\n"))
        self._out.flush()

    def finish(self, done: int, total: int, count: int) -> None:
        self._out.write(self._line(done, total, count, time.monotonic()) + "\n")
        self._out.flush()

    def _line(self, done: int, total: int, count: int, now: float) -> str:
        share = 1.0 if total <= 0 else min(1.0, done / total)
        filled = round(share * WIDTH)
        elapsed = max(now - self._started, 1e-9)
        return (
            f"{self._label} [{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%} "
            f"{done:,}/{total:,}, {count:,} {self._unit}, {count / elapsed:,.0f}/s, "
            f"{elapsed:,.1f} s"
        )
