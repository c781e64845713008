"""A Report as an HTML table, for Jupyter and web pages (Report._repr_html_ delegates here).

Statuses are words on coloured badges, not emoji: an emoji font is often
missing on lab machines and in headless browsers, and a colour alone says
nothing to a colour-blind reader. Styles are inline so the table looks the same
in a notebook, on a docs page and in an e-mail.
"""

from __future__ import annotations

import html

from .status import ReportView
from .text import fmt_index, fmt_number, settings_line

# background, text colour: dark text on a light fill, readable in print too
BADGE_COLORS = {
    "PASS": ("#d3f0c7", "#1e5d12"),
    "FAIL": ("#f9d0d0", "#8a1010"),
    "NONDIFF": ("#ffe7bf", "#7a4a00"),
    "SKIPPED": ("#e6e6e6", "#444444"),
    "ERROR": ("#f2c6f2", "#6b0f6b"),
}
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:{align}"


def badge(status: str) -> str:
    background, color = BADGE_COLORS.get(status, ("#eeeeee", "#000000"))
    return (f'<span class="gv-status gv-{status.lower()}" style="background:{background};color:{color};'
            f'font-weight:bold;padding:1px 6px;border-radius:3px;font-family:sans-serif">{status}</span>')


def _cell(text: str, align: str = "left", raw: bool = False) -> str:
    return f'<td style="{_CELL.format(align=align)}">{text if raw else html.escape(text)}</td>'


def _head(*names: str) -> str:
    cells = "".join(f'<th style="{_CELL.format(align="left")}">{html.escape(n)}</th>' for n in names)
    return f"<tr>{cells}</tr>"


def format_html(report: ReportView) -> str:
    """The verdict, the worst elements and one line per input, as one self-contained <div>."""
    esc = html.escape
    parts = [f'<div class="gv-report" style="font-family:sans-serif;font-size:13px">',
             f"<p><b>gradviz check of <code>{esc(report.subject)}</code></b>: {badge(report.status)} "
             f'<span style="color:#666">({esc(settings_line(report))})</span></p>']
    if report.verdict:
        parts.append(f"<p>{esc(report.verdict)}</p>")
    table = ['<table style="border-collapse:collapse">',
             _head("input", "index", *report.columns, "abs err", "rel err", "status")]
    for row in report.worst():
        table.append("<tr>" + _cell(row.input) + _cell(fmt_index(row.index))
                     + "".join(_cell(fmt_number(v), "right") for v in (row.autograd, row.finite, row.symbolic))
                     + _cell(fmt_number(row.abs_err, 2), "right") + _cell(fmt_number(row.rel_err, 2), "right")
                     + _cell(badge(row.status) + (f" {esc(row.note)}" if row.note else ""), raw=True) + "</tr>")
    table.append("</table>")
    parts += table
    lines = []
    for r in report.results:
        details = [esc(r.message)] if r.message else []
        details += [f"diagnosis: {esc(d)}" for d in r.diagnosis]
        lines.append(f"<li><code>{esc(r.name)}</code> {esc(str(tuple(r.shape)))}: {badge(r.status)}"
                     + "".join(f"<br>{d}" for d in details) + "</li>")
    parts.append(f'<ul style="margin:6px 0">{"".join(lines)}</ul>')
    bad = report.first_bad_node
    if bad is not None:
        parts.append(f"<p>first wrong backward rule: {esc(bad.where)}: {esc(bad.message)}</p>")
    parts += [f'<p style="color:#7a4a00">warning: {esc(w)}</p>' for w in report.warnings]
    parts.append("</div>")
    return "\n".join(parts)
