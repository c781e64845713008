"""The verdict sentence of a report: one line saying what is wrong and which answer is the odd one out.

Graphs are told by counts, the odd one out and the first wrong backward rule;
hand-written code by the user's names and the cause of each wrong gradient.
Both read the same judged results.
"""

from __future__ import annotations

from .diagnosis.finding import NO_PATTERN
from .local import KINK_ORACLE, TWIN_BUG
from .probe import FiniteResult
from .report import ERROR, FAIL, NONDIFF, SKIPPED, InputResult, Report
from .verdict import INFINITE, YOURS_ODD


def graph_verdict(report: Report, finite_result: FiniteResult | None) -> str:
    """The verdict on a recorded graph: counts, the odd one out, and the first wrong backward rule."""
    statuses = [st for r in report.results for st in r.status_list()]
    notes_all = [nt for r in report.results for nt in r.note_list()]
    n = len(statuses)
    bad = report.first_bad_node
    fails = [nt for st, nt in zip(statuses, notes_all) if st == FAIL]
    if finite_result is not None and finite_result.mode == "directional":
        dir_fail = [d for d in finite_result.directional if d[4] == FAIL]
        if dir_fail:
            analytic, central = dir_fail[0][0], dir_fail[0][1]
            fails_text = (f"FAIL: along {len(dir_fail)} of {len(finite_result.directional)} random directions the "
                          f"autograd directional derivative ({analytic:.6g}) disagrees with finite differences "
                          f"({central:.6g})")
            located = [f"{r.name} ({r.status_list().count(FAIL)} of {len(r.status_list())} re-checked elements "
                       "wrong)" for r in report.results if r.status == FAIL and r.finite is not None]
            if located:
                fails_text += "; re-checked one by one: " + ", ".join(located)
            return fails_text + (f"; first wrong backward rule: {bad.where}" if bad else "") + "."
    if fails:
        odd = [nt for nt in fails if nt == YOURS_ODD]
        text = f"FAIL: {len(fails)} of {n} gradient elements are wrong"
        causes = [f"{r.name}: {r.diagnosis[0]}" for r in report.results if r.status == FAIL and r.diagnosis
                  and getattr(r.diagnosis[0], "cause", None) != NO_PATTERN]
        if causes:
            text += " (" + "; ".join(causes[:3]) + ")"
        if odd:
            text += "; finite differences and SymPy agree with each other, so " + YOURS_ODD
        if bad:
            text += f"; the first wrong backward rule in backward order is {bad.where}"
        return text + "."
    if bad and bad.oracle == KINK_ORACLE:
        return f"FAIL: {bad.where} sits at a kink or tie: {bad.message}."
    if bad:
        return (f"FAIL: the end-to-end gradients agree, but {bad.where} has a wrong backward rule "
                f"({bad.message}); its error does not reach the inputs at this point.")
    if statuses and all(st == SKIPPED for st in statuses) and INFINITE in notes_all:
        return f"SKIPPED: {INFINITE}; check at a point inside the function's domain."
    notes = {nt for nt in notes_all if nt.endswith("disagree with the other two")}
    if finite_result is not None and finite_result.mode == "directional":
        # Finite differences were taken along random directions, not per element: say what was compared.
        k = len(finite_result.directional)
        sympy_too = "SymPy" in _oracles(report)
        text = (f"PASS: autograd agrees with finite differences along {k} random directions through all {n} "
                "elements" + (" and with SymPy on every element" if sympy_too else ""))
    else:
        text = f"PASS: autograd agrees with {_oracles(report)} on all {n} elements"
    nondiff = statuses.count(NONDIFF)
    if nondiff:
        text = (f"PASS with {nondiff} non-differentiable element(s): autograd gives a valid subgradient at "
                "each kink or tie")
    kinked = [n for n in report.nodes if n.status == NONDIFF]
    reasons = [f"{n.where}: {n.message.split(';')[0]}" for n in kinked]
    tested = kinked[0].message.rpartition("(tested: ")[2][:-1] if kinked else ""  # drop its closing ")"
    if reasons and not nondiff:
        text = "PASS at a kink or tie: autograd agrees with the oracles and gives a valid subgradient at each kinked node"
    if reasons:
        text += " (" + "; ".join(reasons[:3]) + ")"
        if tested:
            text += f"; tested: {tested}"
    twin_bugs = [n for n in report.nodes if n.message.startswith(TWIN_BUG)]
    if twin_bugs and not any(note.startswith("SymPy") for note in notes):
        notes.add("SymPy disagree with the other two")
    for note in sorted(notes):
        if note.startswith("finite"):
            text += ("; finite differences are the odd one out somewhere (yours and SymPy agree): "
                     "step size or precision, see report.sweep()")
        else:
            text += "; SymPy is the odd one out somewhere (yours and finite differences agree): a twin bug"
            if twin_bugs:
                text += f" in {twin_bugs[0].where}"
    return text + "."


def _oracles(report: Report) -> str:
    names = []
    if "finite" in report.settings["methods"]:
        names.append("finite differences")
    if "symbolic" in report.settings["methods"] and not any("SymPy oracle SKIPPED" in w for w in report.warnings):
        names.append("SymPy")
    return " and ".join(names) or "no oracle"


def black_box_verdict(results: list[InputResult], answer: str, finite_result: FiniteResult | None) -> str:
    """The verdict on hand-written code: each wrong gradient by the user's name, with its cause."""
    bad = [r for r in results if r.status in (FAIL, ERROR)]
    if not bad:
        nondiff = sum(r.status_list().count(NONDIFF) for r in results)
        extra = f" ({nondiff} elements at kinks or ties, each a valid subgradient)" if nondiff else ""
        if not nondiff and any(r.status == NONDIFF for r in results):
            extra = " (some directions crossed kinks or ties, where yours is a valid subgradient)"
        if finite_result is not None and finite_result.mode == "directional":
            n = sum(len(r.status_list()) for r in results)
            return (f"PASS: {answer} agrees with finite differences along {len(finite_result.directional)} random "
                    f"directions through all {n} elements{extra}.")
        return f"PASS: every gradient agrees with central finite differences{extra}."
    messages = {r.message for r in bad}
    head = "ERROR" if any(r.status == ERROR for r in bad) else "FAIL"
    if len(messages) == 1 and len(bad) == len(results) and not any(r.diagnosis for r in bad) and bad[0].message:
        return f"{head}: {bad[0].message}."
    grouped: dict[str, list[str]] = {}
    for r in bad:
        first = str(r.diagnosis[0]) if r.diagnosis else ""
        why = ": ".join(part for part in dict.fromkeys((r.message, first)) if part) or f"max rel err {r.max_rel_err:.3g}"
        grouped.setdefault(why, []).append(r.name)
    parts = [f"{', '.join(names)}: {why}" for why, names in grouped.items()]
    return f"{head}: " + "; ".join(parts) + "."
