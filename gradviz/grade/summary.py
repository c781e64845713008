"""The teacher's one-page view of a run: a self-contained HTML file (no scripts, no external files).

It shows the score distribution, each target's pass rate, the most common mistakes grouped by
cause with links to the feedback of students who made them, and every student's row.
"""

from __future__ import annotations

import html
import statistics
from collections import Counter
from pathlib import Path

from ..checking.report import PASS
from .feedback import safe_name
from .mistakes import Mistake
from .results import SubmissionResult

EXAMPLES = 5
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 .8em; color: #222; }
td, th { overflow-wrap: anywhere; } #score-histogram { max-width: 100%; height: auto; }
@media (max-width: 600px) { body { margin: 1em auto; } td, th { padding: .25em .3em; } .stats span { margin-right: 1em; } }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .3em .6em; border-bottom: 1px solid #eee;
text-align: left; vertical-align: top; } th { background: #f6f6f6; }
.num { text-align: right; font-variant-numeric: tabular-nums; } .stats span { margin-right: 2em; }
.PASS { color: #1a7f37; } .FAIL { color: #cf222e; } .ERROR, .TIMEOUT { color: #9a6700; }
.bar { background: #4c78a8; height: .9em; display: inline-block; } .muted { color: #777; font-size: .9em; }
"""


def write_summary(path: Path, header: dict, results: list[SubmissionResult], mistakes: list[Mistake]) -> Path:
    path.write_text(summary_html(header, results, mistakes))
    return path


def summary_html(header: dict, results: list[SubmissionResult], mistakes: list[Mistake]) -> str:
    esc = html.escape
    scores = [r.score for r in results]
    out_of = sum(t["points"] for t in header["targets"])
    parts = [f"<!doctype html><html><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'>"  # phones: no 980 px page
             f"<title>{esc(header['title'])}: grades</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{esc(header['title'])}</h1>"]
    if scores:
        parts.append("<p class='stats'>" + "".join(f"<span><b>{esc(k)}</b> {esc(v)}</span>" for k, v in [
            ("submissions", str(len(results))), ("mean", f"{statistics.mean(scores):.1f} / {out_of:g}"),
            ("median", f"{statistics.median(scores):g}"), ("full marks", str(sum(s == out_of for s in scores)))])
            + "</p>")
    parts += ["<h2>Score distribution</h2>", histogram(scores, out_of)]
    parts += ["<h2>Targets</h2>", _targets(header, results)]
    parts += ["<h2>Most common mistakes</h2>", _mistakes(mistakes)]
    parts += ["<h2>Every submission</h2>", _students(header, results)]
    isolation = next((r.isolation for r in results if r.isolation), {})
    if isolation:
        parts.append("<p class='muted'>Isolation of each submission: " + "; ".join(
            f"{esc(k)}: {esc(v)}" for k, v in isolation.items()) + ".</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def histogram(scores: list[float], out_of: float, width: int = 400, height: int = 180) -> str:
    """An inline SVG bar chart: how many students got each score (ten bins when scores are many).

    400 units wide with 13-unit text: shrunk to a phone's width, its labels stay above 10 CSS px.
    """
    if not scores:
        return "<p>No submissions.</p>"
    values = sorted({0.0, out_of, *scores})
    whole = all(float(s).is_integer() for s in values) and out_of <= 20
    edges = [float(k) for k in range(int(out_of) + 1)] if whole else [out_of * k / 10 for k in range(11)]
    counts = Counter(_bin(s, edges) for s in scores)
    n, top = len(edges), max(counts.values())
    bar, base = width / n, height - 30
    svg = [f"<svg id='score-histogram' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' "
           f"role='img' aria-label='score distribution'>"]
    for k, edge in enumerate(edges):
        h = (base - 20) * counts.get(k, 0) / top
        x = k * bar
        label = f"{edge:g}" if whole or k == n - 1 else f"{edge:.3g}"
        svg.append(f"<rect class='bin' data-score='{label}' data-count='{counts.get(k, 0)}' x='{x + 2:.1f}' "
                   f"y='{base - h:.1f}' width='{bar - 4:.1f}' height='{h:.1f}' fill='#4c78a8'/>")
        if counts.get(k):
            svg.append(f"<text x='{x + bar / 2:.1f}' y='{base - h - 4:.1f}' font-size='13' "
                       f"text-anchor='middle'>{counts[k]}</text>")
        svg.append(f"<text x='{x + bar / 2:.1f}' y='{base + 16:.1f}' font-size='13' "
                   f"text-anchor='middle'>{label}</text>")
    svg.append(f"<line x1='0' y1='{base}' x2='{width}' y2='{base}' stroke='#999'/></svg>")
    return "".join(svg)


def _bin(score: float, edges: list[float]) -> int:
    return max(k for k, edge in enumerate(edges) if score >= edge - 1e-9)


def _targets(header: dict, results: list[SubmissionResult]) -> str:
    rows = ["<table><tr><th>target</th><th class='num'>points</th><th class='num'>passed</th><th></th></tr>"]
    for t in header["targets"]:
        passed = sum(1 for r in results for x in r.targets if x.target == t["name"] and x.status == PASS)
        share = passed / len(results) if results else 0.0
        rows.append(f"<tr><td>{html.escape(t['name'])}</td><td class='num'>{t['points']:g}</td>"
                    f"<td class='num'>{passed} / {len(results)}</td>"
                    f"<td><span class='bar' style='width:{12 * share:.2f}em'></span></td></tr>")
    return "".join(rows) + "</table>"


def _link(student: str) -> str:
    return f"<a href='feedback/{html.escape(safe_name(student))}.html'>{html.escape(student)}</a>"


def _mistakes(mistakes: list[Mistake]) -> str:
    if not mistakes:
        return "<p>Every submission passed every target.</p>"
    rows = ["<table id='mistakes'><tr><th class='num'>submissions</th><th>target</th><th>mistake</th>"
            "<th>examples</th></tr>"]
    for m in mistakes:
        more = len(m.students) - EXAMPLES
        examples = ", ".join(_link(s) for s in m.students[:EXAMPLES]) + (f" and {more} more" if more > 0 else "")
        rows.append(f"<tr class='mistake'><td class='num'>{len(m.students)}</td><td>{html.escape(m.target)}</td>"
                    f"<td>{html.escape(m.cause)}</td><td>{examples}</td></tr>")
    return "".join(rows) + "</table>"


def _students(header: dict, results: list[SubmissionResult]) -> str:
    names = [t["name"] for t in header["targets"]]
    rows = ["<table id='students'><tr><th>student</th><th class='num'>score</th>"
            + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"]
    for r in results:
        cells = {t.target: t for t in r.targets}
        row = [f"<tr><td>{_link(r.student)}</td><td class='num'>{r.score:g} / {r.max_score:g}</td>"]
        for n in names:
            t = cells.get(n)
            status = t.status if t else "ERROR"
            row.append(f"<td class='{status}' title='{html.escape(t.reason if t else '')}'>{status}</td>")
        rows.append("".join(row) + "</tr>")
    return "".join(rows) + "</table>"
