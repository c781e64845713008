"""A model's inputs inherit the cause found on its first wrong op.

Inside a model, an input's gradient is the wrong op's slip carried through every op after it,
so no hypothesis reproduces it at the input; the per-node diagnosis already named the slip
where it happens. An input left with "no known cause" is told that cause, and where.
"""

from __future__ import annotations

from .finding import NO_PATTERN, Finding


VAGUE = (NO_PATTERN, "kink")  # findings that say where, not which slip


def from_first_wrong_node(results: list, nodes: list) -> None:
    """Put the first wrong node's findings first for each failing input that has only vague ones."""
    first = next((n for n in nodes if n.status == "FAIL" and n.diagnosis), None)
    if first is None:
        return
    named = [f for f in first.diagnosis if getattr(f, "cause", "") not in VAGUE]
    if not named:
        return
    for result in results:
        if result.status != "FAIL" or any(getattr(d, "cause", "") not in VAGUE for d in result.diagnosis):
            continue
        kept = [d for d in result.diagnosis if getattr(d, "cause", "") != NO_PATTERN]
        result.diagnosis = [Finding(f"the first wrong op is {first.where}: {finding}", cause=finding.cause,
                                    evidence=f"found on that op's own backward: {finding.evidence}",
                                    confidence=finding.confidence) for finding in named] + kept
