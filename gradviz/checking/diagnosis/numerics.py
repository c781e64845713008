"""Causes that are about the numbers rather than the formula: nothing arrived, nan/inf, float32."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .util import fraction, scale, some_indices


@hypothesis
def exactly_zero(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """backward never wrote this gradient (unused input, or `=` where `+=` was needed upstream)."""
    if np.any(user) or not np.any(np.abs(ref) > ctx.atol):
        return None
    return Finding("the gradient is exactly zero everywhere: nothing reached this input "
                   "(is it used in the forward pass, and is its gradient accumulated?)",
                   cause="all_zero", evidence=f"every element is 0; the true gradient reaches "
                   f"{float(np.max(np.abs(ref))):.4g} in size", confidence=0.95)


def not_finite(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """nan or inf where the true gradient is finite (diagnose() asks this first, and only this)."""
    bad = ~np.isfinite(user)
    if not bad.any():
        return None
    return Finding(f"backward produced nan or inf at {fraction(bad)} ({some_indices(bad)}) while the true "
                   "gradient is finite: look for a division by zero, a log of 0 or an overflowing exp in backward",
                   cause="nonfinite", evidence=f"non-finite at {some_indices(bad)}", confidence=0.9)


@hypothesis
def float32_rounding(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Right formula, float32 arithmetic: errors of a few parts in 1e7 of the gradient's size."""
    if not np.all(np.isfinite(user)):
        return None
    size = scale(ref) if np.any(ref) else 1.0
    err = np.abs(user - ref)
    worst = float(err.max(initial=0.0)) / size
    as32 = user.astype(np.float32).astype(np.float64)
    if not (np.array_equal(as32, user) and 1e-8 < worst < 3e-5):
        return None
    return Finding("the values are float32 numbers and differ from the true gradient only by float32 "
                   "rounding (about 7 significant digits): the formula looks right, compute in float64",
                   cause="float32", evidence=f"largest error {worst:.2g} of the gradient's size; every value "
                   "is exactly representable in float32", confidence=0.8)
