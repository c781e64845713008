"""What several hypotheses measure about the same pair (yours, true), measured once per diagnosis.

The size of the numbers, which elements carry information, the constant ratio if there is one,
whether yours holds the true gradient's numbers in some other order: each hypothesis used to
compute these for itself. `facts_of(user, ref, ctx)` gives the pair's shared record; `diagnose`
keeps one per pair of numbers (a gradient diagnosed again reuses it), and a hypothesis called
alone builds its own.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .context import Context
from .util import nonzero, scale


class Facts:
    """Quantities about one (yours, true) pair, each computed the first time a hypothesis asks."""

    def __init__(self, user: np.ndarray, ref: np.ndarray, ctx: Context):
        self.user, self.ref, self.ctx = user, ref, ctx

    @cached_property
    def ref_scale(self) -> float:
        return scale(self.ref)

    @cached_property
    def ref_support(self) -> np.ndarray:
        """The elements of the true gradient that are clearly not zero (at its own scale)."""
        return nonzero(self.ref, self.ref_scale)

    @cached_property
    def informative(self) -> int:
        return int(np.count_nonzero(self.ref_support))

    @cached_property
    def right(self) -> np.ndarray:
        """Element by element, whether yours agrees with the true gradient within the check's tolerance."""
        with np.errstate(invalid="ignore"):
            return np.abs(self.user - self.ref) <= self.ctx.atol + self.ctx.rtol * np.abs(self.ref)

    @cached_property
    def supports(self) -> tuple[np.ndarray, np.ndarray]:
        """Where yours and the true gradient are clearly not zero, at the scale of both."""
        size = scale(self.ref, self.user)
        return nonzero(self.user, size), nonzero(self.ref, size)

    @cached_property
    def ratio(self) -> float | None:
        """yours / true if it is one constant over the elements that matter (and both are 0 elsewhere)."""
        return constant_ratio(self.user, self.ref, self.ref_support)

    @cached_property
    def same_numbers(self) -> bool:
        """Whether yours could be the true gradient's numbers in another order (a transpose, a reshape ...).

        Necessary for every rearrangement: if each of yours is within the tolerance of its true element,
        the sorted lists are within the largest tolerance of each other."""
        if self.user.size != self.ref.size:
            return False
        gap = np.abs(np.sort(self.user, axis=None) - np.sort(self.ref, axis=None))
        return bool((gap <= self.ctx.atol + self.ctx.rtol * float(np.abs(self.ref).max(initial=0.0))).all())


def constant_ratio(user: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None) -> float | None:
    """The ratio user / ref if it is one constant over the elements that matter (`mask`: ref's support, if known)."""
    mask = nonzero(ref, scale(ref)) if mask is None else mask
    if np.count_nonzero(mask) == 0:
        return None
    with np.errstate(all="ignore"):
        ratios = user[mask] / ref[mask]
    if not np.isfinite(ratios).all():
        return None
    low, high = float(ratios.min()), float(ratios.max())
    if high - low > 2.001e-3 * max(abs(low), abs(high)):
        return None  # no centre is within 1e-3 of both ends: not one constant (decided without the median)
    centre = float(np.median(ratios))
    if centre == 0 or max(high - centre, centre - low) > 1e-3 * abs(centre):
        return None
    # The elements left out must be (near) zero in both.
    if (np.abs(user[~mask]) > 1e-6 * scale(user)).any():
        return None
    return centre


def facts_of(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Facts:
    """The shared record of this pair (the one `diagnose` started, or a new one)."""
    kept = ctx.memo.get("facts")
    if kept is None or kept.user is not user or kept.ref is not ref:
        kept = ctx.memo["facts"] = Facts(user, ref, ctx)
    return kept
