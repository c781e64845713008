"""Each compared input's verdict, as the judge, settle, localize and diagnose stages leave it.

Full mode judges every element against its finite difference; directional
mode has no per-element values, so its random directions judge all inputs
jointly, kinks along them are settled, and a failing direction is localized
to the wrong input(s) and their worst elements (localize.py). A parameter
gradient wrong while the input gradient is right is diagnosed again knowing
that.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .diagnosis import Context, diagnose
from .localize import localize_failures
from .report import FAIL, NONDIFF, PASS, SKIPPED, InputResult
from .settle import settle_directional_kinks
from .streams import DIRECTIONS, stream
from .subject import INPUT, PARAMETER, Subject
from .tolerance import Tolerance
from .verdict import judge


def judged(name: str, yours: np.ndarray, j: int, k: int, finite, sym, mode: str, tol: Tolerance,
           context) -> InputResult:
    """Input k (the j-th compared) judged by the one rule; in directional mode, by the joint directions."""
    diffs = finite.per_element[j] if finite is not None and finite.per_element else None
    result = judge(name, yours, diffs, None if sym is None else sym[k], tol.atol, tol.rtol, context=context)
    if mode == "directional" and finite is not None and result.status != FAIL:
        # No per-element finite values here: the random directions judge all inputs jointly.
        verdicts = [d[4] for d in finite.directional]
        if FAIL in verdicts:
            result.status = FAIL
        elif result.status == SKIPPED:
            result.status = NONDIFF if NONDIFF in verdicts else PASS
            result.message = (f"checked jointly along {len(verdicts)} random directions "
                              "(directional mode has no per-element finite differences)")
    return result


def settle_and_localize_directions(s: Subject, loss: Callable[[list], float], arrays: list[np.ndarray],
                                   yours: list[np.ndarray], base: float, compared: list[int],
                                   results: dict[int, InputResult], contexts, finite, tol: Tolerance,
                                   seed: int) -> list[str]:
    """Directional mode: kinks along failing directions settled, a real failure localized; its notes returned."""
    judged_rows = [results[k] for k in compared]
    if s.root is None and any(r[4] != PASS for r in finite.directional):
        settle_directional_kinks(judged_rows, loss, arrays, yours, finite, base, tol, stream(seed, DIRECTIONS))
        if any(r[4] == FAIL for r in finite.directional):
            for r in judged_rows:
                r.status = FAIL if r.status == NONDIFF else r.status
    if not any(r[4] == FAIL for r in finite.directional):
        return []
    failing = next((d for d, row in zip(finite.directions, finite.directional) if row[4] == FAIL), None)
    located = localize_failures(loss, arrays, yours, base, judged_rows, [contexts[k] for k in compared], tol,
                                stream(seed, DIRECTIONS), failing)
    notes = []
    for k, (result, note) in zip(compared, located):
        results[k] = result
        if note:
            notes.append(note)
    return notes


def rediagnose_parameters(s: Subject, results: dict[int, InputResult], contexts: dict[int, Context]) -> None:
    """Parameter gradients wrong while the input gradient is right: diagnose again, knowing that."""
    inputs = [r for k, r in results.items() if s.inputs[k].role == INPUT]
    if s.graph or not inputs or any(r.status != PASS for r in inputs):
        return
    parameters = [(r.autograd, r.finite) for k, r in results.items() if s.inputs[k].role == PARAMETER
                  and r.finite is not None and not r.sampled]
    for k, r in results.items():
        if s.inputs[k].role == INPUT or r.status != FAIL or r.finite is None or r.sampled:
            continue
        context = contexts[k]
        context.attrs.update(input_gradient_ok=True, parameters=parameters)
        r.diagnosis = diagnose(r.autograd, r.finite, context)
