"""Engines whose arithmetic is module functions only: `add(a, b)`, `mul(a, b)`, no `__add__` on the class.

Every small graph gradviz builds with a student's class is written with operators (`a * b + a`). For a
class that defines none, the module's own op functions are lent to the class for the length of the check
(`a + b` calls the student's `add(a, b)`, `1.5 * a` calls `mul(1.5, a)`) and taken back afterwards, so
the one battery runs unchanged and every result names the student's function, not an operator.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .discovery import _defined, module_of

# the dunder Python calls -> the names students give the function
SPELLINGS = {"__add__": ("add", "plus"), "__mul__": ("mul", "multiply", "times"), "__sub__": ("sub", "subtract", "minus"),
             "__truediv__": ("div", "divide", "truediv"), "__neg__": ("neg", "negate", "negative")}
REFLECTED = {"__add__": "__radd__", "__mul__": "__rmul__", "__sub__": "__rsub__", "__truediv__": "__rtruediv__"}


def functions_for(cls: type) -> dict[str, tuple[str, Callable]]:
    """dunder -> (name, function) for a class with no + or * of its own whose module has add/mul functions."""
    if not inspect.isclass(cls) or _defined(cls, "__add__") or _defined(cls, "__mul__"):
        return {}
    module = module_of(cls)
    if module is None:
        return {}
    found = {}
    for dunder, names in SPELLINGS.items():
        for name in names:
            fn = vars(module).get(name)
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ and _takes(fn, 1 if dunder == "__neg__" else 2):
                found[dunder] = (name, fn)
                break
    return found if {"__add__", "__mul__"} & set(found) else {}


def _takes(fn: Callable, n: int) -> bool:
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    required = [p for p in params if p.default is inspect.Parameter.empty]
    return len(required) <= n <= len(params)


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
