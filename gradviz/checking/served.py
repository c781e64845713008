"""Checking somewhere else: hand the Subjects a reading builds to another party instead of checking them here.

A grader's untrusted worker reads a student's code exactly as `gradviz check` does; inside
`served_by(serve)` every Subject that reaches `pipeline.run` goes to `serve`, which answers the
grader's evaluation requests. The grader runs the pipeline on its side (grade/remote.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable

_serve: ContextVar[Callable[[Any, Any], Any] | None] = ContextVar("gradviz_served", default=None)


def current() -> Callable[[Any, Any], Any] | None:
    """The function Subjects are handed to in this context, or None (check them here)."""
    return _serve.get()


@contextmanager
def served_by(serve: Callable[[Any, Any], Any]):
    token = _serve.set(serve)
    try:
        yield
    finally:
        _serve.reset(token)
