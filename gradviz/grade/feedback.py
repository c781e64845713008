"""One Markdown page per student (and the same page as HTML, which the summary links to): the score,
and for each target that did not pass, why, in words.

A failing target shows its diagnosis and the report of the visible check. Everything that came
from the submission is escaped for Markdown or fenced (hygiene.py): a student's message cannot
add links, images, HTML or formatting to the page. A hidden variant is named but its report is not
shown: the student learns that their code only works on the visible inputs, not what the hidden
ones are.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..checking.report import PASS
from .feedback_html import markdown_to_html
from .hygiene import fenced, for_markdown, one_line
from .results import SubmissionResult, TargetResult

MARKS = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "ERROR": "💥 ERROR", "TIMEOUT": "⏱️ TIMEOUT"}


def safe_name(student: str) -> str:
    """A file name for a student's pages (folder names may hold spaces or odd characters)."""
    return re.sub(r"[^\w.-]+", "_", student).strip("._") or "student"


def write_feedback(folder: Path, header: dict, results: list[SubmissionResult]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        name = safe_name(r.student)
        drawings = folder / name
        page = feedback_page(header, r, drawings)
        (folder / f"{name}.md").write_text(page)
        (folder / f"{name}.html").write_text(markdown_to_html(page, one_line(f"{header['title']}: feedback for {r.student}")))
    return folder


def feedback_page(header: dict, r: SubmissionResult, drawings: Path) -> str:
    """Every string that came from the submission (its name, messages, output) is escaped or fenced."""
    lines = [f"# {_md(header['title'])}: feedback for {_md(r.student)}", "",
             f"**Score: {r.score:g} / {r.max_score:g}**", "",
             "| target | points | result |", "|---|---|---|"]
    for t in r.targets:
        why = f": {_md(t.reason)}" if t.reason else ""
        lines.append(f"| {_md(t.target)} | {t.points:g} / {t.max_points:g} | {MARKS.get(t.status, t.status)}{why} |")
    for t in r.targets:
        if t.status != PASS:
            lines += ["", *_target_section(t, drawings)]
    for note in r.notes:
        lines += ["", f"> note: {_md(note)}"]
    if r.output:
        cut = " (cut off)" if r.output_bytes > len(r.output.encode()) else ""
        lines += ["", f"## What your code printed{cut}", "", fenced(r.output.rstrip("\n"))]
    return "\n".join(lines) + "\n"


def _target_section(t: TargetResult, drawings: Path) -> list[str]:
    lines = [f"## {_md(t.target)}: {MARKS.get(t.status, t.status)}", ""]
    for check in t.checks:
        if check["ok"]:
            continue
        where = "the visible check" if check["check"] == "visible" else f"{_md(check['check'])} (hidden)"
        said = [f"- {code(problem['input'])}: {_md(sentence)}" for problem in check["problems"]
                for sentence in [d["message"] for d in problem["diagnosis"]] or [problem["message"]] * bool(problem["message"])]
        lines += [f"**In {where}:**", "", *said] if said else [f"**In {where}:** {_md(check['verdict'] or check['status'])}"]
        lines.append("")
        if check["check"] == "visible" and check["markdown"] and check["problems"]:  # a table says more than one line
            lines += ["<details><summary>the full report</summary>", "", fenced(check["markdown"].rstrip("\n"), 20000),
                      "", "</details>", ""]
    return lines


def code(text: str) -> str:
    """A name as inline code when it cannot break out of the code span, else as escaped text."""
    line = one_line(text, 120)
    return f"`{line}`" if "`" not in line else for_markdown(line)


def _md(text: str) -> str:
    return for_markdown(text)
