"""Per-sample slips: only the first sample used, the last one skipped, one sample's rows missing."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .facts import facts_of
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
    rows_u = np.moveaxis(user, axis, 0).reshape(ctx.batch, -1)
    rows_r = np.moveaxis(ref, axis, 0).reshape(ctx.batch, -1)
    right = (np.abs(rows_u - rows_r) <= ctx.atol + ctx.rtol * np.abs(rows_r)).all(axis=1)  # per sample
    if (~right & (rows_u != 0).any(axis=1)).any():
        return None  # a sample wrong and not zero: not a subset left out
    kept = np.flatnonzero(right).tolist()
    if not kept or len(kept) == ctx.batch or not all(np.any(rows_r[i]) for i in range(ctx.batch) if i not in kept):
        return None
    cause, sentence = _describe(kept, ctx.batch)
    return Finding(sentence, cause=cause, confidence=0.9,
                   evidence=f"right for samples {kept[:6]}, exactly zero for the others (batch axis {axis})")


SAMPLED_ELEMENTS = 12  # elements of a parameter whose per-sample split is measured (2 forwards each)


@hypothesis
def sample_subset_sum(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """A parameter gradient that sums the per-sample contributions of only some samples.

    The true per-sample split costs two forwards per element, so it is measured on a fixed
    random choice of at most SAMPLED_ELEMENTS elements (all of them for a small parameter),
    those the error touches first; the evidence says how many.
    """
    if ctx.per_sample is None or not ctx.batch or ctx.batch < 2 or user.size == 0:
        return None
    elements = _chosen_elements(user, ref, ctx)
    key = ("per_sample", tuple(elements))
    if key not in ctx.memo:  # a gradient diagnosed twice (parameters re-diagnosed) measures its split once
        ctx.memo[key] = ctx.per_sample(elements=elements)
    parts = ctx.memo[key]
    if parts is None or parts.shape != (ctx.batch, len(elements)):
        return None
    n = ctx.batch
    mine, true = user.reshape(-1)[elements], ref.reshape(-1)[elements]
    where = "every element" if len(elements) == user.size else f"{len(elements)} of its {user.size} elements"
    sums = np.stack([parts[0], parts[:-1].sum(axis=0), parts[1:].sum(axis=0)])  # the samples kept, in turn:
    tries = [(kept, divisor, label)  # [0], all but the last, all but the first; each divided three ways
             for kept in ([0], list(range(n - 1)), list(range(1, n)))
             for divisor, label in ((1, ""), (len(kept), ", divided by the number of samples used"),
                                    (n, ", divided by the batch size"))]
    candidates = np.repeat(sums, 3, axis=0) / np.array([[d] for _, d, _ in tries], dtype=np.float64)
    reproduce = (np.abs(mine - candidates) <= ctx.atol + ctx.rtol * np.abs(candidates)).all(axis=1)
    for i in np.flatnonzero(reproduce):  # (usually none: then nothing more is computed)
        if not ctx.close(candidates[i], true):
            kept, divisor, label = tries[i]
            cause, sentence = _describe(kept, n)
            return Finding(sentence, cause=cause, confidence=0.9 if divisor == 1 else 0.85,
                           evidence=f"the per-sample gradients of samples {kept[:6]}{label} reproduce yours on "
                                    f"{where}")
    return None


def _chosen_elements(user: np.ndarray, ref: np.ndarray, ctx: Context) -> list[int]:
    """The wrong elements first (largest error first), then others, at most SAMPLED_ELEMENTS, seeded."""
    if user.size <= SAMPLED_ELEMENTS:
        return list(range(user.size))
    wrong = ~facts_of(user, ref, ctx).right.reshape(-1)
    order = np.argsort(~wrong, kind="stable")  # the wrong elements first, in index order
    picked = order[: SAMPLED_ELEMENTS // 2] if wrong.any() else order[:0]
    step = (user.size - 1) / (SAMPLED_ELEMENTS - 1)  # then elements spread over the array (np.linspace's points)
    spread = [int(k * step) for k in range(SAMPLED_ELEMENTS - 1)] + [user.size - 1]
    return sorted(set(picked.tolist()) | set(spread))[:SAMPLED_ELEMENTS]


def per_sample_gradients(forward, arrays: list[np.ndarray], index: int, cotangent: np.ndarray,
                         batch_axis: int = 0, eps: float = 1e-6, elements: list[int] | None = None) -> np.ndarray | None:
    """The true gradient of arrays[index], split by sample: shape (batch, *array shape).

    Central differences of sum(forward(arrays) * cotangent) kept apart per sample
    along `batch_axis` of the output: every evaluation yields all samples at once.
    With `elements` (flat indices), only those are measured: shape (batch, len(elements)).
    """
    target = arrays[index]
    if (target.size if elements is None else len(elements)) > 4096 or cotangent.ndim == 0:
        return None
    other = tuple(a for a in range(cotangent.ndim) if a != batch_axis)

    def per_sample() -> np.ndarray:
        return np.sum(np.asarray(forward(arrays), dtype=np.float64) * cotangent, axis=other)

    flat = target.reshape(-1)
    if not np.shares_memory(flat, target):
        return None
    chosen = range(flat.size) if elements is None else elements
    parts = np.zeros((cotangent.shape[batch_axis], len(chosen)))
    for column, j in enumerate(chosen):
        keep = flat[j]
        flat[j] = keep + eps
        up = per_sample()
        flat[j] = keep - eps
        down = per_sample()
        flat[j] = keep
        parts[:, column] = (up - down) / (2 * eps)
    return parts.reshape((len(parts),) + target.shape) if elements is None else parts
