"""User-facing errors and warnings.

Every error gradviz raises for bad input is a ``GradvizError``: one sentence
naming what was wrong and what to do, so the CLI can print it without a
traceback and a notebook user sees the cause instead of a numpy internals dump.
"""

from __future__ import annotations

import errno

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class GradvizError(Exception):
    """Bad input or an impossible request, explained in one readable message.

    `kind` names the reason for programs that group errors (a grader's "syntax", "missing_module",
    "missing_name"), set where the error is detected so nobody parses the sentence.
    """

    kind: str | None = None

    def __init__(self, *args: object, kind: str | None = None):
        super().__init__(*args)
        if kind is not None:
            self.kind = kind


class InputError(GradvizError):
    """Bad input whatever way the code is called (float32 parameters): said at once, not as one failed reading."""


class GradvizTypeError(GradvizError, TypeError):
    """A value of the wrong kind was passed (a string where a number belongs)."""


class ShapeError(GradvizError, ValueError):
    """Array shapes that cannot work together; the message names both shapes."""


class NumericWarning(RuntimeWarning):
    """A computation produced inf or nan (overflow, log of a negative number...)."""


class PrecisionWarning(UserWarning):
    """Input in reduced precision (float32) that a gradient check upcasts."""


def describe(obj: object) -> str:
    """A short description of a user's value for error messages."""
    text = repr(obj)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(obj).__name__} {text}"


def warn_at_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn at the first line outside gradviz: the user's call, however deep inside gradviz the cause was found.

    A fixed stacklevel points into gradviz as soon as one more function sits between the user and the warning.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


class ProgramRefused(PermissionError):
    """This process may not start programs (a grading sandbox), so a renderer that is one could not run.

    A PermissionError (EPERM), as the refusal itself is, so a graded notebook treats a drawing cell alike
    whether it called Graphviz directly or through gradviz (notebooks.refuse_programs).
    """

    def __init__(self, message: str):
        super().__init__(errno.EPERM, message)

    def __str__(self) -> str:
        return self.strerror
