"""Parsing what is typed on the command line: --at values, shapes, numbers, and expression targets."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import expr as expr_mod
from .. import spec as spec_mod
from ..checking.streams import INPUTS, stream
from ..errors import GradvizError
from ..value import Value


def parse_at(text: str | None) -> dict[str, float]:
    """--at w=0.5,x=2,b=-1 -> {"w": 0.5, ...}"""
    values: dict[str, float] = {}
    if not text:
        return values
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise GradvizError(f"--at takes name=value pairs separated by commas, e.g. w=0.5,x=2; got {part!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise GradvizError(f"--at {name}={value}: {value!r} is not a number") from None
    return values


def parse_shape(text: str, what: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        raise GradvizError(f"{what}: {text!r} is not a shape; write e.g. 2,3,8,8") from None
    if not shape or min(shape) < 1:
        raise GradvizError(f"{what}: {text!r} is not a shape; write e.g. 2,3,8,8")
    spec_mod.check_size(shape, what, text)  # the one size limit of every input
    return shape


def as_number(text: str) -> float | None:
    """The float `text` spells, or None (then it is a SPEC: a shape, randn(...), ...)."""
    try:
        return float(text)
    except ValueError:
        return None


def expression_function(text: str, at: dict[str, float], seed: int) -> tuple[Callable, list[Value]]:
    """The graph-building function of an expression and its inputs (seeded random where --at is silent)."""
    tree = expr_mod.parse(text)
    variables = expr_mod.names(tree)
    unknown = set(at) - set(variables)
    constants = sorted(unknown & set(expr_mod.CONSTANTS))
    if constants:
        raise GradvizError(f"--at gives {', '.join(constants)}, but in an expression "
                           f"{' and '.join(constants)} {'is a constant' if len(constants) == 1 else 'are constants'} "
                           f"({', '.join(f'{c} = {expr_mod.CONSTANTS[c]:.6g}' for c in constants)}); "
                           "name the variable something else")
    if unknown:
        raise GradvizError(f"--at gives {', '.join(sorted(unknown))}, which the expression does not use "
                           f"(its names are {', '.join(variables) or 'none'})")
    rng = stream(seed, INPUTS)
    inputs = [Value(at[n] if n in at else float(np.round(rng.uniform(-1.5, 1.5), 3)), label=n) for n in variables]

    def build(*values):
        return expr_mod.evaluate(tree, dict(zip(variables, values)))

    build.__name__ = text
    return build, inputs
