"""The step-size sweep: finite-difference error against h, from 1e-1 down to 1e-12.

Too large an h and truncation error (~h^2 for central differences) dominates;
too small and round-off (~machine epsilon / h) does. The table shows the valley
between them, and for float32 inputs why float32 cannot be checked at h = 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import finite as fd
from .streams import DIRECTIONS, stream

STEPS = tuple(10.0 ** -k for k in range(1, 13))


@dataclass
class Sweep:
    steps: tuple
    error64: list  # max |autograd - finite| over a few directions, inputs in float64
    error32: list | None  # the same with inputs rounded to float32

    @classmethod
    def measure(cls, loss, arrays, auto, steps=None, rng_seed=0, float32=False, k=3) -> "Sweep":
        steps = tuple(steps or STEPS)
        rng = stream(rng_seed, DIRECTIONS)  # the probe directions' own stream, as in check()
        directions = fd.random_directions([a.shape for a in arrays], k, rng)
        analytic = [sum(float(np.sum(g * d)) for g, d in zip(auto, dirn)) for dirn in directions]

        def errors(cast):
            out = []
            for h in steps:
                worst = 0.0
                for dirn, a in zip(directions, analytic):
                    up = loss([cast(x + h * d) for x, d in zip(arrays, dirn)])
                    down = loss([cast(x - h * d) for x, d in zip(arrays, dirn)])
                    worst = max(worst, abs((up - down) / (2 * h) - a))
                out.append(worst)
            return out

        e64 = errors(lambda x: x)
        e32 = errors(lambda x: x.astype(np.float32).astype(np.float64)) if float32 else None
        return cls(steps, e64, e32)

    @property
    def best_step(self) -> float:
        return self.steps[int(np.argmin(self.error64))]

    def rows(self) -> list[dict]:
        return [{"h": h, "error_float64": e, "error_float32": None if self.error32 is None else self.error32[i]}
                for i, (h, e) in enumerate(zip(self.steps, self.error64))]

    def __str__(self) -> str:
        head = f"{'h':>8} {'error (float64)':>16}" + (f" {'error (float32)':>16}" if self.error32 else "")
        lines = [head]
        for i, (h, e) in enumerate(zip(self.steps, self.error64)):
            line = f"{h:>8.0e} {e:>16.3e}"
            if self.error32:
                line += f" {self.error32[i]:>16.3e}"
            if h == self.best_step:
                line += "   <- smallest float64 error"
            lines.append(line)
        return "\n".join(lines)
