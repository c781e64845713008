"""The one sentence on top of an engine report: which method is wrong, where, and why."""

from __future__ import annotations

from ..report import ERROR, FAIL, PASS, Report


def verdict(report: Report, name: str) -> str:
    checked = report.settings.get("checked", [])
    bad = [r for r in report.results if r.status in (FAIL, ERROR)]
    if not bad:
        ops = ", ".join(m[len(name) + 1:] if m.startswith(name + ".") else m for m in checked)
        return f"{name} passes: every operation it defines agrees with gradviz's op table, SymPy and finite " \
               f"differences ({ops}), alone and in small graphs."
    first = next((r for r in bad if not (r.diagnosis and getattr(r.diagnosis[0], "cause", "") == "built_on_wrong_op")),
                 bad[0])
    cause = first.diagnosis[0] if first.diagnosis else None
    head = "ERROR" if first.status == ERROR else "FAIL"
    more = f" ({len(bad) - 1} more below)" if len(bad) > 1 else ""
    if cause is None:
        return f"{head}: {first.name}: {first.message}.{more}"
    return f"{head}: {cause}. Seen in {first.name}: {first.message}.{more}"


__all__ = ["verdict", "PASS"]
