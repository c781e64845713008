"""The sentences of a terminal report, wrapped at word boundaries and said once.

A verdict or a diagnosis can be longer than the terminal: left to the terminal,
it is cut wherever the line ends ("it mat/ches"), and a pipe (a log, a grading
comment) keeps it as one 300-column line. Here each sentence is wrapped at the
report's width at spaces only (a name or a number is never split; a word longer
than the line gets a line of its own), continuation lines indented so that the
sentence still reads as one item. A note that several inputs share is said once,
naming them, instead of once per input.
"""

from __future__ import annotations

import textwrap


def wrap(text: str, width: int, indent: str = "", hang: str = "  ") -> list[str]:
    """`text` as lines of at most `width` columns, broken at spaces; later lines indented by `hang` more."""
    if not text:
        return [indent]
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + hang,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def shared(notes_by_name: list[tuple[str, str]], at_least: int = 2) -> dict[str, list[str]]:
    """{note: [names]} for the notes said about at least `at_least` names, in first-seen order."""
    names: dict[str, list[str]] = {}
    for name, note in notes_by_name:
        if note:
            names.setdefault(note, []).append(name)
    return {note: who for note, who in names.items() if len(who) >= at_least}


def said_of(names: list[str], of: int = 0, limit: int = 6) -> str:
    """'all 7 inputs' (every one of `of`), 'x, W and b', or 'x, W, b, ... and 4 more' past `limit` names."""
    if of > 2 and len(names) == of:
        return f"all {of} inputs"
    if len(names) == 1:
        return names[0]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names[:-1]) + f" and {names[-1]}"
