"""How backward() behaves as a whole: called twice, after zeroing, and on a graph deeper than the stack.

micrograd's backward() reseeds the output and runs every rule again, so a
second call without zeroing adds the stale interior gradients once more:
that is measured and said (a note, not a failure). A recursive topological
sort stops at Python's recursion limit: the depth where it stops is found
and said (a finding, never a crash).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from .discovery import Engine, walk
from .locate import Fault, run

DEEP = 2000  # a chain this deep must backpropagate (micrograd's recursive sort stops near 1000)


@dataclass
class Twice:
    first: tuple[float, float]  # a.grad, b.grad after one backward()
    second: tuple[float, float]  # after a second backward() without zeroing
    zeroed: tuple[float, float]  # after zeroing every node's grad and calling backward() again
    fault: Fault | None = None

    @property
    def factor(self) -> float:
        return self.second[0] / self.first[0] if self.first[0] else math.nan


def _graph(engine: Engine):
    a, b = engine.leaf(0.6), engine.leaf(-1.1)
    c = a * b
    return (c + a) * c, a, b


def backward_twice(engine: Engine) -> Twice:
    made, fault = run(engine, lambda: _graph(engine))
    if fault is not None:
        return Twice((0, 0), (0, 0), (0, 0), fault)
    out, a, b = made
    grads = lambda: (engine.gradient(a), engine.gradient(b))  # noqa: E731
    readings = []
    for step in (lambda: engine.run_backward(out), lambda: engine.run_backward(out),
                 lambda: (engine.zero(out), engine.run_backward(out))):
        _, fault = run(engine, step)
        if fault is not None:
            return Twice(*(readings + [(0, 0)] * 3)[:3], fault)
        readings.append(grads())
    return Twice(*readings)


@dataclass
class Depth:
    ok: bool  # a chain of DEEP nodes backpropagated
    fails_at: int = 0  # the smallest depth where backward() hit the recursion limit (found by bisection)
    fault: Fault | None = None
    limit: int = 0  # sys.getrecursionlimit() at the time


def deep_chain(engine: Engine, add_number: bool) -> Depth:
    """backward() on chains of growing depth: fine at DEEP, or the depth where it first recurses too far."""
    def attempt(depth: int):
        x = first = engine.leaf(0.5)
        for _ in range(depth):
            x = x + 0.001 if add_number else x + engine.leaf(0.001)
        engine.run_backward(x)
        return engine.gradient(first)

    grad, fault = run(engine, lambda: attempt(DEEP))
    if fault is None:
        return Depth(ok=True, limit=sys.getrecursionlimit())
    if not isinstance(fault.error, RecursionError):
        return Depth(ok=False, fault=fault, limit=sys.getrecursionlimit())
    lo, hi = 1, DEEP  # attempt(lo) works, attempt(hi) fails
    while hi - lo > 8:
        mid = (lo + hi) // 2
        _, f = run(engine, lambda: attempt(mid))
        lo, hi = (mid, hi) if f is None else (lo, mid)
    return Depth(ok=False, fails_at=hi, fault=fault, limit=sys.getrecursionlimit())


def node_count(engine: Engine, root) -> int:
    return len(walk(engine, root))
