"""What a hidden variant may tell a student: which of their arrays is wrong and the kind of mistake, never numbers.

A hidden variant exists so that code which only works on the visible inputs fails; its report would
give away the hidden inputs (their shapes, the true gradient's values at the largest errors). The
student sees each failing array with the catalogue's one line for the cause (value-free), and the
summary still groups the class's mistakes by cause id.
"""

from __future__ import annotations

from typing import Any

from ..checking.diagnosis.catalogue import every_cause

UNNAMED = "wrong on the hidden variant's inputs, although right on the visible ones"
FORWARD_HIDDEN = "your forward differs from the expected output on the hidden variant's inputs"


def hidden_view(outcome: dict[str, Any]) -> dict[str, Any]:
    """The outcome of a hidden check as a student may see it (status, inputs and cause ids are kept)."""
    if outcome.get("cause") == "forward_differs":  # the forward comparison's message holds values and factors
        return {**outcome, "verdict": FORWARD_HIDDEN, "markdown": "", "svg": ""}
    if not outcome.get("problems"):
        return {**outcome, "markdown": "", "svg": ""}
    causes = every_cause()
    problems = []
    for problem in outcome["problems"]:
        named = [{**d, "message": causes[d["cause"]][1], "evidence": ""} for d in problem["diagnosis"]
                 if d.get("cause") in causes and d["cause"] != "no_pattern"]
        problems.append({**problem, "message": UNNAMED, "diagnosis": named})
    names = ", ".join(p["input"] for p in problems)
    verdict = f"{outcome['status']}: the gradient of {names} is {UNNAMED}"
    return {**outcome, "problems": problems, "verdict": verdict, "markdown": "", "svg": ""}
