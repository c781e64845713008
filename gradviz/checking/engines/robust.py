"""Large inputs (tanh(800), sigmoid(-800)): an overflow is a robustness note, a wrong finite answer a failure.

Karpathy's micrograd computes tanh as (exp(2x) - 1) / (exp(2x) + 1), and
math.exp(1600) raises OverflowError; a student's sigmoid written as
1 / (1 + exp(-x)) does the same at -800. Every rule of such an engine is
right, so an overflow there is said as a note (where, and how to write it so
it cannot overflow), never a FAIL or an ERROR: exit 1 is kept for a wrong
rule or a wrong gradient. A finite answer that is wrong at a large input is
still a failure.
"""

from __future__ import annotations

import math

from ..diagnosis.finding import Finding
from ..report import ERROR, FAIL, SKIPPED, InputResult
from .cases import Case, CaseRun
from .causes import overflow_cause
from .locate import Fault

OVERFLOWS = (OverflowError, FloatingPointError)  # math.exp(1600), math.cosh(800), numpy under errstate(raise)

# (op, where it overflowed) -> how to write it so that it cannot
STABLE = {
    ("tanh", "forward"): "use math.tanh(x), or exp of a negative number only: e = math.exp(-2 * abs(x)); "
                         "t = math.copysign((1 - e) / (1 + e), x)",
    ("sigmoid", "forward"): "use exp of a negative number only: 1 / (1 + math.exp(-x)) when x >= 0, "
                            "math.exp(x) / (1 + math.exp(x)) when x < 0",
    ("tanh", "backward"): "write the derivative from the output, 1 - t**2, rather than from cosh or exp of the input",
    ("sigmoid", "backward"): "write the derivative from the output, s * (1 - s), rather than from exp of the input",
}


def expression(case: Case) -> str:
    """`tanh(800)` of the case `tanh(800) (a large input)`."""
    return case.key.rsplit(" (", 1)[0]


def overflow_notes(flagged: list[dict]) -> list[Finding]:
    """One note per method, place and phase (tanh(800) and tanh(-800) overflowing on one line are one note)."""
    merged: dict[tuple, list[dict]] = {}
    for f in flagged:
        merged.setdefault((f["method"], f["phase"], f["where"], f["what"]), []).append(f)
    notes = []
    for (method, phase, where, what), group in merged.items():
        inputs = " and ".join(f["input"] for f in group)
        sizes = " or ".join(f"{f['at']:g}" for f in group)
        advice = STABLE.get((group[0]["op"], phase), "compute it in a form that cannot overflow (exp of a "
                                                     "negative number only)")
        place = f" at {where}" if where else ""
        notes.append(Finding(f"{method} overflows on a large input: {inputs} {what}{place}. A robustness note, not "
                             f"a failure (the rule is judged at moderate inputs), but a network whose pre-activation "
                             f"reaches {sizes} would stop there: {advice}", cause="overflow",
                             evidence=f"{phase} of {inputs}: {what}{place}", confidence=0.9))
    return notes


def _flag(case: Case, phase: str, what: str, where: str, flagged: list) -> None:
    flagged.append({"method": case.method, "input": expression(case), "phase": phase, "what": what,
                    "where": where, "op": case.op, "at": case.points[0][0]})


def large_fault(case: Case, run: CaseRun, flagged: list) -> InputResult:
    """The large-input case raised: an overflow is a note (SKIPPED result), anything else an ERROR."""
    name, fault = f"{case.method} ({case.key})", run.fault
    assert fault is not None
    if isinstance(fault.error, OVERFLOWS):
        _flag(case, run.phase, f"raised {fault.kind} in its {run.phase}", _where(fault), flagged)
        return InputResult(name, (), SKIPPED, message=f"{expression(case)} not compared: {run.phase} raised "
                                                      f"{fault.text()} (a robustness note, not a failure)")
    return InputResult(name, (), ERROR, message=f"{run.phase} raised {fault.text()}", diagnosis=[
        Finding(f"{case.method} raised on {case.key}: {fault.text()}", cause="operation_raised",
                evidence=fault.text(), confidence=0.9)])


def large_verdict(case: Case, result: InputResult, run: CaseRun, bad_forward: list, flagged: list) -> None:
    """Judge a large-input case in place: nan or inf where the truth is finite is an overflow note."""
    wrong = [row for row in result.rows if row.status == FAIL]
    if not bad_forward and not wrong:
        return
    out, ref_out = bad_forward[0] if bad_forward else (run.rows[0][5], run.rows[0][6])
    overflowed = (not math.isfinite(out) and math.isfinite(ref_out)) if bad_forward else \
        all(not math.isfinite(row.autograd) and math.isfinite(row.symbolic) for row in wrong)
    if overflowed:
        phase = "forward" if bad_forward else "backward"
        what = f"gives {out:g} where the true value is {ref_out:.6g}" if bad_forward else \
            f"gives the gradient {wrong[0].autograd:g} where the true one is {wrong[0].symbolic:.6g}"
        _flag(case, phase, what, "", flagged)
        result.status, result.diagnosis = SKIPPED, []
        result.message = f"{expression(case)} not compared: it {what} (an overflow: a robustness note, not a failure)"
        return
    what = f"gives {out:.6g} where the true value is {ref_out:.6g}" if bad_forward else \
        f"gives the gradient {wrong[0].autograd:.6g} where the true one is {wrong[0].symbolic:.6g}"
    result.status, result.diagnosis = FAIL, [overflow_cause(case.method, case.key, what)]
    result.message = f"{expression(case)} {what}"


def _where(fault: Fault) -> str:
    return f"{fault.where}" + (f" (`{fault.line}`)" if fault.line else "")
