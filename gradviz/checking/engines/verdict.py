"""The one sentence on top of an engine report: which method is wrong, where, and why.

It speaks for the report's status (ERROR outranks FAIL, as the header does), so
the header and the verdict never disagree. A pass says its robustness notes
(an op that overflows at a large input) in a clause, so `-q` shows them too.
"""

from __future__ import annotations

from ..report import ERROR, FAIL, PASS, Report


def verdict(report: Report, name: str) -> str:
    checked = report.settings.get("checked", [])
    bad = [r for r in report.results if r.status in (FAIL, ERROR)]
    if not bad:
        ops = ", ".join(m[len(name) + 1:] if m.startswith(name + ".") else m for m in checked)
        own = ", ".join(m[len(name) + 1:] if m.startswith(name + ".") else m
                        for m in report.settings.get("own_checked", []))
        own = f" Operations gradviz has no rule for ({own}) agree with finite differences of your own forward." \
            if own else ""
        skipped = ", ".join(m[len(name) + 1:] if m.startswith(name + ".") else m
                            for m in report.settings.get("own_skipped", []))
        own += f" Not checked ({skipped}): see their rows for why." if skipped else ""
        return f"{name} passes: every operation it defines agrees with gradviz's op table, SymPy and finite " \
               f"differences ({ops}), alone and in small graphs.{own}" + _robustness(report.settings.get("robustness", []))
    head = ERROR if any(r.status == ERROR for r in bad) else FAIL
    leading = [r for r in bad if r.status == head]
    first = next((r for r in leading if not (r.diagnosis and getattr(r.diagnosis[0], "cause", "") == "built_on_wrong_op")),
                 leading[0])
    cause = first.diagnosis[0] if first.diagnosis else None
    more = f" ({len(bad) - 1} more below)" if len(bad) > 1 else ""
    if cause is None:
        return f"{head}: {first.name}: {first.message}.{more}"
    return f"{head}: {cause}. Seen in {first.name}: {first.message}.{more}"


def _robustness(flagged: list) -> str:
    if not flagged:
        return ""
    inputs: dict[str, list[str]] = {}
    for f in flagged:
        inputs.setdefault(f["method"], []).append(f["input"])
    said = "; ".join(f"{method} overflows on {' and '.join(dict.fromkeys(shown))}" for method, shown in inputs.items())
    notes = "the robustness note" if len(inputs) == 1 else "the robustness notes"
    return f" Not a failure, but see {notes} below: {said}."


__all__ = ["verdict", "PASS"]
