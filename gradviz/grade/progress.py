"""A one-line progress bar for a grading run: submissions done, failing and remaining."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

Progress = Callable[[int, int, int], None]  # (done, failing, total)


def progress_line(done: int, failing: int, total: int, seconds: float, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    rate = f", {seconds / done:.2f} s each" if done and seconds else ""
    return (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} graded, {failing} failing, "
            f"{total - done} left{rate}")


class ProgressBar:
    """Redraws its line in place on a terminal; elsewhere writes a line at most every few seconds."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every, self.start, self.last = every, time.monotonic(), 0.0

    def __call__(self, done: int, failing: int, total: int) -> None:
        now = time.monotonic()
        line = progress_line(done, failing, total, now - self.start)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        elif done == total or now - self.last >= self.every:
            self.stream.write(line + "\n")
            self.last = now
        self.stream.flush()
