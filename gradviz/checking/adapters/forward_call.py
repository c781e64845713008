"""The forward of a function pair as a structure: its differentiable leaves and what it returns.

Course code passes arrays directly (`affine_forward(x, w, b)`) or inside dicts
(`forward_propagation(X, parameters)` with `parameters["W1"]`), and returns
one array, `(out, cache)`, `(a_next, c_next, yt_pred, cache)` or `(cost, cache)`.
Every float array argument and every float array one level inside a dict
argument is a leaf gradviz may differentiate; every returned value is an
element the readings (structure.py) may take as an output or hand to backward.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from .reading import call, float64_copy, is_float_array, returned_items, user_name


def leaf_name(argument: str, key: Any) -> str:
    return argument if key is None else f"{argument}[{key!r}]"


def is_numeric_output(value: Any) -> bool:
    """A returned value that can be an output: a float array or a float number (a cost)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (float, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "fc"


class ForwardCall:
    """Calls the user's forward with chosen leaves replaced; everything else is passed as given."""

    def __init__(self, forward: Callable, args: tuple, settings: dict, wrt, timeout: float | None):
        self.fn, self.name, self.timeout = forward, user_name(forward), timeout
        self.args, self.settings = args, settings
        try:
            self.bound = inspect.signature(forward).bind(*args, **settings)
        except TypeError as exc:
            raise GradvizError(f"{self.name}{inspect.signature(forward)} cannot take these arguments: {exc}") from None
        self.arguments = dict(self.bound.arguments)
        self.warnings: list[str] = []
        self.leaves: dict[str, tuple[str, Any]] = {}  # leaf name -> (argument, dict key or None)
        for arg, value in self.arguments.items():
            if is_float_array(value):
                self.leaves[arg] = (arg, None)
            elif isinstance(value, dict):
                for key, entry in value.items():
                    if is_float_array(entry):
                        self.leaves[leaf_name(arg, key)] = (arg, key)
        self.leaves = self._restricted(wrt)
        self.arrays = {n: float64_copy(n, self._value(n), self.warnings) for n in self.leaves}
        self.element_names = item_names(forward)

    def _value(self, leaf: str) -> Any:
        arg, key = self.leaves[leaf]
        return self.arguments[arg] if key is None else self.arguments[arg][key]

    def _restricted(self, wrt) -> dict[str, tuple[str, Any]]:
        if wrt is None:
            return self.leaves
        wanted = [wrt] if isinstance(wrt, str) else list(wrt)
        chosen: dict[str, tuple[str, Any]] = {}
        for w in wanted:
            hits = {n: v for n, v in self.leaves.items() if n == w or v[0] == w or str(v[1]) == w}
            if not hits:
                raise GradvizError(f"wrt={w!r}: {self.name} has no float array {w}; its arrays are "
                                   f"{', '.join(self.leaves) or 'none'} (arguments: {', '.join(self.arguments)})")
            chosen.update(hits)
        return chosen

    @property
    def top_level(self) -> set[str]:
        return {n for n, (_, key) in self.leaves.items() if key is None}

    def __call__(self, current: dict[str, np.ndarray]) -> Any:
        """forward(...) with the leaves set to `current` (dicts are copied, never changed in place)."""
        bound = inspect.signature(self.fn).bind(*self.args, **self.settings)
        copied: dict[str, dict] = {}
        for leaf, value in current.items():
            arg, key = self.leaves[leaf]
            if key is None:
                bound.arguments[arg] = value
            else:
                copied.setdefault(arg, dict(self.arguments[arg]))[key] = value
        bound.arguments.update(copied)
        self.last_arguments = dict(bound.arguments)
        self.last_result = call(self.name, self.fn, *bound.args, timeout=self.timeout, **bound.kwargs)
        return self.last_result

    def elements(self, returned: Any) -> list[Any]:
        return list(returned) if isinstance(returned, (tuple, list)) and not _is_number_list(returned) else [returned]

    def labels(self, count: int) -> list[str]:
        """The user's names for the returned values (`return a_next, c_next, cache`), else 'returned value k'."""
        names = self.element_names
        if names and len(names) == count:
            return [n or f"returned value {k + 1}" for k, n in enumerate(names)]
        if count == 1:
            return ["out"]
        return [f"returned value {k + 1}" for k in range(count)]


def item_names(fn: Callable) -> list[str | None] | None:
    """The name of each item of fn's last return (`return h, c, (x, W)` -> h, c, None)."""
    return returned_items(fn)


def _is_number_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, (int, float)) for v in value)
