"""A Report as an HTML table, for Jupyter and web pages (Report._repr_html_ delegates here).

Statuses are words on coloured badges, not emoji: an emoji font is often
missing on lab machines and in headless browsers, and a colour alone says
nothing to a colour-blind reader. Styles are inline so the table looks the same
in a notebook, on a docs page and in an e-mail.
"""

from __future__ import annotations

import html

from .status import ReportView
from .text import ALL_INPUTS_UP_TO, MAX_GROUPS, MAX_SHOWN, filled_columns, fmt_index, fmt_number, settings_line
from .text import element_count as size, grouped

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


def _cell(text: str, align: str = "left", raw: bool = False, label: str = "") -> str:
    """A table cell; `label` (its column's name) lets a phone-width page show the row as labelled lines."""
    labelled = f' data-label="{html.escape(label)}"' if label else ""
    return f'<td{labelled} style="{_CELL.format(align=align)}">{text if raw else html.escape(text)}</td>'


def _head(*names: str) -> str:
    cells = "".join(f'<th style="{_CELL.format(align="left")}">{html.escape(n)}</th>' for n in names)
    return f"<tr>{cells}</tr>"


def _input_item(r) -> str:
    esc = html.escape
    details = [esc(r.message)] if r.message else []
    details += [f"diagnosis: {esc(d)}" for d in r.diagnosis]
    return (f"<li><code>{esc(r.name)}</code> {esc(str(tuple(r.shape)))}: {badge(r.status)}"
            + "".join(f"<br>{d}" for d in details) + "</li>")


def input_list(report: ReportView) -> list[str]:
    """One item per input, capped as the terminal caps it: past ALL_INPUTS_UP_TO inputs, those that are
    not PASS one by one, the passing ones a line per scope, and every input behind a <details>."""
    results = list(report.results)
    if len(results) <= ALL_INPUTS_UP_TO:
        return [f'<ul style="margin:6px 0">{"".join(_input_item(r) for r in results)}</ul>']
    standing_out = [r for r in results if r.status != "PASS"]
    items = [_input_item(r) for r in standing_out[:MAX_SHOWN]]
    if len(standing_out) > MAX_SHOWN:
        items.append(f"<li>... and {len(standing_out) - MAX_SHOWN} more inputs that are not PASS</li>")
    groups = grouped([r for r in results if r.status == "PASS"])
    for name, members in list(groups.items())[:MAX_GROUPS]:
        what = html.escape(f"{name}.*" if name else "(top level)")
        items.append(f"<li><code>{what}</code>: {len(members)} input{'s' if len(members) != 1 else ''}, "
                     f"{sum(size(r.shape) for r in members)} elements: {badge('PASS')}</li>")
    if len(groups) > MAX_GROUPS:
        hidden = sum(len(m) for m in list(groups.values())[MAX_GROUPS:])
        items.append(f"<li>... and {len(groups) - MAX_GROUPS} more scopes, {hidden} inputs, all PASS</li>")
    every = "".join(_input_item(r) for r in results)
    return [f'<ul style="margin:6px 0">{"".join(items)}</ul>',
            f'<details class="gv-all-inputs"><summary>all {len(results)} inputs</summary>'
            f'<ul style="margin:6px 0">{every}</ul></details>']


def format_html(report: ReportView) -> str:
    """The verdict, the worst elements and one line per input, as one self-contained <div>."""
    esc = html.escape
    parts = [f'<div class="gv-report" style="font-family:sans-serif;font-size:13px">',
             f"<p><b>gradviz check of <code>{esc(report.subject)}</code></b>: {badge(report.status)} "
             f'<span style="color:#666">({esc(settings_line(report))})</span></p>']
    if report.verdict:
        parts.append(f"<p>{esc(report.verdict)}</p>")
    rows = report.worst()
    scalars = all(not row.index for row in rows)  # a scalar has no index: no column for it
    keep = filled_columns(rows)  # no column of dashes for an oracle that did not run
    names = ["input"] + ([] if scalars else ["index"]) + [report.columns[k] for k in keep] + ["abs err", "rel err",
                                                                                              "status"]
    table = ['<table style="border-collapse:collapse">', _head(*names)]
    for row in rows:
        cells = [_cell(row.input, label="input")] + ([] if scalars else [_cell(fmt_index(row.index), label="index")])
        values = (row.autograd, row.finite, row.symbolic)
        cells += [_cell(fmt_number(values[k]), "right", label=report.columns[k]) for k in keep]
        cells += [_cell(fmt_number(row.abs_err, 2), "right", label="abs err"),
                  _cell(fmt_number(row.rel_err, 2), "right", label="rel err"),
                  _cell(badge(row.status) + (f" {esc(row.note)}" if row.note else ""), raw=True, label="status")]
        table.append("<tr>" + "".join(cells) + "</tr>")
    table.append("</table>")
    parts += table
    parts += input_list(report)
    bad = report.first_bad_node
    if bad is not None:
        parts.append(f"<p>first wrong backward rule: {esc(bad.where)}: {esc(bad.message)}</p>")
    parts += [f'<p style="color:#7a4a00">warning: {esc(w)}</p>' for w in report.warnings]
    parts.append("</div>")
    return "\n".join(parts)
