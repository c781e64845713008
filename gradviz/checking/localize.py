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
from typing import Iterable, Iterator

import numpy as np

from . import finite as fd
from .diagnosis import Context, Finding
from .diagnosis.finding import NO_PATTERN
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
           rng: np.random.Generator, suspects: list[int] = (), sample: bool = True) -> Located:
    """Central differences of one wrong input, whole or at a sample of its elements plus the suspects."""
    target = arrays[index]
    if target.size <= WHOLE_LIMIT:
        diffs = fd.full_differences(lambda _: loss(arrays), [target], tol.eps, base)[0]
        return Located(index, None, diffs)
    drawn = rng.choice(target.size, size=SAMPLE, replace=False) if sample else np.zeros(0, dtype=int)
    elements = np.union1d(drawn, np.asarray(suspects, dtype=int))
    flat = target.reshape(-1)
    fwd, bwd = fd.one_sided_slopes(lambda _: loss(arrays), flat, tol.eps, base, coords=elements)
    fwd, bwd = fwd[elements], bwd[elements]
    return Located(index, elements, fd.Differences((fwd + bwd) / 2, fwd, bwd))


def localize_failures(loss, arrays: list[np.ndarray], yours: list[np.ndarray], base: float,
                      results: list[InputResult], contexts: list[Context], tol: Tolerance,
                      rng: np.random.Generator, failing: list[np.ndarray] | None = None,
                      ) -> list[tuple[InputResult, str]]:
    """Each input's result after localization, and a note saying how it was re-checked ('' if it was not).

    `failing` is a random direction that disagreed: bisecting it singles out sparse culprits (one wrong
    row, a bad value at a kink) that a random sample would miss; they join the re-checked elements.
    """
    wrong = set(wrong_inputs(loss, arrays, yours, base, tol, rng))
    suspects: dict[int, list[int]] | None = None
    out = []
    for j, r in enumerate(results):
        found = locate(loss, arrays, j, base, tol, rng) if j in wrong else None
        sample_missed = found is not None and found.elements is not None and not _shows_error(found, yours[j], tol)
        if failing is not None and (sample_missed or not wrong):
            if suspects is None:  # the sample missed: bisect the failing direction once for sparse culprits
                suspects = {}
                for i, c in culprits(loss, arrays, yours, failing, tol):
                    suspects.setdefault(i, []).append(c)
            if suspects.get(j):
                found = locate(loss, arrays, j, base, tol, rng, suspects[j], sample=found is not None)
        if found is None:
            if r.status == FAIL and r.symbolic is None:
                r.status, r.message = PASS, ("checked alone along random directions of its own after the joint "
                                             "check failed: this one agrees")
            out.append((r, ""))
            continue
        out.append(_relocated(r, yours[j], found, contexts[j], tol))
    return out


def _shows_error(found: Located | None, yours: np.ndarray, tol: Tolerance) -> bool:
    """Whether the re-checked elements include one that disagrees."""
    if found is None:
        return False
    mine = yours.reshape(-1) if found.elements is None else yours.reshape(-1)[found.elements]
    reference = found.differences.central.reshape(-1)
    return bool(np.any(~tol.agree(mine, reference)))


def _relocated(r: InputResult, yours: np.ndarray, found: Located, context: Context,
               tol: Tolerance) -> tuple[InputResult, str]:
    """The input judged element by element at the re-checked elements (rows keep their real indices)."""
    if found.elements is None:
        judged = judge(r.name, yours, found.differences, r.symbolic, tol.atol, tol.rtol, context=context)
        note = f"{r.name}: re-checked at every element after the random directions disagreed"
        return (judged if judged.status != PASS else _keep_failed(r, judged)), note
    sample = yours.reshape(-1)[found.elements]
    small = Context(name=r.name, batch=context.batch, atol=tol.atol, rtol=tol.rtol, attrs=dict(context.attrs),
                    framework=context.framework)
    judged = judge(r.name, sample, found.differences, None, tol.atol, tol.rtol, context=small)
    indices = [tuple(int(i) for i in np.unravel_index(e, yours.shape)) for e in found.elements]
    rows = judged.rows
    for row, index in zip(rows, indices):
        row.index = index
    judged.row_source, judged.shape, judged.sampled = rows, tuple(yours.shape), True
    if judged.diagnosis and getattr(judged.diagnosis[0], "cause", None) == NO_PATTERN:
        judged.diagnosis = [_sampled_no_pattern(rows, yours.size)]
    note = (f"{r.name}: re-checked at {len(indices)} randomly sampled elements of {yours.size} after the random "
            "directions disagreed")
    return (judged if judged.status != PASS else _keep_failed(r, judged)), note


