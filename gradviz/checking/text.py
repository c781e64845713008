"""A Report as terminal text: the header, the worst-elements table, one line per input.

Kept apart from report.py so that what a check found (the data) and how it is
laid out on a terminal (this module) change independently; Report.__str__
delegates here. Markdown and JSON stay with the report: they are data formats,
not terminal layout.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # report.py imports this module; only type checkers need the reverse
    from .report import Report


def format_report(report: Report) -> str:
    """The whole report as plain text, one section after another."""
    lines = header_lines(report)
    lines.append("")
    lines += table_lines(report)
    lines.append("")
    lines += input_lines(report)
    lines += footer_lines(report)
    return "\n".join(lines)


def one_line(report: Report) -> str:
    """repr(report): the subject, the status and which inputs are wrong, on one line."""
    bad = [r.name for r in report.results if r.status in ("FAIL", "ERROR")]
    worst = max((r.max_rel_err for r in report.results), default=0.0)
    parts = [f"{len(report.results)} input{'s' if len(report.results) != 1 else ''}"]
    if bad:
        parts.append(f"wrong: {', '.join(bad)}")
    parts.append(f"max rel err {fmt_number(worst, 2)}")
    return f"<Report {report.subject!r}: {report.status}; {'; '.join(parts)}>"


def settings_line(report: Report) -> str:
    s = report.settings
    if "summary" in s:  # a check whose settings are not finite-difference tolerances states them itself
        return s["summary"]
    line = (f"eps={s.get('eps'):g} atol={s.get('atol'):g} rtol={s.get('rtol'):g} "
            f"mode={s.get('mode')} methods={','.join(s.get('methods', ()))}")
    return line + (f"; {s['tolerance']}" if s.get("strict") else "")  # strict mode states its measured tolerance


def header_lines(report: Report) -> list[str]:
    lines = [f"gradviz check of {report.subject}: {report.status}  ({settings_line(report)})"]
    if report.verdict:
        lines.append(report.verdict)
    return lines


def table_lines(report: Report) -> list[str]:
    first, second, third = report.columns
    lines = [f"{'input':<14} {'index':<12} {first:>12} {second:>12} {third:>12} "
             f"{'abs err':>9} {'rel err':>9}  status"]
    for row in report.worst():
        lines.append(
            f"{row.input[:14]:<14} {fmt_index(row.index):<12} {fmt_number(row.autograd):>12} "
            f"{fmt_number(row.finite):>12} {fmt_number(row.symbolic):>12} {fmt_number(row.abs_err, 2):>9} "
            f"{fmt_number(row.shown_rel_err, 2):>9}  {row.status}"
            + (f"  {row.note}" if row.note else "")
        )
    return lines


def input_lines(report: Report) -> list[str]:
    lines = []
    for r in report.results:
        counts = ", ".join(f"{v} {k}" for k, v in sorted(r.counts().items()))
        lines.append(f"{r.name} {tuple(r.shape)}: {r.status}" + (f" ({counts})" if counts else ""))
        if r.message:
            lines.append(f"  {r.message}")
        for d in r.diagnosis:
            lines.append(f"  diagnosis: {d}")
            if getattr(d, "evidence", ""):
                lines.append(f"    evidence: {d.evidence}")
    return lines


def footer_lines(report: Report) -> list[str]:
    lines = []
    bad = report.first_bad_node
    if bad is not None:
        lines.append(f"first wrong backward rule: {bad.where}: {bad.message}")
    for w in report.warnings:
        lines.append(f"warning: {w}")
    for note in getattr(report, "notes", ()):  # what a hand-written check assumed (convention, unchecked arrays)
        lines.append(f"note: {note}")
    return lines


def fmt_number(x, digits: int = 6) -> str:
    """A number in `digits` significant digits; None (no such oracle) is '-'."""
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.{digits}g}"


def fmt_index(index: tuple) -> str:
    return "()" if not index else "[" + ",".join(map(str, index)) + "]"
