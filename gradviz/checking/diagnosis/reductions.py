"""Reductions: a gradient summed over the wrong axis, or a broadcast dimension never summed away.

A bias-like gradient is the upstream gradient summed over the axes the forward broadcast along.
Both slips are recomputed from the arrays: every way of summing dout (or of summing yours down
to the parameter's shape) is tried, and a finding is given only when one reproduces yours.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis


def _axis_sets(ndim: int):
    for r in range(1, ndim + 1):
        yield from combinations(range(ndim), r)


def _axes_text(axes: tuple) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes))


def _sum_matching(total: np.ndarray, target: np.ndarray, ctx: Context) -> tuple | None:
    """The axes of `total` whose sum holds target's numbers (in target's shape)."""
    for axes in _axis_sets(total.ndim):
        summed = total.sum(axis=axes)
        if summed.size == target.size and ctx.close(summed.reshape(target.shape), target):
            return axes
    return None


@hypothesis(any_shape=True)
def wrong_reduction_axis(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """db = dout.sum(axis=1) where dout.sum(axis=0) belongs: of the right size when dout is square, else of the
    batch's size (the shape alone says it is wrong; the sum says why)."""
    g = ctx.cotangent
    if not isinstance(g, np.ndarray) or g.ndim < 2 or g.size == ref.size:
        return None
    right = _sum_matching(g, ref, ctx)
    if right is None:
        return None
    for axes in _axis_sets(g.ndim):
        summed = g.sum(axis=axes)
        if axes != right and summed.size == user.size and ctx.close(summed.reshape(user.shape), user) \
                and (summed.size != ref.size or not ctx.close(summed.reshape(ref.shape), ref)):
            return Finding(f"it is dout summed over {_axes_text(axes)} where the sum belongs over {_axes_text(right)} "
                           "(the axis the forward broadcast along)", cause="wrong_reduction_axis", confidence=0.95,
                           evidence=f"dout.sum({_axes_text(axes)}) reproduces yours; dout.sum({_axes_text(right)}) "
                                    "is the true gradient")
    return None


@hypothesis(any_shape=True)
def broadcast_kept(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """A gradient of the broadcast shape (batch, D) handed back for a (D,) parameter: the sum is missing."""
    if user.size <= ref.size or user.size % max(ref.size, 1) or user.ndim < 1:
        return None
    axes = _sum_matching(user, ref, ctx)
    if axes is None:
        return None
    name = ctx.name or "the parameter"
    return Finding(f"it keeps the broadcast dimension: shape {user.shape} where {name} has shape {ref.shape}; "
                   f"sum it over {_axes_text(axes)} (the forward broadcast {name} along it)",
                   cause="broadcast_kept", confidence=0.95,
                   evidence=f"yours summed over {_axes_text(axes)} equals the true gradient")


@hypothesis
def summed_as_shared(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Every entry along an axis given that axis's total (a depthwise conv's filter gradient summed over channels and
    repeated, as if one filter were shared by all): yours is the true gradient summed over the axis, broadcast back."""
    if user.shape != ref.shape:
        return None
    for axes in _axis_sets(ref.ndim):
        if len(axes) == ref.ndim or all(ref.shape[a] == 1 for a in axes):
            continue
        shared = np.broadcast_to(ref.sum(axis=axes, keepdims=True), ref.shape)
        if ctx.close(shared, ref * int(np.prod([ref.shape[a] for a in axes]))):
            continue  # the true gradient is constant along these axes: the sum is a factor, named as one elsewhere
        if ctx.close(user, shared) and not ctx.close(shared, ref):
            return Finding(f"every entry along {_axes_text(axes)} holds the total over {_axes_text(axes)}: the "
                           f"gradient is summed there as if one value were shared along it (one filter for every "
                           f"channel), but each entry has its own; keep them apart (no sum over {_axes_text(axes)})",
                           cause="summed_as_shared", confidence=0.9,
                           evidence=f"the true gradient summed over {_axes_text(axes)} and broadcast back reproduces "
                                    "yours on every element")
    return None
