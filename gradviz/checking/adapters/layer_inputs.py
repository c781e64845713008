"""A layer's forward arguments: one input, or several by the user's names (`forward(x, h_prev)`, `forward(x, mask)`).

    check_layer(layer, x)                                    forward(x): x is differentiated when it is floats
    check_layer(rnn, {"x": x, "h_prev": h})                  forward(x, h_prev): both differentiated
    check_layer(drop, {"x": x, "mask": m})                   an integer or boolean mask is data, passed as given
    check_layer(emb, {"idx": np.array([0, 2, 0, 5])})        integer indices are data: only the parameters are checked

Every argument the user names reaches the forward by that name; one the forward cannot take is an error, never
dropped. Float arrays are differentiated; integer and boolean arrays, numbers and None are data, copied afresh
for every call so a forward that changes them in place changes nothing the next call sees.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ...errors import GradvizError, PrecisionWarning, warn_at_user
from .reading import is_float_array, positional_names


class Feed:
    """The forward's arguments by name, which of them are differentiated, and how to call the forward with them."""

    def __init__(self, values: dict[str, Any], single: bool):
        self.values = values
        self.single = single  # one array given (check_layer(layer, x)): passed first, whatever its name
        self.diff = tuple(n for n, v in values.items() if is_float_array(v))

    @classmethod
    def of(cls, given: Any, warnings_out: list[str]) -> "Feed":
        """check_layer's `x`: an array (the one input), or a dict of the forward's arguments by name."""
        if isinstance(given, dict):
            return cls({str(n): _prepared(str(n), v, warnings_out) for n, v in given.items()}, single=False)
        return cls({"x": _prepared("the layer input", given, warnings_out, name="x")}, single=True)

    def named(self, fwd: Any) -> "Feed":
        """The feed under the names of this forward's parameters (a single input takes the first one's name)."""
        if not self.single:
            _accepted(fwd, self.values)
            return self
        first = (positional_names(fwd) or ["x"])[0]
        return Feed({first: next(iter(self.values.values()))}, single=True)

    @property
    def first(self) -> str:
        """The main input: the first differentiated one (shapes, batch size, the output's exclusion)."""
        return self.diff[0] if self.diff else next(iter(self.values))

    def first_array(self) -> np.ndarray:
        return np.asarray(self.values[self.first])

    def call_args(self, fwd: Any, current: dict[str, np.ndarray] | None = None) -> tuple[list, dict]:
        """(args, kwargs) for the forward: positional while the names follow its parameters, then by name."""
        current = current or {}
        values = {n: (current[n] if n in current else _fresh(v)) for n, v in self.values.items()}
        if self.single:
            return list(values.values()), {}
        names = positional_names(fwd)
        args: list = []
        for param in names:
            if param not in values:
                break
            args.append(values.pop(param))
        return args, values


def _prepared(what: str, value: Any, warnings_out: list[str], name: str | None = None) -> Any:
    """A float array as a float64 copy (the buffer gradviz perturbs); data kept as it is (integers stay integers)."""
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if value.dtype == np.float32:
            message = f"{what} is float32; it was upcast to float64 for the check"
            warn_at_user(message, PrecisionWarning)
            warnings_out.append(message)
        return np.array(value, dtype=np.float64, order="C")  # C order: the probes perturb it through flat views
    if isinstance(value, np.ndarray) and value.dtype.kind not in "iub":
        raise GradvizError(f"{name or what} must be a numeric array, got dtype {value.dtype}")
    return value


def _fresh(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _accepted(fwd: Any, values: dict) -> None:
    """Every named argument must reach the forward: one it has no parameter for is said, never dropped."""
    try:
        params = inspect.signature(fwd).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    names = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [n for n in values if n not in names]
    if unknown:
        who = getattr(fwd, "__qualname__", "forward")
        raise GradvizError(f"--input {unknown[0]}: {who} has no argument {unknown[0]}, so it cannot be passed; its "
                           f"arguments are {', '.join(names) or 'none'}")
