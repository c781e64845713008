"""The forward's outputs at the points the full finite differences visit, kept for the per-sample split.

"Only the first sample's gradient" is named by splitting the true gradient of a parameter by sample:
two forwards per element, each summed with the upstream gradient one sample at a time. The full
probe evaluates the forward at exactly those points (x + eps e_j, then x - eps e_j, for every element
of every compared array in turn: `finite.full_differences`), but keeps only the loss. Recording the
outputs there, for the parameters alone, gives the diagnosis the split without calling the user's
forward again. Directional checks, and parameters too large to record, fall back to measuring it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

MAX_ELEMENTS = 4096  # a parameter larger than this gets no per-sample split (as samples.per_sample_gradients)
MAX_FLOATS = 1 << 19  # at most this many recorded output numbers (4 MB) per check


class ProbeOutputs:
    """Records the outputs of the full probe's evaluations that belong to the wanted arrays.

    `sizes` are the element counts of the compared arrays in the probe's order; `wanted` their
    positions whose split may be asked for. Use `recording(output)` as the forward while `active`.
    """

    def __init__(self, sizes: list[int], wanted: set[int]):
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.evaluations = 2 * self.offsets[-1]
        self.wanted = wanted
        self.kept: dict[int, np.ndarray] = {}
        self.count = 0
        self.active = False
        self.complete = False
        self._keep = [False] * self.evaluations  # by evaluation: does it belong to a wanted array?
        for p in wanted:
            self._keep[2 * self.offsets[p]: 2 * self.offsets[p + 1]] = [True] * (2 * sizes[p])

    def recording(self, output: Callable[[list], np.ndarray]) -> Callable[[list], np.ndarray]:
        """`output`, keeping a copy of what it returns at the wanted evaluations while active (on the probe's
        hot path: one counter and one list lookup per evaluation)."""
        keep, last = self._keep, self.evaluations

        def forward(arrays: list) -> np.ndarray:
            out = output(arrays)
            if self.active:
                index = self.count
                self.count = index + 1
                if index < last and keep[index]:
                    self.kept[index] = np.array(out, dtype=np.float64)  # a copy: the user may reuse the buffer
            return out

        return forward

    def __enter__(self) -> "ProbeOutputs":
        self.active, self.count, self.kept = True, 0, {}
        return self

    def __exit__(self, *exc) -> None:
        self.active = False
        self.complete = exc[0] is None and self.count >= self.evaluations
        if not self.complete:
            self.kept = {}

    def split(self, position: int, cotangent: np.ndarray, batch_axis: int, eps: float,
              elements: list[int]) -> np.ndarray | None:
        """The per-sample true gradient of compared array `position` at flat `elements`: (batch, len(elements)).

        The same numbers as samples.per_sample_gradients (the same evaluations, the same reductions)."""
        if not self.complete or position not in self.wanted:
            return None
        start = 2 * self.offsets[position]
        ups = [self.kept.get(start + 2 * j) for j in elements]
        downs = [self.kept.get(start + 2 * j + 1) for j in elements]
        if any(a is None or a.shape != cotangent.shape for a in ups + downs):
            return None
        other = tuple(1 + a for a in range(cotangent.ndim) if a != batch_axis)  # axes after the stacking one
        up = np.sum(np.stack(ups) * cotangent, axis=other)  # (len(elements), batch)
        down = np.sum(np.stack(downs) * cotangent, axis=other)
        return ((up - down) / (2 * eps)).T


def recorder_for(roles: list[bool], sizes: list[int], out_size: int, mode: str) -> ProbeOutputs | None:
    """A recorder when the probe is full and some parameter (roles[p] True) may want its split; else None."""
    if mode != "full":
        return None
    wanted = {p for p, (parameter, size) in enumerate(zip(roles, sizes)) if parameter and 0 < size <= MAX_ELEMENTS}
    if not wanted or 2 * sum(sizes[p] for p in wanted) * max(out_size, 1) > MAX_FLOATS:
        return None
    return ProbeOutputs(sizes, wanted)
