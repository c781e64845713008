"""The mistakes a class makes, grouped by cause: what the summary's "most common mistakes" lists.

A wrong gradient is grouped by the cause its diagnosis names (every student whose dW is divided
by the batch size twice, however each wrote it, is one group); code that could not be checked by what stopped it (a
syntax error, a missing module, the time or memory limit). A target that passes its visible
check but fails a hidden variant is its own group: the sign of a hard-coded shape or seed.
"""

from __future__ import annotations

import re
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
            if problem["message"]:
                kind = f"{problem['input']}: {_error_kind(problem['message'])}"
                return kind, kind
        if outcome["problems"]:
            wrong = ", ".join(p["input"] for p in outcome["problems"])
            return f"{wrong}:{NO_PATTERN}", f"{wrong} wrong, in no pattern gradviz recognises"
    if outcome["status"] == TIMEOUT:
        return TIMEOUT, "does not finish within the time limit (an endless loop?)"
    kind = _error_kind(outcome["verdict"])
    return kind, kind


_KINDS = [
    (r"syntax error in", lambda m: "a syntax error: the file does not load"),
    (r"No module named '([\w.]+)'", lambda m: f"imports {m.group(1)}, which is not installed"),
    (r"ran out of memory|killed \(usually: it ran out of memory\)", lambda m: "runs out of memory"),
    (r"output limit", lambda m: "prints more than the output limit"),
    (r"exited early|sys\.exit", lambda m: "ends the process early (os._exit or sys.exit)"),
    (r"no such file: (\S+)", lambda m: f"the file {m.group(1)} is missing"),
    (r"has no '(\w+)'", lambda m: f"does not define {m.group(1)}"),
    (r"did not finish within", lambda m: "does not finish within the time limit (an endless loop?)"),
    (r"returned None", lambda m: "backward returns None (a missing return statement?)"),
    (r"([\w.]+) \(gradient of (\w+)\) returned shape (\(.*?\)), expected (\(.*?\))",
     lambda m: f"{m.group(1)} returns the gradient of {m.group(2)} with shape {m.group(3)} instead of {m.group(4)}"),
    (r"shape", lambda m: "returns a gradient of the wrong shape"),
    (r"raised (\w+)", lambda m: f"its code raises {m.group(1)}"),
]


def _error_kind(message: str) -> str:
    for pattern, words in _KINDS:
        match = re.search(pattern, message)
        if match:
            return words(match)
    return message.split("\n", 1)[0][:120]


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
