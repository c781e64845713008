"""Stage 4 of the pipeline: kinks and ties judged as subgradients (the Clarke hull), in every mode.

With a recorded graph, each kinked node was judged where it is (local.py's
piece enumeration), and the end-to-end elements follow their nodes. Without
one (hand-written code), the kinked elements are judged jointly: the user's
gradient must lie in the convex hull of the gradients of the smooth pieces
meeting at the point (finite.py's clarke_check).
"""

from __future__ import annotations

import numpy as np

from . import finite as fd
from .diagnosis import Finding
from .local import KINK_ORACLE
from .localize import culprits, kinks_explain
from .probe import FiniteResult
from .report import ERROR, FAIL, NONDIFF, InputResult
from .tolerance import Tolerance
from .verdict import OUTSIDE_SLOPES

MAX_SETTLED_DIRECTIONS = 3  # failing directions bisected before the failure is left to stand


def settle_graph_kinks(results: list[InputResult], nodes: list, finite_result: FiniteResult | None) -> None:
    """Kinks and ties are judged where they are: at their nodes.

    An invalid subgradient at a kinked node fails the end-to-end elements that sit
    on a kink, with the node named. When every kinked node gives a valid
    subgradient and no other rule is wrong, a disagreement with SymPy alone (no
    per-element finite differences: directional mode) is the kink's, not a bug:
    a chain of valid subgradients need not equal the twin's Heaviside(0) = 1/2.
    """
    kinked = [n for n in nodes if n.oracle == KINK_ORACLE]
    if not kinked:
        return
    wrong = [n for n in kinked if n.status == FAIL]
    if wrong:
        note = f"kink/tie: not a valid subgradient at {wrong[0].where}"
        for r, mask in zip(results, finite_result.kinked if finite_result and finite_result.kinked else
                           [None] * len(results)):
            statuses = np.asarray(r.statuses)
            hit = statuses == NONDIFF if mask is None else (mask.reshape(-1) & (statuses.reshape(-1) == NONDIFF))
            if np.any(hit):
                r.mark(hit, FAIL, note)
            if np.any(hit) or (finite_result is not None and finite_result.mode == "directional"):
                r.status = FAIL
                r.diagnosis = [Finding(f"{wrong[0].where}: {wrong[0].message}", cause="kink", confidence=0.9,
                                       evidence=f"the subgradient test at {wrong[0].where}")] + list(r.diagnosis)
        return
    if any(n.status in (FAIL, ERROR) for n in nodes) or (finite_result is not None and finite_result.mode == "full"):
        return  # with per-element finite differences, an element that disagrees with both oracles stays FAIL
    if finite_result is not None and finite_result.mode == "directional":
        # Every rule is right and every kinked node gives a valid subgradient: a random direction that
        # disagrees crossed a kink (mixed-sign upstreams hide it from the one-sided slopes).
        crossed = [k for k, row in enumerate(finite_result.directional) if row[4] == FAIL]
        for k in crossed:
            finite_result.directional[k] = finite_result.directional[k][:4] + (NONDIFF,)
        for r in results:
            if crossed and r.status == FAIL and not np.any(np.asarray(r.statuses) == FAIL):
                r.status = NONDIFF
                r.message = (f"{len(crossed)} random direction(s) crossed a kink at {kinked[0].where}, where every "
                             "node gives a valid subgradient")
    for r in results:
        if r.statuses is not None and np.any(np.asarray(r.statuses) == FAIL):
            r.mark(np.asarray(r.statuses) == FAIL, NONDIFF,
                   f"kink/tie: a valid subgradient chain through {kinked[0].where}; the other answer takes "
                   "another one-sided value")


def settle_joint_kinks(results: list[InputResult], loss, arrays: list[np.ndarray], yours: list[np.ndarray],
                       finite_result: FiniteResult, base: float, tol: Tolerance, rng: np.random.Generator) -> None:
    """Without a graph: the kinked elements of all inputs judged together against the Clarke hull.

    Coordinates alone cannot tell a subgradient from a wrong gradient (the full
    gradient sent to every tied maximum passes each coordinate's one-sided
    test), so the smooth pieces meeting at the point are enumerated.
    """
    kinked = finite_result.kinked or []
    if not any(m.any() for m in kinked):
        return
    failures = fd.joint_subgradient_failures(loss, arrays, yours, kinked, base, tol.eps, tol.atol, tol.rtol, rng)
    if not failures:  # a tie outside one coordinate's slopes, valid jointly: shared by windows whose dout differ
        for r, mask in zip(results, kinked):
            notes = np.asarray(r.notes).reshape(mask.shape) if r.notes is not None else None
            if notes is None:
                continue
            alone = mask & (np.asarray(r.statuses).reshape(mask.shape) == FAIL) & np.char.startswith(
                notes.astype(str), OUTSIDE_SLOPES)
            if alone.any():
                r.mark(alone, NONDIFF, "kink/tie: outside this element's one-sided slopes, but a valid subgradient "
                                       "jointly (a tie shared by several windows)")
                if r.status != FAIL:
                    r.diagnosis = []
        return
    for r, mask in zip(results, kinked):
        if mask.any():
            r.mark(mask & (np.asarray(r.statuses).reshape(mask.shape) == NONDIFF), FAIL,
                   "tie/kink: not a valid subgradient jointly")
            r.diagnosis = [Finding(f, cause="kink", evidence="joint subgradient test over the kinked elements",
                                   confidence=0.9) for f in failures]


def settle_directional_kinks(results: list[InputResult], loss, arrays: list[np.ndarray], yours: list[np.ndarray],
                             finite_result: FiniteResult, base: float, tol: Tolerance, rng: np.random.Generator,
                             ) -> None:
    """Without a graph, in directional mode: a disagreeing direction that only crossed valid kinks is no failure.

    Mixed-sign upstream gradients can hide a kink from a direction's one-sided
    slopes; bisection singles out the coordinates behind the disagreement, and
    if every one is a kink where yours is a valid subgradient, the direction
    is NONDIFF. A smooth coordinate that disagrees keeps the FAIL.
    """
    rows = finite_result.directional
    suspects = [k for k, row in enumerate(rows) if row[4] in (FAIL, NONDIFF)]  # NONDIFF: crossed a kink, unjudged
    explained = []
    for k in suspects[:MAX_SETTLED_DIRECTIONS]:
        valid = kinks_explain(loss, arrays, yours, base, culprits(loss, arrays, yours, finite_result.directions[k], tol),
                              tol, rng)
        if valid is False:
            rows[k] = rows[k][:4] + (FAIL,)
            return
        if valid is None and rows[k][4] == FAIL:
            return  # the disagreement is spread over many coordinates: no sparse kink explains it
        explained.append(k)
    failing = [k for k in suspects if rows[k][4] == FAIL]
    if not failing:
        return
    for k in failing:
        rows[k] = rows[k][:4] + (NONDIFF,)
    for r in results:
        if r.status == FAIL and not np.any(np.asarray(r.statuses) == FAIL):
            r.status = NONDIFF
            r.message = (f"{len(failing)} random direction(s) crossed kinks (singled out by bisection), where yours "
                         "is a valid subgradient")
