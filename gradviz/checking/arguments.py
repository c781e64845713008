"""Inputs given by name (`gv.check_loss(huber, y_pred=p, y_true=t)`) put in the order the user's function takes them.

The checkers call the user's code positionally, as the course's own tests do;
a user who names the arrays, as `--input NAME=...` does on the command line,
should not get Python's "unexpected keyword argument" from gradviz's own
signature. A name the function does not take, an argument given twice or a
gap before the last named one is one message in the user's names.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ..errors import GradvizError
from .adapters.reading import positional_names


def in_order(fn: Callable | None, args: tuple, named: dict[str, Any], entry: str, skip: int = 0) -> tuple:
    """`args` followed by the `named` inputs, each at its parameter's position in `fn` (after `skip` leading ones)."""
    if not named:
        return tuple(args)
    owner = getattr(fn, "__qualname__", getattr(fn, "__name__", "the function"))
    names = positional_names(fn)[skip:] if callable(fn) else []
    if not names:
        raise GradvizError(f"{entry}: cannot tell the order of {owner}'s arguments, so inputs given by name "
                           f"({', '.join(named)}) cannot be placed: give them in order, {entry}(..., "
                           f"{', '.join(named)})")
    unknown = [n for n in named if n not in names]
    if unknown:
        raise GradvizError(f"{entry}: {owner} takes no argument named {', '.join(map(repr, unknown))} "
                           f"(its arguments: {', '.join(names)})")
    slots: list[Any] = list(args) + [_MISSING] * (len(names) - len(args))
    for name, value in named.items():
        i = names.index(name)
        if i < len(args):
            raise GradvizError(f"{entry}: {name} of {owner} is given twice, as argument {i + 1} and by name")
        slots[i] = value
    last = max(names.index(n) for n in named)
    defaults = _defaults(fn)
    for i in range(last + 1):  # a skipped argument with a default takes it, as in a call by name
        if slots[i] is _MISSING and names[i] in defaults:
            slots[i] = defaults[names[i]]
    missing = [names[i] for i in range(last + 1) if slots[i] is _MISSING]
    if missing:
        raise GradvizError(f"{entry}: {owner} needs {', '.join(missing)} before {names[last]}: give "
                           f"{'it' if len(missing) == 1 else 'them'} too, by name or in order")
    return tuple(slots[:last + 1])


_MISSING = object()


def _defaults(fn: Callable) -> dict[str, Any]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}
