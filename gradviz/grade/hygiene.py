"""Every string that came from a submission, made safe for where it goes.

A submission controls its exception messages, its printed output, its names and the numbers'
text; the teacher opens the results in a browser, a Markdown viewer, a terminal and a
spreadsheet. Text is cut to a length first (so nothing after it costs more than that length),
then each function here makes it inert for one destination. Each is one pass over the text:
no regular expression that can backtrack, so a 10 MB message costs what reading it costs.
"""

from __future__ import annotations

import html

CONTROL = {c for c in range(32) if c not in (9, 10)} | {127} | set(range(0x80, 0xA0))
_CONTROL_TABLE = {c: None for c in CONTROL}
_CONTROL_TABLE.update({0x202A + k: None for k in range(5)})  # bidirectional overrides (Trojan Source)
_CONTROL_TABLE.update({0x2066 + k: None for k in range(4)})
MARKDOWN_SPECIAL = "\\`*_[]()!|<>~&:."  # inline markup, HTML, entities, tables, and the ':' and '.' of autolinks
SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters of `text` with terminal control characters removed (newlines and tabs kept)."""
    text = str(text)
    cut = len(text) > limit
    text = text[:limit].translate(_CONTROL_TABLE)
    return text + " [cut]" if cut else text


def one_line(text: str, limit: int = 300) -> str:
    """A single line: newlines and tabs become spaces."""
    return clip(text, limit).replace("\n", " ").replace("\t", " ")


def for_html(text: str, limit: int = 4000) -> str:
    return html.escape(clip(text, limit), quote=True)


def for_markdown(text: str, limit: int = 2000) -> str:
    """Inline Markdown that renders as the literal text: every markup character escaped, one line."""
    line = one_line(text, limit)
    return "".join("\\" + ch if ch in MARKDOWN_SPECIAL else ch for ch in line)


def fenced(text: str, limit: int = 4000) -> str:
    """A block of literal text for Markdown: fenced with more backticks than any run inside it."""
    body = clip(text, limit)
    longest = run = 0
    for ch in body:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def for_csv(text: str, limit: int = 300) -> str:
    """A spreadsheet cell that is never read as a formula (OWASP's CSV injection rule: a leading quote)."""
    cell = one_line(text, limit)
    return "'" + cell if cell.lstrip().startswith(SPREADSHEET_FORMULA) else cell  # (" =1" is a formula to some)


def for_terminal(text: str, limit: int = 300) -> str:
    return one_line(text, limit)
