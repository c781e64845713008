"""When no cause reproduces the numbers: where the error is, and what it looks like, in words a student can act on.

Which samples, rows, columns, channels or positions in the pooling window hold the wrong
elements, and how they are wrong there: zero where the true gradient is not, a constant ratio,
the sign flipped, or nonzero where it should be zero.
"""

from __future__ import annotations

import numpy as np

from .context import Context
from .util import listing, nonzero, scale


def axis_names(shape: tuple, ctx: Context) -> list[str]:
    """What each axis of the gradient is, as a student calls it."""
    if len(shape) == 4:
        return ["sample", "row", "column", "channel"] if ctx.layout == "NHWC" else ["sample", "channel", "row",
                                                                                      "column"]
    if len(shape) == 2:
        names = ["row", "column"]
        if ctx.batch and shape[ctx.batch_axis % 2] == ctx.batch and ctx.attrs.get("role") == "input":
            names[ctx.batch_axis % 2] = "sample"
        return names
    if len(shape) == 1:
        return ["element"]
    return [f"index along axis {a}" for a in range(len(shape))]


def where_wrong(wrong: np.ndarray, ctx: Context) -> str:
    """'in rows 0, 3' / 'in channel 1' / 'at window positions (0, 1)' / 'at 5 of 12 elements'."""
    if wrong.all():
        return "at every element"
    names = axis_names(wrong.shape, ctx)
    best = None
    for axis in range(wrong.ndim):
        others = tuple(a for a in range(wrong.ndim) if a != axis)
        hit = np.flatnonzero(wrong.any(axis=others) if others else wrong)
        if len(hit) < wrong.shape[axis] and (best is None or len(hit) / wrong.shape[axis] < best[0]):
            best = (len(hit) / wrong.shape[axis], axis, hit)
    window = _window_positions(wrong, ctx)
    if window is not None and (best is None or window[0] < best[0]):
        return window[1]
    if best is None:
        return f"at {int(wrong.sum())} of {wrong.size} elements, spread over every {' and '.join(names)}"
    _, axis, hit = best
    return f"only in {listing(names[axis], hit)} (of {wrong.shape[axis]})"


def _window_positions(wrong: np.ndarray, ctx: Context) -> tuple[float, str] | None:
    """(share of window positions involved, 'only at window position (1, 0) of each 2x2 window')."""
    if wrong.ndim != 4:
        return None
    stride = ctx.attrs.get("stride", ctx.attrs.get("kernel_size"))
    if stride is None:
        return None
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else tuple(stride)
    if sh * sw < 2:
        return None
    h_axis, w_axis = (1, 2) if ctx.layout == "NHWC" else (2, 3)
    rows, cols = np.nonzero(wrong.any(axis=tuple(a for a in range(4) if a not in (h_axis, w_axis))))
    positions = sorted({(int(r) % sh, int(c) % sw) for r, c in zip(rows, cols)})
    if len(positions) >= sh * sw:
        return None
    return len(positions) / (sh * sw), "only at window position" + ("s " if len(positions) > 1 else " ") + ", ".join(
        f"({r}, {c})" for r, c in positions) + f" of each {sh}x{sw} window"


def how_wrong(user: np.ndarray, ref: np.ndarray, wrong: np.ndarray) -> str:
    """What the wrong elements have in common: zero, a constant ratio, a flipped sign, or a leak."""
    u, r = user[wrong], ref[wrong]
    size = scale(ref, user)
    if not np.any(nonzero(u, size)):
        return "yours is 0 there where the true gradient is not (nothing reaches those elements)"
    if not np.any(nonzero(r, size)):
        return "yours is nonzero there where the true gradient is 0 (something leaks into them)"
    big = nonzero(r, size)
    with np.errstate(all="ignore"):
        ratios = u[big] / r[big]
    if ratios.size and np.all(np.isfinite(ratios)):
        low, high = float(ratios.min()), float(ratios.max())
        centre = float(np.median(ratios)) if high - low <= 2.001e-3 * max(abs(low), abs(high)) else 0.0
        if centre != 0 and max(high - centre, centre - low) <= 1e-3 * abs(centre):  # (no median when the spread
            return f"yours is {centre:.4g} times the true gradient there"  # already rules a constant out)
    if np.all(np.sign(u[big]) == -np.sign(r[big])):
        return "yours has the opposite sign there (and a different size)"
    return f"the error there ranges from {float(np.min(u - r)):.3g} to {float(np.max(u - r)):.3g}"
