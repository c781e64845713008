"""A forward that raises on rows but runs on columns: say the layout, not only numpy's words.

Course code is written in two layouts: one example per row, x of shape (batch, features) (cs231n,
PyTorch), or one example per column, (features, batch) (deeplearning.ai). Given the other one, a
forward raises numpy's own message ("matmul: Input operand 1 has a mismatch in its core dimension
0 ..."), which says nothing about layouts. When the same forward, on copies (a deep copy of a
layer object), runs with every 2-D float input transposed, the message says so: which shape was
given, which one the code works with, and the setting that checks code written for columns. Only
a forward that really runs transposed gets the hint; any other failure keeps its message as it is.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradvizError
from .adapters.reading import call

# numpy's and Python's words for arrays whose shapes do not fit (matmul, dot, broadcasting, fancy indexing)
SHAPE_ERROR = re.compile(r"raised (ValueError|IndexError): .*(mismatch|not aligned|could not be broadcast|"
                         r"shape|dimension|out of bounds)")
CALLER = re.compile(r"^(\w+)\.(\w+) raised ")


def _flippable(given: Sequence[tuple[str, Any]]) -> dict[str, np.ndarray]:
    """The 2-D float inputs whose transpose has another shape (integer labels and settings stay as they are)."""
    out = {}
    for name, value in given:
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind == "f" \
                and value.shape[0] != value.shape[1]:
            out[name] = value
    return out


def layout_hint(message: str, given: Sequence[tuple[str, Any]], runs: Callable[[dict[str, np.ndarray]], Any],
                batch_axis: bool = True) -> str | None:
    """The message to give instead when `runs` (the forward, called with the inputs transposed) succeeds; it ends
    with the original one."""
    if not SHAPE_ERROR.search(message):
        return None
    every = _flippable(given)
    # one input at a time (the data beside a pair's weights), then all of them together
    tries = [{n: a} for n, a in every.items()] + ([every] if len(every) > 1 else [])
    flippable = next((t for t in tries if _runs_as_columns(runs, t)), None)
    if flippable is None:
        return None
    what = CALLER.match(message)
    who = f"{what.group(1)}.{what.group(2)}" if what else message.split(" raised ", 1)[0]
    names = ", ".join(flippable)
    given_as = ", ".join(f"{n} of shape {a.shape}" for n, a in flippable.items())
    works = ", ".join(f"{n} of shape {a.T.shape}" for n, a in flippable.items())
    setting = "batch_axis=1 (--batch-axis 1; batch-axis = 1 in a grading spec) and " if batch_axis else ""
    numpy_said = message[len(who) + 1:] if message.startswith(who + " ") else message
    return (f"likely a layout mismatch: {who} fails on {given_as}, one example per row (batch, features), but runs "
            f"on {works}, one example per column (features, batch). Take {names} with one example per row, as "
            f"given; or, if the assignment means columns, check it with {setting}{works}. ({who} {numpy_said})")


def _runs_as_columns(runs: Callable[[dict], Any], flipped: dict[str, np.ndarray]) -> bool:
    try:
        out = runs({n: np.ascontiguousarray(a.T) for n, a in flipped.items()})
    except Exception:  # noqa: BLE001 - it raised too (or the object cannot be copied): no hint, the message stays
        return False
    # it ran, but not as column code does (x.T @ W of a wrong W): no layout to name
    return _batch_in_columns(out, next(iter(flipped.values())).shape[0])


def _batch_in_columns(out: Any, batch: int) -> bool:
    """Column code keeps the examples on the last axis of its output (a loss's number has none to keep)."""
    first = out[0] if isinstance(out, (tuple, list)) and out else out
    try:
        shape = np.shape(first)
    except Exception:  # an output numpy cannot read says nothing either way
        return False
    return len(shape) == 0 or shape[-1] == batch


def method_runs(obj: Any, message: str, names: Sequence[str], args: Sequence,
                timeout: float | None) -> Callable[[dict], Any]:
    """Runs the method the message names (Dense.forward) on a deep copy of obj: the user's object is untouched."""
    def runs(flipped: dict[str, np.ndarray]) -> Any:
        what = CALLER.match(message)
        if what is None:
            raise GradvizError("the message names no method")
        method = getattr(copy.deepcopy(obj), what.group(2))
        return call(f"{what.group(1)}.{what.group(2)}", method, *_values(flipped, names, args), timeout=timeout)
    return runs


def function_runs(fn: Callable, names: Sequence[str], args: Sequence, kwargs: dict | None,
                  timeout: float | None) -> Callable[[dict], Any]:
    """Runs fn with its arguments, the flipped ones (by name) transposed and every array a copy."""
    def runs(flipped: dict[str, np.ndarray]) -> Any:
        return call(getattr(fn, "__name__", "forward"), fn, *_values(flipped, names, args), timeout=timeout,
                    **dict(kwargs or {}))
    return runs


def _values(flipped: dict[str, np.ndarray], names: Sequence[str], args: Sequence) -> list:
    return [flipped[n] if n in flipped else np.copy(a) if isinstance(a, np.ndarray) else a
            for n, a in zip(names, args)]
