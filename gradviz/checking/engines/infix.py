"""Engines whose arithmetic is module functions only: `add(a, b)`, `mul(a, b)`, no `__add__` on the class.

Every small graph gradviz builds with a student's class is written with operators (`a * b + a`). For a
class that defines none, the module's own op functions are lent to the class for the length of the check
(`a + b` calls the student's `add(a, b)`, `1.5 * a` calls `mul(1.5, a)`) and taken back afterwards, so
the one battery runs unchanged and every result names the student's function, not an operator.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .discovery import functions_for

REFLECTED = {"__add__": "__radd__", "__mul__": "__rmul__", "__sub__": "__rsub__", "__truediv__": "__rtruediv__"}


@contextmanager
def lent_operators(cls: type) -> Iterator[dict[str, tuple[str, Callable]]]:
    """The class with the module's op functions as its operators while the block runs (nothing when it has its own)."""
    found = functions_for(cls)
    lent: dict[str, Any] = {}
    for dunder, (_, fn) in found.items():
        lent[dunder] = (lambda a, b, f=fn: f(a, b)) if dunder != "__neg__" else (lambda a, f=fn: f(a))
        if dunder in REFLECTED:
            lent[REFLECTED[dunder]] = lambda a, b, f=fn: f(b, a)
    saved = {name: vars(cls)[name] for name in lent if name in vars(cls)}
    try:
        for name, fn in lent.items():
            setattr(cls, name, fn)
        yield found
    finally:
        for name in lent:
            if name in saved:
                setattr(cls, name, saved[name])
            else:
                delattr(cls, name)