def _keep_failed(before: InputResult, after: InputResult) -> InputResult:
    """Elements re-checked one by one all agree although the direction failed: keep the joint FAIL, say both."""
    before.message = (f"the random directions disagree but the {len(after.status_list())} re-checked elements agree: "
                      "the error is spread thinly or sits outside the sample")
    return before


MAX_CULPRITS = 32  # coordinates a bisection may single out before it stops (a dense error shows in a sample)
MAX_BISECTION_TESTS = 200  # blocks tested (2 evaluations each) before a bisection stops


def culprits(loss, arrays: list[np.ndarray], yours: list[np.ndarray], direction: list[np.ndarray], tol: Tolerance,
             ) -> Iterator[tuple[int, int]]:
    """The coordinates (input, flat index) that make one random direction disagree, found by bisection.

    The error of a directional derivative is the sum of its coordinates'
    errors, so halving the direction's support and keeping the halves that
    still disagree singles out a sparse cause (an element at a kink, one wrong
    entry) in O(k log n) evaluations instead of 2n. A generator: the caller
    stops as soon as it has seen enough.
    """
    sizes = [a.size for a in arrays]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    flat_d = np.concatenate([d.reshape(-1) for d in direction])
    flat_g = np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1) for g in yours])

    def disagrees(block: np.ndarray) -> bool:
        part = np.zeros_like(flat_d)
        part[block] = flat_d[block]
        pieces = [part[offsets[i]:offsets[i + 1]].reshape(a.shape) for i, a in enumerate(arrays)]
        up = loss([a + tol.eps * p for a, p in zip(arrays, pieces)])
        down = loss([a - tol.eps * p for a, p in zip(arrays, pieces)])
        central = (up - down) / (2 * tol.eps)
        analytic = float(np.dot(flat_g[block], flat_d[block]))
        return abs(analytic - central) > tol.atol + tol.rtol * abs(central)

    stack = [np.flatnonzero(flat_d)]
    tests = found = 0
    while stack and found < MAX_CULPRITS and tests < MAX_BISECTION_TESTS:
        block = stack.pop()
        tests += 1
        if block.size == 0 or not disagrees(block):
            continue
        if block.size == 1:
            found += 1
            i = int(np.searchsorted(offsets, block[0], side="right") - 1)
            yield i, int(block[0] - offsets[i])
            continue
        half = block.size // 2
        stack += [block[half:], block[:half]]


def kinks_explain(loss, arrays: list[np.ndarray], yours: list[np.ndarray], base: float,
                  found: Iterable[tuple[int, int]], tol: Tolerance, rng: np.random.Generator) -> bool | None:
    """Whether the singled-out coordinates are all kinks at which yours is a valid (Clarke) subgradient.

    None when bisection singled out nothing; False at the first smooth coordinate that disagrees (a wrong
    gradient, not a kink: no need to look further).
    """
    masks = [np.zeros(a.shape, dtype=bool) for a in arrays]
    seen = False
    for i, j in found:
        seen = True
        flat = arrays[i].reshape(-1)
        fwd, bwd = fd.one_sided_slopes(lambda _: loss(arrays), flat, tol.eps, base, coords=[j])
        if not fd.kink_mask(fwd[[j]], bwd[[j]], tol.atol, tol.rtol)[0]:
            return False  # a smooth coordinate that disagrees: a wrong gradient, not a kink
        masks[i].reshape(-1)[j] = True
    if not seen:
        return None
    return not fd.joint_subgradient_failures(loss, arrays, yours, masks, base, tol.eps, tol.atol, tol.rtol, rng)


def _sampled_no_pattern(rows, size: int) -> Finding:
    """'No simple pattern' said with the real indices of the re-checked elements."""
    wrong = [r for r in rows if r.status == FAIL]
    worst = sorted(wrong, key=lambda r: -abs(r.abs_err))[:3]
    places = ", ".join(f"{list(r.index)} (yours {r.autograd:.4g}, true {r.finite:.4g})" for r in worst)
    return Finding(f"no simple pattern among the {len(rows)} re-checked elements of {size}: the largest errors are "
                   f"at {places}; {len(wrong)} of {len(rows)} re-checked elements are wrong", cause=NO_PATTERN,
                   evidence="a sample of the elements, plus those bisection singled out", confidence=0.0)
