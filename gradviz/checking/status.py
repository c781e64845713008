"""The five statuses of a check, and the face of a Report that its views read.

report.py (the data) and text.py / html.py (its terminal and HTML views) all
import this module and never each other in reverse, so the report model and
its formats form no import cycle.
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol, Sequence

PASS, FAIL, NONDIFF, SKIPPED, ERROR = "PASS", "FAIL", "NONDIFF", "SKIPPED", "ERROR"
STATUSES = (PASS, FAIL, NONDIFF, SKIPPED, ERROR)  # every status a check, an input or a node can have
SHOULD_BE_ZERO = "should be 0 here"  # the note on a wrong element whose true gradient is 0
# ERROR: the user's code raised, so nothing could be compared; it outranks a wrong gradient.
RANK = {ERROR: 4, FAIL: 3, NONDIFF: 1, PASS: 0, SKIPPED: 0}


def worst_status(statuses: Iterable[str]) -> str:
    """The status that speaks for all of them: ERROR over FAIL over NONDIFF over PASS; none at all is SKIPPED."""
    statuses = list(statuses)
    if not statuses:
        return SKIPPED
    if all(s == SKIPPED for s in statuses):
        return SKIPPED
    return max(statuses, key=lambda s: RANK[s])


class ReportView(Protocol):
    """What the text and HTML views read of a Report (gradviz.checking.report.Report is one)."""

    subject: str
    results: list
    settings: dict
    verdict: str
    warnings: list
    columns: tuple

    @property
    def status(self) -> str: ...

    @property
    def first_bad_node(self) -> Any: ...

    def worst(self, n: int = 10) -> Sequence[Any]: ...
