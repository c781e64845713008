"""One Markdown page per student: the score, and for each target that did not pass, why, in words.

A failing target shows its diagnosis, the report of the visible check, and the verdict drawn on
the checked graph when the code built one. A hidden variant is named but its report is not
shown: the student learns that their code only works on the visible inputs, not what the hidden
ones are.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..checking.report import PASS
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
        (folder / f"{name}.md").write_text(feedback_page(header, r, drawings))
    return folder


def feedback_page(header: dict, r: SubmissionResult, drawings: Path) -> str:
    lines = [f"# {header['title']}: feedback for {r.student}", "",
             f"**Score: {r.score:g} / {r.max_score:g}**", "",
             "| target | points | result |", "|---|---|---|"]
    for t in r.targets:
        why = f": {_md(t.reason)}" if t.reason else ""
        lines.append(f"| {t.target} | {t.points:g} / {t.max_points:g} | {MARKS.get(t.status, t.status)}{why} |")
    for t in r.targets:
        if t.status != PASS:
            lines += ["", *_target_section(t, drawings)]
    for note in r.notes:
        lines += ["", f"> note: {note}"]
    if r.output:
        cut = " (cut off)" if r.output_bytes > len(r.output.encode()) else ""
        lines += ["", f"## What your code printed{cut}", "", "```text", r.output.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def _target_section(t: TargetResult, drawings: Path) -> list[str]:
    lines = [f"## {t.target}: {MARKS.get(t.status, t.status)}", ""]
    for check in t.checks:
        if check["ok"]:
            continue
        where = "the visible check" if check["check"] == "visible" else f"{check['check']} (hidden)"
        said = [f"- `{problem['input']}`: {_md(sentence)}" for problem in check["problems"]
                for sentence in [d["message"] for d in problem["diagnosis"]] or [problem["message"]] * bool(problem["message"])]
        lines += [f"**In {where}:**", "", *said] if said else [f"**In {where}:** {_md(check['verdict'] or check['status'])}"]
        lines.append("")
        if check["check"] == "visible" and check["markdown"] and check["problems"]:  # a table says more than one line
            lines += ["<details><summary>the full report</summary>", "", check["markdown"].rstrip("\n"), "",
                      "</details>", ""]
        if check["check"] == "visible" and check["svg"]:
            drawings.mkdir(parents=True, exist_ok=True)
            picture = drawings / f"{safe_name(t.target)}.svg"
            picture.write_text(check["svg"])
            lines += [f"![the verdict drawn on your graph]({drawings.name}/{picture.name})", ""]
    return lines


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
