"""A Report as terminal text: the header, the worst-elements table, the inputs, fitted to a width.

Kept apart from report.py so that what a check found (the data) and how it is
laid out on a terminal (this module) change independently; Report.__str__
delegates here. Markdown and JSON stay with the report: they are data formats,
not terminal layout.

Layout rules: everything fits `width` columns (the terminal's, else 80, also
when piped): a name too long for the table's first column gets a line of its own
above its row (names are never cut), a value column no row fills is left out,
and prose (verdict, diagnosis, warnings, notes) is wrapped at word boundaries
(prose.py). Failing rows come first. A note several inputs share is said once.
A report with many inputs shows the ones that are not PASS one by one and the
passing ones a line per scope, with a count of the rest; a directional check
shows the directional derivatives it compared. Colour is ANSI on the status
words only, and only when asked for (see `use_color`).
"""

from __future__ import annotations

import math
import os
import re
import shutil
from typing import Any, Sequence

from .prose import said_of, shared, wrap
from .status import ReportView

DEFAULT_WIDTH = 80
MIN_NAME = 10  # the input column never shrinks below this
ALL_INPUTS_UP_TO = 12  # more inputs than this: the passing ones are grouped by scope
MAX_SHOWN = 10  # inputs that are not PASS shown one by one, at most
MAX_GROUPS = 8  # scope lines for the passing inputs, at most
GAP = 2  # spaces between table columns
SHORT_TITLES = {"finite differences": "finite"}  # a column title, where the long one does not fit
COLOURS = {"PASS": "32", "FAIL": "1;31", "ERROR": "1;31", "NONDIFF": "33", "SKIPPED": "2"}


