"""No silent holes: every float array the user's code holds or takes is checked, failed, or listed with why.

A backward that gives no gradient for an array is asked one question: does
the output depend on that array? One perturbation tells. If it does, the
missing gradient is a FAIL (an unfinished layer must not pass); if it does
not (running statistics in train mode, caches, masks), the array is listed
as not a parameter.
"""

from __future__ import annotations

import numpy as np

from .diagnosis import Finding
from .streams import PARAMETERS, stream
from .subject import Subject

RELATIVE_STEP = 1e-3  # the perturbation, relative to the array's scale: far above round-off, small for the forward
CHANGE = 1e-9  # a relative change of the output above this means the output depends on the array


class HoleFinder:
    """Sorts the arrays without a gradient into missing gradients (FAIL) and arrays that are not parameters."""

    def __init__(self, subject: Subject, arrays: list[np.ndarray], out: np.ndarray):
        self.subject, self.arrays, self.out = subject, arrays, out
        self.missing: dict[int, Finding] = {}
        self.not_parameters: list[str] = []

    def find(self, entries: list) -> "HoleFinder":
        if self.subject.complete:
            return self
        rng = stream(0, PARAMETERS)
        for k, entry in enumerate(entries):
            if entry is not None:
                continue
            moved = self.output_change(k, rng)
            if moved:
                self.missing[k] = Finding(f"no gradient from {self.subject.answer}, although the output depends on it",
                                          cause="missing_gradient", confidence=1.0,
                                          evidence=f"moving {self.subject.inputs[k].name} by {RELATIVE_STEP:g} of "
                                                   f"its scale changes the output by up to {moved:.3g}")
            else:
                self.not_parameters.append(self.subject.inputs[k].name)
        return self

    def output_change(self, k: int, rng: np.random.Generator) -> float:
        """How far one small perturbation of array k moves the output (0.0: it does not depend on it)."""
        array = self.arrays[k]
        if array.size == 0:
            return 0.0
        scale = max(1.0, float(np.max(np.abs(array))))
        moved = list(self.arrays)
        moved[k] = array + RELATIVE_STEP * scale * rng.uniform(0.5, 1.5, size=array.shape)
        changed = np.array(self.subject.output(moved), dtype=np.float64)
        if changed.shape != self.out.shape:
            return float("inf")
        size = max(1.0, float(np.max(np.abs(self.out)))) if self.out.size else 1.0
        change = float(np.max(np.abs(changed - self.out), initial=0.0))
        return change if change > CHANGE * size else 0.0

    def notes(self, rows) -> list[str]:
        checked = [r.name for r in rows if r.status != "SKIPPED" and r.message.find("no gradient from") < 0]
        out = [f"checked: {', '.join(checked)}"] if checked and not self.subject.complete else []
        if self.not_parameters:
            out.append("not checked (the output does not depend on them, so they are not parameters): "
                       + ", ".join(self.not_parameters))
        return out
