"""What a submission writes never becomes markup, formulas or terminal commands in the teacher's files.

Every string from a submission (its folder name, its exception messages, its printed output)
is cut to a length and escaped for where it lands; big, sparse and linked files are measured
before anything is copied.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade_class as klass  # noqa: E402

from gradviz.grade import grade, sandbox  # noqa: E402
from gradviz.grade.hygiene import clip, fenced, for_csv, for_html, for_markdown, for_terminal  # noqa: E402

NO_BWRAP = sandbox.unusable()
HOSTILE = "<img src=x onerror=alert(1)> [click](http://evil.example) ``` \x1b[2J\x1b]0;owned\x07 | row"


def test_each_destination_gets_inert_text():
    assert "<img" not in for_html(HOSTILE) and "&lt;img" in for_html(HOSTILE)
    md = for_markdown(HOSTILE)
    assert "\x1b" not in md and "<img" not in md.replace("\\<", "") and "](http" not in md and "```" not in md
    assert "\n" not in md
    assert "\\<img" in md and "\\|" in md
    block = fenced("print('x')\n````\n# heading")
    fence = block.split("\n", 1)[0].removesuffix("text")
    assert len(fence) == 5 and block.endswith("\n" + fence)  # longer than any backtick run inside
    for formula in ("=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"):
        assert for_csv(formula).startswith("'"), formula
    assert for_csv("alice") == "alice" and for_csv("o'brien") == "o'brien"
    assert for_terminal("a\x1b[31mred\x1b[0m\rb") == "a[31mred[0mb"


def test_ten_megabytes_of_text_cost_what_reading_them_costs():
    text = ("<a" + "\x1b[" * 3 + "`" * 7 + "x" * 50) * 200_000  # ~12 MB of every character the escapes touch
    start = time.perf_counter()
    for escape in (for_html, for_markdown, for_csv, for_terminal):
        assert len(escape(text)) < 20_000
    fenced(text)
    assert len(clip(text, 10 ** 9)) < len(text)  # every control character removed, in one pass
    assert time.perf_counter() - start < 5.0


def _outside_fences(page: str) -> str:
    """The Markdown that renders as markup: every line outside a fenced code block."""
    kept, fence = [], None
    for line in page.splitlines():
        if fence is None and line.startswith("```"):
            fence = line[:len(line) - len(line.lstrip("`"))]
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            kept.append(line)
    return "\n".join(kept)


@pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")
def test_a_hostile_submission_cannot_inject_into_any_output(tmp_path):
    subs = tmp_path / "subs"
    (tmp_path / "course").mkdir()
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=20)
    teacher = tmp_path / "course" / "answers.txt"
    teacher.write_text("the answer key")
    klass.write_submission(subs / "alice")
    evil = '=HYPERLINK("http evil")'  # a folder name is the student's text too
    message = HOSTILE + "x" * 10_000_000
    klass.write_submission(subs / evil, klass.LAYERS.replace(
        "dx = dZ @ self.W.T", f"print({HOSTILE!r})\n        raise ValueError({HOSTILE!r} + 'x' * 10_000_000)"))
    sparse = subs / "sid"
    klass.write_submission(sparse)
    with (sparse / "weights.bin").open("wb") as handle:
        handle.truncate(1 << 30)  # 1 GiB that occupies no disk
    linker = subs / "lin"
    klass.write_submission(linker)
    os.symlink(teacher, linker / "answers.txt")  # a link out of the submission
    os.symlink("layers.py", linker / "alias.py")  # a link inside it
    start = time.perf_counter()
    grade(subs, spec, tmp_path / "out", jobs=2)
    assert time.perf_counter() - start < 120 and len(message) > 10 ** 7
    out = tmp_path / "out"
    summary = (out / "summary.html").read_text()
    assert "<img" not in summary and "&lt;img" in summary
    with (out / "gradebook.csv").open() as handle:
        students = [row["student"] for row in csv.DictReader(handle)]
    assert "'" + evil in students and evil not in students
    page = next((out / "feedback").glob("HYPERLINK*.md")).read_text()
    assert "\x1b" not in page
    assert "<img" not in _outside_fences(page).replace("\\<", "")  # escaped where it renders, literal in fences
    printed = page.split("## What your code printed", 1)[1]
    assert printed.count("```") >= 2 and "&lt;" not in printed  # fenced, not escaped: the student sees their text
    assert len(page) < 100_000
    doc = {s["student"]: s for s in json.loads((out / "gradviz-results.json").read_text())["submissions"]}
    assert doc[evil]["targets"][0]["status"] == "ERROR" and len(doc[evil]["targets"][0]["reason"]) < 5000
    assert doc["sid"]["score"] == 0 and "1024.0 MB of files; the limit is 50 MB" in doc["sid"]["targets"][0]["reason"]
    assert doc["sid"]["seconds"] < 60  # refused before anything was read
    assert doc["lin"]["score"] == 5 and any("answers.txt" in n and "outside" in n for n in doc["lin"]["notes"])
    assert teacher.read_text() == "the answer key"
    assert doc["alice"]["score"] == 5


def test_the_html_feedback_page_shows_a_hostile_string_as_text():
    """feedback_html reads hygiene's escapes back as literal characters, which html.escape makes inert."""
    from gradviz.grade.feedback_html import markdown_to_html
    from gradviz.grade.hygiene import fenced, for_markdown

    evil = "<script>alert(1)</script> **x** `y` [a](http://e.com) ![i](http://e.com/i.png) \\| | &amp;"
    md = "\n".join([f"# T: feedback for {for_markdown(evil)}", "", "| target | points | result |", "|---|---|---|",
                    f"| {for_markdown(evil)} | 1 / 1 | FAIL: {for_markdown(evil)} |", "", f"- `x`: {for_markdown(evil)}",
                    "", f"> note: {for_markdown(evil)}", "", fenced("```\n</pre><script>x</script>\n````")])
    body = markdown_to_html(md, evil).split("<body>")[1]
    assert "<script" not in body and "<a " not in body and "<img" not in body and "<b>" not in body
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt; **x** `y` [a](http://e.com)") == 5
    assert body.count("<td>") == 3  # the escaped | stayed in its cell
    assert "&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;\n````</pre>" in body  # the fence ends at its own line