def terminal_width() -> int:
    """The terminal's width (COLUMNS wins), 80 when output is not a terminal."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def use_color(stream: Any) -> bool:
    """Colour for this stream: a TTY, NO_COLOR unset, TERM not dumb; FORCE_COLOR forces it (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def paint(status: str, color: bool) -> str:
    """A status word in its colour (green PASS, red FAIL/ERROR, yellow NONDIFF, dim SKIPPED)."""
    code = COLOURS.get(status)
    return f"\033[{code}m{status}\033[0m" if color and code else status


def format_report(report: ReportView, width: int | None = None, color: bool = False) -> str:
    """The whole report as text, its tables at most `width` columns wide, one section after another."""
    width = max(40, width or terminal_width())
    lines = header_lines(report, color, width)
    table = table_lines(report, width, color)
    if table:
        lines += [""] + table
    lines.append("")
    lines += input_lines(report, color, width)
    lines += footer_lines(report, width)
    return "\n".join(lines)


def one_line(report: ReportView) -> str:
    """repr(report): the subject, the status and which inputs are wrong, on one line."""
    bad = [r.name for r in report.results if r.status in ("FAIL", "ERROR")]
    worst = max((r.max_rel_err for r in report.results), default=0.0)
    parts = [f"{len(report.results)} input{'s' if len(report.results) != 1 else ''}"]
    if bad:
        shown = ", ".join(bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
        parts.append(f"wrong: {shown}")
    parts.append(f"max rel err {fmt_number(worst, 2)}")
    return f"<Report {report.subject!r}: {report.status}; {'; '.join(parts)}>"


def settings_line(report: ReportView) -> str:
    s = report.settings
    if "summary" in s:  # a check whose settings are not finite-difference tolerances states them itself
        return s["summary"]
    line = (f"eps={s.get('eps'):g} atol={s.get('atol'):g} rtol={s.get('rtol'):g} "
            f"mode={s.get('mode')} methods={','.join(s.get('methods', ()))}")
    return line + (f"; {s['tolerance']}" if s.get("strict") else "")  # strict mode states its measured tolerance


def header_lines(report: ReportView, color: bool = False, width: int = DEFAULT_WIDTH) -> list[str]:
    # the subject and the status stay on the first line, whatever its length; the settings follow, wrapped
    head, settings = f"gradviz check of {report.subject}: {report.status}", f"({settings_line(report)})"
    lines = [f"{head}  {settings}"] if len(head) + 2 + len(settings) <= width else [head, *wrap(settings, width, "  ")]
    if color:
        lines[0] = lines[0].replace(f": {report.status}", f": {paint(report.status, True)}", 1)
    if report.verdict:
        for sentence in report.verdict.split("\n"):
            lines += wrap(sentence, width)
    return lines


# -- the worst-elements table -------------------------------------------------------


def table_lines(report: ReportView, width: int = DEFAULT_WIDTH, color: bool = False) -> list[str]:
    """The worst elements; in directional mode, the directional derivatives instead of rows without a finite value."""
    rows = [r for r in report.worst() if not _unjudged(r)]
    if rows and any(r.status in ("FAIL", "ERROR") for r in report.results):  # failing first, even without elements
        rows = _uncompared(report, rows) + rows
    directions = list(getattr(report, "directional", None) or [])
    lines = []
    if rows:
        lines += _element_table(report, rows, width, color)
    if directions:
        lines += ([""] if lines else []) + _direction_table(directions, width, color)
    return lines


class _NotCompared:
    """A table row for an input that failed with no element compared (a gradient of the wrong shape, or
    one that raised): without it, the table of a failing check would show only passing rows."""

    index = autograd = finite = symbolic = abs_err = shown_rel_err = None
    note = "no element compared (see below)"

    def __init__(self, name: str, status: str):
        self.input, self.status = name, status


def _uncompared(report: ReportView, rows: list) -> list:
    shown = {r.input for r in rows}
    return [_NotCompared(r.name, r.status) for r in report.results
            if r.status in ("FAIL", "ERROR") and r.name not in shown and not {"FAIL", "ERROR"} & set(r.counts())]


def _unjudged(row) -> bool:
    """A row no oracle judged (directional mode without SymPy): nothing to show per element."""
    return row.status == "SKIPPED" and row.symbolic is None and (row.finite is None or math.isnan(row.finite))


def _element_table(report: ReportView, rows: list, width: int, color: bool) -> list[str]:
    """The rows at 6 significant digits, or fewer when that is what it takes to fit `width`."""
    for digits in (6, 4, 3):
        lines = _element_grid(report, rows, width, color, digits)
        if max(len(line) for line in lines[:2]) <= width + (len(lines[1]) - len(_plain(lines[1]))):
            break
    return lines


def filled_columns(rows: Sequence) -> list[int]:
    """Which of the three value columns (yours, finite differences, SymPy) any row fills: an oracle that did not
    run (SymPy for hand-written code) gets no column of dashes, in the text, the HTML or the Markdown."""
    return [k for k, field in enumerate(("autograd", "finite", "symbolic"))
            if k == 0 or any(fmt_number(getattr(r, field)) != "-" for r in rows)]


def _element_grid(report: ReportView, rows: list, width: int, color: bool, digits: int) -> list[str]:
    names = list(report.columns)
    values = [[fmt_number(r.autograd, digits), fmt_number(r.finite, digits), fmt_number(r.symbolic, digits)]
              for r in rows]
    keep = filled_columns(rows)  # drop a column nobody filled
    scalars = all(not r.index for r in rows)  # scalars have no index: no column for it
    index = (lambda r: []) if scalars else (lambda r: [fmt_index(r.index) if r.index is not None else "-"])
    header = ["input"] + ([] if scalars else ["index"]) + [names[k] for k in keep] + ["abs err", "rel err"]
    body = [[r.input] + index(r) + [v[k] for k in keep] + [fmt_number(r.abs_err, 2), fmt_number(r.shown_rel_err, 2)]
            for r, v in zip(rows, values)]
    return _grid(header, body, [r.status for r in rows], [r.note for r in rows], width, color,
                 left=1 if scalars else 2)


def _plain(line: str) -> str:
    return re.sub(r"\033\[[0-9;]*m", "", line)


def _direction_table(directions: Sequence, width: int, color: bool) -> list[str]:
    """One row per random unit direction v: your gradient's g.v against the central difference along v."""
    title = f"directional derivatives g.v along {len(directions)} random unit directions v:"
    header = ["direction", "yours", "finite differences", "abs err", "rel err"]
    body, statuses = [], []
    for k, d in enumerate(directions, 1):
        analytic, central, status = d[0], d[1], d[-1]
        err = abs(analytic - central)
        body.append([str(k), fmt_number(analytic), fmt_number(central), fmt_number(err, 2),
                     fmt_number(err / max(abs(central), 1e-12), 2)])
        statuses.append(status)
    return [title] + _grid(header, body, statuses, [""] * len(body), width, color, left=1)


def _grid(header: list[str], body: list[list[str]], statuses: list[str], notes: list[str], width: int,
          color: bool, left: int) -> list[str]:
    """Columns sized to their content; the first column narrows until a row fits `width`, and a name
    longer than it goes on a line of its own above its rows (a name is never cut).

    `left` columns are left-aligned (names, indices), the rest right-aligned (numbers).
    """
    status_width = max(len("status"), *(len(s) for s in statuses))

    def measure(names: list[str]) -> tuple[list[int], int, int]:
        widths = [max(len(names[c]), *(len(row[c]) for row in body)) for c in range(len(names))]
        gap = GAP if sum(widths) + GAP * len(widths) + status_width <= width + widths[0] - MIN_NAME else 1
        return widths, gap, sum(widths) + gap * len(widths) + status_width

    widths, gap, used = measure(header)
    if used - widths[0] + MIN_NAME > width:  # still too wide with short names: the short column titles
        header = [SHORT_TITLES.get(name, name) for name in header]
        widths, gap, used = measure(header)
    if used > width:
        widths[0] = max(min(MIN_NAME, widths[0]), len(header[0]), widths[0] - (used - width))

    def line(cells: list[str]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [cells[c].ljust(widths[c]) if c < left else cells[c].rjust(widths[c]) for c in range(1, len(cells))]
        return (" " * gap).join(parts) + " " * gap

    out = [line(header) + "status"]
    previous = None
    for cells, status, note in zip(body, statuses, notes):
        if len(cells[0]) > widths[0]:  # a name is never cut: it gets a line of its own, once per run of rows
            if cells[0] != previous:
                out.append(cells[0])
            previous, cells = cells[0], [""] + cells[1:]
        else:
            previous = cells[0]
        row = line(cells)
        if note and len(row) + len(status) + 2 + len(note) <= width:
            out.append(f"{row}{paint(status, color)}  {note}")
        else:
            out.append(row + paint(status, color))
            if note:
                out += wrap(note, width, "    ")
    return out


# -- the inputs ---------------------------------------------------------------------


def input_lines(report: ReportView, color: bool = False, width: int = DEFAULT_WIDTH) -> list[str]:
    """One line per input; past ALL_INPUTS_UP_TO inputs, the passing ones a line per scope, capped.

    A note that several inputs share (how they were judged, a message) is said once, after them.
    """
    results = list(report.results)
    common = shared([(r.name, _how_judged(r)) for r in results] + [(r.name, r.message) for r in results])
    if len(results) <= ALL_INPUTS_UP_TO:
        lines = [line for r in results for line in _input_block(r, color, width, common)]
        return lines + [line for note, names in common.items() for line in wrap(f"{said_of(names, len(results))}: {note}", width)]
    lines = []
    standing_out = [r for r in results if r.status != "PASS"]
    for r in standing_out[:MAX_SHOWN]:
        lines += _input_block(r, color, width, common)
    if len(standing_out) > MAX_SHOWN:
        rest = standing_out[MAX_SHOWN:]
        lines.append(f"... and {len(rest)} more inputs that are not PASS ({_counts(r.status for r in rest)}); "
                     "report.results or --json lists them all")
    groups = grouped([r for r in results if r.status == "PASS"])
    for name, members in list(groups.items())[:MAX_GROUPS]:
        elements = sum(element_count(r.shape) for r in members)
        what = f"{name}.*" if name else "(top level)"
        lines.append(f"{what}: {len(members)} input{'s' if len(members) != 1 else ''}, {elements} elements: "
                     f"{paint('PASS', color)}")
    if len(groups) > MAX_GROUPS:
        hidden = list(groups.values())[MAX_GROUPS:]
        count = sum(len(m) for m in hidden)
        lines.append(f"... and {len(hidden)} more scope{'s' if len(hidden) != 1 else ''}, {count} "
                     f"input{'s' if count != 1 else ''}, all PASS")
    return lines


DIRECTIONAL = "judged along the random directions, not per element"


def _how_judged(r) -> str:
    tally = r.counts()
    return DIRECTIONAL if list(tally) == ["SKIPPED"] and r.status != "SKIPPED" else ""


def _input_block(r, color: bool, width: int = DEFAULT_WIDTH, common: dict | None = None) -> list[str]:
    common = common or {}
    tally = r.counts()
    counts = _how_judged(r) or ", ".join(f"{v} {k}" for k, v in sorted(tally.items()))
    if counts in common:
        counts = ""
    head = f"{r.name} {tuple(r.shape)}: {paint(r.status, color)}" + (f" ({counts})" if counts else "")
    lines = [head]
    if r.message and r.message not in common:
        lines += wrap(r.message, width, "  ")
    for d in r.diagnosis:
        lines += wrap(f"diagnosis: {d}", width, "  ")
        if getattr(d, "evidence", ""):
            lines += wrap(f"evidence: {d.evidence}", width, "    ")
    return lines


def scope_parts(name: str) -> list[str]:
    """A parameter path's scopes: 'layer0.neuron1.w2' -> three parts. Only a dot outside brackets and quotes,
    and not between two digits, separates scopes: 'Value.__add__ (a + 1.5)' is two parts, the number whole."""
    parts, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(name):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        elif c == "." and depth == 0 and not (0 < i < len(name) - 1 and name[i - 1].isdigit()
                                                and name[i + 1].isdigit()):
            parts.append(name[start:i])
            start = i + 1
    return parts + [name[start:]]


def scope_of(name: str, depth: int) -> str:
    """The first `depth` scopes of a parameter path: ('layer0.neuron1.w2', 1) -> 'layer0'; '' at top level."""
    return ".".join(scope_parts(name)[:-1][:depth])


def grouped(results: list) -> dict[str, list]:
    """Inputs by scope, as deep as still fits in MAX_GROUPS lines (at least by their first scope)."""
    deepest = max((len(scope_parts(r.name)) - 1 for r in results), default=0)
    best: dict[str, list] = {}
    for depth in range(1, max(deepest, 1) + 1):
        groups: dict[str, list] = {}
        for r in results:
            groups.setdefault(scope_of(r.name, depth), []).append(r)
        if best and len(groups) > MAX_GROUPS:
            break
        best = groups
    return best


def element_count(shape) -> int:
    return math.prod(shape) if shape else 1


def _counts(statuses) -> str:
    tally: dict[str, int] = {}
    for s in statuses:
        tally[s] = tally.get(s, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(tally.items()))


def footer_lines(report: ReportView, width: int = DEFAULT_WIDTH) -> list[str]:
    lines = []
    bad = report.first_bad_node
    if bad is not None:
        lines += wrap(f"first wrong backward rule: {bad.where}: {bad.message}", width)
    for w in report.warnings:
        lines += wrap(f"warning: {w}", width)
    for note in getattr(report, "notes", ()):  # what a hand-written check assumed (convention, unchecked arrays)
        lines += wrap(f"note: {note}", width)
    return lines


# -- pieces -------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """`text` cut in the middle to `limit` characters ('layer1.neuro…ron3.w2'), so both ends stay readable."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2:]


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
