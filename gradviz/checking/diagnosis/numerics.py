"""Causes that are about the numbers rather than the formula: nothing arrived, nan/inf, float32."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .facts import facts_of
from .registry import hypothesis
from .util import fraction, scale, some_indices


@hypothesis
def exactly_zero(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """backward never wrote this gradient (unused input, or `=` where `+=` was needed upstream)."""
    if user.any() or not (np.abs(ref) > ctx.atol).any():
        return None
    return Finding("the gradient is exactly zero everywhere: nothing reached this input "
                   "(is it used in the forward pass, and is its gradient accumulated?)",
                   cause="all_zero", evidence=f"every element is 0; the true gradient reaches "
                   f"{float(np.max(np.abs(ref))):.4g} in size", confidence=0.95)


@hypothesis
def boolean_gradient(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Only 0s and 1s where the true gradient carries dout's values: a comparison where a product belongs.

    `dout * x > 0` is `(dout * x) > 0`, True/False; a gradient along a random upstream gradient is
    never made of 0s and 1s alone (all zeros is exactly_zero's). Under an upstream gradient of ones
    (an engine's backward() seeds 1.0) a right mask is 0s and 1s too, so the fingerprint says nothing there:
    a flipped sign (1 for -1) or a dropped slope (0 for 0.01) is some other hypothesis's.
    """
    if ctx.cotangent is not None and np.size(ctx.cotangent) and np.all(np.asarray(ctx.cotangent) == 1.0):
        return None
    if not user.size or not np.isin(user, (0.0, 1.0)).all() or not (user == 1.0).any() \
            or np.isin(np.round(ref, 12), (0.0, 1.0)).all():
        return None
    return Finding("the gradient holds only 0s and 1s (True/False): a comparison where a product belongs; "
                   "`dout * x > 0` means `(dout * x) > 0`, write `dout * (x > 0)`",
                   cause="boolean_gradient", evidence=f"{int((user == 1.0).sum())} ones and "
                   f"{int((user == 0.0).sum())} zeros; the true gradient has other values", confidence=0.97)


def not_finite(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """nan or inf where the true gradient is finite (diagnose() asks this first, and only this)."""
    bad = ~np.isfinite(user)
    if not bad.any():
        return None
    return Finding(f"backward produced nan or inf at {fraction(bad)} ({some_indices(bad)}) while the true "
                   "gradient is finite: look for a division by zero, a log of 0 or an overflowing exp in backward",
                   cause="nonfinite", evidence=f"non-finite at {some_indices(bad)}", confidence=0.9)


@hypothesis
def float32_arithmetic(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Every value is a float32 number: backward computed in single precision (about 7 digits).

    A float64 computation almost never lands on float32 numbers only, so this
    fingerprint is strong; whether float32 explains the whole error is judged
    separately from the size of the error.
    """
    first = user.flat[int(np.argmax(user != 0))] if user.size else 0.0
    if first != 0 and first != np.round(first) and float(np.float32(first)) != first:
        return None  # one value off the float32 grid settles it: all of them must be on it
    values = user[user != 0]
    if values.size < 4 or (values == np.round(values)).all():
        return None  # too few numbers, or small integers (masks, counts): float32-exact by nature
    if not np.array_equal(values.astype(np.float32).astype(np.float64), values):
        return None
    worst = float(np.max(np.abs(user - ref))) / scale(ref)
    if worst < 1e-2:
        return Finding("backward computes in float32 (every value is a float32 number) and the error is float32 "
                       "rounding, amplified by cancellation: the formula looks right, compute in float64",
                       cause="float32", evidence=f"largest error {worst:.2g} of the gradient's size; all "
                       f"{values.size} nonzero values are exactly float32", confidence=0.8)
    return Finding("backward computes in float32 (every value is a float32 number); the error is larger than "
                   "float32 rounding explains, so compute in float64 and look at the formula too",
                   cause="float32", evidence=f"largest error {worst:.2g} of the gradient's size", confidence=0.5)


@hypothesis
def wrong_only_at_kinks(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Right wherever the function is smooth; wrong only at kinks or ties (x == 0 for ReLU, tied maxima)."""
    if ctx.kinks is None or np.shape(ctx.kinks) != user.shape or not np.any(ctx.kinks):
        return None
    wrong = ~facts_of(user, ref, ctx).right
    if not wrong.any() or (wrong & ~ctx.kinks).any():
        return None
    return Finding(f"right everywhere the function is smooth; wrong only at {fraction(wrong)} sitting on a kink "
                   f"or tie ({some_indices(wrong)}): there the gradient must lie between the one-sided slopes "
                   "(e.g. ReLU at exactly 0, or a max-pool tie: send the gradient to one element only)",
                   cause="kink", evidence=f"every wrong element is at a kink or tie ({some_indices(wrong)})",
                   confidence=0.85)
