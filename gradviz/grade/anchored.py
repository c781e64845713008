"""Finite differences a student cannot steer: taken on the teacher's forward once the student's matches it.

A gradient check compares the student's backward with finite differences of a forward, and in a
grader that forward runs in the student's process. Code can tell the probes apart from other calls
(inputs a step away from the first point it saw) and answer them with values made to agree with
whatever its backward returns: zeros, or a bug, pass. So when a target names a reference, the
student's forward is asked once, at the checked point; if it agrees with the teacher's there (it
is the same function), every other evaluation the check makes (the probes, the repeat that looks
for randomness, the diagnosis) is the teacher's forward, run here at the student's values. The
student's backward is then judged against the true derivative of the forward they were asked to
write. A forward that differs at the checked point is the forward target's failure, and the
gradients are checked against the student's own forward, as without a reference. Its forward
target then fails even if the student's forward matches the teacher's where that target compares
them (judge.py): code can tell the two checks apart (the gradient check holds the student's own
parameters, the forward check the teacher's), and a forward that differs only in the gradient
check, to dodge the anchor, would otherwise keep both targets' points.
"""

from __future__ import annotations

import numpy as np

from ..checking.subject import Subject
from .forward import ATOL, RTOL, match_arrays
from .remote import RemoteSubject


class AnchoredSubject(RemoteSubject):
    """The student's Subject, evaluated by the teacher's code after its first forward matched the teacher's."""

    def __init__(self, channel, description: dict, arrays: list[np.ndarray], reference: Subject):
        super().__init__(channel, description, arrays)
        self.reference = reference
        self.matched: dict[int, int] = {}  # reference index -> student index
        self.anchor: list[np.ndarray] | None = None  # the student's arrays at the checked point, once anchored
        self.anchored = False
        self.differed: str | None = None  # why it was not anchored, once the first forward was compared

    def first(self, arrays: list[np.ndarray]) -> np.ndarray:
        point = [a.copy() for a in arrays]
        out = np.asarray(super().first(arrays), dtype=np.float64)
        matched, unmatched = match_arrays(self, self.reference)  # may ask the student's forward (their own point)
        if unmatched:
            self.differed = (f"when its gradients were checked, your code held no array that matches the "
                             f"reference's {', '.join(unmatched)}")
            return out
        self.matched = matched
        expected = self._teacher(point)
        if expected.shape == out.shape and np.all(np.isfinite(out)) and np.allclose(out, expected, rtol=RTOL,
                                                                                     atol=ATOL):
            self.anchored, self.anchor = True, point
            return expected
        self.differed = "your forward differs from the expected output at the point its gradients were checked"
        return out

    def output(self, arrays: list[np.ndarray]) -> np.ndarray:
        if self.anchored and self._only_matched_moved(arrays):
            return self._teacher(arrays)
        return super().output(arrays)

    def finish(self) -> list[str]:
        try:
            self.reference.finish()
        finally:
            changed = super().finish()
        return changed

    def _only_matched_moved(self, arrays: list[np.ndarray]) -> bool:
        """Arrays the teacher's code has no twin of (the student's own extras) are where they were anchored."""
        mine = set(self.matched.values())
        return all(j in mine or (a.shape == b.shape and np.array_equal(a, b))
                   for j, (a, b) in enumerate(zip(arrays, self.anchor)))

    def _teacher(self, arrays: list[np.ndarray]) -> np.ndarray:
        theirs = [i.data.copy() for i in self.reference.inputs]
        for k, j in self.matched.items():
            theirs[k] = np.asarray(arrays[j], dtype=np.float64).reshape(theirs[k].shape).copy()
        return np.asarray(self.reference.output(theirs), dtype=np.float64)
