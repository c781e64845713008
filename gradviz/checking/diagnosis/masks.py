"""Masks: forgotten (gradient passes where it should be 0), inverted, or taken from the wrong tensor."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .facts import facts_of
from .util import fraction, lined_up


def _supports(user, ref, ctx):
    return facts_of(user, ref, ctx).supports


@hypothesis
def mask_forgotten(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    u, r = _supports(user, ref, ctx)
    leak = u & ~r
    if not leak.any() or not r.any() or not facts_of(user, ref, ctx).right[r].all():
        return None
    where = lined_up(~r, ctx)
    if where:
        sentence = (f"a mask is missing: the true gradient is 0 where {where} ({fraction(~r)}), yours passes "
                    f"through there (e.g. dout * ({where.replace('<=', '>')}) forgotten)")
    else:
        sentence = (f"a mask is missing: yours is nonzero at {fraction(leak)} where the true gradient is 0, and "
                    "right everywhere else (a ReLU, dropout or routing mask not applied)")
    return Finding(sentence, cause="mask_forgotten",
                   evidence=f"right on all {int(r.sum())} elements the true gradient reaches; nonzero on "
                            f"{int(leak.sum())} it does not", confidence=0.85 if where else 0.7)


@hypothesis
def mask_inverted(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    u, r = _supports(user, ref, ctx)
    if not r.any() or (~r).sum() == 0 or (u & r).any() or u.sum() < 0.5 * (~r).sum():
        return None
    where = lined_up(r, ctx)
    sentence = ("the mask is inverted: yours is 0 exactly where the true gradient is not, and nonzero where it "
                "is 0" + (f" (the gradient should flow where {where})" if where else "")
                + ": compare the condition, e.g. (x > 0) against (x <= 0)")
    return Finding(sentence, cause="mask_inverted",
                   evidence=f"yours and the true gradient are never nonzero at the same element; "
                            f"yours is nonzero at {int(u.sum())}, the true one at {int(r.sum())}",
                   confidence=0.85)


@hypothesis
def mask_from_wrong_tensor(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Right values where both pass, but yours is zeroed by another array's sign."""
    u, r = _supports(user, ref, ctx)
    both = u & r
    if not both.any() or np.array_equal(u, r) or not facts_of(user, ref, ctx).right[both].all():
        return None
    if not (r & ~u).any():
        return None  # nothing lost: the forgotten-mask hypothesis covers the rest
    true_mask = lined_up(~r, ctx)
    yours = lined_up(~u, ctx, skip=true_mask.split()[0] if true_mask else None)
    if yours is None:
        return None
    sentence = (f"the mask comes from the wrong array: yours is 0 where {yours}"
                + (f", the true gradient where {true_mask}" if true_mask else "")
                + "; the values agree wherever both pass")
    return Finding(sentence, cause="mask_wrong_tensor",
                   evidence=f"yours is zero where {yours}; agrees with the true gradient on {int(both.sum())} "
                            "elements where both are nonzero", confidence=0.8)
