"""A student's feedback page as HTML, so that the summary can link to something a browser shows.

The page's content is defined once, as Markdown (feedback.py: it is also what a grading comment or an
LMS takes); this turns the few constructs that page uses into HTML: headings, bold and `code`, tables,
lists, notes, code blocks, images and the <details> folds. Everything else is escaped: the Markdown
escapes of hygiene.py (a backslash before each markup character) give back the literal character,
which html.escape then makes inert, and a fenced block ends only at its own fence. The page reads
at phone width: a viewport, wrapping tables and code, images that shrink to the screen.
"""

from __future__ import annotations

import html
import re

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em auto; max-width: 52em; padding: 0 .8em; color: #222;
line-height: 1.45; } h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.4em; }
table { border-collapse: collapse; } td, th { padding: .25em .5em; border-bottom: 1px solid #eee; text-align: left;
vertical-align: top; overflow-wrap: anywhere; } th { background: #f6f6f6; }
code { background: #f6f8fa; overflow-wrap: anywhere; } pre { white-space: pre-wrap; overflow-wrap: anywhere;
background: #f6f8fa; padding: .5em; } img { max-width: 100%; height: auto; } blockquote { color: #555; margin-left: 0;
border-left: 3px solid #ddd; padding-left: .8em; }
"""


def _inline(text: str) -> str:
    """The inline Markdown feedback.py writes, as HTML: `code`, **bold**, and backslash escapes.

    One pass, left to right: an escaped character is literal text (never markup), and every piece of
    text, in or out of a code span, goes through html.escape.
    """
    out: list[str] = []
    literal: list[str] = []
    bold = False
    k, n = 0, len(text)

    def flush() -> None:
        out.append(html.escape("".join(literal), quote=True))
        literal.clear()

    while k < n:
        ch = text[k]
        if ch == "\\" and k + 1 < n:
            literal.append(text[k + 1])
            k += 2
        elif ch == "`" and text.find("`", k + 1) > k:
            end = text.find("`", k + 1)
            flush()
            out.append("<code>" + html.escape(text[k + 1:end], quote=True) + "</code>")
            k = end + 1
        elif text.startswith("**", k):
            flush()
            out.append("</b>" if bold else "<b>")
            bold = not bold
            k += 2
        else:
            literal.append(ch)
            k += 1
    flush()
    return "".join(out) + ("</b>" if bold else "")


def _cells(line: str) -> list[str]:
    """A table row's cells, split at each | that is not escaped (an escaped one stays in its cell)."""
    cells, cell, k = [], [], 0
    while k < len(line):
        if line[k] == "\\" and k + 1 < len(line):
            cell.append(line[k:k + 2])
            k += 2
            continue
        if line[k] == "|":
            cells.append("".join(cell).strip())
            cell = []
        else:
            cell.append(line[k])
        k += 1
    cells.append("".join(cell).strip())
    return cells[1:-1]


def markdown_to_html(markdown: str, title: str) -> str:
    """The feedback page's Markdown as a standalone HTML page."""
    body: list[str] = []
    lines = markdown.splitlines()
    k = 0
    while k < len(lines):
        line = lines[k]
        fence = re.match(r"`{3,}", line)
        if fence:  # hygiene.fenced: longer than any run of backticks inside, so only its own line closes it
            end = next((j for j in range(k + 1, len(lines)) if lines[j] == fence.group(0)), len(lines))
            body.append("<pre>" + html.escape("\n".join(lines[k + 1:end])) + "</pre>")
            k = end + 1
            continue
        if line.startswith("|"):
            rows = []
            while k < len(lines) and lines[k].startswith("|"):
                if not re.fullmatch(r"\|(\s*-+\s*\|)+", lines[k].strip()):
                    rows.append(_cells(lines[k]))
                k += 1
            head, *rest = rows
            body.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rest)
                        + "</table>")
            continue
        if line.startswith("- "):
            items = []
            while k < len(lines) and lines[k].startswith("- "):
                items.append(f"<li>{_inline(lines[k][2:])}</li>")
                k += 1
            body.append("<ul>" + "".join(items) + "</ul>")
            continue
        body.append(_block(line))
        k += 1
    return (f"<!doctype html><html><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(b for b in body if b) + "\n</body></html>\n")


def _block(line: str) -> str:
    heading = re.match(r"(#{1,3}) (.*)", line)
    if heading:
        level = len(heading.group(1))
        return f"<h{level}>{_inline(heading.group(2))}</h{level}>"
    image = re.fullmatch(r"!\[([^\]]*)\]\(([^)\s]+)\)", line.strip())
    if image:
        return f"<p><img alt='{html.escape(image.group(1))}' src='{html.escape(image.group(2))}'></p>"
    if line.strip() in ("</details>",):
        return "</details>"
    summary = re.fullmatch(r"<details><summary>([^<]*)</summary>", line.strip())
    if summary:
        return f"<details><summary>{html.escape(summary.group(1))}</summary>"
    if line.startswith("> "):
        return f"<blockquote>{_inline(line[2:])}</blockquote>"
    return f"<p>{_inline(line)}</p>" if line.strip() else ""
