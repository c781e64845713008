"""A check's outcome as the grader keeps it: plain data read from the Report, never from its sentences.

The status, each failing input with its diagnosis (Findings with cause ids) and a typed `cause`
for what stopped the code (set where it was detected: "syntax", "missing_module", "memory",
"timeout", "exited", ...) are all the gradebook, the feedback and the summary need.
"""

from __future__ import annotations

from typing import Any

from ..checking.diagnosis.finding import as_finding
from ..checking.report import ERROR, FAIL, Report

LIMITS = ("memory", "output_limit")  # a grading limit stopped the code: no verdict on its gradients


def report_outcome(report: Report, causes: list[str]) -> dict[str, Any]:
    bad = [r for r in report.results if r.status in (FAIL, ERROR)]
    verdict, status = report.verdict, report.status
    cause = next((c for c in causes if c in LIMITS), None)
    if cause:
        status = ERROR
    if len(bad) > 1 and len({r.message for r in bad}) == 1 and bad[0].message and not any(r.diagnosis for r in bad):
        verdict, bad = bad[0].message, []  # the code failed as a whole, not input by input
        cause = cause or (causes[0] if causes else ("raised" if status == ERROR else "failed"))
    ok = report.ok and cause is None
    return {
        "status": status, "ok": ok, "verdict": verdict, "cause": cause,
        "problems": [{"input": r.name, "status": r.status, "diagnosis": [as_finding(d).to_dict() for d in r.diagnosis],
                      "message": r.message or ""} for r in bad],
        "markdown": "" if ok else report.to_markdown(), "svg": "",
    }


def error_outcome(message: str, cause: str) -> dict[str, Any]:
    return {"status": ERROR, "ok": False, "verdict": message, "cause": cause, "problems": [], "markdown": "",
            "svg": ""}
