"""The forward's outputs at the points the full finite differences visit, kept for the per-sample split.

"Only the first sample's gradient" is named by splitting the true gradient of a parameter by sample:
two forwards per element, each summed with the upstream gradient one sample at a time. The full
probe evaluates the forward at exactly those points (x + eps e_j, then x - eps e_j, for every element
of every compared array in turn: `finite.full_differences`), but keeps only the loss. Recording the
outputs there, for the parameters alone, gives the diagnosis the split without calling the user's
forward again. Directional checks, and parameters too large to record, fall back to measuring it.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable

import numpy as np

MAX_ELEMENTS = 4096  # a parameter larger than this gets no per-sample split (as samples.per_sample_gradients)
MAX_FLOATS = 1 << 19  # at most this many recorded output numbers (4 MB) per check


class ProbeOutputs:
    """Records the outputs of the full probe's evaluations that belong to the wanted arrays.

    `sizes` are the element counts of the compared arrays in the probe's order; `wanted` their
    positions whose split may be asked for; `shape` the output's. Use `recording(output)` as the
    forward, inside `with recorder:` around the probe.
    """

    def __init__(self, sizes: list[int], wanted: set[int], shape: tuple):
        self.offsets = [0, *itertools.accumulate(int(n) for n in sizes)]  # (without numpy: a check pays it once)
        self.evaluations = 2 * self.offsets[-1]
        self.wanted, self.shape = wanted, tuple(shape)
        self.outputs = {p: np.empty((2 * sizes[p],) + self.shape) for p in wanted}  # up, down for each element
        self._slots: list = [None] * self.evaluations  # by evaluation: (buffer, row) when it is kept
        for p in wanted:
            start = 2 * self.offsets[p]
            self._slots[start: start + 2 * sizes[p]] = [(self.outputs[p], row) for row in range(2 * sizes[p])]
        self.count = 0
        self.active = self.complete = self.broken = False

    def recording(self, output: Callable[[list], np.ndarray]) -> Callable[[list], np.ndarray]:
        """`output`, copying what it returns at the wanted evaluations into the buffers while active
        (on the probe's hot path: a counter, a list lookup and, for a parameter's element, one copy)."""
        slots, last, shape = self._slots, self.evaluations, self.shape

        def forward(arrays: list) -> np.ndarray:
            out = output(arrays)
            if self.active:
                index = self.count
                self.count = index + 1
                if index < last and slots[index] is not None:
                    buffer, row = slots[index]
                    if getattr(out, "shape", None) == shape:
                        buffer[row] = out  # a copy: the user may reuse their output buffer
                    else:
                        self.broken = True  # (not an array of the output's shape: measured apart instead)
            return out

        return forward

    def __enter__(self) -> "ProbeOutputs":
        self.active, self.count, self.broken = True, 0, False
        return self

    def __exit__(self, *exc) -> None:
        self.active = False
        self.complete = exc[0] is None and self.count >= self.evaluations and not self.broken

    def split(self, position: int, cotangent: np.ndarray, batch_axis: int, eps: float,
              elements: list[int]) -> np.ndarray | None:
        """The per-sample true gradient of compared array `position` at flat `elements`: (batch, len(elements)).

        The same numbers as samples.per_sample_gradients (the same evaluations, the same reductions)."""
        if not self.complete or position not in self.wanted or cotangent.shape != self.shape:
            return None
        rows = 2 * np.asarray(elements, dtype=np.intp)
        kept = self.outputs[position]
        other = tuple(1 + a for a in range(cotangent.ndim) if a != batch_axis)  # axes after the element one
        up = np.sum(kept[rows] * cotangent, axis=other)  # (len(elements), batch)
        down = np.sum(kept[rows + 1] * cotangent, axis=other)
        return ((up - down) / (2 * eps)).T


def recorder_for(roles: list[bool], sizes: list[int], shape: tuple, mode: str) -> ProbeOutputs | None:
    """A recorder when the probe is full and some parameter (roles[p] True) may want its split; else None."""
    if mode != "full":
        return None
    wanted = {p for p, (parameter, size) in enumerate(zip(roles, sizes)) if parameter and 0 < size <= MAX_ELEMENTS}
    if not wanted or 2 * sum(sizes[p] for p in wanted) * max(math.prod(shape), 1) > MAX_FLOATS:
        return None
    return ProbeOutputs(sizes, wanted, shape)
