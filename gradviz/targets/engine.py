"""`gradviz check engine.py:Value` and `gradviz render engine.py:Value`: a student's autograd class as a target.

The CLI asks `engine_class` first and, when the target names a micrograd-style class, checks or draws it
here.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..checking.engines import check_engine
from ..checking.engines.discovery import BACKWARD_NAMES, _defined, functions_for
from ..checking.report import Report
from ..errors import GradvizError
from .loading import is_file_target, load


def engine_class(target: str) -> Any | None:
    """The class a FILE:NAME target names when it looks like a scalar autograd engine (else None)."""
    if not is_file_target(target) or "," in target or ".py:" not in target:
        return None
    try:
        obj, _, _ = load(target)
    except GradvizError:  # not a single object (a pair's stem, a typo): the other targets say what is wrong
        return None
    if not inspect.isclass(obj):
        return None
    has_backward = any(_defined(obj, n) for n in BACKWARD_NAMES)
    has_arithmetic = _defined(obj, "__add__") or _defined(obj, "__mul__") or bool(functions_for(obj))
    return obj if has_backward and has_arithmetic and not _defined(obj, "forward") else None


def parents_unused(args) -> None:
    """--parents names where an engine's results keep their operands: on any other target it would be ignored."""
    if getattr(args, "parents", None):
        raise GradvizError(f"--parents {args.parents} is for autograd engine classes (a class with backward() and "
                           f"arithmetic, like micrograd's Value, or add(a, b) / mul(a, b) functions beside it); {args.target} is not one: leave --parents out")


def check_target(cls: Any, args) -> Report:
    """The engine check with the command line's seed and tolerances."""
    return check_engine(cls, parents=getattr(args, "parents", None), seed=getattr(args, "seed", 0), eps=getattr(args, "eps", None) or 1e-6,
                        atol=_given(args, "atol", 1e-5), rtol=_given(args, "rtol", 1e-3))


def _given(args, name: str, default: float) -> float:
    value = getattr(args, name, None)
    return default if value is None else value


def render_root(cls: Any, args) -> tuple[Any, Report]:
    """The student's own small graph with the check's verdict, for `gradviz render engine.py:Value`."""
    report = check_target(cls, args)
    if report.root is None:
        raise GradvizError(f"{cls.__name__} could not build a small graph to draw (see `gradviz check` for why)")
    return report.root, report
