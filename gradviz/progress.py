"""A progress bar for checks that take more than about a second, on a terminal only.

The command line turns it on (`with progress.shown(sys.stderr):`); library code
marks its long loops (`with progress.task(n, "finite differences") as step:`
then `step()` per item). Without `shown`, `task` costs one call per item and
draws nothing, so gv.check in a notebook or a test suite prints nothing extra.
The bar appears only once a task has run for `delay` seconds, redraws at most
ten times a second, and is erased when the task ends: what the bar overwrote
is never lost, and output redirected to a file never contains it.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

BAR = 24

_stream: TextIO | None = None
_delay = 1.0
_drawn = False  # a bar is on screen now


@contextmanager
def shown(stream: TextIO, delay: float = 1.0, force: bool = False) -> Iterator[None]:
    """Draw progress on `stream` while inside (only when it is a terminal, unless `force`)."""
    global _stream, _delay
    isatty = getattr(stream, "isatty", None)
    previous = (_stream, _delay)
    if force or (isatty and isatty()):
        _stream, _delay = stream, delay
    try:
        yield
    finally:
        clear()
        _stream, _delay = previous


def clear() -> None:
    """Erase the bar (before printing a line of output, so the two do not mix)."""
    global _drawn
    if _drawn and _stream is not None:
        _stream.write("\r\033[K")
        _stream.flush()
    _drawn = False


@contextmanager
def task(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A counter over `total` items; calling it advances by one (or `n`)."""
    if _stream is None or total <= 0:
        yield _nothing
        return
    start = time.perf_counter()
    state = {"done": 0, "next_draw": start + _delay}

    def step(n: int = 1) -> None:
        state["done"] += n
        now = time.perf_counter()
        if now >= state["next_draw"]:
            state["next_draw"] = now + 0.1
            draw(label, state["done"], total, now - start)

    try:
        yield step
    finally:
        clear()


def draw(label: str, done: int, total: int, elapsed: float) -> None:
    """One line: label, bar, count, percentage, elapsed and estimated remaining seconds."""
    global _drawn
    if _stream is None:
        return
    frac = min(1.0, done / total)
    filled = int(BAR * frac)
    left = elapsed * (1 - frac) / frac if frac > 0 else 0.0
    _stream.write(f"\r\033[K{label} [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} {frac:4.0%} "
                  f"{elapsed:.0f}s elapsed, ~{left:.0f}s left")
    _stream.flush()
    _drawn = True


def _nothing(n: int = 1) -> None:
    return None
