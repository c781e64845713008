"""Stage 6 for directional checks: which input is wrong, and its worst elements, at bounded cost.

Random directions through all inputs say *that* a gradient is wrong, not
which. Each input is re-checked alone along a few directions of its own; a
wrong input is then re-checked element by element, whole when it is small
and at a random sample of its elements when it is large, so the report still
names the worst elements without paying one evaluation pair per element of a
784x256 weight matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import finite as fd
from .diagnosis import Context
from .report import FAIL, PASS, InputResult
from .tolerance import Tolerance
from .verdict import judge

OWN_DIRECTIONS = 3  # directions per input when several inputs share the blame
WHOLE_LIMIT = 100  # a wrong input this small is re-checked at every element
SAMPLE = 48  # elements re-checked in a larger wrong input


@dataclass
class Located:
    """A wrong input's finite differences at some of its elements (flat indices), or at all of them."""

    index: int  # which input
    elements: np.ndarray | None  # flat indices re-checked; None = every element
    differences: fd.Differences  # at those elements (flat when sampled, the input's shape when whole)


def wrong_inputs(loss, arrays: list[np.ndarray], yours: list[np.ndarray], base: float, tol: Tolerance,
                 rng: np.random.Generator) -> list[int]:
    """The inputs whose own directional derivatives disagree (all of them when there is only one)."""
    if len(arrays) == 1:
        return [0]
    wrong = []
    for i, (a, g) in enumerate(zip(arrays, yours)):
        if a.size == 0:
            continue
        for _ in range(OWN_DIRECTIONS):
            d = rng.normal(size=a.shape)
            d /= np.linalg.norm(d) or 1.0
            direction = [d if j == i else np.zeros(x.shape) for j, x in enumerate(arrays)]
            central, fwd, bwd = fd.directional_difference(loss, arrays, direction, tol.eps, base)
            analytic = float(np.sum(g * d))
            crosses_kink = abs(fwd - bwd) > 10 * (tol.atol + tol.rtol * max(abs(fwd), abs(bwd)))
            if not crosses_kink and abs(analytic - central) > tol.atol + tol.rtol * abs(central):
                wrong.append(i)
                break
    return wrong


def locate(loss, arrays: list[np.ndarray], index: int, base: float, tol: Tolerance,
           rng: np.random.Generator) -> Located:
    """Central differences of one wrong input, whole or at a sample of its elements."""
    target = arrays[index]
    if target.size <= WHOLE_LIMIT:
        diffs = fd.full_differences(lambda _: loss(arrays), [target], tol.eps, base)[0]
        return Located(index, None, diffs)
    elements = np.sort(rng.choice(target.size, size=SAMPLE, replace=False))
    flat = target.reshape(-1)
    fwd, bwd = fd.one_sided_slopes(lambda _: loss(arrays), flat, tol.eps, base, coords=elements)
    fwd, bwd = fwd[elements], bwd[elements]
    return Located(index, elements, fd.Differences((fwd + bwd) / 2, fwd, bwd))


def localize_failures(loss, arrays: list[np.ndarray], yours: list[np.ndarray], base: float,
                      results: list[InputResult], contexts: list[Context], tol: Tolerance,
                      rng: np.random.Generator) -> list[tuple[InputResult, str]]:
    """Each input's result after localization, and a note saying how it was re-checked ('' if it was not)."""
    wrong = set(wrong_inputs(loss, arrays, yours, base, tol, rng))
    out = []
    for j, r in enumerate(results):
        if j not in wrong:
            if r.status == FAIL and r.symbolic is None:
                r.status, r.message = PASS, ("checked alone along random directions of its own after the joint "
                                             "check failed: this one agrees")
            out.append((r, ""))
            continue
        found = locate(loss, arrays, j, base, tol, rng)
        out.append(_relocated(r, yours[j], found, contexts[j], tol))
    return out


def _relocated(r: InputResult, yours: np.ndarray, found: Located, context: Context,
               tol: Tolerance) -> tuple[InputResult, str]:
    """The input judged element by element at the re-checked elements (rows keep their real indices)."""
    if found.elements is None:
        judged = judge(r.name, yours, found.differences, r.symbolic, tol.atol, tol.rtol, context=context)
        note = f"{r.name}: re-checked at every element after the random directions disagreed"
        return (judged if judged.status != PASS else _keep_failed(r, judged)), note
    sample = yours.reshape(-1)[found.elements]
    small = Context(name=r.name, batch=context.batch, atol=tol.atol, rtol=tol.rtol, attrs=dict(context.attrs))
    judged = judge(r.name, sample, found.differences, None, tol.atol, tol.rtol, context=small)
    indices = [tuple(int(i) for i in np.unravel_index(e, yours.shape)) for e in found.elements]
    rows = judged.rows
    for row, index in zip(rows, indices):
        row.index = index
    judged.row_source, judged.shape, judged.sampled = rows, tuple(yours.shape), True
    note = (f"{r.name}: re-checked at {len(indices)} randomly sampled elements of {yours.size} after the random "
            "directions disagreed")
    return (judged if judged.status != PASS else _keep_failed(r, judged)), note


def _keep_failed(before: InputResult, after: InputResult) -> InputResult:
    """Elements re-checked one by one all agree although the direction failed: keep the joint FAIL, say both."""
    before.message = (f"the random directions disagree but the {len(after.status_list())} re-checked elements agree: "
                      "the error is spread thinly or sits outside the sample")
    return before
