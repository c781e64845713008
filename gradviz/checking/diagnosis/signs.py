"""Signs: right magnitudes with the sign flipped on some elements, and what those have in common."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .facts import facts_of
from .registry import hypothesis
from .util import fraction, lined_up, slices_text, some_indices


@hypothesis
def sign_flip_on_subset(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    if not ctx.close(np.abs(user), np.abs(ref)):
        return None
    big = facts_of(user, ref, ctx).ref_support & (np.abs(ref) > ctx.atol)  # (nonzero at the scale of ref)
    flipped = big & (np.sign(user) != np.sign(ref))
    if not flipped.any() or np.array_equal(flipped, big):
        return None  # no flip at all, or all of them (the constant factor -1 names that)
    where = lined_up(flipped, ctx, among=big, strict_first=True)
    slices = slices_text(flipped) if where is None else None
    if where:
        common = f"exactly where {where}"
    elif slices:
        common = f"on {slices}"
    else:
        common = f"at {fraction(flipped)} ({some_indices(flipped)})"
    return Finding(f"the sign is flipped {common}, and right elsewhere: one term or one case of the formula "
                   "has the wrong sign", cause="sign_flip_subset",
                   evidence=f"|yours| equals |true| everywhere; signs differ at {fraction(flipped)}",
                   confidence=0.9 if (where or slices) else 0.75)

