"""Per-sample slips: only the first sample used, the last one skipped, one sample's rows missing."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis


def _describe(kept: list[int], n: int) -> tuple[str, str]:
    if kept == [0]:
        return "first_sample_only", "only the first sample is used (e.g. x[0] where x is the whole batch)"
    if kept == list(range(n - 1)):
        return "last_sample_skipped", f"the last sample is skipped (a loop over range({n} - 1), or a slice [:-1])"
    if kept == list(range(1, n)):
        return "first_sample_skipped", "the first sample is skipped (a loop starting at 1)"
    missing = [i for i in range(n) if i not in kept]
    return "samples_missing", f"samples {', '.join(map(str, missing[:6]))} are left out of the gradient"


@hypothesis
def sample_subset_rows(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """An input gradient right for some samples and zero for the others."""
    axis = ctx.batch_axis
    if user.ndim < 2 or not ctx.batch or user.shape[axis] != ctx.batch or ctx.batch < 2:
        return None
    rows_u = np.moveaxis(user, axis, 0)
    rows_r = np.moveaxis(ref, axis, 0)
    kept = []
    for i, (u, r) in enumerate(zip(rows_u, rows_r)):
        if ctx.close(u, r):
            kept.append(i)
        elif np.any(u):
            return None
    if not kept or len(kept) == ctx.batch or not all(np.any(rows_r[i]) for i in range(ctx.batch) if i not in kept):
        return None
    cause, sentence = _describe(kept, ctx.batch)
    return Finding(sentence, cause=cause, confidence=0.9,
                   evidence=f"right for samples {kept[:6]}, exactly zero for the others (batch axis {axis})")


@hypothesis
def sample_subset_sum(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """A parameter gradient that sums the per-sample contributions of only some samples."""
    if ctx.per_sample is None or not ctx.batch or ctx.batch < 2:
        return None
    parts = ctx.per_sample()
    if parts is None or parts.shape[1:] != user.shape or len(parts) != ctx.batch:
        return None
    n = ctx.batch
    for kept in ([0], list(range(n - 1)), list(range(1, n))):
        candidate = parts[kept].sum(axis=0)
        if ctx.close(user, candidate) and not ctx.close(candidate, ref):
            cause, sentence = _describe(kept, n)
            return Finding(sentence, cause=cause, confidence=0.9,
                           evidence=f"the sum of the per-sample gradients of samples {kept[:6]} reproduces yours")
        for divisor, label in ((len(kept), "the number of samples used"), (n, "the batch size")):
            if ctx.close(user, candidate / divisor) and not ctx.close(candidate / divisor, ref):
                cause, sentence = _describe(kept, n)
                return Finding(sentence, cause=cause, confidence=0.85,
                               evidence=f"the per-sample gradients of samples {kept[:6]}, divided by {label}, "
                                        "reproduce yours")
    return None


def per_sample_gradients(forward, arrays: list[np.ndarray], index: int, cotangent: np.ndarray,
                         batch_axis: int = 0, eps: float = 1e-6) -> np.ndarray | None:
    """The true gradient of arrays[index], split by sample: shape (batch, *array shape).

    Central differences of sum(forward(arrays) * cotangent) kept apart per sample
    along `batch_axis` of the output: the same 2 * size evaluations as one full
    finite-difference gradient, since every evaluation yields all samples at once.
    """
    target = arrays[index]
    if target.size > 4096 or cotangent.ndim == 0:
        return None
    other = tuple(a for a in range(cotangent.ndim) if a != batch_axis)

    def per_sample() -> np.ndarray:
        return np.sum(np.asarray(forward(arrays), dtype=np.float64) * cotangent, axis=other)

    parts = np.zeros((cotangent.shape[batch_axis],) + target.shape)
    flat = target.reshape(-1)
    if not np.shares_memory(flat, target):
        return None
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + eps
        up = per_sample()
        flat[j] = keep - eps
        down = per_sample()
        flat[j] = keep
        parts.reshape(parts.shape[0], -1)[:, j] = (up - down) / (2 * eps)
    return parts
