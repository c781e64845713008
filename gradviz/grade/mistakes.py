"""The mistakes a class makes, grouped by cause: what the summary's "most common mistakes" lists.

A wrong gradient is grouped by the cause its diagnosis names (every student whose dW is divided
by the batch size twice, however each wrote it, is one group); code that could not be checked by what stopped it (a
syntax error, a missing module, the time or memory limit). A target that passes its visible
check but fails a hidden variant is its own group: the sign of a hard-coded shape or seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checking.diagnosis.finding import NO_PATTERN
from ..checking.report import ERROR, FAIL
from .results import TIMEOUT, SubmissionResult, TargetResult


@dataclass
class Mistake:
    target: str  # the target, or the targets a submission-wide failure took down ("Dense, MSE")
    cause: str  # the sentence shown (the first student's, when the diagnosis names the cause)
    students: list[str] = field(default_factory=list)


def cause_of(result: TargetResult) -> str:
    """One sentence naming why a target failed, the same for every submission with that mistake."""
    return _classify(result)[1]


def _classify(result: TargetResult) -> tuple[str, str]:
    """(grouping key, sentence): a diagnosis groups by its named cause, anything else by its sentence."""
    bad = [c for c in result.checks if not c["ok"]]
    if not bad:
        return "", ""
    only_hidden = all(c["check"] != "visible" for c in bad) and any(c["check"] == "visible" for c in result.checks)
    key, sentence = _cause(bad[0])
    if only_hidden:
        return f"hidden:{key}", f"passes the visible check but not a hidden variant: {sentence}"
    return key, sentence


# What stopped the code, by the typed cause set where it was detected (judge.py, worker.py, targets.py).
STOPPED = {
    "syntax": "a syntax error: the file does not load",
    "missing_module": "imports a module that is not installed",
    "import_raised": "the file raises while it is imported",
    "missing_file": "a file the target names is missing",
    "missing_name": "does not define what the target names",
    "unreadable": "gradviz could not read the code the target names",
    "not_gradable": "the target is an autograd engine, whose check cannot run outside the student's process yet",
    "memory": "runs out of memory",
    "output_limit": "prints more than the output limit",
    "exited": "ends the process early (os._exit or sys.exit)",
    "killed": "its process was killed",
    "timeout": "does not finish within the time limit (an endless loop?)",
    "too_large": "the submission has too many or too large files",
    "protocol": "the worker broke the grading protocol (a forged or malformed answer)",
    "oversized": "the worker sent an answer larger than the limits",
    "closed": "the code closed the grader's channel",
    "interrupted": "the grader stopped while it ran",
    "raised": "its code raises an exception",
    "failed": "its code fails as a whole",
    "grader": "the grader's own process for it stopped",
    "forward_differs": "the forward differs from the expected output",
    "return_order": "returns the right values in another order than the assignment's",
    "forward_unmatched": "its arrays do not match the reference's, so the forwards could not be compared",
    "reference": "the teacher's reference could not be run",
}


def _cause(outcome: dict) -> tuple[str, str]:
    if outcome["status"] == FAIL:
        for problem in outcome["problems"]:
            for finding in problem["diagnosis"]:
                where = problem["input"]
                if finding["cause"] == NO_PATTERN:
                    return f"{where}:{NO_PATTERN}", f"{where} wrong, in no pattern gradviz recognises"
                if finding["cause"] != "explanation":
                    return f"{where}:{finding['cause']}", f"{where}: {finding['message']}"
                return f"{where}:{finding['message']}", f"{where}: {finding['message']}"
        for problem in outcome["problems"]:
            if problem["message"]:  # a gradient that could not be compared (None, a wrong shape): by input
                return f"{problem['input']}:uncompared", f"{problem['input']} could not be compared: {problem['message']}"
        if outcome["problems"]:
            wrong = ", ".join(p["input"] for p in outcome["problems"])
            return f"{wrong}:{NO_PATTERN}", f"{wrong} wrong, in no pattern gradviz recognises"
    if outcome["status"] == TIMEOUT:
        return "timeout", STOPPED["timeout"]
    cause = outcome.get("cause") or "raised"
    return cause, STOPPED.get(cause, STOPPED["raised"])


def common_mistakes(results: list[SubmissionResult]) -> list[Mistake]:
    """Every cause with the students who made it, most common first.

    A wrong gradient is a mistake in one target; code that does not load or run (a syntax error,
    a missing module, the time limit) is one mistake however many targets it takes down, and a
    target left unchecked because the process had already stopped is not counted again.
    """
    groups: dict[tuple[str, str], Mistake] = {}
    for submission in results:
        for target in submission.targets:
            if target.status not in (FAIL, ERROR, TIMEOUT) or all(c.get("unchecked") for c in target.checks
                                                                    if not c["ok"]):
                continue
            key, sentence = _classify(target)
            where = target.target if target.status == FAIL else ""
            mistake = groups.setdefault((where, key), Mistake("", sentence))
            if target.target not in mistake.target.split(", "):
                mistake.target = ", ".join(filter(None, [mistake.target, target.target]))
            if submission.student not in mistake.students:
                mistake.students.append(submission.student)
    return sorted(groups.values(), key=lambda m: (-len(m.students), m.target, m.cause))
